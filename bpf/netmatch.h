/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The packet filter every faultline tc program shares: parse Ethernet/IPv4/IPv6 and the ports,
 * then match a struct nf_config (protocol, addresses or CIDRs, port ranges, excluded ports,
 * cgroup). Include after vmlinux.h and the bpf helpers.
 */
#ifndef FL_NETMATCH_H
#define FL_NETMATCH_H

#include "netfault.h"

#ifndef ETH_P_IP
#define ETH_P_IP 0x0800
#endif
#ifndef ETH_P_IPV6
#define ETH_P_IPV6 0x86DD
#endif

struct pkt {
	__u8 family, proto;
	__u8 src[16], dst[16];
	__u16 sport, dport;
};

static __always_inline bool nm_cidr_match(const volatile struct nf_cidr *c, __u8 family,
				       const __u8 *addr)
{
	__u32 bits = c->prefix;

	if (!c->family)
		return true;
	if (c->family != family)
		return false;
	for (int i = 0; i < 16; i++) {
		__u8 mask;

		if (bits == 0)
			break;
		mask = bits >= 8 ? 0xff : (__u8)(0xff << (8 - bits));
		if ((addr[i] & mask) != (c->addr[i] & mask))
			return false;
		bits = bits >= 8 ? bits - 8 : 0;
	}
	return true;
}

static __always_inline bool nm_port_in(__u16 p, __u16 lo, __u16 hi)
{
	return (lo == 0 && hi == 0) || (p >= lo && p <= hi);
}

static __always_inline bool nm_match_dir(const volatile struct nf_config *cf, const struct pkt *p,
					 bool swap)
{
	const __u8 *s = swap ? p->dst : p->src, *d = swap ? p->src : p->dst;
	__u16 sp = swap ? p->dport : p->sport, dp = swap ? p->sport : p->dport;

	return nm_cidr_match(&cf->src, p->family, s) && nm_cidr_match(&cf->dst, p->family, d) &&
	       nm_port_in(sp, cf->sport_lo, cf->sport_hi) && nm_port_in(dp, cf->dport_lo, cf->dport_hi);
}

static __always_inline int nm_parse(struct __sk_buff *skb, struct pkt *p)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	void *l4;

	if ((void *)(eth + 1) > end)
		return -1;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end)
			return -1;
		p->family = 4;
		p->proto = ip->protocol;
		__builtin_memcpy(p->src, &ip->saddr, 4);
		__builtin_memcpy(p->dst, &ip->daddr, 4);
		/* later fragments carry no ports */
		if (ip->frag_off & bpf_htons(0x1fff))
			return 0;
		l4 = (void *)ip + ip->ihl * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return -1;
		p->family = 6;
		p->proto = ip6->nexthdr;
		__builtin_memcpy(p->src, &ip6->saddr, 16);
		__builtin_memcpy(p->dst, &ip6->daddr, 16);
		l4 = ip6 + 1;
	} else {
		return -1;
	}
	if (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP) {
		struct udphdr *uh = l4; /* ports are at the same place in both */

		if ((void *)(uh + 1) > end)
			return 0;
		p->sport = bpf_ntohs(uh->source);
		p->dport = bpf_ntohs(uh->dest);
	}
	return 0;
}

static __always_inline bool nm_excluded(const volatile struct nf_config *cf, const struct pkt *p)
{
	for (int i = 0; i < NF_MAX_EXCLUDE; i++) {
		if (i >= cf->n_exclude)
			break;
		if (p->sport == cf->exclude[i] || p->dport == cf->exclude[i])
			return true;
	}
	return false;
}

/* Does the packet match the fault's filter? p is filled for the caller. */
static __always_inline bool nm_match(struct __sk_buff *skb, const volatile struct nf_config *cf,
				     struct pkt *p)
{
	if (nm_parse(skb, p) < 0)
		return false;
	if (cf->proto && p->proto != cf->proto)
		return false;
	if (nm_excluded(cf, p))
		return false;
	if (!nm_match_dir(cf, p, false) && !(cf->symmetric && nm_match_dir(cf, p, true)))
		return false;
	if (cf->cgroup_id && bpf_skb_cgroup_id(skb) != cf->cgroup_id)
		return false;
	return true;
}

#endif

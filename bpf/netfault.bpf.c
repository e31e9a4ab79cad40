// SPDX-License-Identifier: GPL-2.0-only
/* Network loss and partition: a tc clsact (cls_bpf direct-action) filter that drops a share. */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "netfault.h"

char LICENSE[] SEC("license") = "GPL";

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define TC_ACT_STOLEN 4
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD

const volatile struct nf_config cfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NF_N_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* The previous random value per CPU, for `correlation` (netem's model). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} last_rnd SEC(".maps");

struct pkt {
	__u8 family, proto;
	__u8 src[16], dst[16];
	__u16 sport, dport;
};

static __always_inline void count(__u32 k)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &k);

	if (v)
		*v += 1;
}

static __always_inline bool cidr_match(const volatile struct nf_cidr *c, __u8 family,
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

static __always_inline bool port_in(__u16 p, __u16 lo, __u16 hi)
{
	return (lo == 0 && hi == 0) || (p >= lo && p <= hi);
}

static __always_inline bool match_dir(const struct pkt *p, bool swap)
{
	const __u8 *s = swap ? p->dst : p->src, *d = swap ? p->src : p->dst;
	__u16 sp = swap ? p->dport : p->sport, dp = swap ? p->sport : p->dport;

	return cidr_match(&cfg.src, p->family, s) && cidr_match(&cfg.dst, p->family, d) &&
	       port_in(sp, cfg.sport_lo, cfg.sport_hi) && port_in(dp, cfg.dport_lo, cfg.dport_hi);
}

static __always_inline int parse(struct __sk_buff *skb, struct pkt *p)
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

static __always_inline bool excluded(const struct pkt *p)
{
	for (int i = 0; i < NF_MAX_EXCLUDE; i++) {
		if (i >= cfg.n_exclude)
			break;
		if (p->sport == cfg.exclude[i] || p->dport == cfg.exclude[i])
			return true;
	}
	return false;
}

static __always_inline bool lose(void)
{
	__u64 rnd = bpf_get_prandom_u32();
	__u32 zero = 0;

	if (cfg.correlation) {
		__u64 *last = bpf_map_lookup_elem(&last_rnd, &zero);
		if (last) {
			rnd = ((100 - cfg.correlation) * rnd + cfg.correlation * *last) / 100;
			*last = rnd;
		}
	}
	return rnd < cfg.threshold;
}

static __always_inline int netfault(struct __sk_buff *skb, bool egress)
{
	struct pkt p = {};

	count(NF_SEEN);
	if (bpf_ktime_get_boot_ns() >= cfg.expiry_boot_ns)
		return TC_ACT_OK; /* the lease ran out: nobody reverted us, so we step aside */
	if (parse(skb, &p) < 0)
		return TC_ACT_OK;
	if (cfg.proto && p.proto != cfg.proto)
		return TC_ACT_OK;
	if (excluded(&p))
		return TC_ACT_OK;
	if (!match_dir(&p, false) && !(cfg.symmetric && match_dir(&p, true)))
		return TC_ACT_OK;
	if (cfg.cgroup_id && bpf_skb_cgroup_id(skb) != cfg.cgroup_id)
		return TC_ACT_OK;
	count(NF_MATCHED);
	if (!lose())
		return TC_ACT_OK;
	count(NF_DROPPED);
	/* SHOT on a sender's own egress is reported to it (ENOBUFS); STOLEN is silent */
	return egress ? TC_ACT_STOLEN : TC_ACT_SHOT;
}

SEC("tc")
int netfault_ingress(struct __sk_buff *skb)
{
	return netfault(skb, false);
}

SEC("tc")
int netfault_egress(struct __sk_buff *skb)
{
	return netfault(skb, true);
}

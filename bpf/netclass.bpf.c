// SPDX-License-Identifier: GPL-2.0-only
/*
 * netem and tbf faults with filters: a cls_bpf (direct-action) classifier on our prio root that
 * sends matching packets to the fault's band until the TTL, and everything else (the excluded
 * ports, the management plane, anything after the TTL) to the pass-through band. Address
 * resolution (ARP, IPv6 neighbour discovery) always passes: the excluded ports depend on it.
 */
/*
 * No CO-RE: the program reads only wire formats and __sk_buff, so libbpf need not parse the
 * kernel's BTF at every load (a second of a TCG guest's time, each fault and each probe).
 */
#define BPF_NO_PRESERVE_ACCESS_INDEX
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "netmatch.h"
#include "netclass.h"

char LICENSE[] SEC("license") = "GPL";

#define TC_ACT_UNSPEC (-1)
#define TC_ACT_OK 0
#define ICMPV6 58    /* IPPROTO_ICMPV6: a macro vmlinux.h lacks */
#define ND_FIRST 133 /* router solicitation .. redirect: neighbour discovery */
#define ND_LAST 137

const volatile struct nc_config cfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NC_N_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 k)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &k);

	if (v)
		*v += 1;
}

/* An ICMPv6 neighbour discovery message (no extension headers: ND never has them). */
static __always_inline bool is_nd(struct __sk_buff *skb, const struct pkt *p)
{
	__u8 type;

	if (p->family != 6 || p->proto != ICMPV6)
		return false;
	if (bpf_skb_load_bytes(skb, sizeof(struct ethhdr) + sizeof(struct ipv6hdr), &type, 1) < 0)
		return false;
	return type >= ND_FIRST && type <= ND_LAST;
}

SEC("tc")
int netclass(struct __sk_buff *skb)
{
	struct pkt p = {};

	count(NC_SEEN);
	if (bpf_ktime_get_boot_ns() >= cfg.match.expiry_boot_ns) {
		/* the lease ran out and nobody reverted us: the priomap's pass-through band */
		count(NC_EXPIRED);
		return TC_ACT_UNSPEC;
	}
	if (!nm_match(skb, &cfg.match, &p) || is_nd(skb, &p))
		return TC_ACT_UNSPEC;
	count(NC_MATCHED);
	/* qdisc_skb_cb holds 16 bits: the band's minor, which is what prio reads */
	skb->tc_classid = cfg.classid;
	return TC_ACT_OK;
}

// SPDX-License-Identifier: GPL-2.0-only
/* Network loss and partition: a tc clsact (cls_bpf direct-action) filter that drops a share. */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "netmatch.h"

char LICENSE[] SEC("license") = "GPL";

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define TC_ACT_STOLEN 4

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

static __always_inline void count(__u32 k)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &k);

	if (v)
		*v += 1;
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
	if (!nm_match(skb, &cfg, &p))
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

// SPDX-License-Identifier: GPL-2.0-only
/* Network loss and partition: a tc clsact (cls_bpf direct-action) filter that drops a share. */
/*
 * No CO-RE: the program reads only wire formats and __sk_buff, so libbpf need not parse the
 * kernel's BTF at every load (tens of ms here, a second under a TCG guest).
 */
#define BPF_NO_PRESERVE_ACCESS_INDEX
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "netmatch.h"

char LICENSE[] SEC("license") = "GPL";

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define TC_ACT_STOLEN 4
#define ETH_HLEN 14

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

/*
 * The Gilbert-Elliott chain (netem's `loss gemodel p r 1-h 1-k`): one state for the whole fault,
 * in a plain array, so a burst is the link's and not one CPU's. Races are benign and left
 * alone: two CPUs handling packets at the same instant may both read the old state (one packet
 * is judged a step late) or both move it (one transition is lost, the burst counter may miss
 * one). The chain stays a two-state chain with the same transition probabilities per packet,
 * so the long-run loss and the mean burst length hold; no lock on the packet path.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nf_burst);
} burst SEC(".maps");

static __always_inline void count(__u32 k)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &k);

	if (v)
		*v += 1;
}

/* Judge the packet by the current state, then step the chain (netem's order). */
static __always_inline bool lose_burst(void)
{
	__u32 zero = 0;
	struct nf_burst *b = bpf_map_lookup_elem(&burst, &zero);
	bool lost;

	if (!b)
		return false;
	if (b->bad) {
		lost = bpf_get_prandom_u32() < cfg.ge_loss_bad;
		if (bpf_get_prandom_u32() < cfg.ge_r)
			b->bad = 0;
	} else {
		lost = bpf_get_prandom_u32() < cfg.ge_loss_good;
		if (bpf_get_prandom_u32() < cfg.ge_p) {
			b->bad = 1;
			__sync_fetch_and_add(&b->bursts, 1);
		}
	}
	return lost;
}

static __always_inline bool lose(void)
{
	__u64 rnd = bpf_get_prandom_u32();
	__u32 zero = 0;

	if (cfg.ge_on)
		return lose_burst();

	if (cfg.correlation) {
		__u64 *last = bpf_map_lookup_elem(&last_rnd, &zero);
		if (last) {
			rnd = ((100 - cfg.correlation) * rnd + cfg.correlation * *last) / 100;
			*last = rnd;
		}
	}
	return rnd < cfg.threshold;
}

/*
 * Flip one random bit of the TCP or UDP payload and fix the L4 checksum for it, so the
 * receiver's stack accepts the packet and the application gets the damage: the fault a
 * checksum did not catch (bad-checksum corruption is just loss to an application).
 * The bit is in a 16-bit word of the payload (words are aligned to the L4 header, whose
 * length is even), so the checksum moves by the word's difference. Returns true when damaged;
 * packets without payload, and other protocols, pass as they are.
 */
static __always_inline bool corrupt(struct __sk_buff *skb, const struct pkt *p)
{
	__u32 l4, end, payload, csum_off, words, off;
	__u16 old, new;
	__u8 b;

	if (p->family == 4) {
		__u16 tot, frag;
		if (bpf_skb_load_bytes(skb, ETH_HLEN, &b, 1) < 0 ||
		    bpf_skb_load_bytes(skb, ETH_HLEN + 2, &tot, 2) < 0 ||
		    bpf_skb_load_bytes(skb, ETH_HLEN + 6, &frag, 2) < 0)
			return false;
		/* a later fragment has no L4 header: nothing here is ours to fix */
		if (frag & bpf_htons(0x1fff))
			return false;
		l4 = ETH_HLEN + (b & 0xf) * 4;
		end = ETH_HLEN + bpf_ntohs(tot);
	} else {
		__u16 plen;
		if (bpf_skb_load_bytes(skb, ETH_HLEN + 4, &plen, 2) < 0)
			return false;
		l4 = ETH_HLEN + 40;
		end = l4 + bpf_ntohs(plen);
	}
	if (p->proto == IPPROTO_UDP) {
		payload = l4 + 8;
		csum_off = l4 + 6;
	} else if (p->proto == IPPROTO_TCP) {
		if (bpf_skb_load_bytes(skb, l4 + 12, &b, 1) < 0)
			return false;
		payload = l4 + (b >> 4) * 4;
		csum_off = l4 + 16;
	} else {
		return false;
	}
	if (end > skb->len)
		end = skb->len; /* a truncated or odd header: stay inside the packet */
	if (end < payload + 2)
		return false;
	words = (end - payload) / 2;
	off = payload + 2 * (bpf_get_prandom_u32() % words);
	if (off > 0xffff || bpf_skb_load_bytes(skb, off, &old, 2) < 0)
		return false;
	new = old ^ bpf_htons(1 << (bpf_get_prandom_u32() % 16));
	if (bpf_skb_store_bytes(skb, off, &new, 2, BPF_F_RECOMPUTE_CSUM) < 0)
		return false;
	/* a UDP checksum of 0 means "none" (IPv4) and stays so */
	bpf_l4_csum_replace(skb, csum_off, old, new,
			    2 | (p->proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0));
	return true;
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
	if (cfg.corrupt) {
		if (corrupt(skb, &p))
			count(NF_DROPPED);
		return TC_ACT_OK;
	}
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

/* SPDX-License-Identifier: GPL-2.0-only */
/* Types shared by bpf/netfault.bpf.c and inject/net_tc.c: the fault's config and its counters. */
#ifndef FL_NETFAULT_H
#define FL_NETFAULT_H

#define NF_MAX_EXCLUDE 18 /* 16 user ports + the SSH connection's two */

enum nf_counter {
	NF_SEEN,    /* packets the program ran on */
	NF_MATCHED, /* packets the filter matched */
	NF_DROPPED, /* packets dropped (corrupt: packets damaged) */
	NF_N_COUNTERS,
};

struct nf_cidr {
	__u8 family; /* 0: any, 4, 6 */
	__u8 prefix;
	__u8 pad[2];
	__u8 addr[16];
};

struct nf_config {
	__u64 expiry_boot_ns;	/* CLOCK_BOOTTIME: after it every packet passes */
	__u64 threshold;	/* drop when prandom (32 bits) < threshold; 1 << 32 = always */
	__u64 cgroup_id;	/* 0: any */
	__u32 correlation;	/* 0..100: weight of the previous random value */
	__u8 proto;		/* 0: any */
	__u8 symmetric;		/* also match with src/dst (and ports) swapped */
	__u16 n_exclude;
	struct nf_cidr src, dst;
	__u16 sport_lo, sport_hi, dport_lo, dport_hi; /* 0/0: any */
	__u16 exclude[NF_MAX_EXCLUDE];
	/*
	 * Gilbert-Elliott burst loss, used instead of threshold/correlation when ge_on: each a
	 * threshold like `threshold` (prandom < t; 1 << 32 = always). The chain's state lives in
	 * the program's `burst` map (struct nf_burst).
	 */
	__u64 ge_p;	    /* good -> bad, per packet */
	__u64 ge_r;	    /* bad -> good, per packet */
	__u64 ge_loss_bad;  /* 1-h: loss in the bad state */
	__u64 ge_loss_good; /* 1-k: loss in the good state */
	__u8 ge_on;
	__u8 ge_pad[7];
	/* corrupt instead of drop: flip one random bit of the TCP/UDP payload, checksum fixed */
	__u8 corrupt;
	__u8 corrupt_pad[7];
};

/* The burst model's chain: one for the whole fault (see bpf/netfault.bpf.c on races). */
struct nf_burst {
	__u32 bad;    /* 0: good state, 1: bad state */
	__u32 pad;
	__u64 bursts; /* good -> bad transitions so far */
};

#endif

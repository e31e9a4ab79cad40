/* SPDX-License-Identifier: GPL-2.0-only */
/* Types shared by bpf/netclass.bpf.c and inject/net_netem.c: the classifier's config, counters. */
#ifndef FL_NETCLASS_H
#define FL_NETCLASS_H

#include "netfault.h"

enum nc_counter {
	NC_SEEN,    /* packets the classifier ran on */
	NC_MATCHED, /* packets sent to the fault's band */
	NC_EXPIRED, /* packets that passed because the TTL (match.expiry_boot_ns) was over */
	NC_N_COUNTERS,
};

struct nc_config {
	struct nf_config match; /* filter, excluded ports and the expiry (boot clock) */
	__u32 classid;		/* the fault's band, fa17:2; the kernel keeps its minor */
	__u32 pad;
};

#endif

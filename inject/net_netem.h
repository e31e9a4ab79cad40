/* SPDX-License-Identifier: GPL-2.0-only */
/* netem and tbf faults under a prio root with our BPF classifier: internals for the unit tests. */
#ifndef FL_NET_NETEM_H
#define FL_NET_NETEM_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "inject/netspec.h"
#include "scenarios/scenario.h"

struct rtnl_qdisc;
struct nl_msg;

/*
 * Our root qdiscs carry this major handle ("fa17:"), so revert and status recognise them. The
 * tree: prio fa17: (2 bands, every priority to band fa17:1), a pfifo fa18: on the pass-through
 * band fa17:1, the fault's netem or tbf fa19: on the fault band fa17:2, and a cls_bpf filter
 * (bpf/netclass) on fa17: that sends matching packets to fa17:2 until the fault's TTL. Without
 * sch_prio, cls_bpf or BPF, an unfiltered fault falls back to netem/tbf as the root fa17:.
 */
#define FL_QDISC_HANDLE 0xfa170000u
#define FL_NM_PASS_CLASS (FL_QDISC_HANDLE | 1)
#define FL_NM_FAULT_CLASS (FL_QDISC_HANDLE | 2)
#define FL_NM_PASS_HANDLE 0xfa180000u
#define FL_NM_FAULT_HANDLE 0xfa190000u
#define FL_NM_FILTER_HANDLE 1u
#define FL_NM_PASS_LIMIT 1000 /* packets: as netem's own queue and a veth's txqueuelen */

enum fl_nm_kind {
	FL_NM_LATENCY,
	FL_NM_LOSS,
	FL_NM_CORRUPT,
	FL_NM_DUPLICATE,
	FL_NM_REORDER,
	FL_NM_BANDWIDTH,
};

enum fl_nm_dist {
	FL_NM_DIST_NONE, /* netem's default: uniform jitter */
	FL_NM_DIST_NORMAL,
	FL_NM_DIST_PARETO,
};

/* A fault's parsed parameters (fl_fault.priv). Percentages are 0..100. */
struct fl_netem_params {
	enum fl_nm_kind kind;
	char *dev;
	struct fl_netspec spec; /* filters and exclude; direction is always egress */
	bool filtered;		/* a filter key (not only exclude): needs the classifier */
	uint64_t delay_ns, jitter_ns;
	double delay_corr;
	enum fl_nm_dist dist;
	double percent, corr; /* loss, corrupt, duplicate, reorder */
	uint32_t gap;	      /* reorder */
	uint64_t rate;	      /* bandwidth, bytes per second */
	uint32_t burst, limit;
};

/* The root qdisc of a device, as found at plan time. */
struct fl_qdisc_snap {
	char kind[32];
	uint32_t handle, parent;
	bool is_default;	/* handle 0: created by the kernel, comes back when ours goes */
	unsigned char *opts;	/* TCA_OPTIONS payload, verbatim; NULL: none */
	size_t opts_len;
	unsigned n_children;	/* qdiscs grafted below it (refused: cannot be restored exactly) */
};

void fl_qdisc_snap_clear(struct fl_qdisc_snap *s);
json_t *fl_qdisc_snap_to_json(const struct fl_qdisc_snap *s);
int fl_qdisc_snap_from_json(const json_t *j, struct fl_qdisc_snap *ret);

/* Parsers behind the keys; 0 or -EINVAL (-ERANGE beyond limits). */
int fl_nm_parse_percent(const char *s, double *ret);
int fl_nm_parse_rate(const char *s, uint64_t *ret_bytes_per_s);
int fl_nm_parse_size(const char *s, uint32_t *ret_bytes);

/* iproute2's distribution table for d (NETEM_DIST_SCALE = 8192 units of sigma per entry),
 * as tc loads it; -ENOENT with a reason naming the file when iproute2 is missing. */
int fl_nm_dist_load(enum fl_nm_dist d, int16_t **ret, size_t *ret_n, char **ret_reason);

/* Build (not send) the fault's netem or tbf for the parameters on ifindex, at parent with
 * handle (TC_H_ROOT and FL_QDISC_HANDLE for the fallback root). 0 or negative errno. */
int fl_netem_build_qdisc(const struct fl_netem_params *np, int ifindex, uint32_t parent,
			 uint32_t handle, struct rtnl_qdisc **ret, char **ret_reason);
/* The prio root fa17: (2 bands, priomap all to the pass-through band) and its pfifo fa18:. */
int fl_netem_build_prio(int ifindex, struct rtnl_qdisc **ret);
int fl_netem_build_pass(int ifindex, struct rtnl_qdisc **ret);

/* The RTM_NEWQDISC request sent for q (libnl's, without its trailing stray bytes). */
int fl_netem_request(struct rtnl_qdisc *q, int flags, struct nl_msg **ret);

/* The RTM_NEWTFILTER request for our classifier program (cls_bpf, direct action) on fa17:. */
int fl_netclass_filter_request(int ifindex, int prog_fd, int flags, struct nl_msg **ret);

/* The user-facing text for a failed qdisc request: kernel errno + extended ack message. */
void fl_netem_explain(const char *qdisc_kind, int kernel_err, const char *extack, char *buf,
		      size_t len);

/* u32 probability scale of netem (UINT32_MAX = 100%). */
uint32_t fl_nm_percent_to_u32(double pct);
double fl_nm_u32_to_percent(uint32_t v);

#endif

// SPDX-License-Identifier: GPL-2.0-only
/*
 * netem faults (latency, loss, corrupt, duplicate, reorder) and tbf (bandwidth) on a device's
 * root qdisc, through libnl-route. Ownership: our root carries handle fa17:; the root it
 * replaces is recorded in the plan (kind, handle, TCA_OPTIONS verbatim) and sent back as it
 * was at revert, or, when it was the kernel's default (handle 0), ours is deleted and the
 * kernel puts its default back. A root with child qdiscs is refused: it cannot be restored
 * exactly. Nothing is deleted that is not ours.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/qdisc/prio.h>
#include <netlink/route/qdisc/fifo.h>
#include <netlink/route/link.h>
#include <net/if_arp.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <linux/types.h>

#include "bpf/netclass.h" /* before the skeleton, which uses its types */
#include "bpf/netclass.skel.h"
#include "inject/injector.h"
#include "inject/log.h"
#include "inject/nlack.h"
#include "inject/net_netem.h"
#include "inject/netutil.h"
#include "inject/util.h"

#define NM_DELAY_MAX (60 * NSEC_PER_SEC) /* netem's 32-bit tick fields hold ~274 s */
#define NM_RATE_MAX ((uint64_t)INT_MAX)	 /* libnl takes an int: ~17 Gbit/s */
#define NM_NETEM_LIMIT 1000		 /* packets, as tc's default */
#define NM_MIN_BURST 3028		 /* two full-size Ethernet frames */
#define NM_DIST_MAX 16384

static const char *const kind_names[] = {
	[FL_NM_LATENCY] = "latency",   [FL_NM_LOSS] = "loss",	    [FL_NM_CORRUPT] = "corrupt",
	[FL_NM_DUPLICATE] = "duplicate", [FL_NM_REORDER] = "reorder", [FL_NM_BANDWIDTH] = "bandwidth",
};

static const char *const dist_names[] = { [FL_NM_DIST_NONE] = "uniform",
					  [FL_NM_DIST_NORMAL] = "normal",
					  [FL_NM_DIST_PARETO] = "pareto" };

/* --- small parsers -------------------------------------------------------------------------- */

uint32_t fl_nm_percent_to_u32(double pct)
{
	double v = pct / 100.0 * (double)UINT32_MAX;

	if (v <= 0)
		return 0;
	if (v >= (double)UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t)(v + 0.5);
}

double fl_nm_u32_to_percent(uint32_t v)
{
	return (double)v * 100.0 / (double)UINT32_MAX;
}

/* "20", "20%", "0.5%": a percentage from 0 to 100. */
int fl_nm_parse_percent(const char *s, double *ret)
{
	char *end;
	double v;

	if (!s || !*s || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s)
		return -EINVAL;
	if (*end == '%')
		end++;
	if (*end)
		return -EINVAL;
	if (!(v >= 0 && v <= 100))
		return -ERANGE;
	*ret = v;
	return 0;
}

static int split_number(const char *s, double *ret_v, const char **ret_unit)
{
	char *end;
	double v;

	if (!s || !*s || *s == '-' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !(v >= 0))
		return -EINVAL;
	*ret_v = v;
	*ret_unit = end;
	return 0;
}

struct unit {
	const char *unit;
	double mult;
};

/* "N" followed by one of the units (case-insensitive), scaled, at most max. */
static int parse_scaled(const char *s, const struct unit *units, size_t n, double max,
			double *ret)
{
	const char *unit;
	double v;

	if (split_number(s, &v, &unit) < 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(unit, units[i].unit) != 0)
			continue;
		v *= units[i].mult;
		if (v > max)
			return -ERANGE;
		*ret = v;
		return 0;
	}
	return -EINVAL;
}

/* tc's rate units: bit kbit mbit gbit (bits/s, powers of 1000), bps kbps mbps gbps (bytes/s);
 * a bare number is bytes per second. */
int fl_nm_parse_rate(const char *s, uint64_t *ret)
{
	static const struct unit units[] = {
		{ "", 1 },	       { "bps", 1 },	     { "kbps", 1e3 },	   { "mbps", 1e6 },
		{ "gbps", 1e9 },       { "bit", 1.0 / 8 },   { "kbit", 1e3 / 8 }, { "mbit", 1e6 / 8 },
		{ "gbit", 1e9 / 8 },   { "kibit", 1024.0 / 8 }, { "mibit", 1048576.0 / 8 },
		{ "gibit", 1073741824.0 / 8 },
	};
	double v;
	int r = parse_scaled(s, units, ARRAY_SIZE(units), (double)NM_RATE_MAX, &v);

	if (r == 0)
		*ret = (uint64_t)(v + 0.5);
	return r;
}

/* Sizes: bytes, or k/kb (1024), m/mb (1024^2); a bare number is bytes. */
int fl_nm_parse_size(const char *s, uint32_t *ret)
{
	static const struct unit units[] = { { "", 1 },	      { "b", 1 },	 { "k", 1024 },
					     { "kb", 1024 }, { "m", 1048576 }, { "mb", 1048576 } };
	double v;
	int r = parse_scaled(s, units, ARRAY_SIZE(units), (double)INT_MAX, &v);

	if (r == 0)
		*ret = (uint32_t)v;
	return r;
}

static const char *fmt_rate(uint64_t bps, char *buf, size_t len)
{
	uint64_t bits = bps * 8;

	if (bits >= 1000000000 && bits % 1000000000 == 0)
		snprintf(buf, len, "%" PRIu64 "gbit", bits / 1000000000);
	else if (bits >= 1000000 && bits % 1000000 == 0)
		snprintf(buf, len, "%" PRIu64 "mbit", bits / 1000000);
	else if (bits >= 1000 && bits % 1000 == 0)
		snprintf(buf, len, "%" PRIu64 "kbit", bits / 1000);
	else
		snprintf(buf, len, "%" PRIu64 "bit", bits);
	return buf;
}

/* --- parse ---------------------------------------------------------------------------------- */

static void params_free(void *p)
{
	struct fl_netem_params *np = p;

	if (!np)
		return;
	free(np->dev);
	fl_netspec_clear(&np->spec);
	free(np);
}

static bool take_duration(const struct fl_params *p, const char *key, const char *example,
			  uint64_t *ret, struct fl_errors *errs, bool *bad)
{
	struct fl_param *v = fl_params_take(p, key);
	int k;

	if (!v)
		return false;
	k = fl_parse_duration(v->value, ret);
	if (k == -EINVAL) {
		fl_errors_add(errs, &v->where, "'%s' must be a duration such as '%s', got '%s'", key,
			      example, v->value);
		*bad = true;
	} else if (k < 0 || *ret > NM_DELAY_MAX) {
		fl_errors_add(errs, &v->where, "'%s' must be from 0 to 60s, got '%s'", key, v->value);
		*bad = true;
	}
	return true;
}

static bool take_percent(const struct fl_params *p, const char *key, double *ret,
			 struct fl_errors *errs, bool *bad)
{
	struct fl_param *v = fl_params_take(p, key);

	if (!v)
		return false;
	if (fl_nm_parse_percent(v->value, ret) < 0) {
		fl_errors_add(errs, &v->where,
			      "'%s' must be a percentage from 0 to 100 such as '20%%', got '%s'", key,
			      v->value);
		*bad = true;
	}
	return true;
}

/* Parse every option, then check them together (iproute2's q_netem.c), nothing sent. */
static int nm_parse(enum fl_nm_kind kind, struct fl_fault *f, const struct fl_params *p,
		    struct fl_errors *errs)
{
	struct fl_netem_params *np = calloc(1, sizeof(*np));
	struct fl_param *dir, *dist, *gap, *rate, *burst, *limit;
	size_t n0;
	int r;
	bool bad, unsupported = false, has_delay, has_jitter = false, has_pct, has_corr = false;
	const char *what = kind == FL_NM_BANDWIDTH ? "tbf" : "netem";

	if (!np)
		return -ENOMEM;
	np->kind = kind;
	f->priv = np;

	n0 = errs->n;
	r = fl_netspec_parse(p, NULL, &np->spec, errs);
	if (r < 0 && r != -EINVAL)
		return r;
	bad = r < 0;
	if (np->spec.dev) {
		if (!(np->dev = strdup(np->spec.dev)))
			return -ENOMEM;
	} else if (f->on) {
		if (!(np->dev = strdup("eth0")))
			return -ENOMEM;
	} else if (!fl_params_take(p, "dev")) {
		fl_errors_add(errs, &p->where,
			      "a %s fault needs 'dev' (the network interface, such as 'eth0')",
			      kind_names[kind]);
		bad = true;
	}
	dir = fl_params_take(p, "direction");
	if (dir && (!strcmp(dir->value, "ingress") || !strcmp(dir->value, "both"))) {
		fl_errors_add(
			errs, &dir->where,
			"'direction' '%s': %s shapes a device's egress only (ingress needs an "
			"ifb device): put the fault on the peer's device, or use the %s "
			"backend",
			dir->value, what, kind == FL_NM_LATENCY ? "nfqueue" : "tc-bpf");
		bad = unsupported = true;
	}
	np->spec.direction = FL_DIR_EGRESS;
	if (!np->spec.cgroup && f->target.cgroup && !(np->spec.cgroup = strdup(f->target.cgroup)))
		return -ENOMEM;
	np->filtered = np->spec.proto || np->spec.src.family || np->spec.dst.family ||
		       np->spec.sport.lo || np->spec.dport.lo || np->spec.cgroup || np->spec.peer;

	has_delay = (kind == FL_NM_LATENCY || kind == FL_NM_REORDER) &&
		    take_duration(p, "delay", "50ms", &np->delay_ns, errs, &bad);
	if (kind == FL_NM_LATENCY)
		has_jitter = take_duration(p, "jitter", "5ms", &np->jitter_ns, errs, &bad);
	has_pct = kind != FL_NM_LATENCY && kind != FL_NM_BANDWIDTH &&
		  take_percent(p, "percent", &np->percent, errs, &bad);
	if (kind == FL_NM_LATENCY || kind == FL_NM_LOSS || kind == FL_NM_REORDER)
		has_corr = take_percent(p, "correlation", kind == FL_NM_LATENCY ? &np->delay_corr
									  : &np->corr,
					errs, &bad);
	dist = kind == FL_NM_LATENCY ? fl_params_take(p, "distribution") : NULL;
	if (dist) {
		size_t i;
		for (i = 0; i < ARRAY_SIZE(dist_names); i++)
			if (!strcmp(dist->value, dist_names[i]))
				break;
		if (i == ARRAY_SIZE(dist_names)) {
			fl_errors_add(errs, &dist->where,
				      "'distribution' must be uniform, normal or pareto, got '%s'",
				      dist->value);
			bad = true;
		} else {
			np->dist = (enum fl_nm_dist)i;
		}
	}
	gap = kind == FL_NM_REORDER ? fl_params_take(p, "gap") : NULL;
	np->gap = 1;
	if (gap) {
		uint64_t g;
		if (fl_parse_uint(gap->value, INT_MAX, &g) < 0 || g == 0) {
			fl_errors_add(errs, &gap->where,
				      "'gap' must be a whole number of packets from 1, got '%s'",
				      gap->value);
			bad = true;
		} else {
			np->gap = (uint32_t)g;
		}
	}
	rate = kind == FL_NM_BANDWIDTH ? fl_params_take(p, "rate") : NULL;
	burst = kind == FL_NM_BANDWIDTH ? fl_params_take(p, "burst") : NULL;
	limit = kind == FL_NM_BANDWIDTH ? fl_params_take(p, "limit") : NULL;
	if (rate) {
		int k = fl_nm_parse_rate(rate->value, &np->rate);
		if (k == -ERANGE) {
			fl_errors_add(errs, &rate->where, "'rate' must be at most 17gbit, got '%s'",
				      rate->value);
			bad = true;
		} else if (k < 0 || np->rate == 0) {
			fl_errors_add(errs, &rate->where,
				      "'rate' must be a rate such as '10mbit', '500kbit' or a number "
				      "of bytes per second, got '%s'",
				      rate->value);
			bad = true;
		}
	}
	if (burst && fl_nm_parse_size(burst->value, &np->burst) < 0) {
		fl_errors_add(errs, &burst->where,
			      "'burst' must be a size in bytes such as '32kb', got '%s'", burst->value);
		bad = true;
	} else if (burst && np->burst < 1514) {
		fl_errors_add(errs, &burst->where,
			      "'burst' must hold a full-size packet: at least 1514 bytes, got '%s'",
			      burst->value);
		bad = true;
	}
	if (limit && fl_nm_parse_size(limit->value, &np->limit) < 0) {
		fl_errors_add(errs, &limit->where,
			      "'limit' must be a size in bytes such as '64kb', got '%s'", limit->value);
		bad = true;
	}

	/* together */
	switch (kind) {
	case FL_NM_LATENCY:
		if (!has_delay) {
			fl_errors_add(errs, &p->where, "a latency fault needs 'delay', such as '50ms'");
			bad = true;
		}
		if (dist && np->dist != FL_NM_DIST_NONE && (!has_jitter || !np->jitter_ns)) {
			fl_errors_add(errs, &dist->where,
				      "'distribution' shapes the jitter: it needs 'jitter', such as "
				      "'5ms'");
			bad = true;
		}
		if (has_corr && !has_jitter && np->delay_corr > 0) {
			/* netem correlates successive jitter values; without jitter it does nothing */
			fl_errors_add(errs, &p->where,
				      "'correlation' of a latency fault correlates the jitter: it "
				      "needs 'jitter'");
			bad = true;
		}
		break;
	case FL_NM_LOSS:
	case FL_NM_CORRUPT:
	case FL_NM_DUPLICATE:
	case FL_NM_REORDER:
		if (!has_pct) {
			fl_errors_add(errs, &p->where, "a %s fault needs 'percent', such as '20%%'",
				      kind_names[kind]);
			bad = true;
		}
		if (kind == FL_NM_REORDER && (!has_delay || np->delay_ns == 0)) {
			fl_errors_add(errs, &p->where,
				      "reordering needs a delay: add 'delay', such as '10ms' (packets "
				      "not reordered wait that long)");
			bad = true;
		}
		break;
	case FL_NM_BANDWIDTH:
		if (!rate) {
			fl_errors_add(errs, &p->where,
				      "a bandwidth fault needs 'rate', such as '10mbit'");
			bad = true;
			break;
		}
		if (!burst) {
			uint64_t b = np->rate / 100; /* 10 ms worth */
			np->burst = b < NM_MIN_BURST ? NM_MIN_BURST : b > INT_MAX ? INT_MAX
										: (uint32_t)b;
		}
		if (!limit) {
			uint64_t l = np->rate / 20 + np->burst; /* 50 ms of queue, as tc's latency */
			np->limit = l > INT_MAX ? INT_MAX : (uint32_t)l;
		} else if (np->limit < np->burst) {
			fl_errors_add(errs, &limit->where,
				      "'limit' must be at least 'burst' (%u bytes), got '%s'",
				      np->burst, limit->value);
			bad = true;
		}
		break;
	}
	/* valid, but not something netem can do: the validator may take the next backend */
	if (bad && unsupported && errs->n == n0 + 1)
		return -EOPNOTSUPP;
	return bad ? -EINVAL : 0;
}

#define PARSE_FN(name, k)                                                                          \
	static int name(struct fl_fault *f, const struct fl_params *p, struct fl_errors *errs)    \
	{                                                                                          \
		return nm_parse(k, f, p, errs);                                                    \
	}
PARSE_FN(latency_parse, FL_NM_LATENCY)
PARSE_FN(loss_parse, FL_NM_LOSS)
PARSE_FN(corrupt_parse, FL_NM_CORRUPT)
PARSE_FN(duplicate_parse, FL_NM_DUPLICATE)
PARSE_FN(reorder_parse, FL_NM_REORDER)
PARSE_FN(bandwidth_parse, FL_NM_BANDWIDTH)

/* --- distribution tables (iproute2's, as tc loads them) ------------------------------------- */

static const char *const dist_dirs[] = { "/usr/lib/x86_64-linux-gnu/tc", "/usr/lib/tc",
					 "/usr/lib64/tc", "/usr/local/lib/tc", "/lib/tc", NULL };

int fl_nm_dist_load(enum fl_nm_dist d, int16_t **ret, size_t *ret_n, char **ret_reason)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ int16_t *v = NULL;
	char path[PATH_MAX];
	size_t n = 0, len;
	int r = -ENOENT;

	for (const char *const *dir = dist_dirs; *dir && r < 0; dir++) {
		snprintf(path, sizeof(path), "%s/%s.dist", *dir, dist_names[d]);
		r = fl_read_file(path, &text, &len);
	}
	if (r < 0) {
		if (ret_reason && asprintf(ret_reason,
					   "distribution '%s' needs iproute2's table %s.dist (in "
					   "/usr/lib/x86_64-linux-gnu/tc or /usr/lib/tc): install "
					   "iproute2, or use 'uniform'",
					   dist_names[d], dist_names[d]) < 0)
			*ret_reason = NULL;
		return -ENOENT;
	}
	v = calloc(NM_DIST_MAX, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		if (*line == '#')
			continue;
		for (char *tok = line, *end;; tok = end) {
			long x = strtol(tok, &end, 10);
			if (end == tok)
				break;
			if (n >= NM_DIST_MAX || x < SHRT_MIN || x > SHRT_MAX) {
				if (ret_reason && asprintf(ret_reason, "%s: malformed table", path) < 0)
					*ret_reason = NULL;
				return -EINVAL;
			}
			v[n++] = (int16_t)x;
		}
	}
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

/* --- the request ---------------------------------------------------------------------------- */

static int us_of(uint64_t ns)
{
	return (int)((ns + NSEC_PER_USEC / 2) / NSEC_PER_USEC);
}

int fl_netem_build_qdisc(const struct fl_netem_params *np, int ifindex, uint32_t parent,
			 uint32_t handle, struct rtnl_qdisc **ret, char **ret_reason)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	int r;

	if (!q)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), parent);
	rtnl_tc_set_handle(TC_CAST(q), handle);
	r = rtnl_tc_set_kind(TC_CAST(q), np->kind == FL_NM_BANDWIDTH ? "tbf" : "netem");
	if (r < 0) {
		if (ret_reason && asprintf(ret_reason, "libnl-route has no %s support: %s",
					   np->kind == FL_NM_BANDWIDTH ? "tbf" : "netem",
					   nl_geterror(r)) < 0)
			*ret_reason = NULL;
		rtnl_qdisc_put(q);
		return -EOPNOTSUPP;
	}
	if (np->kind == FL_NM_BANDWIDTH) {
		rtnl_qdisc_tbf_set_limit(q, (int)np->limit);
		rtnl_qdisc_tbf_set_rate(q, (int)np->rate, (int)np->burst, 0);
		*ret = q;
		return 0;
	}
	rtnl_netem_set_limit(q, NM_NETEM_LIMIT);
	switch (np->kind) {
	case FL_NM_LATENCY:
		rtnl_netem_set_delay(q, us_of(np->delay_ns));
		if (np->jitter_ns)
			rtnl_netem_set_jitter(q, us_of(np->jitter_ns));
		if (np->delay_corr > 0)
			rtnl_netem_set_delay_correlation(q, (int)fl_nm_percent_to_u32(np->delay_corr));
		if (np->dist != FL_NM_DIST_NONE) {
			_cleanup_free_ int16_t *tab = NULL;
			size_t n = 0;
			r = fl_nm_dist_load(np->dist, &tab, &n, ret_reason);
			if (r == 0 && rtnl_netem_set_delay_distribution_data(q, tab, n) < 0)
				r = -ENOMEM;
			if (r < 0) {
				rtnl_qdisc_put(q);
				return r;
			}
		}
		break;
	case FL_NM_LOSS:
		rtnl_netem_set_loss(q, (int)fl_nm_percent_to_u32(np->percent));
		if (np->corr > 0)
			rtnl_netem_set_loss_correlation(q, (int)fl_nm_percent_to_u32(np->corr));
		break;
	case FL_NM_CORRUPT:
		rtnl_netem_set_corruption_probability(q, (int)fl_nm_percent_to_u32(np->percent));
		break;
	case FL_NM_DUPLICATE:
		rtnl_netem_set_duplicate(q, (int)fl_nm_percent_to_u32(np->percent));
		break;
	case FL_NM_REORDER:
		rtnl_netem_set_delay(q, us_of(np->delay_ns));
		rtnl_netem_set_gap(q, (int)np->gap);
		rtnl_netem_set_reorder_probability(q, (int)fl_nm_percent_to_u32(np->percent));
		if (np->corr > 0)
			rtnl_netem_set_reorder_correlation(q, (int)fl_nm_percent_to_u32(np->corr));
		break;
	case FL_NM_BANDWIDTH:
		break;
	}
	*ret = q;
	return 0;
}

static int new_qdisc(int ifindex, uint32_t parent, uint32_t handle, const char *kind,
		     struct rtnl_qdisc **ret)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();

	if (!q)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), parent);
	rtnl_tc_set_handle(TC_CAST(q), handle);
	if (rtnl_tc_set_kind(TC_CAST(q), kind) < 0) {
		rtnl_qdisc_put(q);
		return -EOPNOTSUPP;
	}
	*ret = q;
	return 0;
}

int fl_netem_build_prio(int ifindex, struct rtnl_qdisc **ret)
{
	uint8_t map[TC_PRIO_MAX + 1] = { 0 }; /* every priority to band 0, fa17:1 */
	struct rtnl_qdisc *q;
	int r = new_qdisc(ifindex, TC_H_ROOT, FL_QDISC_HANDLE, "prio", &q);

	if (r < 0)
		return r;
	rtnl_qdisc_prio_set_bands(q, 2);
	if (rtnl_qdisc_prio_set_priomap(q, map, sizeof(map)) < 0) {
		rtnl_qdisc_put(q);
		return -EINVAL;
	}
	*ret = q;
	return 0;
}

int fl_netem_build_pass(int ifindex, struct rtnl_qdisc **ret)
{
	struct rtnl_qdisc *q;
	int r = new_qdisc(ifindex, FL_NM_PASS_CLASS, FL_NM_PASS_HANDLE, "pfifo", &q);

	if (r < 0)
		return r;
	/* explicit: a device with txqueuelen 0 would give the kernel's default a limit of 1 */
	rtnl_qdisc_fifo_set_limit(q, FL_NM_PASS_LIMIT);
	*ret = q;
	return 0;
}

int fl_netclass_filter_request(int ifindex, int prog_fd, int flags, struct nl_msg **ret)
{
	struct tcmsg tcm = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifindex,
		.tcm_handle = FL_NM_FILTER_HANDLE,
		.tcm_parent = FL_QDISC_HANDLE,
		.tcm_info = TC_H_MAKE((uint32_t)FL_TC_PRIORITY << 16, htons(ETH_P_ALL)),
	};
	struct nl_msg *m = nlmsg_alloc_simple(RTM_NEWTFILTER, flags | NLM_F_ACK);
	struct nlattr *opts;

	if (!m)
		return -ENOMEM;
	if (nlmsg_append(m, &tcm, sizeof(tcm), NLMSG_ALIGNTO) < 0 ||
	    nla_put_string(m, TCA_KIND, "bpf") < 0 || !(opts = nla_nest_start(m, TCA_OPTIONS)) ||
	    nla_put_u32(m, TCA_BPF_FD, (uint32_t)prog_fd) < 0 ||
	    nla_put_string(m, TCA_BPF_NAME, "netclass") < 0 ||
	    nla_put_u32(m, TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT) < 0) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	nla_nest_end(m, opts);
	*ret = m;
	return 0;
}

/*
 * The RTM_NEWQDISC request for q. libnl 3.7 leaves 12 stray bytes after TCA_OPTIONS when a
 * netem qdisc has corruption or reordering ("netlink: 12 bytes leftover after parsing
 * attributes" in the kernel log): end the message after its last whole attribute.
 */
int fl_netem_request(struct rtnl_qdisc *q, int flags, struct nl_msg **ret)
{
	struct nl_msg *m = NULL;
	struct nlmsghdr *h;
	struct nlattr *a;
	size_t end;
	int rem, r;

	r = rtnl_qdisc_build_add_request(q, flags, &m);
	if (r < 0)
		return -ENOMEM;
	h = nlmsg_hdr(m);
	end = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct tcmsg));
	nlmsg_for_each_attr(a, h, sizeof(struct tcmsg), rem)
		end = (size_t)((char *)a - (char *)h) + NLA_ALIGN(a->nla_len);
	if (end < h->nlmsg_len)
		h->nlmsg_len = (uint32_t)end;
	*ret = m;
	return 0;
}

void fl_netem_explain(const char *qkind, int err, const char *extack, char *buf, size_t len)
{
	bool unknown = extack && strstr(extack, "qdisc kind is unknown");

	if (unknown || (err == -ENOENT && (!extack || !*extack))) {
		if (!strcmp(qkind, "netem"))
			snprintf(buf, len,
				 "the kernel has no sch_netem (module not available): use a kernel "
				 "with netem, or the tc-bpf/nfqueue backends");
		else
			snprintf(buf, len,
				 "the kernel has no sch_%s (module not available): use a kernel "
				 "with %s",
				 qkind, qkind);
	} else if (err == -EPERM) {
		snprintf(buf, len, "changing qdiscs needs CAP_NET_ADMIN (run as root)");
	} else if (extack && *extack) {
		snprintf(buf, len, "%s qdisc refused by the kernel: \"%s\" (%s)", qkind, extack,
			 strerror(-err));
	} else {
		snprintf(buf, len, "%s qdisc refused by the kernel: %s", qkind, strerror(-err));
	}
}

/* --- netlink plumbing ----------------------------------------------------------------------- */

static void nl_cache_freep(struct nl_cache **c)
{
	if (*c)
		nl_cache_free(*c);
}


/*
 * A route netlink socket in the named netns (NULL: ours) and the device's ifindex there.
 * The socket keeps its namespace after we setns back. -ENOENT: no such netns; -ENODEV.
 */
static int nl_open_in(const char *netns, const char *dev, struct fl_nl_ack *ack,
		      struct nl_sock **ret_sk, int *ret_ifindex)
{
	_cleanup_(fl_nl_socket_freep) struct nl_sock *sk = NULL;
	unsigned idx = 0;
	int old = -1, r;

	if (netns && !fl_valid_name(netns, NAME_MAX) && strchr(netns, '/'))
		return -EINVAL;
	r = fl_netns_enter(netns, &old);
	if (r < 0)
		return r;
	r = fl_nl_open(NETLINK_ROUTE, ack, &sk);
	if (r == 0 && dev) {
		idx = if_nametoindex(dev);
		if (idx == 0)
			r = errno == ENODEV || errno == ENXIO ? -ENODEV : -errno;
	}
	fl_netns_leave(old);
	if (r < 0)
		return r;
	*ret_sk = TAKE_PTR(sk);
	*ret_ifindex = (int)idx;
	return 0;
}

void fl_qdisc_snap_clear(struct fl_qdisc_snap *s)
{
	free(s->opts);
	*s = (struct fl_qdisc_snap){};
}

struct dump_ctx {
	int ifindex;
	bool found;
	struct fl_qdisc_snap *snap;
	uint32_t parents[64]; /* of the device's other qdiscs */
	size_t n_parents;
	int err;
};

static int dump_cb(struct nl_msg *msg, void *arg)
{
	struct dump_ctx *c = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct tcmsg *tcm = nlmsg_data(h);
	struct nlattr *tb[TCA_MAX + 1];

	if (h->nlmsg_type != RTM_NEWQDISC || tcm->tcm_ifindex != c->ifindex)
		return NL_OK;
	if (nlmsg_parse(h, sizeof(*tcm), tb, TCA_MAX, NULL) < 0)
		return NL_OK;
	if (tcm->tcm_parent != TC_H_ROOT) {
		if (c->n_parents < ARRAY_SIZE(c->parents))
			c->parents[c->n_parents++] = tcm->tcm_parent;
		return NL_OK;
	}
	c->found = true;
	c->snap->handle = tcm->tcm_handle;
	c->snap->parent = tcm->tcm_parent;
	if (tb[TCA_KIND])
		nla_strlcpy(c->snap->kind, tb[TCA_KIND], sizeof(c->snap->kind));
	if (tb[TCA_OPTIONS] && nla_len(tb[TCA_OPTIONS]) > 0) {
		c->snap->opts_len = (size_t)nla_len(tb[TCA_OPTIONS]);
		c->snap->opts = malloc(c->snap->opts_len);
		if (!c->snap->opts)
			c->err = -ENOMEM;
		else
			memcpy(c->snap->opts, nla_data(tb[TCA_OPTIONS]), c->snap->opts_len);
	}
	return NL_OK;
}

/* The device's root qdisc, raw. A device with no root listed gets an empty default. */
static int snapshot_root(struct nl_sock *sk, int ifindex, struct fl_qdisc_snap *ret)
{
	struct fl_qdisc_snap s = {};
	struct dump_ctx c = { .ifindex = ifindex, .snap = &s };
	struct tcmsg tcm = { .tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETQDISC, NLM_F_DUMP);
	int r;

	if (!msg)
		return -ENOMEM;
	r = nlmsg_append(msg, &tcm, sizeof(tcm), NLMSG_ALIGNTO);
	if (r == 0)
		r = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	if (r < 0)
		return -EIO;
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, dump_cb, &c);
	r = nl_recvmsgs_default(sk);
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_DEFAULT, NULL, NULL);
	if (r < 0 || c.err < 0) {
		fl_qdisc_snap_clear(&s);
		return c.err < 0 ? c.err : -EIO;
	}
	if (!c.found)
		snprintf(s.kind, sizeof(s.kind), "none");
	s.is_default = s.handle == 0;
	for (size_t i = 0; !s.is_default && i < c.n_parents; i++)
		if (c.parents[i] != TC_H_INGRESS && TC_H_MAJ(c.parents[i]) == TC_H_MAJ(s.handle))
			s.n_children++;
	*ret = s;
	return 0;
}

/* One request, its ack awaited; the kernel's errno (its extack in ack->msg), or -EIO. */
static int nl_request(struct nl_sock *sk, struct fl_nl_ack *ack, struct nl_msg *m)
{
	int r;

	memset(ack, 0, sizeof(*ack));
	r = nl_send_auto(sk, m);
	nlmsg_free(m);
	if (r >= 0)
		r = nl_wait_for_ack(sk);
	if (r < 0)
		return ack->error ? ack->error : r == -NLE_PERM ? -EPERM : -EIO;
	return 0;
}

/* One qdisc request, built by hand (restore sends TCA_OPTIONS back verbatim). */
static int qdisc_request(struct nl_sock *sk, struct fl_nl_ack *ack, int type, int flags, int ifindex,
			 uint32_t handle, const char *kind, const void *opts, size_t opts_len)
{
	struct tcmsg tcm = { .tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex,
			     .tcm_handle = handle, .tcm_parent = TC_H_ROOT };
	struct nl_msg *msg = nlmsg_alloc_simple(type, flags | NLM_F_ACK);
	int r;

	if (!msg)
		return -ENOMEM;
	r = nlmsg_append(msg, &tcm, sizeof(tcm), NLMSG_ALIGNTO);
	if (r == 0 && kind)
		r = nla_put_string(msg, TCA_KIND, kind);
	if (r == 0 && opts)
		r = nla_put(msg, TCA_OPTIONS, (int)opts_len, opts);
	if (r < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return nl_request(sk, ack, msg);
}

/* --- JSON ----------------------------------------------------------------------------------- */

static char *hex_of(const unsigned char *b, size_t n)
{
	char *s = malloc(n * 2 + 1);

	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++)
		snprintf(s + 2 * i, 3, "%02x", b[i]);
	s[2 * n] = '\0';
	return s;
}

static int unhex(const char *s, unsigned char **ret, size_t *ret_n)
{
	size_t n = strlen(s);
	unsigned char *b;

	if (n % 2)
		return -EINVAL;
	b = malloc(n / 2 + 1);
	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1 || !strchr("0123456789abcdefABCDEF", s[2 * i]) ||
		    !strchr("0123456789abcdefABCDEF", s[2 * i + 1])) {
			free(b);
			return -EINVAL;
		}
		b[i] = (unsigned char)v;
	}
	*ret = b;
	*ret_n = n / 2;
	return 0;
}

static const char *fmt_handle(uint32_t h, char *buf, size_t len)
{
	if (TC_H_MIN(h))
		snprintf(buf, len, "%x:%x", TC_H_MAJ(h) >> 16, TC_H_MIN(h));
	else
		snprintf(buf, len, "%x:", TC_H_MAJ(h) >> 16);
	return buf;
}

json_t *fl_qdisc_snap_to_json(const struct fl_qdisc_snap *s)
{
	_cleanup_free_ char *hex = s->opts ? hex_of(s->opts, s->opts_len) : NULL;
	char h[24];
	json_t *j;

	if (s->opts && !hex)
		return NULL;
	j = json_pack("{s:s, s:s, s:I, s:I, s:b}", "kind", s->kind, "handle_str",
		      fmt_handle(s->handle, h, sizeof(h)), "handle", (json_int_t)s->handle,
		      "parent", (json_int_t)s->parent, "default", s->is_default);
	if (j && hex)
		json_object_set_new(j, "options", json_string(hex));
	return j;
}

int fl_qdisc_snap_from_json(const json_t *j, struct fl_qdisc_snap *ret)
{
	struct fl_qdisc_snap s = {};
	json_t *kind = json_object_get(j, "kind"), *handle = json_object_get(j, "handle"),
	       *parent = json_object_get(j, "parent"), *def = json_object_get(j, "default"),
	       *opts = json_object_get(j, "options");

	if (!json_is_string(kind) || !json_is_integer(handle) || !json_is_boolean(def) ||
	    strlen(json_string_value(kind)) >= sizeof(s.kind) ||
	    json_integer_value(handle) < 0 || json_integer_value(handle) > UINT32_MAX ||
	    (opts && !json_is_string(opts)))
		return -EINVAL;
	snprintf(s.kind, sizeof(s.kind), "%s", json_string_value(kind));
	s.handle = (uint32_t)json_integer_value(handle);
	s.parent = json_is_integer(parent) ? (uint32_t)json_integer_value(parent) : TC_H_ROOT;
	s.is_default = json_is_true(def);
	if (opts && unhex(json_string_value(opts), &s.opts, &s.opts_len) < 0)
		return -EINVAL;
	*ret = s;
	return 0;
}

#define set_reason(reason, ...) ((void)fl_set_reason(reason, 0, __VA_ARGS__))

/* --- probe ---------------------------------------------------------------------------------- */

static const char *qkind_of(enum fl_nm_kind kind)
{
	return kind == FL_NM_BANDWIDTH ? "tbf" : "netem";
}

static int qdisc_add(struct nl_sock *sk, struct fl_nl_ack *ack, struct rtnl_qdisc *q, int flags)
{
	struct nl_msg *m = NULL;
	int r = fl_netem_request(q, flags, &m);

	return r < 0 ? r : nl_request(sk, ack, m);
}

/* Add one qdisc we built (q is put); on failure the user's text in *reason. */
static int add_one(struct nl_sock *sk, struct fl_nl_ack *ack, struct rtnl_qdisc *q, int flags,
		   char **reason)
{
	char msg[320];
	const char *kind = rtnl_tc_get_kind(TC_CAST(q));
	int r = qdisc_add(sk, ack, q, flags);

	if (r < 0) {
		fl_netem_explain(kind ? kind : "?", r, ack->msg, msg, sizeof(msg));
		set_reason(reason, "%s", msg);
	}
	rtnl_qdisc_put(q);
	return r;
}

/*
 * Load the classifier with its config and attach it to our prio root on ifindex (in the
 * current netns). The filter holds the program: our fds go. Its id in *ret_prog_id.
 */
static int attach_classifier(struct nl_sock *sk, struct fl_nl_ack *ack, int ifindex,
			     const struct nc_config *c, uint32_t *ret_prog_id, char **reason)
{
	struct netclass_bpf *skel = netclass_bpf__open();
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);
	struct nl_msg *m = NULL;
	char msg[320];
	int r;

	if (!skel)
		return fl_set_reason(reason, -errno, "cannot open the netclass BPF object: %s",
				     strerror(errno));
	memcpy((void *)&skel->rodata->cfg, c, sizeof(*c));
	r = netclass_bpf__load(skel);
	if (r < 0) {
		r = fl_set_reason(reason, r, "the kernel refused the netclass BPF program: %s",
				  strerror(-r));
		goto out;
	}
	r = fl_netclass_filter_request(ifindex, bpf_program__fd(skel->progs.netclass),
				       NLM_F_CREATE | NLM_F_EXCL, &m);
	if (r == 0)
		r = nl_request(sk, ack, m);
	if (r < 0) {
		if ((ack->msg[0] && strstr(ack->msg, "classifier not found")) ||
		    (r == -ENOENT && !ack->msg[0]))
			snprintf(msg, sizeof(msg),
				 "the kernel has no cls_bpf (module not available)");
		else if (ack->msg[0])
			snprintf(msg, sizeof(msg),
				 "the kernel refused the cls_bpf filter: \"%s\" (%s)", ack->msg,
				 strerror(-r));
		else
			snprintf(msg, sizeof(msg), "the kernel refused the cls_bpf filter: %s",
				 strerror(-r));
		r = fl_set_reason(reason, r, "%s", msg);
		goto out;
	}
	if (ret_prog_id &&
	    bpf_obj_get_info_by_fd(bpf_program__fd(skel->progs.netclass), &info, &len) == 0)
		*ret_prog_id = info.id;
out:
	netclass_bpf__destroy(skel);
	return r;
}

/* The prio tree of a fault on ifindex, without its classifier. */
static int add_tree(struct nl_sock *sk, struct fl_nl_ack *ack, const struct fl_netem_params *np,
		    int ifindex, char **reason)
{
	struct rtnl_qdisc *q = NULL;
	int r;

	r = fl_netem_build_prio(ifindex, &q);
	if (r == 0)
		r = add_one(sk, ack, q, NLM_F_CREATE | NLM_F_REPLACE, reason);
	if (r == 0 && (r = fl_netem_build_pass(ifindex, &q)) == 0)
		r = add_one(sk, ack, q, NLM_F_CREATE | NLM_F_EXCL, reason);
	if (r == 0 && (r = fl_netem_build_qdisc(np, ifindex, FL_NM_FAULT_CLASS, FL_NM_FAULT_HANDLE,
						&q, reason)) == 0)
		r = add_one(sk, ack, q, NLM_F_CREATE | NLM_F_EXCL, reason);
	return r;
}

/*
 * In a forked child in a scratch netns, on lo: the fault's qdisc as a root, then the whole
 * classful tree with the classifier. Writes "1" (all of it), "2reason" (only the root qdisc:
 * reason says what the classifier lacks) or "0reason".
 */
static void probe_child(enum fl_nm_kind kind, int fd)
{
	struct fl_netem_params np = { .kind = kind, .delay_ns = NSEC_PER_MSEC, .percent = 1,
				      .rate = 125000, .burst = 70000, .limit = 140000, .gap = 1 };
	_cleanup_(fl_nl_socket_freep) struct nl_sock *sk = NULL;
	struct nc_config c = { .classid = FL_NM_FAULT_CLASS };
	struct rtnl_qdisc *q = NULL;
	_cleanup_free_ char *why = NULL;
	struct fl_nl_ack ack = {};
	char out[400] = "0";
	int r;

	libbpf_set_print(NULL);
	if (unshare(CLONE_NEWNET) < 0) {
		snprintf(out + 1, sizeof(out) - 1,
			 errno == EPERM ? "needs root (a scratch network namespace needs "
					  "CAP_SYS_ADMIN to test the qdisc)"
					: "cannot create a scratch network namespace: %s",
			 strerror(errno));
	} else if ((r = fl_nl_open(NETLINK_ROUTE, &ack, &sk)) < 0) {
		snprintf(out + 1, sizeof(out) - 1, "cannot open a route netlink socket");
	} else if ((r = fl_netem_build_qdisc(&np, 1, TC_H_ROOT, FL_QDISC_HANDLE, &q, NULL)) < 0) {
		snprintf(out + 1, sizeof(out) - 1, "libnl-route cannot build a %s qdisc",
			 qkind_of(kind));
	} else if ((r = add_one(sk, &ack, q, NLM_F_CREATE | NLM_F_EXCL, &why)) < 0) {
		snprintf(out + 1, sizeof(out) - 1, "%s", why);
	} else if ((r = qdisc_request(sk, &ack, RTM_DELQDISC, 0, 1, FL_QDISC_HANDLE, NULL, NULL,
				      0)) < 0) {
		snprintf(out + 1, sizeof(out) - 1, "cannot remove the probe's %s qdisc: %s",
			 qkind_of(kind), strerror(-r));
	} else if ((r = add_tree(sk, &ack, &np, 1, &why)) < 0 ||
		   (r = attach_classifier(sk, &ack, 1, &c, NULL, &why)) < 0) {
		snprintf(out, sizeof(out), "2%s", why ? why : strerror(-r));
	} else {
		out[0] = '1';
	}
	if (write(fd, out, strlen(out)) < 0)
		_exit(2);
	_exit(0);
}

static char probe_reason[2][400];
static int probe_state[2]; /* 0: not yet, 1: all, 2: root qdisc only, -1: failed (per process) */
static char filtered_reason[2][480], ssh_reason[2][480];

static int probe_run(enum fl_nm_kind kind)
{
	int slot = kind == FL_NM_BANDWIDTH;
	int pfd[2], st;
	ssize_t n;
	pid_t pid;

	if (probe_state[slot] != 0)
		return probe_state[slot];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (pid == 0) {
		close(pfd[0]);
		probe_child(kind, pfd[1]);
	}
	close(pfd[1]);
	n = read(pfd[0], probe_reason[slot], sizeof(probe_reason[slot]) - 1);
	close(pfd[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (n <= 0) {
		snprintf(probe_reason[slot], sizeof(probe_reason[slot]),
			 "0the qdisc probe failed without a reason");
		n = (ssize_t)strlen(probe_reason[slot]);
	}
	probe_reason[slot][n] = '\0';
	probe_state[slot] = probe_reason[slot][0] == '1'   ? 1
			    : probe_reason[slot][0] == '2' ? 2
							   : -1;
	snprintf(filtered_reason[slot], sizeof(filtered_reason[slot]),
		 "filters and 'exclude' need the classifier (sch_prio, cls_bpf, BPF): %s",
		 probe_reason[slot] + 1);
	snprintf(
		ssh_reason[slot], sizeof(ssh_reason[slot]),
		"without the classifier (%s) the fault would also hit the SSH connection faultline "
		"runs over: refusing in this host's network namespace",
		probe_reason[slot] + 1);
	return probe_state[slot];
}

static int nm_probe(const struct fl_fault *f, const char **ret_reason)
{
	const struct fl_netem_params *np = f ? f->priv : NULL;
	enum fl_nm_kind kind = np ? np->kind : FL_NM_LATENCY;
	int slot = kind == FL_NM_BANDWIDTH, st = probe_run(kind);
	uint16_t mgmt[2];

	if (st < 0 && st != -1)
		return st;
	if (st == 1)
		return 0;
	if (st == 2 && f && !f->target.netns && !f->on && fl_mgmt_ports(mgmt)) {
		/* the management plane is never faulted; unclassified, it would be */
		*ret_reason = ssh_reason[slot];
		return -EOPNOTSUPP;
	}
	if (st == 2 && !(np && (np->filtered || np->spec.n_exclude)))
		return 0; /* unfiltered: netem or tbf as the root, said at plan time */
	*ret_reason = st == 2 ? filtered_reason[slot] : probe_reason[slot] + 1;
	return strstr(probe_reason[slot], "needs root") ? -EPERM : -EOPNOTSUPP;
}

/* --- plan, apply, revert -------------------------------------------------------------------- */

static const char *where_of(const char *netns, char *buf, size_t len)
{
	if (netns)
		snprintf(buf, len, "network namespace '%s'", netns);
	else
		snprintf(buf, len, "this host's network namespace");
	return buf;
}

static int open_reason(int r, const char *netns, const char *dev, char **reason)
{
	char w[96];

	if (r == -ENOENT && netns)
		set_reason(reason, "no network namespace '%s'", netns);
	else if (r == -ENODEV)
		set_reason(reason, "no device '%s' in %s", dev, where_of(netns, w, sizeof(w)));
	else if (r == -EPERM)
		set_reason(reason, "entering %s needs root", where_of(netns, w, sizeof(w)));
	else
		set_reason(reason, "cannot reach device '%s' in %s: %s", dev,
			   where_of(netns, w, sizeof(w)), strerror(-r));
	return r;
}

/* Does the device carry Ethernet headers (what the classifier parses)? Loopback does. */
static bool ethernet_like(struct nl_sock *sk, int ifindex)
{
	struct rtnl_link *link = NULL;
	unsigned type;

	if (rtnl_link_get_kernel(sk, ifindex, NULL, &link) < 0)
		return true; /* unknown: as most devices */
	type = rtnl_link_get_arptype(link);
	rtnl_link_put(link);
	return type == ARPHRD_ETHER || type == ARPHRD_LOOPBACK;
}

static int nm_plan(const struct fl_fault *f, struct fl_inject_ctx *ctx, json_t **ret_objects)
{
	const struct fl_netem_params *np = f->priv;
	_cleanup_(fl_nl_socket_freep) struct nl_sock *sk = NULL;
	_cleanup_(fl_qdisc_snap_clear) struct fl_qdisc_snap snap = {};
	const char *qkind = qkind_of(np->kind), *why = NULL, *fallback_why;
	struct fl_nl_ack ack = {};
	char h[24], w[96], l3why[IFNAMSIZ + 64];
	json_t *prev, *o;
	bool classful;
	int ifindex, r;

	if (np->kind == FL_NM_LATENCY && np->dist != FL_NM_DIST_NONE) {
		_cleanup_free_ int16_t *tab = NULL;
		size_t n;
		r = fl_nm_dist_load(np->dist, &tab, &n, &ctx->reason);
		if (r < 0)
			return r;
	}
	r = nm_probe(f, &why);
	if (r < 0) {
		set_reason(&ctx->reason, "%s", why ? why : strerror(-r));
		return r;
	}
	classful = probe_run(np->kind) == 1;
	fallback_why = probe_reason[np->kind == FL_NM_BANDWIDTH] + 1;
	r = nl_open_in(f->target.netns, np->dev, &ack, &sk, &ifindex);
	if (r < 0)
		return open_reason(r, f->target.netns, np->dev, &ctx->reason);
	if (classful && !ethernet_like(sk, ifindex)) {
		uint16_t mgmt[2];
		/* the classifier reads Ethernet frames: it would match nothing on a tun device */
		if (np->filtered || np->spec.n_exclude ||
		    (!f->target.netns && fl_mgmt_ports(mgmt))) {
			set_reason(
				&ctx->reason,
				"device '%s' has no Ethernet header: the classifier that filters, "
				"excludes and protects the SSH connection cannot read its packets",
				np->dev);
			return -EOPNOTSUPP;
		}
		classful = false;
		snprintf(l3why, sizeof(l3why),
			 "device '%s' has no Ethernet header for the classifier", np->dev);
		fallback_why = l3why;
	}
	r = snapshot_root(sk, ifindex, &snap);
	if (r < 0) {
		set_reason(&ctx->reason, "cannot read the qdiscs of '%s': %s", np->dev, strerror(-r));
		return r;
	}
	if (TC_H_MAJ(snap.handle) == FL_QDISC_HANDLE) {
		set_reason(&ctx->reason,
			   "device '%s' in %s already has a faultline qdisc (%s %s): one netem or "
			   "tbf fault per device at a time (a crashed run's: 'faultline recover --all')",
			   np->dev, where_of(f->target.netns, w, sizeof(w)), snap.kind,
			   fmt_handle(snap.handle, h, sizeof(h)));
		return -EBUSY;
	}
	if (snap.n_children) {
		set_reason(&ctx->reason,
			   "the root qdisc of '%s' (%s %s) has %u child qdisc(s): faultline replaces "
			   "only a root it can restore exactly, refusing",
			   np->dev, snap.kind, fmt_handle(snap.handle, h, sizeof(h)),
			   snap.n_children);
		return -EBUSY;
	}
	if (!classful)
		log_warn(
			"fault '%s': %s; %s becomes the root qdisc of '%s' for all of its traffic, "
			"with no TTL in the kernel (the lease guard or 'faultline recover' removes "
			"it)",
			f->name, fallback_why, qkind, np->dev);
	prev = fl_qdisc_snap_to_json(&snap);
	o = json_pack("{s:s, s:s?, s:s, s:i, s:s, s:I, s:o, s:s, s:s, s:I}", "type", "qdisc",
		      "netns", f->target.netns, "dev", np->dev, "ifindex", ifindex, "kind",
		      classful ? "prio" : qkind, "handle", (json_int_t)FL_QDISC_HANDLE, "previous",
		      prev, "mode", classful ? "classful" : "root", "fault_kind", qkind, "for_ns",
		      (json_int_t)f->for_ns);
	if (!o)
		return -ENOMEM;
	if (classful) {
		/* every object of the tree, though deleting the root takes them all */
		r = json_object_update_new(
			o,
			json_pack("{s:{s:s, s:I, s:I}, s:{s:s, s:I, s:I}, s:{s:s, s:I, s:i, s:i, "
				  "s:s}}",
				  "fault_qdisc", "kind", qkind, "handle",
				  (json_int_t)FL_NM_FAULT_HANDLE, "parent",
				  (json_int_t)FL_NM_FAULT_CLASS, "pass_qdisc", "kind", "pfifo",
				  "handle", (json_int_t)FL_NM_PASS_HANDLE, "parent",
				  (json_int_t)FL_NM_PASS_CLASS, "filter", "kind", "bpf", "parent",
				  (json_int_t)FL_QDISC_HANDLE, "priority", FL_TC_PRIORITY, "handle",
				  (int)FL_NM_FILTER_HANDLE, "program", "netclass"));
		if (r == 0)
			r = fl_netmatch_plan(f, &np->spec, false, ctx, o);
		if (r < 0) {
			json_decref(o);
			return r == -1 ? -ENOMEM : r;
		}
	}
	*ret_objects = json_array();
	if (!*ret_objects || json_array_append_new(*ret_objects, o) < 0) {
		json_decref(*ret_objects);
		return -ENOMEM;
	}
	return 0;
}

static bool same_snap(const struct fl_qdisc_snap *a, const struct fl_qdisc_snap *b)
{
	return !strcmp(a->kind, b->kind) && a->handle == b->handle &&
	       a->opts_len == b->opts_len && (!a->opts_len || !memcmp(a->opts, b->opts, a->opts_len));
}

/* The qdisc with handle on ifindex, from a fresh dump (put it), or NULL. */
static struct rtnl_qdisc *find_qdisc(struct nl_sock *sk, int ifindex, uint32_t handle)
{
	_cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;

	if (rtnl_qdisc_alloc_cache(sk, &cache) < 0)
		return NULL;
	return rtnl_qdisc_get(cache, ifindex, handle);
}

/* What the kernel accepted, read back. */
static void read_back(struct nl_sock *sk, int ifindex, uint32_t handle, const char *qkind,
		      json_t *out)
{
	struct rtnl_qdisc *q = find_qdisc(sk, ifindex, handle);

	if (!q)
		return;
	if (!strcmp(qkind, "tbf")) {
		json_object_set_new(out, "rate_bytes_per_s",
				    json_integer(rtnl_qdisc_tbf_get_rate(q)));
		json_object_set_new(out, "burst_bytes",
				    json_integer(rtnl_qdisc_tbf_get_rate_bucket(q)));
		json_object_set_new(out, "limit_bytes", json_integer(rtnl_qdisc_tbf_get_limit(q)));
	} else {
		json_object_set_new(out, "delay_us", json_integer(rtnl_netem_get_delay(q)));
		json_object_set_new(out, "jitter_us", json_integer(rtnl_netem_get_jitter(q)));
		json_object_set_new(
			out, "delay_correlation_percent",
			json_real(fl_nm_u32_to_percent((uint32_t)rtnl_netem_get_delay_correlation(q))));
		json_object_set_new(out, "loss_percent",
				    json_real(fl_nm_u32_to_percent((uint32_t)rtnl_netem_get_loss(q))));
		json_object_set_new(
			out, "corrupt_percent",
			json_real(fl_nm_u32_to_percent(
				(uint32_t)rtnl_netem_get_corruption_probability(q))));
		json_object_set_new(
			out, "duplicate_percent",
			json_real(fl_nm_u32_to_percent((uint32_t)rtnl_netem_get_duplicate(q))));
		json_object_set_new(
			out, "reorder_percent",
			json_real(fl_nm_u32_to_percent(
				(uint32_t)rtnl_netem_get_reorder_probability(q))));
		json_object_set_new(out, "gap", json_integer(rtnl_netem_get_gap(q)));
		json_object_set_new(out, "limit_packets", json_integer(rtnl_netem_get_limit(q)));
	}
	rtnl_qdisc_put(q);
}

static int revert_one(json_t *o, char **ret_reason);

/* The classful tree, then the classifier: the fault starts when the filter is attached. */
static int apply_classful(const struct fl_fault *f, json_t *o, struct nl_sock *sk,
			  struct fl_nl_ack *ack, int ifindex, struct fl_inject_ctx *ctx,
			  json_t *injected)
{
	const struct fl_netem_params *np = f->priv;
	struct nc_config c = { .classid = FL_NM_FAULT_CLASS };
	uint32_t prog_id = 0;
	int r;

	c.match.expiry_boot_ns = fl_boottime_ns() + f->for_ns + FL_LEASE_GRACE_NS;
	if (fl_netmatch_config(o, &c.match) < 0)
		return fl_set_reason(&ctx->reason, -EINVAL, "malformed match in the plan");
	/* sk lives in the device's namespace; a BPF program belongs to none */
	r = add_tree(sk, ack, np, ifindex, &ctx->reason);
	if (r == 0)
		r = attach_classifier(sk, ack, ifindex, &c, &prog_id, &ctx->reason);
	if (r < 0) {
		_cleanup_free_ char *why = NULL;
		if (revert_one(o, &why) < 0)
			log_error("fault '%s': undoing the half-built qdiscs on '%s' failed: %s",
				  f->name, np->dev, why ? why : "?");
		return r;
	}
	json_object_set_new(injected, "classifier_prog_id", json_integer(prog_id));
	json_object_set_new(injected, "expires_boot_ns",
			    json_integer((json_int_t)c.match.expiry_boot_ns));
	json_object_set_new(injected, "exclude", json_deep_copy(json_object_get(o, "exclude")));
	return 0;
}

static int nm_apply(const struct fl_fault *f, json_t *objects, struct fl_inject_ctx *ctx,
		    json_t *injected)
{
	const struct fl_netem_params *np = f->priv;
	json_t *o = json_array_get(objects, 0);
	_cleanup_(fl_nl_socket_freep) struct nl_sock *sk = NULL;
	_cleanup_(fl_qdisc_snap_clear) struct fl_qdisc_snap planned = {}, now = {};
	const char *qkind = qkind_of(np->kind);
	struct rtnl_qdisc *q = NULL;
	struct fl_nl_ack ack = {};
	char msg[400], h[24];
	bool classful;
	json_t *acc;
	int ifindex, r;

	if (!o || fl_qdisc_snap_from_json(json_object_get(o, "previous"), &planned) < 0)
		return -EINVAL;
	classful = !strcmp(json_string_value(json_object_get(o, "mode")) ?: "", "classful");
	r = nl_open_in(f->target.netns, np->dev, &ack, &sk, &ifindex);
	if (r < 0)
		return open_reason(r, f->target.netns, np->dev, &ctx->reason);
	if (ifindex != json_integer_value(json_object_get(o, "ifindex"))) {
		set_reason(&ctx->reason, "device '%s' was replaced since the plan", np->dev);
		return -ESTALE;
	}
	r = snapshot_root(sk, ifindex, &now);
	if (r < 0) {
		set_reason(&ctx->reason, "cannot read the qdiscs of '%s': %s", np->dev, strerror(-r));
		return r;
	}
	if (!same_snap(&planned, &now)) {
		set_reason(&ctx->reason,
			   "the root qdisc of '%s' changed since the plan (was %s %s, now %s %s): "
			   "not replacing it",
			   np->dev, planned.kind, fmt_handle(planned.handle, h, sizeof(h)), now.kind,
			   fmt_handle(now.handle, msg, sizeof(msg)));
		return -ESTALE;
	}
	if (classful) {
		r = apply_classful(f, o, sk, &ack, ifindex, ctx, injected);
	} else {
		r = fl_netem_build_qdisc(np, ifindex, TC_H_ROOT, FL_QDISC_HANDLE, &q, &ctx->reason);
		if (r == 0)
			r = add_one(sk, &ack, q, NLM_F_CREATE | NLM_F_REPLACE, &ctx->reason);
	}
	if (r < 0)
		return r == -ENOENT ? -EOPNOTSUPP : r;
	json_object_set_new(injected, "qdisc", json_string(qkind));
	json_object_set_new(injected, "mode", json_string(classful ? "classful" : "root"));
	json_object_set_new(injected, "handle",
			    json_string(fmt_handle(classful ? FL_NM_FAULT_HANDLE : FL_QDISC_HANDLE,
						   h, sizeof(h))));
	json_object_set_new(injected, "dev", json_string(np->dev));
	if (f->target.netns)
		json_object_set_new(injected, "netns", json_string(f->target.netns));
	json_object_set_new(injected, "replaced",
			    json_sprintf("%s %s%s", planned.kind,
					 fmt_handle(planned.handle, h, sizeof(h)),
					 planned.is_default ? " (kernel default)" : ""));
	acc = json_object();
	if (acc) {
		read_back(sk, ifindex, classful ? FL_NM_FAULT_HANDLE : FL_QDISC_HANDLE, qkind, acc);
		json_object_set_new(injected, "accepted", acc);
	}
	return 0;
}

/* Sum over the CPUs of each counter of a per-CPU array map, into sum[0..n). */
static int percpu_sums(int map_fd, unsigned n, long long *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	_cleanup_free_ uint64_t *v = NULL;

	if (ncpu <= 0 || !(v = calloc((size_t)ncpu, sizeof(*v))))
		return -ENOMEM;
	for (uint32_t k = 0; k < n; k++) {
		sum[k] = 0;
		if (bpf_map_lookup_elem(map_fd, &k, v) < 0)
			return -errno;
		for (int i = 0; i < ncpu; i++)
			sum[k] += (long long)v[i];
	}
	return 0;
}

/* The classifier's counters, through the program our filter on fa17: holds. */
static int classifier_counters(int ifindex, long long sum[NC_N_COUNTERS])
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_CUSTOM,
			    .parent = FL_QDISC_HANDLE);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, q, .handle = FL_NM_FILTER_HANDLE,
			    .priority = FL_TC_PRIORITY);
	struct bpf_prog_info info = {};
	uint32_t ids[8], len = sizeof(info);
	_cleanup_close_ int pfd = -1;
	int r;

	r = bpf_tc_query(&hook, &q);
	if (r < 0)
		return r;
	pfd = bpf_prog_get_fd_by_id(q.prog_id);
	if (pfd < 0)
		return -errno;
	info.nr_map_ids = ARRAY_SIZE(ids);
	info.map_ids = (uint64_t)(uintptr_t)ids;
	if (bpf_obj_get_info_by_fd(pfd, &info, &len) < 0)
		return -errno;
	if (strcmp(info.name, "netclass") != 0)
		return -ENOENT; /* not ours */
	for (uint32_t i = 0; i < info.nr_map_ids && i < ARRAY_SIZE(ids); i++) {
		struct bpf_map_info mi = {};
		uint32_t mlen = sizeof(mi);
		_cleanup_close_ int mfd = bpf_map_get_fd_by_id(ids[i]);

		if (mfd >= 0 && bpf_obj_get_info_by_fd(mfd, &mi, &mlen) == 0 &&
		    !strcmp(mi.name, "counters"))
			return percpu_sums(mfd, NC_N_COUNTERS, sum);
	}
	return -ENOENT;
}

/* Packets the classifier saw and matched, next to what the netem or tbf qdisc itself did. */
static int nm_observe(json_t *objects, json_t *observed)
{
	json_t *o = json_array_get(objects, 0);
	const char *netns = json_string_value(json_object_get(o, "netns"));
	const char *dev = json_string_value(json_object_get(o, "dev"));
	const char *mode = json_string_value(json_object_get(o, "mode"));
	bool classful = mode && !strcmp(mode, "classful");
	_cleanup_(fl_nl_socket_freep) struct nl_sock *sk = NULL;
	long long sum[NC_N_COUNTERS];
	struct fl_nl_ack ack = {};
	struct rtnl_qdisc *q;
	int ifindex, old = -1, r;

	if (!dev)
		return -EINVAL;
	r = nl_open_in(netns, dev, &ack, &sk, &ifindex);
	if (r < 0)
		return r;
	q = find_qdisc(sk, ifindex, classful ? FL_NM_FAULT_HANDLE : FL_QDISC_HANDLE);
	if (q) {
		json_object_set_new(
			observed, "qdisc",
			json_pack("{s:s, s:I, s:I, s:I, s:I}", "kind", rtnl_tc_get_kind(TC_CAST(q)),
				  "packets_sent",
				  (json_int_t)rtnl_tc_get_stat(TC_CAST(q), RTNL_TC_PACKETS),
				  "bytes_sent",
				  (json_int_t)rtnl_tc_get_stat(TC_CAST(q), RTNL_TC_BYTES), "drops",
				  (json_int_t)rtnl_tc_get_stat(TC_CAST(q), RTNL_TC_DROPS),
				  "overlimits",
				  (json_int_t)rtnl_tc_get_stat(TC_CAST(q), RTNL_TC_OVERLIMITS)));
		rtnl_qdisc_put(q);
	}
	if (!classful)
		return q ? 0 : -ENOENT;
	r = fl_netns_enter(netns, &old);
	if (r == 0)
		r = classifier_counters(ifindex, sum);
	fl_netns_leave(old);
	if (r < 0)
		return q ? 0 : r;
	json_object_set_new(observed, "packets_seen", json_integer(sum[NC_SEEN]));
	json_object_set_new(observed, "packets_matched", json_integer(sum[NC_MATCHED]));
	json_object_set_new(observed, "packets_after_ttl", json_integer(sum[NC_EXPIRED]));
	return 0;
}

static int revert_one(json_t *o, char **ret_reason)
{
	const char *type = json_string_value(json_object_get(o, "type"));
	const char *netns = json_string_value(json_object_get(o, "netns"));
	const char *dev = json_string_value(json_object_get(o, "dev"));
	const char *kind = json_string_value(json_object_get(o, "kind"));
	json_int_t handle = json_integer_value(json_object_get(o, "handle"));
	_cleanup_(fl_nl_socket_freep) struct nl_sock *sk = NULL;
	_cleanup_(fl_qdisc_snap_clear) struct fl_qdisc_snap prev = {}, now = {};
	struct fl_nl_ack ack = {};
	char msg[400], h[24];
	int ifindex, r;

	if (!type || strcmp(type, "qdisc") != 0)
		return 0; /* only qdisc objects are planned; nothing else is ours to undo */

	if (!dev || !kind || fl_qdisc_snap_from_json(json_object_get(o, "previous"), &prev) < 0) {
		set_reason(ret_reason, "malformed qdisc record in the journal");
		return -EINVAL;
	}
	r = nl_open_in(netns, dev, &ack, &sk, &ifindex);
	if (r == -ENOENT || r == -ENODEV)
		return 0; /* the namespace or the device is gone, and our qdisc with it */
	if (r < 0)
		return open_reason(r, netns, dev, ret_reason);
	r = snapshot_root(sk, ifindex, &now);
	if (r < 0) {
		set_reason(ret_reason, "cannot read the qdiscs of '%s': %s", dev, strerror(-r));
		return r;
	}
	if (now.handle != (uint32_t)handle || strcmp(now.kind, kind) != 0)
		return 0; /* not ours (any more): never touch it */
	if (prev.is_default) {
		r = qdisc_request(sk, &ack, RTM_DELQDISC, 0, ifindex, (uint32_t)handle, NULL, NULL, 0);
		if (r == -ENOENT || r == -EINVAL)
			return 0;
		if (r < 0) {
			fl_netem_explain(kind, r, ack.msg, msg, sizeof(msg));
			set_reason(ret_reason, "cannot delete our %s qdisc on '%s': %s", kind, dev, msg);
		}
		return r;
	}
	r = qdisc_request(sk, &ack, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE, ifindex,
			  prev.handle, prev.kind, prev.opts, prev.opts_len);
	if (r == 0)
		return 0;
	fl_netem_explain(prev.kind, r, ack.msg, msg, sizeof(msg));
	/* the fault must end anyway: take ours away, the kernel's default comes back */
	(void)qdisc_request(sk, &ack, RTM_DELQDISC, 0, ifindex, (uint32_t)handle, NULL, NULL, 0);
	set_reason(ret_reason,
		   "could not restore the root qdisc %s %s on '%s' (%s); removed the fault, the "
		   "kernel's default qdisc is in place",
		   prev.kind, fmt_handle(prev.handle, h, sizeof(h)), dev, msg);
	return r;
}

static int nm_revert(json_t *objects, char **ret_reason)
{
	return fl_revert_each(objects, revert_one, ret_reason);
}

static int nm_describe(const struct fl_fault *f, char *buf, size_t len)
{
	const struct fl_netem_params *np = f->priv;
	char a[32], b[32], w[96];
	size_t off = 0;

	if (!np)
		return -EINVAL;
#define PUT(...)                                                                                   \
	do {                                                                                       \
		int _n = snprintf(buf + off, off < len ? len - off : 0, __VA_ARGS__);              \
		if (_n > 0)                                                                        \
			off += (size_t)_n;                                                         \
	} while (0)
	switch (np->kind) {
	case FL_NM_LATENCY:
		PUT("netem delay %s", fl_format_duration(np->delay_ns, a, sizeof(a)));
		if (np->jitter_ns)
			PUT(" jitter %s", fl_format_duration(np->jitter_ns, b, sizeof(b)));
		if (np->delay_corr > 0)
			PUT(" correlation %g%%", np->delay_corr);
		if (np->dist != FL_NM_DIST_NONE)
			PUT(" distribution %s", dist_names[np->dist]);
		break;
	case FL_NM_LOSS:
		PUT("netem loss %g%%", np->percent);
		if (np->corr > 0)
			PUT(" correlation %g%%", np->corr);
		break;
	case FL_NM_CORRUPT:
		PUT("netem corrupt %g%%", np->percent);
		break;
	case FL_NM_DUPLICATE:
		PUT("netem duplicate %g%%", np->percent);
		break;
	case FL_NM_REORDER:
		PUT("netem reorder %g%% gap %u delay %s", np->percent, np->gap,
		    fl_format_duration(np->delay_ns, a, sizeof(a)));
		break;
	case FL_NM_BANDWIDTH:
		PUT("tbf rate %s burst %u limit %u", fmt_rate(np->rate, a, sizeof(a)), np->burst,
		    np->limit);
		break;
	}
	PUT(" on %s egress", np->dev ? np->dev : "?");
	if (f->on)
		PUT(" of lab host '%s'", f->on);
	else if (f->target.netns)
		PUT(" in %s", where_of(f->target.netns, w, sizeof(w)));
	if (np->filtered || np->spec.n_exclude) {
		struct fl_netspec s = np->spec;
		char spec[256], *dir;

		/* "tcp dport 9000 egress (never ports 22)": the direction is said already */
		s.dev = NULL;
		fl_netspec_describe(&s, spec, sizeof(spec));
		dir = strstr(spec, "egress");
		if (dir) {
			char *from = dir + strlen("egress");
			if (dir > spec && dir[-1] == ' ')
				dir--;
			else if (*from == ' ')
				from++;
			memmove(dir, from, strlen(from) + 1);
		}
		PUT(np->filtered ? ", only %s" : " %s", spec);
	}
#undef PUT
	return 0;
}

#define NET_KEYS "dev", "direction", "src", "dst", "proto", "sport", "dport", "cgroup", "peer", "exclude"

#define NETEM_BACKEND(var, kindname, bname, sum, parsefn, ...)                \
	const struct fl_backend var = {                                       \
		.kind = kindname,                                             \
		.name = bname,                                                \
		.summary = sum,                                               \
		.keys = (const char *const[]){ NET_KEYS, __VA_ARGS__, NULL }, \
		.needs_target = false,                                        \
		.reversible = true,                                           \
		.parse = parsefn,                                             \
		.free_priv = params_free,                                     \
		.probe = nm_probe,                                            \
		.plan = nm_plan,                                              \
		.apply = nm_apply,                                            \
		.revert = nm_revert,                                          \
		.observe = nm_observe,                                        \
		.describe = nm_describe,                                      \
	}

NETEM_BACKEND(fl_backend_latency_netem, "latency", "netem",
	      "delay a device's egress with a netem root qdisc (libnl-route)", latency_parse,
	      "delay", "jitter", "correlation", "distribution");
NETEM_BACKEND(fl_backend_loss_netem, "loss", "netem",
	      "drop a share of a device's egress with a netem root qdisc", loss_parse, "percent",
	      "correlation");
NETEM_BACKEND(fl_backend_corrupt_netem, "corrupt", "netem",
	      "corrupt a share of a device's egress with a netem root qdisc", corrupt_parse,
	      "percent");
NETEM_BACKEND(fl_backend_duplicate_netem, "duplicate", "netem",
	      "duplicate a share of a device's egress with a netem root qdisc", duplicate_parse,
	      "percent");
NETEM_BACKEND(fl_backend_reorder_netem, "reorder", "netem",
	      "reorder a share of a device's egress with a netem root qdisc", reorder_parse,
	      "percent", "gap", "delay", "correlation");
NETEM_BACKEND(fl_backend_bandwidth_tbf, "bandwidth", "tbf",
	      "limit a device's egress rate with a tbf root qdisc (libnl-route)", bandwidth_parse,
	      "rate", "burst", "limit");

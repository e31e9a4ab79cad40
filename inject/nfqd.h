/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * faultline-nfqd: the NFQUEUE delay daemon behind the nfqueue latency backend, and the pieces
 * of it the unit tests exercise (the release-time heap, the delay sampler, the histogram, the
 * fail-open config request, the iptables-restore lines of a rule).
 */
#ifndef FL_NFQD_H
#define FL_NFQD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* --- the heap: queued packet ids by release time (CLOCK_MONOTONIC ns) ----------------------- */

struct nfqd_item {
	uint64_t due;	  /* release time */
	uint64_t arrival; /* when the packet reached us */
	uint32_t id;	  /* the kernel's packet id */
};

struct nfqd_heap {
	struct nfqd_item *v;
	size_t n, cap;
};

int nfqd_heap_push(struct nfqd_heap *h, const struct nfqd_item *it);
/* The earliest item, or NULL when empty. */
const struct nfqd_item *nfqd_heap_top(const struct nfqd_heap *h);
/* Remove the earliest into *ret; false when empty. */
bool nfqd_heap_pop(struct nfqd_heap *h, struct nfqd_item *ret);
void nfqd_heap_free(struct nfqd_heap *h);

/* --- the sampler: netem's delay semantics ------------------------------------------------- */

struct nfqd_sampler {
	uint64_t delay_ns, jitter_ns;
	uint32_t corr;	      /* correlation, netem's u32 scale (UINT32_MAX = 100%) */
	const int16_t *table; /* iproute2 distribution (normal, pareto), NULL: uniform */
	size_t n_table;
	uint64_t rng;  /* splitmix64 state */
	uint32_t last; /* the previous random value, for the correlation */
};

/*
 * One delay in ns, as netem's tabledist(): without jitter, delay; uniform, delay +- jitter;
 * with a table, table[rnd % n] * jitter / 8192 + delay (NETEM_DIST_SCALE). A correlation mixes
 * each random value with the previous one (netem's get_crandom). Never negative.
 */
uint64_t nfqd_sample(struct nfqd_sampler *s);

/* --- the histogram of applied delays (us), log-linear: exact below 1024 us, then 1/512 ------- */

#define NFQD_HIST_SUB 512
#define NFQD_HIST_BUCKETS (1024 + 40 * NFQD_HIST_SUB)

struct nfqd_hist {
	uint64_t count, sum_us, max_us;
	uint32_t b[NFQD_HIST_BUCKETS];
};

void nfqd_hist_add(struct nfqd_hist *h, uint64_t us);
/* Nearest-rank percentile (0 < q <= 1) in us, the bucket's middle; 0 when empty. */
uint64_t nfqd_hist_quantile(const struct nfqd_hist *h, double q);

/*
 * The stats file (written atomically at start, on SIGUSR1 and at the lease), one JSON object:
 *   {"seq": N, "packets": delayed packets released, "held": still queued, "p50_us", "p90_us",
 *    "p99_us", "max_us", "mean_us": applied delay (verdict time - arrival), "queue_dropped",
 *    "user_dropped": the kernel's counters for our queue (/proc/net/netfilter/nfnetlink_queue),
 *    "enobufs": socket overflows seen, "verdict_errors": verdicts the kernel refused}
 * seq grows with each write, so a reader knows a fresh one from an old one.
 */
json_t *nfqd_stats_json(const struct nfqd_hist *h, uint64_t seq, uint64_t held,
			long long queue_dropped, long long user_dropped, uint64_t enobufs,
			uint64_t verdict_errors);

/* --- the queue config request: bind with copy mode meta, maxlen, fail-open ------------------ */

struct nl_msg;
/* NFQNL_MSG_CONFIG for queue: libnl's create request (bind, copy meta, maxlen) plus
 * NFQA_CFG_MASK/NFQA_CFG_FLAGS = FAIL_OPEN | GSO (libnl-nf 3.7 has no setter for them). */
int nfqd_build_config(uint16_t queue, uint32_t maxlen, struct nl_msg **ret);

/* --- the daemon ---------------------------------------------------------------------------- */

struct nfqd_config {
	const char *netns; /* /run/netns/NAME, NULL: ours */
	uint16_t queue;
	uint64_t delay_ns, jitter_ns;
	double corr_pct;
	const int16_t *table; /* distribution table or NULL (uniform) */
	size_t n_table;
	uint64_t seed;
	uint64_t lease_boot_ns; /* CLOCK_BOOTTIME: exit by itself then */
	const char *pidfile;	/* "PID STARTTIME\n", written before binding */
	const char *statsfile;
};

/*
 * Start the daemon (forked, own session, "faultline-nfqd") and wait until its queue is bound.
 * It is our child until we exit (then init's): stopping it, call fl_daemon_reap() once it is
 * dead (inject/daemon.h: fl_daemon_pidfd() finds it by its pidfile).
 * 0 with *ret_pid, or a negative errno with *ret_reason (the daemon's own words).
 */
int nfqd_spawn(const struct nfqd_config *c, pid_t *ret_pid, char **ret_reason);

/* --- iptables-restore lines (shared with the backend, tested in test_nfqd.c) ---------------- */

struct nfq_rule_spec {
	bool ipv6;
	const char *chain; /* our own chain: "FL-xxxxxxxx" */
	/* up to two jumps (direction both): PREROUTING, POSTROUTING, FORWARD, each with its
	 * device match "-i", "-o", "--physdev-in", "--physdev-out"; NULL: none */
	const char *parent[2];
	const char *iface_opt[2];
	const char *iface;
	uint8_t proto;	       /* IPPROTO_*, 0: any */
	const char *src, *dst; /* "addr/prefix" of this family, or NULL */
	uint16_t sport_lo, sport_hi, dport_lo, dport_hi;
	bool symmetric;		 /* also the reverse direction (a peer) */
	const char *cgroup;	 /* a cgroup v2 path (egress only) */
	const uint16_t *exclude; /* ports that never enter the queue */
	size_t n_exclude;
	uint16_t queue;
	const char *comment; /* "faultline:RUN:HANDLE" */
};

/*
 * The rules of one family as iptables-restore lines for the mangle table, in order: our chain,
 * its RETURN rules for excluded ports, its NFQUEUE rules, the jumps from the parent chains at
 * position 1. Every rule carries the comment. Returns a NULL-terminated string vector.
 */
int nfq_rule_lines(const struct nfq_rule_spec *s, char ***ret);
/* Append a formatted string to a string vector. */
int nfq_strv_pushf(char ***v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The lines that undo them: -D each rule (jump first), then -X the chain. */
int nfq_rule_undo_lines(char *const *apply, char ***ret);

#endif

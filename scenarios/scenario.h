/* SPDX-License-Identifier: GPL-2.0-only */
/* The scenario model: what a scenario file (or a CLI `inject`) asks for, fully validated. */
#ifndef FL_SCENARIO_H
#define FL_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "scenarios/diag.h"

/* Limits on everything a user controls (documented in README.md, "Limits"). */
#define FL_MAX_FILE_SIZE (1u << 20) /* 1 MiB scenario file */
#define FL_MAX_HOSTS 128	    /* lab hosts: 198.18.0.10-137 */
#define FL_MAX_PROBES 32
#define FL_MAX_FAULTS 64
#define FL_MAX_STOPS 16
#define FL_MAX_VERIFY 16	    /* verify steps */
#define FL_MAX_ARGS 64		    /* argv entries of a command */
#define FL_MAX_ARG_LEN 4096
#define FL_HOST_NAME_MAX 12	    /* lab host names: [a-z0-9-], they become netns/cgroup names */
#define FL_NAME_MAX 63		    /* scenario, probe and fault names */
#define FL_MAX_COUNT 1024	    /* processes one fault may target */
#define FL_EVERY_MIN (10 * NSEC_PER_MSEC) /* fastest probe interval */
#define FL_INTERVAL_MIN (100 * NSEC_PER_MSEC) /* fastest repeated kill */
#define FL_TIMEOUT_MAX (60 * NSEC_PER_SEC)    /* probe and readiness timeouts */
#define FL_EXPERIMENT_MAX (24ULL * 3600 * NSEC_PER_SEC) /* at + for of any fault */

enum fl_restart {
	FL_RESTART_NO,
	FL_RESTART_ON_FAILURE,
	FL_RESTART_ALWAYS,
};

struct fl_lab_host {
	char *name;		   /* [a-z0-9-], 1..FL_HOST_NAME_MAX */
	char **run;		   /* argv of the host's service; NULL for an idle host */
	char **env;		   /* extra "KEY=value" entries */
	enum fl_restart restart;   /* what the lab does when the service exits */
	uint64_t restart_delay_ns; /* default 200ms */
	uint16_t ready_port;	   /* the lab is up when this TCP port accepts; 0: process started */
	uint64_t ready_timeout_ns; /* default 10s */
	struct fl_where where;
};

struct fl_lab {
	struct fl_lab_host *hosts;
	size_t n_hosts;
	struct fl_where where;
};

enum fl_probe_kind {
	FL_PROBE_TCP,
	FL_PROBE_EXEC,
	FL_PROBE_HTTP,
	FL_PROBE_PROMETHEUS,
};

struct fl_http_spec; /* scenarios/probespec.h */

/* What a probe must show in a phase. success_rate: at least (fraction); latencies: at most. */
enum fl_metric {
	FL_M_SUCCESS,
	FL_M_P50,
	FL_M_P90,
	FL_M_P95,
	FL_M_P99,
	FL_M_MAX,
	FL_N_METRICS,
};

#define FL_N_EXPECT_PHASES 3 /* baseline, faults, recovery: the order of enum fl_phase */

extern const char *const fl_metric_names[FL_N_METRICS]; /* "success_rate", "latency_p50", ... */

struct fl_expect {
	bool set[FL_N_METRICS];
	double threshold[FL_N_METRICS]; /* success: fraction; latency: seconds */
	double tolerance; /* slack: success may be lower by this much (absolute), latency higher by
			     this fraction */
};

struct fl_probe {
	char *name;
	enum fl_probe_kind kind;
	char *from;	      /* lab host the probe runs in; NULL: the lab's switch, or this host */
	bool from_remote;     /* `from` names a remote host (`hosts:`): its agent runs the probe */
	char *host;	      /* tcp: lab host name, IPv4/IPv6 literal or name */
	uint16_t port;	      /* tcp */
	char **argv;	      /* exec */
	struct fl_http_spec *http; /* http, prometheus */
	uint64_t every_ns;    /* default 500ms, >= FL_EVERY_MIN */
	uint64_t timeout_ns;  /* default 1s, <= FL_TIMEOUT_MAX */
	double success_rate;  /* expect.success_rate for the baseline, default 1.0 */
	struct fl_expect expect[FL_N_EXPECT_PHASES];
	struct fl_where where;
};

/* Which processes a process fault acts on. All set filters must match. */
struct fl_target {
	pid_t pid;     /* 0: unset */
	char *name;    /* exact comm (or argv[0] basename) */
	char *cmdline; /* POSIX extended regex over the space-joined cmdline */
	char *cgroup;  /* cgroup v2 path, e.g. /system.slice/redis.service (subtree) */
	char *netns;   /* a named network namespace (ip netns), set by `on:` for lab hosts */
	char *exec;    /* a command faultline launches (seccomp faults), as one display line */
	bool pick_random;
	uint32_t count; /* 0: every match (or 1 with pick_random) */
	struct fl_where where;
};

struct fl_backend;
struct fl_selector; /* scenarios/hosts.h */
struct fl_hosts;

struct fl_fault {
	char *name;
	char *kind;
	const struct fl_backend *backend;
	bool backend_explicit; /* `backend:` given: no automatic choice at preflight */
	char *on; /* lab host; NULL: this host */
	struct fl_selector *sel; /* remote hosts (`hosts:`) the fault is applied on; NULL: none */
	struct fl_target target;
	uint64_t at_ns;	    /* from the start of the fault phase (after the baseline) */
	uint64_t for_ns;    /* how long the fault lasts; kill: how long it repeats */
	uint64_t repeat_ns; /* re-apply every repeat_ns while active (kill `interval`); 0: once */
	void *priv;	    /* the backend's parsed parameters */
	struct fl_params params; /* what was asked, verbatim, for the journal and the report */
	struct fl_where where;
};

struct fl_stop {
	char *probe;
	uint64_t failing_for_ns; /* failing continuously this long; or: */
	double error_rate;	 /* more than this share of failed samples ... */
	uint64_t window_ns;	 /* ... within the last window (error_rate > 0 selects this) */
	struct fl_where where;
};

/*
 * A check run once after the recovery window, before the lab goes down: a command whose exit
 * status must be 0 and whose `key=value` lines on stdout become named figures in the result.
 */
struct fl_verify {
	char *name;
	char **argv;
	char *from;	     /* lab host it runs in; NULL: the lab's switch, or this host */
	uint64_t timeout_ns; /* default 30s */
	struct fl_where where;
};

struct fl_scenario {
	char *file; /* as given */
	char *dir;  /* directory of the file: services and exec probes run there */
	unsigned version;
	char *name;
	char *description;
	uint64_t seed;
	bool seed_set;
	struct fl_lab *lab; /* NULL: faults act on this host */
	struct fl_hosts *hosts; /* remote hosts and the fan-out policy; NULL: none */
	uint64_t baseline_ns; /* steady_state.baseline, default 2s */
	struct fl_probe *probes;
	size_t n_probes;
	struct fl_fault *faults;
	size_t n_faults;
	struct fl_stop *stops;
	size_t n_stops;
	uint64_t recovery_within_ns;     /* default 30s */
	uint64_t recovery_healthy_for_ns; /* sustained healthy window, default 1s */
	struct fl_verify *verify;	  /* after the recovery window, in order */
	size_t n_verify;
};

/*
 * Load and validate a scenario. On invalid input returns -EINVAL with every problem in errs
 * ("file:line:col: message"); -errno when the file cannot be read (also described in errs).
 * Nothing on the host is touched.
 */
int fl_scenario_load_file(const char *path, struct fl_scenario **ret, struct fl_errors *errs);
int fl_scenario_load_string(const char *name, const char *buf, size_t len,
			    struct fl_scenario **ret, struct fl_errors *errs);
struct fl_scenario *fl_scenario_free(struct fl_scenario *s);

/*
 * The one fault validator, shared by the YAML loader and `faultline inject`: turns a flat
 * parameter list (keys: name, kind, on, at, for, target.pid, target.name, target.cmdline,
 * target.cgroup, target.netns, target.pick, target.count, and the backend's own keys) into f.
 * Unknown keys are errors with a "did you mean". `lab` may be NULL (no lab: `on` is an error
 * unless "local"). Returns 0 or -EINVAL with errs filled.
 */
int fl_fault_from_params(const struct fl_params *p, const struct fl_lab *lab, struct fl_fault *f,
			 struct fl_errors *errs);
void fl_fault_clear(struct fl_fault *f);

const struct fl_lab_host *fl_lab_find_host(const struct fl_lab *lab, const char *name);
const struct fl_probe *fl_scenario_find_probe(const struct fl_scenario *s, const char *name);

#endif

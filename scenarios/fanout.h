/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fan-out: one operation of the agent protocol on many remote hosts at once, at most
 * `concurrency` in flight, each bounded by the per-host timeout. One session per host for the
 * whole run (opened by the first call that needs it), so leases are renewed until the end.
 */
#ifndef FL_FANOUT_H
#define FL_FANOUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "scenarios/hosts.h"

struct fl_fleet;

/* One host's part of a fan-out call: host and args in, the rest out. */
struct fl_fanout_job {
	size_t host;	   /* index into hosts->v */
	json_t *args;	   /* borrowed */
	int err;	   /* 0 or a negative errno */
	char *reason;	   /* malloc'd, on error */
	json_t *reply;	   /* owned, on success */
	uint64_t start_ns; /* fl_now_ns() when this host's turn began */
	uint64_t took_ns;  /* connect (if needed) and the call */
};

int fl_fleet_new(const struct fl_hosts *h, struct fl_fleet **ret);
/* Where a lab host is reached: its address, from inside the named network namespace. */
int fl_fleet_set_route(struct fl_fleet *f, size_t host, const char *address, const char *netns);
/* Runs op on every job's host at once (bounded); 0 when every job ran (each has its err). */
int fl_fleet_call(struct fl_fleet *f, const char *op, struct fl_fanout_job *jobs, size_t n);
void fl_fanout_job_clear(struct fl_fanout_job *j);
/* One call to the host named host (a probe `from` it): fl_probe_remote_fn's shape. */
int fl_fleet_call_host(void *fleet, const char *host, json_t *args, json_t **ret_reply,
		       char **ret_reason);
/* Closes every session. */
void fl_fleet_free(struct fl_fleet *f);

#endif

/* --- a fault on remote hosts ------------------------------------------------------------ */

struct fl_fault;

enum fl_rhost_state {
	FL_RH_CHOSEN,	     /* selected, not applied yet */
	FL_RH_APPLIED,
	FL_RH_FAILED,	     /* apply failed (on_host_failure: abort) */
	FL_RH_SKIPPED,	     /* apply failed, skipped (on_host_failure: skip) */
	FL_RH_REVERTED,
	FL_RH_REVERT_FAILED, /* the agent reverts it at lease end */
};

/* One chosen host of a remote fault: what happened there. */
struct fl_rhost {
	size_t host;
	enum fl_rhost_state state;
	char *fault_id;	  /* the agent's id of the applied fault */
	json_t *applied;  /* the agent's apply reply */
	json_t *reverted; /* the agent's revert reply (observed) */
	char *error;
	double apply_at_s, apply_s, revert_at_s, revert_s; /* t0-relative start; duration */
};

extern const char *const fl_rhost_state_names[];

/*
 * Apply fault on every host of v that is not applied yet, all at once; t0 is the run's start
 * (fl_now_ns() clock). Returns the number that failed; with on_host_failure: skip they are
 * marked skipped. *ret_first names the first failure ("host 'web2': why").
 */
size_t fl_rfault_apply(struct fl_fleet *f, const struct fl_fault *fault, struct fl_rhost *v,
		       size_t n, uint64_t t0, char **ret_first);
/* Revert every applied host of v; returns the number whose revert failed. */
size_t fl_rfault_revert(struct fl_fleet *f, struct fl_rhost *v, size_t n, uint64_t t0);
bool fl_rfault_active(const struct fl_rhost *v, size_t n);
json_t *fl_rfault_json(const struct fl_hosts *h, const struct fl_rhost *v, size_t n);
void fl_rfault_clear(struct fl_rhost *v, size_t n);

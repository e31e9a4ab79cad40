/* SPDX-License-Identifier: GPL-2.0-only */
/* The runner: preflight, lab, baseline, fault timeline, revert, recovery, result. */
#ifndef FL_RUNNER_H
#define FL_RUNNER_H

#include <jansson.h>
#include <stdbool.h>

#include "scenarios/scenario.h"

struct fl_run_opts {
	const char *out_dir; /* NULL: ./faultline-out/RUN_ID */
	bool dry_run;	     /* stop after preflight, return the plan */
	const char *kind;    /* journal kind: "run" (default) or "inject" */
	bool detached;	     /* inject --detach: we are the lease keeper, no result file */
	int notify_fd;	     /* >= 0: write "applied\n" or "!reason\n" once, for a waiting parent */
};

struct fl_run_result {
	int exit_code; /* enum fl_exit */
	char *reason;  /* why, when not 0 */
	char *run_id;
	char *result_path; /* result.json, when written */
	json_t *result;	   /* the result, or the plan for a dry run */
};

/* Runs the whole experiment. Every path out (error, signal, stop condition) reverts. */
int fl_run(const struct fl_scenario *s, const struct fl_run_opts *o, struct fl_run_result *res);
void fl_run_result_clear(struct fl_run_result *res);

/* The plan (what would happen), as JSON: used by --dry-run and `inject`. */
json_t *fl_run_plan(const struct fl_scenario *s, uint64_t seed);
void fl_run_print_plan(json_t *plan, FILE *f);

#endif

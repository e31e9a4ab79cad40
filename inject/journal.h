/* SPDX-License-Identifier: GPL-2.0-only */
/* Write-ahead journal of runs, faults and labs, and the recover path that undoes them. */
#ifndef FL_JOURNAL_H
#define FL_JOURNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * Layout, under the state directory (default /var/lib/faultline):
 *   runs/RUN_ID/run.json        the run: id, kind (run|inject|lab), owner pid, scenario, lease
 *   runs/RUN_ID/lock            flock()ed by the owner for as long as it lives
 *   runs/RUN_ID/fault-N.json    one per fault: backend, planned objects, state, lease expiry
 *   runs/RUN_ID/lab.json        the lab: namespaces, cgroups, processes (pid + start time)
 * Every record is written atomically and fsync'd before the kernel is touched.
 */

struct fl_journal;

#define FL_STATE_DIR_DEFAULT "/var/lib/faultline"

/* --state-dir wins over $FAULTLINE_STATE_DIR, which wins over the default. */
void fl_state_dir_set(const char *dir);
const char *fl_state_dir(void);
/* Create the state dir (0700) and check it is writable; a clear error in *ret_reason. */
int fl_state_dir_prepare(char **ret_reason);

/* Start a run record owned (and locked) by this process. */
int fl_journal_create(const char *run_id, const char *kind, const char *scenario,
		      const char *name, struct fl_journal **ret);
struct fl_journal *fl_journal_close(struct fl_journal *j); /* keeps the records */
/* Everything reverted: delete the run's records. */
int fl_journal_finish(struct fl_journal *j);
const char *fl_journal_dir(const struct fl_journal *j);
const char *fl_journal_run_id(const struct fl_journal *j);
/* Update a top-level key of run.json (e.g. "lease_expiry", "owner"). */
int fl_journal_set_run(struct fl_journal *j, const char *key, json_t *value /* stolen */);

/* A fault record: written (state "planned") before apply; lease_expiry is CLOCK_REALTIME ns. */
int fl_journal_fault_plan(struct fl_journal *j, const char *fault_id, const char *fault_name,
			  const char *kind, const char *backend, json_t *objects,
			  uint64_t lease_expiry_ns);
/* state: "active", "reverted", "failed"; extra (stolen, may be NULL) is merged in. */
int fl_journal_fault_state(struct fl_journal *j, const char *fault_id, const char *state,
			   json_t *extra);

/* The lab record, rewritten whole whenever it changes (stolen). */
int fl_journal_lab(struct fl_journal *j, json_t *lab);

/* --- reading, for status and recover --- */

struct fl_run_info {
	char *id;
	json_t *run;	/* run.json */
	json_t *faults; /* array of fault records */
	json_t *lab;	/* lab.json or NULL */
	bool alive;	/* the owner still holds the lock */
};

int fl_journal_list(struct fl_run_info **ret, size_t *ret_n);
void fl_run_info_free(struct fl_run_info *v, size_t n);

/*
 * Undo what a run left: revert every fault not yet reverted (through its backend), tear down
 * its lab, then delete its records. A live owner is asked to stop first (SIGTERM) and given
 * `grace_ns` to revert by itself. Idempotent. Errors for individual objects are collected in
 * *ret_report (a JSON array of {object, error}); returns 0 when everything is gone.
 */
int fl_journal_recover(const char *run_or_fault_id, uint64_t grace_ns, json_t **ret_report);

/* Lab teardown from a journal record; implemented by the lab module (inject/lab.c). */
int fl_lab_destroy_recorded(json_t *lab, json_t *report);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* The injector interface: one struct of operations per fault backend, one static registry. */
#ifndef FL_INJECTOR_H
#define FL_INJECTOR_H

#include <jansson.h>

#include "scenarios/scenario.h"

/* What an apply needs to know about where it runs. */
struct fl_inject_ctx {
	const char *run_id;
	const char *fault_id;
	uint64_t *rng;	    /* the run's seeded generator: every random choice comes from here */
	pid_t protect[8];   /* never target these (faultline itself, its lab supervisor) */
	size_t n_protect;
	char *reason;	    /* on failure, a human-readable cause (malloc'd, caller frees) */
};

/*
 * Write-ahead protocol, driven by the runner:
 *   plan()   decides every kernel object the fault will own (pids with start times, ...),
 *            as a JSON array; nothing is touched.
 *   the journal records the plan and fsyncs it.
 *   apply()  touches the kernel for the planned objects; fills `injected` with what it did.
 *   revert() undoes exactly the planned objects; idempotent, "already gone" is success. It
 *            gets nothing but the journal's JSON, so `faultline recover` can call it after a
 *            crash without the scenario.
 * All return 0 or a negative errno, with ctx->reason set for the user when helpful.
 */
struct fl_backend {
	const char *kind;    /* fault kind, as written in scenarios: "kill" */
	const char *name;    /* backend name, recorded in the journal: "pidfd" */
	const char *summary; /* one line for --help and doctor */
	const char *const *keys; /* the kind's own parameter keys, NULL-terminated */
	bool needs_target;	 /* acts on processes: target.* required */
	bool reversible;	 /* has something to undo at the end (stop: yes, kill: no) */

	int (*parse)(struct fl_fault *f, const struct fl_params *p, struct fl_errors *errs);
	void (*free_priv)(void *priv);
	/* Can this host run it at all? 0, or a negative errno with *ret_reason (static). */
	int (*probe)(const struct fl_fault *f, const char **ret_reason);
	int (*plan)(const struct fl_fault *f, struct fl_inject_ctx *ctx, json_t **ret_objects);
	int (*apply)(const struct fl_fault *f, json_t *objects, struct fl_inject_ctx *ctx,
		     json_t *injected);
	int (*revert)(json_t *objects, char **ret_reason);
	/*
	 * Optional: what the fault actually did, read from the kernel just before revert (packets
	 * seen, matched, dropped...), into `observed`, for the result's asked-versus-observed.
	 */
	int (*observe)(json_t *objects, json_t *observed);
	/* "SIGKILL to redis-server in cache" */
	int (*describe)(const struct fl_fault *f, char *buf, size_t len);
};

/* All fault kinds of the design, with the backends in order of preference. */
struct fl_kind_info {
	const char *kind;
	const char *summary;
	const char *const *planned; /* backends of the design, in order of preference */
	const struct fl_backend *const *backends; /* implemented ones, NULL-terminated */
};

const struct fl_backend *fl_backend_find(const char *kind);
const struct fl_backend *fl_backend_find_named(const char *kind, const char *name);
/* The implemented backends of a kind, in order of preference (NULL-terminated), or NULL. */
const struct fl_backend *const *fl_backends_of(const char *kind);
/* Every kind of the design (implemented or not), NULL-terminated array of pointers. */
const struct fl_kind_info *const *fl_kinds(void);
/* Names of the implemented kinds for "did you mean" and --help. */
size_t fl_kind_names(const char **out, size_t max);

/* "SIGTERM", "TERM", "15" */
int fl_parse_signal(const char *s, int *ret);
/* "SIGTERM", or the number for a signal without a name */
const char *fl_signal_name(int sig, char *buf, size_t len);

struct fl_proc;
/* The processes a fault's target keys name (in its lab host's namespace when `on`). */
int fl_fault_targets(const struct fl_fault *f, struct fl_inject_ctx *ctx, struct fl_proc **ret,
		     size_t *ret_n);

extern const struct fl_backend fl_backend_kill;
extern const struct fl_backend fl_backend_stop;
extern const struct fl_backend fl_backend_latency_netem;
extern const struct fl_backend fl_backend_latency_nfq;
extern const struct fl_backend fl_backend_loss_netem;
extern const struct fl_backend fl_backend_corrupt_netem;
extern const struct fl_backend fl_backend_duplicate_netem;
extern const struct fl_backend fl_backend_reorder_netem;
extern const struct fl_backend fl_backend_bandwidth_tbf;
extern const struct fl_backend fl_backend_loss_tc;
extern const struct fl_backend fl_backend_partition_tc;
extern const struct fl_backend fl_backend_corrupt_tc;
extern const struct fl_backend fl_backend_crash_bpf;
/* seccomp, for commands faultline launches (target.exec): after every other backend */
extern const struct fl_backend fl_backend_syscall_seccomp;
extern const struct fl_backend fl_backend_disk_seccomp;
extern const struct fl_backend fl_backend_iolat_seccomp;
extern const struct fl_backend fl_backend_disk_fuse;
extern const struct fl_backend fl_backend_iolat_fuse;
extern const struct fl_backend fl_backend_disk_error_lsm;
/* the same programs as fmod_ret on security_*: where bpf is not an active LSM */
extern const struct fl_backend fl_backend_disk_error_fmodret;

#endif

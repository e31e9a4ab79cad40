/* SPDX-License-Identifier: GPL-2.0-only */
/* Host capability probing for `faultline doctor`, and the backend choice per fault kind. */
#ifndef FL_DOCTOR_H
#define FL_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inject/injector.h"

/*
 * What a host can do, in output order. FL_CAP_NONE (0) ends the requirement lists of the
 * backend table, so every real capability is non-zero.
 */
enum fl_cap_id {
	FL_CAP_NONE = 0,
	FL_CAP_ROOT,
	FL_CAP_SYS_ADMIN,
	FL_CAP_NET_ADMIN,
	FL_CAP_BPF,
	FL_CAP_KERNEL_BTF,
	FL_CAP_BPF_SYSCALL,
	FL_CAP_NETNS,
	FL_CAP_TC_BPF,
	FL_CAP_TCX,
	FL_CAP_NETEM,
	FL_CAP_TBF,
	FL_CAP_NFQUEUE,
	FL_CAP_IPTABLES_NFQUEUE,
	FL_CAP_VETH,
	FL_CAP_BRIDGE,
	FL_CAP_BPF_TRAMPOLINE,
	FL_CAP_BPF_LSM,
	FL_CAP_BPF_LSM_ACTIVE,
	FL_CAP_FMOD_RET_SECURITY,
	FL_CAP_FMOD_RET_SYSCALL,
	FL_CAP_KPROBE_OVERRIDE,
	FL_CAP_TP_BTF_SIGNAL,
	FL_CAP_TRACEPOINT_SIGNAL,
	FL_CAP_UPROBE,
	FL_CAP_SECCOMP_FILTER,
	FL_CAP_SECCOMP_NOTIFY,
	FL_CAP_SECCOMP_SYNC_WAKEUP,
	FL_CAP_DEV_FUSE,
	FL_CAP_FUSERMOUNT,
	FL_CAP_CGROUP2,
	FL_CAP_CGROUP_KILL,
	FL_CAP_PIDFD,
	_FL_CAP_MAX,
};

#define FL_DOCTOR_DETAIL_MAX 320
#define FL_DOCTOR_MAX_BACKENDS 8

struct fl_cap_result {
	bool ok;
	char detail[FL_DOCTOR_DETAIL_MAX]; /* one line: what worked, or why not */
};

struct fl_caps {
	char kernel[65];  /* uname release */
	char machine[65]; /* uname machine */
	uint64_t elapsed_ns;
	struct fl_cap_result cap[_FL_CAP_MAX]; /* indexed by enum fl_cap_id; [0] unused */
};

/* Stable id for output and JSON ("netem", "tc-bpf"), or NULL for an invalid id. */
const char *fl_cap_name(enum fl_cap_id id);
/* Look an id up by name: FL_CAP_NONE when unknown. */
enum fl_cap_id fl_cap_from_name(const char *name);

/* Default time budget for the probes that run in child processes. */
#define FL_DOCTOR_BUDGET_NS (1500ULL * 1000000ULL)

/*
 * Probe this host for real (try-load BPF programs, create qdiscs and links in a scratch
 * network namespace, install seccomp filters in children...). Nothing it creates outlives the
 * call. Never prints: libbpf's output goes to log_debug. Without root the privileged probes
 * are reported as missing with "needs root". budget_ns == 0 picks FL_DOCTOR_BUDGET_NS.
 * Returns 0, or a negative errno only when the probing itself could not run (ENOMEM).
 */
int fl_doctor_probe(struct fl_caps *ret, uint64_t budget_ns);

enum fl_backend_status {
	FL_BACKEND_AVAILABLE,	    /* implemented, and the host has what it needs */
	FL_BACKEND_MISSING,	    /* implemented, but a capability is missing */
	FL_BACKEND_NOT_IMPLEMENTED, /* planned by the design, not in this version */
};

struct fl_backend_report {
	const char *name;
	enum fl_backend_status status;
	bool host_ok; /* the host has every capability the backend needs */
	char detail[2 * FL_DOCTOR_DETAIL_MAX];
};

struct fl_kind_report {
	const char *kind;
	const char *backend; /* what faultline would use, or NULL */
	char reason[1024];
	size_t n_backends;
	struct fl_backend_report backends[FL_DOCTOR_MAX_BACKENDS];
};

/* "available", "missing", "not-implemented" (the JSON values). */
const char *fl_backend_status_name(enum fl_backend_status s);
/* Does doctor's table know what the named backend needs? */
bool fl_doctor_backend_known(const char *name);

/*
 * Pure logic, no probing: given a capability set, pick the backend for one kind (the first
 * planned backend that is implemented and whose capabilities are all present) and explain
 * every planned one. Returns 0 or -E2BIG when the kind has more backends than the report holds.
 */
int fl_doctor_eval_kind(const struct fl_kind_info *k, const struct fl_caps *caps,
			struct fl_kind_report *ret);

#endif

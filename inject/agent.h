/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `faultline agent`: protocol v1 (inject/remote.h) on stdin/stdout (under OpenSSH) or on a
 * mutual-TLS listener. Each applied fault runs in a worker process (fl_run with a notify pipe,
 * like `inject --detach`) that reverts on SIGTERM, when the agent dies (PR_SET_PDEATHSIG) and at
 * the end of its duration; the agent reverts it when its session sends nothing for lease_ms.
 */
#ifndef FL_AGENT_H
#define FL_AGENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define FL_AGENT_MAX_SESSIONS 64
#define FL_AGENT_LEASE_DEFAULT_MS 10000
#define FL_AGENT_LEASE_MIN_MS 100
#define FL_AGENT_LEASE_MAX_MS 3600000
#define FL_AGENT_HANDSHAKE_MS 10000

struct fl_agent_opts {
	bool stdio;	    /* one session on fds 0/1 */
	const char *listen; /* ADDR:PORT, mutual TLS */
	const char *ca, *cert, *key;
	char **allow; /* authorised certificate names (CN or SAN); NULL: any the CA signed */
	const char *stop_file; /* NULL: STATE_DIR/agent.stop */
	unsigned max_sessions; /* 0: FL_AGENT_MAX_SESSIONS */
	bool no_seccomp;       /* skip the agent's own syscall filter (debugging) */
};

/* Runs until SIGTERM/SIGINT (or, with stdio, the session's end and its faults' leases).
 * Returns an enum fl_exit; *ret_reason (malloc'd) says why when not 0. */
int fl_agent_run(const struct fl_agent_opts *o, char **ret_reason);

/* The agent's own syscall filter (inject/agent_seccomp.c): deny what no fault needs. */
int fl_agent_seccomp(char **ret_reason);
/* The denied syscalls, for --help and the tests. */
extern const char *const fl_agent_denied_syscalls[];

/* The probe operation, run in a child of the agent: {"tcp": "HOST:PORT"} or {"http": "URL"},
 * one sample within timeout_ns, through reports/probe*.c. *ret: {"success", "latency_ns",
 * "error"}; -EINVAL with *ret_reason for a bad probe object. */
int fl_agent_probe_once(json_t *probe, uint64_t timeout_ns, json_t **ret, char **ret_reason);

/* Every diagnostic of errs on one line, "; "-separated (malloc'd; NULL on ENOMEM). */
struct fl_errors;
char *fl_agent_errors_text(const struct fl_errors *errs);

/* Convert the "fault" object of an apply into the validator's flat parameters: nested objects
 * flatten to dotted keys ({"target": {"name": "x"}} is "target.name"), scalars to text.
 * -EINVAL with *ret_reason naming the key whose value is not a scalar. */
struct fl_params;
int fl_agent_params(json_t *fault, struct fl_params *p, char ***keep, char **ret_reason);

#endif

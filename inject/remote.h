/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The controller's side of the agent protocol: one connection to one `faultline agent`, over
 * OpenSSH (the agent runs as `faultline agent --stdio` on the far host) or over mutual TLS
 * (a running `faultline agent --listen ADDR:PORT`).
 *
 * Protocol v1 (docs: README "Remote hosts"): every message is a 4-byte big-endian length, then
 * that many bytes of one JSON object (at most FL_REMOTE_MAX_MSG). A request is
 *   {"v": 1, "id": N, "op": "hello"|"apply"|"renew"|"revert"|"status"|"probe"|"heartbeat", ...}
 * and its reply {"v": 1, "id": N, "ok": true, ...} or {"v": 1, "id": N, "ok": false,
 * "error": "why", "exit": E} (E: the exit code a local run would have had, 2 usage/invalid,
 * 3 host cannot run it, 5 internal). The set of operations is closed: there is no operation
 * that runs a command.
 *   hello     {"version": V}                      -> {"version", "agent", "host", "peer"}
 *   apply     {"fault": {KEY: VALUE, ...},          the flat parameters `faultline inject` takes
 *              "lease_ms": L}                      -> {"fault_id", "backend", "injected"}
 *   renew     {"lease_ms": L}                      -> {"faults": N}   every fault of this session
 *   revert    {"fault_id": ID}                     -> {"observed", "reverted": true}
 *   status    {}                                   -> {"faults": [{"fault_id", "kind", ...}]}
 *   probe     {"probe": {"tcp": "HOST:PORT"} | {"http": "URL"}, "timeout_ms": T}
 *                                                  -> {"success", "latency_ns", "error"}
 *   heartbeat {}                                   -> {}
 * A fault's lease is renewed by every message of its session; when none arrives for lease_ms
 * (the controller killed, or cut off), the agent reverts it.
 */
#ifndef FL_REMOTE_H
#define FL_REMOTE_H

#include <jansson.h>
#include <stdint.h>

#define FL_REMOTE_PROTO 1
#define FL_REMOTE_MAX_MSG (1u << 20)

enum fl_transport {
	FL_TRANSPORT_SSH,
	FL_TRANSPORT_AGENT,
};

struct fl_remote_opts {
	enum fl_transport transport;
	const char *address;   /* ssh: [user@]host as ssh takes it; agent: host or IP literal */
	uint16_t port;	       /* ssh: 0 for ssh's default; agent: required */
	const char *ssh_config; /* ssh -F FILE, NULL: the user's own */
	const char *agent_cmd; /* ssh: the remote command, default "faultline agent --stdio" */
	const char *netns;     /* connect from inside this named network namespace (labs) */
	const char *ca, *cert, *key; /* agent: PEM files */
	uint64_t timeout_ns;   /* connect and per-call timeout */
	uint64_t lease_ns;     /* lease asked for each fault; renewed by a heartbeat thread */
};

struct fl_remote;

/* 0, or a negative errno with *ret_reason (malloc'd) naming the host and the cause. */
int fl_remote_connect(const struct fl_remote_opts *o, struct fl_remote **ret, char **ret_reason);
/* One request, one reply (the reply object, caller decrefs; ok:false comes back as -EREMOTEIO
 * with the agent's error in *ret_reason, and the reply, with its "exit", in *ret_reply).
 * Thread-safe. args is borrowed (NULL: none); an apply without "lease_ms" gets the
 * connection's lease_ns. A timeout or an I/O error breaks the connection (-ENOTCONN after). */
int fl_remote_call(struct fl_remote *r, const char *op, json_t *args, json_t **ret_reply,
		   char **ret_reason);
/* Closes the session; the agent reverts what it still holds for it at lease end, or at once
 * when the connection closes cleanly after a "revert" of everything. */
void fl_remote_close(struct fl_remote *r);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* Hermetic labs: one network namespace per host on a bridge in a switch namespace. */
#ifndef FL_LAB_H
#define FL_LAB_H

#include <netinet/in.h>
#include <sys/types.h>

#include "inject/journal.h"
#include "inject/loop.h"
#include "scenarios/scenario.h"

/*
 * A lab for run RUN (12 hex chars):
 *   netns  "fl-RUN-sw"      the switch: bridge "br0", address 198.18.0.1/24 (the observer,
 *                           where probes run by default)
 *   netns  "fl-RUN-HOST"    one per host: "eth0" at 198.18.0.(10+i)/24, lo up, hostname HOST
 *   hosts file              STATE/runs/RUN/hosts, bind-mounted on /etc/hosts for the lab's
 *                           processes (their own mount namespace), so host names resolve
 *   cgroup v2               CG2ROOT/faultline/RUN/HOST holds each host's processes (when a
 *                           cgroup v2 hierarchy is mounted), so teardown reaches every child
 * 198.18.0.0/15 is reserved for benchmarking (RFC 2544): never routed, used only inside these
 * namespaces. Everything is recorded in the journal before it is created.
 */

struct fl_lab_rt;

/*
 * Bring the lab up: namespaces, links, addresses, hosts file, cgroups, processes (cwd = workdir),
 * then wait until every host with a ready_port accepts. On failure everything created so far is
 * removed and *ret_reason says why. When loop is non-NULL the lab supervises its processes there
 * (restart policies); otherwise call fl_lab_attach_loop() later.
 */
int fl_lab_up(const struct fl_lab *spec, const char *run_id, const char *workdir,
	      struct fl_journal *j, struct fl_loop *loop, struct fl_lab_rt **ret, char **ret_reason);
int fl_lab_attach_loop(struct fl_lab_rt *lab, struct fl_loop *loop);
/* Kill every lab process, remove namespaces, cgroups and files. Idempotent; frees lab. */
int fl_lab_down(struct fl_lab_rt *lab);

/* "/run/netns/fl-RUN-HOST", or the switch for host == NULL. */
const char *fl_lab_netns_path(const struct fl_lab_rt *lab, const char *host);
/* "fl-RUN-HOST" (the `ip netns` name). */
const char *fl_lab_netns_name(const struct fl_lab_rt *lab, const char *host);
int fl_lab_host_addr(const struct fl_lab_rt *lab, const char *host, struct in_addr *ret);
/* Pid of the host's service right now (0 when not running); its restarts so far. */
pid_t fl_lab_host_pid(const struct fl_lab_rt *lab, const char *host);
unsigned fl_lab_host_restarts(const struct fl_lab_rt *lab, const char *host);
/* The supervisor's own pids that faults must never target. */
size_t fl_lab_protected_pids(const struct fl_lab_rt *lab, pid_t *out, size_t max);
/* Join the host's (or the switch's) network namespace; *ret_oldns restores with setns(). */
int fl_lab_enter(const struct fl_lab_rt *lab, const char *host, int *ret_oldns);

/*
 * Start argv inside a host (NULL: the switch) the way the lab starts services: its network
 * namespace, a private mount namespace with the lab's hosts file on /etc/hosts, cwd workdir,
 * stdout/stderr to /dev/null unless keep_output. Returns the pid and an O_CLOEXEC pidfd.
 * Used by exec probes.
 */
int fl_lab_spawn(const struct fl_lab_rt *lab, const char *host, char *const *argv,
		 const char *workdir, bool keep_output, pid_t *ret_pid, int *ret_pidfd);

/* Lab names are derived from run ids; for `lab status`, the JSON summary of a running lab. */
json_t *fl_lab_describe(const struct fl_lab_rt *lab);

#endif

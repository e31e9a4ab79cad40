/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What every network backend shares: entering a network namespace, the BPF filesystem and our
 * pins, resolving a lab peer or a cgroup, the management-plane ports, and the match part of a
 * plan (the filter as JSON) with its translation into the BPF programs' struct nf_config.
 */
#ifndef FL_NETUTIL_H
#define FL_NETUTIL_H

#include <bpf/libbpf.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>

#include "inject/injector.h"
#include "inject/netspec.h"

#define FL_BPFFS "/sys/fs/bpf"
#define FL_PIN_ROOT FL_BPFFS "/faultline"
#define FL_TC_PRIORITY 0xfa17 /* one tc preference for all of ours; each fault its own handle */
#define FL_LEASE_GRACE_NS (30 * NSEC_PER_SEC) /* the runner's lease: fault end + 30 s */

struct nf_config;

/* Replace *reason with a formatted message (when reason is not NULL); returns r. */
int fl_set_reason(char **reason, int r, const char *fmt, ...) _printf_(3, 4);

/* Enter /run/netns/NETNS (NULL: stay where we are); fl_netns_leave(*ret_old) comes back. */
int fl_netns_enter(const char *netns, int *ret_old);
void fl_netns_leave(int old);

/* Mount bpffs on /sys/fs/bpf if nothing is (remembered in the state dir); unmount it again
 * once nothing is pinned there, only when we mounted it. */
int fl_bpffs_ensure(void);
void fl_bpffs_release(void);

/* libbpf's print callback for our loads: its warnings at debug level only. */
int fl_libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap);
/* The sum over CPUs of a per-CPU array map's u64 counter; -1 when unreadable. */
long long fl_bpf_percpu_sum(int fd, uint32_t key);

/* A lab host's address, from STATE/runs/RUN/hosts. */
int fl_lab_peer_addr(const char *run_id, const char *host, struct fl_cidr *ret);
/* A cgroup v2 path ("/faultline/x") to its id (the directory's inode). */
int fl_cgroup_id(const char *cgroup, uint64_t *ret);

/* "198.18.0.0/16" or JSON null when unset; back again (family AF_INET/AF_INET6). */
json_t *fl_cidr_to_json(const struct fl_cidr *c);
int fl_cidr_from_json(json_t *j, struct fl_cidr *ret);

/* revert_one on every planned object, all of them even after a failure; the first error. */
int fl_revert_each(json_t *objects, int (*revert_one)(json_t *o, char **ret_reason),
		   char **ret_reason);

/*
 * Run argv (no shell, PATH searched) inside /run/netns/NETNS (NULL: here) with input on its
 * stdin; its stdout (and stderr, with_stderr) comes back in *ret_out (may be NULL), trailing
 * newlines stripped. Returns the exit status (0..255), or a negative errno.
 */
int fl_run_capture(const char *netns, char *const *argv, const char *input, bool with_stderr,
		   char **ret_out);

/* A 32-bit handle unique to (run, fault, now), odd so it is never 0. */
uint32_t fl_net_handle(const char *run_id, const char *fault_name);

/* The management plane: the ports of $SSH_CONNECTION (client, server), else the listening port
 * of `faultline agent` ($FAULTLINE_MGMT_PORT, set by the agent); 0 when neither. */
size_t fl_mgmt_ports(uint16_t ret[2]);

/*
 * The match part of a plan object, shared by every network backend: sets "proto", "src",
 * "dst", "sport_lo".."dport_hi", "cgroup_id", "symmetric", "exclude" (the user's ports plus the
 * management plane's) in o. A peer is resolved (address, or a lab host when f->on) and becomes
 * dst and the match is symmetric; `symmetric` also matches the reverse direction (partition).
 */
int fl_netmatch_plan(const struct fl_fault *f, const struct fl_netspec *spec, bool symmetric,
		     struct fl_inject_ctx *ctx, json_t *o);
/* ...and back, into the BPF programs' config (bpf/netfault.h); expiry and threshold not set. */
int fl_netmatch_config(json_t *o, struct nf_config *c);

/* In a lab, a fault on host X sits at X's port in the switch namespace unless placement is
 * 'host'; there the directions flip (traffic to X leaves the switch through the port). */
int fl_net_place(const struct fl_fault *f, const struct fl_netspec *spec, bool on_host,
		 const char *run_id, char **ret_netns, char **ret_dev, enum fl_direction *ret_dir);

#endif

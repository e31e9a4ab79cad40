/* SPDX-License-Identifier: GPL-2.0-only */
/* Process targets: find the processes a fault acts on, and open them without pid races. */
#ifndef FL_TARGET_H
#define FL_TARGET_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "scenarios/scenario.h"

struct fl_proc {
	pid_t pid;
	uint64_t starttime; /* field 22 of /proc/PID/stat: with the pid, names one process */
	char comm[16];
};

/*
 * Every process matching all of t's filters, inside the network namespace at netns_path when
 * set (a lab host), minus PID 1, faultline itself and `protect`; then pick/count applied with
 * rng. No match is -ESRCH with *ret_reason saying what was searched.
 */
int fl_target_resolve(const struct fl_target *t, const char *netns_path, const char *where,
		      const pid_t *protect, size_t n_protect, uint64_t *rng,
		      struct fl_proc **ret, size_t *ret_n, char **ret_reason);

int fl_proc_starttime(pid_t pid, uint64_t *ret);
/* A pidfd for pid, only if it is still the process that started at starttime; else -ESRCH. */
int fl_pidfd_open_verified(pid_t pid, uint64_t starttime);
/* The same for a planned process as the journal keeps it: {"pid": N, "starttime": T}. */
int fl_pidfd_open_planned(json_t *o, pid_t *ret_pid);
/* Does the running process pid match t's filters (pid, name, cmdline, cgroup; not netns)? */
bool fl_target_match(const struct fl_target *t, pid_t pid);
/* "name 'redis-server'", "pid 123 and cmdline 'x.*'" */
void fl_target_describe(const struct fl_target *t, char *buf, size_t len);

#endif

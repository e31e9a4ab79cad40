/* SPDX-License-Identifier: GPL-2.0-only */
/* The lease guard: reverts a run's faults at their lease expiry if the run dies first. */
#ifndef FL_GUARD_H
#define FL_GUARD_H

#include <sys/types.h>

/*
 * Fork a guard for run_id, owned by the calling process. The guard watches its owner through a
 * pidfd and the run's journal directory through inotify:
 *  - the records disappear (the run finished or someone recovered it): the guard exits;
 *  - the owner dies and records remain: the guard waits until the latest lease in them expires
 *    (so `faultline status` still shows the dead run to an operator), then recovers the run.
 * Returns the guard's pid (to exclude it from targets) or a negative errno.
 */
pid_t fl_guard_spawn(const char *run_id);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * faultline's helper daemons (faultline-nfqd, faultline-fused): forked (no exec) into their own
 * session, a readiness pipe, a pidfile with the start time that names them for revert and
 * recover, a stop that is SIGTERM then SIGKILL.
 */
#ifndef FL_DAEMON_H
#define FL_DAEMON_H

#include <jansson.h>
#include <sys/types.h>

/*
 * The daemon's body: runs in the child with stdio on /dev/null and the write end of the
 * readiness pipe as fd `ready` (every other fd closed); writes "ok\n" once it serves, or
 * "!reason\n"; never returns.
 */
typedef void (*fl_daemon_main_fn)(const void *arg, int ready);

/*
 * Fork the daemon named comm and wait up to 5 s for its "ok". It is our child until we exit
 * (then init's): whoever stops it reaps it (fl_daemon_reap()). 0 with *ret_pid read back from
 * pidfile, or a negative errno with *ret_reason ("the <what> did not start: <its words>").
 */
int fl_daemon_spawn(const char *comm, const char *what, fl_daemon_main_fn fn, const void *arg,
		    const char *pidfile, pid_t *ret_pid, char **ret_reason);

/*
 * A small file by rename (readers never see half of it; one writer at a time); no fsync: it
 * lives as long as the daemon does.
 */
int fl_daemon_write_file(const char *path, const char *data);
/* "PID STARTTIME\n" of the calling process, by fl_daemon_write_file(). */
int fl_daemon_write_pidfile(const char *path);
/* The daemon named by pidfile as a verified pidfd (pid and start time match), or -ESRCH. */
int fl_daemon_pidfd(const char *pidfile, pid_t *ret_pid);
/* Reap the daemon behind pidfd if it is our dead child; nothing otherwise. */
void fl_daemon_reap(int pidfd);
/* SIGTERM the daemon of pidfile, wait wait_ms, SIGKILL if it stays; gone already is success. */
int fl_daemon_stop(const char *pidfile, const char *what, int wait_ms, char **ret_reason);
/*
 * The daemon's stats file (a JSON object with a growing "seq"), fresh: SIGUSR1 asks it to
 * write one, read within wait_ms; the last one it wrote when it is gone or slow; NULL if none.
 */
json_t *fl_daemon_stats(const char *pidfile, const char *statsfile, int wait_ms);

#endif

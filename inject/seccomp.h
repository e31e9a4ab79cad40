/* SPDX-License-Identifier: GPL-2.0-only */
/* seccomp faults for commands faultline launches: filters, the notification supervisor. */
#ifndef FL_SECCOMP_H
#define FL_SECCOMP_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/seccomp.h>
#include <sys/types.h>

#include "scenarios/scenario.h"

#define FL_SC_MAX_NR 48 /* syscalls one fault may name (after expanding 'ops') */

/* The parsed parameters of one syscall, disk-error or io-latency fault (fl_fault.priv). */
struct fl_sc_fault {
	int nr[FL_SC_MAX_NR]; /* syscall numbers of the native architecture */
	size_t n_nr;
	int err;	   /* errno to return; 0: the call goes through (after the delay) */
	uint64_t delay_ns; /* held this long before the answer */
	double percent;	   /* share of matching calls hit, 0 < p <= 1 */
	uint64_t nth;	   /* only the nth matching call (1-based); 0: every call */
	char *path;	   /* only calls on this path or below it; NULL: any */
	bool notify;	   /* decided by the supervisor (not a plain errno filter) */
	/* counted by the supervisor */
	uint64_t seen, hit;
};

/* Linux 6.6; Debian 12's headers and libseccomp 2.5.4 lack it. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

/*
 * Expand a comma list of syscall names or disk operations (open, read, write, fsync,
 * fdatasync, rename, unlink, mkdir, rmdir, truncate, fallocate) into syscall numbers,
 * without duplicates. ops == true takes operation names, false syscall names. Returns 0, or
 * -EINVAL with *ret_bad pointing into a static copy of the offending word.
 */
int fl_sc_resolve(const char *list, bool ops, int *nr, size_t max, size_t *ret_n,
		  const char **ret_bad);

/* Does `path` equal `prefix` or lie below it? */
bool fl_sc_path_under(const char *path, const char *prefix);

/*
 * Where a syscall names its file: FL_SC_ARG_FD (args[0] is an fd), FL_SC_ARG_PATH (args[i]
 * a path, relative to args[i - 1] as a dirfd when `at` is set), or FL_SC_ARG_NONE.
 */
enum { FL_SC_ARG_NONE, FL_SC_ARG_FD, FL_SC_ARG_PATH };
int fl_sc_file_arg(int nr, unsigned *ret_index, bool *ret_at);

struct fl_sc_opts {
	uint64_t for_ns;	/* end the command after this long; 0: run to its end */
	uint64_t grace_ns;	/* SIGTERM at for_ns, SIGKILL this long after */
	uint64_t seed;		/* for percent */
	bool no_sync_wakeup;	/* do not ask for the sync wake-up flag (benchmarks) */
	const char *stats_path; /* SIGUSR1 writes the counts there (a scenario's observe) */
	int ready_fd;		/* > 0: written to ("1") and closed once the filter is in place */
	bool release;		/* at for_ns stop injecting and let the command run on (every
				   fault then goes through the supervisor: a kernel errno rule
				   cannot be lifted) */
};

struct fl_sc_result {
	int wstatus;	  /* the command's wait status */
	bool sync_wakeup; /* the supervisor's fd had SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP */
	bool supervised;  /* a notification supervisor ran */
	bool timed_out;	  /* ended by for_ns */
	bool released;	  /* the faults ended at for_ns, the command ran on */
	uint64_t notifications;
};

/*
 * Run argv with the faults' filters installed in the child before exec, supervise the
 * notifications until the command ends, and return its wait status. Never prints; on failure
 * *ret_reason (malloc'd) says why.
 */
int fl_seccomp_exec(struct fl_fault *faults, size_t n, char *const *argv,
		    const struct fl_sc_opts *o, struct fl_sc_result *res, char **ret_reason);

/* argv as a JSON array of strings (malloc'd text), and back (fl_strv_free()). */
char *fl_sc_argv_json(char *const *argv);
int fl_sc_argv_from_json(const char *text, char ***ret);

/* Read a NUL-terminated string of at most len - 1 bytes from another process' memory. */
int fl_sc_read_string(pid_t pid, uint64_t addr, char *buf, size_t len);

#endif

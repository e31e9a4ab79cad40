/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * faultline-fused: a pass-through FUSE filesystem mounted over a directory, failing or delaying
 * the operations of matching callers (disk-error, io-latency); and the pieces of it the unit
 * tests exercise (operation names, errno names, path prefixes, the caller cache, the dice).
 */
#ifndef FL_FUSEFS_H
#define FL_FUSEFS_H

/* After its lease the daemon passes through this long at most, then exits (see fusefs.c). */
#define FUSEFS_LEASE_GRACE_S 10

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "scenarios/scenario.h"

/* --- the operations a fault may name ------------------------------------------------------- */

enum fusefs_op {
	FUSEFS_OP_OPEN,	    /* open of an existing file, and opendir */
	FUSEFS_OP_CREATE,   /* open with O_CREAT of a new file, mknod */
	FUSEFS_OP_READ,	    /* read, readdir */
	FUSEFS_OP_WRITE,    /* write */
	FUSEFS_OP_FSYNC,    /* fsync, fdatasync, fsyncdir */
	FUSEFS_OP_FLUSH,    /* close() of a descriptor */
	FUSEFS_OP_RENAME,   /* rename */
	FUSEFS_OP_UNLINK,   /* unlink */
	FUSEFS_OP_MKDIR,    /* mkdir */
	FUSEFS_OP_RMDIR,    /* rmdir */
	FUSEFS_OP_GETATTR,  /* stat and friends */
	FUSEFS_OP_SETATTR,  /* truncate, chmod, chown, utimens */
	FUSEFS_OP_STATFS,   /* statfs */
	FUSEFS_OP_LINK,	    /* link, symlink, readlink */
	FUSEFS_OP_XATTR,    /* getxattr and friends */
	FUSEFS_OP_ALLOCATE, /* fallocate */
	_FUSEFS_OP_MAX,
};

#define FUSEFS_OPS_ALL ((1u << _FUSEFS_OP_MAX) - 1)

/* "open", "fsync"...; NULL for an invalid op. */
const char *fusefs_op_name(enum fusefs_op op);
/*
 * A comma-separated list of operation names ("open,write,fsync"; "fdatasync" is fsync, "all"
 * every one) into a bit mask. On an unknown name -EINVAL with it in bad (len bytes).
 */
int fusefs_ops_parse(const char *list, uint32_t *ret_mask, char *bad, size_t len);
/* "read,write" from a mask ("all" for every one). */
void fusefs_ops_format(uint32_t mask, char *buf, size_t len);

/* "EIO", "eio", "5" -> 5; -EINVAL for anything else (0 included). */
int fusefs_errno_parse(const char *s);

/* Is path ("/a/b", relative to the mount's root) the prefix ("a" or "/a/", "" = all) or below
 * it? Whole components only: "a" covers "/a" and "/a/x", not "/ab". */
bool fusefs_path_under(const char *path, const char *prefix);

/* --- the caller cache: thread id -> tgid -> target, re-checked after a while ---------------- */

#define FUSEFS_CACHE_SLOTS 1024
#define FUSEFS_CACHE_TTL_NS (1000ULL * 1000 * 1000)

struct fusefs_cache_slot {
	pid_t tid;
	pid_t tgid;
	bool match;
	uint64_t when; /* CLOCK_MONOTONIC of the check */
};

struct fusefs_cache {
	struct fusefs_cache_slot s[FUSEFS_CACHE_SLOTS];
};

/* The slot of tid if it was checked within the TTL at now, else NULL. */
const struct fusefs_cache_slot *fusefs_cache_get(const struct fusefs_cache *c, pid_t tid,
						 uint64_t now);
void fusefs_cache_put(struct fusefs_cache *c, pid_t tid, pid_t tgid, bool match, uint64_t now);

/* The Tgid: line of /proc/TID/status (the tid itself when the thread is gone: -ESRCH). */
int fusefs_tgid_of(pid_t tid, pid_t *ret);

/* One roll of the dice: true with probability percent/100 (0..100), from a splitmix64 state. */
bool fusefs_roll(uint64_t *rng, double percent);

/* --- the daemon ---------------------------------------------------------------------------- */

struct fusefs_proc {
	pid_t pid;
	uint64_t starttime;
};

struct fusefs_config {
	const char *path;   /* the directory covered (absolute) */
	const char *prefix; /* below it, relative ("" or NULL: all of it) */
	int err;	    /* disk-error: the errno (positive); 0: io-latency */
	uint64_t delay_ns;  /* io-latency */
	uint64_t jitter_ns; /* io-latency: uniform in delay +- jitter */
	uint32_t ops;	    /* FUSEFS_OP_* bits */
	double percent;	    /* of matching calls, 0..100 */
	uint64_t seed;
	const struct fusefs_proc *procs; /* the planned processes (tgids) */
	size_t n_procs;
	const struct fl_target *recheck; /* new processes matching it are targets too; NULL: no */
	bool any;			 /* no target: every caller */
	const pid_t *spare;		 /* never targets (faultline, its lab supervisor) */
	size_t n_spare;
	uint64_t lease_boot_ns; /* CLOCK_BOOTTIME: stop injecting and unmount then */
	const char *pidfile;	/* "PID STARTTIME\n", written once mounted */
	const char *statsfile;
};

/*
 * The stats file (written at SIGUSR1, at the lease and when stopped), one JSON object:
 *   {"seq", "ops_seen", "ops_matched": by a target caller on a chosen op and path,
 *    "ops_failed", "ops_delayed", "delay_p50_us", "delay_p99_us", "delay_max_us",
 *    "delay_mean_us", "injecting": false after the lease, "per_op": {"write": [seen, matched,
 *    failed or delayed], ...}}
 */

/*
 * Open the directory (O_PATH), fork the daemon ("faultline-fused", own session), mount over
 * the directory and wait until it is mounted. 0 with *ret_pid, or a negative errno with
 * *ret_reason (the daemon's own words). The daemon is our child until we exit: whoever stops
 * it reaps it (fl_daemon_stop()).
 */
int fusefs_spawn(const struct fusefs_config *c, pid_t *ret_pid, char **ret_reason);

enum {
	FUSEFS_MOUNT_NONE,    /* no fuse.faultline mount with that source at path */
	FUSEFS_MOUNT_TOP,     /* ours, and the topmost mount at path */
	FUSEFS_MOUNT_COVERED, /* ours, under someone else's mount */
};

/* Where a fuse.faultline mount with fsname source (NULL: any of ours) is at path. */
int fusefs_mount_state(const char *path, const char *source);
/* Is one mounted at path (on top or covered)? */
bool fusefs_mounted(const char *path, const char *source);

/* Unmount ours at path: umount2(), then MNT_DETACH when busy. 0, 1 when it was lazy, or -errno.*/
int fusefs_unmount(const char *path);

#endif

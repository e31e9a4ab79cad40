/* SPDX-License-Identifier: GPL-2.0-only */
/* Types shared by bpf/disklsm.bpf.c and inject/disk_lsm.c: the fault's config and counters. */
#ifndef FL_DISKLSM_H
#define FL_DISKLSM_H

#define DL_MAX_TGIDS 1024 /* FL_MAX_COUNT: the processes one fault may target */
#define DL_MAX_DEPTH 32	  /* ancestors walked from a file up to the covered directory */

/* The operations, one bit each, and the LSM hook that sees them. */
enum dl_op {
	DL_OP_OPEN = 1 << 0,   /* file_open */
	DL_OP_READ = 1 << 1,   /* file_permission, MAY_READ (read, readv, pread, getdents) */
	DL_OP_WRITE = 1 << 2,  /* file_permission, MAY_WRITE (write, writev, pwrite) */
	DL_OP_UNLINK = 1 << 3, /* inode_unlink */
	DL_OP_RENAME = 1 << 4, /* inode_rename: source or destination under the directory */
	DL_OP_MKDIR = 1 << 5,  /* inode_mkdir */
	DL_OP_RMDIR = 1 << 6,  /* inode_rmdir */
};

enum dl_counter {
	DL_SEEN,      /* hook calls by the target (any file, any covered operation) */
	DL_MATCHED,   /* ... on an operation asked for, on a file under the directory */
	DL_FAILED,    /* ... that got the errno (percent of the matched ones) */
	DL_AFTER_TTL, /* matched after the expiry: passed, the fault is over */
	DL_N_COUNTERS,
};

struct dl_config {
	__u64 expiry_boot_ns; /* CLOCK_BOOTTIME: after it every call passes */
	__u64 threshold;      /* fail when prandom (32 bits) < threshold; 1 << 32 = always */
	__u64 ino;	      /* the covered directory (or file): inode number ... */
	__u64 cgroup_id;      /* by_cgroup: the target cgroup's id ... */
	__u32 dev;	      /* ... and its superblock's s_dev (the kernel's encoding) */
	__u32 cgroup_level;   /* ... and its level (root = 0): the subtree is the target */
	__u32 ops;	      /* enum dl_op bits */
	__s32 err;	      /* the errno to return (positive) */
	__u8 by_cgroup;	      /* 0: the tgids map is the target */
	__u8 pad[7];
};

#endif

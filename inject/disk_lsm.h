/* SPDX-License-Identifier: GPL-2.0-only */
/* disk-error's bpf-lsm backend: the parsing helpers its unit tests (and other backends) use. */
#ifndef FL_DISK_LSM_H
#define FL_DISK_LSM_H

#include <stddef.h>
#include <stdint.h>

/* "EIO", "enospc" or a number 1..4095 into *ret; -EINVAL otherwise. */
int fl_disk_errno_parse(const char *s, int *ret);
/*
 * "open,write" (commas or spaces; "all") into DL_OP_* bits. -EOPNOTSUPP for an operation of
 * the kind no LSM hook sees (fsync, fdatasync), -EINVAL for an unknown one: *ret_bad and
 * *ret_badlen name the word.
 */
int fl_disk_ops_parse(const char *s, uint32_t *ret, const char **ret_bad, size_t *ret_badlen);
/* "open,read" from bits; returns the length written. */
size_t fl_disk_ops_format(uint32_t ops, char *buf, size_t len);
/* A share in percent as the programs' threshold: prandom (32 bits) < t; 1 << 32 = always. */
uint64_t fl_disk_threshold(double percent);

#endif

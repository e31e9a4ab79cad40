/* SPDX-License-Identifier: GPL-2.0-only */
/* Small helpers every module shares: cleanup attributes, durations, files, time, random. */
#ifndef FL_UTIL_H
#define FL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NSEC_PER_USEC 1000ULL
#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_SEC 1000000000ULL

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _unused_ __attribute__((unused))

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Hand ownership out of a cleanup variable. */
#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		typeof(p) _tp = (p);                                                               \
		(p) = NULL;                                                                        \
		_tp;                                                                               \
	})
#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _tf = (fd);                                                                    \
		(fd) = -1;                                                                         \
		_tf;                                                                               \
	})

/* Limits every user-controlled duration obeys (documented in the README). */
#define FL_DURATION_MAX (24ULL * 3600 * NSEC_PER_SEC)

/*
 * Parse "250ms", "10s", "1.5s", "2m", "1h", "500us" (a bare "0" is allowed) into
 * nanoseconds. Returns 0, -EINVAL for bad syntax or a missing unit, -ERANGE beyond
 * FL_DURATION_MAX. Negative values are -ERANGE.
 */
int fl_parse_duration(const char *s, uint64_t *ret_ns);
/* Format a duration compactly ("1.5s", "250ms"); buf of at least 32 bytes. */
const char *fl_format_duration(uint64_t ns, char *buf, size_t len);
/* Parse "99%", "99.5%" or "0.995" into a fraction in [0,1]. */
int fl_parse_fraction(const char *s, double *ret);
/* Parse a non-negative decimal integer no larger than max. */
int fl_parse_uint(const char *s, uint64_t max, uint64_t *ret);

uint64_t fl_now_ns(void);      /* CLOCK_MONOTONIC */
uint64_t fl_realtime_ns(void); /* CLOCK_REALTIME, for records meant for humans and other hosts */
uint64_t fl_boottime_ns(void); /* CLOCK_BOOTTIME, for leases that must survive suspend */

/* Edit distance, and the closest candidate within a small distance (or NULL). */
size_t fl_levenshtein(const char *a, const char *b);
const char *fl_closest(const char *word, const char *const *candidates, size_t n);

/* Read a whole file (NUL-terminated). */
int fl_read_file(const char *path, char **ret, size_t *ret_len);
/* Write a file atomically and durably: tmp file, fsync, rename, fsync of the directory. */
int fl_write_file_atomic(const char *path, const char *data, size_t len, int mode);
int fl_mkdir_p(const char *path, int mode);
/* Remove a directory tree (no symlink following). Missing is success. */
int fl_rm_rf(const char *path);

/* splitmix64: reproducible choices from the scenario's seed. */
static inline uint64_t fl_rand_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A run or fault id: 12 lowercase hex characters from getrandom(). */
int fl_new_id(char *buf, size_t len);

bool fl_valid_name(const char *s, size_t maxlen); /* [a-z0-9][a-z0-9-]* */

/*
 * A user value fit for a message: at most max bytes (never cutting a UTF-8 sequence), then
 * "...", control characters as '?'. buf holds at least max + 4 bytes.
 */
const char *fl_shorten(const char *v, size_t max, char *buf);

/* A growable array of strings (NULL-terminated). */
char **fl_strv_free(char **v);
size_t fl_strv_len(char *const *v);
int fl_strv_push(char ***v, const char *s);
char *fl_strv_join(char *const *v, const char *sep);

#endif

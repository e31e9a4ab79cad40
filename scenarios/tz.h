/* SPDX-License-Identifier: GPL-2.0-only */
/* Named time zones (tzdata through glibc): validation, wall clock <-> instants, DST gaps. */
#ifndef FL_TZ_H
#define FL_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define FL_TZ_NAME_MAX 64

/*
 * Is name a zone this host knows: "UTC", or an IANA name ("Europe/Berlin") whose file under
 * $TZDIR (default /usr/share/zoneinfo) is a TZif file? POSIX TZ strings are refused (a typo
 * there silently means UTC). 0, or -EINVAL / -ENOENT with a reason in why (len bytes).
 */
int fl_tz_check(const char *name, char *why, size_t len);

/*
 * Work in zone name until fl_tz_pop: sets TZ and calls tzset(). Not thread-safe with other
 * threads calling localtime(); the game day only converts times on its main thread.
 */
struct fl_tz_saved {
	char *old;
	bool had;
};
int fl_tz_push(const char *name, struct fl_tz_saved *saved);
void fl_tz_pop(struct fl_tz_saved *saved);

/* In the pushed zone: t's wall clock as seconds of a zone-less calendar (timegm of localtime). */
time_t fl_tz_wall(time_t t);
/*
 * In the pushed zone: the instants whose wall clock is wall (0 in a spring-forward gap, 2 in a
 * fall-back overlap, else 1), ascending. Returns how many.
 */
int fl_tz_instants(time_t wall, time_t ret[2]);
/* In the pushed zone: the first instant after the gap that contains wall (the transition). */
time_t fl_tz_gap_end(time_t wall);

#endif

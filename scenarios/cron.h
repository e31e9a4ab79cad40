/* SPDX-License-Identifier: GPL-2.0-only */
/* 5-field cron expressions: parsing with clear errors, next-run time in a named zone, systemd. */
#ifndef FL_CRON_H
#define FL_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum fl_cron_field {
	FL_CRON_MINUTE,
	FL_CRON_HOUR,
	FL_CRON_DOM,
	FL_CRON_MONTH,
	FL_CRON_DOW,
	FL_CRON_N_FIELDS,
};

extern const char *const fl_cron_field_names[FL_CRON_N_FIELDS]; /* "minute", ... */

struct fl_cron {
	uint64_t bits[FL_CRON_N_FIELDS]; /* bit v set: value v matches (dow: 0 = Sunday) */
	bool star[FL_CRON_N_FIELDS];	 /* the field starts with '*' (cron's day rule) */
};

/*
 * Parse "MIN HOUR DOM MON DOW" (*, N, A-B, a step /S after * or a range, N/S, lists; month
 * and day names, 7 = Sunday) or the macros hourly daily midnight weekly monthly yearly
 * annually (with a leading at sign). On error
 * -EINVAL with a message naming the field and its 1-based column in err, and *ret_col set.
 */
int fl_cron_parse(const char *expr, struct fl_cron *c, char *err, size_t len, unsigned *ret_col);

/*
 * The first run strictly after `after`, in zone tz (NULL: UTC). cron's day rule: when both
 * day-of-month and day-of-week are restricted (neither starts with '*'), either may match.
 * DST, as cronie does for fixed-time jobs: a time in a spring-forward gap runs once at the end
 * of the gap (02:30 -> 03:00 in Europe/Berlin); a time repeated by a fall-back runs once, at
 * its first occurrence. A job whose hour field is '*' runs at wall times that exist, in both
 * passes of a repeated hour. -ERANGE when nothing matches within 8 years (e.g. "0 0 31 2 *").
 */
int fl_cron_next(const struct fl_cron *c, const char *tz, time_t after, time_t *ret);

/*
 * systemd OnCalendar= values for the expression (one, or two when cron's day rule is an OR),
 * with the zone appended. 0, or -E2BIG when out (len) is too short.
 */
int fl_cron_to_oncalendar(const struct fl_cron *c, const char *tz, char out[2][512]);

#endif

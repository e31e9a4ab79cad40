// SPDX-License-Identifier: GPL-2.0-only
/* Cron expressions: every field form, errors naming field and column, next runs with DST. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scenarios/cron.h"
#include "scenarios/tz.h"

static time_t utc(const char *s)
{
	struct tm tm = { 0 };

	assert_non_null(strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm));
	return timegm(&tm);
}

static void parse_ok(const char *expr, struct fl_cron *c)
{
	char err[256] = "";

	if (fl_cron_parse(expr, c, err, sizeof(err), NULL) < 0)
		fail_msg("'%s': %s", expr, err);
}

static uint64_t bits(const char *expr, int field)
{
	struct fl_cron c;

	parse_ok(expr, &c);
	return c.bits[field];
}

#define B(v) (1ULL << (v))

static void test_field_forms(void **state)
{
	(void)state;
	assert_true(bits("* * * * *", FL_CRON_MINUTE) == (1ULL << 60) - 1);
	assert_true(bits("* * * * *", FL_CRON_HOUR) == (1ULL << 24) - 1);
	assert_true(bits("* * * * *", FL_CRON_DOM) == ((1ULL << 32) - 2));
	assert_true(bits("* * * * *", FL_CRON_MONTH) == ((1ULL << 13) - 2));
	assert_true(bits("* * * * *", FL_CRON_DOW) == 0x7f);
	assert_true(bits("5 * * * *", FL_CRON_MINUTE) == B(5));
	assert_true(bits("1,2,59 * * * *", FL_CRON_MINUTE) == (B(1) | B(2) | B(59)));
	assert_true(bits("* 9-11 * * *", FL_CRON_HOUR) == (B(9) | B(10) | B(11)));
	assert_true(bits("*/15 * * * *", FL_CRON_MINUTE) == (B(0) | B(15) | B(30) | B(45)));
	assert_true(bits("10-20/5 * * * *", FL_CRON_MINUTE) == (B(10) | B(15) | B(20)));
	assert_true(bits("50/4 * * * *", FL_CRON_MINUTE) == (B(50) | B(54) | B(58)));
	assert_true(bits("* */6 * * *", FL_CRON_HOUR) == (B(0) | B(6) | B(12) | B(18)));
	assert_true(bits("* 1,3-4,20/2 * * *", FL_CRON_HOUR) ==
		    (B(1) | B(3) | B(4) | B(20) | B(22)));
	assert_true(bits("* * 1,15,31 * *", FL_CRON_DOM) == (B(1) | B(15) | B(31)));
	assert_true(bits("* * * jan,JUN,Dec * ", FL_CRON_MONTH) == (B(1) | B(6) | B(12)));
	assert_true(bits("* * * mar-may *", FL_CRON_MONTH) == (B(3) | B(4) | B(5)));
	assert_true(bits("* * * */3 *", FL_CRON_MONTH) == (B(1) | B(4) | B(7) | B(10)));
	assert_true(bits("* * * * mon-fri", FL_CRON_DOW) == 0x3e);
	assert_true(bits("* * * * SUN,sat", FL_CRON_DOW) == (B(0) | B(6)));
	assert_true(bits("* * * * 7", FL_CRON_DOW) == B(0));
	assert_true(bits("* * * * 5-7", FL_CRON_DOW) == (B(5) | B(6) | B(0)));
	assert_true(bits("* * * * 0-6/2", FL_CRON_DOW) == (B(0) | B(2) | B(4) | B(6)));
	assert_true(bits("\t0  12\t* * *", FL_CRON_HOUR) == B(12));
	/* the macros */
	assert_true(bits("@hourly", FL_CRON_MINUTE) == B(0));
	assert_true(bits("@hourly", FL_CRON_HOUR) == (1ULL << 24) - 1);
	assert_true(bits("@daily", FL_CRON_HOUR) == B(0));
	assert_true(bits("@midnight", FL_CRON_HOUR) == B(0));
	assert_true(bits("@weekly", FL_CRON_DOW) == B(0));
	assert_true(bits("@monthly", FL_CRON_DOM) == B(1));
	assert_true(bits("@yearly", FL_CRON_MONTH) == B(1));
	assert_true(bits("@annually", FL_CRON_DOM) == B(1));
	assert_true(bits("@DAILY", FL_CRON_MINUTE) == B(0));
}

static void bad(const char *expr, unsigned col, const char *msg)
{
	struct fl_cron c;
	char err[256] = "";
	unsigned got = 0;

	assert_int_equal(fl_cron_parse(expr, &c, err, sizeof(err), &got), -EINVAL);
	if (!strstr(err, msg) || got != col)
		fail_msg("'%s': got '%s' (column %u), want '%s' at column %u", expr, err, got, msg,
			 col);
}

static void test_invalid(void **state)
{
	(void)state;
	bad("60 * * * *", 1, "minute field at column 1: 60 is out of range 0-59");
	bad("* 24 * * *", 3, "hour field at column 3: 24 is out of range 0-23");
	bad("* * 0 * *", 5, "day-of-month field at column 5: 0 is out of range 1-31");
	bad("* * 32 * *", 5, "day-of-month field at column 5: 32 is out of range 1-31");
	bad("* * * 13 *", 7, "month field at column 7: 13 is out of range 1-12");
	bad("* * * * 8", 9, "day-of-week field at column 9: 8 is out of range 0-7");
	bad("* * * jann *", 7, "month field at column 7: unknown name 'jann' (jan..dec)");
	bad("* * * * fry", 9, "day-of-week field at column 9: unknown name 'fry' (sun..sat)");
	bad("a * * * *", 1, "minute field at column 1: names are only allowed for month and "
			    "day-of-week");
	bad("* * * * mon-", 13, "day-of-week field at column 13: expected a number or a day name");
	bad("*/0 * * * *", 3, "minute field at column 3: step 0 is out of range 1-59");
	bad("*/ * * * *", 3, "minute field at column 3: a step needs a number");
	bad("* */25 * * *", 5, "hour field at column 5: step 25 is out of range 1-23");
	bad("5-2 * * * *", 3, "minute field at column 3: range 5-2 is backwards");
	bad("1,,2 * * * *", 3, "minute field at column 3: empty list item");
	bad("1, * * * *", 2, "minute field at column 2: a list cannot end with ','");
	bad("1-2x * * * *", 4, "minute field at column 4: unexpected 'x'");
	bad("* * * *", 8, "day-of-week field at column 8: missing");
	bad("", 1, "minute field at column 1: missing");
	bad("* * * * * *", 11, "column 11: more than 5 fields");
	bad("@reboot", 1, "column 1: unknown macro '@reboot'");
	bad("@daily 5", 8, "column 8: nothing may follow @daily");
	bad("0 0 31 2 *", 5, "day-of-month field at column 5: day 31 never occurs");
	bad("0 0 30 feb *", 5, "day 30 never occurs in the months listed");
	/* restricted on both sides: the day of week may still match, cron accepts it */
	struct fl_cron c;
	parse_ok("0 0 31 2 mon", &c);
}

static void next_is(const char *expr, const char *tz, const char *after, const char *want)
{
	struct fl_cron c;
	time_t t = 0;
	char got[32];
	struct tm tm;
	int r;

	parse_ok(expr, &c);
	r = fl_cron_next(&c, tz, utc(after), &t);
	gmtime_r(&t, &tm);
	strftime(got, sizeof(got), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (r < 0 || t != utc(want))
		fail_msg("'%s' in %s after %s: got %s (%d), want %s", expr, tz ? tz : "UTC", after,
			 r < 0 ? "error" : got, r, want);
}

static void test_next_basic(void **state)
{
	(void)state;
	next_is("* * * * *", NULL, "2026-11-21T10:00:00Z", "2026-11-21T10:01:00Z");
	next_is("* * * * *", NULL, "2026-11-21T10:00:30Z", "2026-11-21T10:01:00Z");
	next_is("*/15 * * * *", NULL, "2026-11-21T10:15:00Z", "2026-11-21T10:30:00Z");
	next_is("0 * * * *", NULL, "2026-12-31T23:30:00Z", "2027-01-01T00:00:00Z");
	next_is("@weekly", NULL, "2026-11-21T10:00:00Z", "2026-11-22T00:00:00Z");
	next_is("@monthly", NULL, "2026-11-21T10:00:00Z", "2026-12-01T00:00:00Z");
	next_is("@yearly", NULL, "2026-11-21T10:00:00Z", "2027-01-01T00:00:00Z");
	next_is("0 10 * * mon-fri", NULL, "2026-11-20T10:00:00Z", "2026-11-23T10:00:00Z");
	next_is("0 0 31 * *", NULL, "2026-11-01T00:00:00Z", "2026-12-31T00:00:00Z");
	/* in a named zone without DST nearby: Berlin is UTC+1 in November */
	next_is("30 10 * * *", "Europe/Berlin", "2026-11-21T00:00:00Z", "2026-11-21T09:30:00Z");
	next_is("30 10 * * *", "America/New_York", "2026-11-21T00:00:00Z",
		"2026-11-21T15:30:00Z");
}

static void test_leap_years(void **state)
{
	(void)state;
	next_is("0 0 29 2 *", NULL, "2026-01-01T00:00:00Z", "2028-02-29T00:00:00Z");
	next_is("0 0 29 2 *", NULL, "2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z");
	/* 2100 is not a leap year: eight years from 2096 to 2104 */
	next_is("0 0 29 feb *", NULL, "2097-01-01T00:00:00Z", "2104-02-29T00:00:00Z");
	next_is("0 0 28-29 2 *", NULL, "2100-02-28T00:00:00Z", "2101-02-28T00:00:00Z");
}

static void test_day_or_rule(void **state)
{
	(void)state;
	/* both restricted: the 13th OR a friday (2026-11-06 is a friday) */
	next_is("0 12 13 * fri", NULL, "2026-11-01T00:00:00Z", "2026-11-06T12:00:00Z");
	next_is("0 12 13 * fri", NULL, "2026-11-06T12:00:00Z", "2026-11-13T12:00:00Z");
	next_is("0 12 13 * mon", NULL, "2026-11-10T00:00:00Z", "2026-11-13T12:00:00Z");
	/* one of them starts with '*': AND (odd days that are fridays) */
	next_is("0 12 */2 * fri", NULL, "2026-11-01T00:00:00Z", "2026-11-13T12:00:00Z");
	next_is("0 12 13 * *", NULL, "2026-11-01T00:00:00Z", "2026-11-13T12:00:00Z");
	next_is("0 12 * * fri", NULL, "2026-11-01T00:00:00Z", "2026-11-06T12:00:00Z");
	/* a day february never has, rescued by the day-of-week: mondays in february */
	next_is("0 0 31 2 mon", NULL, "2026-11-21T00:00:00Z", "2027-02-01T00:00:00Z");
}

/*
 * DST, decided once (README, "Schedules"): a fixed-time job in a spring-forward gap runs once,
 * when the gap ends; a fixed time repeated by a fall-back runs once, at its first occurrence.
 */
static void test_dst(void **state)
{
	(void)state;
	/* Europe/Berlin 2026: 02:00 CET -> 03:00 CEST on 29 March (01:00Z) */
	next_is("30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z");
	next_is("30 2 * * *", "Europe/Berlin", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z");
	/* 03:00 CEST -> 02:00 CET on 25 October (01:00Z): 02:30 CEST only, then the next day */
	next_is("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", "2026-10-25T00:30:00Z");
	next_is("30 2 * * *", "Europe/Berlin", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z");
	next_is("30 2 * * *", "Europe/Berlin", "2026-10-25T01:15:00Z", "2026-10-26T01:30:00Z");
	/* America/New_York 2026: 02:00 EST -> 03:00 EDT on 8 March (07:00Z) */
	next_is("30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", "2026-03-08T07:00:00Z");
	next_is("30 2 * * *", "America/New_York", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z");
	/* 02:00 EDT -> 01:00 EST on 1 November (06:00Z): 02:30 happens once (EST) */
	next_is("30 2 * * *", "America/New_York", "2026-10-31T12:00:00Z", "2026-11-01T07:30:00Z");
	/* 01:30 happens twice there: the first (EDT) only */
	next_is("30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", "2026-11-01T05:30:00Z");
	next_is("30 1 * * *", "America/New_York", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z");
	/* a job with '*' hours runs at the wall times that exist, in both passes */
	next_is("*/30 * * * *", "Europe/Berlin", "2026-03-29T00:45:00Z", "2026-03-29T01:00:00Z");
	next_is("*/30 * * * *", "Europe/Berlin", "2026-10-25T00:45:00Z", "2026-10-25T01:00:00Z");
	next_is("*/30 * * * *", "Europe/Berlin", "2026-10-25T01:00:00Z", "2026-10-25T01:30:00Z");
	/* the zone of the process is left as it was */
	assert_null(getenv("TZ"));
}

static void test_unreachable(void **state)
{
	struct fl_cron c;
	time_t t;

	(void)state;
	/* the parser refuses "0 0 31 4 *" (see test_invalid); forge it to check the search ends */
	parse_ok("0 0 30 4 *", &c);
	c.bits[FL_CRON_DOM] = 1ULL << 31;
	c.bits[FL_CRON_MONTH] = 1ULL << 4;
	assert_int_equal(fl_cron_next(&c, NULL, utc("2026-01-01T00:00:00Z"), &t), -ERANGE);
}

static void oncal(const char *expr, const char *tz, const char *w0, const char *w1)
{
	struct fl_cron c;
	char out[2][512];

	parse_ok(expr, &c);
	assert_int_equal(fl_cron_to_oncalendar(&c, tz, out), 0);
	assert_string_equal(out[0], w0);
	assert_string_equal(out[1], w1);
}

static void test_oncalendar(void **state)
{
	(void)state;
	oncal("30 2 * * *", "Europe/Berlin", "*-*-* 2:30:00 Europe/Berlin", "");
	oncal("*/15 9-17 * * mon-fri", NULL, "Mon..Fri *-*-* 9..17:0,15,30,45:00", "");
	oncal("0 12 13 * fri", "UTC", "*-*-13 12:0:00 UTC", "Fri *-*-* 12:0:00 UTC");
	oncal("@monthly", NULL, "*-*-1 0:0:00", "");
	oncal("0 0 * jan,jul sun,sat", NULL, "Sun,Sat *-1,7-* 0:0:00", "");
}

static void test_tz_check(void **state)
{
	char why[256];

	(void)state;
	assert_int_equal(fl_tz_check("UTC", why, sizeof(why)), 0);
	assert_int_equal(fl_tz_check("Europe/Berlin", why, sizeof(why)), 0);
	assert_int_equal(fl_tz_check("Europe/Berlinn", why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "unknown time zone 'Europe/Berlinn'"));
	assert_int_equal(fl_tz_check("../etc/passwd", why, sizeof(why)), -EINVAL);
	assert_int_equal(fl_tz_check("CET-1CEST", why, sizeof(why)), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_field_forms), cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_next_basic),  cmocka_unit_test(test_leap_years),
		cmocka_unit_test(test_day_or_rule), cmocka_unit_test(test_dst),
		cmocka_unit_test(test_unreachable), cmocka_unit_test(test_oncalendar),
		cmocka_unit_test(test_tz_check),
	};

	unsetenv("TZ");
	return cmocka_run_group_tests_name("cron", tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0-only
/* Game-day plans: the model, overrides, errors with positions; the window in named zones. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reports/gameday.h"
#include "scenarios/gameday.h"

static char dir[] = "/tmp/fl-test-gameday-XXXXXX";

static const char scenario[] = "version: 1\nname: kill-it\nseed: 42\n"
			       "lab:\n  hosts:\n    a: { run: [sleep, \"300\"] }\n"
			       "faults:\n  - { name: k, kind: kill, on: a, target: { name: sleep },"
			       " at: 1s, for: 2s }\n";

static int setup(void **state)
{
	char path[256];
	FILE *f;

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/s.yaml", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(scenario, f);
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	char path[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/s.yaml", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

static struct fl_gameday *load(const char *yaml, struct fl_errors *e)
{
	struct fl_gameday *g = NULL;

	fl_gameday_load_string("p.yaml", dir, yaml, strlen(yaml), &g, e);
	return g;
}

static void test_model(void **state)
{
	struct fl_errors e = { 0 };
	struct fl_gameday *g;

	(void)state;
	g = load("version: 1\nname: day\n"
		 "window: { days: mon-fri, from: \"10:00\", to: \"16:00\", tz: Europe/Berlin }\n"
		 "schedule: { cron: \"30 10 * * tue\", tz: Europe/Berlin, overlap: skip }\n"
		 "guards: { stop_on: [aborted] }\n"
		 "stop_file: /run/fleet-stop\n"
		 "notify:\n  - { url: \"http://127.0.0.1:1/h\", format: slack, events: [end] }\n"
		 "experiments:\n"
		 "  - { scenario: s.yaml, seed: 7, baseline: 1s, recovery_within: 3s,"
		 " healthy_for: 500ms, on_failure: continue }\n"
		 "  - { wait_for: operator, message: look }\n"
		 "  - { name: again, scenario: s.yaml }\n",
		 &e);
	fl_errors_print(&e, stderr);
	assert_non_null(g);
	assert_int_equal(g->n_items, 3);
	assert_string_equal(g->items[0].name, "kill-it");
	assert_int_equal(g->items[0].s->seed, 7);
	assert_int_equal(g->items[0].s->baseline_ns, 1000000000ULL);
	assert_int_equal(g->items[0].s->recovery_within_ns, 3000000000ULL);
	assert_int_equal(g->items[0].s->recovery_healthy_for_ns, 500000000ULL);
	assert_true(g->items[0].keep_going);
	assert_int_equal(g->items[1].kind, FL_GD_PAUSE);
	assert_string_equal(g->items[1].name, "pause-2");
	assert_string_equal(g->items[1].message, "look");
	assert_string_equal(g->items[2].name, "again");
	assert_int_equal(g->items[2].s->seed, 42);
	assert_false(g->items[2].keep_going);
	assert_true(g->window.set);
	assert_int_equal(g->window.days, 0x3e);
	assert_int_equal(g->window.from_min, 600);
	assert_int_equal(g->window.to_min, 960);
	assert_string_equal(g->window.tz, "Europe/Berlin");
	assert_true(g->has_schedule);
	assert_string_equal(g->schedule_tz, "Europe/Berlin");
	assert_false(g->stop_on_failed);
	assert_true(g->stop_on_aborted);
	assert_string_equal(g->stop_file, "/run/fleet-stop");
	assert_int_equal(g->n_hooks, 1);
	assert_true(g->hooks[0].slack);
	assert_int_equal(g->hooks[0].events, FL_GD_EV_END);
	/* baseline 1s + the fault ends at 3s + recovery 3s */
	assert_int_equal(fl_gd_experiment_bound_ns(g->items[0].s), 7000000000ULL);
	assert_non_null(fl_gameday_find(g, "again"));
	fl_gameday_free(g);
	fl_errors_clear(&e);
}

static void errors_are(const char *yaml, const char *const *want)
{
	struct fl_errors e = { 0 };
	struct fl_gameday *g = load(yaml, &e);
	size_t n = 0;

	for (size_t i = 0; i < e.n; i++)
		print_message("  got: %s\n", e.v[i].text);
	assert_null(g);
	while (want[n])
		n++;
	assert_int_equal(e.n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(e.v[i].text, want[i]);
	fl_errors_clear(&e);
}

static void test_errors(void **state)
{
	(void)state;
	errors_are("version: 2\nname: Day\nexperiments: []\n",
		   (const char *const[]){
			   "p.yaml:1:10: unsupported plan version '2' (this faultline reads "
			   "version 1)",
			   "p.yaml:2:7: 'name' must be lowercase letters, digits and '-' (at most "
			   "63), got 'Day'",
			   "p.yaml:3:14: 'experiments' needs 1 to 64 items, got 0", NULL });
	errors_are(
		"version: 1\nname: d\n"
		"window: { days: mon-fry, from: \"9\", to: \"25:00\" }\n"
		"experiments:\n  - { scenario: s.yaml, name: a }\n  - { scenario: s.yaml, "
		"name: a, on_failure: maybe }\n",
		(const char *const[]){
			"p.yaml:3:17: 'days' must be days of the week like mon-fri, sat,sun or "
			"*, got 'mon-fry'",
			"p.yaml:3:32: 'from' must be a time like \"10:00\" (HH:MM, 00:00-24:00), "
			"got '9'",
			"p.yaml:3:41: 'to' must be a time like \"16:00\" (HH:MM, 00:00-24:00), "
			"got '25:00'",
			"p.yaml:6:46: 'on_failure' must be stop or continue, got 'maybe'",
			"p.yaml:6:5: two items are named 'a' (line 5 too): give one a 'name'",
			NULL });
	errors_are(
		"version: 1\nname: d\nschedule: { cron: '@reboot', overlap: queue }\n"
		"experiments:\n  - { wait_for: operator, scenario: s.yaml }\n  - { name: x }\n",
		(const char *const[]){
			"p.yaml:3:20: invalid cron expression '@reboot': column 1: unknown "
			"macro '@reboot' (@hourly, @daily, @weekly, @monthly, @yearly)",
			"p.yaml:3:39: 'overlap' must be 'skip' (a run due while the previous one "
			"is still going is skipped and recorded as missed), got 'queue'",
			"p.yaml:5:37: 'scenario' belongs to an experiment, not to a pause "
			"(wait_for)",
			"p.yaml:6:5: an experiment needs 'scenario' (a scenario file), or is a "
			"pause with 'wait_for: operator'",
			NULL });
}

static time_t utc(const char *s)
{
	struct tm tm = { 0 };

	assert_non_null(strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm));
	return timegm(&tm);
}

static void window_is(const struct fl_gd_window *w, const char *now, bool open, const char *next)
{
	time_t n = 0;

	assert_int_equal(fl_gd_window_open(w, utc(now), &n), open);
	if (!open && n != utc(next))
		fail_msg("at %s the window opens at %ld, want %s", now, (long)n, next);
}

/*
 * How the window was checked: fixed instants around its edges and DST changes, in zones with
 * and without DST, compared with the wall clock tzdata gives (README, "Game days").
 */
static void test_window(void **state)
{
	struct fl_gd_window w = { .set = true,
				  .days = 0x3e,
				  .from_min = 600,
				  .to_min = 960,
				  .tz = (char *)"Europe/Berlin" };
	struct fl_gd_window night = { .set = true,
				      .days = 1u << 5,
				      .from_min = 22 * 60,
				      .to_min = 2 * 60,
				      .tz = (char *)"America/New_York" };
	struct fl_gd_window none = { 0 };

	(void)state;
	/* Friday 2026-11-20: Berlin is UTC+1 */
	window_is(&w, "2026-11-20T08:59:59Z", false, "2026-11-20T09:00:00Z");
	window_is(&w, "2026-11-20T09:00:00Z", true, NULL);
	window_is(&w, "2026-11-20T14:59:59Z", true, NULL);
	window_is(&w, "2026-11-20T15:00:00Z", false, "2026-11-23T09:00:00Z");
	/* Saturday: closed; opens Monday */
	window_is(&w, "2026-11-21T11:00:00Z", false, "2026-11-23T09:00:00Z");
	/* summer time: UTC+2 */
	window_is(&w, "2026-06-15T08:30:00Z", true, NULL);
	window_is(&w, "2026-06-15T07:59:00Z", false, "2026-06-15T08:00:00Z");
	/* across the spring change (Sunday 29 March): Monday opens at 08:00Z */
	window_is(&w, "2026-03-27T16:00:00Z", false, "2026-03-30T08:00:00Z");
	/* across the fall-back (Sunday 25 October): Monday opens at 09:00Z */
	window_is(&w, "2026-10-23T15:00:00Z", false, "2026-10-26T09:00:00Z");
	/* a window over midnight, named by the day it opens: Friday 22:00 to Saturday 02:00 */
	window_is(&night, "2026-11-21T03:30:00Z", true, NULL); /* Fri 22:30 EST */
	window_is(&night, "2026-11-21T06:59:00Z", true, NULL); /* Sat 01:59 */
	window_is(&night, "2026-11-21T07:00:00Z", false, "2026-11-28T03:00:00Z");
	window_is(&night, "2026-11-20T02:30:00Z", false, "2026-11-21T03:00:00Z"); /* Thu 21:30 */
	assert_true(fl_gd_window_open(&none, utc("2026-11-21T11:00:00Z"), NULL));
}

static char *render(json_t *day, enum fl_report_format fmt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(fl_gameday_render(day, fmt, f), 0);
	fclose(f);
	return buf;
}

static void test_report(void **state)
{
	json_t *day = json_loads(
		"{\"schema\":\"faultline.gameday/1\",\"name\":\"d|<x>\",\"status\":\"stopped\","
		"\"exit_code\":4,\"reason\":\"stopped by 'faultline gameday stop'\","
		"\"started\":\"s\",\"ended\":\"e\",\"timeline\":[{\"time\":\"t1\",\"event\":"
		"\"paused\",\"subject\":\"p\",\"details\":\"a|b\"}],\"notes\":[{\"time\":\"t2\","
		"\"text\":\"<b>n</b>\"}],\"experiments\":[{\"name\":\"x\",\"status\":\"not-run\","
		"\"reason\":\"stopped & gone\"}]}",
		0, NULL);
	char *buf;

	(void)state;
	assert_non_null(day);
	buf = render(day, FL_REPORT_MD);
	assert_non_null(strstr(buf, "# Game day: d\\|\\<x>"));
	assert_non_null(strstr(buf, "| t1 | paused | p | a\\|b |"));
	assert_non_null(strstr(buf, "- t2: \\<b>n\\</b>"));
	free(buf);
	buf = render(day, FL_REPORT_HTML);
	assert_non_null(strstr(buf, "<tr><td>t1</td><td>paused</td><td>p</td><td>a|b</td></tr>"));
	assert_non_null(strstr(buf, "<li><time>t2</time>: &lt;b&gt;n&lt;/b&gt;</li>"));
	assert_non_null(strstr(buf, "<p>Not run: stopped &amp; gone</p>"));
	free(buf);
	buf = render(day, FL_REPORT_JUNIT);
	assert_non_null(strstr(buf, "<skipped message=\"stopped &amp; gone\"/>"));
	free(buf);
	json_decref(day);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_report),
	};

	return cmocka_run_group_tests_name("gameday", tests, setup, teardown);
}

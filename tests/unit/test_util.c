// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests: durations, fractions, names, edit distance, files, the event loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "inject/loop.h"
#include "inject/util.h"

static void durations(void **state)
{
	uint64_t ns;
	char buf[32];

	assert_int_equal(fl_parse_duration("250ms", &ns), 0);
	assert_int_equal(ns, 250 * NSEC_PER_MSEC);
	assert_int_equal(fl_parse_duration("1.5s", &ns), 0);
	assert_int_equal(ns, 1500 * NSEC_PER_MSEC);
	assert_int_equal(fl_parse_duration("2m", &ns), 0);
	assert_int_equal(ns, 120 * NSEC_PER_SEC);
	assert_int_equal(fl_parse_duration("24h", &ns), 0);
	assert_int_equal(fl_parse_duration("0", &ns), 0);
	assert_int_equal(ns, 0);
	assert_int_equal(fl_parse_duration("500us", &ns), 0);
	assert_int_equal(ns, 500 * NSEC_PER_USEC);
	assert_int_equal(fl_parse_duration("25h", &ns), -ERANGE);
	assert_int_equal(fl_parse_duration("-1s", &ns), -ERANGE);
	assert_int_equal(fl_parse_duration("99999999999999999999h", &ns), -ERANGE);
	assert_int_equal(fl_parse_duration("10", &ns), -EINVAL);
	assert_int_equal(fl_parse_duration("s", &ns), -EINVAL);
	assert_int_equal(fl_parse_duration("1x", &ns), -EINVAL);
	assert_int_equal(fl_parse_duration("", &ns), -EINVAL);
	assert_int_equal(fl_parse_duration("1 s", &ns), -EINVAL);
	assert_string_equal(fl_format_duration(1500 * NSEC_PER_MSEC, buf, sizeof(buf)), "1.5s");
	assert_string_equal(fl_format_duration(250 * NSEC_PER_MSEC, buf, sizeof(buf)), "250ms");
	assert_string_equal(fl_format_duration(120 * NSEC_PER_SEC, buf, sizeof(buf)), "2m");
	assert_string_equal(fl_format_duration(0, buf, sizeof(buf)), "0s");
}

static void fractions_and_ints(void **state)
{
	double f;
	uint64_t u;

	assert_int_equal(fl_parse_fraction("99%", &f), 0);
	assert_true(f > 0.9899 && f < 0.9901);
	assert_int_equal(fl_parse_fraction("0.5", &f), 0);
	assert_true(f == 0.5);
	assert_int_equal(fl_parse_fraction("101%", &f), -ERANGE);
	assert_int_equal(fl_parse_fraction("2", &f), -ERANGE);
	assert_int_equal(fl_parse_fraction("-1%", &f), -ERANGE);
	assert_int_equal(fl_parse_fraction("abc", &f), -EINVAL);
	assert_int_equal(fl_parse_fraction("nan", &f), -EINVAL);
	assert_int_equal(fl_parse_uint("42", 100, &u), 0);
	assert_int_equal(u, 42);
	assert_int_equal(fl_parse_uint("101", 100, &u), -ERANGE);
	assert_int_equal(fl_parse_uint("-1", 100, &u), -ERANGE);
	assert_int_equal(fl_parse_uint("4x", 100, &u), -EINVAL);
}

static void names_and_distance(void **state)
{
	static const char *const c[] = { "faults", "probes", "recovery" };

	assert_true(fl_valid_name("web-1", 12));
	assert_false(fl_valid_name("Web", 12));
	assert_false(fl_valid_name("-web", 12));
	assert_false(fl_valid_name("web-", 12));
	assert_false(fl_valid_name("a234567890123", 12));
	assert_false(fl_valid_name("", 12));
	assert_int_equal(fl_levenshtein("kitten", "sitting"), 3);
	assert_string_equal(fl_closest("fualts", c, 3), "faults");
	assert_string_equal(fl_closest("recovry", c, 3), "recovery");
	assert_null(fl_closest("zzzzzz", c, 3));
}

static void files(void **state)
{
	char dir[] = "/tmp/fl-unit-XXXXXX", path[128], *data = NULL;
	size_t len;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	assert_int_equal(fl_mkdir_p(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/a/b/c/f.json", dir);
	assert_int_equal(fl_write_file_atomic(path, "{}\n", 3, 0600), 0);
	assert_int_equal(fl_read_file(path, &data, &len), 0);
	assert_int_equal(len, 3);
	assert_string_equal(data, "{}\n");
	free(data);
	assert_int_equal(fl_rm_rf(dir), 0);
	assert_int_equal(access(dir, F_OK), -1);
	assert_int_equal(fl_rm_rf(dir), 0); /* gone is success */
	assert_int_equal(fl_read_file("/nonexistent/x", &data, NULL), -ENOENT);
}

struct tick {
	struct fl_loop *l;
	int fired;
	uint64_t at[3];
};

static int on_timer(struct fl_source *s, uint64_t now, void *ud)
{
	struct tick *t = ud;

	t->at[t->fired++] = now;
	if (t->fired == 3)
		fl_loop_exit(t->l, 7);
	else
		fl_loop_timer_set(s, now + 20 * NSEC_PER_MSEC);
	return 0;
}

static void loop_timers(void **state)
{
	struct tick t = { 0 };
	uint64_t start = fl_now_ns();

	assert_int_equal(fl_loop_new(&t.l), 0);
	assert_int_equal(fl_loop_add_timer(t.l, start + 10 * NSEC_PER_MSEC, on_timer, &t, NULL), 0);
	assert_int_equal(fl_loop_run(t.l), 7);
	assert_int_equal(t.fired, 3);
	/* timers never fire early */
	assert_true(t.at[0] >= start + 10 * NSEC_PER_MSEC);
	assert_true(t.at[1] >= t.at[0] + 20 * NSEC_PER_MSEC);
	assert_true(t.at[2] >= t.at[1] + 20 * NSEC_PER_MSEC);
	fl_loop_free(t.l);
}

static void ids(void **state)
{
	char a[16], b[16];

	assert_int_equal(fl_new_id(a, sizeof(a)), 0);
	assert_int_equal(fl_new_id(b, sizeof(b)), 0);
	assert_int_equal(strlen(a), 12);
	assert_string_not_equal(a, b);
	assert_int_equal(fl_new_id(a, 5), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(durations), cmocka_unit_test(fractions_and_ints),
		cmocka_unit_test(names_and_distance), cmocka_unit_test(files),
		cmocka_unit_test(loop_timers), cmocka_unit_test(ids),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}

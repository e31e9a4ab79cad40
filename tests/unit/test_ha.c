// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for what the HA scenarios added: per-fault impact, verify steps and their
 * figures, IP protocol numbers in network filters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "inject/netspec.h"
#include "reports/metrics.h"
#include "reports/result.h"
#include "scenario_test.h"

#define MS NSEC_PER_MSEC

/* samples every 100ms from 0 to 9.9s, 10ms each; failed where failing(t) */
static size_t series(struct fl_sample *s, bool (*failing)(uint64_t t))
{
	size_t n = 0;

	for (uint64_t t = 0; t < 10000 * MS; t += 100 * MS, n++)
		s[n] = (struct fl_sample){ .t_ns = t, .latency_ns = 10 * MS, .ok = !failing(t) };
	return n;
}

/* an outage 2.0-3.2s, a lone failure at 6.0s, a failure still open at the end */
static bool pattern(uint64_t t)
{
	return (t >= 2000 * MS && t < 3200 * MS) || t == 6000 * MS || t >= 9500 * MS;
}

static void impact_longest_run(void **state)
{
	struct fl_sample s[128];
	size_t n = series(s, pattern);
	struct fl_fault_impact im;

	/* the window of a fault applied at 1.95s, up to the next one at 8s */
	fl_fault_impact(s, n, 1950 * MS, 8000 * MS, 8000 * MS, &im);
	assert_int_equal(im.n, 60);	 /* samples that ended in [1.95, 8): 2.0 ... 7.9 */
	assert_int_equal(im.failed, 13); /* 2.0 ... 3.1, and 6.0 */
	assert_true(im.failed_any);
	assert_int_equal(im.time_to_fail, 50 * MS);
	assert_true(im.back);
	assert_int_equal(im.outage, 1200 * MS); /* 2.0 -> 3.2: the longest run, not 2.0 -> 6.1 */
	assert_int_equal(im.lat_n, 47);
	assert_true(im.lat_p50 > 0.0099 && im.lat_p50 < 0.0101);
	/* reverted at 3s: only the samples started before it give the latency */
	fl_fault_impact(s, n, 1950 * MS, 3000 * MS, 8000 * MS, &im);
	assert_int_equal(im.n, 60);
	assert_int_equal(im.lat_n, 0);
	fl_fault_impact(s, n, 1950 * MS, 5000 * MS, 8000 * MS, &im);
	assert_int_equal(im.lat_n, 18); /* 3.2 ... 4.9 */

	/* the last window ends failing: no outage figure */
	fl_fault_impact(s, n, 8000 * MS, 20000 * MS, 20000 * MS, &im);
	assert_int_equal(im.failed, 5);
	assert_false(im.back);
	assert_int_equal(im.time_to_fail, 1500 * MS);
}

static void impact_sample_under_way(void **state)
{
	/* a sample that started before the fault and timed out after it is the fault's */
	struct fl_sample s[] = {
		{ .t_ns = 900 * MS, .latency_ns = 1000 * MS, .ok = false },
		{ .t_ns = 1900 * MS, .latency_ns = 10 * MS, .ok = true },
	};
	struct fl_fault_impact im;

	fl_fault_impact(s, 2, 1000 * MS, 5000 * MS, 5000 * MS, &im);
	assert_int_equal(im.n, 2);
	assert_int_equal(im.failed, 1);
	assert_int_equal(im.time_to_fail, 0);
	assert_true(im.back);
	assert_int_equal(im.outage, 1000 * MS);

	/* nothing failed: no time to fail, no outage */
	fl_fault_impact(s + 1, 1, 1000 * MS, 5000 * MS, 5000 * MS, &im);
	assert_false(im.failed_any);
	assert_false(im.back);
}

static void figures(void **state)
{
	json_t *f = fl_result_figures("lost_writes=0\nacknowledged=259\nratio=0.25\n"
				      "primary=r1\nnot a figure\n=5\nbad key=1\nempty=\nbig=1e3");

	assert_int_equal(json_object_size(f), 6);
	assert_true(json_is_integer(json_object_get(f, "lost_writes")));
	assert_int_equal(json_integer_value(json_object_get(f, "lost_writes")), 0);
	assert_int_equal(json_integer_value(json_object_get(f, "acknowledged")), 259);
	assert_true(json_real_value(json_object_get(f, "ratio")) == 0.25);
	assert_string_equal(json_string_value(json_object_get(f, "primary")), "r1");
	assert_string_equal(json_string_value(json_object_get(f, "empty")), "");
	assert_true(json_is_real(json_object_get(f, "big")));
	json_decref(f);
	f = fl_result_figures("");
	assert_int_equal(json_object_size(f), 0);
	json_decref(f);
}

#define LAB "lab:\n  hosts:\n    a: {}\n"

static void verify_steps(void **state)
{
	struct fl_scenario *s = load_ok(HEAD LAB "verify:\n"
					"  - name: lost-writes\n"
					"    exec: [sh, check.sh, '1']\n"
					"    from: a\n"
					"    timeout: 5s\n"
					"  - { name: second, exec: [true] }\n");

	assert_int_equal(s->n_verify, 2);
	assert_string_equal(s->verify[0].name, "lost-writes");
	assert_string_equal(s->verify[0].argv[1], "check.sh");
	assert_string_equal(s->verify[0].from, "a");
	assert_int_equal(s->verify[0].timeout_ns, 5 * NSEC_PER_SEC);
	assert_null(s->verify[1].from);
	assert_int_equal(s->verify[1].timeout_ns, 30 * NSEC_PER_SEC);
	fl_scenario_free(s);
}

static void verify_errors(void **state)
{
	assert_errors(HEAD LAB "verify:\n"
			       "  - name: x\n"
			       "    exec: [true]\n"
			       "    from: b\n"
			       "    timout: 5s\n"
			       "  - { name: x, exec: [] }\n"
			       "  - { exec: [true], timeout: 2m }\n"
			       "  - just a string\n",
		      "t.yaml:9:11: unknown lab host 'b' (did you mean 'a'?)",
		      "t.yaml:10:5: unknown key 'timout' (did you mean 'timeout'?)",
		      "t.yaml:11:13: duplicate verify step name 'x' (first at line 7)",
		      "t.yaml:11:22: 'exec' cannot be empty: it starts with the program to run",
		      "t.yaml:12:5: missing required key 'name'",
		      "t.yaml:12:30: 'timeout' must be at most 1m",
		      "t.yaml:13:5: expected a mapping for each item of 'verify', got 'just a string'");
	assert_errors(HEAD "verify: { name: x }\n",
		      "t.yaml:3:9: expected a sequence for 'verify', got a mapping");
	assert_errors(HEAD "verify:\n  - { name: x, exec: [true], from: a }\n",
		      "t.yaml:4:36: 'from' needs a lab");
}

static void proto_numbers(void **state)
{
	struct fl_netspec s;
	struct fl_errors e = { 0 };
	struct fl_params p = { 0 };
	struct fl_where w = { .flag = "--proto" };
	char desc[256];

	assert_int_equal(fl_params_add(&p, "proto", "112", &w), 0);
	assert_int_equal(fl_netspec_parse(&p, NULL, &s, &e), 0);
	assert_int_equal(s.proto, 112);
	fl_netspec_describe(&s, desc, sizeof(desc));
	assert_non_null(strstr(desc, "proto 112"));
	fl_params_clear(&p);
	for (size_t i = 0; i < 3; i++) {
		static const char *const bad[] = { "0", "256", "vrrp" };
		assert_int_equal(fl_params_add(&p, "proto", bad[i], &w), 0);
		assert_int_equal(fl_netspec_parse(&p, NULL, &s, &e), -EINVAL);
		fl_params_clear(&p);
	}
	assert_int_equal(e.n, 3);
	assert_non_null(strstr(e.v[0].text, "an IP protocol number from 1 to 255, got '0'"));
	fl_errors_clear(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(impact_longest_run),	cmocka_unit_test(impact_sample_under_way),
		cmocka_unit_test(figures),		cmocka_unit_test(verify_steps),
		cmocka_unit_test(verify_errors),	cmocka_unit_test(proto_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

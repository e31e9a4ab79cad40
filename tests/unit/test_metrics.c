// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests: time to detect, time to recover, availability and outages from samples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "reports/metrics.h"

#define MS NSEC_PER_MSEC

/* samples every 100ms from 0 to 4.9s; failing in [fail_from, fail_to) */
static size_t series(struct fl_sample *s, uint64_t fail_from, uint64_t fail_to)
{
	size_t n = 0;

	for (uint64_t t = 0; t < 5000 * MS; t += 100 * MS, n++)
		s[n] = (struct fl_sample){ .t_ns = t, .latency_ns = MS,
					   .ok = !(t >= fail_from && t < fail_to) };
	return n;
}

static void kill_and_recover(void **state)
{
	struct fl_sample s[64];
	size_t n = series(s, 1100 * MS, 1800 * MS);
	struct fl_phases ph = { .faults_start = 1000 * MS, .first_fault = 1050 * MS,
				.faults_end = 2000 * MS, .reference = 1050 * MS,
				.end = 5000 * MS };
	struct fl_probe_metrics m;

	fl_metrics_compute(s, n, &ph, 1000 * MS, &m);
	assert_true(m.detected);
	assert_int_equal(m.time_to_detect, 50 * MS);	/* 1.05 -> 1.1 */
	assert_true(m.recovered);
	assert_int_equal(m.recovered_at, 1800 * MS);
	assert_int_equal(m.time_to_recover, 750 * MS); /* 1.05 -> 1.8 */
	assert_int_equal(m.longest_outage, 700 * MS);
	assert_int_equal(m.n[FL_PHASE_BASELINE], 10);
	assert_int_equal(m.ok[FL_PHASE_BASELINE], 10);
	assert_int_equal(m.n[FL_PHASE_FAULTS], 10);
	assert_int_equal(m.ok[FL_PHASE_FAULTS], 3);
	assert_int_equal(m.n[FL_PHASE_RECOVERY], 30);
}

static void never_failed(void **state)
{
	struct fl_sample s[64];
	size_t n = series(s, 0, 0);
	struct fl_phases ph = { .faults_start = 1000 * MS, .first_fault = 1000 * MS,
				.faults_end = 2000 * MS, .reference = 2000 * MS,
				.end = 5000 * MS };
	struct fl_probe_metrics m;

	fl_metrics_compute(s, n, &ph, 1000 * MS, &m);
	assert_false(m.detected);
	assert_true(m.recovered);
	assert_int_equal(m.time_to_recover, 0);
	assert_int_equal(m.longest_outage, 0);
}

static void never_recovered(void **state)
{
	struct fl_sample s[64];
	size_t n = series(s, 1500 * MS, 10000 * MS);
	struct fl_phases ph = { .faults_start = 1000 * MS, .first_fault = 1000 * MS,
				.faults_end = 2000 * MS, .reference = 2000 * MS,
				.end = 5000 * MS };
	struct fl_probe_metrics m;

	fl_metrics_compute(s, n, &ph, 1000 * MS, &m);
	assert_true(m.detected);
	assert_int_equal(m.time_to_detect, 500 * MS);
	assert_false(m.recovered);
	/* the outage runs to the end of the last sample */
	assert_int_equal(m.longest_outage, 4900 * MS + MS - 1500 * MS);
}

static void window_needs_its_full_length(void **state)
{
	struct fl_sample s[64];
	size_t n = series(s, 1100 * MS, 4500 * MS);
	uint64_t start;

	/* healthy from 4.5s, last sample at 4.9s: a 1s window is not yet observed */
	assert_false(fl_healthy_window(s, n, 2000 * MS, 1000 * MS, &start));
	assert_true(fl_healthy_window(s, n, 2000 * MS, 400 * MS, &start));
	assert_int_equal(start, 4500 * MS);
}

static void flapping_recovers_after_last_failure(void **state)
{
	struct fl_sample s[64];
	size_t n = series(s, 1100 * MS, 1500 * MS);
	struct fl_phases ph = { .faults_start = 1000 * MS, .first_fault = 1000 * MS,
				.faults_end = 2000 * MS, .reference = 1000 * MS,
				.end = 5000 * MS };
	struct fl_probe_metrics m;

	s[25].ok = false; /* one more failure at 2.5s */
	fl_metrics_compute(s, n, &ph, 1000 * MS, &m);
	assert_true(m.recovered);
	assert_int_equal(m.recovered_at, 2600 * MS);
	assert_int_equal(m.time_to_recover, 1600 * MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kill_and_recover),
		cmocka_unit_test(never_failed),
		cmocka_unit_test(never_recovered),
		cmocka_unit_test(window_needs_its_full_length),
		cmocka_unit_test(flapping_recovers_after_last_failure),
	};
	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}

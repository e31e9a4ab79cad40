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

static void single_sample(void **state)
{
	struct fl_sample s[1] = { { .t_ns = 0, .latency_ns = 5 * MS, .ok = true } };
	struct fl_phases ph = { .faults_start = 1000 * MS, .first_fault = 1000 * MS,
				.faults_end = 2000 * MS, .reference = 2000 * MS };
	struct fl_probe_metrics m;

	fl_metrics_compute(s, 1, &ph, 1000 * MS, &m);
	assert_int_equal(m.n[FL_PHASE_BASELINE], 1);
	assert_int_equal(m.lat_n[FL_PHASE_BASELINE], 1);
	/* every percentile of one sample is that sample */
	for (int q = FL_M_P50; q < FL_N_METRICS; q++)
		assert_true(m.lat[FL_PHASE_BASELINE][q] == 0.005);
	assert_false(m.detected);
	/* no sample after the reference: nothing observed, nothing claimed */
	assert_false(m.recovered);
}

static void gaps_in_samples(void **state)
{
	/* samples only every 500ms after the fault: a 1s window needs three samples */
	struct fl_sample s[] = {
		{ .t_ns = 0, .ok = true },	     { .t_ns = 1000 * MS, .ok = false },
		{ .t_ns = 2500 * MS, .ok = true },  { .t_ns = 3000 * MS, .ok = true },
		{ .t_ns = 3500 * MS, .ok = true },
	};
	struct fl_phases ph = { .faults_start = 500 * MS, .first_fault = 600 * MS,
				.faults_end = 2000 * MS, .reference = 600 * MS };
	struct fl_probe_metrics m;

	fl_metrics_compute(s, ARRAY_SIZE(s), &ph, 1000 * MS, &m);
	assert_true(m.detected);
	assert_int_equal(m.time_to_detect, 400 * MS);
	assert_true(m.recovered);
	assert_int_equal(m.recovered_at, 2500 * MS);
	assert_int_equal(m.time_to_recover, 1900 * MS);
	/* the outage is only known to the resolution of the samples: 1.0s -> 2.5s */
	assert_int_equal(m.longest_outage, 1500 * MS);
}

static void percentiles_nearest_rank(void **state)
{
	struct fl_sample s[100];
	struct fl_phases ph = { .faults_start = UINT64_MAX, .first_fault = UINT64_MAX,
				.faults_end = UINT64_MAX, .reference = UINT64_MAX };
	struct fl_probe_metrics m;

	/* latencies 1..100 ms, shuffled order must not matter */
	for (int i = 0; i < 100; i++)
		s[i] = (struct fl_sample){ .t_ns = (uint64_t)i * MS,
					   .latency_ns = (uint64_t)((i * 37) % 100 + 1) * MS,
					   .ok = true };
	s[10].ok = false; /* failed samples do not count for latency (latency 71ms) */
	fl_metrics_compute(s, 100, &ph, 1000 * MS, &m);
	assert_int_equal(m.lat_n[FL_PHASE_BASELINE], 99);
	assert_true(m.lat[FL_PHASE_BASELINE][FL_M_P50] == 0.050);
	assert_true(m.lat[FL_PHASE_BASELINE][FL_M_P90] == 0.090 + 0.001);
	assert_true(m.lat[FL_PHASE_BASELINE][FL_M_MAX] == 0.100);
}

static void expectations_with_tolerance(void **state)
{
	struct fl_probe p = { 0 };
	struct fl_probe_metrics m = { 0 };
	struct fl_expect_result r[8];
	size_t n;

	p.expect[FL_PHASE_BASELINE].set[FL_M_SUCCESS] = true;
	p.expect[FL_PHASE_BASELINE].threshold[FL_M_SUCCESS] = 0.99;
	p.expect[FL_PHASE_FAULTS].set[FL_M_P99] = true;
	p.expect[FL_PHASE_FAULTS].threshold[FL_M_P99] = 0.300;
	p.expect[FL_PHASE_FAULTS].tolerance = 0.10;
	p.expect[FL_PHASE_RECOVERY].set[FL_M_SUCCESS] = true;
	p.expect[FL_PHASE_RECOVERY].threshold[FL_M_SUCCESS] = 1.0;
	m.n[FL_PHASE_BASELINE] = 100;
	m.ok[FL_PHASE_BASELINE] = 99; /* exactly 99%: holds */
	m.lat_n[FL_PHASE_FAULTS] = 10;
	m.lat[FL_PHASE_FAULTS][FL_M_P99] = 0.320; /* over 300ms, within +10% */
	n = fl_expect_eval(&p, &m, r, 8);
	assert_int_equal(n, 3);
	assert_true(r[0].ok && r[0].measured);
	assert_true(r[1].ok);
	assert_true(r[1].effective > 0.329 && r[1].effective < 0.331);
	/* nothing measured in the recovery phase: not a pass */
	assert_false(r[2].measured);
	assert_false(r[2].ok);
	m.lat[FL_PHASE_FAULTS][FL_M_P99] = 0.340;
	n = fl_expect_eval(&p, &m, r, 8);
	assert_false(r[1].ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kill_and_recover),
		cmocka_unit_test(never_failed),
		cmocka_unit_test(never_recovered),
		cmocka_unit_test(window_needs_its_full_length),
		cmocka_unit_test(flapping_recovers_after_last_failure),
		cmocka_unit_test(single_sample),
		cmocka_unit_test(gaps_in_samples),
		cmocka_unit_test(percentiles_nearest_rank),
		cmocka_unit_test(expectations_with_tolerance),
	};
	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}

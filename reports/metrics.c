// SPDX-License-Identifier: GPL-2.0-only
/* Recovery metrics from probe samples: availability per phase, time to detect and recover. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reports/metrics.h"

const char *const fl_phase_names[FL_N_PHASES] = { "baseline", "faults", "recovery" };

enum fl_phase fl_phase_of(const struct fl_phases *ph, uint64_t t)
{
	if (t < ph->faults_start)
		return FL_PHASE_BASELINE;
	if (t < ph->faults_end)
		return FL_PHASE_FAULTS;
	return FL_PHASE_RECOVERY;
}

bool fl_healthy_window(const struct fl_sample *s, size_t n, uint64_t from, uint64_t healthy_for,
		       uint64_t *ret_start)
{
	bool in_window = false;
	uint64_t start = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i].t_ns < from)
			continue;
		if (!s[i].ok) {
			in_window = false;
			continue;
		}
		if (!in_window) {
			in_window = true;
			start = s[i].t_ns;
		}
		if (s[i].t_ns - start >= healthy_for) {
			*ret_start = start;
			return true;
		}
	}
	return false;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentiles of the successful samples' latencies, per phase. */
static void latency_percentiles(const struct fl_sample *s, size_t n, const struct fl_phases *ph,
				struct fl_probe_metrics *m)
{
	static const double pct[FL_N_METRICS] = { 0, 50, 90, 95, 99, 100 };
	double *v = malloc((n ? n : 1) * sizeof(*v));

	if (!v)
		return;
	for (int p = 0; p < FL_N_PHASES; p++) {
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (s[i].ok && fl_phase_of(ph, s[i].t_ns) == (enum fl_phase)p)
				v[k++] = (double)s[i].latency_ns / 1e9;
		m->lat_n[p] = k;
		if (!k)
			continue;
		qsort(v, k, sizeof(*v), cmp_double);
		for (int q = FL_M_P50; q < FL_N_METRICS; q++) {
			size_t rank = (size_t)ceil(pct[q] / 100.0 * (double)k);
			m->lat[p][q] = v[(rank ? rank : 1) - 1];
		}
	}
	free(v);
}

size_t fl_expect_eval(const struct fl_probe *p, const struct fl_probe_metrics *m,
		      struct fl_expect_result *out, size_t max)
{
	size_t n = 0;

	for (int ph = 0; ph < FL_N_PHASES; ph++) {
		const struct fl_expect *e = &p->expect[ph];
		for (int k = 0; k < FL_N_METRICS && n < max; k++) {
			struct fl_expect_result *r = &out[n];
			if (!e->set[k])
				continue;
			*r = (struct fl_expect_result){ .phase = (enum fl_phase)ph,
							.metric = (enum fl_metric)k,
							.threshold = e->threshold[k] };
			if (k == FL_M_SUCCESS) {
				r->effective = e->threshold[k] - e->tolerance;
				r->measured = m->n[ph] > 0;
				if (r->measured)
					r->observed = (double)m->ok[ph] / (double)m->n[ph];
				/* 1e-9: 99 of 100 is 99%, whatever the float rounding */
				r->ok = r->measured && r->observed + 1e-9 >= r->effective;
			} else {
				r->effective = e->threshold[k] * (1.0 + e->tolerance);
				r->measured = m->lat_n[ph] > 0;
				if (r->measured)
					r->observed = m->lat[ph][k];
				r->ok = r->measured && r->observed <= r->effective + 1e-12;
			}
			n++;
		}
	}
	return n;
}

void fl_metrics_compute(const struct fl_sample *s, size_t n, const struct fl_phases *ph,
			uint64_t healthy_for, struct fl_probe_metrics *m)
{
	uint64_t outage_start = 0;
	bool in_outage = false, failed_after_ref = false;

	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < n; i++) {
		enum fl_phase p = fl_phase_of(ph, s[i].t_ns);
		m->n[p]++;
		if (s[i].ok)
			m->ok[p]++;
		if (!s[i].ok && !m->detected && s[i].t_ns >= ph->first_fault &&
		    ph->first_fault >= ph->faults_start && i < n) {
			m->detected = true;
			m->time_to_detect = s[i].t_ns - ph->first_fault;
		}
		if (!s[i].ok && s[i].t_ns >= ph->reference)
			failed_after_ref = true;
		if (!s[i].ok && !in_outage) {
			in_outage = true;
			outage_start = s[i].t_ns;
		} else if (s[i].ok && in_outage) {
			in_outage = false;
			if (s[i].t_ns - outage_start > m->longest_outage)
				m->longest_outage = s[i].t_ns - outage_start;
		}
	}
	if (in_outage && n && s[n - 1].t_ns + s[n - 1].latency_ns - outage_start > m->longest_outage)
		m->longest_outage = s[n - 1].t_ns + s[n - 1].latency_ns - outage_start;
	/* the window may only start after the last failure that follows the reference */
	{
		uint64_t from = ph->reference;
		for (size_t i = 0; i < n; i++)
			if (!s[i].ok && s[i].t_ns >= ph->reference)
				from = s[i].t_ns + 1;
		m->recovered = fl_healthy_window(s, n, failed_after_ref ? from : ph->reference,
						 healthy_for, &m->recovered_at);
	}
	if (m->recovered)
		m->time_to_recover = failed_after_ref ? m->recovered_at - ph->reference : 0;
	latency_percentiles(s, n, ph, m);
}

void fl_fault_impact(const struct fl_sample *s, size_t n, uint64_t from, uint64_t active_until,
		     uint64_t until, struct fl_fault_impact *ret)
{
	uint64_t first_fail = 0, run_start = 0;
	bool in_run = false;
	double *v = malloc((n ? n : 1) * sizeof(*v));

	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; i < n; i++) {
		/* by its end: a sample under way when the fault came is the fault's */
		uint64_t end = s[i].t_ns + s[i].latency_ns;

		if (end < from || end >= until)
			continue;
		ret->n++;
		if (!s[i].ok) {
			if (!ret->failed_any)
				first_fail = s[i].t_ns;
			ret->failed_any = true;
			ret->failed++;
			if (!in_run)
				run_start = s[i].t_ns;
			in_run = true;
			continue;
		}
		if (v && s[i].t_ns < active_until)
			v[ret->lat_n++] = (double)s[i].latency_ns / 1e9;
		if (in_run && s[i].t_ns - run_start > ret->outage) {
			ret->outage = s[i].t_ns - run_start;
			ret->back = true;
		}
		in_run = false;
	}
	/* a run of failures still open at the window's end is the longest: no figure then */
	if (in_run && (!ret->back || until - run_start > ret->outage))
		ret->back = false;
	if (ret->failed_any)
		ret->time_to_fail = first_fail > from ? first_fail - from : 0;
	if (v && ret->lat_n) {
		qsort(v, ret->lat_n, sizeof(*v), cmp_double);
		/* nearest rank, as the phases' percentiles */
		ret->lat_p50 = v[(size_t)ceil(0.5 * (double)ret->lat_n) - 1];
		ret->lat_max = v[ret->lat_n - 1];
	}
	free(v);
}

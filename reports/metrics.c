// SPDX-License-Identifier: GPL-2.0-only
/* Recovery metrics from probe samples: availability per phase, time to detect and recover. */
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
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* Recovery metrics computed from probe samples: per-phase availability, detect and recover. */
#ifndef FL_METRICS_H
#define FL_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "reports/probe.h"

enum fl_phase {
	FL_PHASE_BASELINE,
	FL_PHASE_FAULTS,
	FL_PHASE_RECOVERY,
	FL_N_PHASES,
};

extern const char *const fl_phase_names[FL_N_PHASES];

/*
 * Phase boundaries, all from t0: baseline [0, faults_start), faults [faults_start, faults_end),
 * recovery [faults_end, end). reference is what recovery is measured from: the last revert, or
 * the last signal for a kill (a kill is over when it is delivered, whatever its window says).
 */
struct fl_phases {
	uint64_t faults_start;
	uint64_t first_fault; /* first apply */
	uint64_t faults_end;
	uint64_t reference;
	uint64_t end;
};

struct fl_probe_metrics {
	size_t n[FL_N_PHASES], ok[FL_N_PHASES];
	bool detected;	       /* a failed sample at or after the first fault */
	uint64_t time_to_detect; /* first_fault -> start of the first failed sample */
	bool recovered;	       /* a complete healthy window after the reference */
	uint64_t recovered_at;   /* start of that window, from t0 */
	uint64_t time_to_recover; /* reference -> recovered_at, 0 if no failure after reference */
	uint64_t longest_outage;  /* longest run of failed samples, first failure to next success */
	/* latency of the successful samples per phase, nearest-rank; index by enum fl_metric
	 * (FL_M_P50..FL_M_MAX, seconds); lat_n is how many samples they come from */
	double lat[FL_N_PHASES][FL_N_METRICS];
	size_t lat_n[FL_N_PHASES];
};

/* One expectation, evaluated. */
struct fl_expect_result {
	enum fl_phase phase;
	enum fl_metric metric;
	double threshold;  /* as written */
	double effective;  /* with the tolerance applied */
	double observed;   /* valid when measured */
	bool measured;
	bool ok;
};

enum fl_phase fl_phase_of(const struct fl_phases *ph, uint64_t t);

/*
 * A healthy window: consecutive ok samples starting at or after `from`, spanning at least
 * healthy_for (from the first one's start to the last one's start), no failure inside. Returns
 * true with its start in *ret_start once such a window has been observed.
 */
bool fl_healthy_window(const struct fl_sample *s, size_t n, uint64_t from, uint64_t healthy_for,
		       uint64_t *ret_start);

/* Every expectation the probe sets, against m; returns how many were written. */
size_t fl_expect_eval(const struct fl_probe *p, const struct fl_probe_metrics *m,
		      struct fl_expect_result *out, size_t max);

/*
 * What one fault did to one probe: the samples that ended in [from, until), from the fault's
 * first application to the next fault's (or the end of the run); a sample under way when the
 * fault came counts for it (its time_to_fail is then 0). The latency figures are those of the
 * samples that started while the fault was active (before active_until: its revert).
 */
struct fl_fault_impact {
	size_t n, failed;
	bool failed_any;
	uint64_t time_to_fail;	/* from -> start of the first failed sample */
	bool back;		/* the longest run of failed samples ended in the window */
	uint64_t outage;	/* its first failed sample's start -> the next success's start */
	size_t lat_n;		/* successful samples started before active_until ... */
	double lat_p50, lat_max; /* ... and their latency, seconds */
};

void fl_fault_impact(const struct fl_sample *s, size_t n, uint64_t from, uint64_t active_until,
		     uint64_t until, struct fl_fault_impact *ret);

void fl_metrics_compute(const struct fl_sample *s, size_t n, const struct fl_phases *ph,
			uint64_t healthy_for, struct fl_probe_metrics *m);

#endif

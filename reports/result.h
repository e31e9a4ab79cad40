/* SPDX-License-Identifier: GPL-2.0-only */
/* The canonical result (JSON, schema "faultline.result/1"): building, writing, summarising. */
#ifndef FL_RESULT_H
#define FL_RESULT_H

#include <jansson.h>
#include <stdio.h>

#include "reports/metrics.h"
#include "reports/probe.h"

#define FL_RESULT_SCHEMA "faultline.result/1"

static inline double fl_sec(uint64_t ns)
{
	return (double)ns / 1e9;
}

/* A probe's samples, per-phase counts and recovery metrics; fills *ret_m. */
json_t *fl_result_probe(struct fl_probe_rt *p, const struct fl_phases *ph, uint64_t healthy_for,
			struct fl_probe_metrics *ret_m);
/* What a fault did to a probe: its samples that ended in [from, until) (faults[].impact.PROBE). */
json_t *fl_result_fault_impact(struct fl_probe_rt *p, uint64_t from, uint64_t active_until,
			       uint64_t until);
/* A verify step's figures from its output: `key=value` lines, numbers as numbers. */
json_t *fl_result_figures(const char *out);
/* Write DIR/result.json (creating DIR), durably; returns the path. */
int fl_result_write(json_t *result, const char *dir, char **ret_path);
/* Human summary on f: verdict, expectations, metrics. */
void fl_result_print_summary(json_t *result, FILE *f);

#endif

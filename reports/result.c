// SPDX-License-Identifier: GPL-2.0-only
/* The canonical result: samples and metrics per probe, written as DIR/result.json. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reports/result.h"
#include "scenarios/probespec.h"

json_t *fl_result_probe(struct fl_probe_rt *p, const struct fl_phases *ph, uint64_t healthy_for,
			struct fl_probe_metrics *m)
{
	const struct fl_probe *spec = fl_probe_spec(p);
	size_t n;
	const struct fl_sample *s = fl_probe_samples(p, &n);
	json_t *samples = json_array(), *phases = json_object(), *o;

	fl_metrics_compute(s, n, ph, healthy_for, m);
	for (size_t i = 0; i < n; i++) {
		json_t *sj = json_pack("{s:f, s:f, s:b, s:s}", "t", fl_sec(s[i].t_ns), "latency_ms",
				       (double)s[i].latency_ns / 1e6, "ok", s[i].ok, "reason",
				       s[i].reason);
		/* prometheus: the query's value, only when there was one */
		if (s[i].has_value)
			json_object_set_new(sj, "value", json_real(s[i].value));
		json_array_append_new(samples, sj);
	}
	for (int i = 0; i < FL_N_PHASES; i++) {
		json_t *lat = json_null();
		if (m->lat_n[i]) {
			lat = json_pack("{s:f, s:f, s:f, s:f, s:f, s:o}", "p50", m->lat[i][FL_M_P50],
					"p90", m->lat[i][FL_M_P90], "p95", m->lat[i][FL_M_P95],
					"p99", m->lat[i][FL_M_P99], "max", m->lat[i][FL_M_MAX],
					"method",
					json_sprintf("nearest-rank over %zu successful samples, "
						     "1us clock resolution",
						     m->lat_n[i]));
		}
		json_object_set_new(phases, fl_phase_names[i],
				    json_pack("{s:I, s:I, s:I, s:o, s:o}", "samples",
					      (json_int_t)m->n[i], "ok", (json_int_t)m->ok[i],
					      "errors", (json_int_t)(m->n[i] - m->ok[i]),
					      "availability",
					      m->n[i] ? json_real((double)m->ok[i] / (double)m->n[i])
						      : json_null(),
					      "latency", lat));
	}
	o = json_pack("{s:s, s:s, s:f, s:f, s:o, s:o}", "name", spec->name, "kind",
		      fl_probe_kind_name(spec->kind), "every_s", fl_sec(spec->every_ns),
		      "timeout_s", fl_sec(spec->timeout_ns), "phases", phases, "samples", samples);
	/* http, prometheus: the URL with its credentials redacted; header values never */
	if (spec->kind != FL_PROBE_EXEC) {
		char *target = fl_probe_target(spec);
		json_object_set_new(o, "target", target ? json_string(target) : json_null());
		free(target);
	}
	if (spec->kind == FL_PROBE_PROMETHEUS)
		json_object_set_new(o, "query", json_string(spec->http->query));
	if (spec->from)
		json_object_set_new(o, "from", json_string(spec->from));
	/* never report a number that was not measured: absent means "did not happen" */
	json_object_set_new(o, "detected", json_boolean(m->detected));
	if (m->detected)
		json_object_set_new(o, "time_to_detect_s", json_real(fl_sec(m->time_to_detect)));
	json_object_set_new(o, "recovered", json_boolean(m->recovered));
	if (m->recovered)
		json_object_set_new(o, "time_to_recover_s", json_real(fl_sec(m->time_to_recover)));
	json_object_set_new(o, "longest_outage_s", json_real(fl_sec(m->longest_outage)));
	return o;
}

json_t *fl_result_fault_impact(struct fl_probe_rt *p, uint64_t from, uint64_t active_until,
			       uint64_t until)
{
	size_t n;
	const struct fl_sample *s = fl_probe_samples(p, &n);
	struct fl_fault_impact im;
	json_t *o;

	fl_fault_impact(s, n, from, active_until, until, &im);
	o = json_pack("{s:I, s:I}", "samples", (json_int_t)im.n, "failed", (json_int_t)im.failed);
	/* absent means "did not happen", as everywhere in the result */
	if (im.failed_any)
		json_object_set_new(o, "time_to_fail_s", json_real(fl_sec(im.time_to_fail)));
	if (im.failed_any && im.back)
		json_object_set_new(o, "outage_s", json_real(fl_sec(im.outage)));
	if (im.lat_n) {
		json_object_set_new(o, "latency_p50_s", json_real(im.lat_p50));
		json_object_set_new(o, "latency_max_s", json_real(im.lat_max));
	}
	return o;
}

static bool figure_key(const char *k, size_t n)
{
	if (!n || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)k[i]) && !strchr("_.-", k[i]))
			return false;
	return true;
}

json_t *fl_result_figures(const char *out)
{
	json_t *o = json_object();

	for (const char *l = out; l && *l && json_object_size(o) < 64;) {
		size_t len = strcspn(l, "\n"), k = strcspn(l, "=\n");
		_cleanup_free_ char *key = strndup(l, k), *val = NULL;
		char *end;
		double d;

		if (k < len && figure_key(l, k) && key &&
		    (val = strndup(l + k + 1, len - k - 1))) {
			errno = 0;
			d = strtod(val, &end);
			if (*val && !*end && !errno && isfinite(d))
				json_object_set_new(o, key,
						    fabs(d) < 9e15 && !strpbrk(val, ".eEnN")
							    ? json_integer((json_int_t)d)
							    : json_real(d));
			else
				json_object_set_new(o, key, json_string(val));
		}
		l += len + (l[len] == '\n');
	}
	return o;
}

int fl_result_write(json_t *result, const char *dir, char **ret_path)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	int r = fl_mkdir_p(dir, 0755);

	if (r < 0)
		return r;
	if (asprintf(&path, "%s/result.json", dir) < 0)
		return -ENOMEM;
	text = json_dumps(result, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
	if (!text)
		return -ENOMEM;
	r = fl_write_file_atomic(path, text, strlen(text), 0644);
	if (r < 0)
		return r;
	if (ret_path)
		*ret_path = TAKE_PTR(path);
	return 0;
}

/* One line per fault and probe it touched; one per verify step with its figures. */
static void print_impact_summary(json_t *res, FILE *f)
{
	json_t *x, *im, *v;
	const char *k;
	size_t i;

	json_array_foreach(json_object_get(res, "faults"), i, x) {
		json_object_foreach(json_object_get(x, "impact"), k, im) {
			json_t *ttf = json_object_get(im, "time_to_fail_s");
			json_t *out = json_object_get(im, "outage_s");
			json_t *p50 = json_object_get(im, "latency_p50_s");

			fprintf(f, "  fault %s, probe %s: %lld of %lld samples failed",
				json_string_value(json_object_get(x, "name")), k,
				(long long)json_integer_value(json_object_get(im, "failed")),
				(long long)json_integer_value(json_object_get(im, "samples")));
			if (ttf)
				fprintf(f, ", first after %.3fs", json_real_value(ttf));
			if (out)
				fprintf(f, ", outage %.3fs", json_real_value(out));
			else if (ttf)
				fprintf(f, ", still failing at the next fault or the end");
			if (p50)
				fprintf(f, ", ok latency p50 %.1fms", 1e3 * json_real_value(p50));
			fputc('\n', f);
		}
	}
	json_array_foreach(json_object_get(res, "verify"), i, x) {
		fprintf(f, "  verify %s: %s", json_string_value(json_object_get(x, "name")),
			json_string_value(json_object_get(x, "status")));
		json_object_foreach(json_object_get(x, "figures"), k, v) {
			if (json_is_string(v))
				fprintf(f, " %s=%s", k, json_string_value(v));
			else if (json_is_integer(v))
				fprintf(f, " %s=%lld", k, (long long)json_integer_value(v));
			else
				fprintf(f, " %s=%g", k, json_number_value(v));
		}
		fputc('\n', f);
	}
}

void fl_result_print_summary(json_t *res, FILE *f)
{
	json_t *e, *p;
	size_t i;

	fprintf(f, "run %s: %s", json_string_value(json_object_get(res, "run_id")),
		json_string_value(json_object_get(res, "verdict")));
	if (json_is_string(json_object_get(res, "reason")))
		fprintf(f, " (%s)", json_string_value(json_object_get(res, "reason")));
	fputc('\n', f);
	json_array_foreach(json_object_get(res, "expectations"), i, e)
		fprintf(f, "  [%s] %s: %s\n", json_is_true(json_object_get(e, "ok")) ? "pass" : "FAIL",
			json_string_value(json_object_get(e, "name")),
			json_string_value(json_object_get(e, "message")));
	json_array_foreach(json_object_get(res, "probes"), i, p) {
		json_t *ph = json_object_get(p, "phases");
		fprintf(f, "  probe %s:", json_string_value(json_object_get(p, "name")));
		for (int k = 0; k < FL_N_PHASES; k++) {
			json_t *x = json_object_get(ph, fl_phase_names[k]);
			json_t *a = json_object_get(x, "availability");
			if (json_is_real(a))
				fprintf(f, " %s %.1f%% (%lld)", fl_phase_names[k],
					100.0 * json_real_value(a),
					(long long)json_integer_value(json_object_get(x, "samples")));
		}
		if (json_is_true(json_object_get(p, "detected")))
			fprintf(f, ", detected after %.3fs",
				json_real_value(json_object_get(p, "time_to_detect_s")));
		if (json_is_true(json_object_get(p, "recovered")))
			fprintf(f, ", recovered after %.3fs",
				json_real_value(json_object_get(p, "time_to_recover_s")));
		else
			fprintf(f, ", did not recover");
		fputc('\n', f);
	}
	print_impact_summary(res, f);
}

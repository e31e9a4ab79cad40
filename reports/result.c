// SPDX-License-Identifier: GPL-2.0-only
/* The canonical result: samples and metrics per probe, written as DIR/result.json. */
#include <errno.h>
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
}

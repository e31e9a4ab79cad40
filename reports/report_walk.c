// SPDX-License-Identifier: GPL-2.0-only
/* One walk over a result for the Markdown and HTML reports; each format supplies an emitter. */
#include <stdlib.h>
#include <string.h>

#include "inject/util.h"
#include "reports/report_walk.h"
#include "reports/writers.h"

/* --- emitter calls that keep the table state -------------------------------------------------- */

void fl_table(struct fl_emit *e, const struct fl_col *cols, size_t n)
{
	e->cols = cols;
	e->n_cols = n;
	e->ops->table(e, cols, n);
}

void fl_table_end(struct fl_emit *e)
{
	e->ops->table_end(e);
	e->cols = NULL;
	e->n_cols = 0;
}

void fl_row(struct fl_emit *e, const char *cls)
{
	e->col = 0;
	e->ops->row(e, cls);
}

void fl_row_end(struct fl_emit *e)
{
	e->ops->row_end(e);
}

void fl_cell(struct fl_emit *e)
{
	e->ops->cell(e, e->col < e->n_cols ? e->cols[e->col].kind : FL_CELL_TEXT);
	e->col++;
}

void fl_cell_text(struct fl_emit *e, const char *s)
{
	fl_cell(e);
	fl_text(e, s);
}

void fl_cell_code(struct fl_emit *e, const char *s)
{
	fl_cell(e);
	fl_code(e, s);
}

void fl_cell_val(struct fl_emit *e, bool have, double v, enum fl_num how)
{
	char buf[48];

	fl_cell(e);
	if (!have) {
		fputs("–", e->f);
		return;
	}
	switch (how) {
	case FL_NUM_COUNT:
		fprintf(e->f, "%.0f", v);
		break;
	case FL_NUM_SECONDS:
		fprintf(e->f, "%.3f s", v);
		break;
	case FL_NUM_PERCENT:
		fprintf(e->f, "%.1f%%", 100.0 * v);
		break;
	case FL_NUM_LATENCY:
		fputs(fl_fmt_latency(v, buf, sizeof(buf)), e->f);
		break;
	}
}

void fl_cell_num(struct fl_emit *e, json_t *o, const char *key, enum fl_num how)
{
	double v = 0;
	bool have = fl_j_num(o, key, &v);

	fl_cell_val(e, have, v, how);
}

/* --- pieces the formats' own parts use -------------------------------------------------------- */

void fl_walk_run_facts(struct fl_emit *e, json_t *res)
{
	const char *sep = e->ops->run_sep, *s;
	FILE *f = e->f;
	double x;

	fl_code(e, fl_j_str(res, "run_id") ? fl_j_str(res, "run_id") : "?");
	if ((s = fl_j_str(res, "file"))) {
		fputs(" of ", f);
		fl_code(e, s);
	}
	if (fl_j_num(res, "seed", &x))
		fprintf(f, "%sseed %.0f", sep, x);
	if ((s = fl_j_str(res, "started"))) {
		fprintf(f, "%sstarted ", sep);
		fl_text(e, s);
	}
	if (fl_j_num(res, "duration_s", &x))
		fprintf(f, "%s%.3f s", sep, x);
	if (json_is_integer(json_object_get(res, "exit_code")))
		fprintf(f, "%sexit %lld", sep,
			(long long)json_integer_value(json_object_get(res, "exit_code")));
}

void fl_walk_probe_target(struct fl_emit *e, json_t *p)
{
	/* tcp host:port; http, prometheus: the URL as the probe redacted it */
	if (fl_j_str(p, "target"))
		fl_code(e, fl_j_str(p, "target"));
	if (fl_j_str(p, "query")) {
		fputs(" query ", e->f);
		fl_code(e, fl_j_str(p, "query"));
	}
	if (fl_j_str(p, "from")) {
		fputs(" from ", e->f);
		fl_code(e, fl_j_str(p, "from"));
	}
}

void fl_walk_phase_cells(struct fl_emit *e, json_t *phase, bool errors, const char *const *pct,
			 size_t n_pct)
{
	json_t *lat = json_object_get(phase, "latency");
	double n, ok, bad = 0;

	fl_cell_num(e, phase, "samples", FL_NUM_COUNT);
	fl_cell_num(e, phase, "ok", FL_NUM_COUNT);
	if (errors) {
		/* older results have no "errors": samples - ok */
		bool have = fl_j_num(phase, "errors", &bad) ||
			    (fl_j_num(phase, "samples", &n) && fl_j_num(phase, "ok", &ok) &&
			     (bad = n - ok) >= 0);

		fl_cell_val(e, have, bad, FL_NUM_COUNT);
	}
	fl_cell_num(e, phase, "availability", FL_NUM_PERCENT);
	for (size_t q = 0; q < n_pct; q++)
		fl_cell_num(e, lat, pct[q], FL_NUM_LATENCY);
	fl_cell_text(e, fl_j_str(lat, "method"));
}

/* --- the shared sections ---------------------------------------------------------------------- */

static void expectations(struct fl_emit *e, json_t *res)
{
	static const struct fl_col cols[] = {
		{ "Result", FL_CELL_RESULT }, { "Expectation", FL_CELL_TEXT },
		{ "Probe", FL_CELL_TEXT },    { "Phase", FL_CELL_TEXT },
		{ "Expected", FL_CELL_TEXT }, { "Observed", FL_CELL_TEXT },
	};
	json_t *exps = fl_j_arr(res, "expectations"), *x;
	size_t i, n = json_array_size(exps), failed = 0;
	char title[80];

	json_array_foreach(exps, i, x)
		failed += !fl_j_true(x, "ok");
	if (!n) {
		fl_section(e, "expectations", "Expectations");
		e->ops->para(e, NULL, "No expectations were evaluated.");
		fl_section_end(e);
		return;
	}
	if (failed)
		snprintf(title, sizeof(title), "Expectations: %zu of %zu failed", failed, n);
	else
		snprintf(title, sizeof(title), "Expectations: all %zu held", n);
	fl_section(e, "expectations", title);
	fl_table(e, cols, ARRAY_SIZE(cols));
	json_array_foreach(exps, i, x) {
		char phbuf[16];
		const char *phase = fl_expectation_phase(x, phbuf, sizeof(phbuf));
		const char *probe = fl_expectation_probe(x, res), *name = fl_j_str(x, "name");
		_cleanup_free_ char *text = fl_expectation_text(x), *rule = fl_expectation_rule(x);
		bool ok = fl_j_true(x, "ok");

		fl_row(e, ok ? "pass" : "fail");
		fl_cell(e);
		fputs(ok ? e->ops->pass : e->ops->fail, e->f);
		fl_cell_text(e, name ? name : fl_j_str(x, "id"));
		fl_cell(e);
		if (probe)
			fl_code(e, probe);
		fl_cell_text(e, phase);
		fl_cell_text(e, rule);
		fl_cell_text(e, text);
		fl_row_end(e);
	}
	fl_table_end(e);
	fl_section_end(e);
}

static void timeline(struct fl_emit *e, json_t *res)
{
	static const struct fl_col cols[] = {
		{ "t", FL_CELL_NUM },
		{ "Event", FL_CELL_TEXT },
		{ "Details", FL_CELL_TEXT },
	};
	struct fl_trow *rows = NULL;
	size_t n = fl_timeline(res, &rows);

	fl_section(e, "timeline", "Timeline");
	fl_table(e, cols, ARRAY_SIZE(cols));
	for (size_t i = 0; i < n; i++) {
		fl_row(e, NULL);
		fl_cell_val(e, true, rows[i].t, FL_NUM_SECONDS);
		fl_cell(e);
		if (rows[i].subject) {
			fl_code(e, rows[i].subject);
			fputc(' ', e->f);
		}
		fl_text(e, rows[i].what);
		fl_cell_text(e, rows[i].details);
		fl_row_end(e);
	}
	fl_timeline_free(rows, n);
	fl_table_end(e);
	fl_section_end(e);
}

static void faults(struct fl_emit *e, json_t *res)
{
	static const struct fl_col cols[] = {
		{ "Fault", FL_CELL_TEXT }, { "Kind", FL_CELL_TEXT },   { "Backend", FL_CELL_TEXT },
		{ "On", FL_CELL_TEXT },	   { "Asked", FL_CELL_TEXT },  { "At", FL_CELL_NUM },
		{ "For", FL_CELL_NUM },	   { "Applied", FL_CELL_NUM },
	};
	json_t *fs = fl_j_arr(res, "faults"), *x;
	size_t i;

	if (!json_array_size(fs))
		return;
	fl_section(e, "faults", e->ops->faults_title);
	fl_table(e, cols, ARRAY_SIZE(cols));
	json_array_foreach(fs, i, x) {
		const char *desc = fl_j_str(x, "description");
		_cleanup_free_ char *asked =
			desc ? NULL : fl_json_brief(json_object_get(x, "asked"));

		fl_row(e, NULL);
		fl_cell_code(e, fl_j_str(x, "name") ? fl_j_str(x, "name") : "?");
		fl_cell_text(e, fl_j_str(x, "kind"));
		fl_cell_text(e, fl_j_str(x, "backend"));
		fl_cell_text(e, fl_j_str(x, "on") ? fl_j_str(x, "on") : "local");
		fl_cell_text(e, desc ? desc : asked);
		fl_cell_num(e, x, "at_s", FL_NUM_SECONDS);
		fl_cell_num(e, x, "for_s", FL_NUM_SECONDS);
		fl_cell_num(e, x, "applications", FL_NUM_COUNT);
		fl_row_end(e);
	}
	fl_table_end(e);
	e->ops->para(e, "note", e->ops->faults_note);
	fl_section_end(e);
}

/* Faults on remote hosts (`on:` a selector): what happened on each chosen host. */
static void remote_hosts(struct fl_emit *e, json_t *res)
{
	static const struct fl_col cols[] = {
		{ "Fault", FL_CELL_TEXT },     { "Host", FL_CELL_TEXT },    { "Via", FL_CELL_TEXT },
		{ "State", FL_CELL_TEXT },     { "Applied at", FL_CELL_NUM }, { "Apply", FL_CELL_NUM },
		{ "Revert", FL_CELL_NUM },     { "Detail", FL_CELL_TEXT },
	};
	json_t *fs = fl_j_arr(res, "faults"), *x, *h;
	bool any = false;
	size_t i, k;

	json_array_foreach(fs, i, x)
		any |= json_array_size(fl_j_arr(x, "hosts")) > 0;
	if (!any)
		return;
	fl_section(e, "hosts", "Remote hosts");
	fl_table(e, cols, ARRAY_SIZE(cols));
	json_array_foreach(fs, i, x) {
		json_array_foreach(fl_j_arr(x, "hosts"), k, h) {
			const char *st = fl_j_str(h, "state"), *err = fl_j_str(h, "error");
			json_t *inj = json_object_get(json_object_get(h, "applied"), "injected");
			_cleanup_free_ char *brief = err || !inj ? NULL : fl_json_brief(inj);
			bool bad = st && (!strcmp(st, "failed") || !strcmp(st, "revert-failed"));

			fl_row(e, bad ? "fail" : NULL);
			fl_cell_code(e, fl_j_str(x, "name") ? fl_j_str(x, "name") : "?");
			fl_cell_code(e, fl_j_str(h, "host") ? fl_j_str(h, "host") : "?");
			fl_cell_text(e, fl_j_str(h, "transport"));
			fl_cell_text(e, st);
			fl_cell_num(e, h, "apply_at_s", FL_NUM_SECONDS);
			fl_cell_num(e, h, "apply_s", FL_NUM_SECONDS);
			fl_cell_num(e, h, "revert_s", FL_NUM_SECONDS);
			fl_cell_text(e, err ? err : brief);
			fl_row_end(e);
		}
	}
	fl_table_end(e);
	fl_section_end(e);
}

/* A host's command line, "" for an empty argument; NULL when it runs nothing (or on ENOMEM). */
static char *command_line(json_t *run)
{
	char *cmd = NULL;
	size_t len = 0, k;
	FILE *m;
	json_t *a;

	if (!json_array_size(run) || !(m = open_memstream(&cmd, &len)))
		return NULL;
	json_array_foreach(run, k, a) {
		const char *arg = json_string_value(a);

		fprintf(m, "%s%s", k ? " " : "", !arg ? "?" : *arg ? arg : "\"\"");
	}
	if (fclose(m) != 0) {
		free(cmd);
		return NULL;
	}
	return cmd;
}

static void lab(struct fl_emit *e, json_t *res)
{
	static const struct fl_col cols[] = {
		{ "Host", FL_CELL_TEXT },      { "Address", FL_CELL_TEXT },
		{ "Service", FL_CELL_TEXT },   { "Restarts", FL_CELL_NUM },
		{ "Last exit", FL_CELL_TEXT },
	};
	json_t *hosts = fl_j_arr(json_object_get(res, "lab"), "hosts"), *h;
	size_t i;

	if (!json_array_size(hosts))
		return;
	fl_section(e, "lab", "Lab");
	fl_table(e, cols, ARRAY_SIZE(cols));
	json_array_foreach(hosts, i, h) {
		json_t *run = fl_j_arr(h, "run");
		_cleanup_free_ char *cmd = command_line(run);

		fl_row(e, NULL);
		fl_cell_code(e, fl_j_str(h, "name") ? fl_j_str(h, "name") : "?");
		fl_cell_text(e, fl_j_str(h, "address"));
		fl_cell(e);
		if (cmd)
			fl_code(e, cmd);
		else if (!json_array_size(run))
			fl_text(e, "idle");
		fl_cell_num(e, h, "restarts", FL_NUM_COUNT);
		fl_cell_text(e, fl_j_str(h, "last_exit"));
		fl_row_end(e);
	}
	fl_table_end(e);
	fl_section_end(e);
}

/* Per fault and probe: what the fault did (faults[].impact), when the result has it. */
static void impact(struct fl_emit *e, json_t *res)
{
	static const struct fl_col cols[] = {
		{ "Fault", FL_CELL_TEXT },	   { "Probe", FL_CELL_TEXT },
		{ "Samples", FL_CELL_NUM },	   { "Failed", FL_CELL_NUM },
		{ "First failure after", FL_CELL_NUM }, { "Longest outage", FL_CELL_NUM },
		{ "Latency p50", FL_CELL_NUM },	   { "Latency max", FL_CELL_NUM },
	};
	json_t *fs = fl_j_arr(res, "faults"), *x, *im;
	const char *probe;
	bool any = false;
	size_t i;

	json_array_foreach(fs, i, x)
		any |= json_object_size(json_object_get(x, "impact")) > 0;
	if (!any)
		return;
	fl_section(e, "impact", "What each fault did");
	fl_table(e, cols, ARRAY_SIZE(cols));
	json_array_foreach(fs, i, x) {
		json_object_foreach(json_object_get(x, "impact"), probe, im) {
			fl_row(e, json_integer_value(json_object_get(im, "failed")) ? "fail" : NULL);
			fl_cell_code(e, fl_j_str(x, "name") ? fl_j_str(x, "name") : "?");
			fl_cell_code(e, probe);
			fl_cell_num(e, im, "samples", FL_NUM_COUNT);
			fl_cell_num(e, im, "failed", FL_NUM_COUNT);
			fl_cell_num(e, im, "time_to_fail_s", FL_NUM_SECONDS);
			fl_cell_num(e, im, "outage_s", FL_NUM_SECONDS);
			fl_cell_num(e, im, "latency_p50_s", FL_NUM_LATENCY);
			fl_cell_num(e, im, "latency_max_s", FL_NUM_LATENCY);
			fl_row_end(e);
		}
	}
	fl_table_end(e);
	e->ops->para(e, "note",
		     "A fault's samples are those that ended between its first application and the "
		     "next fault's; the longest outage is its longest run of failed samples, from "
		     "the first one's start to the next success's.");
	fl_section_end(e);
}

/* The verify steps run after the recovery window, with the figures they printed. */
static void verify(struct fl_emit *e, json_t *res)
{
	static const struct fl_col cols[] = {
		{ "Result", FL_CELL_RESULT }, { "Step", FL_CELL_TEXT },
		{ "From", FL_CELL_TEXT },     { "Status", FL_CELL_TEXT },
		{ "Figures", FL_CELL_TEXT },
	};
	json_t *vs = fl_j_arr(res, "verify"), *x;
	size_t i;

	if (!json_array_size(vs))
		return;
	fl_section(e, "verify", "Verify");
	fl_table(e, cols, ARRAY_SIZE(cols));
	json_array_foreach(vs, i, x) {
		bool ok = fl_j_true(x, "ok");
		_cleanup_free_ char *figs = fl_json_brief(json_object_get(x, "figures"));

		fl_row(e, ok ? "pass" : "fail");
		fl_cell(e);
		fputs(ok ? e->ops->pass : e->ops->fail, e->f);
		fl_cell_code(e, fl_j_str(x, "name") ? fl_j_str(x, "name") : "?");
		fl_cell_text(e, fl_j_str(x, "from"));
		fl_cell_text(e, fl_j_str(x, "status"));
		fl_cell_text(e, figs);
		fl_row_end(e);
	}
	fl_table_end(e);
	fl_section_end(e);
}

void fl_report_walk(struct fl_emit *e, json_t *res)
{
	e->ops->header(e, res);
	expectations(e, res);
	e->ops->probes(e, res);
	timeline(e, res);
	faults(e, res);
	remote_hosts(e, res);
	impact(e, res);
	verify(e, res);
	lab(e, res);
}

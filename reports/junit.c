// SPDX-License-Identifier: GPL-2.0-only
/* JUnit XML from a result: one testsuite per run, one testcase per expectation (CI test reports).
 */
#include <errno.h>
#include <string.h>

#include "inject/util.h"
#include "reports/writers.h"

/*
 * The shape satisfies both schemas CI servers validate against: the Jenkins xunit plugin's
 * junit-10.xsd and the stricter Ant one (windyroad JUnit.xsd), which wants <properties>,
 * <system-out> and <system-err> present, hostname and a timestamp without a zone on the
 * suite, a time on every testcase and at most one <failure> or <error> per testcase.
 */

/* "2026-11-21T06:07:56Z" -> "2026-11-21T06:07:56" (UTC, as the Ant schema wants no zone) */
static void timestamp(json_t *res, char *buf, size_t len)
{
	const char *s = fl_j_str(res, "started");
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";

	snprintf(buf, len, "1970-01-01T00:00:00");
	if (!s || strlen(s) < sizeof(shape) - 1)
		return;
	for (size_t i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
			return;
	snprintf(buf, len, "%.*s", (int)(sizeof(shape) - 1), s);
}

static void property(FILE *f, const char *name, const char *value)
{
	if (!value)
		return;
	fputs("    <property name=\"", f);
	fl_put_xml_attr(f, name);
	fputs("\" value=\"", f);
	fl_put_xml_attr(f, value);
	fputs("\"/>\n", f);
}

static void classname(FILE *f, const char *scenario, const char *probe)
{
	fputs("faultline.", f);
	fl_put_xml_attr(f, scenario);
	if (probe) {
		fputc('.', f);
		fl_put_xml_attr(f, probe);
	}
}

/* The failure's body: every number the expectation carries, one per line. */
static void failure_body(FILE *f, json_t *e, const char *probe, const char *phase, const char *text)
{
	_cleanup_free_ char *rule = fl_expectation_rule(e);
	json_t *obs = json_object_get(e, "observed");
	const char *id = fl_j_str(e, "id");

	if (id) {
		fl_put_xml(f, "expectation: ");
		fl_put_xml(f, id);
		fputc('\n', f);
	}
	if (probe) {
		fl_put_xml(f, "probe: ");
		fl_put_xml(f, probe);
		fputc('\n', f);
	}
	if (phase) {
		fl_put_xml(f, "phase: ");
		fl_put_xml(f, phase);
		fputc('\n', f);
	}
	if (rule) {
		fl_put_xml(f, "expected: ");
		fl_put_xml(f, rule);
		fputc('\n', f);
	}
	if (json_is_number(obs))
		fprintf(f, "observed: %.6g%s%s\n", json_number_value(obs),
			fl_j_str(e, "unit") ? " " : "",
			fl_j_str(e, "unit") ? fl_j_str(e, "unit") : "");
	else if (json_is_null(obs))
		fputs("observed: not measured\n", f);
	fl_put_xml(f, text);
	fputc('\n', f);
}

static void system_out(FILE *f, json_t *res)
{
	const char *verdict = fl_j_str(res, "verdict"), *reason = fl_j_str(res, "reason");
	json_t *p;
	size_t i;
	double x;

	fputs("  <system-out>", f);
	fputs("run ", f);
	fl_put_xml(f, fl_j_str(res, "run_id") ? fl_j_str(res, "run_id") : "?");
	fputs(": ", f);
	fl_put_xml(f, verdict ? verdict : "unknown");
	if (reason) {
		fputs(" (", f);
		fl_put_xml(f, reason);
		fputc(')', f);
	}
	fputc('\n', f);
	json_array_foreach(fl_j_arr(res, "probes"), i, p) {
		json_t *ph = json_object_get(p, "phases");

		fputs("probe ", f);
		fl_put_xml(f, fl_j_str(p, "name") ? fl_j_str(p, "name") : "?");
		fputc(':', f);
		for (int k = 0; k < 3; k++) {
			static const char *const names[] = { "baseline", "faults", "recovery" };
			json_t *x2 = json_object_get(ph, names[k]);
			double a, n = 0;
			if (fl_j_num(x2, "availability", &a)) {
				fl_j_num(x2, "samples", &n);
				fprintf(f, " %s %.1f%% (%.0f)", names[k], 100.0 * a, n);
			}
		}
		if (fl_j_true(p, "detected") && fl_j_num(p, "time_to_detect_s", &x))
			fprintf(f, ", detected after %.3fs", x);
		if (fl_j_true(p, "recovered") && fl_j_num(p, "time_to_recover_s", &x))
			fprintf(f, ", recovered after %.3fs", x);
		else if (json_is_false(json_object_get(p, "recovered")))
			fputs(", did not recover", f);
		fputc('\n', f);
	}
	fputs("</system-out>\n", f);
}

/*
 * Faults on remote hosts: one test case per fault and host, a failure when it failed there or
 * could not be reverted. A host skipped by the policy (on_host_failure: skip) passes, with
 * "skipped" in its name: Ant's schema, which junit.xml keeps to, has no <skipped>.
 */
static void host_counts(json_t *res, size_t *tests, size_t *failures)
{
	json_t *x, *h;
	size_t i, k;

	json_array_foreach(fl_j_arr(res, "faults"), i, x) {
		json_array_foreach(fl_j_arr(x, "hosts"), k, h) {
			const char *st = fl_j_str(h, "state");
			(*tests)++;
			*failures += st && (!strcmp(st, "failed") || !strcmp(st, "revert-failed"));
		}
	}
}

static void host_cases(FILE *f, json_t *res, const char *scenario)
{
	json_t *x, *h;
	size_t i, k;

	json_array_foreach(fl_j_arr(res, "faults"), i, x) {
		json_array_foreach(fl_j_arr(x, "hosts"), k, h) {
			const char *st = fl_j_str(h, "state"), *err = fl_j_str(h, "error");
			double t = 0, rt = 0;

			fl_j_num(h, "apply_s", &t);
			fl_j_num(h, "revert_s", &rt);
			fputs("  <testcase name=\"fault ", f);
			fl_put_xml_attr(f, fl_j_str(x, "name") ? fl_j_str(x, "name") : "?");
			fputs(" on host ", f);
			fl_put_xml_attr(f, fl_j_str(h, "host") ? fl_j_str(h, "host") : "?");
			if (st && !strcmp(st, "skipped"))
				fputs(": skipped", f);
			fputs("\" classname=\"", f);
			classname(f, scenario, NULL);
			fprintf(f, ".hosts\" time=\"%.3f\"", t + rt);
			if (!st || (strcmp(st, "failed") != 0 && strcmp(st, "revert-failed") != 0)) {
				fputs("/>\n", f);
				continue;
			}
			fputs(">\n    <failure message=\"", f);
			fl_put_xml_attr(f, st);
			fl_put_xml_attr(f, ": ");
			fl_put_xml_attr(f, err ? err : "no reason given");
			fputs("\" type=\"host\"/>\n  </testcase>\n", f);
		}
	}
}

int fl_report_junit(json_t *res, FILE *f)
{
	const char *scenario = fl_j_str(res, "scenario"), *verdict = fl_j_str(res, "verdict");
	const char *host = fl_j_str(res, "hostname");
	json_t *exps = fl_j_arr(res, "expectations"), *e;
	bool run_error =
		verdict && (strcmp(verdict, "aborted") == 0 || strcmp(verdict, "error") == 0);
	size_t tests = 0, failures = 0, i;
	double duration = 0, seed;
	char ts[32], buf[48];

	if (!scenario || !*scenario)
		scenario = "unnamed";
	if (!host || !*host)
		host = "localhost";
	json_array_foreach(exps, i, e) {
		tests++;
		failures += !fl_j_true(e, "ok");
	}
	tests += run_error;
	host_counts(res, &tests, &failures);
	fl_j_num(res, "duration_s", &duration);
	timestamp(res, ts, sizeof(ts));

	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"", f);
	fl_put_xml_attr(f, scenario);
	fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%d\" time=\"%.3f\" timestamp=\"%s\"",
		tests, failures, run_error ? 1 : 0, duration > 0 ? duration : 0.0, ts);
	fputs(" hostname=\"", f);
	fl_put_xml_attr(f, host);
	fputs("\">\n  <properties>\n", f);
	property(f, "faultline.version", fl_j_str(res, "faultline"));
	property(f, "faultline.schema", fl_j_str(res, "schema"));
	property(f, "faultline.run_id", fl_j_str(res, "run_id"));
	property(f, "faultline.file", fl_j_str(res, "file"));
	if (fl_j_num(res, "seed", &seed)) {
		snprintf(buf, sizeof(buf), "%.0f", seed);
		property(f, "faultline.seed", buf);
	}
	property(f, "faultline.started", fl_j_str(res, "started"));
	property(f, "faultline.verdict", verdict);
	if (json_is_integer(json_object_get(res, "exit_code"))) {
		snprintf(buf, sizeof(buf), "%lld",
			 (long long)json_integer_value(json_object_get(res, "exit_code")));
		property(f, "faultline.exit_code", buf);
	}
	property(f, "faultline.reason", fl_j_str(res, "reason"));
	fputs("  </properties>\n", f);

	json_array_foreach(exps, i, e) {
		char phbuf[16];
		const char *phase = fl_expectation_phase(e, phbuf, sizeof(phbuf));
		const char *probe = fl_expectation_probe(e, res);
		const char *name = fl_j_str(e, "name");
		_cleanup_free_ char *text = fl_expectation_text(e), *rule = fl_expectation_rule(e);
		double len = fl_phase_length(res, phase);

		if (!name)
			name = fl_j_str(e, "id");
		snprintf(buf, sizeof(buf), "expectation %zu", i + 1);
		fputs("  <testcase name=\"", f);
		fl_put_xml_attr(f, name && *name ? name : buf);
		fputs("\" classname=\"", f);
		classname(f, scenario, probe);
		fprintf(f, "\" time=\"%.3f\"", len > 0 ? len : 0.0);
		if (fl_j_true(e, "ok")) {
			fputs("/>\n", f);
			continue;
		}
		fputs(">\n    <failure message=\"", f);
		fl_put_xml_attr(f, text);
		if (rule && !strstr(text ? text : "", "expected")) {
			/* CI shows the message first: it carries the rule's numbers too */
			fl_put_xml_attr(f, "; expected ");
			fl_put_xml_attr(f, rule);
		}
		fputs("\" type=\"expectation\">\n", f);
		failure_body(f, e, probe, phase, text);
		fputs("</failure>\n  </testcase>\n", f);
	}
	host_cases(f, res, scenario);
	if (run_error) {
		const char *reason = fl_j_str(res, "reason");
		fputs("  <testcase name=\"run\" classname=\"", f);
		classname(f, scenario, NULL);
		fprintf(f, "\" time=\"%.3f\">\n    <error message=\"",
			duration > 0 ? duration : 0.0);
		fl_put_xml_attr(f, reason ? reason : verdict);
		fprintf(f, "\" type=\"%s\">\n", verdict);
		fl_put_xml(f, "run ");
		fl_put_xml(f, verdict);
		if (reason) {
			fl_put_xml(f, ": ");
			fl_put_xml(f, reason);
		}
		fputc('\n', f);
		if (strcmp(verdict, "aborted") == 0)
			fputs("every fault was reverted before the run ended\n", f);
		fputs("</error>\n  </testcase>\n", f);
	}
	system_out(f, res);
	fputs("  <system-err/>\n</testsuite>\n", f);
	return ferror(f) ? -EIO : 0;
}

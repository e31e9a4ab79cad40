// SPDX-License-Identifier: GPL-2.0-only
/* Markdown from a result, sized for a CI job summary (GitHub $GITHUB_STEP_SUMMARY, GitLab). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inject/util.h"
#include "reports/writers.h"

static const char *const phases[] = { "baseline", "faults", "recovery" };

/* Text in a table cell or a line: every character Markdown (GFM) or HTML could act on is
 * backslash-escaped, so a name can neither format, link, nor inject markup. */
static void md_text(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	for (const unsigned char *start = p; *p; p++) {
		/* an underscore inside a word never emphasises (GFM): keep success_rate readable */
		bool inword = *p == '_' && p > start && isalnum(p[-1]) && isalnum(p[1]);

		if (strchr("\\`*_[]<|&~$#!", *p) && *p && !inword) {
			fputc('\\', f);
			fputc(*p, f);
		} else if (*p == '\n' || *p == '\r' || *p == '\t') {
			fputc(' ', f);
		} else if (*p < 0x20 || *p == 0x7f) {
			fputs("\xef\xbf\xbd", f);
		} else if (p[0] == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf)) {
			fputs("\xef\xbf\xbd", f); /* noncharacters U+FFFE, U+FFFF */
			p += 2;
		} else {
			fputc(*p, f);
		}
	}
}

/* A code span inside a table cell: literal text, a fence longer than any backtick run in it,
 * pipes escaped for the table (GFM strips that backslash), newlines flattened. */
static void md_code(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t run = 0, longest = 0;
	bool pad;

	for (const unsigned char *q = p; *q; q++) {
		run = *q == '`' ? run + 1 : 0;
		longest = run > longest ? run : longest;
	}
	pad = *p == '`' || (*p && p[strlen((const char *)p) - 1] == '`');
	for (size_t i = 0; i <= longest; i++)
		fputc('`', f);
	if (pad)
		fputc(' ', f);
	for (; *p; p++) {
		if (*p == '|')
			fputs("\\|", f);
		else if (*p == '\n' || *p == '\r' || *p == '\t')
			fputc(' ', f);
		else if (*p < 0x20 || *p == 0x7f)
			fputs("\xef\xbf\xbd", f);
		else if (p[0] == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf))
			fputs("\xef\xbf\xbd", f), p += 2;
		else
			fputc(*p, f);
	}
	if (pad)
		fputc(' ', f);
	for (size_t i = 0; i <= longest; i++)
		fputc('`', f);
}

static const char *verdict_mark(const char *v)
{
	if (!v)
		return "❔";
	if (strcmp(v, "passed") == 0)
		return "✅";
	if (strcmp(v, "failed") == 0)
		return "❌";
	if (strcmp(v, "aborted") == 0)
		return "⚠️";
	return "⛔";
}

static void header(FILE *f, json_t *res)
{
	const char *verdict = fl_j_str(res, "verdict"), *reason = fl_j_str(res, "reason");
	const char *s;
	double x;

	fprintf(f, "## %s faultline: ", verdict_mark(verdict));
	md_text(f, fl_j_str(res, "scenario") ? fl_j_str(res, "scenario") : "unnamed scenario");
	fputs(" ", f);
	fputs(verdict ? "" : "(no verdict)", f);
	md_text(f, verdict);
	fputs("\n\n", f);

	fputs("Run ", f);
	md_code(f, fl_j_str(res, "run_id") ? fl_j_str(res, "run_id") : "?");
	if ((s = fl_j_str(res, "file"))) {
		fputs(" of ", f);
		md_code(f, s);
	}
	if (fl_j_num(res, "seed", &x))
		fprintf(f, ", seed %.0f", x);
	if ((s = fl_j_str(res, "started"))) {
		fputs(", started ", f);
		md_text(f, s);
	}
	if (fl_j_num(res, "duration_s", &x))
		fprintf(f, ", %.3f s", x);
	if (json_is_integer(json_object_get(res, "exit_code")))
		fprintf(f, ", exit %lld",
			(long long)json_integer_value(json_object_get(res, "exit_code")));
	fputs(".\n", f);
	if (reason) {
		fputs("\n> **Reason:** ", f);
		md_text(f, reason);
		fputc('\n', f);
	}
	fputc('\n', f);
}

static void expectations(FILE *f, json_t *res)
{
	json_t *exps = fl_j_arr(res, "expectations"), *e;
	size_t i, n = json_array_size(exps), failed = 0;

	json_array_foreach(exps, i, e)
		failed += !fl_j_true(e, "ok");
	if (!n) {
		fputs("### Expectations\n\nNo expectations were evaluated.\n\n", f);
		return;
	}
	if (failed)
		fprintf(f, "### Expectations: %zu of %zu failed\n\n", failed, n);
	else
		fprintf(f, "### Expectations: all %zu held\n\n", n);
	fputs("| | Expectation | Probe | Phase | Expected | Observed |\n"
	      "|---|---|---|---|---|---|\n",
	      f);
	json_array_foreach(exps, i, e) {
		char phbuf[16];
		const char *phase = fl_expectation_phase(e, phbuf, sizeof(phbuf));
		const char *probe = fl_expectation_probe(e, res), *name = fl_j_str(e, "name");
		_cleanup_free_ char *text = fl_expectation_text(e), *rule = fl_expectation_rule(e);

		fputs(fl_j_true(e, "ok") ? "| ✅ pass | " : "| ❌ **FAIL** | ", f);
		md_text(f, name ? name : fl_j_str(e, "id"));
		fputs(" | ", f);
		if (probe)
			md_code(f, probe);
		fputs(" | ", f);
		md_text(f, phase);
		fputs(" | ", f);
		md_text(f, rule);
		fputs(" | ", f);
		md_text(f, text);
		fputs(" |\n", f);
	}
	fputc('\n', f);
}

static void seconds_cell(FILE *f, json_t *p, const char *flag, const char *key, const char *no)
{
	json_t *b = json_object_get(p, flag);
	double x;

	if (json_is_true(b) && fl_j_num(p, key, &x))
		fprintf(f, " %.3f s |", x);
	else if (json_is_false(b))
		fprintf(f, " %s |", no);
	else
		fputs(" – |", f);
}

static void probes(FILE *f, json_t *res)
{
	json_t *ps = fl_j_arr(res, "probes"), *p;
	size_t i;
	double x;

	if (!json_array_size(ps))
		return;
	fputs("### Probes\n\n"
	      "| Probe | Kind | Target | Time to detect | Time to recover | Longest outage |\n"
	      "|---|---|---|---:|---:|---:|\n",
	      f);
	json_array_foreach(ps, i, p) {
		fputs("| ", f);
		md_code(f, fl_j_str(p, "name") ? fl_j_str(p, "name") : "?");
		fputs(" | ", f);
		md_text(f, fl_j_str(p, "kind"));
		fputs(" | ", f);
		/* tcp host:port; http, prometheus: the URL as the probe redacted it */
		if (fl_j_str(p, "target"))
			md_code(f, fl_j_str(p, "target"));
		if (fl_j_str(p, "query")) {
			fputs(" query ", f);
			md_code(f, fl_j_str(p, "query"));
		}
		if (fl_j_str(p, "from")) {
			fputs(" from ", f);
			md_code(f, fl_j_str(p, "from"));
		}
		fputs(" |", f);
		seconds_cell(f, p, "detected", "time_to_detect_s", "not detected");
		seconds_cell(f, p, "recovered", "time_to_recover_s", "**did not recover**");
		if (fl_j_num(p, "longest_outage_s", &x))
			fprintf(f, " %.3f s |\n", x);
		else
			fputs(" – |\n", f);
	}
	fputs("\n| Probe | Phase | Samples | OK | Availability | p50 | p90 | p99 | max | "
	      "Percentiles |\n"
	      "|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n",
	      f);
	json_array_foreach(ps, i, p) {
		json_t *ph = json_object_get(p, "phases");

		for (size_t k = 0; k < ARRAY_SIZE(phases); k++) {
			static const char *const pct[] = { "p50", "p90", "p99", "max" };
			json_t *x2 = json_object_get(ph, phases[k]);
			json_t *lat = json_object_get(x2, "latency");
			double n, ok, a;
			char buf[32];

			if (!json_is_object(x2))
				continue;
			fputs("| ", f);
			md_code(f, fl_j_str(p, "name") ? fl_j_str(p, "name") : "?");
			fprintf(f, " | %s |", phases[k]);
			if (fl_j_num(x2, "samples", &n))
				fprintf(f, " %.0f |", n);
			else
				fputs(" – |", f);
			if (fl_j_num(x2, "ok", &ok))
				fprintf(f, " %.0f |", ok);
			else
				fputs(" – |", f);
			if (fl_j_num(x2, "availability", &a))
				fprintf(f, " %.1f%% |", 100.0 * a);
			else
				fputs(" – |", f);
			for (size_t q = 0; q < ARRAY_SIZE(pct); q++) {
				if (fl_j_num(lat, pct[q], &a))
					fprintf(f, " %s |", fl_fmt_latency(a, buf, sizeof(buf)));
				else
					fputs(" – |", f);
			}
			fputc(' ', f);
			md_text(f, fl_j_str(lat, "method"));
			fputs(" |\n", f);
		}
	}
	fputc('\n', f);
}

static void timeline(FILE *f, json_t *res)
{
	struct fl_trow *rows = NULL;
	size_t n = fl_timeline(res, &rows);

	fputs("### Timeline\n\n| t | Event | Details |\n|---:|---|---|\n", f);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "| %.3f s | ", rows[i].t);
		if (rows[i].subject) {
			md_code(f, rows[i].subject);
			fputc(' ', f);
		}
		md_text(f, rows[i].what);
		fputs(" | ", f);
		md_text(f, rows[i].details);
		fputs(" |\n", f);
	}
	fl_timeline_free(rows, n);
	fputc('\n', f);
}

static void faults(FILE *f, json_t *res)
{
	json_t *fs = fl_j_arr(res, "faults"), *x;
	size_t i;
	double at, dur, n;

	if (!json_array_size(fs))
		return;
	fputs("### Faults: asked\n\n| Fault | Kind | Backend | On | Asked | At | For | Applied |\n"
	      "|---|---|---|---|---|---:|---:|---:|\n",
	      f);
	json_array_foreach(fs, i, x) {
		const char *desc = fl_j_str(x, "description");
		_cleanup_free_ char *asked =
			desc ? NULL : fl_json_brief(json_object_get(x, "asked"));

		fputs("| ", f);
		md_code(f, fl_j_str(x, "name") ? fl_j_str(x, "name") : "?");
		fputs(" | ", f);
		md_text(f, fl_j_str(x, "kind"));
		fputs(" | ", f);
		md_text(f, fl_j_str(x, "backend"));
		fputs(" | ", f);
		md_text(f, fl_j_str(x, "on") ? fl_j_str(x, "on") : "local");
		fputs(" | ", f);
		md_text(f, desc ? desc : asked);
		if (fl_j_num(x, "at_s", &at))
			fprintf(f, " | %.3f s", at);
		else
			fputs(" | –", f);
		if (fl_j_num(x, "for_s", &dur))
			fprintf(f, " | %.3f s", dur);
		else
			fputs(" | –", f);
		if (fl_j_num(x, "applications", &n))
			fprintf(f, " | %.0f |\n", n);
		else
			fputs(" | – |\n", f);
	}
	fputs("\nWhat each backend reports it injected is in the timeline above.\n\n", f);
}

static void lab(FILE *f, json_t *res)
{
	json_t *hosts = fl_j_arr(json_object_get(res, "lab"), "hosts"), *h;
	size_t i;
	double n;

	if (!json_array_size(hosts))
		return;
	fputs("### Lab\n\n| Host | Address | Service | Restarts | Last exit |\n"
	      "|---|---|---|---:|---|\n",
	      f);
	json_array_foreach(hosts, i, h) {
		json_t *run = fl_j_arr(h, "run"), *a;
		size_t k;

		fputs("| ", f);
		md_code(f, fl_j_str(h, "name") ? fl_j_str(h, "name") : "?");
		fputs(" | ", f);
		md_text(f, fl_j_str(h, "address"));
		fputs(" | ", f);
		if (json_array_size(run)) {
			char *cmd = NULL;
			size_t len = 0;
			FILE *m = open_memstream(&cmd, &len);
			if (m) {
				json_array_foreach(run, k, a) {
					const char *arg = json_string_value(a);
					fprintf(m, "%s%s", k ? " " : "",
						!arg   ? "?"
						: *arg ? arg
						       : "\"\"");
				}
				if (fclose(m) == 0)
					md_code(f, cmd);
				free(cmd);
			}
		} else {
			fputs("idle", f);
		}
		if (fl_j_num(h, "restarts", &n))
			fprintf(f, " | %.0f | ", n);
		else
			fputs(" | – | ", f);
		md_text(f, fl_j_str(h, "last_exit"));
		fputs(" |\n", f);
	}
	fputc('\n', f);
}

int fl_report_markdown(json_t *res, FILE *f)
{
	header(f, res);
	expectations(f, res);
	probes(f, res);
	timeline(f, res);
	faults(f, res);
	lab(f, res);
	fputs("<sub>", f);
	md_text(f, fl_j_str(res, "schema"));
	fputs(" · faultline ", f);
	md_text(f, fl_j_str(res, "faultline") ? fl_j_str(res, "faultline") : "?");
	fputs(" · render again with `faultline report result.json --format md|html|junit`</sub>\n",
	      f);
	return ferror(f) ? -EIO : 0;
}

// SPDX-License-Identifier: GPL-2.0-only
/* Markdown from a result, sized for a CI job summary (GitHub $GITHUB_STEP_SUMMARY, GitLab). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inject/util.h"
#include "reports/report_walk.h"
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

/* --- the emitter ------------------------------------------------------------------------------ */

static void md_text_e(struct fl_emit *e, const char *s)
{
	md_text(e->f, s);
}

static void md_code_e(struct fl_emit *e, const char *s)
{
	md_code(e->f, s);
}

static void md_para(struct fl_emit *e, const char *cls, const char *s)
{
	md_text(e->f, s);
	fputs("\n\n", e->f);
}

static void md_section(struct fl_emit *e, const char *id, const char *title)
{
	fprintf(e->f, "### %s\n\n", title);
}

/* a section ends where the next heading starts */
static void md_section_end(struct fl_emit *e)
{
}

static void md_table(struct fl_emit *e, const struct fl_col *cols, size_t n)
{
	/* the result column holds only marks: an empty title keeps it narrow */
	for (size_t i = 0; i < n; i++) {
		fputs("| ", e->f);
		if (cols[i].kind != FL_CELL_RESULT)
			fprintf(e->f, "%s ", cols[i].title);
	}
	fputs("|\n", e->f);
	for (size_t i = 0; i < n; i++)
		fputs(cols[i].kind == FL_CELL_NUM ? "|---:" : "|---", e->f);
	fputs("|\n", e->f);
}

static void md_row(struct fl_emit *e, const char *cls)
{
	/* the first cell opens the line */
}

static void md_cell(struct fl_emit *e, enum fl_cell kind)
{
	fputs(e->col ? " | " : "| ", e->f);
}

static void md_row_end(struct fl_emit *e)
{
	fputs(" |\n", e->f);
}

static void md_table_end(struct fl_emit *e)
{
	fputc('\n', e->f);
}

/* --- the header and the probes, laid out this format's own way -------------------------------- */

static void header(struct fl_emit *e, json_t *res)
{
	const char *verdict = fl_j_str(res, "verdict"), *reason = fl_j_str(res, "reason");
	FILE *f = e->f;

	fprintf(f, "## %s faultline: ", verdict_mark(verdict));
	md_text(f, fl_j_str(res, "scenario") ? fl_j_str(res, "scenario") : "unnamed scenario");
	fputs(" ", f);
	fputs(verdict ? "" : "(no verdict)", f);
	md_text(f, verdict);
	fputs("\n\nRun ", f);
	fl_walk_run_facts(e, res);
	fputs(".\n", f);
	if (reason) {
		fputs("\n> **Reason:** ", f);
		md_text(f, reason);
		fputc('\n', f);
	}
	fputc('\n', f);
}

static void seconds_cell(struct fl_emit *e, json_t *p, const char *flag, const char *key,
			 const char *no)
{
	json_t *b = json_object_get(p, flag);
	double x = 0;
	bool have = json_is_true(b) && fl_j_num(p, key, &x);

	if (json_is_false(b)) {
		fl_cell(e);
		fputs(no, e->f);
	} else {
		fl_cell_val(e, have, x, FL_NUM_SECONDS);
	}
}

/* One table of what each probe saw, then one of its numbers per phase. */
static void probes(struct fl_emit *e, json_t *res)
{
	static const struct fl_col sum_cols[] = {
		{ "Probe", FL_CELL_TEXT },	    { "Kind", FL_CELL_TEXT },
		{ "Target", FL_CELL_TEXT },	    { "Time to detect", FL_CELL_NUM },
		{ "Time to recover", FL_CELL_NUM }, { "Longest outage", FL_CELL_NUM },
	};
	static const struct fl_col phase_cols[] = {
		{ "Probe", FL_CELL_TEXT },	 { "Phase", FL_CELL_TEXT },
		{ "Samples", FL_CELL_NUM },	 { "OK", FL_CELL_NUM },
		{ "Availability", FL_CELL_NUM }, { "p50", FL_CELL_NUM },
		{ "p90", FL_CELL_NUM },		 { "p99", FL_CELL_NUM },
		{ "max", FL_CELL_NUM },		 { "Percentiles", FL_CELL_TEXT },
	};
	static const char *const pct[] = { "p50", "p90", "p99", "max" };
	json_t *ps = fl_j_arr(res, "probes"), *p;
	size_t i;

	if (!json_array_size(ps))
		return;
	fl_section(e, "probes", "Probes");
	fl_table(e, sum_cols, ARRAY_SIZE(sum_cols));
	json_array_foreach(ps, i, p) {
		fl_row(e, NULL);
		fl_cell_code(e, fl_j_str(p, "name") ? fl_j_str(p, "name") : "?");
		fl_cell_text(e, fl_j_str(p, "kind"));
		fl_cell(e);
		fl_walk_probe_target(e, p);
		seconds_cell(e, p, "detected", "time_to_detect_s", "not detected");
		seconds_cell(e, p, "recovered", "time_to_recover_s", "**did not recover**");
		fl_cell_num(e, p, "longest_outage_s", FL_NUM_SECONDS);
		fl_row_end(e);
	}
	fl_table_end(e);
	fl_table(e, phase_cols, ARRAY_SIZE(phase_cols));
	json_array_foreach(ps, i, p) {
		json_t *ph = json_object_get(p, "phases");

		for (size_t k = 0; k < ARRAY_SIZE(phases); k++) {
			json_t *x = json_object_get(ph, phases[k]);

			if (!json_is_object(x))
				continue;
			fl_row(e, NULL);
			fl_cell_code(e, fl_j_str(p, "name") ? fl_j_str(p, "name") : "?");
			fl_cell_text(e, phases[k]);
			fl_walk_phase_cells(e, x, false, pct, ARRAY_SIZE(pct));
			fl_row_end(e);
		}
	}
	fl_table_end(e);
	fl_section_end(e);
}

static const struct fl_emit_ops md_ops = {
	.text = md_text_e,
	.code = md_code_e,
	.para = md_para,
	.section = md_section,
	.section_end = md_section_end,
	.table = md_table,
	.row = md_row,
	.cell = md_cell,
	.row_end = md_row_end,
	.table_end = md_table_end,
	.header = header,
	.probes = probes,
	.run_sep = ", ",
	.pass = "✅ pass",
	.fail = "❌ **FAIL**",
	.faults_title = "Faults: asked",
	.faults_note = "What each backend reports it injected is in the timeline above.",
};

int fl_report_markdown(json_t *res, FILE *f)
{
	struct fl_emit e = { .f = f, .ops = &md_ops };

	fl_report_walk(&e, res);
	fputs("<sub>", f);
	md_text(f, fl_j_str(res, "schema"));
	fputs(" · faultline ", f);
	md_text(f, fl_j_str(res, "faultline") ? fl_j_str(res, "faultline") : "?");
	fputs(" · render again with `faultline report result.json --format md|html|junit`</sub>\n",
	      f);
	return ferror(f) ? -EIO : 0;
}

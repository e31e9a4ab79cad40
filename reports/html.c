// SPDX-License-Identifier: GPL-2.0-only
/* HTML from a result: one self-contained page, inline SVG charts per probe, no script. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inject/util.h"
#include "reports/report_walk.h"
#include "reports/writers.h"

/*
 * Chart geometry (SVG user units; the SVG scales to the page width). The plot is one user
 * unit per column, so "min/max per pixel column" is exact at 1100 px wide and the drawing
 * stays bounded whatever the number of samples.
 */
#define SVG_W 1100
#define SVG_H 300
#define X0 60
#define X1 1080
#define COLS (X1 - X0)
#define PY0 48	/* plot top */
#define PY1 224 /* plot bottom */
#define SY0 246 /* success strip */
#define SY1 260
/* up to this many samples each is drawn (a line and a dot); above, min/max per column */
#define POINTS_MAX 400

static void h(FILE *f, const char *s)
{
	fl_put_xml(f, s);
}

static void ha(FILE *f, const char *s)
{
	fl_put_xml_attr(f, s);
}

static const char *verdict_class(const char *v)
{
	static const char *const known[] = { "passed", "failed", "aborted", "error" };

	for (size_t i = 0; v && i < ARRAY_SIZE(known); i++)
		if (strcmp(v, known[i]) == 0)
			return known[i];
	return "unknown";
}

static const char css[] =
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2328;"
	"margin:0 auto;max-width:1180px;padding:16px 24px;background:#fff}\n"
	"h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px "
	"solid #d0d7de;padding-bottom:4px}h3{font-size:15px;margin:20px 0 6px}\n"
	"h3 small,.meta,.note{color:#59636e;font-weight:normal}\n"
	"header{border-left:6px solid #8c959f;padding:8px 14px;background:#f6f8fa}\n"
	"header.passed{border-color:#1a7f37}header.failed{border-color:#cf222e}\n"
	"header.aborted{border-color:#bf8700}header.error{border-color:#8250df}\n"
	".badge{display:inline-block;padding:1px 10px;border-radius:12px;color:#fff;"
	"font-size:15px;vertical-align:middle;background:#8c959f}\n"
	".passed .badge{background:#1a7f37}.failed .badge{background:#cf222e}\n"
	".aborted .badge{background:#bf8700}.error .badge{background:#8250df}\n"
	".reason{font-weight:600}\n"
	"table{border-collapse:collapse;margin:6px 0}th,td{border:1px solid #d0d7de;"
	"padding:3px 8px;text-align:left;vertical-align:top}th{background:#f6f8fa}\n"
	"td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
	"td.res{white-space:nowrap}tr.fail td{background:#ffebe9}.pass "
	".res{color:#1a7f37;font-weight:600}"
	".fail .res{color:#cf222e;font-weight:700}\n"
	"code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f6f8fa;"
	"padding:1px 4px;border-radius:4px}\n"
	"dl.m{display:flex;flex-wrap:wrap;gap:4px 28px;margin:6px 0}dl.m div{display:flex;gap:6px}"
	"dl.m dt{color:#59636e}dl.m dd{margin:0;font-weight:600}\n"
	"figure{margin:8px 0}svg.chart{width:100%;height:auto;display:block}\n"
	"svg text{font:11px system-ui,sans-serif;fill:#1f2328}svg .small{font-size:10px;"
	"fill:#59636e}\n"
	".plot{fill:#fff;stroke:#8c959f}.grid{stroke:#eaeef2}.axis{stroke:#8c959f}\n"
	".win{fill:#cf222e;fill-opacity:.12}.ph{stroke:#59636e;stroke-dasharray:5 3}\n"
	".ln{fill:none;stroke:#0969da;stroke-width:1.3}.pt{fill:#0969da}\n"
	".env{fill:#0969da;fill-opacity:.3;stroke:#0969da;stroke-width:.7}\n"
	".bad{fill:#cf222e}.sok{fill:#2da44e}.sbad{fill:#cf222e}.ev{stroke:#6e2b00;"
	"stroke-width:2}\n"
	".det{stroke:#bf8700;stroke-width:1.6}.rec{stroke:#1a7f37;stroke-width:1.6}"
	".dl{stroke:#8250df;stroke-width:1.2;stroke-dasharray:7 3}\n"
	"text.det{fill:#9a6700;stroke:none}text.rec{fill:#1a7f37;stroke:none}"
	"text.dl{fill:#8250df;stroke:none}\n"
	"footer{margin-top:28px;color:#59636e;font-size:12px}\n";

/* --- the emitter ------------------------------------------------------------------------------ */

static void html_text(struct fl_emit *e, const char *s)
{
	h(e->f, s);
}

static void html_code(struct fl_emit *e, const char *s)
{
	fputs("<code>", e->f);
	h(e->f, s);
	fputs("</code>", e->f);
}

static void html_para(struct fl_emit *e, const char *cls, const char *s)
{
	if (cls)
		fprintf(e->f, "<p class=\"%s\">", cls);
	else
		fputs("<p>", e->f);
	h(e->f, s);
	fputs("</p>\n", e->f);
}

static void html_section(struct fl_emit *e, const char *id, const char *title)
{
	fprintf(e->f, "<section id=\"%s\">\n<h2>%s</h2>\n", id, title);
}

static void html_section_end(struct fl_emit *e)
{
	fputs("</section>\n", e->f);
}

static void html_table(struct fl_emit *e, const struct fl_col *cols, size_t n)
{
	fputs("<table>\n<thead><tr>", e->f);
	for (size_t i = 0; i < n; i++)
		fprintf(e->f, "<th>%s</th>", cols[i].title);
	fputs("</tr></thead>\n<tbody>\n", e->f);
}

static void html_row(struct fl_emit *e, const char *cls)
{
	if (cls)
		fprintf(e->f, "<tr class=\"%s\">", cls);
	else
		fputs("<tr>", e->f);
}

static void html_cell(struct fl_emit *e, enum fl_cell kind)
{
	if (e->col)
		fputs("</td>", e->f);
	fputs(kind == FL_CELL_NUM      ? "<td class=\"n\">"
	      : kind == FL_CELL_RESULT ? "<td class=\"res\">"
				       : "<td>",
	      e->f);
}

static void html_row_end(struct fl_emit *e)
{
	fputs("</td></tr>\n", e->f);
}

static void html_table_end(struct fl_emit *e)
{
	fputs("</tbody>\n</table>\n", e->f);
}

/* --- the header ------------------------------------------------------------------------------- */

static void header(struct fl_emit *e, json_t *res)
{
	const char *verdict = fl_j_str(res, "verdict"), *reason = fl_j_str(res, "reason");
	const char *scenario = fl_j_str(res, "scenario");
	FILE *f = e->f;

	fprintf(f, "<header class=\"%s\">\n<h1>", verdict_class(verdict));
	h(f, scenario ? scenario : "unnamed scenario");
	fputs(" <span class=\"badge\">", f);
	h(f, verdict ? verdict : "no verdict");
	fputs("</span></h1>\n<p class=\"meta\">faultline run ", f);
	fl_walk_run_facts(e, res);
	fputs("</p>\n", f);
	if (reason) {
		fputs("<p class=\"reason\">Reason: ", f);
		h(f, reason);
		fputs("</p>\n", f);
	}
	fputs("</header>\n", f);
}

/* --- the chart ------------------------------------------------------------------------------ */

struct pt {
	double t, v;
	bool ok, has_v;
	const char *reason;
};

struct col {
	double lo, hi; /* ok values in this column (by sample start) */
	unsigned n_ok, n_bad;
	double bad_first, bad_last;
	const char *reason; /* the first failure's */
	int state;	    /* success strip: 0 no sample, 1 ok, 2 failed */
};

struct win {
	double a, b;
	const char *name, *kind;
};

struct chart {
	double t1;     /* time axis: 0 .. t1 */
	double lo, hi; /* value axis */
	struct win *wins;
	size_t n_wins;
};

static double cx(const struct chart *c, double t)
{
	double x = X0 + t / c->t1 * COLS;

	return x < X0 ? X0 : x > X1 ? X1 : x;
}

static double cy(const struct chart *c, double v)
{
	double y = PY1 - (v - c->lo) / (c->hi - c->lo) * (PY1 - PY0);

	return y < PY0 ? PY0 : y > PY1 ? PY1 : y;
}

static int colof(const struct chart *c, double t)
{
	int k = (int)(t / c->t1 * COLS);

	return k < 0 ? 0 : k >= COLS ? COLS - 1 : k;
}

/* 1, 2, 2.5, 5 times a power of ten, at least v (no libm) */
static double nice_ceil(double v)
{
	static const double m[] = { 1, 2, 2.5, 5, 10 };
	double e = 1;

	if (!(v > 0))
		return 1;
	while (e * 10 <= v)
		e *= 10;
	while (e > v)
		e /= 10;
	for (size_t i = 0; i < ARRAY_SIZE(m); i++)
		if (m[i] * e >= v)
			return m[i] * e;
	return 10 * e;
}

static double time_step(double t1)
{
	static const double steps[] = { 0.01, 0.02, 0.05, 0.1,	0.2,   0.5,  1,	  2,
					5,    10,   15,	  30,	60,    120,  300, 600,
					900,  1800, 3600, 7200, 14400, 21600 };

	double step = 43200;

	for (size_t i = 0; i < ARRAY_SIZE(steps); i++)
		if (t1 / steps[i] <= 12)
			return steps[i];
	/* beyond 6 days keep doubling, so a hostile duration cannot ask for millions of ticks */
	while (t1 / step > 12 && step < 1e300)
		step *= 2;
	return step;
}

static void fmt_tick(double t, double step, char *buf, size_t len)
{
	if (step >= 60 && t >= 60)
		snprintf(buf, len, "%gm", t / 60);
	else
		snprintf(buf, len, "%gs", t);
}

static void fmt_val(double v, const char *unit, char *buf, size_t len)
{
	snprintf(buf, len, "%g%s%s", v, unit ? " " : "", unit ? unit : "");
}

/* Fault windows: applied..reverted; a kill is instantaneous, so its scenario window [at, at+for]
 * (the signals fall inside it) is what is shaded. */
static size_t fault_windows(json_t *res, double t1, struct win **ret)
{
	json_t *ph = json_object_get(res, "phases"), *f, *e;
	struct win *v = NULL;
	size_t n = 0, cap = 0, i, k;
	double fs = 0, fe = t1;
	bool have_fs = fl_j_num(ph, "faults_start_s", &fs);

	fl_j_num(ph, "faults_end_s", &fe);
	*ret = NULL;
	json_array_foreach(fl_j_arr(res, "faults"), i, f) {
		const char *kind = fl_j_str(f, "kind");
		bool kill = kind && strcmp(kind, "kill") == 0;
		double open = -1, first = -1, last = -1, at, dur;

		json_array_foreach(fl_j_arr(f, "events"), k, e) {
			const char *ev = fl_j_str(e, "event");
			double t;
			struct win w = { .a = -1 };

			if (!ev || !fl_j_num(e, "t", &t))
				continue;
			if (strcmp(ev, "applied") == 0) {
				if (first < 0)
					first = t;
				last = t;
				if (!kill && open < 0)
					open = t;
			} else if (!kill && open >= 0 &&
				   (strcmp(ev, "reverted") == 0 ||
				    strcmp(ev, "revert-failed") == 0)) {
				w = (struct win){ .a = open, .b = t };
				open = -1;
			}
			if (k + 1 == json_array_size(fl_j_arr(f, "events")) && open >= 0 &&
			    w.a < 0) {
				/* never reverted (the run ended first): up to the end of the faults
				 */
				w = (struct win){ .a = open, .b = fe > open ? fe : t1 };
				open = -1;
			}
			if (kill && k + 1 == json_array_size(fl_j_arr(f, "events")) && first >= 0) {
				if (have_fs && fl_j_num(f, "at_s", &at) &&
				    fl_j_num(f, "for_s", &dur))
					w = (struct win){ .a = fs + at, .b = fs + at + dur };
				else
					w = (struct win){ .a = first, .b = last };
			}
			if (w.a < 0)
				continue;
			if (n == cap) {
				struct win *nv;
				cap = cap ? 2 * cap : 8;
				nv = realloc(v, cap * sizeof(*v));
				if (!nv)
					break;
				v = nv;
			}
			w.name = fl_j_str(f, "name");
			w.kind = kind;
			v[n++] = w;
		}
	}
	*ret = v;
	return n;
}

static size_t load_points(json_t *p, const char *field, struct pt **ret, size_t *ret_n_values)
{
	json_t *samples = fl_j_arr(p, "samples"), *s;
	struct pt *v = calloc(json_array_size(samples) + 1, sizeof(*v));
	size_t n = 0, nv = 0, i;

	*ret = v;
	*ret_n_values = 0;
	if (!v)
		return 0;
	json_array_foreach(samples, i, s) {
		struct pt q = { 0 };
		if (!fl_j_num(s, "t", &q.t))
			continue;
		q.ok = fl_j_true(s, "ok");
		q.has_v = fl_j_num(s, field, &q.v);
		q.reason = fl_j_str(s, "reason");
		nv += q.has_v;
		v[n++] = q;
	}
	*ret_n_values = nv;
	return n;
}

static void text_at(FILE *f, double x, double y, const char *cls, const char *label)
{
	const char *anchor = x > (X0 + X1) / 2.0 ? "end" : "start";

	fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\"%s%s%s>",
		x + (*anchor == 'e' ? -3 : 3), (int)y, anchor, cls ? " class=\"" : "",
		cls ? cls : "", cls ? "\"" : "");
	h(f, label);
	fputs("</text>\n", f);
}

static void vmark(FILE *f, const struct chart *c, double t, const char *cls, int label_y,
		  const char *label)
{
	double x = cx(c, t);

	if (t < 0 || t > c->t1)
		return; /* off the chart: the tables have it */
	fprintf(f, "<line class=\"%s\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>\n", cls, x,
		label_y - 8, x, SY1);
	text_at(f, x, label_y, cls, label);
}

static void strip_and_bad_marks(FILE *f, const struct chart *c, struct col *cols, bool envelope)
{
	for (int k = 0; k < COLS;) {
		int s = cols[k].state, e = k;
		unsigned bad = 0;
		double first = -1, last = -1;
		const char *reason = NULL;

		while (e < COLS && cols[e].state == s) {
			if (cols[e].n_bad) {
				if (first < 0) {
					first = cols[e].bad_first;
					reason = cols[e].reason;
				}
				last = cols[e].bad_last;
				bad += cols[e].n_bad;
			}
			e++;
		}
		if (s == 1) {
			fprintf(f,
				"<rect class=\"sok\" x=\"%d\" y=\"%d\" width=\"%d\" "
				"height=\"%d\"/>\n",
				X0 + k, SY0, e - k, SY1 - SY0);
		} else if (s == 2) {
			fprintf(f,
				"<rect class=\"sbad\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\">"
				"<title>",
				X0 + k, SY0, e - k, SY1 - SY0);
			if (first >= 0 && bad > 1)
				fprintf(f, "%u failed samples from %.3f s to %.3f s", bad, first,
					last);
			else if (first >= 0)
				fprintf(f, "failed sample at %.3f s", first);
			else
				fputs("failed sample", f);
			if (reason) {
				fputs(": ", f);
				h(f, reason);
			}
			fputs("</title></rect>\n", f);
			if (envelope)
				fprintf(f,
					"<rect class=\"bad\" x=\"%d\" y=\"%d\" width=\"%d\" "
					"height=\"5\"/>\n",
					X0 + k, PY0, e - k);
		}
		k = e;
	}
}

static void series(FILE *f, const struct chart *c, struct pt *v, size_t n, size_t n_values,
		   struct col *cols, const char *unit)
{
	char buf[64];

	if (n_values <= POINTS_MAX) {
		bool pen = false;

		fputs("<path class=\"ln\" d=\"", f);
		for (size_t i = 0; i < n; i++) {
			if (!v[i].ok || !v[i].has_v) {
				pen = false;
				continue;
			}
			fprintf(f, "%s%.1f,%.1f", pen ? " L" : (i ? " M" : "M"), cx(c, v[i].t),
				cy(c, v[i].v));
			pen = true;
		}
		fputs("\"/>\n", f);
		for (size_t i = 0; i < n; i++) {
			if (!v[i].has_v)
				continue;
			if (v[i].ok) {
				fprintf(f,
					"<circle class=\"pt\" cx=\"%.1f\" cy=\"%.1f\" "
					"r=\"1.8\"/>\n",
					cx(c, v[i].t), cy(c, v[i].v));
				continue;
			}
			fmt_val(v[i].v, unit, buf, sizeof(buf));
			fprintf(f,
				"<circle class=\"bad\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.2\"><title>"
				"failed at %.3f s after %s",
				cx(c, v[i].t), cy(c, v[i].v), v[i].t, buf);
			if (v[i].reason) {
				fputs(": ", f);
				h(f, v[i].reason);
			}
			fputs("</title></circle>\n", f);
		}
		return;
	}
	/* min/max envelope per column: bounded size however long the run */
	fputs("<path class=\"env\" d=\"", f);
	for (int k = 0; k < COLS;) {
		int e = k;

		if (!cols[k].n_ok) {
			k++;
			continue;
		}
		while (e < COLS && cols[e].n_ok)
			e++;
		for (int j = k; j < e; j++)
			fprintf(f, "%s%d,%.1f", j == k ? "M" : " L", X0 + j, cy(c, cols[j].hi));
		fprintf(f, " L%d,%.1f", X0 + e, cy(c, cols[e - 1].hi));
		fprintf(f, " L%d,%.1f", X0 + e, cy(c, cols[e - 1].lo));
		for (int j = e - 1; j >= k; j--)
			fprintf(f, " L%d,%.1f", X0 + j, cy(c, cols[j].lo));
		fputs(" Z ", f);
		k = e;
	}
	fputs("\"/>\n", f);
}

static void chart(FILE *f, json_t *res, json_t *p, const char *field, const char *unit,
		  double scale, const char *what, const struct chart *base)
{
	json_t *ph = json_object_get(res, "phases");
	struct chart c = *base;
	_cleanup_free_ struct pt *v = NULL;
	_cleanup_free_ struct col *cols = calloc(COLS, sizeof(*cols));
	size_t n_values, n = load_points(p, field, &v, &n_values);
	const char *pname = fl_j_str(p, "name") ? fl_j_str(p, "name") : "?";
	double every = 0, max_ok = 0, max_all = 0, min_all = 0, x, a, b;
	bool any_ok = false;
	char buf[64];

	if (!cols || !v)
		return;
	fl_j_num(p, "every_s", &every);
	for (size_t i = 0; i < n; i++) {
		if (!v[i].has_v)
			continue;
		v[i].v *= scale;
		if (v[i].ok && (!any_ok || v[i].v > max_ok))
			max_ok = v[i].v;
		any_ok |= v[i].ok;
		max_all = v[i].v > max_all ? v[i].v : max_all;
		min_all = v[i].v < min_all ? v[i].v : min_all;
	}
	/* scale to the healthy samples: a timeout would flatten them; failures are clamped */
	c.hi = nice_ceil(1.1 * (any_ok ? max_ok : max_all));
	c.lo = min_all < 0 ? -nice_ceil(-1.1 * min_all) : 0;
	if (c.hi <= c.lo)
		c.hi = c.lo + 1;

	for (size_t i = 0; i < n; i++) {
		double end = i + 1 < n ? v[i + 1].t : v[i].t + (every > 0 ? every : c.t1 / COLS);
		int k0 = colof(&c, v[i].t), k1;
		struct col *k = &cols[k0];

		if (every > 0 && end > v[i].t + every)
			end = v[i].t + every; /* a gap in the samples stays a gap */
		k1 = colof(&c, end - 1e-9 > v[i].t ? end - 1e-9 : v[i].t);
		for (int j = k0; j <= k1; j++)
			if (cols[j].state != 2)
				cols[j].state = v[i].ok ? 1 : 2;
		if (!v[i].ok) {
			if (!k->n_bad) {
				k->bad_first = v[i].t;
				k->reason = v[i].reason;
			}
			k->bad_last = v[i].t;
			k->n_bad++;
		} else if (v[i].has_v) {
			if (!k->n_ok || v[i].v < k->lo)
				k->lo = v[i].v;
			if (!k->n_ok || v[i].v > k->hi)
				k->hi = v[i].v;
			k->n_ok++;
		}
	}

	fputs("<figure>\n", f);
	fprintf(f,
		"<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
		"role=\"img\">\n<title>",
		SVG_W, SVG_H);
	h(f, pname);
	fprintf(f, ": %s and success over time</title>\n", what);
	fprintf(f, "<rect class=\"plot\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n", X0, PY0,
		COLS, PY1 - PY0);
	for (size_t i = 0; i < c.n_wins; i++) {
		double wa = cx(&c, c.wins[i].a), wb = cx(&c, c.wins[i].b);
		fprintf(f,
			"<rect class=\"win\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\">"
			"<title>fault ",
			wa, PY0, wb - wa > 1 ? wb - wa : 1, SY1 - PY0);
		h(f, c.wins[i].name ? c.wins[i].name : "?");
		fputs(" (", f);
		h(f, c.wins[i].kind ? c.wins[i].kind : "?");
		fprintf(f, "): %.3f s to %.3f s</title></rect>\n", c.wins[i].a, c.wins[i].b);
	}
	/* value grid and axis */
	for (int i = 0; i <= 4; i++) {
		double val = c.lo + (c.hi - c.lo) * i / 4;
		int y = (int)cy(&c, val);
		fmt_val(val, unit, buf, sizeof(buf));
		fprintf(f,
			"<line class=\"grid\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
			"<text class=\"small\" x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n",
			X0, y, X1, y, X0 - 4, y + 4, buf);
	}
	{
		double step = time_step(c.t1);
		for (int i = 0; i * step <= c.t1 + 1e-9; i++) {
			double t = i * step;
			fmt_tick(t, step, buf, sizeof(buf));
			fprintf(f,
				"<line class=\"axis\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
				"<text class=\"small\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">"
				"%s</text>\n",
				cx(&c, t), PY1, cx(&c, t), PY1 + 4, cx(&c, t), PY1 + 15, buf);
		}
	}
	/* phase boundaries and names */
	{
		static const char *const names[] = { "baseline", "faults", "recovery" };
		double bound[4] = { 0, -1, -1, c.t1 };
		fl_j_num(ph, "faults_start_s", &bound[1]);
		fl_j_num(ph, "faults_end_s", &bound[2]);
		for (int i = 1; i <= 2; i++)
			if (bound[i] >= 0)
				fprintf(f,
					"<line class=\"ph\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" "
					"y2=\"%d\"/>\n",
					cx(&c, bound[i]), 8, cx(&c, bound[i]), SY1);
		if (bound[1] >= 0 && bound[2] >= bound[1])
			for (int i = 0; i < 3; i++) {
				double xa = cx(&c, bound[i]), xb = cx(&c, bound[i + 1]);
				if (xb - xa >= 46)
					fprintf(f,
						"<text class=\"small\" x=\"%.1f\" y=\"16\" "
						"text-anchor=\"middle\">%s</text>\n",
						(xa + xb) / 2, names[i]);
			}
	}
	/* what the backends did: a tick per fault event above the plot */
	{
		struct fl_event *ev = NULL;
		size_t ne = fl_fault_events(res, &ev);
		for (size_t i = 0; i < ne; i++) {
			double ex = cx(&c, ev[i].t);
			fprintf(f,
				"<line class=\"ev\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\">"
				"<title>",
				ex, PY0 - 6, ex, PY0);
			h(f, ev[i].fault ? ev[i].fault : "?");
			fputc(' ', f);
			h(f, ev[i].event);
			fprintf(f, " at %.3f s</title></line>\n", ev[i].t);
		}
		free(ev);
	}
	series(f, &c, v, n, n_values, cols, unit);
	strip_and_bad_marks(f, &c, cols, n_values > POINTS_MAX);
	fprintf(f, "<text class=\"small\" x=\"%d\" y=\"%d\" text-anchor=\"end\">ok</text>\n",
		X0 - 4, SY1 - 3);
	/* detect, recover, and the recovery deadline */
	if (fl_j_true(p, "detected") && fl_j_num(p, "time_to_detect_s", &x) &&
	    fl_j_num(ph, "first_fault_s", &a)) {
		snprintf(buf, sizeof(buf), "detected +%.3f s", x);
		vmark(f, &c, a + x, "det", 30, buf);
	}
	if (fl_j_true(p, "recovered") && fl_j_num(p, "time_to_recover_s", &x) &&
	    fl_j_num(ph, "recovery_reference_s", &a)) {
		snprintf(buf, sizeof(buf), "recovered +%.3f s", x);
		vmark(f, &c, a + x, "rec", 42, buf);
	}
	{
		json_t *e;
		size_t i;
		json_array_foreach(fl_j_arr(res, "expectations"), i, e) {
			const char *m = fl_j_str(e, "metric"), *pr = fl_j_str(e, "probe");
			if (m && pr && strcmp(m, "recovered_within") == 0 &&
			    strcmp(pr, pname) == 0 && fl_j_num(e, "threshold", &b) &&
			    fl_j_num(ph, "recovery_reference_s", &a)) {
				snprintf(buf, sizeof(buf), "deadline %gs", b);
				vmark(f, &c, a + b, "dl", 42, buf);
			}
		}
	}
	/* legend */
	fprintf(f,
		"<g transform=\"translate(%d,%d)\">"
		"<circle class=\"pt\" cx=\"0\" cy=\"-4\" r=\"3\"/><text x=\"8\" y=\"0\">%s "
		"(ok)</text>"
		"<circle class=\"bad\" cx=\"150\" cy=\"-4\" r=\"3.2\"/>"
		"<text x=\"158\" y=\"0\">failed sample</text>"
		"<rect class=\"win\" x=\"270\" y=\"-11\" width=\"16\" height=\"10\"/>"
		"<text x=\"292\" y=\"0\">fault window</text>"
		"<line class=\"ph\" x1=\"390\" y1=\"-10\" x2=\"390\" y2=\"1\"/>"
		"<text x=\"396\" y=\"0\">phase boundary</text>"
		"<line class=\"det\" x1=\"510\" y1=\"-10\" x2=\"510\" y2=\"1\"/>"
		"<text x=\"516\" y=\"0\">detected</text>"
		"<line class=\"rec\" x1=\"590\" y1=\"-10\" x2=\"590\" y2=\"1\"/>"
		"<text x=\"596\" y=\"0\">recovered</text>"
		"<line class=\"ev\" x1=\"680\" y1=\"-10\" x2=\"680\" y2=\"-4\"/>"
		"<text x=\"686\" y=\"0\">fault event</text></g>\n",
		X0, SVG_H - 14, what);
	fputs("</svg>\n<figcaption class=\"note\">", f);
	if (n_values > POINTS_MAX)
		fprintf(f,
			"%zu samples, drawn as the min–max of the healthy ones per column (%d "
			"columns); every failed sample is marked.",
			n, COLS);
	else
		fprintf(f, "%zu samples, each drawn.", n);
	fputs(" Failed samples are clamped to the top of the scale, which fits the healthy ones."
	      "</figcaption>\n</figure>\n",
	      f);
}

/* --- probes ----------------------------------------------------------------------------------- */

static void metric(FILE *f, const char *label, const char *value)
{
	fputs("<div><dt>", f);
	h(f, label);
	fputs("</dt><dd>", f);
	h(f, value);
	fputs("</dd></div>", f);
}

static void seconds_metric(FILE *f, json_t *p, const char *label, const char *flag, const char *key,
			   const char *no)
{
	json_t *b = json_object_get(p, flag);
	char buf[48];
	double x;

	if (json_is_true(b) && fl_j_num(p, key, &x)) {
		snprintf(buf, sizeof(buf), "%.3f s", x);
		metric(f, label, buf);
	} else if (json_is_false(b)) {
		metric(f, label, no);
	}
}

static bool any_value(json_t *p, const char *field)
{
	json_t *s;
	size_t i;

	json_array_foreach(fl_j_arr(p, "samples"), i, s)
		if (json_is_number(json_object_get(s, field)))
			return true;
	return false;
}

/* Per probe: what it watched, its times, its charts, then its numbers per phase. */
static void probes(struct fl_emit *e, json_t *res)
{
	static const struct fl_col cols[] = {
		{ "Phase", FL_CELL_TEXT }, { "Samples", FL_CELL_NUM },	    { "OK", FL_CELL_NUM },
		{ "Errors", FL_CELL_NUM }, { "Availability", FL_CELL_NUM }, { "p50", FL_CELL_NUM },
		{ "p90", FL_CELL_NUM },	   { "p95", FL_CELL_NUM },	    { "p99", FL_CELL_NUM },
		{ "max", FL_CELL_NUM },	   { "Percentiles", FL_CELL_TEXT },
	};
	static const char *const names[] = { "baseline", "faults", "recovery" };
	static const char *const pct[] = { "p50", "p90", "p95", "p99", "max" };
	json_t *ps = fl_j_arr(res, "probes"), *p, *ph = json_object_get(res, "phases");
	struct chart c = { 0 };
	_cleanup_free_ struct win *wins = NULL;
	FILE *f = e->f;
	size_t i;
	double x;

	if (!json_array_size(ps))
		return;
	/* one time axis for every chart, so they line up */
	fl_j_num(res, "duration_s", &c.t1);
	if (fl_j_num(ph, "end_s", &x) && x > c.t1)
		c.t1 = x;
	json_array_foreach(ps, i, p) {
		json_t *ss = fl_j_arr(p, "samples");
		double every = 0;
		fl_j_num(p, "every_s", &every);
		if (json_array_size(ss) &&
		    fl_j_num(json_array_get(ss, json_array_size(ss) - 1), "t", &x) &&
		    x + every > c.t1)
			c.t1 = x + every;
	}
	c.n_wins = fault_windows(res, c.t1, &wins);
	c.wins = wins;
	for (size_t k = 0; k < c.n_wins; k++)
		if (wins[k].b > c.t1)
			c.t1 = wins[k].b;
	if (!(c.t1 > 0))
		c.t1 = 1;

	fl_section(e, "probes", "Probes");
	json_array_foreach(ps, i, p) {
		json_t *pph = json_object_get(p, "phases");
		char buf[48];

		fputs("<article class=\"probe\">\n<h3>", f);
		html_code(e, fl_j_str(p, "name") ? fl_j_str(p, "name") : "?");
		fputs(" <small>", f);
		h(f, fl_j_str(p, "kind"));
		if (fl_j_str(p, "target"))
			fputc(' ', f);
		fl_walk_probe_target(e, p);
		if (fl_j_num(p, "every_s", &x))
			fprintf(f, ", every %.3f s", x);
		if (fl_j_num(p, "timeout_s", &x))
			fprintf(f, ", timeout %.3f s", x);
		fputs("</small></h3>\n<dl class=\"m\">", f);
		seconds_metric(f, p, "time to detect", "detected", "time_to_detect_s",
			       "not detected");
		seconds_metric(f, p, "time to recover", "recovered", "time_to_recover_s",
			       "did not recover");
		if (fl_j_num(p, "longest_outage_s", &x)) {
			snprintf(buf, sizeof(buf), "%.3f s", x);
			metric(f, "longest outage", buf);
		}
		fputs("</dl>\n", f);
		/* the picture first: it answers "what happened"; the table has the numbers */
		chart(f, res, p, "latency_ms", "ms", 1.0, "latency", &c);
		if (any_value(p, "value"))
			chart(f, res, p, "value", NULL, 1.0, "value", &c);
		fl_table(e, cols, ARRAY_SIZE(cols));
		for (size_t k = 0; k < ARRAY_SIZE(names); k++) {
			json_t *x2 = json_object_get(pph, names[k]);

			if (!json_is_object(x2))
				continue;
			fl_row(e, NULL);
			fl_cell_text(e, names[k]);
			fl_walk_phase_cells(e, x2, true, pct, ARRAY_SIZE(pct));
			fl_row_end(e);
		}
		fl_table_end(e);
		fputs("</article>\n", f);
	}
	fl_section_end(e);
}

static const struct fl_emit_ops html_ops = {
	.text = html_text,
	.code = html_code,
	.para = html_para,
	.section = html_section,
	.section_end = html_section_end,
	.table = html_table,
	.row = html_row,
	.cell = html_cell,
	.row_end = html_row_end,
	.table_end = html_table_end,
	.header = header,
	.probes = probes,
	.run_sep = " · ",
	.pass = "✔ pass",
	.fail = "✘ FAIL",
	.faults_title = "Faults",
	.faults_note = "What each backend reports it injected is in the timeline.",
};

int fl_report_html(json_t *res, FILE *f)
{
	const char *scenario = fl_j_str(res, "scenario"), *verdict = fl_j_str(res, "verdict");
	struct fl_emit e = { .f = f, .ops = &html_ops };

	/* no script, no fetches: the policy makes that hold even if an escape were missed */
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; img-src data:\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta name=\"generator\" content=\"faultline ",
	      f);
	ha(f, fl_j_str(res, "faultline") ? fl_j_str(res, "faultline") : "?");
	fputs("\">\n<title>faultline: ", f);
	h(f, scenario ? scenario : "unnamed scenario");
	fputs(" ", f);
	h(f, verdict ? verdict : "no verdict");
	fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", css);
	fl_report_walk(&e, res);
	fputs("<footer>Rendered from a ", f);
	h(f, fl_j_str(res, "schema"));
	fputs(" result by faultline ", f);
	h(f, fl_j_str(res, "faultline") ? fl_j_str(res, "faultline") : "?");
	fputs(". Render again with <code>faultline report result.json --format html</code>."
	      "</footer>\n</body>\n</html>\n",
	      f);
	return ferror(f) ? -EIO : 0;
}

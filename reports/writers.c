// SPDX-License-Identifier: GPL-2.0-only
/* What the report writers share: formats, loading a result, rendering to a file, small helpers. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "inject/util.h"
#include "reports/result.h"
#include "reports/writers.h"

static const struct {
	const char *name, *file;
} formats[FL_N_REPORT_FORMATS] = {
	[FL_REPORT_JSON] = { "json", "result.json" },
	[FL_REPORT_JUNIT] = { "junit", "junit.xml" },
	[FL_REPORT_MD] = { "md", "report.md" },
	[FL_REPORT_HTML] = { "html", "report.html" },
};

int fl_report_format_parse(const char *name, enum fl_report_format *ret)
{
	static const struct {
		const char *alias;
		enum fl_report_format f;
	} aliases[] = { { "xml", FL_REPORT_JUNIT }, { "markdown", FL_REPORT_MD } };

	if (!name)
		return -EINVAL;
	for (int i = 0; i < FL_N_REPORT_FORMATS; i++)
		if (strcmp(name, formats[i].name) == 0) {
			*ret = i;
			return 0;
		}
	for (size_t i = 0; i < ARRAY_SIZE(aliases); i++)
		if (strcmp(name, aliases[i].alias) == 0) {
			*ret = aliases[i].f;
			return 0;
		}
	return -EINVAL;
}

const char *fl_report_format_name(enum fl_report_format f)
{
	return f < FL_N_REPORT_FORMATS ? formats[f].name : NULL;
}

const char *fl_report_file_name(enum fl_report_format f)
{
	return f < FL_N_REPORT_FORMATS ? formats[f].file : NULL;
}

int fl_report_format_list(const char *list, unsigned *ret_mask, char **ret_bad)
{
	_cleanup_free_ char *copy = strdup(list ? list : "");
	unsigned mask = 0;
	char *save = NULL;

	if (!copy)
		return -ENOMEM;
	for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		enum fl_report_format f;

		w += strspn(w, " ");
		w[strcspn(w, " ")] = '\0';
		if (fl_report_format_parse(w, &f) < 0) {
			if (ret_bad)
				*ret_bad = strdup(w);
			return -EINVAL;
		}
		mask |= 1u << f;
	}
	if (!mask) {
		if (ret_bad)
			*ret_bad = strdup(list ? list : "");
		return -EINVAL;
	}
	*ret_mask = mask;
	return 0;
}

int fl_report_format_guess(const char *path, enum fl_report_format *ret)
{
	static const struct {
		const char *ext;
		enum fl_report_format f;
	} exts[] = { { ".json", FL_REPORT_JSON },
		     { ".xml", FL_REPORT_JUNIT },
		     { ".md", FL_REPORT_MD },
		     { ".html", FL_REPORT_HTML },
		     { ".htm", FL_REPORT_HTML } };
	const char *dot = path ? strrchr(path, '.') : NULL;

	for (size_t i = 0; dot && i < ARRAY_SIZE(exts); i++)
		if (strcasecmp(dot, exts[i].ext) == 0) {
			*ret = exts[i].f;
			return 0;
		}
	return -EINVAL;
}

int fl_report_check(json_t *doc, char **ret_why)
{
	const char *schema = fl_j_str(doc, "schema");
	static const char prefix[] = "faultline.result/";

	if (!json_is_object(doc)) {
		if (ret_why)
			*ret_why = strdup("not a faultline result: not a JSON object");
		return -EINVAL;
	}
	if (!schema || strncmp(schema, prefix, sizeof(prefix) - 1) != 0) {
		if (ret_why &&
		    asprintf(ret_why, "not a faultline result: no \"schema\": \"%s\" in it",
			     FL_RESULT_SCHEMA) < 0)
			*ret_why = NULL;
		return -EINVAL;
	}
	if (strcmp(schema, FL_RESULT_SCHEMA) != 0) {
		if (ret_why &&
		    asprintf(ret_why, "unsupported result schema '%s' (this faultline reads '%s')",
			     schema, FL_RESULT_SCHEMA) < 0)
			*ret_why = NULL;
		return -EPROTONOSUPPORT;
	}
	return 0;
}

int fl_report_load(const char *path, json_t **ret, char **ret_why)
{
	_cleanup_fclose_ FILE *f = NULL;
	bool is_stdin = strcmp(path, "-") == 0;
	const char *name = is_stdin ? "<stdin>" : path;
	json_error_t err;
	struct stat st;
	json_t *doc;
	int r;

	*ret_why = NULL;
	if (!is_stdin) {
		f = fopen(path, "re");
		if (!f) {
			r = -errno;
			if (asprintf(ret_why, "cannot read '%s': %s", path, strerror(-r)) < 0)
				*ret_why = NULL;
			return r;
		}
		if (fstat(fileno(f), &st) < 0)
			return -errno;
		if (S_ISDIR(st.st_mode)) {
			if (asprintf(ret_why, "'%s' is a directory, not a result file", path) < 0)
				*ret_why = NULL;
			return -EISDIR;
		}
		if (S_ISREG(st.st_mode) && (unsigned long long)st.st_size > FL_REPORT_MAX_INPUT) {
			if (asprintf(ret_why, "'%s' is larger than %llu MiB, refusing", path,
				     FL_REPORT_MAX_INPUT >> 20) < 0)
				*ret_why = NULL;
			return -EFBIG;
		}
	}
	doc = json_loadf(is_stdin ? stdin : f, 0, &err);
	if (!doc) {
		if (asprintf(ret_why, "%s:%d:%d: not valid JSON: %s", name, err.line, err.column,
			     err.text) < 0)
			*ret_why = NULL;
		return -EINVAL;
	}
	r = fl_report_check(doc, ret_why);
	if (r < 0) {
		char *why = *ret_why;
		if (asprintf(ret_why, "'%s': %s", name, why ? why : "not a faultline result") < 0)
			*ret_why = NULL;
		free(why);
		json_decref(doc);
		return r;
	}
	*ret = doc;
	return 0;
}

int fl_report_json(json_t *result, FILE *out)
{
	/* the same flags as fl_result_write, so a re-render matches result.json */
	if (json_dumpf(result, out, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) < 0)
		return -EIO;
	fputc('\n', out);
	return ferror(out) ? -EIO : 0;
}

int fl_report_render(json_t *result, enum fl_report_format f, FILE *out)
{
	switch (f) {
	case FL_REPORT_JSON:
		return fl_report_json(result, out);
	case FL_REPORT_JUNIT:
		return fl_report_junit(result, out);
	case FL_REPORT_MD:
		return fl_report_markdown(result, out);
	case FL_REPORT_HTML:
		return fl_report_html(result, out);
	default:
		return -EINVAL;
	}
}

int fl_report_render_buf(json_t *result, enum fl_report_format f, char **ret, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int r;

	if (!m)
		return -ENOMEM;
	r = fl_report_render(result, f, m);
	if (fclose(m) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

int fl_report_write_file(json_t *result, enum fl_report_format f, const char *path)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = fl_report_render_buf(result, f, &buf, &len);

	if (r < 0)
		return r;
	return fl_write_file_atomic(path, buf, len, 0644);
}

/* --- JSON access that tolerates missing and mistyped fields ------------------------------- */

const char *fl_j_str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

bool fl_j_num(json_t *o, const char *key, double *ret)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_number(v))
		return false;
	*ret = json_number_value(v);
	return true;
}

bool fl_j_true(json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

json_t *fl_j_arr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_array(v) ? v : NULL;
}

/* --- expectations ------------------------------------------------------------------------ */

static char *fmt_value(double v, const char *unit)
{
	char *s = NULL;

	if (unit && strcmp(unit, "ratio") == 0) {
		if (asprintf(&s, "%.6g%%", 100.0 * v) < 0)
			s = NULL;
	} else if (unit && strcmp(unit, "s") == 0) {
		/* 5 s, 300 ms, 0.5 ms: thresholds read as written in the scenario */
		if ((v >= 1 || v == 0 ? asprintf(&s, "%.6g s", v)
				      : asprintf(&s, "%.6g ms", 1e3 * v)) < 0)
			s = NULL;
	} else if (asprintf(&s, "%.6g%s%s", v, unit ? " " : "", unit ? unit : "") < 0) {
		s = NULL;
	}
	return s;
}

char *fl_expectation_text(json_t *e)
{
	json_t *obs = json_object_get(e, "observed");
	const char *msg = fl_j_str(e, "message");

	if (msg)
		return strdup(msg);
	if (json_is_string(obs))
		return strdup(json_string_value(obs));
	if (json_is_number(obs))
		return fmt_value(json_number_value(obs), fl_j_str(e, "unit"));
	return strdup("not measured");
}

char *fl_expectation_rule(json_t *e)
{
	const char *metric = fl_j_str(e, "metric"), *op = fl_j_str(e, "op");
	const char *unit = fl_j_str(e, "unit");
	_cleanup_free_ char *th = NULL, *tol = NULL;
	double threshold, tolerance;
	char *s = NULL;

	if (!metric || !op || !fl_j_num(e, "threshold", &threshold))
		return NULL;
	th = fmt_value(threshold, unit);
	/* slack: a success rate may be lower by that much (absolute), a time higher by that
	 * fraction of the threshold */
	if (fl_j_num(e, "tolerance", &tolerance) && tolerance > 0 &&
	    asprintf(&tol,
		     unit && strcmp(unit, "ratio") == 0 ? " (tolerance %.4g points)"
							: " (tolerance +%.4g%%)",
		     100.0 * tolerance) < 0)
		tol = NULL;
	if (!th || asprintf(&s, "%s %s %s%s", metric, op, th, tol ? tol : "") < 0)
		return NULL;
	return s;
}

static bool is_phase(const char *s, size_t n)
{
	for (int i = 0; i < FL_N_PHASES; i++)
		if (strlen(fl_phase_names[i]) == n && strncmp(s, fl_phase_names[i], n) == 0)
			return true;
	return false;
}

const char *fl_expectation_phase(json_t *e, char *buf, size_t len)
{
	const char *phase = fl_j_str(e, "phase"), *name = fl_j_str(e, "name");
	size_t n;

	if (phase)
		return phase;
	if (!name || !strchr(name, ':'))
		return NULL;
	n = (size_t)(strchr(name, ':') - name);
	if (!is_phase(name, n) || n >= len)
		return NULL;
	memcpy(buf, name, n);
	buf[n] = '\0';
	return buf;
}

const char *fl_expectation_probe(json_t *e, json_t *result)
{
	const char *probe = fl_j_str(e, "probe"), *name = fl_j_str(e, "name"), *colon;
	json_t *p;
	size_t i, n;

	if (probe)
		return probe;
	/* older results: "recovery: redis-port healthy for 1s within 5s" */
	if (!name || !(colon = strstr(name, ": ")) || !is_phase(name, (size_t)(colon - name)))
		return NULL;
	name = colon + 2;
	n = strcspn(name, " ");
	json_array_foreach(fl_j_arr(result, "probes"), i, p) {
		const char *pn = fl_j_str(p, "name");
		if (pn && strlen(pn) == n && strncmp(pn, name, n) == 0)
			return pn;
	}
	return NULL;
}

double fl_phase_length(json_t *result, const char *phase)
{
	json_t *ph = json_object_get(result, "phases");
	double a = 0, b = -1;

	if (!phase)
		return -1;
	if (strcmp(phase, "baseline") == 0) {
		if (!fl_j_num(ph, "faults_start_s", &b))
			return -1;
	} else if (strcmp(phase, "faults") == 0) {
		if (!fl_j_num(ph, "faults_start_s", &a) || !fl_j_num(ph, "faults_end_s", &b))
			return -1;
	} else if (strcmp(phase, "recovery") == 0) {
		if (!fl_j_num(ph, "faults_end_s", &a) || !fl_j_num(ph, "end_s", &b))
			return -1;
	} else {
		return -1;
	}
	return b >= a ? b - a : 0;
}

/* --- small renderings -------------------------------------------------------------------- */

static void brief(FILE *f, json_t *v, int depth)
{
	size_t i, n;
	const char *k;
	json_t *x;

	switch (json_typeof(v)) {
	case JSON_STRING:
		fputs(json_string_value(v), f);
		break;
	case JSON_INTEGER:
		fprintf(f, "%lld", (long long)json_integer_value(v));
		break;
	case JSON_REAL:
		fprintf(f, "%.6g", json_real_value(v));
		break;
	case JSON_TRUE:
		fputs("yes", f);
		break;
	case JSON_FALSE:
		fputs("no", f);
		break;
	case JSON_NULL:
		fputs("none", f);
		break;
	case JSON_ARRAY:
		n = json_array_size(v);
		if (!n)
			fputs("none", f);
		json_array_foreach(v, i, x) {
			if (i == 8) {
				fprintf(f, " (+%zu more)", n - i);
				break;
			}
			if (i)
				fputs(", ", f);
			brief(f, x, depth + 1);
		}
		break;
	case JSON_OBJECT:
		if (depth > 4) {
			fputs("...", f);
			break;
		}
		if (depth)
			fputc('{', f);
		i = 0;
		json_object_foreach(v, k, x) {
			if (i++)
				fputs("; ", f);
			fprintf(f, "%s: ", k);
			brief(f, x, depth + 1);
		}
		if (depth)
			fputc('}', f);
		break;
	}
}

char *fl_json_brief(json_t *v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return NULL;
	if (v)
		brief(m, v, 0);
	if (fclose(m) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

const char *fl_fmt_latency(double s, char *buf, size_t len)
{
	double ms = s * 1000.0;

	if (s >= 1.0)
		snprintf(buf, len, "%.3f s", s);
	else if (ms >= 100.0)
		snprintf(buf, len, "%.0f ms", ms);
	else if (ms >= 10.0)
		snprintf(buf, len, "%.1f ms", ms);
	else
		snprintf(buf, len, "%.3f ms", ms);
	return buf;
}

static int event_cmp(const void *a, const void *b)
{
	const struct fl_event *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

size_t fl_fault_events(json_t *result, struct fl_event **ret)
{
	struct fl_event *v = NULL;
	size_t n = 0, cap = 0, i, k;
	json_t *f, *e;

	*ret = NULL;
	json_array_foreach(fl_j_arr(result, "faults"), i, f) {
		json_array_foreach(fl_j_arr(f, "events"), k, e) {
			double t;
			if (!fl_j_num(e, "t", &t) || !fl_j_str(e, "event"))
				continue;
			if (n == cap) {
				struct fl_event *nv;
				cap = cap ? 2 * cap : 16;
				nv = realloc(v, cap * sizeof(*v));
				if (!nv)
					break;
				v = nv;
			}
			v[n] = (struct fl_event){ .t = t,
						  .fault = fl_j_str(f, "name"),
						  .kind = fl_j_str(f, "kind"),
						  .event = fl_j_str(e, "event"),
						  .reason = fl_j_str(e, "reason"),
						  /* what was done: "injected" at apply,
						   * "observed" (kernel counters) before revert */
						  .injected = json_object_get(e, "injected")
								      ?: json_object_get(e, "observed"),
						  .order = n };
			n++;
		}
	}
	if (n)
		qsort(v, n, sizeof(*v), event_cmp);
	*ret = v;
	return n;
}

struct trows {
	struct fl_trow *v;
	size_t n, cap;
};

static void trow(struct trows *r, double t, const char *subject, bool is_probe, const char *what,
		 char *details)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		struct fl_trow *nv = realloc(r->v, cap * sizeof(*nv));
		if (!nv) {
			free(details);
			return;
		}
		r->v = nv;
		r->cap = cap;
	}
	r->v[r->n] = (struct fl_trow){ .t = t,
				       .order = r->n,
				       .subject = subject,
				       .is_probe = is_probe,
				       .what = what,
				       .details = details };
	r->n++;
}

static int trow_cmp(const void *a, const void *b)
{
	const struct fl_trow *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

size_t fl_timeline(json_t *res, struct fl_trow **ret)
{
	json_t *ph = json_object_get(res, "phases"), *p;
	struct trows r = { 0 };
	_cleanup_free_ struct fl_event *ev = NULL;
	size_t n = fl_fault_events(res, &ev), i;
	double t, first = 0, ref = 0, x;
	bool have_first = fl_j_num(ph, "first_fault_s", &first);
	bool have_ref = fl_j_num(ph, "recovery_reference_s", &ref);
	char *d;

	trow(&r, 0, NULL, false, "baseline starts", NULL);
	if (fl_j_num(ph, "faults_start_s", &t))
		trow(&r, t, NULL, false, "baseline ends, faults phase starts", NULL);
	for (i = 0; i < n; i++) {
		_cleanup_free_ char *inj = ev[i].injected ? fl_json_brief(ev[i].injected) : NULL;
		d = NULL;
		if (inj || ev[i].reason)
			if (asprintf(&d, "%s%s%s%s",
				     !inj ? ""
				     : strcmp(ev[i].event, "observed") == 0 ? "observed: "
									      : "injected: ",
				     inj ? inj : "",
				     inj && ev[i].reason ? "; " : "",
				     ev[i].reason ? ev[i].reason : "") < 0)
				d = NULL;
		trow(&r, ev[i].t, ev[i].fault ? ev[i].fault : "?", false, ev[i].event, d);
	}
	json_array_foreach(fl_j_arr(res, "probes"), i, p) {
		const char *name = fl_j_str(p, "name") ? fl_j_str(p, "name") : "?";

		if (have_first && fl_j_true(p, "detected") && fl_j_num(p, "time_to_detect_s", &x)) {
			if (asprintf(&d, "first failed sample, %.3f s after the first fault", x) <
			    0)
				d = NULL;
			trow(&r, first + x, name, true, "detects the fault", d);
		}
		if (have_ref && fl_j_true(p, "recovered") && fl_j_num(p, "time_to_recover_s", &x)) {
			if (asprintf(&d, "a healthy window starts, %.3f s after %.3f s", x, ref) <
			    0)
				d = NULL;
			trow(&r, ref + x, name, true, "recovered", d);
		}
	}
	if (fl_j_num(ph, "faults_end_s", &t))
		trow(&r, t, NULL, false, "faults phase ends, recovery window starts", NULL);
	if (fl_j_num(ph, "end_s", &t))
		trow(&r, t, NULL, false, "run ends", NULL);
	qsort(r.v, r.n, sizeof(*r.v), trow_cmp);
	*ret = r.v;
	return r.n;
}

void fl_timeline_free(struct fl_trow *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].details);
	free(v);
}

/* --- escaping ------------------------------------------------------------------------------ */

static void put_xml(FILE *f, const char *s, bool attr)
{
	static const char repl[] = "\xef\xbf\xbd"; /* U+FFFD */
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	for (; *p; p++) {
		switch (*p) {
		case '&':
			fputs("&amp;", f);
			continue;
		case '<':
			fputs("&lt;", f);
			continue;
		case '>':
			fputs("&gt;", f);
			continue;
		case '"':
			fputs("&quot;", f);
			continue;
		case '\'':
			fputs("&#39;", f);
			continue;
		case '\t':
			fputs(attr ? "&#9;" : "\t", f);
			continue;
		case '\n':
			fputs(attr ? "&#10;" : "\n", f);
			continue;
		case '\r':
			fputs("&#13;", f);
			continue;
		}
		if (*p < 0x20 || *p == 0x7f) {
			/* XML 1.0 cannot carry these even as character references */
			fputs(repl, f);
		} else if (p[0] == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf)) {
			fputs(repl, f); /* U+FFFE, U+FFFF are not XML characters either */
			p += 2;
		} else {
			fputc(*p, f);
		}
	}
}

void fl_put_xml(FILE *f, const char *s)
{
	put_xml(f, s, false);
}

void fl_put_xml_attr(FILE *f, const char *s)
{
	put_xml(f, s, true);
}

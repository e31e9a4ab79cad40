// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests: the report writers against golden files, escaping, loading, size bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "inject/util.h"
#include "reports/writers.h"

/*
 * tests/golden/CASE.json are fixed results (passed, failed and aborted runs captured from real
 * runs, a result from before expectations carried numbers, a minimal one, and one with every
 * character a writer must escape); CASE.xml, CASE.md and CASE.html are what the writers must
 * produce from them, byte for byte. After an intended change, regenerate and review the diff:
 *   FL_GOLDEN_UPDATE=1 build/tests/test_writers && git diff tests/golden
 */
static const char *const cases[] = {
	"passed", "failed", "aborted", "special", "legacy", "minimal"
};
static const struct {
	enum fl_report_format f;
	const char *ext;
} outputs[] = { { FL_REPORT_JUNIT, "xml" }, { FL_REPORT_MD, "md" }, { FL_REPORT_HTML, "html" } };

static const char *golden_dir(void)
{
	const char *d = getenv("FL_GOLDEN_DIR");

	return d && *d ? d : "tests/golden";
}

static json_t *load_case(const char *name)
{
	_cleanup_free_ char *path = NULL, *why = NULL;
	json_t *res = NULL;

	assert_true(asprintf(&path, "%s/%s.json", golden_dir(), name) > 0);
	if (fl_report_load(path, &res, &why) < 0)
		fail_msg("%s: %s", path, why ? why : "cannot load");
	return res;
}

static char *render(json_t *res, enum fl_report_format f, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;

	assert_int_equal(fl_report_render_buf(res, f, &buf, &len), 0);
	assert_non_null(buf);
	assert_int_equal(strlen(buf), len);
	if (ret_len)
		*ret_len = len;
	return buf;
}

/* the first line where two texts differ, to make a failing golden readable */
static void report_diff(const char *path, const char *want, const char *got)
{
	size_t line = 1;
	const char *w = want, *g = got, *ws = want, *gs = got;

	while (*w && *w == *g) {
		if (*w == '\n') {
			line++;
			ws = w + 1;
			gs = g + 1;
		}
		w++;
		g++;
	}
	print_error("%s:%zu differs\n  want: %.*s\n  got:  %.*s\n"
		    "  (FL_GOLDEN_UPDATE=1 regenerates; review the diff)\n",
		    path, line, (int)strcspn(ws, "\n"), ws, (int)strcspn(gs, "\n"), gs);
}

static void goldens(void **state)
{
	bool update = getenv("FL_GOLDEN_UPDATE") && strcmp(getenv("FL_GOLDEN_UPDATE"), "1") == 0;
	int bad = 0;

	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		json_t *res = load_case(cases[c]);

		for (size_t o = 0; o < ARRAY_SIZE(outputs); o++) {
			_cleanup_free_ char *path = NULL, *want = NULL, *got = NULL, *again = NULL;
			size_t len, wlen = 0;

			got = render(res, outputs[o].f, &len);
			/* deterministic: no clock, no host, nothing left over from the last call */
			again = render(res, outputs[o].f, NULL);
			assert_string_equal(got, again);
			assert_true(asprintf(&path, "%s/%s.%s", golden_dir(), cases[c],
					     outputs[o].ext) > 0);
			if (update) {
				assert_int_equal(fl_write_file_atomic(path, got, len, 0644), 0);
				continue;
			}
			if (fl_read_file(path, &want, &wlen) < 0) {
				print_error("%s: missing (FL_GOLDEN_UPDATE=1 creates it)\n", path);
				bad++;
				continue;
			}
			if (wlen != len || memcmp(want, got, len) != 0) {
				report_diff(path, want, got);
				bad++;
			}
		}
		json_decref(res);
	}
	assert_int_equal(bad, 0);
}

/* `faultline report --format json` gives back what fl_result_write stored */
static void json_round_trip(void **state)
{
	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		json_t *res = load_case(cases[c]), *back;
		_cleanup_free_ char *out = render(res, FL_REPORT_JSON, NULL);
		_cleanup_free_ char *want =
			json_dumps(res, JSON_INDENT(2) | JSON_REAL_PRECISION(10));

		assert_non_null(want);
		assert_int_equal(strncmp(out, want, strlen(want)), 0);
		assert_string_equal(out + strlen(want), "\n");
		back = json_loads(out, 0, NULL);
		assert_true(json_equal(back, res));
		json_decref(back);
		json_decref(res);
	}
}

static char *xml(const char *s, bool attr)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	assert_non_null(m);
	if (attr)
		fl_put_xml_attr(m, s);
	else
		fl_put_xml(m, s);
	assert_int_equal(fclose(m), 0);
	return buf;
}

static void xml_escaping(void **state)
{
	_cleanup_free_ char *a = xml("a&b<c>\"d'e", false);
	_cleanup_free_ char *b = xml("x\001y\037z\x7f\xef\xbf\xbf!", false);
	_cleanup_free_ char *c = xml("t\tn\nr\r", true);
	_cleanup_free_ char *d = xml("t\tn\nr\r", false);
	_cleanup_free_ char *e = xml("caf\xc3\xa9 \xe2\x9c\x93", false);
	_cleanup_free_ char *f = xml(NULL, false);

	assert_string_equal(a, "a&amp;b&lt;c&gt;&quot;d&#39;e");
	/* characters XML 1.0 cannot carry become U+FFFD */
	assert_string_equal(b, "x\xef\xbf\xbdy\xef\xbf\xbdz\xef\xbf\xbd\xef\xbf\xbd!");
	assert_string_equal(c, "t&#9;n&#10;r&#13;");
	assert_string_equal(d, "t\tn\nr&#13;");
	assert_string_equal(e, "caf\xc3\xa9 \xe2\x9c\x93"); /* UTF-8 passes through */
	assert_string_equal(f, "");
}

static void formats(void **state)
{
	enum fl_report_format f;
	unsigned mask;
	char *bad = NULL;

	assert_int_equal(fl_report_format_parse("html", &f), 0);
	assert_int_equal(f, FL_REPORT_HTML);
	assert_int_equal(fl_report_format_parse("markdown", &f), 0);
	assert_int_equal(f, FL_REPORT_MD);
	assert_int_equal(fl_report_format_parse("xml", &f), 0);
	assert_int_equal(f, FL_REPORT_JUNIT);
	assert_int_equal(fl_report_format_parse("HTML", &f), -EINVAL);
	assert_int_equal(fl_report_format_parse("pdf", &f), -EINVAL);
	assert_int_equal(fl_report_format_parse(NULL, &f), -EINVAL);

	assert_int_equal(fl_report_format_list("junit,md", &mask, NULL), 0);
	assert_int_equal(mask, 1u << FL_REPORT_JUNIT | 1u << FL_REPORT_MD);
	assert_int_equal(fl_report_format_list("json,junit,md,html", &mask, NULL), 0);
	assert_int_equal(mask, FL_REPORT_ALL);
	assert_int_equal(fl_report_format_list("md,pdf", &mask, &bad), -EINVAL);
	assert_string_equal(bad, "pdf");
	free(bad);
	bad = NULL;
	assert_int_equal(fl_report_format_list(",", &mask, &bad), -EINVAL);
	free(bad);

	assert_int_equal(fl_report_format_guess("out/report.HTML", &f), 0);
	assert_int_equal(f, FL_REPORT_HTML);
	assert_int_equal(fl_report_format_guess("junit.xml", &f), 0);
	assert_int_equal(f, FL_REPORT_JUNIT);
	assert_int_equal(fl_report_format_guess("summary", &f), -EINVAL);
	assert_string_equal(fl_report_file_name(FL_REPORT_MD), "report.md");
	assert_string_equal(fl_report_file_name(FL_REPORT_JUNIT), "junit.xml");
}

static void check_schema(void **state)
{
	static const struct {
		const char *doc;
		int r;
		const char *why;
	} t[] = {
		{ "{\"schema\": \"faultline.result/1\"}", 0, NULL },
		{ "[1, 2]", -EINVAL, "not a JSON object" },
		{ "{\"verdict\": \"passed\"}", -EINVAL, "no \"schema\": \"faultline.result/1\"" },
		{ "{\"schema\": \"other.thing/1\"}", -EINVAL, "not a faultline result" },
		{ "{\"schema\": 1}", -EINVAL, "not a faultline result" },
		{ "{\"schema\": \"faultline.result/2\"}", -EPROTONOSUPPORT,
		  "unsupported result schema 'faultline.result/2'" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		json_t *doc = json_loads(t[i].doc, JSON_DECODE_ANY, NULL);
		char *why = NULL;

		assert_non_null(doc);
		assert_int_equal(fl_report_check(doc, &why), t[i].r);
		if (t[i].why) {
			assert_non_null(why);
			assert_non_null(strstr(why, t[i].why));
		}
		free(why);
		json_decref(doc);
	}
}

static void load_errors(void **state)
{
	char dir[] = "/tmp/fl-writers-XXXXXX", *why = NULL;
	_cleanup_free_ char *bad = NULL, *other = NULL;
	json_t *res = NULL;

	assert_non_null(mkdtemp(dir));
	assert_true(asprintf(&bad, "%s/bad.json", dir) > 0);
	assert_true(asprintf(&other, "%s/other.json", dir) > 0);
	assert_int_equal(fl_write_file_atomic(bad, "{\n  \"schema\": \n}", 16, 0644), 0);
	assert_int_equal(fl_write_file_atomic(other, "{\"name\": \"x\"}", 13, 0644), 0);

	assert_int_equal(fl_report_load("/nonexistent/result.json", &res, &why), -ENOENT);
	assert_non_null(strstr(why, "cannot read '/nonexistent/result.json'"));
	free(why);
	assert_int_equal(fl_report_load(dir, &res, &why), -EISDIR);
	free(why);
	assert_int_equal(fl_report_load(bad, &res, &why), -EINVAL);
	/* file:line:column, like scenario errors */
	assert_non_null(strstr(why, "bad.json:3:1: not valid JSON"));
	free(why);
	assert_int_equal(fl_report_load(other, &res, &why), -EINVAL);
	assert_non_null(strstr(why, "not a faultline result"));
	free(why);
	assert_null(res);
	unlink(bad);
	unlink(other);
	rmdir(dir);
}

/* Credentials are redacted by the probes; the writers must keep them so, and print nothing
 * of a sample beyond its time, latency, value, success and reason. */
static void redaction_holds(void **state)
{
	json_t *res = load_case("special");

	for (size_t o = 0; o < ARRAY_SIZE(outputs); o++) {
		_cleanup_free_ char *out = render(res, outputs[o].f, NULL);

		assert_null(strstr(out, "CANARY"));
		/* user info in a URL is only ever the probe's "***" */
		for (const char *p = out; (p = strstr(p, "://")); p++)
			if (strcspn(p + 3, "@/ ") < strcspn(p + 3, "/ "))
				assert_int_equal(strncmp(p, "://***@", 7), 0);
		if (outputs[o].f != FL_REPORT_JUNIT)
			assert_non_null(strstr(out, "http://***@web/health?a=1&"));
		/* nothing a browser or a Markdown renderer would run: in Markdown a name's '<' is
		 * backslash-escaped, in XML and HTML it is an entity */
		for (const char *p = out; (p = strpbrk(p, "<")); p++)
			if (strncmp(p, "<script", 7) == 0 || strncmp(p, "<b>", 3) == 0)
				assert_true(outputs[o].f == FL_REPORT_MD && p > out &&
					    p[-1] == '\\');
	}
	json_decref(res);
}

/* A long run: the HTML stays bounded (min/max per column), rendering stays quick. */
static void long_run_is_bounded(void **state)
{
	json_t *res = load_case("passed"), *p = json_array_get(json_object_get(res, "probes"), 0);
	json_t *samples = json_array();
	_cleanup_free_ char *html = NULL;
	size_t len;

	for (int i = 0; i < 36000; i++)
		json_array_append_new(samples,
				      json_pack("{s:f, s:f, s:b, s:s}", "t", i * 0.1, "latency_ms",
						0.2 + (i % 97) * 0.01, "ok", i % 500 != 7, "reason",
						i % 500 != 7 ? "connected" : "connection refused"));
	json_object_set_new(p, "samples", samples);
	json_object_set_new(res, "duration_s", json_real(3600.0));
	json_object_set_new(json_object_get(res, "phases"), "end_s", json_real(3600.0));
	html = render(res, FL_REPORT_HTML, &len);
	assert_true(len < 200 * 1024);
	assert_non_null(strstr(html, "36000 samples, drawn as the min"));
	assert_non_null(strstr(html, "class=\"env\""));
	json_decref(res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(goldens),	   cmocka_unit_test(json_round_trip),
		cmocka_unit_test(xml_escaping),	   cmocka_unit_test(formats),
		cmocka_unit_test(check_schema),	   cmocka_unit_test(load_errors),
		cmocka_unit_test(redaction_holds), cmocka_unit_test(long_run_is_bounded),
	};

	return cmocka_run_group_tests_name("writers", tests, NULL, NULL);
}

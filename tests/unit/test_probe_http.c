// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of http and prometheus probes: URL redaction, status sets, the loader's model and
 * every error text of the new keys. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "scenarios/probespec.h"
#include "scenarios/scenario.h"
#include "tests/unit/scenario_test.h"

#define MS NSEC_PER_MSEC

#define LAB HEAD "lab: { hosts: { web: {}, prom: {} } }\nsteady_state:\n  probes:\n"
#define NOLAB HEAD "steady_state:\n  probes:\n"

static void check_redact(const char *url, const char *want)
{
	char *got = fl_url_redact(url);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_redact(void **state)
{
	check_redact("http://web/health", "http://web/health");
	check_redact("http://user:s3cret@web/health", "http://***@web/health");
	check_redact("https://tok@web:8443/x?y=1#z", "https://***@web:8443/x?y=1#z");
	check_redact("http://a:b@c@web/", "http://***@web/");
	check_redact("http://u:p@[::1]:8080", "http://***@[::1]:8080");
	check_redact("http://:@web", "http://***@web");
	/* an '@' after the authority is part of the path, query or fragment */
	check_redact("http://web/users/@me", "http://web/users/@me");
	check_redact("http://web?to=a@b", "http://web?to=a@b");
	check_redact("http://web#a@b", "http://web#a@b");
	/* no scheme: the authority starts at once */
	check_redact("user:pw@web/x", "***@web/x");
	check_redact("", "");
}

static void test_status_set(void **state)
{
	struct fl_status_set set = { 0 };
	char buf[128];

	assert_true(fl_status_set_empty(&set));
	assert_false(fl_status_set_has(&set, 200));
	assert_int_equal(fl_status_set_add(&set, "200"), 0);
	assert_int_equal(fl_status_set_add(&set, "204"), 0);
	assert_int_equal(fl_status_set_add(&set, "5xx"), 0);
	assert_int_equal(fl_status_set_add(&set, "3XX"), 0);
	assert_false(fl_status_set_empty(&set));
	assert_true(fl_status_set_has(&set, 200));
	assert_true(fl_status_set_has(&set, 204));
	assert_false(fl_status_set_has(&set, 201));
	assert_true(fl_status_set_has(&set, 300));
	assert_true(fl_status_set_has(&set, 399));
	assert_false(fl_status_set_has(&set, 400));
	assert_true(fl_status_set_has(&set, 500));
	assert_true(fl_status_set_has(&set, 599));
	/* outside 100..599 is never in a set */
	assert_false(fl_status_set_has(&set, 600));
	assert_false(fl_status_set_has(&set, 0));
	assert_false(fl_status_set_has(&set, -200));
	assert_false(fl_status_set_has(&set, 100000));
	assert_string_equal(fl_status_set_format(&set, buf, sizeof(buf)),
			    "200, 204, 300-399, 500-599");

	for (const char *const *bad =
		     (const char *const[]){ "99", "600", "0", "-1", "2x", "2xxx", "6xx", "0xx", "x",
					    "", "200 ", " 200", "2e2", "abc", "1xx1", NULL };
	     *bad; bad++) {
		struct fl_status_set none = { 0 };
		print_message("  bad: '%s'\n", *bad);
		assert_int_equal(fl_status_set_add(&none, *bad), -EINVAL);
		assert_true(fl_status_set_empty(&none));
	}

	set = (struct fl_status_set){ 0 };
	fl_status_set_add_range(&set, 200, 399);
	assert_string_equal(fl_status_set_format(&set, buf, sizeof(buf)), "200-399");
	assert_int_equal(fl_status_set_add(&set, "1xx"), 0);
	assert_string_equal(fl_status_set_format(&set, buf, sizeof(buf)), "100-399");
	/* a short buffer is cut, never overrun */
	assert_string_equal(fl_status_set_format(&set, buf, 4), "100");
}

static void test_url_split(void **state)
{
	char *host = NULL;
	uint16_t port = 0;
	bool q = true;

	assert_int_equal(fl_url_split("http://web/health", &host, &port, &q), 0);
	assert_string_equal(host, "web");
	assert_int_equal(port, 80);
	assert_false(q);
	free(host);
	assert_int_equal(fl_url_split("HTTPS://u:p@Web:8443/x?y", &host, &port, &q), 0);
	assert_string_equal(host, "Web");
	assert_int_equal(port, 8443);
	assert_true(q);
	free(host);
	assert_int_equal(fl_url_split("http://[::1]:9090", &host, &port, &q), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 9090);
	free(host);
	assert_int_equal(fl_url_split("ftp://web/x", &host, &port, &q), -EPROTONOSUPPORT);
	assert_int_equal(fl_url_split("web/health", &host, &port, &q), -EINVAL);
	assert_int_equal(fl_url_split("http://", &host, &port, &q), -EINVAL);
	assert_int_equal(fl_url_split("http://web:0/", &host, &port, &q), -EINVAL);
	assert_int_equal(fl_url_split("http://web:99999/", &host, &port, &q), -EINVAL);
	assert_int_equal(fl_url_split("http://we b/", &host, &port, &q), -EINVAL);
}

static void test_http_model(void **state)
{
	struct fl_scenario *s = load_ok(
		LAB "    - name: web\n"
		    "      http:\n"
		    "        url: 'http://admin:hunter2@web:8080/health'\n"
		    "        method: POST\n"
		    "        headers: { Authorization: 'Bearer xyz', X-Empty: '' }\n"
		    "        body: '{\"a\": 1}'\n"
		    "        status: [200, 204, 3xx]\n"
		    "        contains: ok\n"
		    "        matches: '^ok'\n"
		    "        tls_verify: false\n"
		    "        ca_file: certs/ca.pem\n"
		    "      from: prom\n"
		    "      every: 100ms\n"
		    "    - { name: plain, http: { url: 'https://198.18.0.10/' } }\n"
		    "    - name: up\n"
		    "      prometheus: { url: 'http://prom:9090/', query: 'up{job=\"x\"}', min: 1,"
		    " max: 2.5 }\n");
	const struct fl_http_spec *h = s->probes[0].http;
	char buf[64];

	assert_int_equal(s->probes[0].kind, FL_PROBE_HTTP);
	assert_string_equal(fl_probe_kind_name(s->probes[0].kind), "http");
	assert_string_equal(h->url, "http://admin:hunter2@web:8080/health");
	assert_string_equal(h->url_shown, "http://***@web:8080/health");
	assert_string_equal(h->host, "web");
	assert_int_equal(h->port, 8080);
	assert_true(h->lab_host);
	assert_string_equal(h->method, "POST");
	assert_int_equal(h->n_headers, 2);
	assert_string_equal(h->headers[0].name, "Authorization");
	assert_string_equal(h->headers[0].value, "Bearer xyz");
	assert_string_equal(h->headers[1].value, "");
	assert_string_equal(h->body, "{\"a\": 1}");
	assert_string_equal(fl_status_set_format(&h->status, buf, sizeof(buf)),
			    "200, 204, 300-399");
	assert_string_equal(h->contains, "ok");
	assert_string_equal(h->matches, "^ok");
	assert_false(h->tls_verify);
	assert_string_equal(h->ca_file, "./certs/ca.pem");
	assert_string_equal(s->probes[0].from, "prom");
	assert_int_equal(s->probes[0].every_ns, 100 * MS);

	/* what results and plans show: never the credentials */
	char *t = fl_probe_target(&s->probes[0]);
	assert_string_equal(t, "http://***@web:8080/health");
	free(t);

	h = s->probes[1].http;
	assert_string_equal(h->method, "GET");
	assert_false(h->lab_host);
	assert_int_equal(h->port, 443);
	assert_true(h->tls_verify);
	assert_null(h->body);
	assert_null(h->contains);
	assert_null(h->ca_file);
	assert_int_equal(h->n_headers, 0);
	assert_string_equal(fl_status_set_format(&h->status, buf, sizeof(buf)), "200-399");

	h = s->probes[2].http;
	assert_int_equal(s->probes[2].kind, FL_PROBE_PROMETHEUS);
	assert_string_equal(fl_probe_kind_name(s->probes[2].kind), "prometheus");
	assert_string_equal(h->query, "up{job=\"x\"}");
	assert_true(h->has_min);
	assert_true(h->has_max);
	assert_float_equal(h->min, 1.0, 0);
	assert_float_equal(h->max, 2.5, 0);
	assert_true(h->lab_host);
	assert_int_equal(h->port, 9090);
	fl_scenario_free(s);

	/* no lab: any host name; no bounds */
	s = load_ok(NOLAB "    - { name: p, prometheus: { url: 'http://localhost:9090', "
			  "query: up, ca_file: /etc/ca.pem } }\n");
	h = s->probes[0].http;
	assert_false(h->lab_host);
	assert_false(h->has_min);
	assert_false(h->has_max);
	assert_string_equal(h->ca_file, "/etc/ca.pem");
	fl_scenario_free(s);
}

static void test_kind_errors(void **state)
{
	assert_errors(NOLAB "    - { name: p, http: { url: 'http://a/' }, prometheus: { url: "
			    "'http://a', query: up } }\n",
		      "t.yaml:5:7: a probe needs exactly one of 'tcp', 'exec', 'http' or "
		      "'prometheus'");
	assert_errors(NOLAB "    - { name: p, http: { url: 'http://a/', staus: 200 } }\n"
			    "    - { name: q, http: [x] }\n"
			    "    - { name: r, http: {} }\n"
			    "    - { name: s, prometheus: { url: 'http://a', qurey: up } }\n",
		      "t.yaml:5:44: unknown key 'staus' (did you mean 'status'?)",
		      "t.yaml:6:24: expected a mapping for 'http', got a sequence",
		      "t.yaml:7:24: missing required key 'url'",
		      "t.yaml:8:30: missing required key 'query'",
		      "t.yaml:8:49: unknown key 'qurey' (did you mean 'query'?)");
}

static void test_url_errors(void **state)
{
	char yaml[4096] = NOLAB "    - { name: p, http: { url: 'http://a/";

	assert_errors(NOLAB "    - { name: p, http: { url: 'ftp://a/' } }\n"
			    "    - { name: q, http: { url: 'web/health' } }\n"
			    "    - { name: r, http: { url: 'http://u:pw@we b/' } }\n"
			    "    - { name: s, http: { url: [x] } }\n",
		      "t.yaml:5:31: 'url' must be an http or https URL such as "
		      "'http://web/health', got 'ftp://a/'",
		      "t.yaml:6:31: 'url' must be an http or https URL such as "
		      "'http://web/health', got 'web/health'",
		      /* a URL that does not parse is never echoed: it may hold a password */
		      "t.yaml:7:31: 'url' must be an http or https URL such as "
		      "'http://web/health'",
		      "t.yaml:8:31: expected a scalar for 'url', got a sequence");
	for (int i = 0; i < 2048; i++)
		strcat(yaml, "x");
	strcat(yaml, "' } }\n");
	assert_errors(yaml, "t.yaml:5:31: 'url' is too long (2057 bytes, at most 2048)");
	/* with a lab: a lab host's name or an address */
	assert_errors(LAB "    - { name: p, http: { url: 'http://wbe/' } }\n"
			  "    - { name: q, http: { url: 'http://198.18.0.10/' } }\n"
			  "    - { name: r, http: { url: 'http://[fd00::1]:80/' } }\n"
			  "    - { name: s, prometheus: { url: 'http://prmo:9090', query: up } }\n",
		      "t.yaml:6:31: unknown lab host 'wbe' (did you mean 'web'?)",
		      "t.yaml:9:37: unknown lab host 'prmo' (did you mean 'prom'?)");
	assert_errors(NOLAB "    - { name: p, prometheus: { url: 'http://p:9090/api?x=1', "
			    "query: up } }\n",
		      "t.yaml:5:37: 'url' is the Prometheus server's base URL such as "
		      "'http://prom:9090': it cannot have a query or fragment");
}

static void test_http_key_errors(void **state)
{
	assert_errors(NOLAB
		      "    - name: p\n"
		      "      http:\n"
		      "        url: 'http://a/'\n"
		      "        method: get\n"
		      "        status: [200, 2xx, 99, 6xx, [1]]\n"
		      "        contains: ''\n"
		      "        matches: '(a'\n"
		      "        tls_verify: yes\n"
		      "        ca_file: ''\n"
		      "    - { name: q, http: { url: 'http://a/', status: [] } }\n"
		      "    - { name: r, http: { url: 'http://a/', status: {} } }\n"
		      "    - { name: s, http: { url: 'http://a/', matches: '(a)\\1' } }\n"
		      "    - { name: u, http: { url: 'http://a/', body: x } }\n"
		      "    - { name: v, http: { url: 'http://a/', method: HEAD, contains: x } }\n",
		      "t.yaml:8:17: 'method' must be GET, HEAD, POST, PUT, DELETE, PATCH or "
		      "OPTIONS, got 'get'",
		      "t.yaml:9:28: 'status' must be a status code from 100 to 599 or a class "
		      "such as '2xx', got '99'",
		      "t.yaml:9:32: 'status' must be a status code from 100 to 599 or a class "
		      "such as '2xx', got '6xx'",
		      "t.yaml:9:37: expected a status code for each item of 'status', got a "
		      "sequence",
		      "t.yaml:10:19: 'contains' cannot be empty",
		      "t.yaml:11:18: 'matches' is not a valid extended regular expression: "
		      "unmatched ( or \\(",
		      "t.yaml:12:21: 'tls_verify' must be true or false, got 'yes'",
		      "t.yaml:13:18: 'ca_file' must be a path of 1 to 4096 bytes",
		      "t.yaml:14:52: 'status' cannot be empty",
		      "t.yaml:15:52: expected a status code, a class such as '2xx' or a sequence "
		      "of them for 'status', got a mapping",
		      "t.yaml:16:53: 'matches' cannot use back-references ('\\1')",
		      "t.yaml:17:44: a GET request cannot have a 'body': set 'method'",
		      "t.yaml:18:58: 'contains' needs a response body: a HEAD request has none");
}

static void test_header_errors(void **state)
{
	char yaml[8192] = NOLAB "    - name: p\n      http:\n        url: 'http://a/'\n"
				"        headers: {";

	assert_errors(NOLAB "    - name: p\n"
			    "      http:\n"
			    "        url: 'http://a/'\n"
			    "        headers:\n"
			    "          X-Token: s3cret\n"
			    "          x-token: other\n"
			    "          'Bad Name': v\n"
			    "          X-Multi: \"a\\r\\nInjected: s3cret\"\n"
			    "          X-List: [s3cret]\n"
			    "    - { name: q, http: { url: 'http://a/', headers: [a] } }\n",
		      "t.yaml:10:11: duplicate key 'x-token' (first at line 9)",
		      "t.yaml:11:11: invalid header name 'Bad Name': use 1-256 characters of A-Z, "
		      "a-z, 0-9 and !#$%&'*+-.^_`|~",
		      /* a header's value is never part of a message */
		      "t.yaml:12:20: the value of header 'X-Multi' cannot contain control "
		      "characters",
		      "t.yaml:13:19: expected a scalar for 'X-List', got a sequence",
		      "t.yaml:14:53: expected a mapping for 'headers', got a sequence");
	for (int i = 0; i < 33; i++)
		sprintf(yaml + strlen(yaml), "%sH%d: v", i ? ", " : " ", i);
	strcat(yaml, " }\n");
	assert_errors(yaml, "t.yaml:8:18: too many headers (33, at most 32)");
}

static void test_body_limit(void **state)
{
	size_t n = FL_HTTP_BODY_MAX + 1;
	char *yaml = malloc(n + 256), *p;

	assert_non_null(yaml);
	p = yaml + sprintf(yaml, NOLAB "    - { name: p, http: { url: 'http://a/', method: PUT, "
				       "body: '");
	memset(p, 'b', n);
	strcpy(p + n, "' } }\n");
	assert_errors(yaml, "t.yaml:5:63: 'body' is too long (65537 bytes, at most 65536)");
	free(yaml);
}

static void test_prometheus_errors(void **state)
{
	assert_errors(NOLAB "    - { name: p, prometheus: { url: 'http://a', query: '', min: x,"
			    " max: nan } }\n"
			    "    - { name: q, prometheus: { url: 'http://a', query: up, min: 5, "
			    "max: 1 } }\n"
			    "    - { name: r, prometheus: { query: up, min: 1e999 } }\n",
		      "t.yaml:5:56: 'query' cannot be empty",
		      "t.yaml:5:65: 'min' must be a number such as '0.5', got 'x'",
		      "t.yaml:5:73: 'max' must be a number such as '0.5', got 'nan'",
		      "t.yaml:6:73: 'max' (1) cannot be less than 'min' (5)",
		      "t.yaml:7:30: missing required key 'url'",
		      "t.yaml:7:48: 'min' must be a number such as '0.5', got '1e999'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redact),		cmocka_unit_test(test_status_set),
		cmocka_unit_test(test_url_split),	cmocka_unit_test(test_http_model),
		cmocka_unit_test(test_kind_errors),	cmocka_unit_test(test_url_errors),
		cmocka_unit_test(test_http_key_errors), cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_body_limit),	cmocka_unit_test(test_prometheus_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

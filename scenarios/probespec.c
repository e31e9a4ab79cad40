// SPDX-License-Identifier: GPL-2.0-only
/* The http and prometheus parts of a probe's model: status sets, URL redaction, descriptions. */
#include "reports/curl_dl.h"
#include <errno.h>
#include <string.h>

#include "scenarios/probespec.h"

void fl_http_spec_free(struct fl_http_spec *h)
{
	if (!h)
		return;
	free(h->url);
	free(h->url_shown);
	free(h->host);
	free(h->method);
	for (size_t i = 0; i < h->n_headers; i++) {
		free(h->headers[i].name);
		if (h->headers[i].value)
			explicit_bzero(h->headers[i].value, strlen(h->headers[i].value));
		free(h->headers[i].value);
	}
	free(h->headers);
	free(h->body);
	free(h->contains);
	free(h->matches);
	free(h->ca_file);
	free(h->query);
	free(h);
}

void fl_status_set_add_range(struct fl_status_set *set, unsigned lo, unsigned hi)
{
	for (unsigned c = lo; c <= hi && c < 600; c++)
		set->bits[c / 64] |= 1ULL << (c % 64);
}

int fl_status_set_add(struct fl_status_set *set, const char *v)
{
	uint64_t code;

	if (v[0] >= '1' && v[0] <= '5' && (v[1] == 'x' || v[1] == 'X') &&
	    (v[2] == 'x' || v[2] == 'X') && !v[3]) {
		unsigned lo = (unsigned)(v[0] - '0') * 100;
		fl_status_set_add_range(set, lo, lo + 99);
		return 0;
	}
	if (fl_parse_uint(v, 599, &code) < 0 || code < 100)
		return -EINVAL;
	fl_status_set_add_range(set, (unsigned)code, (unsigned)code);
	return 0;
}

bool fl_status_set_has(const struct fl_status_set *set, long code)
{
	return code >= 100 && code < 600 && (set->bits[code / 64] >> (code % 64) & 1);
}

bool fl_status_set_empty(const struct fl_status_set *set)
{
	for (size_t i = 0; i < ARRAY_SIZE(set->bits); i++)
		if (set->bits[i])
			return false;
	return true;
}

const char *fl_status_set_format(const struct fl_status_set *set, char *buf, size_t len)
{
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	for (long c = 100; c < 600 && off < len; c++) {
		long e = c;

		if (!fl_status_set_has(set, c))
			continue;
		while (e + 1 < 600 && fl_status_set_has(set, e + 1))
			e++;
		if (e == c)
			off += (size_t)snprintf(buf + off, len - off, "%s%ld", off ? ", " : "", c);
		else
			off += (size_t)snprintf(buf + off, len - off, "%s%ld-%ld", off ? ", " : "",
						c, e);
		c = e;
	}
	return buf;
}

char *fl_url_redact(const char *url)
{
	const char *auth = strstr(url, "://"), *end, *at = NULL;
	char *out;

	auth = auth ? auth + 3 : url;
	end = auth + strcspn(auth, "/?#");
	for (const char *p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	if (!at)
		return strdup(url);
	if (asprintf(&out, "%.*s***%s", (int)(auth - url), url, at) < 0)
		return NULL;
	return out;
}

int fl_url_split(const char *url, char **ret_host, uint16_t *ret_port, bool *ret_has_query)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL, *port = NULL, *x = NULL;
	bool query;
	uint64_t n;
	int r = -EINVAL;

	if (fl_curl_load(NULL) < 0)
		return -ELIBACC;
	u = curl_url();
	if (!u)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
	    fl_parse_uint(port, 65535, &n) < 0 || n == 0)
		goto out;
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		r = -EPROTONOSUPPORT;
		goto out;
	}
	query = curl_url_get(u, CURLUPART_QUERY, &x, 0) == CURLUE_OK;
	curl_free(x);
	x = NULL;
	query |= curl_url_get(u, CURLUPART_FRAGMENT, &x, 0) == CURLUE_OK;
	if (host[0] == '[') {
		/* "[::1]" or "[fe80::1%25eth0]": the address alone */
		size_t len = strcspn(host + 1, "]%");
		*ret_host = strndup(host + 1, len);
	} else {
		*ret_host = strdup(host);
	}
	if (!*ret_host) {
		r = -ENOMEM;
		goto out;
	}
	*ret_port = (uint16_t)n;
	*ret_has_query = query;
	r = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(x);
	curl_url_cleanup(u);
	return r;
}

const char *fl_probe_kind_name(enum fl_probe_kind kind)
{
	switch (kind) {
	case FL_PROBE_TCP:
		return "tcp";
	case FL_PROBE_EXEC:
		return "exec";
	case FL_PROBE_HTTP:
		return "http";
	case FL_PROBE_PROMETHEUS:
		return "prometheus";
	}
	return "unknown";
}

char *fl_probe_target(const struct fl_probe *p)
{
	char *s = NULL;

	switch (p->kind) {
	case FL_PROBE_TCP:
		if (asprintf(&s, "%s:%u", p->host, p->port) < 0)
			s = NULL;
		return s;
	case FL_PROBE_EXEC:
		return p->argv ? fl_strv_join(p->argv, " ") : strdup("");
	case FL_PROBE_HTTP:
	case FL_PROBE_PROMETHEUS:
		return strdup(p->http->url_shown);
	}
	return NULL;
}

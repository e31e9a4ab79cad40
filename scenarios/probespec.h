/* SPDX-License-Identifier: GPL-2.0-only */
/* The http and prometheus parts of a probe's model: status sets, URL redaction, descriptions. */
#ifndef FL_PROBESPEC_H
#define FL_PROBESPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenarios/scenario.h"

/* Limits (documented in README.md, "Limits"). */
#define FL_URL_MAX 2048
#define FL_MAX_HEADERS 32
#define FL_HEADER_NAME_MAX 256
#define FL_HTTP_BODY_MAX (64u << 10)	/* request body */
#define FL_HTTP_RESPONSE_MAX (1u << 20) /* response body read; beyond: "response too large" */
#define FL_MAX_STATUS_ITEMS 64		/* entries of a `status` list */
#define FL_QUERY_MAX 4096		/* PromQL query */

/* A set of HTTP status codes 100..599. */
struct fl_status_set {
	uint64_t bits[10];
};

struct fl_http_header {
	char *name;
	char *value; /* secret: never written to results, reports or logs */
};

/* http: and prometheus: (which uses url, headers, tls_verify, ca_file, query, min, max). */
struct fl_http_spec {
	char *url;	 /* as given: may hold credentials, write url_shown instead */
	char *url_shown; /* userinfo replaced by "***" */
	char *host;	 /* the URL's host (IPv6 without brackets) */
	uint16_t port;	 /* the URL's port, or the scheme's default */
	bool lab_host;	 /* host is a lab host's name: resolved to its lab address */
	char *method;	 /* GET (default), HEAD, POST, PUT, DELETE, PATCH, OPTIONS */
	struct fl_http_header *headers;
	size_t n_headers;
	char *body;		     /* NULL: none */
	struct fl_status_set status; /* default 200-399 */
	char *contains;		     /* body substring */
	char *matches;		     /* POSIX ERE over the body, checked by the loader */
	bool tls_verify;	     /* default true */
	char *ca_file;	 /* absolute (relative ones are taken from the scenario's directory) */
	char *query;	 /* prometheus: an instant query */
	double min, max; /* prometheus: the value's bounds, when has_min / has_max */
	bool has_min, has_max;
};

void fl_http_spec_free(struct fl_http_spec *h);

/* Add "200", or a class "2xx" to set. 0, or -EINVAL when v is neither. */
int fl_status_set_add(struct fl_status_set *set, const char *v);
void fl_status_set_add_range(struct fl_status_set *set, unsigned lo, unsigned hi);
bool fl_status_set_has(const struct fl_status_set *set, long code);
bool fl_status_set_empty(const struct fl_status_set *set);
/* "200-399", "200, 204, 5xx"-style text: ranges of codes as "lo-hi", single codes plain. */
const char *fl_status_set_format(const struct fl_status_set *set, char *buf, size_t len);

/*
 * The URL with any userinfo ("user:pass@") replaced by "***@".
 * The authority ends at the first '/', '?' or '#' after "scheme://" (RFC 3986, as libcurl
 * parses it). Returns a new string or NULL (out of memory).
 */
char *fl_url_redact(const char *url);

/*
 * Split an http or https URL as libcurl will read it: *ret_host (IPv6 without brackets, a new
 * string), *ret_port (explicit or the scheme's), whether it has a query or fragment. Returns 0,
 * -EINVAL when it is no URL libcurl takes, -EPROTONOSUPPORT for another scheme, -ENOMEM.
 */
int fl_url_split(const char *url, char **ret_host, uint16_t *ret_port, bool *ret_has_query);

/* "tcp", "exec", "http", "prometheus". */
const char *fl_probe_kind_name(enum fl_probe_kind kind);
/* What a probe checks, fit for results and logs: "web:80", a redacted URL, the
 * command line for exec. A new string, or NULL (out of memory). */
char *fl_probe_target(const struct fl_probe *p);

#endif

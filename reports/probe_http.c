// SPDX-License-Identifier: GPL-2.0-only
/* http and prometheus probes: one libcurl multi handle per probe set, driven by our epoll loop. */
#include <arpa/inet.h>
#include <ctype.h>
#include "reports/curl_dl.h"
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <netdb.h>
#include <regex.h>
#include <string.h>
#include <sys/epoll.h>

#include "inject/log.h"
#include "reports/probe_int.h"
#include "scenarios/probespec.h"

/* A disarmed curl timer: our loop has no "disarm", so arm it where it never fires. */
#define NEVER (UINT64_MAX / 2)
#define RESOLVE_ADDRS_MAX 8

struct fl_http_set {
	CURLM *multi;
	struct fl_source *timer;
};

struct fl_http_rt {
	CURL *easy;
	struct curl_slist *headers, *resolve;
	char *url; /* what is requested (prometheus: with the query); may hold credentials */
	regex_t re;
	bool has_re;
	bool keep_body;
	bool added; /* in the multi handle: a sample is in flight */
	char *buf;
	size_t len, cap;
	bool too_large;
	char sock_reason[64]; /* why the opensocket callback failed */
	char err[CURL_ERROR_SIZE];
};

/* A user value fit for a reason: at most 24 bytes, control characters as '?'. */
static const char *shorten(const char *v, char buf[32])
{
	return fl_shorten(v, 24, buf);
}

/* libcurl's message with our capitalization: "Failed to..." -> "failed to...", "SSL" stays. */
static const char *curl_reason(const char *msg, char *buf, size_t len)
{
	size_t n;

	snprintf(buf, len, "%s", msg);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '.'))
		buf[--n] = '\0';
	if (buf[0] && buf[1] && islower((unsigned char)buf[1]))
		buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

static void check_done(struct fl_probes *set);

/* --- libcurl <-> the event loop -------------------------------------------------------------- */

static int on_curl_io(struct fl_source *src, int fd, uint32_t revents, void *ud)
{
	struct fl_probes *set = ud;
	int mask = 0, running;

	if (revents & EPOLLIN)
		mask |= CURL_CSELECT_IN;
	if (revents & EPOLLOUT)
		mask |= CURL_CSELECT_OUT;
	if (revents & (EPOLLERR | EPOLLHUP))
		mask |= CURL_CSELECT_ERR;
	curl_multi_socket_action(set->http->multi, fd, mask, &running);
	check_done(set);
	return 0;
}

static int on_curl_timeout(struct fl_source *src, uint64_t now, void *ud)
{
	struct fl_probes *set = ud;
	long ms = -1;
	int running;

	curl_multi_socket_action(set->http->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	/*
	 * Our timerfd is spent. libcurl re-arms it through on_curl_timer() only when its next
	 * timeout changed; had this one fired early (libcurl reports whole milliseconds), nothing
	 * would be due, nothing would change, and the transfers would stall. Ask it again.
	 */
	if (curl_multi_timeout(set->http->multi, &ms) == CURLM_OK && ms >= 0)
		fl_loop_timer_set(src, fl_now_ns() + (uint64_t)ms * NSEC_PER_MSEC);
	check_done(set);
	return 0;
}

/* CURLMOPT_SOCKETFUNCTION: watch (or stop watching) one of libcurl's sockets. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *ud, void *socketp)
{
	struct fl_probes *set = ud;
	struct fl_source *src = socketp;
	uint32_t ev = 0;

	if (what == CURL_POLL_REMOVE) {
		fl_loop_remove(src);
		curl_multi_assign(set->http->multi, fd, NULL);
		return 0;
	}
	if (what & CURL_POLL_IN)
		ev |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		ev |= EPOLLOUT;
	if (src)
		return fl_loop_io_set_events(src, ev) < 0 ? -1 : 0;
	if (fl_loop_add_io(set->loop, fd, ev, false, on_curl_io, set, &src) < 0)
		return -1;
	curl_multi_assign(set->http->multi, fd, src);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: libcurl wants socket_action(TIMEOUT) in timeout_ms (-1: never). */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *ud)
{
	struct fl_probes *set = ud;
	uint64_t when = NEVER;

	/* 0 means "as soon as possible": the loop's next round, not from inside libcurl */
	if (timeout_ms >= 0)
		when = fl_now_ns() + (uint64_t)timeout_ms * NSEC_PER_MSEC;
	return fl_loop_timer_set(set->http->timer, when) < 0 ? -1 : 0;
}

/* CURLOPT_OPENSOCKETFUNCTION: the connection belongs to the probe's network namespace. */
static curl_socket_t on_open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct fl_probe_rt *p = ud;
	const char *what;
	char e[64];
	int fd;

	fd = fl_probe_socket(p, a->family, a->socktype, a->protocol, &what);
	if (fd < 0) {
		snprintf(p->http->sock_reason, sizeof(p->http->sock_reason), "%s: %s", what,
			 fl_probe_strerror(-fd, e, sizeof(e)));
		return CURL_SOCKET_BAD;
	}
	return fd;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct fl_http_rt *h = ud;
	size_t n = size * nmemb;

	if (n > FL_HTTP_RESPONSE_MAX - h->len) {
		h->too_large = true;
		return 0; /* CURLE_WRITE_ERROR: the transfer stops here */
	}
	if (h->keep_body) {
		if (h->len + n + 1 > h->cap) {
			size_t cap = h->cap ? h->cap : 4096;
			char *nb;

			while (cap < h->len + n + 1)
				cap *= 2;
			nb = realloc(h->buf, cap);
			if (!nb)
				return 0;
			h->buf = nb;
			h->cap = cap;
		}
		memcpy(h->buf + h->len, data, n);
		h->buf[h->len + n] = '\0';
	}
	h->len += n;
	return n;
}

int fl_http_set_new(struct fl_probes *set)
{
	struct fl_http_set *hs;
	int r;

	hs = calloc(1, sizeof(*hs));
	if (!hs || !(hs->multi = curl_multi_init())) {
		free(hs);
		return -ENOMEM;
	}
	set->http = hs;
	r = fl_loop_add_timer(set->loop, NEVER, on_curl_timeout, set, &hs->timer);
	if (r < 0) {
		fl_http_set_free(set);
		return r;
	}
	curl_multi_setopt(hs->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(hs->multi, CURLMOPT_SOCKETDATA, set);
	curl_multi_setopt(hs->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(hs->multi, CURLMOPT_TIMERDATA, set);
	return 0;
}

void fl_http_set_free(struct fl_probes *set)
{
	struct fl_http_set *hs = set->http;

	if (!hs)
		return;
	/* the easy handles are gone (fl_http_probe_free); sockets still open are unwatched here */
	curl_multi_cleanup(hs->multi);
	fl_loop_remove(hs->timer);
	free(hs);
	set->http = NULL;
}

/* --- one probe ------------------------------------------------------------------------------- */

/* "HOST:PORT:ADDR[,ADDR]" so libcurl never resolves: lab hosts by their lab address, other
 * names once, now (as tcp probes do). Literal addresses need nothing. */
static int resolve_entry(struct fl_probe_rt *p, char **ret, char **ret_reason)
{
	const struct fl_http_spec *h = p->spec->http;
	struct in6_addr a6;
	struct in_addr a4;
	char addrs[RESOLVE_ADDRS_MAX * (INET6_ADDRSTRLEN + 3)] = "";
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	size_t off = 0, n = 0;
	int r;

	*ret = NULL;
	if (inet_pton(AF_INET, h->host, &a4) == 1 || inet_pton(AF_INET6, h->host, &a6) == 1)
		return 0;
	if (h->lab_host) {
		if (!p->set->lab || fl_lab_host_addr(p->set->lab, h->host, &a4) < 0) {
			if (asprintf(ret_reason, "probe '%s': no lab host '%s'", p->spec->name,
				     h->host) < 0)
				*ret_reason = NULL;
			return -EHOSTUNREACH;
		}
		inet_ntop(AF_INET, &a4, addrs, sizeof(addrs));
	} else {
		r = getaddrinfo(h->host, NULL, &hints, &ai);
		if (r != 0) {
			if (asprintf(ret_reason, "probe '%s': cannot resolve '%s': %s",
				     p->spec->name, h->host, gai_strerror(r)) < 0)
				*ret_reason = NULL;
			return -EHOSTUNREACH;
		}
		for (struct addrinfo *x = ai; x && n < RESOLVE_ADDRS_MAX; x = x->ai_next, n++) {
			char s[INET6_ADDRSTRLEN];

			if (x->ai_family == AF_INET)
				inet_ntop(AF_INET, &((struct sockaddr_in *)x->ai_addr)->sin_addr, s,
					  sizeof(s));
			else if (x->ai_family == AF_INET6)
				inet_ntop(AF_INET6, &((struct sockaddr_in6 *)x->ai_addr)->sin6_addr,
					  s, sizeof(s));
			else
				continue;
			off += (size_t)snprintf(addrs + off, sizeof(addrs) - off,
						x->ai_family == AF_INET6 ? "%s[%s]" : "%s%s",
						off ? "," : "", s);
		}
		freeaddrinfo(ai);
	}
	return asprintf(ret, "%s:%u:%s", h->host, h->port, addrs) < 0 ? -ENOMEM : 0;
}

static int build_headers(struct fl_probe_rt *p)
{
	const struct fl_http_spec *h = p->spec->http;
	struct fl_http_rt *rt = p->http;
	bool expect = false;

	for (size_t i = 0; i < h->n_headers; i++) {
		_cleanup_free_ char *line = NULL;
		struct curl_slist *l;

		/* "Name;" is libcurl's way to send a header with an empty value */
		if (asprintf(&line, *h->headers[i].value ? "%s: %s" : "%s;", h->headers[i].name,
			     h->headers[i].value) < 0)
			return -ENOMEM;
		l = curl_slist_append(rt->headers, line);
		explicit_bzero(line, strlen(line));
		if (!l)
			return -ENOMEM;
		rt->headers = l;
		expect |= !strcasecmp(h->headers[i].name, "Expect");
	}
	/* no "Expect: 100-continue" wait before a larger body: a probe measures the service */
	if (h->body && !expect) {
		struct curl_slist *l = curl_slist_append(rt->headers, "Expect:");
		if (!l)
			return -ENOMEM;
		rt->headers = l;
	}
	if (p->spec->kind == FL_PROBE_PROMETHEUS) {
		struct curl_slist *l = curl_slist_append(rt->headers, "Accept: application/json");
		if (!l)
			return -ENOMEM;
		rt->headers = l;
	}
	return 0;
}

/* prometheus: BASE/api/v1/query?query=ESCAPED */
static int query_url(const struct fl_http_spec *h, char **ret)
{
	size_t n = strlen(h->url);
	char *q = curl_easy_escape(NULL, h->query, 0);
	int r;

	if (!q)
		return -ENOMEM;
	while (n > 0 && h->url[n - 1] == '/')
		n--;
	r = asprintf(ret, "%.*s/api/v1/query?query=%s", (int)n, h->url, q) < 0 ? -ENOMEM : 0;
	curl_free(q);
	return r;
}

int fl_http_probe_init(struct fl_probe_rt *p, char **ret_reason)
{
	const struct fl_probe *spec = p->spec;
	const struct fl_http_spec *h = spec->http;
	_cleanup_free_ char *resolve = NULL;
	struct fl_http_rt *rt;
	long timeout_ms;
	CURL *e;
	int r;

	rt = p->http = calloc(1, sizeof(*rt));
	if (!rt)
		return -ENOMEM;
	rt->keep_body = spec->kind == FL_PROBE_PROMETHEUS || h->contains || h->matches;
	if (h->matches) {
		/* checked by the loader; like grep -E, ^ and $ match at every line */
		if (regcomp(&rt->re, h->matches, REG_EXTENDED | REG_NOSUB | REG_NEWLINE) != 0)
			return -EINVAL;
		rt->has_re = true;
	}
	if (h->ca_file && access(h->ca_file, R_OK) < 0) {
		r = -errno;
		if (asprintf(ret_reason, "probe '%s': cannot read ca_file '%s': %s", spec->name,
			     h->ca_file, strerror(-r)) < 0)
			*ret_reason = NULL;
		return r;
	}
	r = resolve_entry(p, &resolve, ret_reason);
	if (r < 0)
		return r;
	if (resolve && !(rt->resolve = curl_slist_append(NULL, resolve)))
		return -ENOMEM;
	r = build_headers(p);
	if (r < 0)
		return r;
	if (spec->kind == FL_PROBE_PROMETHEUS)
		r = query_url(h, &rt->url);
	else
		r = (rt->url = strdup(h->url)) ? 0 : -ENOMEM;
	if (r < 0)
		return r;

	e = rt->easy = curl_easy_init();
	if (!e)
		return -ENOMEM;
	timeout_ms = (long)((spec->timeout_ns + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);
	curl_easy_setopt(e, CURLOPT_URL, rt->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, p);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	/* never a proxy from the environment: lab traffic stays in the lab */
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	/* every sample is a new client: a fresh connection, none shared between namespaces */
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, rt->err);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, rt);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)FL_HTTP_RESPONSE_MAX);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, p);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "faultline/" FL_VERSION);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, h->tls_verify ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, h->tls_verify ? 2L : 0L);
	if (h->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, h->ca_file);
	if (rt->headers)
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, rt->headers);
	if (rt->resolve)
		curl_easy_setopt(e, CURLOPT_RESOLVE, rt->resolve);
	if (!strcmp(h->method, "HEAD")) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (strcmp(h->method, "GET") != 0) {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, h->method);
		if (h->body || !strcmp(h->method, "POST")) {
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, h->body ? h->body : "");
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
					 (curl_off_t)(h->body ? strlen(h->body) : 0));
		}
	}
	return 0;
}

void fl_http_probe_free(struct fl_probe_rt *p)
{
	struct fl_http_rt *rt = p->http;

	if (!rt)
		return;
	fl_http_cancel(p);
	if (rt->easy)
		curl_easy_cleanup(rt->easy);
	curl_slist_free_all(rt->headers);
	curl_slist_free_all(rt->resolve);
	if (rt->has_re)
		regfree(&rt->re);
	free(rt->url);
	free(rt->buf);
	free(rt);
	p->http = NULL;
}

int fl_http_start(struct fl_probe_rt *p)
{
	struct fl_http_rt *rt = p->http;
	CURLM *multi = p->set->http->multi;
	CURLMcode mc;
	int running;

	rt->len = 0;
	rt->too_large = false;
	rt->err[0] = rt->sock_reason[0] = '\0';
	if (rt->buf)
		rt->buf[0] = '\0';
	mc = curl_multi_add_handle(multi, rt->easy);
	if (mc != CURLM_OK) {
		fl_probe_finish(p, false, NULL, "cannot start: %s", curl_multi_strerror(mc));
		return 0;
	}
	rt->added = true;
	/* start connecting now rather than on the loop's next round */
	curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(p->set);
	return 0;
}

void fl_http_cancel(struct fl_probe_rt *p)
{
	struct fl_http_rt *rt = p->http;

	if (!rt || !rt->added)
		return;
	rt->added = false;
	curl_multi_remove_handle(p->set->http->multi, rt->easy);
	p->inflight = false;
}

/* --- outcomes -------------------------------------------------------------------------------- */

static void fail_transfer(struct fl_probe_rt *p, CURLcode rc)
{
	struct fl_http_rt *rt = p->http;
	char buf[96], d[32];
	long os_errno = 0;

	if (rt->sock_reason[0]) {
		fl_probe_finish(p, false, NULL, "%s", rt->sock_reason);
		return;
	}
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		fl_probe_finish(p, false, NULL, "timeout after %s",
				fl_format_duration(p->spec->timeout_ns, d, sizeof(d)));
		return;
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		if (rt->too_large || rc == CURLE_FILESIZE_EXCEEDED) {
			fl_probe_finish(p, false, NULL, "response too large");
			return;
		}
		break;
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		/* "connection refused", "connection reset by peer": as tcp probes say it */
		curl_easy_getinfo(rt->easy, CURLINFO_OS_ERRNO, &os_errno);
		if (os_errno) {
			fl_probe_finish(p, false, NULL, "%s",
					fl_probe_strerror((int)os_errno, buf, sizeof(buf)));
			return;
		}
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ENGINE_INITFAILED:
		fl_probe_finish(p, false, NULL, "TLS: %s",
				curl_reason(rt->err[0] ? rt->err : curl_easy_strerror(rc), buf,
					    sizeof(buf)));
		return;
	default:
		break;
	}
	fl_probe_finish(
		p, false, NULL, "%s",
		curl_reason(rt->err[0] ? rt->err : curl_easy_strerror(rc), buf, sizeof(buf)));
}

static void eval_http(struct fl_probe_rt *p, long code)
{
	const struct fl_http_spec *h = p->spec->http;
	struct fl_http_rt *rt = p->http;
	char s[32];

	if (!fl_status_set_has(&h->status, code)) {
		fl_probe_finish(p, false, NULL, "HTTP %ld", code);
		return;
	}
	if (h->contains &&
	    (!rt->buf || !memmem(rt->buf, rt->len, h->contains, strlen(h->contains)))) {
		fl_probe_finish(p, false, NULL, "body does not contain '%s'",
				shorten(h->contains, s));
		return;
	}
	if (rt->has_re && regexec(&rt->re, rt->buf ? rt->buf : "", 0, NULL, 0) != 0) {
		fl_probe_finish(p, false, NULL, "body does not match '%s'", shorten(h->matches, s));
		return;
	}
	fl_probe_finish(p, true, NULL, "HTTP %ld", code);
}

/* Prometheus' instant query answer: one number, or why there is none. */
static const char *prom_value(json_t *root, long code, double *ret, char *why, size_t len)
{
	json_t *data = json_object_get(root, "data"), *res, *pair;
	const char *type, *v, *err = json_string_value(json_object_get(root, "error"));
	char *end;

	if (err) {
		snprintf(why, len, "query error: %s", err);
		return why;
	}
	if (code != 200) {
		snprintf(why, len, "HTTP %ld", code);
		return why;
	}
	if (!root || strcmp(json_string_value(json_object_get(root, "status")) ?: "", "success"))
		return "not a Prometheus API response";
	type = json_string_value(json_object_get(data, "resultType"));
	res = json_object_get(data, "result");
	if (type && !strcmp(type, "vector") && json_is_array(res)) {
		if (json_array_size(res) == 0)
			return "empty result";
		if (json_array_size(res) > 1) {
			snprintf(why, len, "%zu series, expected 1", json_array_size(res));
			return why;
		}
		pair = json_object_get(json_array_get(res, 0), "value");
	} else if (type && !strcmp(type, "scalar")) {
		pair = res;
	} else {
		snprintf(why, len, "a %s result, expected an instant vector or a scalar",
			 type ? type : "missing");
		return why;
	}
	v = json_string_value(json_array_get(pair, 1));
	if (!v)
		return "not a Prometheus API response";
	errno = 0;
	*ret = strtod(v, &end);
	if (end == v || *end) {
		snprintf(why, len, "value '%.24s' is not a number", v);
		return why;
	}
	return NULL;
}

static void eval_prometheus(struct fl_probe_rt *p, long code)
{
	const struct fl_http_spec *h = p->spec->http;
	struct fl_http_rt *rt = p->http;
	json_t *root = rt->buf ? json_loadb(rt->buf, rt->len, 0, NULL) : NULL;
	const char *why;
	char buf[96];
	double v = NAN;

	why = prom_value(root, code, &v, buf, sizeof(buf));
	json_decref(root);
	if (why)
		fl_probe_finish(p, false, NULL, "%s", why);
	else if (isnan(v) && (h->has_min || h->has_max))
		fl_probe_finish(p, false, &v, "value NaN");
	else if (h->has_min && v < h->min)
		fl_probe_finish(p, false, &v, "value %g < min %g", v, h->min);
	else if (h->has_max && v > h->max)
		fl_probe_finish(p, false, &v, "value %g > max %g", v, h->max);
	else
		fl_probe_finish(p, true, &v, "value %g", v);
}

static void check_done(struct fl_probes *set)
{
	CURLMsg *m;
	int left;

	while (set->http && (m = curl_multi_info_read(set->http->multi, &left))) {
		struct fl_probe_rt *p = NULL;
		CURLcode rc = m->data.result;
		long code = 0;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&p);
		if (!p || !p->http || !p->http->added)
			continue;
		curl_easy_getinfo(p->http->easy, CURLINFO_RESPONSE_CODE, &code);
		/* m is invalid after this */
		p->http->added = false;
		curl_multi_remove_handle(set->http->multi, p->http->easy);
		if (rc != CURLE_OK)
			fail_transfer(p, rc);
		else if (p->spec->kind == FL_PROBE_PROMETHEUS)
			eval_prometheus(p, code);
		else
			eval_http(p, code);
	}
}

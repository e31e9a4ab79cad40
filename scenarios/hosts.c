// SPDX-License-Identifier: GPL-2.0-only
/* Remote hosts, the fan-out policy and the selectors of `on:` (see scenarios/hosts.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scenarios/hosts.h"
#include "scenarios/scenario.h"
#include "scenarios/yamltree.h"

#define SHOW_MAX 64
#define Q(v) fl_shorten((v), SHOW_MAX, (char[SHOW_MAX + 4]){ 0 })
#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
#define DNS_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-"

struct pctx {
	const char *file, *dir;
	struct fl_errors *errs;
	int r;
};

static struct fl_where at(const struct pctx *c, const struct fl_ynode *n)
{
	return (struct fl_where){ .file = c->file, .line = n->line, .col = n->col };
}

#define err(c, n, ...)                                      \
	({                                                  \
		struct fl_where _w = at(c, n);              \
		fl_errors_add((c)->errs, &_w, __VA_ARGS__); \
	})

static char *xdup(struct pctx *c, const char *s)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		c->r = -ENOMEM;
	return d;
}

/*
 * The values of mapping m by key (out[i] for keys[i]), unknown keys with a did-you-mean,
 * repeated keys: errors. False when m is not a mapping (said so, naming what).
 */
static bool map(struct pctx *c, const struct fl_ynode *m, const char *what,
		const char *const *keys, size_t nk, const struct fl_ynode **out)
{
	memset(out, 0, nk * sizeof(*out));
	if (m->type != FL_YMAP) {
		err(c, m, "expected a mapping for %s", what);
		return false;
	}
	for (size_t i = 0; i + 1 < m->n; i += 2) {
		const struct fl_ynode *k = m->child[i];
		const char *close;
		size_t j;

		if (k->type != FL_YSCALAR) {
			err(c, k, "expected a scalar as key in %s", what);
			continue;
		}
		for (j = 0; j < nk && strcmp(keys[j], k->value) != 0; j++)
			;
		if (j < nk && !out[j]) {
			out[j] = m->child[i + 1];
			continue;
		}
		if (j < nk) {
			err(c, k, "duplicate key '%s' in %s", Q(k->value), what);
			continue;
		}
		close = fl_closest(k->value, keys, nk);
		err(c, k, "unknown key '%s' in %s%s%s%s", Q(k->value), what,
		    close ? " (did you mean '" : "", close ? close : "", close ? "'?)" : "");
	}
	return true;
}

#define MAP(c, m, what, keys, out) map(c, m, what, keys, ARRAY_SIZE(keys), out)

static const char *str(struct pctx *c, const struct fl_ynode *n, const char *key)
{
	if (n->type == FL_YSCALAR && !fl_ynode_is_null(n))
		return n->value;
	err(c, n, "expected a string for '%s'", key);
	return NULL;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= FL_NAME_MAX && strspn(s, NAME_CHARS) == n;
}

/* An IP literal or a DNS name; never something ssh would read as an option. */
static bool valid_address(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];
	size_t n = strlen(s);

	if (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1)
		return true;
	return n >= 1 && n <= 253 && s[0] != '-' && s[0] != '.' && strspn(s, DNS_CHARS) == n;
}

static bool valid_user(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 32 && s[0] != '-' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-.") == n;
}

static void get_port(struct pctx *c, const struct fl_ynode *n, uint16_t *ret)
{
	const char *v = str(c, n, "port");
	uint64_t x;

	if (!v)
		return;
	if (fl_parse_uint(v, 65535, &x) < 0 || x == 0)
		err(c, n, "'port' must be a TCP port from 1 to 65535, got '%s'", Q(v));
	else
		*ret = (uint16_t)x;
}

/* A path relative to the scenario file, made absolute; it must name a readable file. */
static void get_path(struct pctx *c, const struct fl_ynode *n, const char *key, char **ret)
{
	const char *v = str(c, n, key);
	char *p = NULL;

	if (!v)
		return;
	if (v[0] == '/' ? !(p = strdup(v)) : asprintf(&p, "%s/%s", c->dir, v) < 0) {
		c->r = -ENOMEM;
		return;
	}
	if (access(p, R_OK) < 0) {
		err(c, n, "'%s': cannot read '%s': %s", key, Q(p), strerror(errno));
		free(p);
		return;
	}
	*ret = p;
}

static const char *const ssh_keys[] = { "user", "port", "ssh_config" };
static const char *const agent_keys[] = { "port", "ca", "cert", "key" };
static const char *const transports[] = { "ssh", "agent" };

static void parse_transport(struct pctx *c, const struct fl_ynode *n, struct fl_host *h)
{
	const struct fl_ynode *t[2], *v[4];
	const char *s;

	if (n->type == FL_YSCALAR) {
		if (!(s = str(c, n, "transport")))
			return;
		if (!strcmp(s, "ssh"))
			h->transport = FL_TRANSPORT_SSH;
		else if (!strcmp(s, "agent"))
			err(c, n, "transport 'agent' needs 'port', 'ca', 'cert' and 'key': "
				  "{ agent: { port: P, ca: F, cert: F, key: F } }");
		else
			err(c, n, "unknown transport '%s' (use 'ssh' or 'agent')", Q(s));
		return;
	}
	if (!MAP(c, n, "'transport'", transports, t))
		return;
	if (!!t[0] + !!t[1] != 1) {
		if (!t[0] && !t[1])
			err(c, n, "'transport' needs one of 'ssh' or 'agent'");
		else
			err(c, n, "'transport' takes one of 'ssh' or 'agent', not both");
		return;
	}
	if (t[0]) {
		h->transport = FL_TRANSPORT_SSH;
		if (fl_ynode_is_null(t[0]) || !MAP(c, t[0], "'ssh'", ssh_keys, v))
			return;
		if (v[0] && (s = str(c, v[0], "user"))) {
			if (!valid_user(s))
				err(c, v[0], "invalid ssh user '%s'", Q(s));
			else
				h->user = xdup(c, s);
		}
		if (v[1])
			get_port(c, v[1], &h->port);
		if (v[2])
			get_path(c, v[2], "ssh_config", &h->ssh_config);
		return;
	}
	h->transport = FL_TRANSPORT_AGENT;
	if (fl_ynode_is_null(t[1])) {
		err(c, t[1], "'agent' needs 'port', 'ca', 'cert' and 'key'");
		return;
	}
	if (!MAP(c, t[1], "'agent'", agent_keys, v))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(agent_keys); i++)
		if (!v[i])
			err(c, t[1], "'agent' needs '%s'", agent_keys[i]);
	if (v[0])
		get_port(c, v[0], &h->port);
	if (v[1])
		get_path(c, v[1], "ca", &h->ca);
	if (v[2])
		get_path(c, v[2], "cert", &h->cert);
	if (v[3])
		get_path(c, v[3], "key", &h->key);
}

static void parse_groups(struct pctx *c, const struct fl_ynode *n, struct fl_host *h)
{
	const struct fl_ynode *one = n;
	size_t cnt = 1;

	if (n->type == FL_YSEQ)
		cnt = n->n;
	if (n->type != FL_YSEQ && n->type != FL_YSCALAR) {
		err(c, n, "expected a sequence of names for 'groups'");
		return;
	}
	if (cnt > FL_MAX_GROUPS) {
		err(c, n, "too many groups (%zu, at most %d)", cnt, FL_MAX_GROUPS);
		return;
	}
	for (size_t i = 0; i < cnt; i++) {
		const char *g;

		if (n->type == FL_YSEQ)
			one = n->child[i];
		if (!(g = str(c, one, "groups")))
			continue;
		if (!valid_name(g)) {
			err(c, one, "invalid group name '%s': use 1-63 characters of A-Z, a-z, "
				    "0-9, '.', '_' and '-'", Q(g));
			continue;
		}
		if (fl_strv_push(&h->groups, g) < 0)
			c->r = -ENOMEM;
	}
}

static const char *const host_keys[] = { "name", "address", "lab", "groups", "transport" };

static void parse_host(struct pctx *c, const struct fl_ynode *n, const struct fl_lab *lab,
		       struct fl_hosts *hs)
{
	const struct fl_ynode *v[ARRAY_SIZE(host_keys)];
	struct fl_host *h = &hs->v[hs->n];
	const struct fl_host *prev;
	const char *s;

	*h = (struct fl_host){ .where = at(c, n) };
	if (!MAP(c, n, "each item of 'hosts'", host_keys, v))
		return;
	if (!v[0]) {
		err(c, n, "a host needs 'name'");
	} else if ((s = str(c, v[0], "name"))) {
		if (!valid_name(s))
			err(c, v[0], "invalid host name '%s': use 1-63 characters of A-Z, a-z, "
				     "0-9, '.', '_' and '-'", Q(s));
		else if (!strcmp(s, "local"))
			err(c, v[0], "host name 'local' is reserved: it means this host");
		else if ((prev = fl_hosts_find(hs, s)))
			err(c, v[0], "duplicate host name '%s' (first at line %u)", Q(s),
			    prev->where.line);
		else if (fl_lab_find_host(lab, s) && !(v[2] && v[2]->type == FL_YSCALAR &&
						       !strcmp(v[2]->value, s)))
			err(c, v[0], "host name '%s' is a lab host: `on: %s` would be ambiguous",
			    Q(s), Q(s));
		else
			h->name = xdup(c, s);
	}
	if (!!v[1] == !!v[2]) {
		err(c, n, v[1] ? "a host has 'address' or 'lab', not both"
			       : "a host needs 'address' (or 'lab': a lab host's name)");
	} else if (v[1] && (s = str(c, v[1], "address"))) {
		if (!valid_address(s))
			err(c, v[1], "invalid address '%s': expected an IPv4 or IPv6 address or a "
				     "DNS name", Q(s));
		else
			h->address = xdup(c, s);
	} else if (v[2] && (s = str(c, v[2], "lab"))) {
		if (!lab)
			err(c, v[2], "'lab' names lab host '%s' but the scenario has no lab", Q(s));
		else if (!fl_lab_find_host(lab, s))
			err(c, v[2], "unknown lab host '%s'", Q(s));
		else
			h->lab = xdup(c, s);
	}
	if (v[3])
		parse_groups(c, v[3], h);
	if (!v[4])
		err(c, n, "a host needs 'transport': ssh, or { agent: { port, ca, cert, key } }");
	else
		parse_transport(c, v[4], h);
	hs->n++;
}

static const char *const fanout_keys[] = { "concurrency", "timeout", "lease", "on_host_failure" };

static void parse_fanout(struct pctx *c, const struct fl_ynode *n, struct fl_fanout *f)
{
	const struct fl_ynode *v[ARRAY_SIZE(fanout_keys)];
	const char *s;
	uint64_t x;

	if (fl_ynode_is_null(n) || !MAP(c, n, "'fanout'", fanout_keys, v))
		return;
	if (v[0] && (s = str(c, v[0], "concurrency"))) {
		if (fl_parse_uint(s, FL_FANOUT_MAX, &x) < 0 || x == 0)
			err(c, v[0], "'concurrency' must be a number from 1 to %d, got '%s'",
			    FL_FANOUT_MAX, Q(s));
		else
			f->concurrency = (unsigned)x;
	}
	for (size_t i = 1; i <= 2; i++) {
		uint64_t *dst = i == 1 ? &f->timeout_ns : &f->lease_ns;

		if (!v[i] || !(s = str(c, v[i], fanout_keys[i])))
			continue;
		if (fl_parse_duration(s, &x) < 0 || x < 100 * NSEC_PER_MSEC ||
		    x > 3600 * NSEC_PER_SEC)
			err(c, v[i], "'%s' must be a duration from 100ms to 1h, got '%s'",
			    fanout_keys[i], Q(s));
		else
			*dst = x;
	}
	if (v[3] && (s = str(c, v[3], "on_host_failure"))) {
		if (!strcmp(s, "abort"))
			f->on_host_failure = FL_HOST_FAILURE_ABORT;
		else if (!strcmp(s, "skip"))
			f->on_host_failure = FL_HOST_FAILURE_SKIP;
		else
			err(c, v[3], "'on_host_failure' must be 'abort' or 'skip', got '%s'", Q(s));
	}
}

int fl_hosts_parse(const char *file, const char *dir, const struct fl_ynode *n,
		   const struct fl_ynode *fanout, const struct fl_lab *lab, struct fl_hosts **ret,
		   struct fl_errors *errs)
{
	struct pctx c = { .file = file, .dir = dir, .errs = errs };
	struct fl_hosts *hs;
	size_t cnt;

	*ret = NULL;
	if ((!n || fl_ynode_is_null(n)) && !fanout)
		return 0;
	hs = calloc(1, sizeof(*hs));
	if (!hs)
		return -ENOMEM;
	hs->fanout = (struct fl_fanout){ .concurrency = 32, .timeout_ns = 10 * NSEC_PER_SEC,
					 .lease_ns = 10 * NSEC_PER_SEC };
	if (fanout)
		parse_fanout(&c, fanout, &hs->fanout);
	if (n && !fl_ynode_is_null(n) && n->type != FL_YSEQ)
		err(&c, n, "expected a sequence for 'hosts': 'local' or { name, address, groups, "
			   "transport }");
	cnt = n && n->type == FL_YSEQ ? n->n : 0;
	if (cnt > FL_MAX_REMOTE_HOSTS) {
		err(&c, n, "too many hosts (%zu, at most %d)", cnt, FL_MAX_REMOTE_HOSTS);
		cnt = FL_MAX_REMOTE_HOSTS;
	}
	hs->v = calloc(cnt ? cnt : 1, sizeof(*hs->v));
	if (!hs->v) {
		free(hs);
		return -ENOMEM;
	}
	for (size_t i = 0; i < cnt && !c.r; i++) {
		const struct fl_ynode *h = n->child[i];

		if (h->type == FL_YSCALAR && !strcmp(h->value, "local"))
			hs->local = true;
		else if (h->type == FL_YSCALAR)
			err(&c, h, "host '%s' needs a mapping: { name, address, groups, transport } "
				   "('local' is the only bare name)", Q(h->value));
		else
			parse_host(&c, h, lab, hs);
	}
	if (fanout && !hs->n && !c.r)
		err(&c, fanout, "'fanout' needs remote 'hosts'");
	*ret = hs;
	return c.r;
}

void fl_hosts_free(struct fl_hosts *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n; i++) {
		struct fl_host *x = &h->v[i];
		free(x->name);
		free(x->address);
		free(x->lab);
		fl_strv_free(x->groups);
		free(x->user);
		free(x->ssh_config);
		free(x->ca);
		free(x->cert);
		free(x->key);
	}
	free(h->v);
	free(h);
}

const struct fl_host *fl_hosts_find(const struct fl_hosts *h, const char *name)
{
	for (size_t i = 0; h && name && i < h->n; i++)
		if (h->v[i].name && !strcmp(h->v[i].name, name))
			return &h->v[i];
	return NULL;
}

static bool in_group(const struct fl_host *h, const char *g)
{
	for (char **p = h->groups; p && *p; p++)
		if (!strcmp(*p, g))
			return true;
	return false;
}

static size_t group_size(const struct fl_hosts *h, const char *g)
{
	size_t n = 0;

	for (size_t i = 0; h && i < h->n; i++)
		n += in_group(&h->v[i], g);
	return n;
}

static void unknown_group(struct pctx *c, const struct fl_ynode *n, const struct fl_hosts *h,
			  const char *g)
{
	const char *cand[64], *close;
	size_t nc = 0;

	for (size_t i = 0; h && i < h->n; i++)
		for (char **p = h->v[i].groups; p && *p && nc < ARRAY_SIZE(cand); p++)
			cand[nc++] = *p;
	close = fl_closest(g, cand, nc);
	err(c, n, "no host is in group '%s'%s%s%s", Q(g), close ? " (did you mean '" : "",
	    close ? close : "", close ? "'?)" : "");
}

static const char *const sel_keys[] = { "group", "count", "percent" };

static void parse_selector(struct pctx *c, const struct fl_ynode *n, const struct fl_hosts *h,
			   struct fl_selector *sel)
{
	const struct fl_ynode *v[ARRAY_SIZE(sel_keys)];
	const char *s;
	uint64_t x;
	double p;
	size_t size;

	if (!MAP(c, n, "'on'", sel_keys, v))
		return;
	if (!v[0]) {
		err(c, n, "a selector needs 'group' ({ group: G, count: N } or "
			  "{ group: G, percent: P })");
		return;
	}
	if (!(s = str(c, v[0], "group")))
		return;
	size = group_size(h, s);
	if (!size) {
		unknown_group(c, v[0], h, s);
		return;
	}
	sel->group = xdup(c, s);
	if (v[1] && v[2]) {
		err(c, v[2], "a selector takes 'count' or 'percent', not both");
		return;
	}
	if (v[1] && (s = str(c, v[1], "count"))) {
		if (fl_parse_uint(s, UINT32_MAX, &x) < 0 || x == 0)
			err(c, v[1], "'count' must be a number from 1, got '%s'", Q(s));
		else if (x > size)
			err(c, v[1], "'count' is %llu but group '%s' has %zu hosts",
			    (unsigned long long)x, sel->group, size);
		else
			sel->count = (uint32_t)x;
	}
	if (v[2] && (s = str(c, v[2], "percent"))) {
		char *end;

		errno = 0;
		p = strtod(s, &end);
		if (*end == '%')
			end++;
		if (errno || end == s || *end || !(p > 0 && p <= 100))
			err(c, v[2], "'percent' must be a number above 0 and at most 100, got '%s'",
			    Q(s));
		else
			sel->percent = p;
	}
}

static void params_drop(struct fl_params *p, const char *key)
{
	for (size_t i = 0; i < p->n; i++) {
		if (strcmp(p->v[i].key, key) != 0)
			continue;
		free(p->v[i].key);
		free(p->v[i].value);
		memmove(&p->v[i], &p->v[i + 1], (p->n - i - 1) * sizeof(p->v[0]));
		p->n--;
		return;
	}
}

int fl_selector_take(const char *file, const struct fl_ynode *m, const struct fl_hosts *h,
		     struct fl_params *p, struct fl_selector **ret, struct fl_errors *errs)
{
	struct pctx c = { .file = file, .errs = errs };
	const struct fl_ynode *on = NULL;
	struct fl_selector *sel;

	*ret = NULL;
	for (size_t i = 0; m->type == FL_YMAP && i + 1 < m->n; i += 2)
		if (m->child[i]->type == FL_YSCALAR && !strcmp(m->child[i]->value, "on"))
			on = m->child[i + 1];
	if (!on)
		return 0;
	if (on->type == FL_YSCALAR && !fl_hosts_find(h, on->value))
		return 0; /* "local" or a lab host: the fault validator's business */
	sel = calloc(1, sizeof(*sel));
	if (!sel)
		return -ENOMEM;
	sel->where = at(&c, on);
	if (on->type == FL_YSCALAR) {
		sel->host = xdup(&c, on->value);
	} else if (!h || !h->n) {
		err(&c, on, "a selector in 'on' needs remote 'hosts' in the scenario");
	} else {
		parse_selector(&c, on, h, sel);
	}
	params_drop(p, "on");
	*ret = sel;
	return c.r;
}

void fl_selector_free(struct fl_selector *sel)
{
	if (!sel)
		return;
	free(sel->host);
	free(sel->group);
	free(sel);
}

static uint64_t hash_name(const char *s)
{
	uint64_t x = 1469598103934665603ULL; /* FNV-1a */

	for (; s && *s; s++)
		x = (x ^ (unsigned char)*s) * 1099511628211ULL;
	return x;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

size_t fl_select(const struct fl_hosts *h, const struct fl_selector *sel, uint64_t seed,
		 const char *fault, size_t *out)
{
	uint64_t rng = seed ^ hash_name(fault);
	size_t n = 0, want;

	if (!h || !sel)
		return 0;
	for (size_t i = 0; i < h->n; i++)
		if (sel->host ? !strcmp(h->v[i].name, sel->host) : in_group(&h->v[i], sel->group))
			out[n++] = i;
	if (sel->host)
		return n;
	want = n;
	if (sel->count)
		want = sel->count < n ? sel->count : n;
	else if (sel->percent > 0)
		want = (size_t)ceil((double)n * sel->percent / 100.0 - 1e-9);
	/* a partial Fisher-Yates shuffle: the first `want` are the sample */
	for (size_t i = 0; i < want && i + 1 < n; i++) {
		size_t j = i + (size_t)(fl_rand_next(&rng) % (n - i)), t = out[i];

		out[i] = out[j];
		out[j] = t;
	}
	qsort(out, want, sizeof(*out), cmp_size);
	return want;
}

int fl_selector_describe(const struct fl_selector *sel, char *buf, size_t len)
{
	if (sel->host)
		return snprintf(buf, len, "%s", sel->host);
	if (sel->count)
		return snprintf(buf, len, "%u of group %s", sel->count, sel->group);
	if (sel->percent > 0)
		return snprintf(buf, len, "%g%% of group %s", sel->percent, sel->group);
	return snprintf(buf, len, "group %s", sel->group);
}

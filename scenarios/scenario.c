// SPDX-License-Identifier: GPL-2.0-only
/* Scenario validation: the YAML node tree to struct fl_scenario, and the one fault validator. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <regex.h>
#include <string.h>
#include <sys/stat.h>

#include "inject/injector.h"
#include "reports/curl_dl.h"
#include "scenarios/hosts.h"
#include "scenarios/probespec.h"
#include "scenarios/scenario.h"
#include "scenarios/yamltree.h"

#define DESCRIPTION_MAX 4096
#define PID_LIMIT 4194304 /* PID_MAX_LIMIT on 64-bit */
#define TARGET_NAME_MAX 255
#define NETNS_NAME_MAX 64
#define DNS_NAME_MAX 253
#define FAULT_KEYS_MAX 64
#define REGEX_COST_MAX 10000 /* nodes glibc's regcomp() may build for target.cmdline */
#define REGEX_DEPTH_MAX 32
#define IDENT_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
#define IDENT_RULE "use 1-63 characters of A-Z, a-z, 0-9, '.', '_' and '-'"

/* A user value fit for a message: at most SHOW_MAX bytes, control characters as '?'. */
#define SHOW_MAX 64
#define Q(v) fl_shorten((v), SHOW_MAX, (char[SHOW_MAX + 4]){ 0 })

static const char *const fault_keys[] = {
	"name",		 "kind",	 "on",		"at",
	"for",		 "target.pid",	 "target.name", "target.cmdline",
	"target.cgroup", "target.netns", "target.pick", "target.count",
	"backend",	 "target.exec",
};

static bool valid_ident(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= FL_NAME_MAX && strspn(s, IDENT_CHARS) == n;
}

static bool check_duration(struct fl_errors *e, const struct fl_where *w, const char *key,
			   const char *v, uint64_t min, uint64_t max, uint64_t *ret)
{
	char buf[32];
	uint64_t ns;
	int r = fl_parse_duration(v, &ns);

	if (r == -ERANGE && v[strspn(v, " \t\n\r\f\v")] == '-')
		fl_errors_add(e, w, "'%s' cannot be negative", key);
	else if (r < 0 && r != -ERANGE)
		fl_errors_add(e, w, "'%s' must be a duration such as '500ms' or '2s', got '%s'",
			      key, Q(v));
	else if (r < 0 || ns > max) /* max is never beyond what fl_parse_duration() takes */
		fl_errors_add(e, w, "'%s' must be at most %s", key,
			      fl_format_duration(max, buf, sizeof(buf)));
	else if (min == 1 && ns == 0)
		fl_errors_add(e, w, "'%s' must be more than 0", key);
	else if (ns < min)
		fl_errors_add(e, w, "'%s' must be at least %s", key,
			      fl_format_duration(min, buf, sizeof(buf)));
	else {
		*ret = ns;
		return true;
	}
	return false;
}

static bool check_port(struct fl_errors *e, const struct fl_where *w, const char *key,
		       const char *v, uint16_t *ret)
{
	uint64_t port;

	if (fl_parse_uint(v, 65535, &port) < 0 || port == 0) {
		fl_errors_add(e, w, "'%s' must be a port number from 1 to 65535, got '%s'", key,
			      Q(v));
		return false;
	}
	*ret = (uint16_t)port;
	return true;
}

static void unknown_host(struct fl_errors *e, const struct fl_where *w, const struct fl_lab *lab,
			 const char *name)
{
	const char *cand[FL_MAX_HOSTS], *s;
	size_t n = 0;

	for (size_t i = 0; i < lab->n_hosts && n < ARRAY_SIZE(cand); i++)
		cand[n++] = lab->hosts[i].name;
	s = fl_closest(name, cand, n);
	if (s)
		fl_errors_add(e, w, "unknown lab host '%s' (did you mean '%s'?)", Q(name), s);
	else
		fl_errors_add(e, w, "unknown lab host '%s'", Q(name));
}

static void unknown_key(struct fl_errors *e, const struct fl_where *w, const char *key,
			const char *const *cand, size_t n)
{
	const char *s = fl_closest(key, cand, n);

	if (s)
		fl_errors_add(e, w, "unknown key '%s' (did you mean '%s'?)", Q(key), s);
	else
		fl_errors_add(e, w, "unknown key '%s'", Q(key));
}

static const char *kind_list(char *buf, size_t len)
{
	const char *names[32];
	size_t n = fl_kind_names(names, ARRAY_SIZE(names)), off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", names[i]);
	return buf;
}

static void kind_error(struct fl_errors *e, const struct fl_where *w, const char *kind)
{
	const char *names[32], *s;
	size_t n = fl_kind_names(names, ARRAY_SIZE(names));
	char list[256];

	for (const struct fl_kind_info *const *k = fl_kinds(); *k; k++) {
		if (strcmp((*k)->kind, kind) == 0) {
			fl_errors_add(e, w,
				      "fault kind '%s' is not implemented yet (implemented: %s)",
				      kind, kind_list(list, sizeof(list)));
			return;
		}
	}
	s = fl_closest(kind, names, n);
	if (s)
		fl_errors_add(e, w, "unknown fault kind '%s' (did you mean '%s'?)", Q(kind), s);
	else
		fl_errors_add(e, w, "unknown fault kind '%s' (implemented: %s)", Q(kind),
			      kind_list(list, sizeof(list)));
}

/* The ']' closing the bracket expression that starts at p (or the last character). */
static const char *bracket_end(const char *p)
{
	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	for (; *p && *p != ']'; p++) {
		if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
			const char *e = p + 2;

			while (*e && !(e[0] == p[1] && e[1] == ']'))
				e++;
			if (!*e)
				return e - 1;
			p = e + 1;
		}
	}
	return *p ? p : p - 1;
}

/*
 * glibc's regcomp() copies the operand of "{m,n}" n times and of "+" twice, so "(a+)+..."
 * grows exponentially, and its epsilon closures are quadratic in the nodes. Bound the nodes
 * (a generous estimate) before calling it. Back-references make matching exponential: ERE has
 * none, glibc adds them. Returns 0, -E2BIG or -EINVAL (a back-reference).
 */
static int regex_check(const char *re)
{
	struct {
		uint64_t total, last; /* the group so far; its last atom, which a repeat copies */
	} st[REGEX_DEPTH_MAX + 1], *g = st;
	uint64_t outer = 0; /* everything in the enclosing groups */

	*g = (typeof(*g)){ 0 };
	for (const char *p = re; *p; p++) {
		uint64_t cost = 2, m, n;
		char *end;

		switch (*p) {
		case '\\':
			if (p[1] >= '1' && p[1] <= '9')
				return -EINVAL;
			if (p[1])
				p++;
			break;
		case '[':
			p = bracket_end(p);
			cost = 6;
			break;
		case '(':
			if (g == st + REGEX_DEPTH_MAX)
				return -E2BIG;
			outer += g->total + g->last;
			*++g = (typeof(*g)){ 0 };
			continue;
		case ')':
			if (g == st)
				break;
			cost = g->total + g->last + 2;
			g--;
			outer -= g->total + g->last;
			break;
		case '|':
			g->total += g->last + 2;
			g->last = 0;
			goto check;
		case '*':
		case '?':
			g->last += 2;
			goto check;
		case '+':
			g->last = 2 * g->last + 2;
			goto check;
		case '{':
			/* {m}, {m,}, {m,n} and glibc's {,n} */
			end = (char *)p + 1;
			m = isdigit((unsigned char)*end) ? strtoull(end, &end, 10) : 0;
			n = m;
			if (*end == ',') {
				end++;
				n = isdigit((unsigned char)*end) ? strtoull(end, &end, 10) : m + 1;
			}
			if (*end != '}' || end == p + 1)
				break;
			if (n < m)
				n = m;
			if (n > REGEX_COST_MAX)
				return -E2BIG;
			g->last = g->last * n + 2 * n + 2;
			p = end;
			goto check;
		}
		g->total += g->last;
		g->last = cost;
	check:
		if (outer + g->total + g->last > REGEX_COST_MAX)
			return -E2BIG;
	}
	return 0;
}

/* A user's POSIX ERE (target.cmdline, a probe's 'matches'): bounded before regcomp() sees it. */
static bool check_regex(struct fl_errors *e, const struct fl_where *w, const char *key,
			const char *v)
{
	char msg[256];
	regex_t re;
	int r;

	if (!*v) {
		fl_errors_add(e, w, "'%s' cannot be empty", key);
		return false;
	}
	if (strlen(v) > FL_MAX_ARG_LEN) {
		fl_errors_add(e, w, "'%s' is too long (%zu bytes, at most %d)", key, strlen(v),
			      FL_MAX_ARG_LEN);
		return false;
	}
	r = regex_check(v);
	if (r == -EINVAL) {
		fl_errors_add(e, w, "'%s' cannot use back-references ('\\1')", key);
		return false;
	}
	if (r < 0) {
		fl_errors_add(e, w, "'%s' is too complex: simplify its repetitions and groups",
			      key);
		return false;
	}
	r = regcomp(&re, v, REG_EXTENDED | REG_NOSUB);
	if (r != 0) {
		regerror(r, &re, msg, sizeof(msg));
		msg[0] = (char)tolower((unsigned char)msg[0]);
		fl_errors_add(e, w, "'%s' is not a valid extended regular expression: %s", key,
			      msg);
		return false;
	}
	regfree(&re);
	return true;
}

static void check_cmdline(struct fl_errors *e, const struct fl_param *t)
{
	check_regex(e, &t->where, "target.cmdline", t->value);
}

static bool valid_cgroup(const char *s)
{
	size_t n = strlen(s);

	if (s[0] != '/' || n > FL_MAX_ARG_LEN)
		return false;
	for (const char *p = s; (p = strstr(p, "/..")); p += 3)
		if (p[3] == '/' || p[3] == '\0')
			return false;
	return true;
}

static struct fl_param *find_param(const struct fl_params *p, const char *key)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i].key, key) == 0)
			return &p->v[i];
	return NULL;
}

static int dup_str(char **dst, const char *s)
{
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

/* target.*: filters on processes; *ret_any: whether one that selects processes was given. */
static int parse_target(const struct fl_params *p, struct fl_fault *f, struct fl_errors *e,
			bool *ret_any)
{
	struct fl_param *t;
	uint64_t v;

	*ret_any = false;
	f->target.where = p->where;
	if ((t = fl_params_take(p, "target.pid"))) {
		*ret_any = true;
		if (fl_parse_uint(t->value, PID_LIMIT, &v) < 0 || v == 0)
			fl_errors_add(e, &t->where,
				      "'target.pid' must be a process id from 1 to %d, got '%s'",
				      PID_LIMIT, Q(t->value));
		else if (v == 1)
			fl_errors_add(e, &t->where, "refusing to target PID 1");
		else if ((pid_t)v == getpid())
			fl_errors_add(e, &t->where, "refusing to target faultline itself");
		else
			f->target.pid = (pid_t)v;
	}
	if ((t = fl_params_take(p, "target.name"))) {
		*ret_any = true;
		if (!*t->value || strlen(t->value) > TARGET_NAME_MAX)
			fl_errors_add(
				e, &t->where,
				"'target.name' must be a process name of 1 to %d bytes, got '%s'",
				TARGET_NAME_MAX, Q(t->value));
		else if (dup_str(&f->target.name, t->value) < 0)
			return -ENOMEM;
	}
	if ((t = fl_params_take(p, "target.cmdline"))) {
		size_t n0 = e->n;

		*ret_any = true;
		check_cmdline(e, t);
		if (e->n == n0 && dup_str(&f->target.cmdline, t->value) < 0)
			return -ENOMEM;
	}
	if ((t = fl_params_take(p, "target.cgroup"))) {
		*ret_any = true;
		if (!valid_cgroup(t->value))
			fl_errors_add(e, &t->where,
				      "'target.cgroup' must be an absolute cgroup path such as "
				      "'/system.slice/redis.service', got '%s'",
				      Q(t->value));
		else if (dup_str(&f->target.cgroup, t->value) < 0)
			return -ENOMEM;
	}
	if ((t = fl_params_take(p, "target.netns"))) {
		size_t n = strlen(t->value);

		if (n < 1 || n > NETNS_NAME_MAX || strspn(t->value, IDENT_CHARS) != n ||
		    !strcmp(t->value, ".") || !strcmp(t->value, ".."))
			fl_errors_add(e, &t->where,
				      "invalid network namespace name '%s': use 1-%d characters of "
				      "A-Z, a-z, 0-9, '.', '_' and '-'",
				      Q(t->value), NETNS_NAME_MAX);
		else if (f->on)
			fl_errors_add(e, &t->where,
				      "'target.netns' cannot be combined with 'on': a lab host "
				      "has its own namespace");
		else if (dup_str(&f->target.netns, t->value) < 0)
			return -ENOMEM;
	}
	if ((t = fl_params_take(p, "target.exec"))) {
		/* a command faultline starts (seccomp faults), as a JSON array of strings */
		json_t *a = json_loads(t->value, JSON_REJECT_DUPLICATES, NULL);
		bool ok = json_is_array(a) && json_array_size(a) >= 1 &&
			  json_array_size(a) <= FL_MAX_ARGS;

		for (size_t i = 0; ok && i < json_array_size(a); i++)
			ok = json_is_string(json_array_get(a, i)) &&
			     (i || *json_string_value(json_array_get(a, i)));
		json_decref(a);
		if (!ok)
			fl_errors_add(e, &t->where,
				      "'target.exec' must be a command and its arguments, such as "
				      "[sqlite3, /var/lib/app/t.db]");
		else if (f->backend && f->backend->needs_target)
			fl_errors_add(e, &t->where,
				      "'target.exec' is for faults on a command faultline launches "
				      "(syscall, disk-error, io-latency), not '%s'",
				      f->backend->kind);
		else if (dup_str(&f->target.exec, t->value) < 0)
			return -ENOMEM;
	}
	if ((t = fl_params_take(p, "target.pick"))) {
		if (!strcmp(t->value, "random") || !strcmp(t->value, "all"))
			f->target.pick_random = !strcmp(t->value, "random");
		else
			fl_errors_add(e, &t->where,
				      "'target.pick' must be 'random' or 'all', got '%s'",
				      Q(t->value));
	}
	if ((t = fl_params_take(p, "target.count"))) {
		if (fl_parse_uint(t->value, FL_MAX_COUNT, &v) < 0 || v == 0)
			fl_errors_add(e, &t->where,
				      "'target.count' must be a number from 1 to %d, got '%s'",
				      FL_MAX_COUNT, Q(t->value));
		else
			f->target.count = (uint32_t)v;
	}
	return 0;
}

/*
 * The preferred backend cannot do what the parameters ask (netem: ingress): another backend of
 * the kind that accepts them all (and knows every key given) is used instead (preflight still checks it can run here).
 * When none does, the preferred backend's errors stand.
 */
static int parse_other_backend(struct fl_fault *f, const struct fl_params *p,
			       struct fl_errors *errs, size_t n1, const bool *used0,
			       bool keep_first)
{
	const struct fl_backend *const *all = fl_backends_of(f->kind), *first = f->backend;
	const struct fl_backend *cand = NULL;
	_cleanup_free_ bool *used1 = calloc(p->n + 1, sizeof(bool));
	_cleanup_free_ bool *used_cand = calloc(p->n + 1, sizeof(bool));
	struct fl_errors e_cand = { 0 };
	void *priv1 = f->priv, *priv_cand = NULL;

	if (!used0 || !used1 || !used_cand)
		return -ENOMEM;
	for (size_t i = 0; i < p->n; i++)
		used1[i] = p->v[i].used;
	for (; all && *all; all++) {
		struct fl_errors e = { 0 };
		int k;

		if (*all == first || !(*all)->parse)
			continue;
		f->priv = NULL;
		for (size_t i = 0; i < p->n; i++)
			p->v[i].used = used0[i];
		k = (*all)->parse(f, p, &e);
		/* it must also know every key given: one that ignores a key is no substitute */
		for (size_t i = 0; k == 0 && i < p->n; i++)
			if (!p->v[i].used)
				k = -EINVAL;
		if (k == 0 && !e.n) {
			for (size_t i = n1; i < errs->n; i++)
				free(errs->v[i].text);
			errs->n = n1;
			if (priv1 && first->free_priv)
				first->free_priv(priv1);
			if (priv_cand && cand->free_priv)
				cand->free_priv(priv_cand);
			fl_errors_clear(&e_cand);
			f->backend = *all;
			return 0;
		}
		if (k != -EOPNOTSUPP && !cand && e.n && !keep_first) {
			/* the first backend for which these parameters are meant: its errors are
			 * the ones worth showing if nothing accepts them */
			cand = *all;
			priv_cand = f->priv;
			e_cand = e;
			for (size_t i = 0; i < p->n; i++)
				used_cand[i] = p->v[i].used;
			continue;
		}
		fl_errors_clear(&e);
		if (f->priv && (*all)->free_priv)
			(*all)->free_priv(f->priv);
	}
	if (cand) {
		for (size_t i = n1; i < errs->n; i++)
			free(errs->v[i].text);
		errs->n = n1;
		for (size_t i = 0; i < e_cand.n; i++) {
			if (errs->n == errs->cap) {
				size_t cap = errs->cap ? errs->cap * 2 : 8;
				struct fl_diag *v = realloc(errs->v, cap * sizeof(*v));
				if (!v)
					break;
				errs->v = v;
				errs->cap = cap;
			}
			errs->v[errs->n++] = e_cand.v[i]; /* moved: text and all */
			e_cand.v[i].text = NULL;
		}
		fl_errors_clear(&e_cand);
		if (priv1 && first->free_priv)
			first->free_priv(priv1);
		f->backend = cand;
		f->priv = priv_cand;
		for (size_t i = 0; i < p->n; i++)
			p->v[i].used = used_cand[i];
		return -EINVAL;
	}
	f->priv = priv1;
	for (size_t i = 0; i < p->n; i++)
		p->v[i].used = used1[i];
	return -EINVAL;
}

static bool any_unused(const struct fl_params *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (!p->v[i].used)
			return true;
	return false;
}

static bool in_list(const char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

int fl_fault_from_params(const struct fl_params *p, const struct fl_lab *lab, struct fl_fault *ret,
			 struct fl_errors *errs)
{
	_cleanup_(fl_fault_clear) struct fl_fault f = { .where = p->where };
	struct fl_param *kind, *name, *on, *at, *fr;
	size_t n0 = errs->n;
	char list[256];
	bool any_target, invalid = false;
	struct fl_param *bk;
	int r;

	for (size_t i = 0; i < p->n; i++)
		p->v[i].used = false;

	kind = fl_params_take(p, "kind");
	if (!kind) {
		fl_errors_add(errs, &p->where, "a fault needs 'kind' (implemented: %s)",
			      kind_list(list, sizeof(list)));
	} else {
		f.backend = fl_backend_find(kind->value);
		if (!f.backend)
			kind_error(errs, &kind->where, kind->value);
		if (dup_str(&f.kind, kind->value) < 0)
			return -ENOMEM;
	}

	/* `backend:` pins one; otherwise preflight picks the first this host can run */
	bk = fl_params_take(p, "backend");
	if (bk && f.backend) {
		const struct fl_backend *const *all = fl_backends_of(kind->value);
		const char *names[17];
		size_t nn = 0;

		for (; all && *all && nn < ARRAY_SIZE(names) - 1; all++)
			names[nn++] = (*all)->name;
		f.backend = fl_backend_find_named(kind->value, bk->value);
		f.backend_explicit = true;
		if (!f.backend) {
			_cleanup_free_ char *joined = NULL;
			const char *close = fl_closest(bk->value, names, nn);
			names[nn] = NULL;
			joined = fl_strv_join((char **)names, ", ");
			fl_errors_add(errs, &bk->where,
				      "'%s' faults have no backend '%s'%s%s%s (implemented: %s)",
				      kind->value, Q(bk->value), close ? " (did you mean '" : "",
				      close ? close : "", close ? "'?)" : "", joined ? joined : "");
			invalid = true;
		}
	}

	name = fl_params_take(p, "name");
	if (name && !valid_ident(name->value))
		fl_errors_add(errs, &name->where, "invalid fault name '%s': " IDENT_RULE,
			      Q(name->value));
	if ((name || kind) && dup_str(&f.name, name ? name->value : kind->value) < 0)
		return -ENOMEM;

	on = fl_params_take(p, "on");
	if (on && strcmp(on->value, "local") != 0) {
		if (!lab)
			fl_errors_add(errs, &on->where,
				      "'on' names lab host '%s' but the scenario has no lab",
				      Q(on->value));
		else if (!fl_lab_find_host(lab, on->value))
			unknown_host(errs, &on->where, lab, on->value);
		else if (dup_str(&f.on, on->value) < 0)
			return -ENOMEM;
	}

	at = fl_params_take(p, "at");
	fr = fl_params_take(p, "for");
	if (at)
		check_duration(errs, &at->where, "at", at->value, 0, FL_EXPERIMENT_MAX, &f.at_ns);
	if (!fr)
		fl_errors_add(errs, &p->where, "a fault needs 'for' (how long it lasts)");
	else if (check_duration(errs, &fr->where, "for", fr->value, 1, FL_EXPERIMENT_MAX,
				&f.for_ns) &&
		 f.at_ns + f.for_ns > FL_EXPERIMENT_MAX)
		fl_errors_add(errs, &fr->where, "'at' + 'for' must be at most %s",
			      fl_format_duration(FL_EXPERIMENT_MAX, list, sizeof(list)));

	r = parse_target(p, &f, errs, &any_target);
	if (r < 0)
		return r;
	if (f.backend && f.backend->needs_target && !any_target)
		fl_errors_add(errs, &p->where,
			      "a '%s' fault needs a target: 'target.pid', 'target.name', "
			      "'target.cmdline' or 'target.cgroup'",
			      f.backend->kind);
	if (f.backend && f.backend->parse) {
		_cleanup_free_ bool *used0 = calloc(p->n + 1, sizeof(bool));
		size_t n1 = errs->n;

		for (size_t i = 0; used0 && i < p->n; i++)
			used0[i] = p->v[i].used;
		r = f.backend->parse(&f, p, errs);
		/* -EOPNOTSUPP: valid, but beyond this backend (netem and ingress) */
		if (r == -EOPNOTSUPP)
			r = f.backend_explicit ? -EINVAL :
						 parse_other_backend(&f, p, errs, n1, used0, false);
		/* a key this backend does not know may be the next one's (fuse's 'prefix') */
		else if (r == 0 && !f.backend_explicit && errs->n == n1 && any_unused(p) &&
			 parse_other_backend(&f, p, errs, n1, used0, true) < 0)
			r = 0; /* none knows them all: the unknown keys are reported below */
		if (r < 0 && r != -EINVAL)
			return r;
		invalid = r < 0;
	}

	for (size_t i = 0; i < p->n; i++) {
		const char *cand[ARRAY_SIZE(fault_keys) + 32];
		size_t n = 0;

		if (p->v[i].used)
			continue;
		/* an unknown kind's own keys cannot be judged; target.* can */
		if (!f.backend && strncmp(p->v[i].key, "target.", 7) != 0)
			continue;
		for (size_t j = 0; j < ARRAY_SIZE(fault_keys); j++)
			cand[n++] = fault_keys[j];
		for (const char *const *k = f.backend ? f.backend->keys : NULL; k && *k; k++)
			if (n < ARRAY_SIZE(cand))
				cand[n++] = *k;
		/* a key the backend knows but did not read: it stopped early, and said why */
		if (invalid && in_list(cand, n, p->v[i].key))
			continue;
		unknown_key(errs, &p->v[i].where, p->v[i].key, cand, n);
	}
	if (errs->n > n0 || invalid)
		return -EINVAL;

	for (size_t i = 0; i < p->n; i++) {
		r = fl_params_add(&f.params, p->v[i].key, p->v[i].value, &p->v[i].where);
		if (r < 0)
			return r;
		f.params.v[i].used = p->v[i].used;
	}
	f.params.where = p->where;
	*ret = f;
	f = (struct fl_fault){ 0 };
	return 0;
}

void fl_fault_clear(struct fl_fault *f)
{
	if (!f)
		return;
	if (f->priv && f->backend && f->backend->free_priv)
		f->backend->free_priv(f->priv);
	free(f->name);
	free(f->kind);
	free(f->on);
	fl_selector_free(f->sel);
	free(f->target.name);
	free(f->target.cmdline);
	free(f->target.cgroup);
	free(f->target.netns);
	free(f->target.exec);
	fl_params_clear(&f->params);
	*f = (struct fl_fault){ 0 };
}

const struct fl_lab_host *fl_lab_find_host(const struct fl_lab *lab, const char *name)
{
	for (size_t i = 0; lab && name && i < lab->n_hosts; i++)
		if (lab->hosts[i].name && strcmp(lab->hosts[i].name, name) == 0)
			return &lab->hosts[i];
	return NULL;
}

const struct fl_probe *fl_scenario_find_probe(const struct fl_scenario *s, const char *name)
{
	for (size_t i = 0; s && name && i < s->n_probes; i++)
		if (s->probes[i].name && strcmp(s->probes[i].name, name) == 0)
			return &s->probes[i];
	return NULL;
}

struct fl_scenario *fl_scenario_free(struct fl_scenario *s)
{
	if (!s)
		return NULL;
	if (s->lab) {
		for (size_t i = 0; i < s->lab->n_hosts; i++) {
			free(s->lab->hosts[i].name);
			fl_strv_free(s->lab->hosts[i].run);
			fl_strv_free(s->lab->hosts[i].env);
		}
		free(s->lab->hosts);
		free(s->lab);
	}
	for (size_t i = 0; i < s->n_probes; i++) {
		free(s->probes[i].name);
		free(s->probes[i].from);
		free(s->probes[i].host);
		fl_strv_free(s->probes[i].argv);
		fl_http_spec_free(s->probes[i].http);
	}
	free(s->probes);
	for (size_t i = 0; i < s->n_faults; i++)
		fl_fault_clear(&s->faults[i]);
	free(s->faults);
	fl_hosts_free(s->hosts);
	for (size_t i = 0; i < s->n_stops; i++)
		free(s->stops[i].probe);
	free(s->stops);
	for (size_t i = 0; i < s->n_verify; i++) {
		free(s->verify[i].name);
		free(s->verify[i].from);
		fl_strv_free(s->verify[i].argv);
	}
	free(s->verify);
	free(s->file);
	free(s->dir);
	free(s->name);
	free(s->description);
	free(s);
	return NULL;
}

static void scenario_freep(struct fl_scenario **s)
{
	fl_scenario_free(*s);
}

static void ynode_freep(struct fl_ynode **n)
{
	fl_ynode_free(*n);
}

/* --- the node tree to the model ------------------------------------------------------------ */

struct ctx {
	struct fl_scenario *s;
	struct fl_errors *errs;
	int r; /* a hard failure (-ENOMEM): the result is not trustworthy */
};

static struct fl_where where_of(const struct ctx *c, const struct fl_ynode *n)
{
	return (struct fl_where){ .file = c->s->file, .line = n->line, .col = n->col };
}

#define error_at(c, n, ...)                                 \
	({                                                  \
		struct fl_where _w = where_of(c, n);        \
		fl_errors_add((c)->errs, &_w, __VA_ARGS__); \
	})

static char *xstrdup(struct ctx *c, const char *s)
{
	char *d = strdup(s);

	if (!d)
		c->r = -ENOMEM;
	return d;
}

/* "expected a mapping for 'lab', got 'x'" or "... for each item of 'probes', got a sequence" */
static void type_error(struct ctx *c, const struct fl_ynode *n, const char *want, const char *key,
		       bool item)
{
	const char *of = item ? "each item of " : "";

	if (n->type == FL_YSCALAR && !fl_ynode_is_null(n))
		error_at(c, n, "expected %s for %s'%s', got '%s'", want, of, key, Q(n->value));
	else
		error_at(c, n, "expected %s for %s'%s', got %s", want, of, key,
			 n->type == FL_YSEQ   ? "a sequence"
			 : n->type == FL_YMAP ? "a mapping"
					      : "nothing");
}

static bool key_ok(struct ctx *c, const struct fl_ynode *k)
{
	if (k->type == FL_YSCALAR)
		return true;
	error_at(c, k, "expected a scalar as key, got a %s",
		 k->type == FL_YSEQ ? "sequence" : "mapping");
	return false;
}

static void dup_key(struct ctx *c, const struct fl_ynode *k, unsigned first_line)
{
	error_at(c, k, "duplicate key '%s' (first at line %u)", Q(k->value), first_line);
}

struct field {
	const struct fl_ynode *key, *val;
};

/*
 * Sort a mapping's values into out[] by the known keys; unknown and duplicate keys are errors.
 * A null value counts as an empty mapping. False when m is not a mapping at all.
 */
static bool fields(struct ctx *c, const struct fl_ynode *m, const char *key, bool item,
		   const char *const *keys, size_t n, struct field *out)
{
	memset(out, 0, n * sizeof(*out));
	if (fl_ynode_is_null(m))
		return true;
	if (m->type != FL_YMAP) {
		type_error(c, m, "a mapping", key, item);
		return false;
	}
	for (size_t i = 0; i + 1 < m->n; i += 2) {
		const struct fl_ynode *k = m->child[i];
		size_t j;

		if (!key_ok(c, k))
			continue;
		for (j = 0; j < n && strcmp(keys[j], k->value) != 0; j++)
			;
		if (j == n) {
			struct fl_where w = where_of(c, k);

			unknown_key(c->errs, &w, k->value, keys, n);
		} else if (out[j].key) {
			dup_key(c, k, out[j].key->line);
		} else {
			out[j] = (struct field){ k, m->child[i + 1] };
		}
	}
	return true;
}

#define FIELDS(c, m, key, item, keys, out) fields(c, m, key, item, keys, ARRAY_SIZE(keys), out)

static bool need(struct ctx *c, const struct fl_ynode *m, const struct field *f, const char *key)
{
	if (f->val)
		return true;
	error_at(c, m, "missing required key '%s'", key);
	return false;
}

static const char *scalar(struct ctx *c, const struct field *f)
{
	if (f->val->type == FL_YSCALAR)
		return f->val->value;
	type_error(c, f->val, "a scalar", f->key->value, false);
	return NULL;
}

/* An optional duration: *ret keeps its default when the key is absent. */
static void get_duration(struct ctx *c, const struct field *f, uint64_t min, uint64_t max,
			 uint64_t *ret)
{
	struct fl_where w;
	const char *v;

	if (!f->val || !(v = scalar(c, f)))
		return;
	w = where_of(c, f->val);
	check_duration(c->errs, &w, f->key->value, v, min, max, ret);
}

static void get_port(struct ctx *c, const struct field *f, uint16_t *ret)
{
	struct fl_where w;
	const char *v;

	if (!(v = scalar(c, f)))
		return;
	w = where_of(c, f->val);
	check_port(c->errs, &w, f->key->value, v, ret);
}

static size_t too_many(struct ctx *c, const struct fl_ynode *n, size_t count, size_t max,
		       const char *what)
{
	if (count <= max)
		return count;
	error_at(c, n, "too many %s (%zu, at most %zu)", what, count, max);
	return max;
}

/* A command: a sequence of 1..FL_MAX_ARGS strings. */
static void get_command(struct ctx *c, const struct field *f, char ***ret)
{
	const struct fl_ynode *n = f->val;
	const char *key = f->key->value;
	char what[32];
	size_t count;

	if (n->type != FL_YSEQ) {
		type_error(c, n, "a sequence of strings", key, false);
		return;
	}
	if (n->n == 0) {
		error_at(c, n, "'%s' cannot be empty: it starts with the program to run", key);
		return;
	}
	snprintf(what, sizeof(what), "arguments in '%s'", key);
	count = too_many(c, n, n->n, FL_MAX_ARGS, what);
	for (size_t i = 0; i < count; i++) {
		const struct fl_ynode *a = n->child[i];

		if (a->type != FL_YSCALAR) {
			type_error(c, a, "a string", key, true);
			continue;
		}
		if (strlen(a->value) > FL_MAX_ARG_LEN) {
			error_at(c, a, "an argument of '%s' is too long (%zu bytes, at most %d)",
				 key, strlen(a->value), FL_MAX_ARG_LEN);
			continue;
		}
		if (i == 0 && !*a->value) {
			error_at(c, a, "the program of '%s' cannot be empty", key);
			continue;
		}
		if (fl_strv_push(ret, a->value) < 0)
			c->r = -ENOMEM;
	}
}

static bool valid_env_name(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static void parse_env(struct ctx *c, const struct field *f, char ***ret)
{
	const struct fl_ynode *m = f->val;
	size_t count;

	if (fl_ynode_is_null(m))
		return;
	if (m->type != FL_YMAP) {
		type_error(c, m, "a mapping", "env", false);
		return;
	}
	count = too_many(c, m, m->n / 2, FL_MAX_ARGS, "environment variables");
	for (size_t i = 0; i < count; i++) {
		const struct fl_ynode *k = m->child[2 * i], *v = m->child[2 * i + 1];
		_cleanup_free_ char *kv = NULL;
		size_t j;

		if (!key_ok(c, k))
			continue;
		for (j = 0; j < i; j++)
			if (m->child[2 * j]->type == FL_YSCALAR &&
			    !strcmp(m->child[2 * j]->value, k->value))
				break;
		if (j < i) {
			dup_key(c, k, m->child[2 * j]->line);
			continue;
		}
		if (!valid_env_name(k->value)) {
			error_at(c, k,
				 "invalid environment variable name '%s': use A-Z, a-z, 0-9 and "
				 "'_', "
				 "not starting with a digit",
				 Q(k->value));
			continue;
		}
		if (v->type != FL_YSCALAR) {
			type_error(c, v, "a scalar", k->value, false);
			continue;
		}
		if (strlen(v->value) > FL_MAX_ARG_LEN) {
			error_at(c, v, "'%s' is too long (%zu bytes, at most %d)", Q(k->value),
				 strlen(v->value), FL_MAX_ARG_LEN);
			continue;
		}
		if (asprintf(&kv, "%s=%s", k->value, v->value) < 0 || fl_strv_push(ret, kv) < 0)
			c->r = -ENOMEM;
	}
}

static const char *const host_keys[] = { "run", "env", "restart", "restart_delay", "ready" };
enum { H_RUN, H_ENV, H_RESTART, H_RESTART_DELAY, H_READY };
static const char *const ready_keys[] = { "tcp", "timeout" };
enum { R_TCP, R_TIMEOUT };

static void parse_lab_host(struct ctx *c, const struct fl_ynode *k, const struct fl_ynode *v,
			   struct fl_lab_host *h)
{
	struct field f[ARRAY_SIZE(host_keys)], r[ARRAY_SIZE(ready_keys)];
	const char *s;

	h->name = xstrdup(c, k->value);
	h->where = where_of(c, k);
	h->restart_delay_ns = 200 * NSEC_PER_MSEC;
	h->ready_timeout_ns = 10 * NSEC_PER_SEC;
	if (!fl_valid_name(k->value, FL_HOST_NAME_MAX))
		error_at(c, k,
			 "invalid lab host name '%s': use 1-%d characters of a-z, 0-9 and '-'",
			 Q(k->value), FL_HOST_NAME_MAX);
	else if (!strcmp(k->value, "sw"))
		error_at(c, k, "lab host name 'sw' is reserved for the lab's switch");
	else if (!strcmp(k->value, "local"))
		error_at(c, k, "lab host name 'local' is reserved: it means this host");
	else if (!strcmp(k->value, "switch") || !strcmp(k->value, "localhost"))
		/* both are names in the lab's hosts file */
		error_at(c, k, "lab host name '%s' is reserved: the lab's hosts file uses it",
			 k->value);

	if (!FIELDS(c, v, k->value, false, host_keys, f))
		return;
	if (f[H_RUN].val)
		get_command(c, &f[H_RUN], &h->run);
	if (f[H_ENV].val)
		parse_env(c, &f[H_ENV], &h->env);
	if (f[H_RESTART].val && (s = scalar(c, &f[H_RESTART]))) {
		if (!strcmp(s, "no"))
			h->restart = FL_RESTART_NO;
		else if (!strcmp(s, "on-failure"))
			h->restart = FL_RESTART_ON_FAILURE;
		else if (!strcmp(s, "always"))
			h->restart = FL_RESTART_ALWAYS;
		else
			error_at(c, f[H_RESTART].val,
				 "'restart' must be 'no', 'on-failure' or 'always', got '%s'",
				 Q(s));
	}
	get_duration(c, &f[H_RESTART_DELAY], 0, 3600 * NSEC_PER_SEC, &h->restart_delay_ns);
	if (!f[H_READY].val)
		return;
	if (!f[H_RUN].val)
		error_at(c, f[H_READY].key,
			 "'ready' needs 'run': a host without a service has nothing to wait for");
	if (!FIELDS(c, f[H_READY].val, "ready", false, ready_keys, r))
		return;
	if (need(c, f[H_READY].val, &r[R_TCP], "tcp"))
		get_port(c, &r[R_TCP], &h->ready_port);
	get_duration(c, &r[R_TIMEOUT], 1, FL_TIMEOUT_MAX, &h->ready_timeout_ns);
}

static const char *const lab_keys[] = { "hosts" };

static void parse_lab(struct ctx *c, const struct fl_ynode *n)
{
	struct fl_scenario *s = c->s;
	const struct fl_ynode *m;
	struct field f[1];
	size_t count;

	s->lab = calloc(1, sizeof(*s->lab));
	if (!s->lab) {
		c->r = -ENOMEM;
		return;
	}
	s->lab->where = where_of(c, n);
	if (!FIELDS(c, n, "lab", false, lab_keys, f) || !need(c, n, &f[0], "hosts"))
		return;
	m = f[0].val;
	if (m->type != FL_YMAP && !fl_ynode_is_null(m)) {
		type_error(c, m, "a mapping", "hosts", false);
		return;
	}
	if (m->n == 0) {
		error_at(c, m, "a lab needs at least one host");
		return;
	}
	count = too_many(c, m, m->n / 2, FL_MAX_HOSTS, "lab hosts");
	s->lab->hosts = calloc(count, sizeof(*s->lab->hosts));
	if (!s->lab->hosts) {
		c->r = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < count; i++) {
		const struct fl_ynode *k = m->child[2 * i];
		const struct fl_lab_host *prev;

		if (!key_ok(c, k))
			continue;
		if ((prev = fl_lab_find_host(s->lab, k->value))) {
			dup_key(c, k, prev->where.line);
			continue;
		}
		parse_lab_host(c, k, m->child[2 * i + 1], &s->lab->hosts[s->lab->n_hosts++]);
	}
}

static bool valid_host(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= DNS_NAME_MAX && s[0] != '-' &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_") == n;
}

static const char *const probe_keys[] = { "name", "tcp",   "exec",    "http",  "prometheus",
					  "from", "every", "timeout", "expect" };
enum { P_NAME, P_TCP, P_EXEC, P_HTTP, P_PROM, P_FROM, P_EVERY, P_TIMEOUT, P_EXPECT };
static const char *const tcp_keys[] = { "host", "port" };
enum { TCP_HOST, TCP_PORT };
const char *const fl_metric_names[FL_N_METRICS] = { "success_rate", "latency_p50", "latency_p90",
						    "latency_p95", "latency_p99", "latency_max" };
static const char *const phase_names[FL_N_EXPECT_PHASES] = { "baseline", "faults", "recovery" };
/* the metrics, then "tolerance", then the phases (only at the top of 'expect') */
static const char *const expect_keys[] = { "success_rate", "latency_p50", "latency_p90",
					   "latency_p95",  "latency_p99", "latency_max",
					   "tolerance",	   "baseline",	  "faults",
					   "recovery" };

static void parse_probe_tcp(struct ctx *c, const struct field *tf, struct fl_probe *p)
{
	struct field f[ARRAY_SIZE(tcp_keys)];
	const struct fl_lab *lab = c->s->lab;
	struct in6_addr a;
	const char *v;

	if (!FIELDS(c, tf->val, "tcp", false, tcp_keys, f))
		return;
	if (need(c, tf->val, &f[TCP_HOST], "host") && (v = scalar(c, &f[TCP_HOST]))) {
		struct fl_where w = where_of(c, f[TCP_HOST].val);

		if (inet_pton(AF_INET, v, &a) == 1 || inet_pton(AF_INET6, v, &a) == 1)
			p->host = xstrdup(c, v);
		else if (lab && !p->from_remote && !fl_lab_find_host(lab, v))
			unknown_host(c->errs, &w, lab, v);
		else if ((!lab || p->from_remote) && !valid_host(v))
			error_at(c, f[TCP_HOST].val,
				 "'host' must be an IP address or a host name, got '%s'", Q(v));
		else
			p->host = xstrdup(c, v);
	}
	if (need(c, tf->val, &f[TCP_PORT], "port"))
		get_port(c, &f[TCP_PORT], &p->port);
}

static const char *const http_keys[] = { "url",	     "method",	"headers",    "body",	"status",
					 "contains", "matches", "tls_verify", "ca_file" };
enum { H_URL, H_METHOD, H_HEADERS, H_BODY, H_STATUS, H_CONTAINS, H_MATCHES, H_TLS, H_CA };
static const char *const prom_keys[] = { "url",	    "query",	  "min",    "max",
					 "headers", "tls_verify", "ca_file" };
enum { PR_URL, PR_QUERY, PR_MIN, PR_MAX, PR_HEADERS, PR_TLS, PR_CA };
static const char *const http_methods[] = { "GET",    "HEAD",  "POST",	 "PUT",
					    "DELETE", "PATCH", "OPTIONS" };

/* url: http or https; with a lab, the host is a lab host or an address literal. */
static void get_url(struct ctx *c, const struct field *f, struct fl_http_spec *h, bool prom)
{
	const struct fl_lab *lab = c->s->lab;
	struct in6_addr a;
	bool query;
	const char *v;
	int r;

	if (!(v = scalar(c, f)))
		return;
	if (strlen(v) > FL_URL_MAX) {
		error_at(c, f->val, "'url' is too long (%zu bytes, at most %d)", strlen(v),
			 FL_URL_MAX);
		return;
	}
	r = fl_url_split(v, &h->host, &h->port, &query);
	if (r == -ENOMEM) {
		c->r = r;
		return;
	}
	if (r == -ELIBACC) {
		const char *why = "libcurl";

		fl_curl_load(&why);
		error_at(c, f->val, "cannot check 'url': %s", why);
		return;
	}
	if (r < 0) {
		/* a URL that does not parse has no reliable userinfo to redact: never echo it */
		if (strchr(v, '@'))
			error_at(c, f->val, "'url' must be an http or https URL such as '%s'",
				 prom ? "http://prom:9090" : "http://web/health");
		else
			error_at(c, f->val,
				 "'url' must be an http or https URL such as '%s', got '%s'",
				 prom ? "http://prom:9090" : "http://web/health", Q(v));
		return;
	}
	if (prom && query) {
		error_at(c, f->val,
			 "'url' is the Prometheus server's base URL such as 'http://prom:9090': "
			 "it cannot have a query or fragment");
		return;
	}
	if (lab && inet_pton(AF_INET, h->host, &a) != 1 && inet_pton(AF_INET6, h->host, &a) != 1) {
		struct fl_where w = where_of(c, f->val);

		if (!fl_lab_find_host(lab, h->host)) {
			unknown_host(c->errs, &w, lab, h->host);
			return;
		}
		h->lab_host = true;
	}
	h->url = xstrdup(c, v);
	if (!(h->url_shown = fl_url_redact(v)))
		c->r = -ENOMEM;
}

/* headers: { Name: value }; values are secrets and never appear in a message. */
static void get_headers(struct ctx *c, const struct field *f, struct fl_http_spec *h)
{
	const struct fl_ynode *m = f->val;
	size_t count;

	if (fl_ynode_is_null(m))
		return;
	if (m->type != FL_YMAP) {
		type_error(c, m, "a mapping", "headers", false);
		return;
	}
	count = too_many(c, m, m->n / 2, FL_MAX_HEADERS, "headers");
	h->headers = calloc(count ? count : 1, sizeof(*h->headers));
	if (!h->headers) {
		c->r = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < count; i++) {
		const struct fl_ynode *k = m->child[2 * i], *v = m->child[2 * i + 1];
		struct fl_http_header *hd;
		size_t j, n;

		if (!key_ok(c, k))
			continue;
		n = strlen(k->value);
		if (n == 0 || n > FL_HEADER_NAME_MAX ||
		    strspn(k->value, "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "abcdefghijklmnopqrstuvwxyz") != n) {
			error_at(c, k,
				 "invalid header name '%s': use 1-%d characters of A-Z, a-z, 0-9 "
				 "and !#$%%&'*+-.^_`|~",
				 Q(k->value), FL_HEADER_NAME_MAX);
			continue;
		}
		/* header names are case-insensitive */
		for (j = 0; j < i; j++)
			if (m->child[2 * j]->type == FL_YSCALAR &&
			    !strcasecmp(m->child[2 * j]->value, k->value))
				break;
		if (j < i) {
			dup_key(c, k, m->child[2 * j]->line);
			continue;
		}
		if (v->type != FL_YSCALAR) {
			type_error(c, v, "a scalar", k->value, false);
			continue;
		}
		if (strlen(v->value) > FL_MAX_ARG_LEN) {
			error_at(c, v,
				 "the value of header '%s' is too long (%zu bytes, at most %d)",
				 Q(k->value), strlen(v->value), FL_MAX_ARG_LEN);
			continue;
		}
		for (const char *p = v->value; *p; p++)
			if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f) {
				error_at(c, v,
					 "the value of header '%s' cannot contain control "
					 "characters",
					 Q(k->value));
				goto next;
			}
		hd = &h->headers[h->n_headers++];
		hd->name = xstrdup(c, k->value);
		hd->value = xstrdup(c, v->value);
	next:;
	}
}

static void get_bool(struct ctx *c, const struct field *f, bool *ret)
{
	const char *v;

	if (!f->val || !(v = scalar(c, f)))
		return;
	if (!strcmp(v, "true"))
		*ret = true;
	else if (!strcmp(v, "false"))
		*ret = false;
	else
		error_at(c, f->val, "'%s' must be true or false, got '%s'", f->key->value, Q(v));
}

static void get_ca_file(struct ctx *c, const struct field *f, struct fl_http_spec *h)
{
	const char *v;

	if (!f->val || !(v = scalar(c, f)))
		return;
	if (!*v || strlen(v) > FL_MAX_ARG_LEN) {
		error_at(c, f->val, "'ca_file' must be a path of 1 to %d bytes", FL_MAX_ARG_LEN);
		return;
	}
	/* like services and exec probes: relative to the scenario's directory */
	if (v[0] == '/')
		h->ca_file = xstrdup(c, v);
	else if (asprintf(&h->ca_file, "%s/%s", c->s->dir, v) < 0)
		c->r = -ENOMEM;
}

/* A string of 1..max bytes (contains, query). */
static const char *get_text(struct ctx *c, const struct field *f, size_t max)
{
	const char *v;

	if (!f->val || !(v = scalar(c, f)))
		return NULL;
	if (!*v) {
		error_at(c, f->val, "'%s' cannot be empty", f->key->value);
		return NULL;
	}
	if (strlen(v) > max) {
		error_at(c, f->val, "'%s' is too long (%zu bytes, at most %zu)", f->key->value,
			 strlen(v), max);
		return NULL;
	}
	return v;
}

static void get_status(struct ctx *c, const struct field *f, struct fl_status_set *set)
{
	const struct fl_ynode *n = f->val;
	size_t count = 1;

	if (n->type == FL_YMAP || fl_ynode_is_null(n)) {
		type_error(c, n, "a status code, a class such as '2xx' or a sequence of them",
			   "status", false);
		return;
	}
	if (n->type == FL_YSEQ) {
		if (n->n == 0) {
			error_at(c, n, "'status' cannot be empty");
			return;
		}
		count = too_many(c, n, n->n, FL_MAX_STATUS_ITEMS, "entries in 'status'");
	}
	for (size_t i = 0; i < count; i++) {
		const struct fl_ynode *s = n->type == FL_YSEQ ? n->child[i] : n;

		if (s->type != FL_YSCALAR)
			type_error(c, s, "a status code", "status", true);
		else if (fl_status_set_add(set, s->value) < 0)
			error_at(c, s,
				 "'status' must be a status code from 100 to 599 or a class such "
				 "as '2xx', got '%s'",
				 Q(s->value));
	}
}

static void get_number(struct ctx *c, const struct field *f, double *ret, bool *ret_set)
{
	const char *v;
	char *end;
	double d;

	if (!f->val || !(v = scalar(c, f)))
		return;
	errno = 0;
	d = strtod(v, &end);
	if (end == v || *end || errno || !isfinite(d)) {
		error_at(c, f->val, "'%s' must be a number such as '0.5', got '%s'", f->key->value,
			 Q(v));
		return;
	}
	*ret = d;
	*ret_set = true;
}

static struct fl_http_spec *new_http_spec(struct ctx *c, struct fl_probe *p)
{
	p->http = calloc(1, sizeof(*p->http));
	if (!p->http) {
		c->r = -ENOMEM;
		return NULL;
	}
	p->http->tls_verify = true;
	return p->http;
}

static void parse_probe_http(struct ctx *c, const struct field *hf, struct fl_probe *p)
{
	struct field f[ARRAY_SIZE(http_keys)];
	struct fl_http_spec *h = new_http_spec(c, p);
	const char *v;
	size_t i;

	if (!h || !FIELDS(c, hf->val, "http", false, http_keys, f))
		return;
	if (need(c, hf->val, &f[H_URL], "url"))
		get_url(c, &f[H_URL], h, false);
	if (f[H_METHOD].val && (v = scalar(c, &f[H_METHOD]))) {
		for (i = 0; i < ARRAY_SIZE(http_methods) && strcmp(v, http_methods[i]); i++)
			;
		if (i == ARRAY_SIZE(http_methods))
			error_at(c, f[H_METHOD].val,
				 "'method' must be GET, HEAD, POST, PUT, DELETE, PATCH or OPTIONS, "
				 "got '%s'",
				 Q(v));
	}
	h->method = xstrdup(c, f[H_METHOD].val && f[H_METHOD].val->type == FL_YSCALAR
				       ? f[H_METHOD].val->value
				       : "GET");
	if (f[H_HEADERS].val)
		get_headers(c, &f[H_HEADERS], h);
	if (f[H_BODY].val && (v = scalar(c, &f[H_BODY]))) {
		if (strlen(v) > FL_HTTP_BODY_MAX)
			error_at(c, f[H_BODY].val, "'body' is too long (%zu bytes, at most %u)",
				 strlen(v), FL_HTTP_BODY_MAX);
		else if (h->method && (!strcmp(h->method, "GET") || !strcmp(h->method, "HEAD")))
			error_at(c, f[H_BODY].key,
				 "a %s request cannot have a 'body': set 'method'", h->method);
		else
			h->body = xstrdup(c, v);
	}
	if (f[H_STATUS].val)
		get_status(c, &f[H_STATUS], &h->status);
	else
		fl_status_set_add_range(&h->status, 200, 399);
	if ((v = get_text(c, &f[H_CONTAINS], FL_MAX_ARG_LEN)))
		h->contains = xstrdup(c, v);
	if (f[H_MATCHES].val && (v = scalar(c, &f[H_MATCHES]))) {
		struct fl_where w = where_of(c, f[H_MATCHES].val);

		if (check_regex(c->errs, &w, "matches", v))
			h->matches = xstrdup(c, v);
	}
	for (i = H_CONTAINS; i <= H_MATCHES; i++)
		if (f[i].val && h->method && !strcmp(h->method, "HEAD"))
			error_at(c, f[i].key, "'%s' needs a response body: a HEAD request has none",
				 http_keys[i]);
	get_bool(c, &f[H_TLS], &h->tls_verify);
	get_ca_file(c, &f[H_CA], h);
}

static void parse_probe_prometheus(struct ctx *c, const struct field *pf, struct fl_probe *p)
{
	struct field f[ARRAY_SIZE(prom_keys)];
	struct fl_http_spec *h = new_http_spec(c, p);
	const char *v;

	if (!h || !FIELDS(c, pf->val, "prometheus", false, prom_keys, f))
		return;
	if (need(c, pf->val, &f[PR_URL], "url"))
		get_url(c, &f[PR_URL], h, true);
	if (need(c, pf->val, &f[PR_QUERY], "query") &&
	    (v = get_text(c, &f[PR_QUERY], FL_QUERY_MAX)))
		h->query = xstrdup(c, v);
	get_number(c, &f[PR_MIN], &h->min, &h->has_min);
	get_number(c, &f[PR_MAX], &h->max, &h->has_max);
	if (h->has_min && h->has_max && h->min > h->max)
		error_at(c, f[PR_MAX].val, "'max' (%g) cannot be less than 'min' (%g)", h->max,
			 h->min);
	if (f[PR_HEADERS].val)
		get_headers(c, &f[PR_HEADERS], h);
	get_bool(c, &f[PR_TLS], &h->tls_verify);
	get_ca_file(c, &f[PR_CA], h);
	h->method = xstrdup(c, "GET");
	fl_status_set_add(&h->status, "200");
}

/* ">= 99%", "99%", "0.99" */
static void get_rate(struct ctx *c, const struct field *f, double *ret)
{
	const char *v = scalar(c, f), *t;
	int r;

	if (!v)
		return;
	t = v;
	if (!strncmp(t, ">=", 2))
		t += 2 + strspn(t + 2, " ");
	r = fl_parse_fraction(t, ret);
	if (r == -ERANGE)
		error_at(c, f->val, "'%s' must be between 0%% and 100%%, got '%s'", f->key->value,
			 Q(v));
	else if (r < 0)
		error_at(c, f->val,
			 "'%s' must be a percentage such as '>= 99%%' or a fraction "
			 "such as '0.99', got '%s'",
			 f->key->value, Q(v));
}

/* "<= 300ms", "300ms" */
static void get_latency(struct ctx *c, const struct field *f, double *ret)
{
	const char *v = scalar(c, f), *t;
	struct fl_where w;
	uint64_t ns = 0;

	if (!v)
		return;
	t = v;
	if (!strncmp(t, "<=", 2))
		t += 2 + strspn(t + 2, " ");
	else if (*t == '<' || *t == '>') {
		error_at(c, f->val, "'%s' is an upper bound: write '<= %s'", f->key->value,
			 Q(t + 1 + (t[1] == '=') + strspn(t + 1 + (t[1] == '='), " ")));
		return;
	}
	w = where_of(c, f->val);
	if (check_duration(c->errs, &w, f->key->value, t, 0, FL_TIMEOUT_MAX, &ns))
		*ret = (double)ns / 1e9;
}

/* One phase's expectations; `nested` allows the phase keys (only at the top of 'expect'). */
static void parse_expect_block(struct ctx *c, const struct fl_ynode *m, const char *key,
			       struct fl_expect *e, bool nested, struct fl_probe *p)
{
	struct field f[ARRAY_SIZE(expect_keys)];
	size_t n = nested ? ARRAY_SIZE(expect_keys) : FL_N_METRICS + 1;

	if (!fields(c, m, key, false, expect_keys, n, f))
		return;
	if (f[FL_M_SUCCESS].val) {
		get_rate(c, &f[FL_M_SUCCESS], &e->threshold[FL_M_SUCCESS]);
		e->set[FL_M_SUCCESS] = true;
	}
	for (int i = FL_M_P50; i < FL_N_METRICS; i++) {
		if (!f[i].val)
			continue;
		get_latency(c, &f[i], &e->threshold[i]);
		e->set[i] = true;
	}
	if (f[FL_N_METRICS].val)
		get_rate(c, &f[FL_N_METRICS], &e->tolerance);
	for (int ph = 0; nested && ph < FL_N_EXPECT_PHASES; ph++) {
		const struct field *pf = &f[FL_N_METRICS + 1 + ph];
		if (!pf->val)
			continue;
		/* the top-level keys are the baseline's: a 'baseline' block adds to them */
		parse_expect_block(c, pf->val, phase_names[ph], &p->expect[ph], false, p);
	}
}

static void parse_probe_expect(struct ctx *c, const struct field *ef, struct fl_probe *p)
{
	parse_expect_block(c, ef->val, "expect", &p->expect[0], true, p);
	p->success_rate = p->expect[0].threshold[FL_M_SUCCESS];
}

static void parse_probe(struct ctx *c, const struct fl_ynode *n, struct fl_probe *p)
{
	struct field f[ARRAY_SIZE(probe_keys)];
	const struct fl_scenario *s = c->s;
	const struct fl_probe *prev;
	const char *v;

	p->where = where_of(c, n);
	p->every_ns = 500 * NSEC_PER_MSEC;
	p->timeout_ns = NSEC_PER_SEC;
	p->success_rate = 1.0;
	/* healthy means every sample succeeds, unless the scenario says otherwise */
	p->expect[0].set[FL_M_SUCCESS] = true;
	p->expect[0].threshold[FL_M_SUCCESS] = 1.0;
	if (n->type != FL_YMAP) {
		type_error(c, n, "a mapping", "probes", true);
		return;
	}
	FIELDS(c, n, "probes", true, probe_keys, f);
	if (need(c, n, &f[P_NAME], "name") && (v = scalar(c, &f[P_NAME]))) {
		if (!valid_ident(v))
			error_at(c, f[P_NAME].val, "invalid probe name '%s': " IDENT_RULE, Q(v));
		else if ((prev = fl_scenario_find_probe(s, v)))
			error_at(c, f[P_NAME].val, "duplicate probe name '%s' (first at line %u)",
				 v, prev->where.line);
		/* kept even when invalid, so stop_when does not report it again as unknown */
		p->name = xstrdup(c, v);
	}
	if (!!f[P_TCP].val + !!f[P_EXEC].val + !!f[P_HTTP].val + !!f[P_PROM].val != 1)
		error_at(c, n,
			 "a probe needs exactly one of 'tcp', 'exec', 'http' or 'prometheus'");
	p->kind = f[P_TCP].val	  ? FL_PROBE_TCP
		  : f[P_HTTP].val ? FL_PROBE_HTTP
		  : f[P_PROM].val ? FL_PROBE_PROMETHEUS
				  : FL_PROBE_EXEC;
	/* from a remote host: its agent resolves the target, which need not be a lab host */
	p->from_remote = f[P_FROM].val && f[P_FROM].val->type == FL_YSCALAR &&
			 fl_hosts_find(s->hosts, f[P_FROM].val->value);
	if (f[P_TCP].val)
		parse_probe_tcp(c, &f[P_TCP], p);
	if (f[P_EXEC].val)
		get_command(c, &f[P_EXEC], &p->argv);
	if (f[P_HTTP].val && !p->http)
		parse_probe_http(c, &f[P_HTTP], p);
	if (f[P_PROM].val && !p->http)
		parse_probe_prometheus(c, &f[P_PROM], p);
	if (f[P_FROM].val && (v = scalar(c, &f[P_FROM]))) {
		struct fl_where w = where_of(c, f[P_FROM].val);

		if (fl_hosts_find(s->hosts, v)) {
			/* a remote host's agent runs it: its `probe` op knows tcp */
			p->from = xstrdup(c, v);
			p->from_remote = true;
			if (!f[P_TCP].val)
				error_at(c, f[P_FROM].val,
					 "'from' a remote host runs 'tcp' probes only (its agent's "
					 "probe operation)");
		} else if (!s->lab)
			error_at(c, f[P_FROM].val, "'from' needs a lab");
		else if (!fl_lab_find_host(s->lab, v))
			unknown_host(c->errs, &w, s->lab, v);
		else
			p->from = xstrdup(c, v);
	}
	get_duration(c, &f[P_EVERY], FL_EVERY_MIN, FL_DURATION_MAX, &p->every_ns);
	get_duration(c, &f[P_TIMEOUT], 1, FL_TIMEOUT_MAX, &p->timeout_ns);
	if (f[P_EXPECT].val)
		parse_probe_expect(c, &f[P_EXPECT], p);
}

static const char *const steady_keys[] = { "baseline", "probes" };

static void parse_steady_state(struct ctx *c, const struct fl_ynode *n)
{
	struct field f[ARRAY_SIZE(steady_keys)];
	struct fl_scenario *s = c->s;
	const struct fl_ynode *seq;
	size_t count;

	if (!FIELDS(c, n, "steady_state", false, steady_keys, f))
		return;
	get_duration(c, &f[0], 0, 3600 * NSEC_PER_SEC, &s->baseline_ns);
	seq = f[1].val;
	if (!seq || fl_ynode_is_null(seq))
		return;
	if (seq->type != FL_YSEQ) {
		type_error(c, seq, "a sequence", "probes", false);
		return;
	}
	count = too_many(c, seq, seq->n, FL_MAX_PROBES, "probes");
	s->probes = calloc(count ? count : 1, sizeof(*s->probes));
	if (!s->probes) {
		c->r = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < count; i++)
		parse_probe(c, seq->child[i], &s->probes[s->n_probes++]);
}

/* target: { exec: [cmd, args...] }: one parameter, the command as a JSON array of strings. */
static void flatten_exec(struct ctx *c, const struct fl_ynode *k, const struct fl_ynode *v,
			 struct fl_params *p)
{
	struct field f = { k, v };
	char **argv = NULL;
	size_t n0 = c->errs->n;
	struct fl_where w = where_of(c, v);
	json_t *a;
	char *text;

	if (find_param(p, "target.exec")) {
		dup_key(c, k, find_param(p, "target.exec")->where.line);
		return;
	}
	get_command(c, &f, &argv);
	if (c->errs->n > n0 || !argv) {
		fl_strv_free(argv);
		return;
	}
	a = json_array();
	for (size_t i = 0; a && argv[i]; i++)
		json_array_append_new(a, json_string(argv[i]));
	text = a ? json_dumps(a, JSON_COMPACT) : NULL;
	if (!text || fl_params_add(p, "target.exec", text, &w) < 0)
		c->r = -ENOMEM;
	free(text);
	json_decref(a);
	fl_strv_free(argv);
}

/* Fault keys that take a list, written as a YAML sequence or comma-separated. */
static const char *const list_keys[] = { "ops", "exclude" };

static bool seq_of_scalars(const char *key, const struct fl_ynode *n)
{
	bool list = false;

	for (size_t i = 0; i < ARRAY_SIZE(list_keys); i++)
		list |= !strcmp(key, list_keys[i]);
	if (!list)
		return false;
	for (size_t i = 0; i < n->n; i++)
		if (n->child[i]->type != FL_YSCALAR || strchr(n->child[i]->value, ','))
			return false;
	return n->n > 0;
}

/* The items of a sequence of scalars joined with commas; NULL (c->r set) without memory. */
static char *join_seq(struct ctx *c, const struct fl_ynode *n)
{
	_cleanup_free_ char **v = calloc(n->n + 1, sizeof(*v));
	char *s;

	if (!v) {
		c->r = -ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < n->n; i++)
		v[i] = n->child[i]->value;
	s = fl_strv_join(v, ",");
	if (!s)
		c->r = -ENOMEM;
	return s;
}

/*
 * A fault's mapping as flat parameters: scalars as they are, a sequence of scalars joined with
 * commas, target.KEY for `target:`.
 */
static void flatten(struct ctx *c, const struct fl_ynode *m, const char *prefix,
		    struct fl_params *p)
{
	const struct fl_ynode *target = NULL;

	for (size_t i = 0; i + 1 < m->n; i += 2) {
		const struct fl_ynode *k = m->child[i], *v = m->child[i + 1];
		_cleanup_free_ char *key = NULL, *joined = NULL;
		struct fl_param *prev;
		struct fl_where w;

		if (!key_ok(c, k))
			continue;
		if (!prefix && !strcmp(k->value, "target")) {
			if (target)
				dup_key(c, k, target->line);
			else if (v->type == FL_YMAP)
				flatten(c, v, "target", p);
			else if (!fl_ynode_is_null(v))
				type_error(c, v, "a mapping", "target", false);
			target = k;
			continue;
		}
		if (!prefix && !strcmp(k->value, "on") && v->type == FL_YMAP)
			continue; /* a selector of remote hosts: fl_selector_take() */
		if (prefix && !strcmp(prefix, "target") && !strcmp(k->value, "exec")) {
			flatten_exec(c, k, v, p);
			continue;
		}
		if (v->type == FL_YSEQ && !prefix && seq_of_scalars(k->value, v)) {
			/* a list of words (disk-error's ops: [open, write]): "open,write" */
			joined = join_seq(c, v);
			if (!joined)
				return;
		} else if (v->type != FL_YSCALAR) {
			type_error(c, v, "a scalar", k->value, false);
			continue;
		}
		if (asprintf(&key, "%s%s%s", prefix ?: "", prefix ? "." : "", k->value) < 0) {
			c->r = -ENOMEM;
			return;
		}
		if ((prev = find_param(p, key))) {
			dup_key(c, k, prev->where.line);
			continue;
		}
		if (p->n >= FAULT_KEYS_MAX) {
			error_at(c, k, "too many keys in a fault (at most %d)", FAULT_KEYS_MAX);
			return;
		}
		w = where_of(c, v);
		if (fl_params_add(p, key, joined ? joined : v->value, &w) < 0) {
			c->r = -ENOMEM;
			return;
		}
	}
}

static void parse_faults(struct ctx *c, const struct fl_ynode *seq)
{
	struct fl_scenario *s = c->s;
	size_t count;

	if (fl_ynode_is_null(seq))
		return;
	if (seq->type != FL_YSEQ) {
		type_error(c, seq, "a sequence", "faults", false);
		return;
	}
	count = too_many(c, seq, seq->n, FL_MAX_FAULTS, "faults");
	s->faults = calloc(count ? count : 1, sizeof(*s->faults));
	if (!s->faults) {
		c->r = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < count && c->r == 0; i++) {
		const struct fl_ynode *n = seq->child[i];
		struct fl_params p = { .where = where_of(c, n) };
		struct fl_fault *f = &s->faults[s->n_faults];
		struct fl_selector *sel = NULL;
		int r;

		if (n->type != FL_YMAP) {
			type_error(c, n, "a mapping", "faults", true);
			continue;
		}
		flatten(c, n, NULL, &p);
		r = fl_selector_take(s->file, n, s->hosts, &p, &sel, c->errs);
		if (r == 0)
			r = fl_fault_from_params(&p, s->lab, f, c->errs);
		fl_params_clear(&p);
		if (r == 0)
			f->sel = sel;
		else
			fl_selector_free(sel);
		if (r == -EINVAL)
			continue;
		if (r < 0) {
			c->r = r;
			break;
		}
		s->n_faults++;
		for (size_t j = 0; j + 1 < s->n_faults; j++) {
			const struct fl_param *np;

			if (strcmp(s->faults[j].name, f->name) != 0)
				continue;
			np = find_param(&f->params, "name");
			if (np)
				fl_errors_add(c->errs, &np->where,
					      "duplicate fault name '%s' (first at line %u)",
					      f->name, s->faults[j].where.line);
			else
				fl_errors_add(c->errs, &f->where,
					      "duplicate fault name '%s' (first at line %u): give "
					      "each fault a 'name'",
					      f->name, s->faults[j].where.line);
			break;
		}
	}
}

static const char *const stop_keys[] = { "probe", "failing_for", "error_rate", "window" };

static void parse_stop_when(struct ctx *c, const struct fl_ynode *seq)
{
	struct fl_scenario *s = c->s;
	size_t count;

	if (fl_ynode_is_null(seq))
		return;
	if (seq->type != FL_YSEQ) {
		type_error(c, seq, "a sequence", "stop_when", false);
		return;
	}
	count = too_many(c, seq, seq->n, FL_MAX_STOPS, "'stop_when' entries");
	s->stops = calloc(count ? count : 1, sizeof(*s->stops));
	if (!s->stops) {
		c->r = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < count; i++) {
		const struct fl_ynode *n = seq->child[i];
		struct fl_stop *st = &s->stops[s->n_stops++];
		struct field f[ARRAY_SIZE(stop_keys)];
		const char *v;

		st->where = where_of(c, n);
		if (n->type != FL_YMAP) {
			type_error(c, n, "a mapping", "stop_when", true);
			continue;
		}
		FIELDS(c, n, "stop_when", true, stop_keys, f);
		if (need(c, n, &f[0], "probe") && (v = scalar(c, &f[0]))) {
			if (fl_scenario_find_probe(s, v)) {
				st->probe = xstrdup(c, v);
			} else {
				const char *cand[FL_MAX_PROBES], *close;
				size_t nc = 0;

				for (size_t j = 0; j < s->n_probes; j++)
					cand[nc++] = s->probes[j].name;
				close = fl_closest(v, cand, nc);
				if (close)
					error_at(c, f[0].val,
						 "unknown probe '%s' (did you mean '%s'?)", Q(v),
						 close);
				else
					error_at(c, f[0].val, "unknown probe '%s'", Q(v));
			}
		}
		if (!!f[1].val == !!f[2].val) {
			error_at(c, n, "a stop condition needs exactly one of 'failing_for' or "
				       "'error_rate'");
		} else if (f[1].val) {
			get_duration(c, &f[1], 1, FL_DURATION_MAX, &st->failing_for_ns);
			if (f[3].val)
				error_at(c, f[3].key, "'window' goes with 'error_rate', not "
						      "'failing_for'");
		} else {
			const char *ev = scalar(c, &f[2]);
			if (ev) {
				const char *t = ev + (*ev == '>' ? 1 + (ev[1] == '=') : 0);
				t += strspn(t, " ");
				int r = fl_parse_fraction(t, &st->error_rate);
				if (r < 0 || st->error_rate <= 0.0)
					error_at(c, f[2].val,
						 "'error_rate' must be a share above 0 such as "
						 "'> 50%%', got '%s'",
						 Q(ev));
			}
			st->window_ns = 10 * NSEC_PER_SEC;
			get_duration(c, &f[3], 1, FL_DURATION_MAX, &st->window_ns);
		}
	}
}

static const char *const recovery_keys[] = { "within", "healthy_for" };

static void parse_recovery(struct ctx *c, const struct fl_ynode *n)
{
	struct field f[ARRAY_SIZE(recovery_keys)];

	if (!FIELDS(c, n, "recovery", false, recovery_keys, f))
		return;
	get_duration(c, &f[0], 0, FL_DURATION_MAX, &c->s->recovery_within_ns);
	get_duration(c, &f[1], 1, FL_DURATION_MAX, &c->s->recovery_healthy_for_ns);
}

static const char *const verify_keys[] = { "name", "exec", "from", "timeout" };
enum { V_NAME, V_EXEC, V_FROM, V_TIMEOUT };

static void parse_verify_step(struct ctx *c, const struct fl_ynode *n, struct fl_verify *v)
{
	struct field f[ARRAY_SIZE(verify_keys)];
	const struct fl_scenario *s = c->s;
	const char *x;

	v->where = where_of(c, n);
	v->timeout_ns = 30 * NSEC_PER_SEC;
	if (n->type != FL_YMAP) {
		type_error(c, n, "a mapping", "verify", true);
		return;
	}
	FIELDS(c, n, "verify", true, verify_keys, f);
	if (need(c, n, &f[V_NAME], "name") && (x = scalar(c, &f[V_NAME]))) {
		if (!valid_ident(x))
			error_at(c, f[V_NAME].val, "invalid verify step name '%s': " IDENT_RULE,
				 Q(x));
		for (size_t i = 0; i < s->n_verify - 1; i++)
			if (s->verify[i].name && !strcmp(s->verify[i].name, x))
				error_at(c, f[V_NAME].val,
					 "duplicate verify step name '%s' (first at line %u)", Q(x),
					 s->verify[i].where.line);
		v->name = xstrdup(c, x);
	}
	if (need(c, n, &f[V_EXEC], "exec"))
		get_command(c, &f[V_EXEC], &v->argv);
	if (f[V_FROM].val && (x = scalar(c, &f[V_FROM]))) {
		struct fl_where w = where_of(c, f[V_FROM].val);

		if (!s->lab)
			error_at(c, f[V_FROM].val, "'from' needs a lab");
		else if (!fl_lab_find_host(s->lab, x))
			unknown_host(c->errs, &w, s->lab, x);
		else
			v->from = xstrdup(c, x);
	}
	get_duration(c, &f[V_TIMEOUT], 1, FL_TIMEOUT_MAX, &v->timeout_ns);
}

static void parse_verify(struct ctx *c, const struct fl_ynode *seq)
{
	struct fl_scenario *s = c->s;
	size_t count;

	if (fl_ynode_is_null(seq))
		return;
	if (seq->type != FL_YSEQ) {
		type_error(c, seq, "a sequence", "verify", false);
		return;
	}
	count = too_many(c, seq, seq->n, FL_MAX_VERIFY, "'verify' steps");
	s->verify = calloc(count ? count : 1, sizeof(*s->verify));
	if (!s->verify) {
		c->r = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < count; i++) {
		s->n_verify++;
		parse_verify_step(c, seq->child[i], &s->verify[i]);
	}
}

static const char *const top_keys[] = {
	"version", "name",	   "description", "seed",      "hosts",
	"lab",	   "steady_state", "faults",	  "stop_when", "recovery",
	"fanout",  "verify",
};
enum {
	T_VERSION,
	T_NAME,
	T_DESCRIPTION,
	T_SEED,
	T_HOSTS,
	T_LAB,
	T_STEADY,
	T_FAULTS,
	T_STOP,
	T_RECOVERY,
	T_FANOUT,
	T_VERIFY,
};

static void parse_scenario(struct ctx *c, const struct fl_ynode *root)
{
	struct field f[ARRAY_SIZE(top_keys)];
	struct fl_scenario *s = c->s;
	const char *v;

	if (!root || fl_ynode_is_null(root)) {
		struct fl_where w = { .file = s->file, .line = 1, .col = 1 };

		fl_errors_add(c->errs, &w, "empty scenario: expected a mapping with 'version: 1'");
		return;
	}
	if (root->type != FL_YMAP) {
		error_at(c, root, "expected a mapping at the top level");
		return;
	}
	FIELDS(c, root, "", false, top_keys, f);
	if (need(c, root, &f[T_VERSION], "version") && (v = scalar(c, &f[T_VERSION]))) {
		if (strcmp(v, "1") != 0) {
			/* a newer schema: the rest cannot be judged by this one */
			error_at(c, f[T_VERSION].val,
				 "unsupported version '%s' (this faultline reads version 1)", Q(v));
			return;
		}
		s->version = 1;
	}
	if (need(c, root, &f[T_NAME], "name") && (v = scalar(c, &f[T_NAME]))) {
		if (!valid_ident(v))
			error_at(c, f[T_NAME].val, "invalid scenario name '%s': " IDENT_RULE, Q(v));
		else
			s->name = xstrdup(c, v);
	}
	if (f[T_DESCRIPTION].val && (v = scalar(c, &f[T_DESCRIPTION]))) {
		if (strlen(v) > DESCRIPTION_MAX)
			error_at(c, f[T_DESCRIPTION].val,
				 "'description' is too long (%zu bytes, at most %d)", strlen(v),
				 DESCRIPTION_MAX);
		else
			s->description = xstrdup(c, v);
	}
	if (f[T_SEED].val && (v = scalar(c, &f[T_SEED]))) {
		if (fl_parse_uint(v, UINT64_MAX, &s->seed) < 0)
			error_at(c, f[T_SEED].val,
				 "'seed' must be a number from 0 to %llu, got '%s'",
				 (unsigned long long)UINT64_MAX, Q(v));
		else
			s->seed_set = true;
	}
	/* the lab first: probes, faults and remote hosts refer to its hosts */
	if (f[T_LAB].val)
		parse_lab(c, f[T_LAB].val);
	if (f[T_HOSTS].val || f[T_FANOUT].val) {
		int r = fl_hosts_parse(s->file, s->dir, f[T_HOSTS].val, f[T_FANOUT].val, s->lab,
				       &s->hosts, c->errs);
		if (r < 0)
			c->r = r;
	}
	if (f[T_STEADY].val)
		parse_steady_state(c, f[T_STEADY].val);
	if (f[T_FAULTS].val)
		parse_faults(c, f[T_FAULTS].val);
	if (f[T_STOP].val)
		parse_stop_when(c, f[T_STOP].val);
	if (f[T_RECOVERY].val)
		parse_recovery(c, f[T_RECOVERY].val);
	if (f[T_VERIFY].val)
		parse_verify(c, f[T_VERIFY].val);
}

struct ordered {
	struct fl_diag d;
	size_t i;
};

static int cmp_ordered(const void *a, const void *b)
{
	const struct ordered *x = a, *y = b;

	if (x->d.line != y->d.line)
		return x->d.line < y->d.line ? -1 : 1;
	if (x->d.col != y->d.col)
		return x->d.col < y->d.col ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Errors in the order of the file, however the checks ran. */
static void sort_errors(struct fl_errors *e, size_t from)
{
	size_t n = e->n - from;
	_cleanup_free_ struct ordered *v = NULL;

	if (n < 2 || !(v = calloc(n, sizeof(*v))))
		return;
	for (size_t i = 0; i < n; i++)
		v[i] = (struct ordered){ e->v[from + i], i };
	qsort(v, n, sizeof(*v), cmp_ordered);
	for (size_t i = 0; i < n; i++)
		e->v[from + i] = v[i].d;
}

static int load(const char *file, const char *dir, const char *buf, size_t len,
		struct fl_scenario **ret, struct fl_errors *errs)
{
	_cleanup_(scenario_freep) struct fl_scenario *s = calloc(1, sizeof(*s));
	_cleanup_(ynode_freep) struct fl_ynode *root = NULL;
	struct ctx c = { .s = s, .errs = errs };
	size_t n0 = errs->n;
	int r;

	if (!s || !(s->file = strdup(file)) || !(s->dir = strdup(dir)))
		return -ENOMEM;
	if (len > FL_MAX_FILE_SIZE) {
		struct fl_where w = { .file = s->file };

		fl_errors_add(errs, &w, "scenario is too large (%zu bytes, at most %u)", len,
			      FL_MAX_FILE_SIZE);
		return -EINVAL;
	}
	r = fl_yaml_parse(s->file, buf, len, &root, errs);
	if (r < 0)
		return r;
	s->baseline_ns = 2 * NSEC_PER_SEC;
	s->recovery_within_ns = 30 * NSEC_PER_SEC;
	s->recovery_healthy_for_ns = NSEC_PER_SEC;
	parse_scenario(&c, root);
	if (c.r < 0)
		return c.r;
	sort_errors(errs, n0);
	if (errs->n > n0)
		return -EINVAL;
	*ret = TAKE_PTR(s);
	return 0;
}

int fl_scenario_load_string(const char *name, const char *buf, size_t len, struct fl_scenario **ret,
			    struct fl_errors *errs)
{
	return load(name, ".", buf, len, ret, errs);
}

int fl_scenario_load_file(const char *path, struct fl_scenario **ret, struct fl_errors *errs)
{
	_cleanup_free_ char *buf = NULL, *real = NULL;
	struct fl_where w = { .file = path };
	struct stat st;
	size_t len;
	int r;

	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > FL_MAX_FILE_SIZE) {
		fl_errors_add(errs, &w, "scenario is too large (%lld bytes, at most %u)",
			      (long long)st.st_size, FL_MAX_FILE_SIZE);
		return -EINVAL;
	}
	r = fl_read_file(path, &buf, &len);
	if (r < 0) {
		fl_errors_add(errs, &w, "cannot read the scenario: %s", strerror(-r));
		return r;
	}
	real = realpath(path, NULL);
	if (!real && !(real = strdup(path)))
		return -ENOMEM;
	return load(path, dirname(real), buf, len, ret, errs);
}

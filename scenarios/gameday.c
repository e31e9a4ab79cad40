// SPDX-License-Identifier: GPL-2.0-only
/* Game-day plans: YAML to a validated model, every scenario loaded, the window's arithmetic. */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "inject/util.h"
#include "scenarios/gameday.h"
#include "scenarios/tz.h"
#include "scenarios/yamltree.h"

struct gctx {
	struct fl_gameday *g;
	struct fl_errors *errs;
	int r;
};

static void err_at(struct gctx *c, const struct fl_ynode *n, const char *fmt, ...) _printf_(3, 4);
static void err_at(struct gctx *c, const struct fl_ynode *n, const char *fmt, ...)
{
	struct fl_where w = { .file = c->g->file, .line = n ? n->line : 0, .col = n ? n->col : 0 };
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	fl_errors_add(c->errs, &w, "%s", msg ? msg : "out of memory");
}

static char *gdup(struct gctx *c, const char *s)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		c->r = -ENOMEM;
	return d;
}

static const char *kind_of(const struct fl_ynode *n)
{
	return n->type == FL_YSEQ ? "a sequence" : n->type == FL_YMAP ? "a mapping" : "a scalar";
}

/*
 * A mapping's values by known key into out[]; unknown keys (with a "did you mean"), duplicates
 * and a non-mapping are errors. False when n is not a mapping.
 */
static bool map_fields(struct gctx *c, const struct fl_ynode *n, const char *what,
		       const char *const *keys, size_t nk, const struct fl_ynode **out)
{
	memset(out, 0, nk * sizeof(*out));
	if (n->type != FL_YMAP) {
		err_at(c, n, "expected a mapping for %s, got %s", what, kind_of(n));
		return false;
	}
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const struct fl_ynode *k = n->child[i];
		const char *hint;
		size_t j;

		if (k->type != FL_YSCALAR) {
			err_at(c, k, "expected a scalar as key in %s", what);
			continue;
		}
		for (j = 0; j < nk && strcmp(keys[j], k->value); j++)
			;
		if (j < nk && out[j]) {
			err_at(c, k, "duplicate key '%s' in %s (first at line %u)", k->value, what,
			       out[j]->line);
		} else if (j < nk) {
			out[j] = n->child[i + 1];
		} else if ((hint = fl_closest(k->value, keys, nk))) {
			err_at(c, k, "unknown key '%s' in %s; did you mean '%s'?", k->value, what,
			       hint);
		} else {
			err_at(c, k, "unknown key '%s' in %s", k->value, what);
		}
	}
	return true;
}
#define MAP_FIELDS(c, n, what, keys, out) map_fields(c, n, what, keys, ARRAY_SIZE(keys), out)

static const char *str_of(struct gctx *c, const struct fl_ynode *n, const char *key)
{
	if (!n)
		return NULL;
	if (n->type != FL_YSCALAR || fl_ynode_is_null(n)) {
		err_at(c, n, "expected a string for '%s', got %s", key,
		       n->type == FL_YSCALAR ? "nothing" : kind_of(n));
		return NULL;
	}
	return n->value;
}

static void duration_of(struct gctx *c, const struct fl_ynode *n, const char *key, uint64_t min,
			uint64_t max, uint64_t *ret)
{
	const char *v = str_of(c, n, key);
	char a[32], b[32];
	uint64_t ns;

	if (!v)
		return;
	if (fl_parse_duration(v, &ns) < 0 || ns < min || ns > max) {
		err_at(c, n,
		       "'%s' must be a duration from %s to %s (like 500ms, 10s, 2m), got '%s'", key,
		       fl_format_duration(min, a, sizeof(a)), fl_format_duration(max, b, sizeof(b)),
		       v);
		return;
	}
	*ret = ns;
}

static void tz_of(struct gctx *c, const struct fl_ynode *n, char **ret)
{
	const char *v = str_of(c, n, "tz");
	char why[256];

	if (!v)
		return;
	if (fl_tz_check(v, why, sizeof(why)) < 0) {
		err_at(c, n, "%s", why);
		return;
	}
	*ret = gdup(c, v);
}

/* "HH:MM" (24:00 allowed as the end of a day). */
static int parse_hhmm(const char *s, unsigned *ret)
{
	unsigned h, m;
	char tail;

	if (strlen(s) != 5 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	    s[2] != ':' || sscanf(s, "%2u:%2u%c", &h, &m, &tail) != 2 || m > 59 || h > 24 ||
	    (h == 24 && m))
		return -EINVAL;
	*ret = h * 60 + m;
	return 0;
}

static void parse_window(struct gctx *c, const struct fl_ynode *n)
{
	static const char *const keys[] = { "days", "from", "to", "tz" };
	const struct fl_ynode *f[ARRAY_SIZE(keys)];
	struct fl_gd_window *w = &c->g->window;
	const char *days, *from, *to;

	if (!MAP_FIELDS(c, n, "'window'", keys, f))
		return;
	w->set = true;
	w->days = 0x7f;
	days = str_of(c, f[0], "days");
	if (days) {
		/* the day-of-week field of a cron expression: mon-fri, sat,sun, 1-5, * */
		_cleanup_free_ char *expr = NULL;
		struct fl_cron cr;
		char why[256];
		unsigned col = 0;

		if (asprintf(&expr, "0 0 * * %s", days) < 0) {
			c->r = -ENOMEM;
			return;
		}
		if (strchr(days, ' ') || fl_cron_parse(expr, &cr, why, sizeof(why), &col) < 0)
			err_at(c, f[0],
			       "'days' must be days of the week like mon-fri, sat,sun or "
			       "*, got '%s'",
			       days);
		else
			w->days = (uint8_t)cr.bits[FL_CRON_DOW];
	}
	from = str_of(c, f[1], "from");
	to = str_of(c, f[2], "to");
	if (!f[1] || !f[2])
		err_at(c, n, "a window needs 'from' and 'to' (\"HH:MM\", local time in 'tz')");
	if (from && parse_hhmm(from, &w->from_min) < 0)
		err_at(c, f[1],
		       "'from' must be a time like \"10:00\" (HH:MM, 00:00-24:00), got "
		       "'%s'",
		       from);
	if (to && parse_hhmm(to, &w->to_min) < 0)
		err_at(c, f[2], "'to' must be a time like \"16:00\" (HH:MM, 00:00-24:00), got '%s'",
		       to);
	else if (from && to && w->from_min == w->to_min)
		err_at(c, f[2], "'to' equals 'from': the window would be empty");
	tz_of(c, f[3], &w->tz);
	if (asprintf(&w->text, "%s %s-%s %s", days ? days : "every day", from ? from : "?",
		     to ? to : "?", w->tz ? w->tz : "UTC") < 0)
		c->r = -ENOMEM;
}

static void parse_schedule(struct gctx *c, const struct fl_ynode *n)
{
	static const char *const keys[] = { "cron", "tz", "overlap" };
	const struct fl_ynode *f[ARRAY_SIZE(keys)];
	struct fl_gameday *g = c->g;
	const char *cron, *overlap;

	if (!MAP_FIELDS(c, n, "'schedule'", keys, f))
		return;
	cron = str_of(c, f[0], "cron");
	if (!f[0])
		err_at(c, n,
		       "a schedule needs 'cron' (5 fields like \"30 10 * * tue\", or @daily)");
	if (cron) {
		char why[256];
		unsigned col = 1;

		if (fl_cron_parse(cron, &g->cron, why, sizeof(why), &col) < 0) {
			struct fl_where w = { .file = g->file,
					      .line = f[0]->line,
					      .col = f[0]->col + col - 1 };
			/* a quoted scalar starts one column before its text */
			if (f[0]->value && !f[0]->plain)
				w.col++;
			fl_errors_add(c->errs, &w, "invalid cron expression '%s': %s", cron, why);
		} else {
			g->has_schedule = true;
			g->cron_expr = gdup(c, cron);
		}
	}
	tz_of(c, f[1], &g->schedule_tz);
	overlap = str_of(c, f[2], "overlap");
	if (overlap && strcmp(overlap, "skip"))
		err_at(c, f[2],
		       "'overlap' must be 'skip' (a run due while the previous one is "
		       "still going is skipped and recorded as missed), got '%s'",
		       overlap);
}

static void parse_guards(struct gctx *c, const struct fl_ynode *n)
{
	static const char *const keys[] = { "stop_on" };
	static const char *const verdicts[] = { "failed", "aborted" };
	const struct fl_ynode *f[ARRAY_SIZE(keys)];
	const struct fl_ynode *seq;

	if (!MAP_FIELDS(c, n, "'guards'", keys, f) || !f[0])
		return;
	seq = f[0];
	if (seq->type != FL_YSEQ) {
		err_at(c, seq, "expected a sequence for 'stop_on' (failed, aborted), got %s",
		       kind_of(seq));
		return;
	}
	c->g->stop_on_failed = c->g->stop_on_aborted = false;
	for (size_t i = 0; i < seq->n; i++) {
		const char *v = str_of(c, seq->child[i], "stop_on");

		if (!v)
			continue;
		if (!strcmp(v, "failed"))
			c->g->stop_on_failed = true;
		else if (!strcmp(v, "aborted"))
			c->g->stop_on_aborted = true;
		else if (fl_closest(v, verdicts, 2))
			err_at(c, seq->child[i],
			       "unknown verdict '%s' in 'stop_on'; did you mean "
			       "'%s'?",
			       v, fl_closest(v, verdicts, 2));
		else
			err_at(c, seq->child[i],
			       "unknown verdict '%s' in 'stop_on' (failed, "
			       "aborted)",
			       v);
	}
}

static bool valid_url(const char *u)
{
	return (!strncmp(u, "http://", 7) && u[7]) || (!strncmp(u, "https://", 8) && u[8]);
}

static void parse_hook(struct gctx *c, const struct fl_ynode *n, struct fl_gd_hook *h)
{
	static const char *const keys[] = { "url", "format", "events" };
	static const char *const evs[] = { "start", "verdict", "end" };
	const struct fl_ynode *f[ARRAY_SIZE(keys)];
	const char *url, *fmt;

	h->events = FL_GD_EV_START | FL_GD_EV_VERDICT | FL_GD_EV_END;
	if (!MAP_FIELDS(c, n, "each item of 'notify'", keys, f))
		return;
	url = str_of(c, f[0], "url");
	if (!f[0])
		err_at(c, n, "a webhook needs 'url'");
	if (url && (!valid_url(url) || strpbrk(url, " \t\r\n")))
		err_at(c, f[0], "'url' must be an http:// or https:// URL, got '%s'", url);
	else
		h->url = gdup(c, url);
	fmt = str_of(c, f[1], "format");
	if (fmt && !strcmp(fmt, "slack"))
		h->slack = true;
	else if (fmt && strcmp(fmt, "json"))
		err_at(c, f[1], "'format' must be json or slack, got '%s'", fmt);
	if (f[2] && f[2]->type != FL_YSEQ) {
		err_at(c, f[2], "expected a sequence for 'events' (start, verdict, end), got %s",
		       kind_of(f[2]));
	} else if (f[2]) {
		h->events = 0;
		for (size_t i = 0; i < f[2]->n; i++) {
			const char *v = str_of(c, f[2]->child[i], "events");
			size_t j;

			for (j = 0; v && j < ARRAY_SIZE(evs) && strcmp(v, evs[j]); j++)
				;
			if (v && j == ARRAY_SIZE(evs))
				err_at(c, f[2]->child[i],
				       "unknown event '%s' (start, verdict, end)", v);
			else if (v)
				h->events |= 1u << j;
		}
	}
}

static void parse_notify(struct gctx *c, const struct fl_ynode *n)
{
	struct fl_gameday *g = c->g;

	if (n->type != FL_YSEQ) {
		err_at(c, n, "expected a sequence of webhooks for 'notify', got %s", kind_of(n));
		return;
	}
	if (n->n > FL_GD_MAX_HOOKS) {
		err_at(c, n, "too many webhooks (%zu, at most %d)", n->n, FL_GD_MAX_HOOKS);
		return;
	}
	g->hooks = calloc(n->n ? n->n : 1, sizeof(*g->hooks));
	if (!g->hooks) {
		c->r = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < n->n; i++)
		parse_hook(c, n->child[i], &g->hooks[g->n_hooks++]);
}

/* Load the scenario an experiment names, and apply the plan's overrides to it. */
static void load_scenario(struct gctx *c, struct fl_gd_item *it, const struct fl_ynode *at,
			  const struct fl_ynode *const *f)
{
	_cleanup_free_ char *path = NULL;
	struct stat st;
	int r;

	if (it->scenario[0] == '/')
		path = strdup(it->scenario);
	else if (asprintf(&path, "%s/%s", c->g->dir, it->scenario) < 0)
		path = NULL;
	if (!path) {
		c->r = -ENOMEM;
		return;
	}
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
		err_at(c, at, "scenario '%s' not found (looked for %s)", it->scenario, path);
		return;
	}
	size_t before = c->errs->n;

	r = fl_scenario_load_file(path, &it->s, c->errs);
	if (r == -ENOMEM) {
		c->r = r;
		return;
	}
	if (r < 0) {
		err_at(c, at, "scenario '%s' is invalid (%zu problem%s above)", it->scenario,
		       c->errs->n - before, c->errs->n - before == 1 ? "" : "s");
		return;
	}
	if (!it->name)
		it->name = gdup(c, it->s->name);
	/* overrides: what the day may change without editing the scenario */
	if (f[0]) {
		const char *v = str_of(c, f[0], "seed");
		uint64_t seed;

		if (v && fl_parse_uint(v, UINT64_MAX, &seed) < 0)
			err_at(c, f[0], "'seed' must be a non-negative integer, got '%s'", v);
		else if (v)
			it->s->seed = seed, it->s->seed_set = true;
	}
	duration_of(c, f[1], "baseline", 0, 3600 * NSEC_PER_SEC, &it->s->baseline_ns);
	duration_of(c, f[2], "recovery_within", 0, FL_DURATION_MAX, &it->s->recovery_within_ns);
	duration_of(c, f[3], "healthy_for", 1, FL_DURATION_MAX, &it->s->recovery_healthy_for_ns);
}

enum { I_NAME, I_SCENARIO, I_SEED, I_BASELINE, I_RECOVERY, I_HEALTHY, I_ONFAIL, I_WAIT, I_MSG };

static void parse_item(struct gctx *c, const struct fl_ynode *n, struct fl_gd_item *it, size_t idx)
{
	static const char *const keys[] = { "name",	  "scenario",	     "seed",
					    "baseline",	  "recovery_within", "healthy_for",
					    "on_failure", "wait_for",	     "message" };
	const struct fl_ynode *f[ARRAY_SIZE(keys)];
	const char *name, *wait, *scen, *onf;

	it->where = (struct fl_where){ .file = c->g->file, .line = n->line, .col = n->col };
	if (!MAP_FIELDS(c, n, "each item of 'experiments'", keys, f))
		return;
	name = str_of(c, f[I_NAME], "name");
	if (name && !fl_valid_name(name, FL_NAME_MAX))
		err_at(c, f[I_NAME],
		       "'name' must be lowercase letters, digits and '-' (at most "
		       "%d), got '%s'",
		       FL_NAME_MAX, name);
	else
		it->name = gdup(c, name);
	wait = str_of(c, f[I_WAIT], "wait_for");
	if (f[I_WAIT]) {
		it->kind = FL_GD_PAUSE;
		if (wait && strcmp(wait, "operator"))
			err_at(c, f[I_WAIT], "'wait_for' must be 'operator', got '%s'", wait);
		for (int k = I_SCENARIO; k <= I_ONFAIL; k++)
			if (f[k])
				err_at(c, f[k],
				       "'%s' belongs to an experiment, not to a pause "
				       "(wait_for)",
				       keys[k]);
		it->message = gdup(c, str_of(c, f[I_MSG], "message"));
		if (!it->name && asprintf(&it->name, "pause-%zu", idx + 1) < 0)
			c->r = -ENOMEM;
		return;
	}
	it->kind = FL_GD_EXPERIMENT;
	if (f[I_MSG])
		err_at(c, f[I_MSG], "'message' belongs to a pause (wait_for: operator)");
	onf = str_of(c, f[I_ONFAIL], "on_failure");
	if (onf && !strcmp(onf, "continue"))
		it->keep_going = true;
	else if (onf && strcmp(onf, "stop"))
		err_at(c, f[I_ONFAIL], "'on_failure' must be stop or continue, got '%s'", onf);
	scen = str_of(c, f[I_SCENARIO], "scenario");
	if (!f[I_SCENARIO]) {
		err_at(c, n,
		       "an experiment needs 'scenario' (a scenario file), or is a pause "
		       "with 'wait_for: operator'");
		return;
	}
	if (!scen)
		return;
	it->scenario = gdup(c, scen);
	if (it->scenario)
		load_scenario(c, it, f[I_SCENARIO], &f[I_SEED]);
}

static void parse_items(struct gctx *c, const struct fl_ynode *n)
{
	struct fl_gameday *g = c->g;

	if (n->type != FL_YSEQ) {
		err_at(c, n, "expected a sequence for 'experiments', got %s", kind_of(n));
		return;
	}
	if (!n->n || n->n > FL_GD_MAX_ITEMS) {
		err_at(c, n, "'experiments' needs 1 to %d items, got %zu", FL_GD_MAX_ITEMS, n->n);
		return;
	}
	g->items = calloc(n->n, sizeof(*g->items));
	if (!g->items) {
		c->r = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < n->n; i++) {
		parse_item(c, n->child[i], &g->items[g->n_items++], i);
		for (size_t j = 0; j + 1 < g->n_items; j++)
			if (g->items[i].name && g->items[j].name &&
			    !strcmp(g->items[i].name, g->items[j].name))
				err_at(c, n->child[i],
				       "two items are named '%s' (line %u too): "
				       "give one a 'name'",
				       g->items[i].name, g->items[j].where.line);
	}
}

static void parse_plan(struct gctx *c, const struct fl_ynode *root)
{
	static const char *const keys[] = { "version",	 "name",     "description",
					    "window",	 "schedule", "guards",
					    "stop_file", "notify",   "experiments" };
	const struct fl_ynode *f[ARRAY_SIZE(keys)];
	struct fl_gameday *g = c->g;
	const char *v;

	if (!root) {
		struct fl_where w = { .file = g->file };
		fl_errors_add(c->errs, &w, "the plan is empty");
		return;
	}
	if (!MAP_FIELDS(c, root, "the plan", keys, f))
		return;
	v = str_of(c, f[0], "version");
	if (!f[0])
		err_at(c, root, "missing required key 'version' (1)");
	else if (v && strcmp(v, "1"))
		err_at(c, f[0], "unsupported plan version '%s' (this faultline reads version 1)",
		       v);
	v = str_of(c, f[1], "name");
	if (!f[1])
		err_at(c, root, "missing required key 'name'");
	else if (v && !fl_valid_name(v, FL_NAME_MAX))
		err_at(c, f[1],
		       "'name' must be lowercase letters, digits and '-' (at most %d), got "
		       "'%s'",
		       FL_NAME_MAX, v);
	else
		g->name = gdup(c, v);
	g->description = gdup(c, str_of(c, f[2], "description"));
	if (f[3])
		parse_window(c, f[3]);
	if (f[4])
		parse_schedule(c, f[4]);
	if (f[5])
		parse_guards(c, f[5]);
	v = str_of(c, f[6], "stop_file");
	if (v && v[0] != '/')
		err_at(c, f[6], "'stop_file' must be an absolute path, got '%s'", v);
	else
		g->stop_file = gdup(c, v);
	if (f[7])
		parse_notify(c, f[7]);
	if (!f[8])
		err_at(c, root, "missing required key 'experiments'");
	else
		parse_items(c, f[8]);
}

struct fl_gameday *fl_gameday_free(struct fl_gameday *g)
{
	if (!g)
		return NULL;
	for (size_t i = 0; i < g->n_items; i++) {
		free(g->items[i].name);
		free(g->items[i].scenario);
		free(g->items[i].message);
		fl_scenario_free(g->items[i].s);
	}
	for (size_t i = 0; i < g->n_hooks; i++)
		free(g->hooks[i].url);
	free(g->hooks);
	free(g->items);
	free(g->window.tz);
	free(g->window.text);
	free(g->cron_expr);
	free(g->schedule_tz);
	free(g->stop_file);
	free(g->name);
	free(g->description);
	free(g->file);
	free(g->dir);
	free(g);
	return NULL;
}

static void gameday_freep(struct fl_gameday **g)
{
	fl_gameday_free(*g);
}

int fl_gameday_load_string(const char *name, const char *dir, const char *buf, size_t len,
			   struct fl_gameday **ret, struct fl_errors *errs)
{
	_cleanup_(gameday_freep) struct fl_gameday *g = calloc(1, sizeof(*g));
	struct fl_ynode *root = NULL;
	struct gctx c = { .g = g, .errs = errs };
	size_t n0 = errs->n;
	int r;

	if (!g || !(g->file = strdup(name)) || !(g->dir = strdup(dir)))
		return -ENOMEM;
	g->stop_on_failed = g->stop_on_aborted = true;
	if (len > FL_MAX_FILE_SIZE) {
		struct fl_where w = { .file = g->file };
		fl_errors_add(errs, &w, "plan is too large (%zu bytes, at most %u)", len,
			      FL_MAX_FILE_SIZE);
		return -EINVAL;
	}
	r = fl_yaml_parse(g->file, buf, len, &root, errs);
	if (r < 0)
		return r;
	parse_plan(&c, root);
	fl_ynode_free(root);
	if (c.r < 0)
		return c.r;
	if (errs->n > n0)
		return -EINVAL;
	*ret = TAKE_PTR(g);
	return 0;
}

int fl_gameday_load_file(const char *path, struct fl_gameday **ret, struct fl_errors *errs)
{
	_cleanup_free_ char *buf = NULL, *real = NULL;
	struct fl_where w = { .file = path };
	size_t len;
	int r;

	r = fl_read_file(path, &buf, &len);
	if (r < 0) {
		fl_errors_add(errs, &w, "cannot read the plan: %s", strerror(-r));
		return r;
	}
	real = realpath(path, NULL);
	if (!real && !(real = strdup(path)))
		return -ENOMEM;
	return fl_gameday_load_string(path, dirname(real), buf, len, ret, errs);
}

bool fl_gameday_is_plan(const char *path)
{
	_cleanup_free_ char *buf = NULL;
	struct fl_errors errs = { 0 };
	struct fl_ynode *root = NULL;
	bool plan = false;
	size_t len;

	if (fl_read_file(path, &buf, &len) < 0 || len > FL_MAX_FILE_SIZE ||
	    fl_yaml_parse(path, buf, len, &root, &errs) < 0) {
		fl_errors_clear(&errs);
		return false;
	}
	for (size_t i = 0; root && root->type == FL_YMAP && i + 1 < root->n; i += 2)
		plan |= root->child[i]->type == FL_YSCALAR &&
			!strcmp(root->child[i]->value, "experiments");
	fl_ynode_free(root);
	return plan;
}

const struct fl_gd_item *fl_gameday_find(const struct fl_gameday *g, const char *name)
{
	for (size_t i = 0; i < g->n_items; i++)
		if (!strcmp(g->items[i].name, name))
			return &g->items[i];
	return NULL;
}

bool fl_gd_window_open(const struct fl_gd_window *w, time_t now, time_t *ret_next)
{
	struct fl_tz_saved saved;
	time_t wall, day, next = -1;
	struct tm tm;
	bool open;
	unsigned m;

	if (!w->set)
		return true;
	if (fl_tz_push(w->tz, &saved) < 0)
		return false;
	wall = fl_tz_wall(now);
	gmtime_r(&wall, &tm);
	m = (unsigned)(tm.tm_hour * 60 + tm.tm_min);
	if (w->from_min < w->to_min)
		open = (w->days & (1u << tm.tm_wday)) && m >= w->from_min && m < w->to_min;
	else /* spans midnight: the day named is the day it opens */
		open = ((w->days & (1u << tm.tm_wday)) && m >= w->from_min) ||
		       ((w->days & (1u << ((tm.tm_wday + 6) % 7))) && m < w->to_min);
	day = wall - (wall % 86400);
	for (int i = 0; !open && ret_next && i <= 8; i++) {
		time_t cand = day + i * 86400 + (time_t)w->from_min * 60, t[2];
		struct tm dt;
		int n;

		gmtime_r(&cand, &dt);
		if (!(w->days & (1u << dt.tm_wday)))
			continue;
		n = fl_tz_instants(cand, t);
		if (n == 0)
			t[0] = fl_tz_gap_end(cand);
		if (t[0] > now) {
			next = t[0];
			break;
		}
	}
	fl_tz_pop(&saved);
	if (ret_next)
		*ret_next = next;
	return open;
}

uint64_t fl_gd_experiment_bound_ns(const struct fl_scenario *s)
{
	uint64_t end = 0;

	for (size_t i = 0; i < s->n_faults; i++)
		if (s->faults[i].at_ns + s->faults[i].for_ns > end)
			end = s->faults[i].at_ns + s->faults[i].for_ns;
	return s->baseline_ns + end + s->recovery_within_ns;
}

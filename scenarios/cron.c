// SPDX-License-Identifier: GPL-2.0-only
/* 5-field cron: parser with field/column errors, next run in a named zone (DST), OnCalendar=. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "inject/util.h"
#include "scenarios/cron.h"
#include "scenarios/tz.h"

const char *const fl_cron_field_names[FL_CRON_N_FIELDS] = {
	"minute", "hour", "day-of-month", "month", "day-of-week",
};

static const unsigned fld_lo[FL_CRON_N_FIELDS] = { 0, 0, 1, 1, 0 };
static const unsigned fld_hi[FL_CRON_N_FIELDS] = { 59, 23, 31, 12, 7 };
static const char *const month_names[] = { "jan", "feb", "mar", "apr", "may", "jun",
					   "jul", "aug", "sep", "oct", "nov", "dec" };
static const char *const dow_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

static const struct {
	const char *name, *expr;
} macros[] = {
	{ "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" }, { "@monthly", "0 0 1 * *" },
	{ "@weekly", "0 0 * * 0" }, { "@daily", "0 0 * * *" },	  { "@midnight", "0 0 * * *" },
	{ "@hourly", "0 * * * *" },
};

struct cparse {
	const char *expr;
	char *err;
	size_t len;
	unsigned *col;
};

static int fail(struct cparse *p, const char *at, int field, const char *fmt, ...) _printf_(4, 5);
static int fail(struct cparse *p, const char *at, int field, const char *fmt, ...)
{
	unsigned col = (unsigned)(at - p->expr) + 1;
	size_t off = 0;
	va_list ap;

	if (field >= 0)
		off = (size_t)snprintf(p->err, p->len,
				       "%s field at column %u: ", fl_cron_field_names[field], col);
	else
		off = (size_t)snprintf(p->err, p->len, "column %u: ", col);
	if (off < p->len) {
		va_start(ap, fmt);
		vsnprintf(p->err + off, p->len - off, fmt, ap);
		va_end(ap);
	}
	if (p->col)
		*p->col = col;
	return -EINVAL;
}

/* One value: a number or (month, day-of-week) a three-letter name. */
static int value(struct cparse *p, int field, const char **s, unsigned *ret)
{
	const char *start = *s;
	char word[16];
	size_t n = 0;

	if (isdigit((unsigned char)**s)) {
		unsigned long v = 0;

		while (isdigit((unsigned char)**s)) {
			v = v * 10 + (unsigned)(**s - '0');
			if (v > 1000)
				v = 1000;
			(*s)++;
		}
		if (v < fld_lo[field] || v > fld_hi[field])
			return fail(p, start, field, "%lu is out of range %u-%u", v, fld_lo[field],
				    fld_hi[field]);
		*ret = (unsigned)v;
		return 0;
	}
	while (isalpha((unsigned char)**s) && n < sizeof(word) - 1)
		word[n++] = (char)tolower((unsigned char)*(*s)++);
	word[n] = '\0';
	if (!n)
		return fail(p, start, field, "expected a number%s, got '%.8s'",
			    field == FL_CRON_MONTH ? " or a month name (jan..dec)"
			    : field == FL_CRON_DOW ? " or a day name (sun..sat)"
						   : "",
			    *start ? start : "end of expression");
	if (field == FL_CRON_MONTH || field == FL_CRON_DOW) {
		const char *const *names = field == FL_CRON_MONTH ? month_names : dow_names;
		size_t count = field == FL_CRON_MONTH ? 12 : 7;

		for (size_t i = 0; i < count; i++)
			if (!strcmp(word, names[i])) {
				*ret = (unsigned)i + (field == FL_CRON_MONTH ? 1 : 0);
				return 0;
			}
		return fail(p, start, field, "unknown name '%s' (%s)", word,
			    field == FL_CRON_MONTH ? "jan..dec" : "sun..sat");
	}
	return fail(p, start, field, "names are only allowed for month and day-of-week, got '%s'",
		    word);
}

/* One field: a comma list of *, N, A-B, with an optional /STEP. */
static int parse_field(struct cparse *p, int field, const char *s, const char *end,
		       struct fl_cron *c)
{
	c->star[field] = *s == '*';
	while (s < end) {
		const char *item = s;
		unsigned lo, hi, step = 1;
		int r;

		if (*s == ',')
			return fail(p, s, field, "empty list item");
		if (*s == '*') {
			lo = fld_lo[field];
			hi = fld_hi[field] == 7 ? 6 : fld_hi[field];
			s++;
		} else {
			r = value(p, field, &s, &lo);
			if (r < 0)
				return r;
			hi = lo;
			if (*s == '-') {
				const char *at = ++s;

				r = value(p, field, &s, &hi);
				if (r < 0)
					return r;
				if (hi < lo)
					return fail(p, at, field, "range %u-%u is backwards", lo,
						    hi);
			} else if (*s == '/') {
				hi = fld_hi[field]; /* N/S: from N to the end, every S */
			}
		}
		if (*s == '/') {
			const char *at = ++s;
			unsigned long v = 0;

			if (!isdigit((unsigned char)*s))
				return fail(p, at, field, "a step needs a number after '/'");
			while (isdigit((unsigned char)*s)) {
				v = v * 10 + (unsigned)(*s++ - '0');
				if (v > 1000)
					v = 1000;
			}
			if (v < 1 || v > fld_hi[field])
				return fail(p, at, field, "step %lu is out of range 1-%u", v,
					    fld_hi[field]);
			step = (unsigned)v;
		}
		if (s < end && *s != ',')
			return fail(p, s, field, "unexpected '%c' in '%.*s'", *s, (int)(end - item),
				    item);
		for (unsigned v = lo; v <= hi; v += step)
			c->bits[field] |= 1ULL << (field == FL_CRON_DOW && v == 7 ? 0 : v);
		if (s < end && *s == ',') {
			s++;
			if (s == end)
				return fail(p, s - 1, field, "a list cannot end with ','");
		}
	}
	return 0;
}

static const unsigned mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

int fl_cron_parse(const char *expr, struct fl_cron *c, char *err, size_t len, unsigned *ret_col)
{
	struct cparse p = { .expr = expr, .err = err, .len = len, .col = ret_col };
	const char *s = expr, *start[FL_CRON_N_FIELDS + 1], *end[FL_CRON_N_FIELDS + 1];
	int n = 0, r;

	memset(c, 0, sizeof(*c));
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '@') {
		size_t l = strcspn(s, " \t");

		for (size_t i = 0; i < ARRAY_SIZE(macros); i++)
			if (strlen(macros[i].name) == l && !strncasecmp(s, macros[i].name, l)) {
				if (s[l + strspn(s + l, " \t")])
					return fail(&p, s + l + strspn(s + l, " \t"), -1,
						    "nothing may follow %s", macros[i].name);
				return fl_cron_parse(macros[i].expr, c, err, len, NULL);
			}
		return fail(&p, s, -1,
			    "unknown macro '%.*s' (@hourly, @daily, @weekly, @monthly, "
			    "@yearly)",
			    (int)(l > 16 ? 16 : l), s);
	}
	while (*s) {
		if (n == FL_CRON_N_FIELDS)
			return fail(&p, s, -1,
				    "more than 5 fields (minute hour day-of-month month "
				    "day-of-week); seconds and years are not supported");
		start[n] = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		end[n++] = s;
		while (*s == ' ' || *s == '\t')
			s++;
	}
	if (n < FL_CRON_N_FIELDS)
		return fail(&p, s, n,
			    "missing (a cron expression has 5 fields: minute hour "
			    "day-of-month month day-of-week, or @daily and the like)");
	for (int f = 0; f < FL_CRON_N_FIELDS; f++) {
		r = parse_field(&p, f, start[f], end[f], c);
		if (r < 0)
			return r;
	}
	/* a day of month no listed month has (31 in february) can never run unless the
	 * day-of-week alone may match */
	if (!c->star[FL_CRON_DOM] || c->star[FL_CRON_DOW]) {
		unsigned first = 1;
		bool ok = false;

		while (!(c->bits[FL_CRON_DOM] & (1ULL << first)))
			first++;
		for (unsigned m = 1; m <= 12; m++)
			ok |= (c->bits[FL_CRON_MONTH] & (1ULL << m)) && first <= mdays[m - 1];
		if (!ok && (c->star[FL_CRON_DOW] || c->star[FL_CRON_DOM]))
			return fail(&p, start[FL_CRON_DOM], FL_CRON_DOM,
				    "day %u never occurs in the months listed", first);
	}
	return 0;
}

static bool has(const struct fl_cron *c, int f, unsigned v)
{
	return c->bits[f] & (1ULL << v);
}

static bool day_ok(const struct fl_cron *c, const struct tm *tm)
{
	bool dom = has(c, FL_CRON_DOM, (unsigned)tm->tm_mday);
	bool dow = has(c, FL_CRON_DOW, (unsigned)tm->tm_wday);

	if (c->star[FL_CRON_DOM] || c->star[FL_CRON_DOW])
		return dom && dow;
	return dom || dow;
}

/* The first matching wall time >= w (minute aligned, zone-less calendar), or -1 before limit. */
static time_t next_wall(const struct fl_cron *c, time_t w, time_t limit)
{
	struct tm tm;

	while (w < limit) {
		gmtime_r(&w, &tm);
		if (!has(c, FL_CRON_MONTH, (unsigned)tm.tm_mon + 1)) {
			tm.tm_mon++;
			tm.tm_mday = 1;
			tm.tm_hour = tm.tm_min = 0;
		} else if (!day_ok(c, &tm)) {
			tm.tm_mday++;
			tm.tm_hour = tm.tm_min = 0;
		} else if (!has(c, FL_CRON_HOUR, (unsigned)tm.tm_hour)) {
			tm.tm_hour++;
			tm.tm_min = 0;
		} else if (!has(c, FL_CRON_MINUTE, (unsigned)tm.tm_min)) {
			tm.tm_min++;
		} else {
			return w;
		}
		tm.tm_sec = 0;
		w = timegm(&tm);
	}
	return -1;
}

int fl_cron_next(const struct fl_cron *c, const char *tz, time_t after, time_t *ret)
{
	const time_t horizon = 8 * 366 * 86400L, slack = 4 * 3600;
	struct fl_tz_saved saved;
	time_t wall, w, best = -1, limit;
	bool fixed = !c->star[FL_CRON_HOUR];
	int r;

	r = fl_tz_push(tz, &saved);
	if (r < 0)
		return r;
	wall = fl_tz_wall(after);
	limit = wall + horizon;
	/* start a few hours back: after a fall-back the wall clock repeats earlier times */
	w = wall - slack - (wall - slack) % 60;
	for (;;) {
		time_t t[2];
		int n;

		w = next_wall(c, w, limit);
		if (w < 0 || (best >= 0 && w - slack > best + (wall - after)))
			break;
		n = fl_tz_instants(w, t);
		if (n == 0 && fixed) {
			/* in a spring-forward gap: once, when the gap ends */
			t[0] = fl_tz_gap_end(w);
			n = 1;
		}
		for (int i = 0; i < n; i++) {
			if (t[i] > after && (best < 0 || t[i] < best))
				best = t[i];
			if (fixed)
				break; /* a repeated time runs at its first occurrence only */
		}
		w += 60;
	}
	fl_tz_pop(&saved);
	if (best < 0)
		return -ERANGE;
	*ret = best;
	return 0;
}

/* "0,15,30..45": a comma list with runs of three or more as ranges; "*" when all are set. */
static void oc_list(const struct fl_cron *c, int f, char *buf, size_t len, bool names)
{
	unsigned lo = fld_lo[f], hi = f == FL_CRON_DOW ? 6 : fld_hi[f];
	static const char *const dn[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	size_t off = 0;
	bool all = true;

	for (unsigned v = lo; v <= hi; v++)
		all &= has(c, f, v);
	if (all) {
		snprintf(buf, len, "*");
		return;
	}
	buf[0] = '\0';
	for (unsigned v = lo; v <= hi; v++) {
		unsigned e = v;

		if (!has(c, f, v))
			continue;
		while (e + 1 <= hi && has(c, f, e + 1))
			e++;
		if (names)
			off += (size_t)snprintf(buf + off, off < len ? len - off : 0, "%s%s%s%s",
						off ? "," : "", dn[v], e > v ? ".." : "",
						e > v ? dn[e] : "");
		else if (e >= v + 2)
			off += (size_t)snprintf(buf + off, off < len ? len - off : 0, "%s%u..%u",
						off ? "," : "", v, e);
		else
			e = v, off += (size_t)snprintf(buf + off, off < len ? len - off : 0, "%s%u",
						       off ? "," : "", v);
		v = e;
	}
}

int fl_cron_to_oncalendar(const struct fl_cron *c, const char *tz, char out[2][512])
{
	char mi[256], h[128], dom[128], mon[64], dow[64];
	bool or_rule = !c->star[FL_CRON_DOM] && !c->star[FL_CRON_DOW];
	int n;

	oc_list(c, FL_CRON_MINUTE, mi, sizeof(mi), false);
	oc_list(c, FL_CRON_HOUR, h, sizeof(h), false);
	oc_list(c, FL_CRON_DOM, dom, sizeof(dom), false);
	oc_list(c, FL_CRON_MONTH, mon, sizeof(mon), false);
	oc_list(c, FL_CRON_DOW, dow, sizeof(dow), true);
	out[1][0] = '\0';
	if (or_rule) {
		/* cron's OR of the two day fields: one timer line per field */
		n = snprintf(out[0], 512, "*-%s-%s %s:%s:00%s%s", mon, dom, h, mi, tz ? " " : "",
			     tz ? tz : "");
		if (n >= 512)
			return -E2BIG;
		n = snprintf(out[1], 512, "%s *-%s-* %s:%s:00%s%s", dow, mon, h, mi, tz ? " " : "",
			     tz ? tz : "");
	} else {
		n = snprintf(out[0], 512, "%s%s*-%s-%s %s:%s:00%s%s", strcmp(dow, "*") ? dow : "",
			     strcmp(dow, "*") ? " " : "", mon, dom, h, mi, tz ? " " : "",
			     tz ? tz : "");
	}
	return n >= 512 ? -E2BIG : 0;
}

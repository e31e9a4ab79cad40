/* SPDX-License-Identifier: GPL-2.0-only */
/* A game-day plan: experiments (scenario files with overrides) and operator pauses, a time
 * window, a schedule, guards, a kill-switch file and webhooks, validated at load. */
#ifndef FL_GAMEDAY_H
#define FL_GAMEDAY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "scenarios/cron.h"
#include "scenarios/diag.h"
#include "scenarios/scenario.h"

#define FL_GD_MAX_ITEMS 64
#define FL_GD_MAX_HOOKS 8
#define FL_GD_NOTE_MAX 2000 /* bytes of one operator note */

enum fl_gd_kind {
	FL_GD_EXPERIMENT,
	FL_GD_PAUSE, /* wait_for: operator */
};

struct fl_gd_item {
	enum fl_gd_kind kind;
	char *name;	       /* unique in the plan; an experiment defaults to its scenario's */
	char *scenario;	       /* as written (relative to the plan's directory) */
	struct fl_scenario *s; /* loaded, validated, overrides applied */
	char *message;	       /* a pause's text for the operator */
	bool keep_going;       /* on_failure: continue (overrides the plan's guards) */
	struct fl_where where;
};

struct fl_gd_window {
	bool set;
	uint8_t days;		   /* bit 0 = Sunday ... bit 6 = Saturday */
	unsigned from_min, to_min; /* minutes after midnight; to < from spans midnight */
	char *tz;		   /* NULL: UTC */
	char *text;		   /* "mon-fri 10:00-16:00 Europe/Berlin", for messages */
};

enum { FL_GD_EV_START = 1, FL_GD_EV_VERDICT = 2, FL_GD_EV_END = 4 };

struct fl_gd_hook {
	char *url;
	bool slack;	 /* format: slack ({"text": ...}) instead of faultline's JSON */
	unsigned events; /* FL_GD_EV_* */
};

struct fl_gameday {
	char *file, *dir;
	char *name, *description;
	struct fl_gd_item *items;
	size_t n_items;
	struct fl_gd_window window;
	bool has_schedule;
	struct fl_cron cron;
	char *cron_expr;
	char *schedule_tz;		      /* NULL: UTC */
	bool stop_on_failed, stop_on_aborted; /* guards, both by default */
	char *stop_file;		      /* the fleet's kill switch: halt when it exists */
	struct fl_gd_hook *hooks;
	size_t n_hooks;
};

/* Load a plan and every scenario it names: -EINVAL with every problem as file:line:col. */
int fl_gameday_load_file(const char *path, struct fl_gameday **ret, struct fl_errors *errs);
int fl_gameday_load_string(const char *name, const char *dir, const char *buf, size_t len,
			   struct fl_gameday **ret, struct fl_errors *errs);
struct fl_gameday *fl_gameday_free(struct fl_gameday *g);
/* Is the file a game-day plan (a mapping with 'experiments') rather than a scenario? */
bool fl_gameday_is_plan(const char *path);

const struct fl_gd_item *fl_gameday_find(const struct fl_gameday *g, const char *name);

/*
 * Is the window open at now? Always true without a window. When closed and ret_next is not
 * NULL, the next opening (-1 if none within 8 days, which cannot happen for a valid window).
 */
bool fl_gd_window_open(const struct fl_gd_window *w, time_t now, time_t *ret_next);

/* An upper bound of how long one experiment takes: baseline + last fault end + recovery. */
uint64_t fl_gd_experiment_bound_ns(const struct fl_scenario *s);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* Diagnostics: where a value came from (file:line:col or a CLI flag) and collected errors. */
#ifndef FL_DIAG_H
#define FL_DIAG_H

#include <stdio.h>

#include "inject/util.h"

/* Where a value came from. line/col are 1-based; flag is set for CLI input ("--delay"). */
struct fl_where {
	const char *file; /* borrowed; outlives the scenario */
	unsigned line, col;
	const char *flag;
};

struct fl_diag {
	char *text; /* fully formatted: "file:line:col: message" or "--flag: message" */
	unsigned line, col;
};

/* Every error is collected so a user sees all of them at once. */
struct fl_errors {
	struct fl_diag *v;
	size_t n, cap;
};

void fl_errors_add(struct fl_errors *e, const struct fl_where *w, const char *fmt, ...)
	_printf_(3, 4);
void fl_errors_print(const struct fl_errors *e, FILE *f);
void fl_errors_clear(struct fl_errors *e);

/* One scalar parameter of a fault, from YAML ("target.name") or a CLI flag ("--name"). */
struct fl_param {
	char *key;
	char *value;
	struct fl_where where;
	bool used;
};

struct fl_params {
	struct fl_param *v;
	size_t n;
	struct fl_where where; /* of the whole mapping (a fault) or the command line */
};

int fl_params_add(struct fl_params *p, const char *key, const char *value,
		  const struct fl_where *w);
/* Find and mark used; NULL when absent. */
struct fl_param *fl_params_take(const struct fl_params *p, const char *key);
void fl_params_clear(struct fl_params *p);

#endif

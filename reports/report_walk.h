/* SPDX-License-Identifier: GPL-2.0-only */
/* The walk Markdown and HTML reports share, and the emitter each format plugs into it. */
#ifndef FL_REPORT_WALK_H
#define FL_REPORT_WALK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* What a table column holds; a format may align or style each kind its own way. */
enum fl_cell {
	FL_CELL_TEXT,
	FL_CELL_NUM,	/* a number or "–" */
	FL_CELL_RESULT, /* an expectation's pass/fail mark */
};

struct fl_col {
	const char *title;
	enum fl_cell kind;
};

/* How a number in a cell is written. */
enum fl_num {
	FL_NUM_COUNT,	/* "42" */
	FL_NUM_SECONDS, /* "1.250 s" */
	FL_NUM_PERCENT, /* a ratio: "99.5%" */
	FL_NUM_LATENCY, /* fl_fmt_latency(): "12.5 ms" */
};

struct fl_emit;

/*
 * One report format. text(), code() and para() escape what they are given (it may come from the
 * result); section and column titles and the strings below are the writers' own, written as is.
 */
struct fl_emit_ops {
	void (*text)(struct fl_emit *e, const char *s); /* NULL writes nothing */
	void (*code)(struct fl_emit *e, const char *s); /* a code span */
	void (*para)(struct fl_emit *e, const char *cls, const char *s);
	void (*section)(struct fl_emit *e, const char *id, const char *title);
	void (*section_end)(struct fl_emit *e);
	void (*table)(struct fl_emit *e, const struct fl_col *cols, size_t n);
	void (*row)(struct fl_emit *e, const char *cls);    /* cls may be NULL */
	void (*cell)(struct fl_emit *e, enum fl_cell kind); /* e->col cells came before it */
	void (*row_end)(struct fl_emit *e);
	void (*table_end)(struct fl_emit *e);

	/* the parts each format lays out its own way */
	void (*header)(struct fl_emit *e, json_t *res);
	void (*probes)(struct fl_emit *e, json_t *res);

	const char *run_sep;	 /* between the facts of fl_walk_run_facts() */
	const char *pass, *fail; /* an expectation's result cell */
	const char *faults_title, *faults_note;
};

struct fl_emit {
	FILE *f;
	const struct fl_emit_ops *ops;
	/* the open table: its columns, and how many cells of the current row have started */
	const struct fl_col *cols;
	size_t n_cols, col;
};

/* Header, expectations, probes, timeline, faults, lab: the body of a report. */
void fl_report_walk(struct fl_emit *e, json_t *res);

static inline void fl_text(struct fl_emit *e, const char *s)
{
	e->ops->text(e, s);
}

static inline void fl_code(struct fl_emit *e, const char *s)
{
	e->ops->code(e, s);
}

static inline void fl_section(struct fl_emit *e, const char *id, const char *title)
{
	e->ops->section(e, id, title);
}

static inline void fl_section_end(struct fl_emit *e)
{
	e->ops->section_end(e);
}

void fl_table(struct fl_emit *e, const struct fl_col *cols, size_t n);
void fl_table_end(struct fl_emit *e);
void fl_row(struct fl_emit *e, const char *cls);
void fl_row_end(struct fl_emit *e);
/* Start the next cell of the row (closing the one before); its kind is its column's. */
void fl_cell(struct fl_emit *e);
void fl_cell_text(struct fl_emit *e, const char *s);
void fl_cell_code(struct fl_emit *e, const char *s);
/* A numeric cell: v as how says, or "–" when !have. */
void fl_cell_val(struct fl_emit *e, bool have, double v, enum fl_num how);
/* Same, for the number o[key]. */
void fl_cell_num(struct fl_emit *e, json_t *o, const char *key, enum fl_num how);

/* "`RUN` of `FILE`, seed 42, started ..., 4.902 s, exit 0" with the format's separator. */
void fl_walk_run_facts(struct fl_emit *e, json_t *res);
/* What a probe watches: "`host:port`", "`URL` query `Q` from `HOST`" (parts it lacks left out). */
void fl_walk_probe_target(struct fl_emit *e, json_t *p);
/* A probe phase's cells: samples, OK, [errors,] availability, each of pct[], the method. */
void fl_walk_phase_cells(struct fl_emit *e, json_t *phase, bool errors, const char *const *pct,
			 size_t n_pct);

#endif

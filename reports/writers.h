/* SPDX-License-Identifier: GPL-2.0-only */
/* Report writers (JUnit XML, Markdown, HTML) rendered from a result's JSON, never from C state. */
#ifndef FL_WRITERS_H
#define FL_WRITERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum fl_report_format {
	FL_REPORT_JSON,
	FL_REPORT_JUNIT,
	FL_REPORT_MD,
	FL_REPORT_HTML,
	FL_N_REPORT_FORMATS,
};

#define FL_REPORT_ALL ((1u << FL_N_REPORT_FORMATS) - 1)
/* The largest result file `faultline report` reads (a day at 100 samples/s is ~2 GiB; refuse). */
#define FL_REPORT_MAX_INPUT (1024ULL * 1024 * 1024)

/* "json", "junit", "md", "html" (also "xml", "markdown"); -EINVAL for anything else. */
int fl_report_format_parse(const char *name, enum fl_report_format *ret);
const char *fl_report_format_name(enum fl_report_format f);
/* The file `run --out DIR` writes: result.json, junit.xml, report.md, report.html. */
const char *fl_report_file_name(enum fl_report_format f);
/* A comma list ("junit,md") as a mask of 1 << format; on -EINVAL *ret_bad is the bad item. */
int fl_report_format_list(const char *list, unsigned *ret_mask, char **ret_bad);
/* The format a file name implies by its extension (.json .xml .md .html .htm), or -EINVAL. */
int fl_report_format_guess(const char *path, enum fl_report_format *ret);

/*
 * Is doc a result this version renders? 0, or -EINVAL (not a faultline result) or
 * -EPROTONOSUPPORT (a newer schema) with a human reason in *ret_why.
 */
int fl_report_check(json_t *doc, char **ret_why);
/* Read, parse and check a result file ("-" for stdin); a reason on failure. */
int fl_report_load(const char *path, json_t **ret, char **ret_why);

/*
 * Render a result. Deterministic: the same JSON gives the same bytes (no clock, no host, fixed
 * number formats). Missing optional fields are left out, never invented. 0 or -errno.
 */
int fl_report_render(json_t *result, enum fl_report_format f, FILE *out);
int fl_report_render_buf(json_t *result, enum fl_report_format f, char **ret, size_t *ret_len);
/* Render to path, atomically (tmp file, fsync, rename). */
int fl_report_write_file(json_t *result, enum fl_report_format f, const char *path);

int fl_report_json(json_t *result, FILE *out);
int fl_report_junit(json_t *result, FILE *out);
int fl_report_markdown(json_t *result, FILE *out);
int fl_report_html(json_t *result, FILE *out);

/* --- helpers the writers share (reports/writers.c) -------------------------------------- */

const char *fl_j_str(json_t *o, const char *key);	/* the string, or NULL */
bool fl_j_num(json_t *o, const char *key, double *ret); /* integer or real */
bool fl_j_true(json_t *o, const char *key);
json_t *fl_j_arr(json_t *o, const char *key); /* the array, or NULL */

/* An expectation's text with its numbers: "message", else "observed", else "not measured". */
char *fl_expectation_text(json_t *e);
/* Its probe: "probe", else the probe whose name follows "PHASE: " in its name (older results). */
const char *fl_expectation_probe(json_t *e, json_t *result);
/* Its phase: "phase", else the "PHASE:" prefix of its name; NULL if neither. */
const char *fl_expectation_phase(json_t *e, char *buf, size_t len);
/* "recovered_within <= 5 s (tolerance 0.5 s)" from metric/op/threshold/tolerance/unit; NULL. */
char *fl_expectation_rule(json_t *e);
/* A phase's length in seconds from result.phases, or -1 when unknown. */
double fl_phase_length(json_t *result, const char *phase);

/* A short plain-text rendering of any JSON value, e.g. what a backend says it injected. */
char *fl_json_brief(json_t *v);
/* Seconds as text: "0.231 ms", "12.5 ms", "1.25 s" (fixed formats, so goldens are stable). */
const char *fl_fmt_latency(double s, char *buf, size_t len);

/* One fault event, flattened and sorted by time across all faults (for timelines). */
struct fl_event {
	double t;
	const char *fault, *kind, *event, *reason;
	json_t *injected;
	size_t order; /* tie-break: document order */
};
/* All faults' events sorted by t; *ret NULL when there are none. Free with free(). */
size_t fl_fault_events(json_t *result, struct fl_event **ret);

/* The run's timeline: phase boundaries, fault events (with what was injected), each probe's
 * detection and recovery, sorted by t. Plain text; each writer escapes it its own way. */
struct fl_trow {
	double t;
	size_t order;
	const char *subject; /* a fault's or a probe's name; NULL for the run's own phases */
	bool is_probe;
	const char *what; /* "applied", "detects the fault", "faults phase starts", ... */
	char *details;	  /* owned; may be NULL */
};
size_t fl_timeline(json_t *result, struct fl_trow **ret);
void fl_timeline_free(struct fl_trow *v, size_t n);

/* XML/HTML text: & < > " ' as entities; characters XML cannot carry as U+FFFD. */
void fl_put_xml(FILE *f, const char *s);
/* Same, for attribute values: also tab, CR and LF as character references. */
void fl_put_xml_attr(FILE *f, const char *s);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* A game day's combined report (JSON, JUnit, Markdown, HTML) and its webhook notifier. */
#ifndef FL_REPORT_GAMEDAY_H
#define FL_REPORT_GAMEDAY_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "reports/writers.h"

#define FL_GAMEDAY_SCHEMA "faultline.gameday/1"

/*
 * Render a day document (schema faultline.gameday/1: name, status, exit_code, started, ended,
 * timeline[], notes[], experiments[] each with its own faultline.result/1 under "result").
 * Each experiment is rendered by the run writers; the day adds the timeline and the notes.
 */
int fl_gameday_render(json_t *day, enum fl_report_format f, FILE *out);
/* DIR/gameday.json, gameday.xml, gameday.md, gameday.html for the formats in mask. */
const char *fl_gameday_file_name(enum fl_report_format f);
int fl_gameday_write(json_t *day, const char *dir, unsigned mask);

/*
 * Webhooks: posts happen on a background thread; a failure is logged and retried with
 * exponential backoff (0.5 s, 1 s, 2 s, 4 s; 5 attempts), never blocking the caller.
 */
struct fl_notifier;
int fl_notifier_start(struct fl_notifier **ret);
/* Queue a JSON body for url (copied). */
void fl_notifier_post(struct fl_notifier *n, const char *url, const char *body);
/* Wait at most drain_ns for the queue to empty, then stop; returns how many were not delivered. */
size_t fl_notifier_finish(struct fl_notifier *n, uint64_t drain_ns);

#endif

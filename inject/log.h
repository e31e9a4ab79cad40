/* SPDX-License-Identifier: GPL-2.0-only */
/* Logging to stderr with -v/-q levels; library code logs only at debug level. */
#ifndef FL_LOG_H
#define FL_LOG_H

#include "inject/util.h"

enum fl_log_level {
	FL_LOG_ERROR = 0,
	FL_LOG_WARN = 1,
	FL_LOG_INFO = 2,
	FL_LOG_DEBUG = 3,
};

extern int fl_log_level;

void fl_log(int level, const char *fmt, ...) _printf_(2, 3);

/* A status line redrawn in place on a terminal (stderr), cleared by the next log line. */
bool fl_status_enabled(void);
void fl_status(const char *fmt, ...) _printf_(1, 2);
void fl_status_clear(void);

#define log_error(...) fl_log(FL_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) fl_log(FL_LOG_WARN, __VA_ARGS__)
#define log_info(...) fl_log(FL_LOG_INFO, __VA_ARGS__)
#define log_debug(...) fl_log(FL_LOG_DEBUG, __VA_ARGS__)

#endif

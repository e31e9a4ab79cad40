// SPDX-License-Identifier: GPL-2.0-only
/* Logging to stderr: -v/-q levels, timestamps when not a terminal, and a live status line. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "inject/log.h"

int fl_log_level = FL_LOG_INFO;

static int tty = -1;		/* stderr is a terminal */
static bool status_shown;	/* a status line is on screen and must be cleared first */

static bool is_tty(void)
{
	if (tty < 0)
		tty = isatty(STDERR_FILENO);
	return tty;
}

void fl_log(int level, const char *fmt, ...)
{
	static const char *const prefix[] = { "error: ", "warning: ", "", "debug: " };
	char line[1100];
	size_t n = 0;
	va_list ap;

	if (level > fl_log_level)
		return;
	if (is_tty() && status_shown) {
		/* clear the status line; the next fl_status() redraws it below */
		memcpy(line, "\r\033[K", 4);
		n = 4;
		status_shown = false;
	} else if (!is_tty()) {
		/* plain, timestamped lines for logs and CI consoles */
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
		n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ldZ ", ts.tv_nsec / 1000000);
	}
	n += (size_t)snprintf(line + n, sizeof(line) - n, "faultline: %s", prefix[level]);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	n = strlen(line);
	line[n++] = '\n';
	/* one write per line, so lines of concurrent processes never interleave */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

bool fl_status_enabled(void)
{
	return is_tty() && fl_log_level >= FL_LOG_INFO;
}

void fl_status(const char *fmt, ...)
{
	char line[512];
	int n;
	va_list ap;

	if (!fl_status_enabled())
		return;
	memcpy(line, "\r\033[K", 4);
	va_start(ap, fmt);
	n = vsnprintf(line + 4, sizeof(line) - 4, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	n = (int)strlen(line);
	if (write(STDERR_FILENO, line, (size_t)n) >= 0)
		status_shown = true;
}

void fl_status_clear(void)
{
	if (status_shown && write(STDERR_FILENO, "\r\033[K", 4) >= 0)
		status_shown = false;
}

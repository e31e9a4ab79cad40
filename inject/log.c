// SPDX-License-Identifier: GPL-2.0-only
/* Logging to stderr with -v/-q levels. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "inject/log.h"

int fl_log_level = FL_LOG_INFO;

void fl_log(int level, const char *fmt, ...)
{
	static const char *const prefix[] = { "error: ", "warning: ", "", "debug: " };
	char line[1024];
	int n;
	va_list ap;

	if (level > fl_log_level)
		return;
	/* one write per line, so lines of concurrent processes never interleave */
	n = snprintf(line, sizeof(line), "faultline: %s", prefix[level]);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = (int)strlen(line);
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared by cmd_gameday.c and cmd_schedule.c: state paths, time formats, the calendar. */
#ifndef FL_CMD_GAMEDAY_INT_H
#define FL_CMD_GAMEDAY_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cmd/cmd.h"
#include "inject/journal.h"

#define COMMON_OPTS_TEXT                                                         \
	"Common options:\n"                                                      \
	"  --json             print data as JSON on stdout\n"                    \
	"  -v, --verbose      more detail on stderr (repeat for debug)\n"        \
	"  -q, --quiet        errors only\n"                                     \
	"  --state-dir DIR    state location (default $FAULTLINE_STATE_DIR or\n" \
	"                     " FL_STATE_DIR_DEFAULT ")\n"                       \
	"  -h, --help         this help\n"

/* STATE/gameday/LEAF (LEAF NULL: the directory); malloc'd. */
char *fl_gd_state_path(const char *leaf);
/* "2026-11-21T10:41:03.123Z" */
void fl_gd_iso(uint64_t real_ns, char *buf, size_t len);
/* "Mon 2026-11-23 10:00 CET" in zone tz (NULL: UTC) */
void fl_gd_local(time_t t, const char *tz, char *buf, size_t len);

int fl_gd_calendar(const struct fl_cmd *self, int argc, char **argv, struct fl_cli *cli);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* The CLI's shared pieces: the subcommand table, global options, exit codes. */
#ifndef FL_CMD_H
#define FL_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Exit codes (DESIGN.md). Only main() turns results into these. */
enum fl_exit {
	FL_EXIT_OK = 0,	      /* all expectations held */
	FL_EXIT_FAILED = 1,   /* an expectation failed: the CI gate */
	FL_EXIT_USAGE = 2,    /* usage error or invalid scenario */
	FL_EXIT_HOST = 3,     /* this host cannot run it (privilege, kernel feature) */
	FL_EXIT_ABORTED = 4,  /* stop condition, signal, unhealthy baseline; all reverted */
	FL_EXIT_INTERNAL = 5, /* internal error */
};

/* Options every subcommand understands (parsed before the subcommand name or after it). */
struct fl_cli {
	bool json;  /* --json: data on stdout as JSON */
	int verbosity;
	const char *state_dir;
};

enum {
	FL_CMD_NEEDS_ROOT = 1 << 0, /* refuse early with exit 3 when not root */
	FL_CMD_HIDDEN = 1 << 1,	    /* internal helpers, not listed in --help */
};

struct fl_cmd {
	const char *name;
	int (*fn)(int argc, char **argv, struct fl_cli *cli); /* returns an enum fl_exit */
	unsigned flags;
	const char *summary;
	const char *usage; /* full --help text: usage, options, examples */
};

/* The table (cmd/cmdtab.c) and exact lookup with a "did you mean" for typos. */
extern const struct fl_cmd fl_commands[];
extern const size_t fl_n_commands;
const struct fl_cmd *fl_cmd_find(const char *name);
const char *fl_cmd_suggest(const char *name);

/*
 * Parse the options shared by all subcommands out of argv in place (--json, -v, -q,
 * --state-dir DIR, --help), leaving the rest. Returns 1 if --help was seen, 0, or -EINVAL with
 * a message printed.
 */
int fl_cli_common(int *argc, char **argv, struct fl_cli *cli, const struct fl_cmd *cmd);
void fl_cmd_help(const struct fl_cmd *cmd, FILE *f);
/* "faultline CMD: message" on stderr, and a hint to --help; returns FL_EXIT_USAGE. */
int fl_usage_error(const struct fl_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Usage texts that live with their subcommands. */
extern const char cmd_lab_usage[];
extern const char cmd_doctor_usage[];
extern const char cmd_report_usage[];
extern const char cmd_exec_usage[];
extern const char cmd_agent_usage[];
extern const char cmd_gameday_usage[];
extern const char cmd_schedule_usage[];

int cmd_run(int argc, char **argv, struct fl_cli *cli);
int cmd_validate(int argc, char **argv, struct fl_cli *cli);
int cmd_inject(int argc, char **argv, struct fl_cli *cli);
int cmd_status(int argc, char **argv, struct fl_cli *cli);
int cmd_recover(int argc, char **argv, struct fl_cli *cli);
int cmd_doctor(int argc, char **argv, struct fl_cli *cli);
int cmd_lab(int argc, char **argv, struct fl_cli *cli);
int cmd_version(int argc, char **argv, struct fl_cli *cli);
int cmd_report(int argc, char **argv, struct fl_cli *cli);
int cmd_exec(int argc, char **argv, struct fl_cli *cli);
int cmd_agent(int argc, char **argv, struct fl_cli *cli);
int cmd_gameday(int argc, char **argv, struct fl_cli *cli);
int cmd_schedule(int argc, char **argv, struct fl_cli *cli);

#endif

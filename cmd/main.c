// SPDX-License-Identifier: GPL-2.0-only
/* faultline's entry point: global options, subcommand dispatch, the only place exit codes end. */
#include <signal.h>
#include <string.h>

#include "cmd/cmd.h"
#include "inject/util.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: faultline [--version] [--help] COMMAND [ARGS]\n\n"
		   "Chaos experiments for Linux hosts: inject faults, measure recovery, gate CI.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < fl_n_commands; i++)
		if (!(fl_commands[i].flags & FL_CMD_HIDDEN))
			fprintf(f, "  %-10s %s\n", fl_commands[i].name, fl_commands[i].summary);
	fprintf(f, "\nRun 'faultline COMMAND --help' for a command's options and examples.\n"
		   "Exit status: 0 ok, 1 expectation failed, 2 usage or invalid scenario,\n"
		   "3 host cannot run it, 4 aborted (all reverted), 5 internal error.\n");
}

int main(int argc, char **argv)
{
	struct fl_cli cli = { 0 };
	const struct fl_cmd *cmd;
	int r;

	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		usage(stderr);
		return FL_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		if (argc > 2 && (cmd = fl_cmd_find(argv[2]))) {
			fl_cmd_help(cmd, stdout);
			return FL_EXIT_OK;
		}
		usage(stdout);
		return FL_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("faultline %s\n", FL_VERSION);
		return FL_EXIT_OK;
	}
	cmd = fl_cmd_find(argv[1]);
	if (!cmd) {
		const char *hint = fl_cmd_suggest(argv[1]);
		fprintf(stderr, "faultline: '%s' is not a faultline command.", argv[1]);
		if (hint)
			fprintf(stderr, " Did you mean '%s'?", hint);
		fprintf(stderr, "\nSee 'faultline --help'.\n");
		return FL_EXIT_USAGE;
	}
	argc--;
	argv++;
	r = fl_cli_common(&argc, argv, &cli, cmd);
	if (r < 0)
		return FL_EXIT_USAGE;
	if (r > 0) {
		fl_cmd_help(cmd, stdout);
		return FL_EXIT_OK;
	}
	if ((cmd->flags & FL_CMD_NEEDS_ROOT) && geteuid() != 0) {
		fprintf(stderr, "faultline %s: needs root\n", cmd->name);
		return FL_EXIT_HOST;
	}
	r = cmd->fn(argc, argv, &cli);
	if (fflush(stdout) != 0 && r == FL_EXIT_OK)
		r = FL_EXIT_INTERNAL;
	return r;
}

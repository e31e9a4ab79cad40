// SPDX-License-Identifier: GPL-2.0-only
/* `faultline run FILE`: the whole experiment, its result and the CI gate's exit code. */
#include <getopt.h>
#include <jansson.h>
#include <string.h>

#include "cmd/cmd.h"
#include "reports/result.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"

int cmd_run(int argc, char **argv, struct fl_cli *cli)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ 0 },
	};
	const struct fl_cmd *self = fl_cmd_find("run");
	struct fl_run_opts o = { .notify_fd = -1 };
	struct fl_run_result res;
	struct fl_errors errs = { 0 };
	struct fl_scenario *s = NULL;
	const char *seed = NULL;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+o:ns:", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o.out_dir = optarg;
			break;
		case 'n':
			o.dry_run = true;
			break;
		case 's':
			seed = optarg;
			break;
		default:
			return fl_usage_error(self, "unknown or incomplete option '%s'",
					      argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return fl_usage_error(self, optind >= argc ? "give one scenario file"
							   : "give exactly one scenario file");
	r = fl_scenario_load_file(argv[optind], &s, &errs);
	if (r < 0) {
		fl_errors_print(&errs, stderr);
		fl_errors_clear(&errs);
		return FL_EXIT_USAGE;
	}
	if (seed) {
		uint64_t v;
		if (fl_parse_uint(seed, UINT64_MAX, &v) < 0) {
			fl_scenario_free(s);
			return fl_usage_error(self, "--seed must be a non-negative integer, got '%s'",
					      seed);
		}
		s->seed = v;
		s->seed_set = true;
	}
	r = fl_run(s, &o, &res);
	if (r < 0) {
		fprintf(stderr, "faultline run: %s\n", strerror(-r));
		fl_scenario_free(s);
		return FL_EXIT_INTERNAL;
	}
	if (o.dry_run && res.result && res.exit_code == FL_EXIT_OK) {
		if (cli->json)
			json_dumpf(res.result, stdout, JSON_INDENT(2)), putchar('\n');
		else
			fl_run_print_plan(res.result, stdout);
	} else if (res.result) {
		if (cli->json)
			json_dumpf(res.result, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6)),
				putchar('\n');
		else
			fl_result_print_summary(res.result, stdout);
	}
	if (res.exit_code != FL_EXIT_OK && res.reason)
		fprintf(stderr, "faultline run: %s\n", res.reason);
	if (res.result_path && !cli->json)
		printf("result: %s\n", res.result_path);
	r = res.exit_code;
	fl_run_result_clear(&res);
	fl_scenario_free(s);
	return r;
}

// SPDX-License-Identifier: GPL-2.0-only
/* `faultline run FILE`: the whole experiment, its result and the CI gate's exit code. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <string.h>

#include "cmd/cmd.h"
#include "reports/result.h"
#include "reports/writers.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"

/*
 * The reports next to result.json (which the runner always writes: it is what `faultline
 * report` renders from), and the extra JUnit copy CI asked for. Rendered from result.json as
 * stored (numbers rounded as written), exactly as `faultline report` would, so both give the
 * same bytes. A report that cannot be written fails a run that had passed (CI would miss it),
 * and never hides a worse exit code.
 */
static int write_reports(json_t *result, const char *result_path, unsigned formats,
			 const char *junit, bool quiet, int exit_code)
{
	_cleanup_free_ char *dir = result_path ? strdup(result_path) : NULL, *why = NULL;
	char *slash = dir ? strrchr(dir, '/') : NULL;
	json_t *saved = NULL;
	int r;

	/* without result.json (it could not be written) there is no directory to fill, but CI
	 * still gets its JUnit file */
	if (dir && fl_report_load(result_path, &saved, &why) == 0)
		result = saved;
	if (slash)
		*slash = '\0';
	for (int f = 0; dir && f < FL_N_REPORT_FORMATS; f++) {
		_cleanup_free_ char *path = NULL;

		if (f == FL_REPORT_JSON || !(formats & (1u << f)))
			continue;
		if (asprintf(&path, "%s/%s", slash ? dir : ".", fl_report_file_name(f)) < 0)
			path = NULL;
		r = path ? fl_report_write_file(result, f, path) : -ENOMEM;
		if (r < 0) {
			fprintf(stderr, "faultline run: cannot write '%s': %s\n",
				path ? path : fl_report_file_name(f), strerror(-r));
			if (exit_code == FL_EXIT_OK)
				exit_code = FL_EXIT_INTERNAL;
		} else if (f == FL_REPORT_HTML && !quiet) {
			printf("report: %s\n", path);
		}
	}
	if (junit) {
		_cleanup_free_ char *jdir = strdup(junit);
		char *js = jdir ? strrchr(jdir, '/') : NULL;

		/* CI paths like reports/chaos/junit.xml: make the directory */
		if (js && js != jdir) {
			*js = '\0';
			(void)fl_mkdir_p(jdir, 0755);
		}
		r = fl_report_write_file(result, FL_REPORT_JUNIT, junit);
		if (r < 0) {
			fprintf(stderr, "faultline run: cannot write '%s': %s\n", junit,
				strerror(-r));
			if (exit_code == FL_EXIT_OK)
				exit_code = FL_EXIT_INTERNAL;
		}
	}
	json_decref(saved);
	return exit_code;
}

int cmd_run(int argc, char **argv, struct fl_cli *cli)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'F' },
		{ "junit", required_argument, NULL, 'J' },
		{ 0 },
	};
	const struct fl_cmd *self = fl_cmd_find("run");
	struct fl_run_opts o = { .notify_fd = -1 };
	struct fl_run_result res;
	struct fl_errors errs = { 0 };
	struct fl_scenario *s = NULL;
	const char *seed = NULL, *junit = NULL;
	unsigned formats = FL_REPORT_ALL;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:ns:", opts, NULL)) != -1) {
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
		case 'F': {
			_cleanup_free_ char *bad = NULL;
			if (fl_report_format_list(optarg, &formats, &bad) < 0)
				return fl_usage_error(self,
						      "unknown report format '%s' in --format (a "
						      "comma list of json, junit, md, html)",
						      bad ? bad : optarg);
			break;
		}
		case 'J':
			if (!*optarg)
				return fl_usage_error(self, "--junit needs a file name");
			junit = optarg;
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
			json_dumpf(res.result, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10)),
				putchar('\n');
		else
			fl_result_print_summary(res.result, stdout);
	}
	if (res.exit_code != FL_EXIT_OK && res.reason)
		fprintf(stderr, "faultline run: %s\n", res.reason);
	if (res.result_path && !cli->json)
		printf("result: %s\n", res.result_path);
	r = res.exit_code;
	if (!o.dry_run && res.result && (res.result_path || junit)) {
		r = write_reports(res.result, res.result_path, formats, junit, cli->json, r);
	}
	fl_run_result_clear(&res);
	fl_scenario_free(s);
	return r;
}

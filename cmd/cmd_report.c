// SPDX-License-Identifier: GPL-2.0-only
/* `faultline report RESULT.json`: render a saved result again as HTML, Markdown, JUnit or JSON. */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "cmd/cmd.h"
#include "inject/util.h"
#include "reports/writers.h"

const char cmd_report_usage[] =
	"Usage: faultline report RESULT.json [--format html|md|junit|json] [-o FILE]\n"
	"\n"
	"Render a run's result.json again, later or elsewhere (no root needed). The output is\n"
	"the same, byte for byte, as what `faultline run` wrote next to it. RESULT.json may be -\n"
	"for standard input.\n"
	"\n"
	"Options:\n"
	"  -f, --format FMT   html, md (Markdown, the default), junit (JUnit XML) or json;\n"
	"                     without it, -o FILE's extension decides (.html .md .xml .json)\n"
	"  -o, --output FILE  write FILE (atomically) instead of standard output\n"
	"  --json             same as --format json\n"
	"  -h, --help         this help\n"
	"\n"
	"Exit status: 0 rendered, 2 usage error or RESULT.json is not a faultline result,\n"
	"5 the output could not be written.\n"
	"\n"
	"Examples:\n"
	"  faultline report faultline-out/3439da850b4f/result.json --format html -o report.html\n"
	"  faultline report result.json --format md >> \"$GITHUB_STEP_SUMMARY\"\n"
	"  faultline report result.json -o junit.xml\n";

int cmd_report(int argc, char **argv, struct fl_cli *cli)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ 0 },
	};
	const struct fl_cmd *self = fl_cmd_find("report");
	enum fl_report_format fmt = FL_REPORT_MD;
	const char *format = NULL, *output = NULL;
	_cleanup_free_ char *why = NULL, *buf = NULL;
	json_t *res = NULL;
	size_t len;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f:o:", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			format = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		default:
			return fl_usage_error(self, "unknown or incomplete option '%s'",
					      argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return fl_usage_error(self, optind >= argc ? "give one result file"
							   : "give exactly one result file");
	if (format) {
		if (fl_report_format_parse(format, &fmt) < 0)
			return fl_usage_error(self, "unknown format '%s' (html, md, junit or json)",
					      format);
	} else if (cli->json) {
		fmt = FL_REPORT_JSON;
	} else if (output && fl_report_format_guess(output, &fmt) < 0) {
		return fl_usage_error(self, "cannot tell the format from '%s': give --format",
				      output);
	}
	r = fl_report_load(argv[optind], &res, &why);
	if (r < 0) {
		fprintf(stderr, "faultline report: %s\n", why ? why : strerror(-r));
		return FL_EXIT_USAGE;
	}
	r = fl_report_render_buf(res, fmt, &buf, &len);
	json_decref(res);
	if (r < 0) {
		fprintf(stderr, "faultline report: cannot render %s: %s\n",
			fl_report_format_name(fmt), strerror(-r));
		return FL_EXIT_INTERNAL;
	}
	if (output && strcmp(output, "-") != 0) {
		r = fl_write_file_atomic(output, buf, len, 0644);
		if (r < 0) {
			fprintf(stderr, "faultline report: cannot write '%s': %s\n", output,
				strerror(-r));
			return FL_EXIT_INTERNAL;
		}
		return FL_EXIT_OK;
	}
	if (fwrite(buf, 1, len, stdout) != len) {
		fprintf(stderr, "faultline report: cannot write to standard output: %s\n",
			strerror(errno));
		return FL_EXIT_INTERNAL;
	}
	return FL_EXIT_OK;
}

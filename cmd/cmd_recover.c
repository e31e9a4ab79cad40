// SPDX-License-Identifier: GPL-2.0-only
/* `faultline recover ID|--all`: undo exactly what runs left behind. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <string.h>

#include "cmd/cmd.h"
#include "inject/journal.h"
#include "inject/util.h"

int cmd_recover(int argc, char **argv, struct fl_cli *cli)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "grace", required_argument, NULL, 'g' },
		{ 0 },
	};
	const struct fl_cmd *self = fl_cmd_find("recover");
	uint64_t grace = 10 * NSEC_PER_SEC;
	struct fl_run_info *before = NULL;
	size_t n_before = 0;
	json_t *report = NULL;
	bool all = false;
	const char *id = NULL;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+ag:", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			all = true;
			break;
		case 'g':
			if (fl_parse_duration(optarg, &grace) < 0 || grace > 600 * NSEC_PER_SEC)
				return fl_usage_error(self, "--grace must be a duration up to 10m, "
							    "got '%s'", optarg);
			break;
		default:
			return fl_usage_error(self, "unknown or incomplete option '%s'",
					      argv[optind - 1]);
		}
	}
	if (optind < argc)
		id = argv[optind++];
	if (optind < argc)
		return fl_usage_error(self, "unexpected argument '%s'", argv[optind]);
	if (!id == !all)
		return fl_usage_error(self, "give a run id, RUN_ID/FAULT, or --all");

	fl_journal_list(&before, &n_before);
	r = fl_journal_recover(id, grace, &report);
	if (r == -ENOENT && id) {
		fl_run_info_free(before, n_before);
		fprintf(stderr, "faultline recover: no run '%s' in the journal (%s)\n", id,
			fl_state_dir());
		return FL_EXIT_USAGE;
	}
	if (r == -EINVAL) {
		fl_run_info_free(before, n_before);
		return fl_usage_error(self, "'%s' is not a run id or RUN_ID/FAULT", id);
	}
	if (cli->json) {
		json_t *o = json_pack("{s:b, s:i, s:O}", "ok", r == 0, "runs", (int)n_before,
				      "errors", report);
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	} else if (r == 0) {
		if (n_before == 0)
			printf("nothing to recover\n");
		for (size_t i = 0; i < n_before; i++)
			if (!id || strncmp(id, before[i].id, strlen(before[i].id)) == 0)
				printf("recovered %s (%s, %zu fault record(s)%s)\n", before[i].id,
				       json_string_value(json_object_get(before[i].run, "kind")),
				       json_array_size(before[i].faults),
				       before[i].lab ? ", lab removed" : "");
	} else {
		json_t *e;
		size_t i;
		json_array_foreach(report, i, e)
			fprintf(stderr, "faultline recover: %s: %s\n",
				json_string_value(json_object_get(e, "object")),
				json_string_value(json_object_get(e, "error")));
		fprintf(stderr, "faultline recover: incomplete (%s); the records are kept, "
				"run it again once fixed\n", strerror(-r));
	}
	json_decref(report);
	fl_run_info_free(before, n_before);
	return r == 0 ? FL_EXIT_OK : FL_EXIT_INTERNAL;
}

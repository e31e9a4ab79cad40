// SPDX-License-Identifier: GPL-2.0-only
/* `faultline validate FILE...`: check scenarios without touching the host. */
#include <jansson.h>

#include "cmd/cmd.h"
#include "scenarios/gameday.h"
#include "scenarios/scenario.h"

/* A game-day plan (faultline gameday): the plan and every scenario it names. */
static int validate_plan(const char *path, json_t *ej, bool quiet)
{
	struct fl_errors errs = { 0 };
	struct fl_gameday *g = NULL;
	size_t pauses = 0;
	int r = fl_gameday_load_file(path, &g, &errs);

	for (size_t k = 0; k < errs.n; k++)
		json_array_append_new(ej, json_string(errs.v[k].text));
	if (r < 0 && !quiet)
		fl_errors_print(&errs, stderr);
	for (size_t k = 0; g && k < g->n_items; k++)
		pauses += g->items[k].kind == FL_GD_PAUSE;
	if (r >= 0 && !quiet)
		printf("%s: ok (game day: %zu experiments, %zu operator pauses%s)\n", path,
		       g->n_items - pauses, pauses, g->has_schedule ? ", scheduled" : "");
	fl_errors_clear(&errs);
	fl_gameday_free(g);
	return r;
}

int cmd_validate(int argc, char **argv, struct fl_cli *cli)
{
	const struct fl_cmd *self = fl_cmd_find("validate");
	json_t *out = json_array();
	int ret = FL_EXIT_OK;

	if (argc < 2) {
		json_decref(out);
		return fl_usage_error(self, "give at least one scenario file");
	}
	for (int i = 1; i < argc; i++) {
		struct fl_errors errs = { 0 };
		struct fl_scenario *s = NULL;
		json_t *ej = json_array();
		int r;

		if (fl_gameday_is_plan(argv[i])) {
			r = validate_plan(argv[i], ej, cli->json);
			if (r < 0)
				ret = FL_EXIT_USAGE;
			json_array_append_new(out, json_pack("{s:s, s:b, s:o}", "file", argv[i],
							     "ok", r >= 0, "errors", ej));
			continue;
		}
		r = fl_scenario_load_file(argv[i], &s, &errs);
		for (size_t k = 0; k < errs.n; k++)
			json_array_append_new(ej, json_string(errs.v[k].text));
		if (r < 0) {
			ret = FL_EXIT_USAGE;
			if (!cli->json)
				fl_errors_print(&errs, stderr);
		} else if (!cli->json) {
			printf("%s: ok (%zu lab hosts, %zu probes, %zu faults)\n", argv[i],
			       s->lab ? s->lab->n_hosts : 0, s->n_probes, s->n_faults);
		}
		json_array_append_new(out, json_pack("{s:s, s:b, s:o}", "file", argv[i], "ok",
						     r >= 0, "errors", ej));
		fl_errors_clear(&errs);
		fl_scenario_free(s);
	}
	if (cli->json)
		json_dumpf(out, stdout, JSON_INDENT(2)), putchar('\n');
	json_decref(out);
	return ret;
}

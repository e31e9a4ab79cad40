// SPDX-License-Identifier: GPL-2.0-only
/* `faultline status`: what the journal says is active or left behind. */
#include <jansson.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "inject/hostscan.h"
#include "inject/journal.h"

/* The kernel objects section: each object, its run, and for an untracked one its removal. */
static void print_objects(json_t *objs)
{
	size_t i, untracked = 0;
	json_t *o;

	if (!json_array_size(objs)) {
		printf("kernel objects: none of faultline's found\n");
		return;
	}
	printf("kernel objects:\n");
	json_array_foreach(objs, i, o) {
		bool tracked = json_is_true(json_object_get(o, "tracked"));
		const char *ns = json_string_value(json_object_get(o, "netns"));
		const char *run = json_string_value(json_object_get(o, "run_id"));

		printf("  %-9s %-9s %s%s%s%s%s\n", tracked ? "tracked" : "UNTRACKED",
		       json_string_value(json_object_get(o, "type")),
		       json_string_value(json_object_get(o, "what")),
		       ns && strcmp(json_string_value(json_object_get(o, "type")), "netns")
			       ? " in netns "
			       : "",
		       ns && strcmp(json_string_value(json_object_get(o, "type")), "netns") ? ns
											 : "",
		       run ? ", run " : "", run ?: "");
		if (!tracked) {
			printf("            remove with: %s\n",
			       json_string_value(json_object_get(o, "remove")));
			untracked++;
		}
	}
	if (untracked)
		printf("%zu untracked: left by a run whose state directory is gone (no record in "
		       "%s); faultline does not remove them by itself, remove each with the "
		       "command shown\n",
		       untracked, fl_state_dir());
}

int cmd_status(int argc, char **argv, struct fl_cli *cli)
{
	struct fl_run_info *v = NULL;
	size_t n = 0;
	json_t *runs, *kobjs = NULL;
	int r;

	if (argc > 1)
		return fl_usage_error(fl_cmd_find("status"), "unexpected argument '%s'", argv[1]);
	r = fl_journal_list(&v, &n);
	if (r < 0) {
		fprintf(stderr, "faultline status: cannot read '%s': %s\n", fl_state_dir(),
			strerror(-r));
		return FL_EXIT_HOST;
	}
	r = fl_hostscan(v, n, &kobjs);
	if (r < 0) {
		fprintf(stderr, "faultline status: cannot scan the kernel's objects: %s\n",
			strerror(-r));
		fl_run_info_free(v, n);
		return FL_EXIT_INTERNAL;
	}
	runs = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *run = json_deep_copy(v[i].run);
		json_object_set_new(run, "state", json_string(v[i].alive ? "active" : "dead"));
		json_object_set(run, "faults", v[i].faults);
		if (v[i].lab)
			json_object_set(run, "lab", v[i].lab);
		json_array_append_new(runs, run);
	}
	if (cli->json) {
		json_t *o = json_pack("{s:s, s:o, s:o}", "state_dir", fl_state_dir(), "runs", runs,
				      "kernel_objects", kobjs);
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
		fl_run_info_free(v, n);
		return FL_EXIT_OK;
	}
	if (n == 0)
		printf("nothing active (journal: %s)\n", fl_state_dir());
	for (size_t i = 0; i < n; i++) {
		json_t *run = json_array_get(runs, i), *f, *lab = json_object_get(run, "lab");
		size_t k;
		char ts[32] = "?";
		time_t started = (time_t)(json_integer_value(json_object_get(run, "started")) /
					  1000000000LL);
		struct tm tm;

		if (localtime_r(&started, &tm))
			strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
		printf("%s  %-6s %-7s %s  pid %lld  since %s\n", v[i].id,
		       json_string_value(json_object_get(run, "kind")),
		       v[i].alive ? "active" : "DEAD",
		       json_string_value(json_object_get(run, "name")) ?: "-",
		       (long long)json_integer_value(json_object_get(run, "owner")), ts);
		json_array_foreach(json_object_get(run, "faults"), k, f) {
			json_t *objs = json_object_get(f, "objects");
			printf("    fault %-24s %s/%s %-8s %zu object(s)\n",
			       json_string_value(json_object_get(f, "id")),
			       json_string_value(json_object_get(f, "kind")),
			       json_string_value(json_object_get(f, "backend")),
			       json_string_value(json_object_get(f, "state")), json_array_size(objs));
		}
		if (lab) {
			json_t *h;
			const char *name;
			json_t *hosts = json_object_get(lab, "hosts");
			printf("    lab: %zu host(s)", json_is_array(hosts) ? json_array_size(hosts)
								 : json_object_size(hosts));
			if (json_is_array(hosts))
				json_array_foreach(hosts, k, h)
					printf(" %s", json_string_value(json_object_get(h, "name")));
			else
				json_object_foreach(hosts, name, h)
					printf(" %s", name);
			putchar('\n');
		}
		if (!v[i].alive)
			printf("    left behind by a dead run: 'faultline recover %s' undoes it\n",
			       v[i].id);
	}
	print_objects(kobjs);
	json_decref(kobjs);
	json_decref(runs);
	fl_run_info_free(v, n);
	return FL_EXIT_OK;
}

// SPDX-License-Identifier: GPL-2.0-only
/* `faultline version`: the version, and the libraries it was built against. */
#include <bpf/libbpf.h>
#include <jansson.h>
#include <yaml.h>

#include "cmd/cmd.h"

int cmd_version(int argc, char **argv, struct fl_cli *cli)
{
	if (argc > 1)
		return fl_usage_error(fl_cmd_find("version"), "unexpected argument '%s'", argv[1]);
	if (cli->json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "version", FL_VERSION, "libbpf",
				      libbpf_version_string(), "jansson", JANSSON_VERSION, "libyaml",
				      yaml_get_version_string());
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	} else {
		printf("faultline %s (libbpf %s, jansson %s, libyaml %s)\n", FL_VERSION,
		       libbpf_version_string(), JANSSON_VERSION, yaml_get_version_string());
	}
	return FL_EXIT_OK;
}

// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests: the subcommand table, "did you mean", and the shared option parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "cmd/cmd.h"
#include "inject/journal.h"
#include "inject/log.h"

static void table_is_complete(void **state)
{
	static const char *const want[] = { "run",     "validate", "inject",   "exec",
					    "status",  "recover",  "doctor",   "lab",
					    "report",  "agent",	   "gameday",  "schedule",
					    "version" };

	assert_int_equal(fl_n_commands, ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		const struct fl_cmd *c = fl_cmd_find(want[i]);
		assert_non_null(c);
		assert_string_equal(c->name, want[i]);
		assert_non_null(c->fn);
		assert_non_null(c->summary);
		/* every --help has a usage line and examples */
		assert_non_null(strstr(c->usage, "Usage: faultline"));
		assert_non_null(strstr(c->usage, "Example"));
	}
	for (size_t i = 0; i < fl_n_commands; i++)
		for (size_t k = i + 1; k < fl_n_commands; k++)
			assert_string_not_equal(fl_commands[i].name, fl_commands[k].name);
}

static void lookup_is_exact(void **state)
{
	assert_null(fl_cmd_find("ru"));
	assert_null(fl_cmd_find("runn"));
	assert_null(fl_cmd_find("RUN"));
	assert_null(fl_cmd_find(""));
	assert_null(fl_cmd_find(NULL));
}

static void suggestions(void **state)
{
	assert_string_equal(fl_cmd_suggest("rnu"), "run");
	assert_string_equal(fl_cmd_suggest("stauts"), "status");
	assert_string_equal(fl_cmd_suggest("recovr"), "recover");
	assert_string_equal(fl_cmd_suggest("valdate"), "validate");
	assert_string_equal(fl_cmd_suggest("docter"), "doctor");
	assert_null(fl_cmd_suggest("frobnicate"));
}

static void common_options(void **state)
{
	char a0[] = "run", a1[] = "--json", a2[] = "x.yaml", a3[] = "-v", a4[] = "--state-dir",
	     a5[] = "/tmp/fl-state", a6[] = "--", a7[] = "--json";
	char *argv[] = { a0, a1, a2, a3, a4, a5, a6, a7, NULL };
	int argc = 8;
	struct fl_cli cli = { 0 };

	assert_int_equal(fl_cli_common(&argc, argv, &cli, fl_cmd_find("run")), 0);
	assert_true(cli.json);
	assert_int_equal(cli.verbosity, 1);
	assert_string_equal(cli.state_dir, "/tmp/fl-state");
	assert_string_equal(fl_state_dir(), "/tmp/fl-state");
	/* what is left, in order; after "--" nothing is interpreted */
	assert_int_equal(argc, 4);
	assert_string_equal(argv[0], "run");
	assert_string_equal(argv[1], "x.yaml");
	assert_string_equal(argv[2], "--");
	assert_string_equal(argv[3], "--json");
	assert_null(argv[4]);
	fl_state_dir_set(NULL);
	fl_log_level = FL_LOG_INFO;
}

static void help_and_missing_value(void **state)
{
	char a0[] = "status", a1[] = "--help";
	char *argv[] = { a0, a1, NULL };
	int argc = 2;
	struct fl_cli cli = { 0 };
	char b0[] = "status", b1[] = "--state-dir";
	char *argv2[] = { b0, b1, NULL };
	int argc2 = 2;
	struct fl_cli cli2 = { 0 };

	assert_int_equal(fl_cli_common(&argc, argv, &cli, fl_cmd_find("status")), 1);
	assert_int_equal(fl_cli_common(&argc2, argv2, &cli2, fl_cmd_find("status")), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_is_complete), cmocka_unit_test(lookup_is_exact),
		cmocka_unit_test(suggestions),	     cmocka_unit_test(common_options),
		cmocka_unit_test(help_and_missing_value),
	};
	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}

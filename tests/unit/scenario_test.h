/* SPDX-License-Identifier: GPL-2.0-only */
/* Helpers for unit tests of the scenario loader: load a YAML string, expect errors or a model. */
#ifndef FL_TEST_SCENARIO_H
#define FL_TEST_SCENARIO_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "scenarios/scenario.h"

/* Load yaml as "t.yaml" and expect exactly the given errors, in this order (NULL-terminated). */
static void check_errors(const char *yaml, const char *const *want)
{
	struct fl_errors e = { 0 };
	struct fl_scenario *s = NULL;
	size_t n = 0;
	int r;

	r = fl_scenario_load_string("t.yaml", yaml, strlen(yaml), &s, &e);
	while (want[n])
		n++;
	for (size_t i = 0; i < e.n; i++)
		print_message("  got: %s\n", e.v[i].text);
	assert_int_equal(r, -EINVAL);
	assert_null(s);
	assert_int_equal(e.n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(e.v[i].text, want[i]);
	fl_errors_clear(&e);
}

#define assert_errors(yaml, ...) check_errors(yaml, (const char *const[]){ __VA_ARGS__, NULL })

static struct fl_scenario *load_ok(const char *yaml)
{
	struct fl_errors e = { 0 };
	struct fl_scenario *s = NULL;
	int r;

	r = fl_scenario_load_string("t.yaml", yaml, strlen(yaml), &s, &e);
	for (size_t i = 0; i < e.n; i++)
		print_message("  unexpected: %s\n", e.v[i].text);
	assert_int_equal(r, 0);
	assert_int_equal(e.n, 0);
	assert_non_null(s);
	fl_errors_clear(&e);
	return s;
}

#define HEAD "version: 1\nname: t\n"

#endif

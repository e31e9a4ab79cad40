// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: any bytes through the scenario loader; nothing may crash, hang or leak. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "scenarios/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fl_errors errs = { 0 };
	struct fl_scenario *s = NULL;
	int r;

	r = fl_scenario_load_string("fuzz.yaml", (const char *)data, size, &s, &errs);
	/* the contract: success has no errors and a model; failure has no model */
	if ((r == 0) != (s != NULL) || (r == 0 && errs.n) || (r == -EINVAL && !errs.n))
		__builtin_trap();
	fl_scenario_free(s);
	fl_errors_clear(&errs);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests: the backend registry, the kill/stop backends' parsing, process targets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "inject/injector.h"
#include "inject/target.h"

static void find_by_exact_kind(void **state)
{
	const struct fl_backend *k = fl_backend_find("kill"), *s = fl_backend_find("stop");

	assert_non_null(k);
	assert_non_null(s);
	assert_string_equal(k->kind, "kill");
	assert_string_equal(k->name, "pidfd");
	assert_string_equal(s->kind, "stop");
	assert_true(s->reversible);
	assert_false(k->reversible);
	assert_null(fl_backend_find("kil"));
	assert_null(fl_backend_find("Kill"));
	assert_null(fl_backend_find(NULL));
	/* a design kind without a backend yet is known but not findable */
	assert_null(fl_backend_find("io-latency"));
	assert_string_equal(fl_backend_find("disk-error")->name, "bpf-lsm");
	/* several backends: the preferred one first */
	assert_string_equal(fl_backend_find("loss")->name, "tc-bpf");
	assert_string_equal(fl_backends_of("loss")[1]->name, "netem");
	assert_null(fl_backends_of("loss")[2]);
	assert_ptr_equal(fl_backend_find_named("stop", "pidfd"), s);
	assert_null(fl_backend_find_named("stop", "netem"));
}

static void every_backend_is_complete(void **state)
{
	size_t kinds = 0;

	for (const struct fl_kind_info *const *k = fl_kinds(); *k; k++, kinds++) {
		assert_non_null((*k)->planned[0]);
		for (const struct fl_backend *const *b = (*k)->backends; *b; b++) {
			assert_string_equal((*b)->kind, (*k)->kind);
			assert_non_null((*b)->parse);
			assert_non_null((*b)->plan);
			assert_non_null((*b)->apply);
			assert_non_null((*b)->revert);
			assert_non_null((*b)->describe);
			assert_non_null((*b)->probe);
		}
	}
	assert_int_equal(kinds, 12);
}

static void kind_names(void **state)
{
	static const char *const want[] = { "kill",	 "stop",      "latency",
					     "loss",	 "corrupt",   "duplicate",
					     "reorder",	 "partition", "bandwidth",
					     "disk-error" };
	const char *names[16];
	size_t n = fl_kind_names(names, 16);

	assert_int_equal(n, ARRAY_SIZE(want));
	for (size_t i = 0; i < n; i++)
		assert_string_equal(names[i], want[i]);
}

static void signals(void **state)
{
	int s;

	assert_int_equal(fl_parse_signal("SIGTERM", &s), 0);
	assert_int_equal(s, SIGTERM);
	assert_int_equal(fl_parse_signal("kill", &s), 0);
	assert_int_equal(s, SIGKILL);
	assert_int_equal(fl_parse_signal("15", &s), 0);
	assert_int_equal(s, 15);
	assert_int_equal(fl_parse_signal("0", &s), -EINVAL);
	assert_int_equal(fl_parse_signal("SIGFOO", &s), -EINVAL);
	assert_int_equal(fl_parse_signal("99", &s), -EINVAL);
}

static void kill_parse_errors(void **state)
{
	struct fl_params p = { 0 };
	struct fl_errors e = { 0 };
	struct fl_fault f = { 0 };
	struct fl_where w = { .flag = "--signal" }, w2 = { .flag = "--interval" };

	fl_params_add(&p, "signal", "SIGNOPE", &w);
	fl_params_add(&p, "interval", "10ms", &w2);
	assert_int_equal(fl_backend_kill.parse(&f, &p, &e), -EINVAL);
	assert_int_equal(e.n, 2);
	assert_string_equal(e.v[0].text,
			    "--signal: 'signal' must be a signal name or number such as 'SIGTERM', "
			    "got 'SIGNOPE'");
	assert_string_equal(e.v[1].text, "--interval: 'interval' must be at least 100ms");
	free(f.priv);
	fl_params_clear(&p);
	fl_errors_clear(&e);
}

/* A real child process: resolve it by pid and by name, never PID 1 or ourselves. */
static void resolve_targets(void **state)
{
	pid_t child = fork();
	struct fl_target t = { 0 };
	struct fl_proc *v = NULL;
	size_t n = 0;
	char *why = NULL;
	uint64_t rng = 1;

	assert_true(child >= 0);
	if (child == 0) {
		execlp("sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	/* wait until the exec happened */
	for (int i = 0; i < 200; i++) {
		char path[64], *comm = NULL;
		snprintf(path, sizeof(path), "/proc/%d/comm", child);
		if (fl_read_file(path, &comm, NULL) == 0 && strncmp(comm, "sleep", 5) == 0) {
			free(comm);
			break;
		}
		free(comm);
		usleep(5000);
	}
	t.pid = child;
	assert_int_equal(fl_target_resolve(&t, NULL, NULL, NULL, 0, &rng, &v, &n, &why), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].pid, child);
	assert_string_equal(v[0].comm, "sleep");
	{
		int fd = fl_pidfd_open_verified(child, v[0].starttime);
		assert_true(fd >= 0);
		close(fd);
		/* a different start time is a different process: refused */
		assert_int_equal(fl_pidfd_open_verified(child, v[0].starttime + 1), -ESRCH);
	}
	free(v);
	v = NULL;

	t.pid = 1;
	assert_int_equal(fl_target_resolve(&t, NULL, NULL, NULL, 0, &rng, &v, &n, &why), -EPERM);
	assert_string_equal(why, "refusing to target PID 1");
	free(why);
	why = NULL;

	t.pid = getpid();
	assert_int_equal(fl_target_resolve(&t, NULL, NULL, NULL, 0, &rng, &v, &n, &why), -EPERM);
	assert_string_equal(why, "refusing to target faultline itself");
	free(why);
	why = NULL;

	t = (struct fl_target){ .name = "no-such-process-xyz" };
	assert_int_equal(fl_target_resolve(&t, NULL, "here", NULL, 0, &rng, &v, &n, &why), -ESRCH);
	assert_string_equal(why, "no process matches name 'no-such-process-xyz' in here");
	free(why);
	why = NULL;

	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	t = (struct fl_target){ .pid = child };
	assert_int_equal(fl_target_resolve(&t, NULL, NULL, NULL, 0, &rng, &v, &n, &why), -ESRCH);
	assert_non_null(strstr(why, "it is gone"));
	free(why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(find_by_exact_kind), cmocka_unit_test(every_backend_is_complete),
		cmocka_unit_test(kind_names),	      cmocka_unit_test(signals),
		cmocka_unit_test(kill_parse_errors),  cmocka_unit_test(resolve_targets),
	};
	return cmocka_run_group_tests_name("registry", tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests: the crash-point backend's keys (errors name them), its description and its plan. */
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scenario_test.h"

#include "inject/injector.h"
#include "inject/netutil.h"

#define FAULT HEAD "faults:\n  - kind: crash-point\n    for: 1s\n    target: { name: fl-x }\n"

static void errors_name_the_key(void **state)
{
	assert_errors(FAULT "    syscall: fsnyc\n",
		      "t.yaml:7:14: 'syscall': unknown x86_64 syscall 'fsnyc' (did you mean "
		      "'fsync'?)");
	assert_errors(FAULT "    syscall: 9999\n",
		      "t.yaml:7:14: 'syscall': unknown x86_64 syscall '9999'");
	/* a pseudo-syscall of 32-bit x86 has no x86_64 number */
	assert_errors(FAULT "    syscall: socketcall\n",
		      "t.yaml:7:14: 'syscall': unknown x86_64 syscall 'socketcall' (did "
		      "you mean 'socketpair'?)");
	assert_errors(FAULT "    syscall: fsync\n    nth: 0\n",
		      "t.yaml:8:10: 'nth' must be a whole number from 1 to 1000000000 (the call "
		      "that crashes), got '0'");
	assert_errors(FAULT "    syscall: fsync\n    nth: -2\n",
		      "t.yaml:8:10: 'nth' must be a whole number from 1 to 1000000000 (the call "
		      "that crashes), got '-2'");
	assert_errors(FAULT "    syscall: fsync\n    signal: SIGFOO\n",
		      "t.yaml:8:13: 'signal' must be a signal name or number such as 'SIGKILL', "
		      "got 'SIGFOO'");
	assert_errors(FAULT "    function: fsync\n",
		      "t.yaml:7:15: 'function' needs 'binary', the ELF file that defines it, "
		      "such as '/lib/x86_64-linux-gnu/libc.so.6'");
	assert_errors(FAULT "    binary: /bin/true\n",
		      "t.yaml:7:13: 'binary' needs 'function', the function to crash on "
		      "entering, such as 'fsync'");
	assert_errors(FAULT "    function: fsync\n    binary: libc.so.6\n",
		      "t.yaml:8:13: 'binary' must be an absolute path, such as "
		      "'/lib/x86_64-linux-gnu/libc.so.6', got 'libc.so.6'");
	assert_errors(FAULT "    function: fsync\n    binary: /nonexistent/libc.so\n",
		      "t.yaml:8:13: 'binary': '/nonexistent/libc.so' does not exist");
	assert_errors(FAULT "    function: fsync\n    binary: /etc/hostname\n",
		      "t.yaml:8:13: 'binary': '/etc/hostname' is not an ELF file");
	assert_errors(FAULT "    function: no_such_fn_xyz\n    binary: /bin/true\n",
		      "t.yaml:7:15: 'function': '/bin/true' defines no function "
		      "'no_such_fn_xyz'");
	assert_errors(FAULT "    syscall: fsync\n    function: fsync\n",
		      "t.yaml:8:15: a crash point is either a 'syscall' or a 'function' in a "
		      "'binary', not both");
	assert_errors(FAULT, "t.yaml:4:5: a 'crash-point' needs 'syscall' (such as 'fsync') or "
			     "'function' and 'binary' (such as 'fsync' in "
			     "'/lib/x86_64-linux-gnu/libc.so.6')");
}

static void describe_defaults(void **state)
{
	struct fl_scenario *s = load_ok(FAULT "    syscall: \"74\"\n");
	const struct fl_fault *f = &s->faults[0];
	char d[256];

	assert_string_equal(f->backend->name, "bpf-signal");
	assert_true(f->backend->needs_target);
	assert_int_equal(f->backend->describe(f, d, sizeof(d)), 0);
	/* a number is the x86_64 syscall it names; nth defaults to 1, signal to SIGKILL */
	assert_string_equal(d, "SIGKILL to name 'fl-x' on its 1st fsync()");
	fl_scenario_free(s);

	s = load_ok(FAULT "    syscall: accept\n    nth: 12\n    signal: TERM\n");
	s->faults[0].backend->describe(&s->faults[0], d, sizeof(d));
	assert_string_equal(d, "SIGTERM to name 'fl-x' on its 12th accept()");
	fl_scenario_free(s);

	s = load_ok(FAULT "    function: fsync\n    binary: /lib/x86_64-linux-gnu/libc.so.6\n"
			  "    nth: 3\n");
	s->faults[0].backend->describe(&s->faults[0], d, sizeof(d));
	assert_string_equal(d, "SIGKILL to name 'fl-x' on its 3rd entry into fsync() in "
			       "/lib/x86_64-linux-gnu/libc.so.6");
	fl_scenario_free(s);
}

/* Plan a crash point on a child process of ours: the pins, links and targets it will own. */
static json_t *plan_for(const char *keys, pid_t pid)
{
	char yaml[512];
	struct fl_scenario *s;
	struct fl_inject_ctx ctx = { .run_id = "0123456789ab", .fault_id = "f0" };
	uint64_t rng = 1;
	json_t *objects = NULL;

	ctx.rng = &rng;
	snprintf(yaml, sizeof(yaml),
		 HEAD "faults:\n  - kind: crash-point\n    for: 1s\n    target: { pid: %d }\n%s",
		 (int)pid, keys);
	s = load_ok(yaml);
	assert_int_equal(s->faults[0].backend->plan(&s->faults[0], &ctx, &objects), 0);
	free(ctx.reason);
	fl_scenario_free(s);
	return objects;
}

static void plan_objects(void **state)
{
	pid_t child = fork();
	json_t *objs, *o;
	const char *pin;

	assert_true(child >= 0);
	if (child == 0) {
		pause();
		_exit(0);
	}
	objs = plan_for("    syscall: fsync\n    nth: 3\n", child);
	assert_int_equal(json_array_size(objs), 1);
	o = json_array_get(objs, 0);
	assert_string_equal(json_string_value(json_object_get(o, "type")), "bpf-signal");
	assert_int_equal(json_integer_value(json_object_get(o, "nr")), 74);
	assert_int_equal(json_integer_value(json_object_get(o, "nth")), 3);
	assert_string_equal(json_string_value(json_object_get(o, "signal")), "SIGKILL");
	pin = json_string_value(json_object_get(o, "pin_dir"));
	assert_non_null(pin);
	assert_int_equal(strncmp(pin, FL_PIN_ROOT "/0123456789ab-", strlen(FL_PIN_ROOT) + 14), 0);
	assert_int_equal(json_array_size(json_object_get(o, "links")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(o, "links"), 0)),
			    "link-sys_enter");
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(o, "targets"), 0), "pid")),
			 child);
	json_decref(objs);

	/* a uprobe crash point: one link per process */
	objs = plan_for("    function: fsync\n    binary: /lib/x86_64-linux-gnu/libc.so.6\n",
			child);
	o = json_array_get(objs, 0);
	{
		char want[48];
		snprintf(want, sizeof(want), "link-uprobe-%d", (int)child);
		assert_string_equal(
			json_string_value(json_array_get(json_object_get(o, "links"), 0)), want);
	}
	assert_string_equal(json_string_value(json_object_get(o, "function")), "fsync");
	assert_null(json_object_get(o, "nr"));
	json_decref(objs);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

/* A target that is only a cgroup: the plan has its id and depth, and faultline's pids exempt. */
static void plan_cgroup_target(void **state)
{
	const char *root = "/sys/fs/cgroup/unified";
	char dir[128], cg[64], procs[160], yaml[512];
	struct fl_inject_ctx ctx = { .run_id = "0123456789ab", .fault_id = "f0" };
	struct fl_scenario *s;
	struct stat st;
	json_t *objs = NULL, *o;
	uint64_t rng = 1;
	pid_t child;
	FILE *f;

	if (geteuid() != 0 || access(root, W_OK) < 0)
		skip();
	snprintf(cg, sizeof(cg), "/fl-unit-crash-%d", (int)getpid());
	snprintf(dir, sizeof(dir), "%s%s", root, cg);
	assert_int_equal(mkdir(dir, 0755), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		pause();
		_exit(0);
	}
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	f = fopen(procs, "w");
	assert_non_null(f);
	fprintf(f, "%d\n", (int)child);
	assert_int_equal(fclose(f), 0);
	ctx.rng = &rng;
	ctx.protect[ctx.n_protect++] = getpid();
	snprintf(yaml, sizeof(yaml),
		 HEAD "faults:\n  - kind: crash-point\n    for: 1s\n    target: { cgroup: '%s' }\n"
		      "    syscall: fsync\n",
		 cg);
	s = load_ok(yaml);
	assert_int_equal(s->faults[0].backend->plan(&s->faults[0], &ctx, &objs), 0);
	o = json_array_get(objs, 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(json_integer_value(json_object_get(o, "cgroup_id")),
			 (json_int_t)st.st_ino);
	assert_int_equal(json_integer_value(json_object_get(o, "cgroup_level")), 1);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(o, "exempt"), 0)),
			 getpid());
	json_decref(objs);
	fl_scenario_free(s);
	free(ctx.reason);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	assert_int_equal(rmdir(dir), 0);
}

/* Revert never removes anything outside our pin root, and "already gone" is success. */
static void revert_only_ours(void **state)
{
	const struct fl_backend *b = fl_backend_find("crash-point");
	json_t *objs = json_pack("[{s:s, s:[s]}]", "pin_dir", "/tmp", "links", "x");
	char *why = NULL;

	assert_non_null(b);
	assert_int_equal(b->revert(objs, &why), -EINVAL);
	assert_non_null(why);
	free(why);
	why = NULL;
	json_decref(objs);
	objs = json_pack("[{s:s, s:[s]}]", "pin_dir", FL_PIN_ROOT "/nothing-here-0000", "links",
			 "link-sys_enter");
	assert_int_equal(b->revert(objs, &why), 0);
	json_decref(objs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(errors_name_the_key), cmocka_unit_test(describe_defaults),
		cmocka_unit_test(plan_objects),	       cmocka_unit_test(plan_cgroup_target),
		cmocka_unit_test(revert_only_ours),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests: disk-error's bpf-lsm and fmod-ret backends: keys, errors, refusal of fsync, plan,
 * threshold, the attach each one plans.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/types.h>

#include "bpf/disklsm.h"
#include "inject/disk_lsm.h"
#include "inject/injector.h"
#include "tests/unit/scenario_test.h"

#define FAULT HEAD "faults:\n  - kind: disk-error\n    for: 1s\n    target: { pid: 99 }\n"

static void errno_names(void **state)
{
	int e = 0;

	assert_int_equal(fl_disk_errno_parse("EIO", &e), 0);
	assert_int_equal(e, EIO);
	assert_int_equal(fl_disk_errno_parse("enospc", &e), 0);
	assert_int_equal(e, ENOSPC);
	assert_int_equal(fl_disk_errno_parse("EROFS", &e), 0);
	assert_int_equal(e, EROFS);
	assert_int_equal(fl_disk_errno_parse("EDQUOT", &e), 0);
	assert_int_equal(e, EDQUOT);
	assert_int_equal(fl_disk_errno_parse("28", &e), 0);
	assert_int_equal(e, 28);
	assert_int_equal(fl_disk_errno_parse("EFOO", &e), -EINVAL);
	assert_int_equal(fl_disk_errno_parse("0", &e), -EINVAL);
	assert_int_equal(fl_disk_errno_parse("", &e), -EINVAL);
}

static void ops_lists(void **state)
{
	const char *bad = NULL;
	size_t badlen = 0;
	uint32_t ops = 0;
	char buf[128];

	assert_int_equal(fl_disk_ops_parse("open,write", &ops, &bad, &badlen), 0);
	assert_int_equal(ops, DL_OP_OPEN | DL_OP_WRITE);
	assert_int_equal(fl_disk_ops_parse("read, rename unlink", &ops, &bad, &badlen), 0);
	assert_int_equal(ops, DL_OP_READ | DL_OP_RENAME | DL_OP_UNLINK);
	assert_int_equal(fl_disk_ops_parse("all", &ops, &bad, &badlen), 0);
	fl_disk_ops_format(ops, buf, sizeof(buf));
	assert_string_equal(buf, "open,read,write,unlink,rename,mkdir,rmdir");
	/* no LSM hook sees fsync: another backend's operation, not a typo */
	assert_int_equal(fl_disk_ops_parse("write,fsync", &ops, &bad, &badlen), -EOPNOTSUPP);
	assert_int_equal(badlen, 5);
	assert_memory_equal(bad, "fsync", 5);
	assert_int_equal(fl_disk_ops_parse("write,wirte", &ops, &bad, &badlen), -EINVAL);
	assert_memory_equal(bad, "wirte", badlen);
	assert_int_equal(fl_disk_ops_parse(",", &ops, &bad, &badlen), -EINVAL);
}

static void threshold(void **state)
{
	assert_true(fl_disk_threshold(100) == 1ULL << 32);
	assert_true(fl_disk_threshold(0) == 0);
	assert_true(fl_disk_threshold(25) == 1ULL << 30);
	assert_true(fl_disk_threshold(50) == 1ULL << 31);
}

static void scenario_errors(void **state)
{
	assert_errors(FAULT "    path: data\n    errno: EWHAT\n    ops: [open, wirte]\n"
			    "    percent: 0\n",
		      "t.yaml:7:11: 'path' must be an absolute path, got 'data'",
		      "t.yaml:8:12: 'errno' must be an errno name such as 'EIO' or 'ENOSPC', got "
		      "'EWHAT'",
		      "t.yaml:9:10: 'ops' must be a list of operations (open,read,write,unlink,"
		      "rename,mkdir,rmdir, or all), got 'open,wirte'",
		      "t.yaml:10:14: 'percent' must be more than 0 and at most 100, such as '30%', "
		      "got '0'");
	assert_errors(FAULT "    errno: EIO\n",
		      "t.yaml:4:5: a 'disk-error' fault needs 'path' (the directory whose files "
		      "fail)");
	assert_errors(FAULT "    path: /tmp\n    percent: 150%\n",
		      "t.yaml:8:14: 'percent' must be more than 0 and at most 100, such as '30%', "
		      "got '150%'");
	/* without a target the programs have no one to fail: every process is fuse's */
	{
		struct fl_scenario *s =
			load_ok(HEAD "faults:\n  - { kind: disk-error, for: 1s, path: /tmp }\n");
		assert_string_equal(s->faults[0].backend->name, "fuse");
		fl_scenario_free(s);
	}
	assert_errors(HEAD "faults:\n  - { kind: disk-error, backend: bpf-lsm, for: 1s, "
			   "path: /tmp }\n",
		      "t.yaml:4:5: the bpf-lsm backend needs a target ('target.pid', "
		      "'target.name', 'target.cmdline' or 'target.cgroup'); the fuse backend "
		      "covers every process");
}

static void fsync_is_refused(void **state)
{
	struct fl_scenario *s;

	/* without backend: the next one that takes fsync (fuse) */
	s = load_ok(FAULT "    path: /tmp\n    ops: [write, fsync]\n");
	assert_string_equal(s->faults[0].backend->name, "fuse");
	fl_scenario_free(s);
	/* with it, the reason stands */
	assert_errors(FAULT "    backend: bpf-lsm\n    path: /tmp\n    ops: fdatasync\n",
		      "t.yaml:9:10: the bpf-lsm backend cannot fail 'fdatasync': no LSM hook sees "
		      "it (the fuse or seccomp backend can)");
}

static void parse_describe(void **state)
{
	struct fl_scenario *s = load_ok(FAULT "    path: /var/lib/db\n    errno: ENOSPC\n"
					      "    ops: [open, write]\n    percent: 30\n");
	char d[256];

	assert_string_equal(s->faults[0].backend->name, "bpf-lsm");
	s->faults[0].backend->describe(&s->faults[0], d, sizeof(d));
	assert_string_equal(d, "ENOSPC on 30% of open,write of pid 99 under /var/lib/db");
	fl_scenario_free(s);
	/* defaults: EIO, every operation the hooks see, always */
	s = load_ok(FAULT "    path: /srv\n");
	s->faults[0].backend->describe(&s->faults[0], d, sizeof(d));
	assert_string_equal(d, "EIO on open,read,write,unlink,rename,mkdir,rmdir of pid 99 under "
			       "/srv");
	fl_scenario_free(s);
}

/* The plan: the directory's (dev, ino) as the kernel encodes them, the live target, the pin. */
static void plan_pid(void **state)
{
	char dir[] = "/tmp/fl-disklsm-XXXXXX", yaml[512];
	struct fl_inject_ctx ctx = { .run_id = "0123456789ab", .fault_id = "f0" };
	uint64_t rng = 1;
	struct fl_scenario *s;
	json_t *objs = NULL, *o;
	struct stat st;
	pid_t child;
	int r;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(stat(dir, &st), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		pause();
		_exit(0);
	}
	snprintf(yaml, sizeof(yaml),
		 HEAD "faults:\n  - kind: disk-error\n    for: 2s\n    target: { pid: %d }\n"
		      "    path: %s\n    ops: write\n    percent: 25%%\n",
		 (int)child, dir);
	s = load_ok(yaml);
	ctx.rng = &rng;
	r = s->faults[0].backend->plan(&s->faults[0], &ctx, &objs);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	assert_int_equal(r, 0);
	o = json_array_get(objs, 0);
	assert_string_equal(json_string_value(json_object_get(o, "type")), "bpf-lsm");
	assert_string_equal(json_string_value(json_object_get(o, "attach")), "lsm");
	assert_string_equal(json_string_value(json_object_get(o, "ops")), "write");
	assert_int_equal(json_integer_value(json_object_get(o, "errno")), EIO);
	assert_true(json_number_value(json_object_get(o, "percent")) == 25.0);
	assert_int_equal(json_integer_value(json_object_get(o, "ino")), st.st_ino);
	assert_int_equal(json_integer_value(json_object_get(o, "dev")),
			 (major(st.st_dev) << 20) | minor(st.st_dev));
	assert_int_equal(json_integer_value(json_object_get(o, "for_ns")), 2000000000LL);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(o, "processes"), 0), "pid")),
			 child);
	assert_null(json_object_get(o, "cgroup_id"));
	assert_int_equal(strncmp(json_string_value(json_object_get(o, "pin_dir")),
				 "/sys/fs/bpf/faultline/0123456789ab-", 35),
			 0);
	json_decref(objs);
	free(ctx.reason);
	fl_scenario_free(s);
	rmdir(dir);
}

/* A cgroup alone is checked in the kernel (id and level): processes started later are in. */
static void plan_cgroup(void **state)
{
	struct fl_inject_ctx ctx = { .run_id = "0123456789ab", .fault_id = "f0" };
	struct fl_scenario *s = load_ok(HEAD "faults:\n  - kind: disk-error\n    for: 1s\n"
					     "    target: { cgroup: / }\n    path: /tmp\n");
	json_t *objs = NULL, *o;
	int r;

	r = s->faults[0].backend->plan(&s->faults[0], &ctx, &objs);
	if (r == -ENOENT) {
		fl_scenario_free(s);
		free(ctx.reason);
		skip(); /* no cgroup v2 here */
	}
	assert_int_equal(r, 0);
	o = json_array_get(objs, 0);
	assert_true(json_integer_value(json_object_get(o, "cgroup_id")) > 0);
	assert_int_equal(json_integer_value(json_object_get(o, "cgroup_level")), 0);
	assert_null(json_object_get(o, "processes"));
	json_decref(objs);
	free(ctx.reason);
	fl_scenario_free(s);
	/* a missing path fails the plan (preflight), naming it */
	s = load_ok(FAULT "    path: /nonexistent/fl-disklsm\n");
	assert_int_equal(s->faults[0].backend->plan(&s->faults[0], &ctx, &objs), -ENOENT);
	assert_string_equal(ctx.reason, "path '/nonexistent/fl-disklsm': No such file or directory");
	free(ctx.reason);
	fl_scenario_free(s);
}

/* revert with nothing there (already reverted, or a crash before the pins): success. */
static void revert_idempotent(void **state)
{
	json_t *objs = json_pack("[{s:s, s:s}]", "type", "bpf-lsm", "pin_dir",
				 "/sys/fs/bpf/faultline/000000000000-00000001");
	const struct fl_backend *b = fl_backend_find_named("disk-error", "bpf-lsm");
	char *why = NULL;

	assert_int_equal(b->revert(objs, &why), 0);
	assert_int_equal(b->revert(objs, &why), 0);
	json_decref(objs);
	/* never outside our pin root */
	objs = json_pack("[{s:s}]", "pin_dir", "/etc");
	assert_int_equal(b->revert(objs, &why), -EINVAL);
	free(why);
	json_decref(objs);
}

/*
 * fmod-ret: right after bpf-lsm among the kind's backends (the validator tries it when the BPF
 * LSM is not there), the same keys and errors under its own name, a plan with attach fmod_ret.
 */
static void fmod_ret_backend(void **state)
{
	const struct fl_backend *const *all = fl_backends_of("disk-error");
	struct fl_inject_ctx ctx = { .run_id = "0123456789ab", .fault_id = "f0" };
	struct fl_scenario *s;
	json_t *objs = NULL, *o;
	char d[256];

	assert_string_equal(all[0]->name, "bpf-lsm");
	assert_string_equal(all[1]->name, "fmod-ret");
	s = load_ok(HEAD "faults:\n  - kind: disk-error\n    for: 1s\n    target: { cgroup: / }\n"
			 "    backend: fmod-ret\n    path: /tmp\n    ops: [open, rename]\n"
			 "    errno: EROFS\n");
	assert_string_equal(s->faults[0].backend->name, "fmod-ret");
	s->faults[0].backend->describe(&s->faults[0], d, sizeof(d));
	assert_string_equal(d, "EROFS on open,rename of cgroup '/' under /tmp");
	if (s->faults[0].backend->plan(&s->faults[0], &ctx, &objs) == 0) { /* cgroup v2 here */
		o = json_array_get(objs, 0);
		assert_string_equal(json_string_value(json_object_get(o, "type")), "fmod-ret");
		assert_string_equal(json_string_value(json_object_get(o, "attach")), "fmod_ret");
		assert_string_equal(json_string_value(json_object_get(o, "ops")), "open,rename");
		json_decref(objs);
	}
	free(ctx.reason);
	fl_scenario_free(s);
	/* its errors name it */
	assert_errors(FAULT "    backend: fmod-ret\n    path: /tmp\n    ops: [write, fsync]\n",
		      "t.yaml:9:10: the fmod-ret backend cannot fail 'fsync': no LSM hook sees it "
		      "(the fuse or seccomp backend can)");
}

/* A plan object with an attach we do not know is refused, not guessed. */
static void unknown_attach(void **state)
{
	const struct fl_backend *b = fl_backend_find_named("disk-error", "fmod-ret");
	json_t *objs = json_pack("[{s:s, s:s, s:s, s:s}]", "type", "fmod-ret", "attach", "kprobe",
				 "pin_dir", "/sys/fs/bpf/faultline/000000000000-00000002", "ops",
				 "write");
	struct fl_inject_ctx ctx = { .run_id = "000000000000", .fault_id = "f0" };
	struct fl_fault f = { .backend = b };
	json_t *injected = json_object();

	assert_int_equal(b->apply(&f, objs, &ctx, injected), -EINVAL);
	assert_string_equal(ctx.reason, "malformed disklsm object in the plan");
	free(ctx.reason);
	json_decref(injected);
	json_decref(objs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(errno_names),	   cmocka_unit_test(ops_lists),
		cmocka_unit_test(threshold),	   cmocka_unit_test(scenario_errors),
		cmocka_unit_test(fsync_is_refused), cmocka_unit_test(parse_describe),
		cmocka_unit_test(plan_pid),	   cmocka_unit_test(plan_cgroup),
		cmocka_unit_test(revert_idempotent), cmocka_unit_test(fmod_ret_backend),
		cmocka_unit_test(unknown_attach),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

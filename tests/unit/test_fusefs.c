// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests: the FUSE disk backends' names (ops, errno), path prefixes, caller cache, dice,
 * parsing with errors that name the key, and the registry's order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "inject/fusefs.h"
#include "inject/injector.h"
#include "inject/util.h"
#include "tests/unit/scenario_test.h"

static void ops_names(void **state)
{
	uint32_t m = 0;
	char bad[32], buf[256];

	assert_int_equal(fusefs_ops_parse("open,write", &m, bad, sizeof(bad)), 0);
	assert_int_equal(m, (1u << FUSEFS_OP_OPEN) | (1u << FUSEFS_OP_WRITE));
	assert_int_equal(fusefs_ops_parse(" fdatasync , Rename ", &m, bad, sizeof(bad)), 0);
	assert_int_equal(m, (1u << FUSEFS_OP_FSYNC) | (1u << FUSEFS_OP_RENAME));
	assert_int_equal(fusefs_ops_parse("all", &m, bad, sizeof(bad)), 0);
	assert_int_equal(m, FUSEFS_OPS_ALL);
	assert_int_equal(fusefs_ops_parse("read,bogus,write", &m, bad, sizeof(bad)), -EINVAL);
	assert_string_equal(bad, "bogus");
	assert_int_equal(fusefs_ops_parse("read,,write", &m, bad, sizeof(bad)), -EINVAL);
	assert_int_equal(fusefs_ops_parse("", &m, bad, sizeof(bad)), -EINVAL);
	/* a name is a whole word */
	assert_int_equal(fusefs_ops_parse("writ", &m, bad, sizeof(bad)), -EINVAL);
	assert_string_equal(bad, "writ");

	fusefs_ops_format((1u << FUSEFS_OP_READ) | (1u << FUSEFS_OP_FSYNC), buf, sizeof(buf));
	assert_string_equal(buf, "read,fsync");
	fusefs_ops_format(FUSEFS_OPS_ALL, buf, sizeof(buf));
	assert_string_equal(buf, "all");
	for (int i = 0; i < _FUSEFS_OP_MAX; i++) {
		assert_non_null(fusefs_op_name(i));
		assert_int_equal(fusefs_ops_parse(fusefs_op_name(i), &m, NULL, 0), 0);
		assert_int_equal(m, 1u << i);
	}
	assert_null(fusefs_op_name(_FUSEFS_OP_MAX));
}

static void errno_names(void **state)
{
	assert_int_equal(fusefs_errno_parse("EIO"), EIO);
	assert_int_equal(fusefs_errno_parse("enospc"), ENOSPC);
	assert_int_equal(fusefs_errno_parse("EROFS"), EROFS);
	assert_int_equal(fusefs_errno_parse("EDQUOT"), EDQUOT);
	assert_int_equal(fusefs_errno_parse("EACCES"), EACCES);
	assert_int_equal(fusefs_errno_parse("28"), 28);
	assert_int_equal(fusefs_errno_parse("0"), -EINVAL);
	assert_int_equal(fusefs_errno_parse("EBOGUS"), -EINVAL);
	assert_int_equal(fusefs_errno_parse("IO"), -EINVAL);
	assert_int_equal(fusefs_errno_parse(""), -EINVAL);
	assert_int_equal(fusefs_errno_parse("-5"), -EINVAL);
}

static void prefixes(void **state)
{
	assert_true(fusefs_path_under("/x", NULL));
	assert_true(fusefs_path_under("/x", ""));
	assert_true(fusefs_path_under("/", "/"));
	assert_true(fusefs_path_under("/a", "a"));
	assert_true(fusefs_path_under("/a/x/y", "a"));
	assert_true(fusefs_path_under("/a/x/y", "/a/x/"));
	assert_false(fusefs_path_under("/ab", "a"));
	assert_false(fusefs_path_under("/", "a"));
	assert_false(fusefs_path_under("/b/a", "a"));
	assert_false(fusefs_path_under("/a/xy", "a/x"));
	/* an unlinked file still open (no path): only an empty prefix covers it */
	assert_false(fusefs_path_under(NULL, "a"));
	assert_true(fusefs_path_under(NULL, ""));
}

static void cache(void **state)
{
	static struct fusefs_cache c;
	const struct fusefs_cache_slot *s;
	uint64_t t = 5 * NSEC_PER_SEC;

	assert_null(fusefs_cache_get(&c, 0, t));
	assert_null(fusefs_cache_get(&c, 42, t));
	fusefs_cache_put(&c, 42, 40, true, t);
	s = fusefs_cache_get(&c, 42, t + FUSEFS_CACHE_TTL_NS);
	assert_non_null(s);
	assert_int_equal(s->tgid, 40);
	assert_true(s->match);
	/* checked again after the TTL: a reused thread id is not trusted forever */
	assert_null(fusefs_cache_get(&c, 42, t + FUSEFS_CACHE_TTL_NS + 1));
	/* the same slot, another tid: replaced, never confused */
	fusefs_cache_put(&c, 42 + FUSEFS_CACHE_SLOTS, 7, false, t);
	assert_null(fusefs_cache_get(&c, 42, t));
	s = fusefs_cache_get(&c, 42 + FUSEFS_CACHE_SLOTS, t);
	assert_non_null(s);
	assert_false(s->match);
}

static pid_t thread_tid, thread_tgid;

static void *thread_main(void *arg)
{
	thread_tid = gettid();
	if (fusefs_tgid_of(thread_tid, &thread_tgid) < 0)
		thread_tgid = -1;
	return NULL;
}

static void tgids(void **state)
{
	pthread_t th;
	pid_t tgid = 0, child;
	int st;

	assert_int_equal(fusefs_tgid_of(getpid(), &tgid), 0);
	assert_int_equal(tgid, getpid());
	/* a thread's id names its process */
	assert_int_equal(pthread_create(&th, NULL, thread_main, NULL), 0);
	pthread_join(th, NULL);
	assert_int_not_equal(thread_tid, getpid());
	assert_int_equal(thread_tgid, getpid());
	/* a process of its own, then gone */
	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	assert_int_equal(fusefs_tgid_of(child, &tgid), 0);
	assert_int_equal(tgid, child);
	kill(child, SIGKILL);
	waitpid(child, &st, 0);
	assert_int_equal(fusefs_tgid_of(child, &tgid), -ESRCH);
}

static void dice(void **state)
{
	uint64_t rng = 1234;
	const int n = 100000;
	int hits = 0;

	for (int i = 0; i < 1000; i++) {
		assert_false(fusefs_roll(&rng, 0));
		assert_true(fusefs_roll(&rng, 100));
	}
	for (int i = 0; i < n; i++)
		hits += fusefs_roll(&rng, 30);
	/* binomial(100000, 0.3): sd 145, so 5 sd is 725 */
	assert_in_range(hits, 30000 - 725, 30000 + 725);
	hits = 0;
	for (int i = 0; i < n; i++)
		hits += fusefs_roll(&rng, 0.5);
	assert_in_range(hits, 500 - 112, 500 + 112);
}

#define DISK "faults:\n  - kind: disk-error\n    for: 1s\n"
#define IOLAT "faults:\n  - kind: io-latency\n    for: 1s\n    path: /x\n"

static void parsing(void **state)
{
	struct fl_scenario *s;
	char buf[256];

	s = load_ok(HEAD DISK "    path: /srv/x/\n    errno: ENOSPC\n    ops: write,fsync\n"
			      "    percent: 30%\n    prefix: db\n");
	assert_string_equal(s->faults[0].backend->name, "fuse");
	s->faults[0].backend->describe(&s->faults[0], buf, sizeof(buf));
	assert_string_equal(buf, "FUSE ENOSPC on write,fsync of any process in /srv/x/db (30%)");
	fl_scenario_free(s);
	s = load_ok(HEAD IOLAT "    delay: 20ms\n    jitter: 2ms\n    ops: fdatasync\n"
			       "    target: { pid: 4242 }\n");
	assert_string_equal(s->faults[0].backend->name, "fuse");
	s->faults[0].backend->describe(&s->faults[0], buf, sizeof(buf));
	assert_string_equal(buf, "FUSE delay 20ms jitter 2ms on fsync of pid 4242 in /x (100%)");
	fl_scenario_free(s);

	assert_errors(HEAD DISK, "t.yaml:4:5: a 'disk-error' fault needs 'path', the directory to "
				 "cover, such as '/var/lib/app'");
	assert_errors(HEAD DISK "    path: srv\n",
		      "t.yaml:6:11: 'path' must be an absolute directory path without '.' or "
		      "'..', got 'srv'");
	assert_errors(HEAD DISK "    path: /a/../b\n",
		      "t.yaml:6:11: 'path' must be an absolute directory path without '.' or "
		      "'..', got '/a/../b'");
	assert_errors(HEAD DISK "    path: /\n", "t.yaml:6:11: 'path' cannot be '/'");
	assert_errors(HEAD DISK "    path: /x\n    errno: EBOGUS\n",
		      "t.yaml:7:12: 'errno' must be an error name such as EIO, ENOSPC, EROFS, "
		      "EDQUOT or EACCES, got 'EBOGUS'");
	assert_errors(HEAD DISK "    path: /x\n    ops: write,sync\n",
		      "t.yaml:7:10: 'ops' must be a comma-separated list of open, create, read, "
		      "write, fsync, flush, rename, unlink, mkdir, rmdir, getattr, setattr, "
		      "statfs, link, xattr, fallocate or all: unknown 'sync'");
	assert_errors(HEAD DISK "    path: /x\n    percent: 130%\n",
		      "t.yaml:7:14: 'percent' must be a percentage from 0 to 100 such as '30%', "
		      "got '130%'");
	assert_errors(HEAD DISK "    path: /x\n    prefix: ../etc\n",
		      "t.yaml:7:13: 'prefix' must be a path relative to 'path', without '..', got "
		      "'../etc'");
	/* io-latency has no errno, and needs a delay no shorter than its jitter */
	assert_errors(HEAD IOLAT, "t.yaml:4:5: an io-latency fault needs 'delay', such as '20ms'");
	assert_errors(HEAD IOLAT "    delay: 2ms\n    jitter: 5ms\n",
		      "t.yaml:4:5: 'jitter' cannot exceed 'delay'");
	assert_errors(HEAD IOLAT "    delay: soon\n",
		      "t.yaml:7:12: 'delay' must be a duration such as '20ms', got 'soon'");
}

static void registered(void **state)
{
	const struct fl_kind_info *const *k;
	bool seen = false;

	assert_string_equal(fl_backend_find("disk-error")->name, "bpf-lsm");
	assert_string_equal(fl_backends_of("disk-error")[1]->name, "fmod-ret");
	assert_string_equal(fl_backends_of("disk-error")[2]->name, "fuse");
	assert_string_equal(fl_backend_find("io-latency")->name, "fuse");
	for (k = fl_kinds(); *k; k++) {
		if (strcmp((*k)->kind, "disk-error"))
			continue;
		/* the planned order stands: the eBPF ones first, then fuse, then seccomp */
		assert_string_equal((*k)->planned[0], "bpf-lsm");
		assert_string_equal((*k)->planned[2], "fuse");
		seen = true;
	}
	assert_true(seen);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ops_names), cmocka_unit_test(errno_names),
		cmocka_unit_test(prefixes),  cmocka_unit_test(cache),
		cmocka_unit_test(tgids),     cmocka_unit_test(dice),
		cmocka_unit_test(parsing),   cmocka_unit_test(registered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

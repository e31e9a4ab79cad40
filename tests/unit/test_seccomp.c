// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests: seccomp faults: syscall sets, path matching, parsing, reading a caller's memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "inject/injector.h"
#include "inject/seccomp.h"

static bool has(const int *nr, size_t n, const char *name)
{
	int k = seccomp_syscall_resolve_name(name);

	for (size_t i = 0; i < n; i++)
		if (nr[i] == k)
			return true;
	return false;
}

static void resolve_sets(void **state)
{
	int nr[FL_SC_MAX_NR];
	const char *bad = NULL;
	size_t n = 0;

	assert_int_equal(fl_sc_resolve("write,fsync", false, nr, FL_SC_MAX_NR, &n, &bad), 0);
	assert_int_equal(n, 2);
	assert_true(has(nr, n, "write") && has(nr, n, "fsync"));
	/* an operation is every syscall that does it, without duplicates */
	assert_int_equal(fl_sc_resolve("fsync,fdatasync,write", true, nr, FL_SC_MAX_NR, &n, &bad),
			 0);
	assert_int_equal(n, 7);
	assert_true(has(nr, n, "pwritev2") && has(nr, n, "fdatasync"));
	assert_int_equal(fl_sc_resolve("open", true, nr, FL_SC_MAX_NR, &n, &bad), 0);
	assert_true(has(nr, n, "openat") && has(nr, n, "openat2"));
	assert_int_equal(fl_sc_resolve("write,wrte", false, nr, FL_SC_MAX_NR, &n, &bad), -EINVAL);
	assert_string_equal(bad, "wrte");
	assert_int_equal(fl_sc_resolve("write,sync", true, nr, FL_SC_MAX_NR, &n, &bad), -EINVAL);
	assert_string_equal(bad, "sync");
	assert_int_equal(fl_sc_resolve(",", false, nr, FL_SC_MAX_NR, &n, &bad), -EINVAL);
	assert_int_equal(fl_sc_resolve("read,write", true, nr, 4, &n, &bad), -E2BIG);
}

static void path_prefix(void **state)
{
	assert_true(fl_sc_path_under("/var/lib/db", "/var/lib/db"));
	assert_true(fl_sc_path_under("/var/lib/db/x.wal", "/var/lib/db"));
	assert_true(fl_sc_path_under("/var/lib/db/x.wal", "/var/lib/db/"));
	assert_false(fl_sc_path_under("/var/lib/dbx", "/var/lib/db"));
	assert_false(fl_sc_path_under("/var/lib", "/var/lib/db"));
	assert_true(fl_sc_path_under("/anything", "/"));
}

static void file_args(void **state)
{
	unsigned idx = 9;
	bool at = true;

	assert_int_equal(fl_sc_file_arg(seccomp_syscall_resolve_name("write"), &idx, &at),
			 FL_SC_ARG_FD);
	assert_int_equal(idx, 0);
	assert_int_equal(fl_sc_file_arg(seccomp_syscall_resolve_name("openat"), &idx, &at),
			 FL_SC_ARG_PATH);
	assert_int_equal(idx, 1);
	assert_true(at);
	assert_int_equal(fl_sc_file_arg(seccomp_syscall_resolve_name("unlink"), &idx, &at),
			 FL_SC_ARG_PATH);
	assert_false(at);
	assert_int_equal(fl_sc_file_arg(seccomp_syscall_resolve_name("getpid"), &idx, &at),
			 FL_SC_ARG_NONE);
}

/* Parse "k=v" pairs (NULL-terminated) with target.exec unless exec is NULL. */
static int parse(struct fl_fault *f, struct fl_errors *e, const char *exec, ...)
{
	struct fl_params p = { .where = { .flag = "--fault" } };
	struct fl_where w = { .flag = "--fault" };
	va_list ap;
	int r;

	va_start(ap, exec);
	for (const char *k; (k = va_arg(ap, const char *));)
		fl_params_add(&p, k, va_arg(ap, const char *), &w);
	va_end(ap);
	fl_params_add(&p, "for", "1s", &w);
	if (exec)
		fl_params_add(&p, "target.exec", exec, &w);
	r = fl_fault_from_params(&p, NULL, f, e);
	fl_params_clear(&p);
	return r;
}

static bool has_error(const struct fl_errors *e, const char *part)
{
	for (size_t i = 0; i < e->n; i++)
		if (strstr(e->v[i].text, part))
			return true;
	return false;
}

static void parse_faults(void **state)
{
	struct fl_fault f = { 0 };
	struct fl_errors e = { 0 };
	const struct fl_sc_fault *sf;

	assert_int_equal(parse(&f, &e, "[\"dd\"]", "kind", "syscall", "syscall", "write", "errno",
			       "ENOSPC", NULL),
			 0);
	sf = f.priv;
	assert_int_equal(sf->err, ENOSPC);
	assert_false(sf->notify); /* every call, one errno: a kernel filter */
	assert_string_equal(f.backend->name, "seccomp");
	fl_fault_clear(&f);

	assert_int_equal(parse(&f, &e, "[\"dd\"]", "kind", "disk-error", "ops", "write", "path",
			       "/tmp/x", "percent", "30", NULL),
			 0);
	sf = f.priv;
	assert_int_equal(sf->err, EIO); /* the default */
	assert_true(sf->notify);
	assert_true(sf->percent > 0.299 && sf->percent < 0.301);
	assert_string_equal(sf->path, "/tmp/x");
	fl_fault_clear(&f);

	assert_int_equal(parse(&f, &e, "[\"dd\"]", "kind", "io-latency", "syscall", "fsync",
			       "delay", "20ms", "nth", "3", NULL),
			 0);
	sf = f.priv;
	assert_int_equal(sf->delay_ns, 20 * NSEC_PER_MSEC);
	assert_int_equal(sf->nth, 3);
	assert_true(sf->notify);
	fl_fault_clear(&f);

	/* every problem at once, each naming its key */
	assert_int_equal(parse(&f, &e, "[\"dd\"]", "kind", "syscall", "syscall", "write,frob",
			       "errno", "EWHAT", "percent", "0", NULL),
			 -EINVAL);
	assert_true(has_error(&e, "--fault: 'syscall' must be a comma list"));
	assert_true(has_error(&e, "unknown 'frob'"));
	assert_true(has_error(&e, "'errno' must be an error name"));
	assert_true(has_error(&e, "'percent' must be a share above 0"));
	fl_errors_clear(&e);
	fl_fault_clear(&f);

	assert_int_equal(
		parse(&f, &e, NULL, "kind", "syscall", "syscall", "write", "errno", "EIO", NULL),
		-EINVAL);
	assert_true(has_error(&e, "acts on a command faultline launches"));
	fl_errors_clear(&e);
	fl_fault_clear(&f);

	assert_int_equal(parse(&f, &e, "[\"dd\"]", "kind", "syscall", "syscall", "getpid", "errno",
			       "EIO", "path", "/x", "nth", "2", "percent", "5", NULL),
			 -EINVAL);
	assert_true(has_error(&e, "syscall 'getpid' does not"));
	assert_true(has_error(&e, "'nth' cannot be combined with 'percent'"));
	fl_errors_clear(&e);
	fl_fault_clear(&f);

	assert_int_equal(parse(&f, &e, "[\"dd\"]", "kind", "syscall", "syscall", "execve", "errno",
			       "EIO", NULL),
			 -EINVAL);
	assert_true(has_error(&e, "'execve' cannot be faulted"));
	fl_errors_clear(&e);
	fl_fault_clear(&f);

	assert_int_equal(parse(&f, &e, "[\"dd\"]", "kind", "io-latency", "ops", "fsync", "errno",
			       "EIO", NULL),
			 -EINVAL);
	assert_true(has_error(&e, "unknown key 'errno'"));
	assert_true(has_error(&e, "needs 'delay'"));
	fl_errors_clear(&e);
	fl_fault_clear(&f);

	/* other process faults cannot launch commands */
	assert_int_equal(parse(&f, &e, "[\"dd\"]", "kind", "kill", "target.name", "x", NULL),
			 -EINVAL);
	assert_true(has_error(&e, "'target.exec' is for faults on a command"));
	fl_errors_clear(&e);
	fl_fault_clear(&f);
}

static void read_string_stops_at_unmapped(void **state)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	char buf[4096];

	assert_true(m != MAP_FAILED);
	assert_int_equal(mprotect(m + pg, (size_t)pg, PROT_NONE), 0);
	/* a string that ends right before the unmapped page: one read would fail */
	strcpy(m + pg - 6, "/x/y");
	assert_int_equal(fl_sc_read_string(getpid(), (uintptr_t)(m + pg - 6), buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/x/y");
	memset(m + pg - 4, 'a', 4);
	assert_true(fl_sc_read_string(getpid(), (uintptr_t)(m + pg - 4), buf, sizeof(buf)) < 0);
	assert_int_equal(fl_sc_read_string(getpid(), (uintptr_t)(m + pg - 6), buf, 4),
			 -ENAMETOOLONG);
	assert_int_equal(fl_sc_read_string(getpid(), 0, buf, sizeof(buf)), -EFAULT);
	munmap(m, 2 * (size_t)pg);
}

static void exec_status(void **state)
{
	struct fl_fault f = { 0 };
	struct fl_errors e = { 0 };
	struct fl_sc_opts o = { .seed = 1 };
	struct fl_sc_result res;
	char *why = NULL;
	char *sh[] = { "/bin/sh", "-c", "echo x || exit 7", NULL };
	char *nope[] = { "/nonexistent/cmd", NULL };

	/* echo's write fails with EIO under the kernel filter: the shell exits 7 */
	assert_int_equal(parse(&f, &e, "[\"sh\"]", "kind", "syscall", "syscall", "write", "errno",
			       "EIO", NULL),
			 0);
	assert_int_equal(fl_seccomp_exec(&f, 1, sh, &o, &res, &why), 0);
	assert_true(WIFEXITED(res.wstatus));
	assert_int_equal(WEXITSTATUS(res.wstatus), 7);
	assert_false(res.supervised);

	assert_int_equal(fl_seccomp_exec(&f, 1, nope, &o, &res, &why), 0);
	assert_int_equal(WEXITSTATUS(res.wstatus), 127);
	assert_non_null(strstr(why, "cannot run '/nonexistent/cmd'"));
	free(why);
	why = NULL;
	fl_fault_clear(&f);

	/* the same through the supervisor: every call answered, counted */
	assert_int_equal(parse(&f, &e, "[\"sh\"]", "kind", "syscall", "syscall", "write", "errno",
			       "EIO", "notify", "yes", NULL),
			 0);
	assert_int_equal(fl_seccomp_exec(&f, 1, sh, &o, &res, &why), 0);
	assert_int_equal(WEXITSTATUS(res.wstatus), 7);
	assert_true(res.supervised);
	/* echo's write, then the shell's complaint about it on stderr */
	assert_true(((struct fl_sc_fault *)f.priv)->hit >= 1);
	assert_int_equal(((struct fl_sc_fault *)f.priv)->hit, ((struct fl_sc_fault *)f.priv)->seen);
	fl_fault_clear(&f);
	free(why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(resolve_sets),
		cmocka_unit_test(path_prefix),
		cmocka_unit_test(file_args),
		cmocka_unit_test(parse_faults),
		cmocka_unit_test(read_string_stops_at_unmapped),
		cmocka_unit_test(exec_status),
	};
	return cmocka_run_group_tests_name("seccomp", tests, NULL, NULL);
}

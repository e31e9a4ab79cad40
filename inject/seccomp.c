// SPDX-License-Identifier: GPL-2.0-only
/* seccomp faults for launched commands: errno filters, a notification supervisor, timer heap. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <math.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "inject/injector.h"
#include "inject/log.h"
#include "inject/nfqd.h"
#include "inject/journal.h"
#include "inject/seccomp.h"
#include "inject/target.h"

#define SHOW(v) fl_shorten((v), 64, (char[68]){ 0 })
#define DELAY_MAX (60 * NSEC_PER_SEC)
#define NTH_MAX 1000000000ULL

/* --- syscall sets ---------------------------------------------------------------------- */

static const struct {
	const char *op;
	const char *syscalls;
} ops[] = {
	{ "open", "open,openat,openat2,creat" },
	{ "read", "read,pread64,readv,preadv,preadv2" },
	{ "write", "write,pwrite64,writev,pwritev,pwritev2" },
	{ "fsync", "fsync,fdatasync" },
	{ "fdatasync", "fdatasync" },
	{ "rename", "rename,renameat,renameat2" },
	{ "unlink", "unlink,unlinkat" },
	{ "mkdir", "mkdir,mkdirat" },
	{ "rmdir", "rmdir" },
	{ "truncate", "truncate,ftruncate" },
	{ "fallocate", "fallocate" },
};

static int add_nr(int nr, int *v, size_t max, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		if (v[i] == nr)
			return 0;
	if (*n >= max)
		return -E2BIG;
	v[(*n)++] = nr;
	return 0;
}

/* Add an operation's syscalls; -EINVAL for an unknown operation. */
static int add_op(const char *op, int *nr, size_t max, size_t *n)
{
	_cleanup_free_ char *names = NULL;
	char *save = NULL;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ops); i++)
		if (!strcmp(ops[i].op, op))
			break;
	if (i == ARRAY_SIZE(ops))
		return -EINVAL;
	names = strdup(ops[i].syscalls);
	if (!names)
		return -ENOMEM;
	for (char *sc = strtok_r(names, ",", &save); sc; sc = strtok_r(NULL, ",", &save)) {
		int k = seccomp_syscall_resolve_name(sc);

		/* open, creat, rename... do not exist on every architecture */
		if (k >= 0 && add_nr(k, nr, max, n) < 0)
			return -E2BIG;
	}
	return 0;
}

int fl_sc_resolve(const char *list, bool by_op, int *nr, size_t max, size_t *ret_n,
		  const char **ret_bad)
{
	static __thread char bad[64];
	_cleanup_free_ char *copy = strdup(list);
	char *save = NULL;
	size_t n = 0;
	int r;

	if (!copy)
		return -ENOMEM;
	for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		w += strspn(w, " ");
		w[strcspn(w, " ")] = '\0';
		if (by_op) {
			r = add_op(w, nr, max, &n);
		} else {
			int k = seccomp_syscall_resolve_name(w);

			r = k == __NR_SCMP_ERROR || k < 0 ? -EINVAL : add_nr(k, nr, max, &n);
		}
		if (r == -EINVAL) {
			snprintf(bad, sizeof(bad), "%s", w);
			*ret_bad = bad;
		}
		if (r < 0)
			return r;
	}
	if (!n) {
		*ret_bad = "";
		return -EINVAL;
	}
	*ret_n = n;
	return 0;
}

bool fl_sc_path_under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	while (n > 1 && prefix[n - 1] == '/')
		n--;
	if (strncmp(path, prefix, n) != 0)
		return false;
	return path[n] == '\0' || path[n] == '/' || (n == 1 && prefix[0] == '/');
}

static const struct {
	const char *name;
	int kind;
	unsigned index;
	bool at;
} file_args[] = {
	{ "read", FL_SC_ARG_FD, 0, false },
	{ "write", FL_SC_ARG_FD, 0, false },
	{ "pread64", FL_SC_ARG_FD, 0, false },
	{ "pwrite64", FL_SC_ARG_FD, 0, false },
	{ "readv", FL_SC_ARG_FD, 0, false },
	{ "writev", FL_SC_ARG_FD, 0, false },
	{ "preadv", FL_SC_ARG_FD, 0, false },
	{ "pwritev", FL_SC_ARG_FD, 0, false },
	{ "preadv2", FL_SC_ARG_FD, 0, false },
	{ "pwritev2", FL_SC_ARG_FD, 0, false },
	{ "fsync", FL_SC_ARG_FD, 0, false },
	{ "fdatasync", FL_SC_ARG_FD, 0, false },
	{ "ftruncate", FL_SC_ARG_FD, 0, false },
	{ "fallocate", FL_SC_ARG_FD, 0, false },
	{ "sync_file_range", FL_SC_ARG_FD, 0, false },
	{ "lseek", FL_SC_ARG_FD, 0, false },
	{ "fstat", FL_SC_ARG_FD, 0, false },
	{ "close", FL_SC_ARG_FD, 0, false },
	{ "open", FL_SC_ARG_PATH, 0, false },
	{ "creat", FL_SC_ARG_PATH, 0, false },
	{ "unlink", FL_SC_ARG_PATH, 0, false },
	{ "rename", FL_SC_ARG_PATH, 0, false },
	{ "mkdir", FL_SC_ARG_PATH, 0, false },
	{ "rmdir", FL_SC_ARG_PATH, 0, false },
	{ "truncate", FL_SC_ARG_PATH, 0, false },
	{ "stat", FL_SC_ARG_PATH, 0, false },
	{ "openat", FL_SC_ARG_PATH, 1, true },
	{ "openat2", FL_SC_ARG_PATH, 1, true },
	{ "unlinkat", FL_SC_ARG_PATH, 1, true },
	{ "renameat", FL_SC_ARG_PATH, 1, true },
	{ "renameat2", FL_SC_ARG_PATH, 1, true },
	{ "mkdirat", FL_SC_ARG_PATH, 1, true },
	{ "newfstatat", FL_SC_ARG_PATH, 1, true },
	{ "statx", FL_SC_ARG_PATH, 1, true },
};

int fl_sc_file_arg(int nr, unsigned *ret_index, bool *ret_at)
{
	for (size_t i = 0; i < ARRAY_SIZE(file_args); i++) {
		if (seccomp_syscall_resolve_name(file_args[i].name) != nr)
			continue;
		*ret_index = file_args[i].index;
		*ret_at = file_args[i].at;
		return file_args[i].kind;
	}
	return FL_SC_ARG_NONE;
}

/* --- parameters ------------------------------------------------------------------------ */

static int parse_errno(const char *s)
{
	uint64_t v;

	if (fl_parse_uint(s, 4095, &v) == 0)
		return v ? (int)v : -EINVAL;
	for (int e = 1; e < 4096; e++) {
		const char *n = strerrorname_np(e);

		if (n && !strcasecmp(n, s))
			return e;
	}
	return -EINVAL;
}

enum sc_kind { SC_SYSCALL, SC_DISK, SC_IOLAT };

static bool has_nr(const struct fl_sc_fault *sf, const char *name)
{
	int k = seccomp_syscall_resolve_name(name);

	for (size_t i = 0; k >= 0 && i < sf->n_nr; i++)
		if (sf->nr[i] == k)
			return true;
	return false;
}

static void sc_free(void *priv)
{
	struct fl_sc_fault *sf = priv;

	if (sf)
		free(sf->path);
	free(sf);
}

static int sc_parse(struct fl_fault *f, const struct fl_params *p, struct fl_errors *errs,
		    enum sc_kind kind)
{
	struct fl_param *sc = fl_params_take(p, "syscall");
	struct fl_param *op = kind != SC_SYSCALL ? fl_params_take(p, "ops") : NULL;
	struct fl_param *er = kind != SC_IOLAT ? fl_params_take(p, "errno") : NULL;
	struct fl_param *dl = kind != SC_DISK ? fl_params_take(p, "delay") : NULL;
	struct fl_param *pc = fl_params_take(p, "percent");
	struct fl_param *nth = fl_params_take(p, "nth");
	struct fl_param *pa = fl_params_take(p, "path");
	struct fl_param *nt = fl_params_take(p, "notify");
	struct fl_sc_fault *sf = calloc(1, sizeof(*sf));
	size_t n0 = errs->n;
	const char *bad = NULL;
	int r;

	if (!sf)
		return -ENOMEM;
	f->priv = sf;
	sf->percent = 1.0;
	if (!f->target.exec)
		fl_errors_add(errs, &p->where,
			      "a '%s' fault through seccomp acts on a command faultline launches: "
			      "give 'target: { exec: [CMD, ARGS...] }', or use 'faultline exec "
			      "--fault SPEC -- CMD ARGS'",
			      f->kind);
	else if (f->target.pid || f->target.name || f->target.cmdline || f->target.cgroup)
		fl_errors_add(errs, &p->where,
			      "'target.exec' cannot be combined with other targets: seccomp "
			      "filters only reach the command faultline starts");

	if (sc && op) {
		fl_errors_add(errs, &op->where, "give 'ops' or 'syscall', not both");
	} else if (!sc && !op) {
		fl_errors_add(errs, &p->where, "a '%s' fault needs %s", f->kind,
			      kind == SC_SYSCALL ? "'syscall' (e.g. 'write' or 'fsync,fdatasync')"
						 : "'ops' (e.g. 'write,fsync') or 'syscall'");
	} else {
		struct fl_param *l = sc ? sc : op;

		r = fl_sc_resolve(l->value, !sc, sf->nr, FL_SC_MAX_NR, &sf->n_nr, &bad);
		if (r == -ENOMEM)
			return r;
		if (r == -E2BIG)
			fl_errors_add(errs, &l->where, "'%s' names more than %d syscalls", l->key,
				      FL_SC_MAX_NR);
		else if (r < 0 && sc)
			fl_errors_add(errs, &l->where,
				      "'syscall' must be a comma list of syscall names such as "
				      "'write,fsync', got unknown '%s'",
				      SHOW(bad));
		else if (r < 0)
			fl_errors_add(errs, &l->where,
				      "'ops' must be a comma list of open, read, write, fsync, "
				      "fdatasync, rename, unlink, mkdir, rmdir, truncate, "
				      "fallocate; got '%s'",
				      SHOW(bad));
		else if (has_nr(sf, "execve") || has_nr(sf, "execveat"))
			fl_errors_add(errs, &l->where,
				      "'execve' cannot be faulted: faultline starts the command "
				      "with it");
	}

	if (er) {
		r = parse_errno(er->value);
		if (r < 0)
			fl_errors_add(errs, &er->where,
				      "'errno' must be an error name such as 'EIO' or 'ENOSPC' "
				      "(or its number), got '%s'",
				      SHOW(er->value));
		else
			sf->err = r;
	} else if (kind == SC_DISK) {
		sf->err = EIO;
	}
	if (dl) {
		r = fl_parse_duration(dl->value, &sf->delay_ns);
		if (r < 0 || sf->delay_ns == 0 || sf->delay_ns > DELAY_MAX)
			fl_errors_add(errs, &dl->where,
				      "'delay' must be a duration from 1us to 60s such as '20ms', "
				      "got '%s'",
				      SHOW(dl->value));
	}
	if (kind == SC_SYSCALL && !er && !dl)
		fl_errors_add(errs, &p->where,
			      "a 'syscall' fault needs 'errno' (e.g. 'EIO'), 'delay' (e.g. '20ms') "
			      "or both");
	if (kind == SC_IOLAT && !dl)
		fl_errors_add(errs, &p->where, "an 'io-latency' fault needs 'delay' (e.g. '20ms')");

	if (pc) {
		char *end;
		double v;

		errno = 0;
		v = strtod(pc->value, &end);
		if (end != pc->value && *end == '%')
			end++;
		if (errno || end == pc->value || *end || isnan(v) || v <= 0 || v > 100)
			fl_errors_add(errs, &pc->where,
				      "'percent' must be a share above 0 and at most 100 such as "
				      "'30' or '0.5%%', got '%s'",
				      SHOW(pc->value));
		else
			sf->percent = v / 100.0;
	}
	if (nth) {
		if (fl_parse_uint(nth->value, NTH_MAX, &sf->nth) < 0 || sf->nth == 0)
			fl_errors_add(errs, &nth->where,
				      "'nth' must be a call number from 1 to %llu, got '%s'",
				      NTH_MAX, SHOW(nth->value));
		else if (pc)
			fl_errors_add(errs, &nth->where, "'nth' cannot be combined with 'percent'");
	}
	if (pa) {
		if (pa->value[0] != '/' || strlen(pa->value) >= PATH_MAX)
			fl_errors_add(errs, &pa->where,
				      "'path' must be an absolute path such as '/var/lib/db', got "
				      "'%s'",
				      SHOW(pa->value));
		else if (!(sf->path = strdup(pa->value)))
			return -ENOMEM;
		for (size_t i = 0; sf->path && i < sf->n_nr; i++) {
			_cleanup_free_ char *name = NULL; /* libseccomp's, malloc'ed */
			unsigned idx;
			bool at;

			if (fl_sc_file_arg(sf->nr[i], &idx, &at) != FL_SC_ARG_NONE)
				continue;
			name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, sf->nr[i]);
			fl_errors_add(errs, &pa->where,
				      "'path' needs calls that name a file; syscall '%s' does not",
				      name ? name : "?");
			break;
		}
	}
	if (nt) {
		if (strcmp(nt->value, "yes") && strcmp(nt->value, "no"))
			fl_errors_add(errs, &nt->where, "'notify' must be 'yes' or 'no', got '%s'",
				      SHOW(nt->value));
		sf->notify = !strcmp(nt->value, "yes");
	}
	sf->notify = sf->notify || sf->delay_ns || sf->percent < 1.0 || sf->nth || sf->path;
	if (sf->notify && (has_nr(sf, "sendmsg") || has_nr(sf, "recvmsg")))
		fl_errors_add(errs, sc ? &sc->where : &p->where,
			      "'sendmsg' and 'recvmsg' hand the supervisor its notification fd "
			      "before the command starts: they can only get a plain 'errno' on "
			      "every call");
	return errs->n > n0 ? -EINVAL : 0;
}

static int syscall_parse(struct fl_fault *f, const struct fl_params *p, struct fl_errors *errs)
{
	return sc_parse(f, p, errs, SC_SYSCALL);
}

static int disk_parse(struct fl_fault *f, const struct fl_params *p, struct fl_errors *errs)
{
	return sc_parse(f, p, errs, SC_DISK);
}

static int iolat_parse(struct fl_fault *f, const struct fl_params *p, struct fl_errors *errs)
{
	return sc_parse(f, p, errs, SC_IOLAT);
}

static int sc_probe(const struct fl_fault *f, const char **ret_reason)
{
	const struct fl_sc_fault *sf = f ? f->priv : NULL;
	uint32_t act = SECCOMP_RET_USER_NOTIF;

	if (prctl(PR_GET_SECCOMP) < 0) {
		*ret_reason = "the kernel has no seccomp (CONFIG_SECCOMP)";
		return -errno;
	}
	if (sf && sf->notify && syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &act) < 0) {
		*ret_reason = "the kernel has no seccomp user notification (Linux 5.0 or later)";
		return -EOPNOTSUPP;
	}
	return 0;
}

char *fl_sc_argv_json(char *const *argv)
{
	json_t *a = json_array();
	char *text;

	for (size_t i = 0; a && argv[i]; i++)
		json_array_append_new(a, json_string(argv[i]));
	text = a ? json_dumps(a, JSON_COMPACT) : NULL;
	json_decref(a);
	return text;
}

int fl_sc_argv_from_json(const char *text, char ***ret)
{
	json_t *a = json_loads(text, 0, NULL), *v;
	char **argv = NULL;
	size_t i;
	int r = 0;

	if (!json_is_array(a) || !json_array_size(a))
		r = -EINVAL;
	json_array_foreach (a, i, v) {
		if (r || !json_is_string(v))
			r = r ?: -EINVAL;
		else
			r = fl_strv_push(&argv, json_string_value(v));
	}
	json_decref(a);
	if (r < 0) {
		fl_strv_free(argv);
		return r;
	}
	*ret = argv;
	return 0;
}

/*
 * In a scenario, the fault owns a keeper: a child of the runner that launches the command
 * under the filter and supervises it (PR_SET_PDEATHSIG: it dies with the runner, and the
 * command with it). Its pidfile, its stats and the command's output are under the state dir.
 */
static int sc_plan(const struct fl_fault *f, struct fl_inject_ctx *ctx, json_t **ret_objects)
{
	_cleanup_free_ char *base = NULL, *pidfile = NULL, *stats = NULL, *log = NULL;
	json_t *argv = f->target.exec ? json_loads(f->target.exec, 0, NULL) : NULL;

	if (!argv) {
		free(ctx->reason);
		ctx->reason = strdup("seccomp faults act on a command faultline launches: give "
				     "'target.exec'");
		return -EINVAL;
	}
	if (asprintf(&base, "%s/exec/%s-%s", fl_state_dir(), ctx->run_id, f->name) < 0 ||
	    asprintf(&pidfile, "%s.pid", base) < 0 || asprintf(&stats, "%s.json", base) < 0 ||
	    asprintf(&log, "%s.log", base) < 0) {
		json_decref(argv);
		return -ENOMEM;
	}
	*ret_objects = json_pack("[{s:s, s:s, s:s, s:s, s:o, s:I}]", "type", "exec-supervisor",
				 "pidfile", pidfile, "stats", stats, "log", log, "argv", argv,
				 "seed", (json_int_t)(fl_rand_next(ctx->rng) >> 1));
	return *ret_objects ? 0 : -ENOMEM;
}

static void keeper(struct fl_fault *f, json_t *o, int ready)
{
	const char *log = json_string_value(json_object_get(o, "log"));
	const char *stats = json_string_value(json_object_get(o, "stats"));
	_cleanup_free_ char *text = json_dumps(json_object_get(o, "argv"), JSON_COMPACT);
	struct fl_sc_opts opts = {
		.seed = (uint64_t)json_integer_value(json_object_get(o, "seed")),
		.ready_fd = ready,
		.stats_path = stats,
	};
	struct fl_sc_result res;
	char **argv = NULL, *reason = NULL;
	sigset_t none;
	int fd, r;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		dup2(fd, 0);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	if (!text || fl_sc_argv_from_json(text, &argv) < 0)
		_exit(5);
	r = fl_seccomp_exec(f, 1, argv, &opts, &res, &reason);
	if (reason)
		fprintf(stderr, "faultline: %s\n", reason);
	_exit(r < 0 ? 5 : 0);
}

static int sc_apply(const struct fl_fault *f, json_t *objects, struct fl_inject_ctx *ctx,
		    json_t *injected)
{
	json_t *o = json_array_get(objects, 0);
	const char *pidfile = json_string_value(json_object_get(o, "pidfile"));
	_cleanup_free_ char *dir =
		pidfile ? strndup(pidfile, strrchr(pidfile, '/') - pidfile) : NULL;
	char buf[64], c = 0;
	uint64_t st;
	int p[2], r, n;
	pid_t pid;

	if (!dir)
		return -EINVAL;
	r = fl_mkdir_p(dir, 0700);
	if (r < 0)
		return r;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(p[0]);
		close(p[1]);
		return r;
	}
	if (pid == 0) {
		close(p[0]);
		keeper((struct fl_fault *)f, o, p[1]);
	}
	close(p[1]);
	{
		struct pollfd pfd = { p[0], POLLIN, 0 };

		/* the filter is in place when the keeper says so; EOF: it failed */
		if (poll(&pfd, 1, 5000) == 1 && read(p[0], &c, 1) == 1 && c == '1')
			r = 0;
		else
			r = -ECHILD;
	}
	close(p[0]);
	if (r == 0)
		r = fl_proc_starttime(pid, &st);
	if (r == 0) {
		n = snprintf(buf, sizeof(buf), "%d %llu\n", pid, (unsigned long long)st);
		r = fl_write_file_atomic(pidfile, buf, (size_t)n, 0600);
	}
	if (r < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		free(ctx->reason);
		if (asprintf(&ctx->reason, "cannot launch the command under seccomp (see %s): %s",
			     json_string_value(json_object_get(o, "log")), strerror(-r)) < 0)
			ctx->reason = NULL;
		return r;
	}
	json_object_set_new(injected, "supervisor", json_integer(pid));
	json_object_set_new(injected, "log", json_copy(json_object_get(o, "log")));
	return 0;
}

/* The keeper's pid from its pidfile, as a verified pidfd; -ESRCH when it is gone. */
static int keeper_pidfd(json_t *o, pid_t *ret_pid)
{
	const char *pidfile = json_string_value(json_object_get(o, "pidfile"));
	_cleanup_free_ char *text = NULL;
	unsigned long long st = 0;
	int pid = 0;

	if (!pidfile || fl_read_file(pidfile, &text, NULL) < 0 ||
	    sscanf(text, "%d %llu", &pid, &st) != 2)
		return -ESRCH; /* never started, or already ended and cleaned up */
	*ret_pid = pid;
	return fl_pidfd_open_verified(pid, st);
}

/* What the supervisor counted so far: it writes its stats file on SIGUSR1. */
static int sc_observe(json_t *objects, json_t *observed)
{
	json_t *o = json_array_get(objects, 0);
	const char *stats = json_string_value(json_object_get(o, "stats"));
	pid_t pid;
	json_t *j;
	int fd;

	if (!stats)
		return 0;
	fd = keeper_pidfd(o, &pid);
	if (fd >= 0) {
		unlink(stats);
		if (pidfd_send_signal(fd, SIGUSR1, NULL, 0) == 0)
			/* a few ms: the supervisor answers between two notifications */
			for (int i = 0; i < 200 && access(stats, F_OK) < 0; i++)
				nanosleep(&(struct timespec){ 0, 5 * 1000 * 1000 }, NULL);
		close(fd);
	}
	j = json_load_file(stats, 0, NULL);
	if (!j)
		return 0;
	json_object_update(observed, j);
	json_decref(j);
	return 0;
}

/* End the keeper: SIGTERM (passed on to the command), SIGKILL after 5 s (the command dies
 * with it). Already gone is success. */
static int sc_revert(json_t *objects, char **ret_reason)
{
	json_t *o = json_array_get(objects, 0);
	const char *pidfile = json_string_value(json_object_get(o, "pidfile"));
	pid_t pid = 0;
	int fd = keeper_pidfd(o, &pid);

	if (fd >= 0) {
		struct pollfd pfd = { fd, POLLIN, 0 };

		if (pidfd_send_signal(fd, SIGTERM, NULL, 0) == 0 && poll(&pfd, 1, 5000) != 1) {
			pidfd_send_signal(fd, SIGKILL, NULL, 0);
			poll(&pfd, 1, 2000);
		}
		close(fd);
		waitpid(pid, NULL, WNOHANG); /* the runner's child: reap it */
	} else if (fd != -ESRCH && fd != -ENOENT) {
		if (ret_reason && asprintf(ret_reason, "cannot end the command's supervisor %d: %s",
					   pid, strerror(-fd)) < 0)
			*ret_reason = NULL;
		return fd;
	}
	if (pidfile)
		unlink(pidfile);
	return 0;
}

static int sc_describe(const struct fl_fault *f, char *buf, size_t len)
{
	const struct fl_sc_fault *sf = f->priv;
	char calls[256] = "", d[32], pct[48] = "", nth[40] = "";
	size_t o = 0;

	for (size_t i = 0; sf && i < sf->n_nr && o < sizeof(calls) - 1; i++) {
		const char *n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, sf->nr[i]);
		int k = snprintf(calls + o, sizeof(calls) - o, "%s%s", i ? "," : "", n ? n : "?");
		free((char *)n);
		if (k > 0)
			o += (size_t)k;
	}
	if (!sf)
		return snprintf(buf, len, "%s", f->kind);
	if (sf->percent < 1.0)
		snprintf(pct, sizeof(pct), " on %g%% of calls", sf->percent * 100);
	if (sf->nth)
		snprintf(nth, sizeof(nth), " on call %llu", (unsigned long long)sf->nth);
	snprintf(buf, len, "%s%s%s%s %s %s%s%s%s in the launched command",
		 sf->delay_ns ? "delay " : "",
		 sf->delay_ns ? fl_format_duration(sf->delay_ns, d, sizeof(d)) : "",
		 sf->delay_ns && sf->err ? " then " : "", sf->err ? strerrorname_np(sf->err) : "",
		 sf->err ? "on" : "of", calls, sf->path ? " under " : "", sf->path ? sf->path : "",
		 sf->percent < 1.0 ? pct : nth);
	return 0;
}

static const char *const syscall_keys[] = { "syscall", "errno", "delay",  "percent",
					    "nth",     "path",	"notify", NULL };
static const char *const disk_keys[] = { "ops", "syscall", "errno",  "percent",
					 "nth", "path",	   "notify", NULL };
static const char *const iolat_keys[] = { "ops", "syscall", "delay",  "percent",
					  "nth", "path",    "notify", NULL };

#define SC_BACKEND(sym, k, n, sum, keyv, parsefn) \
	const struct fl_backend sym = {           \
		.kind = k,                        \
		.name = n,                        \
		.summary = sum,                   \
		.keys = keyv,                     \
		.parse = parsefn,                 \
		.free_priv = sc_free,             \
		.probe = sc_probe,                \
		.plan = sc_plan,                  \
		.apply = sc_apply,                \
		.revert = sc_revert,              \
		.observe = sc_observe,            \
		.reversible = true,               \
		.describe = sc_describe,          \
	}

SC_BACKEND(fl_backend_syscall_seccomp, "syscall", "seccomp",
	   "fail or delay syscalls of a launched command (seccomp errno filter or user "
	   "notification)",
	   syscall_keys, syscall_parse);
SC_BACKEND(fl_backend_disk_seccomp, "disk-error", "seccomp",
	   "fail file operations of a launched command (path-aware through seccomp user "
	   "notification)",
	   disk_keys, disk_parse);
SC_BACKEND(fl_backend_iolat_seccomp, "io-latency", "seccomp-notify",
	   "delay file operations of a launched command (seccomp user notification)", iolat_keys,
	   iolat_parse);

/* --- the filter ------------------------------------------------------------------------- */

static bool is_sc_backend(const struct fl_backend *b)
{
	return b == &fl_backend_syscall_seccomp || b == &fl_backend_disk_seccomp ||
	       b == &fl_backend_iolat_seccomp;
}

/* One rule per syscall: notify if any fault on it needs the supervisor, else the first errno. */
static int build_filter(struct fl_fault *faults, size_t n, scmp_filter_ctx *ret, bool *ret_notify)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int done[FL_SC_MAX_NR * 8];
	size_t n_done = 0;
	bool notify = false;
	int r = 0;

	if (!ctx)
		return -ENOMEM;
	/*
	 * We inject faults, we do not sandbox: where the kernel would turn on the Speculative
	 * Store Bypass mitigation for every seccomp'd task (spec_store_bypass=seccomp), the
	 * command would run slower everywhere, not only in its faulted calls. Best effort.
	 */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1);
	for (size_t i = 0; i < n && !r; i++) {
		const struct fl_sc_fault *sf = faults[i].priv;

		for (size_t j = 0; j < sf->n_nr && !r; j++) {
			int nr = sf->nr[j];
			uint32_t act = 0;
			bool seen = false;

			for (size_t k = 0; k < n_done; k++)
				seen = seen || done[k] == nr;
			if (seen)
				continue;
			if (n_done == ARRAY_SIZE(done)) {
				r = -E2BIG;
				break;
			}
			done[n_done++] = nr;
			for (size_t k = i; k < n; k++) {
				const struct fl_sc_fault *o = faults[k].priv;

				for (size_t m = 0; m < o->n_nr; m++) {
					if (o->nr[m] != nr)
						continue;
					if (o->notify)
						act = SCMP_ACT_NOTIFY;
					else if (!act)
						act = SCMP_ACT_ERRNO(o->err);
				}
			}
			notify = notify || act == SCMP_ACT_NOTIFY;
			r = seccomp_rule_add(ctx, act, nr, 0);
		}
	}
	if (r < 0) {
		seccomp_release(ctx);
		return r;
	}
	*ret = ctx;
	*ret_notify = notify;
	return 0;
}

/* --- reading the caller's file ----------------------------------------------------------- */

int fl_sc_read_string(pid_t pid, uint64_t addr, char *buf, size_t len)
{
	size_t got = 0;
	long page = sysconf(_SC_PAGESIZE);

	if (!addr)
		return -EFAULT;
	while (got < len - 1) {
		/* never cross a page in one read: the next one may be unmapped */
		size_t chunk = (size_t)page - ((addr + got) % (size_t)page);
		struct iovec local, remote;
		ssize_t k;

		if (chunk > len - 1 - got)
			chunk = len - 1 - got;
		local = (struct iovec){ buf + got, chunk };
		remote = (struct iovec){ (void *)(uintptr_t)(addr + got), chunk };
		k = process_vm_readv(pid, &local, 1, &remote, 1, 0);
		if (k <= 0)
			return k < 0 ? -errno : -EFAULT;
		if (memchr(buf + got, '\0', (size_t)k))
			return 0;
		got += (size_t)k;
	}
	buf[len - 1] = '\0';
	return -ENAMETOOLONG;
}

static int read_link(pid_t pid, const char *what, char *buf, size_t len)
{
	char p[64];
	ssize_t k;

	snprintf(p, sizeof(p), "/proc/%d/%s", pid, what);
	k = readlink(p, buf, len - 1);
	if (k < 0)
		return -errno;
	buf[k] = '\0';
	return 0;
}

/* The file a notified call names, as an absolute path (not normalized: '..' stays). */
static int call_path(const struct seccomp_notif *req, char *buf, size_t len)
{
	char rel[PATH_MAX], base[PATH_MAX], what[48];
	unsigned idx;
	bool at;
	int kind = fl_sc_file_arg(req->data.nr, &idx, &at), r;

	if (kind == FL_SC_ARG_FD) {
		snprintf(what, sizeof(what), "fd/%d", (int)req->data.args[0]);
		return read_link((pid_t)req->pid, what, buf, len);
	}
	if (kind != FL_SC_ARG_PATH)
		return -EINVAL;
	r = fl_sc_read_string((pid_t)req->pid, req->data.args[idx], rel, sizeof(rel));
	if (r < 0)
		return r;
	if (rel[0] == '/') {
		snprintf(buf, len, "%s", rel);
		return 0;
	}
	if (at && (int)req->data.args[0] != AT_FDCWD)
		snprintf(what, sizeof(what), "fd/%d", (int)req->data.args[0]);
	else
		snprintf(what, sizeof(what), "cwd");
	r = read_link((pid_t)req->pid, what, base, sizeof(base));
	if (r < 0)
		return r;
	if ((size_t)snprintf(buf, len, "%s/%s", strcmp(base, "/") ? base : "", rel) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* --- the supervisor ---------------------------------------------------------------------- */

/* A delayed answer: the heap (shared with nfqd) holds its slot index and deadline. */
struct slot {
	uint64_t id; /* the notification's cookie */
	int err;     /* 0: let the call run; else fail it with this errno */
};

struct sup {
	struct fl_fault *faults;
	size_t n;
	int nfd;
	uint64_t rng;
	bool released; /* the faults are over: every call goes through */
	struct nfqd_heap heap;
	struct slot *slot; /* pending answers */
	uint32_t *free_ix; /* unused slots */
	size_t n_slot, n_free;
	int tfd;
	uint64_t notifications;
};

static int slot_get(struct sup *s, uint64_t id, int err, uint32_t *ret)
{
	if (!s->n_free) {
		size_t cap = s->n_slot ? s->n_slot * 2 : 64;
		struct slot *v = realloc(s->slot, cap * sizeof(*v));
		uint32_t *f = v ? realloc(s->free_ix, cap * sizeof(*f)) : NULL;

		if (v)
			s->slot = v;
		if (!f)
			return -ENOMEM;
		s->free_ix = f;
		for (size_t i = cap; i > s->n_slot; i--)
			s->free_ix[s->n_free++] = (uint32_t)(i - 1);
		s->n_slot = cap;
	}
	*ret = s->free_ix[--s->n_free];
	s->slot[*ret] = (struct slot){ id, err };
	return 0;
}

static int respond(int nfd, uint64_t id, int err)
{
	struct seccomp_notif_resp resp = { .id = id };

	if (err)
		resp.error = -err;
	else
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	/* ENOENT: the caller is gone (killed, or the call was interrupted by a signal) */
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* Which fault hits this call: 1 with its errno and delay, or 0 to let it through. */
static int decide(struct sup *s, const struct seccomp_notif *req, int *ret_err, uint64_t *ret_delay)
{
	char path[PATH_MAX];
	int have_path = 0; /* 0 not read, 1 read, -1 unreadable */

	for (size_t i = 0; i < s->n && !s->released; i++) {
		struct fl_sc_fault *sf = s->faults[i].priv;
		bool covered = false;
		bool fire;

		for (size_t j = 0; j < sf->n_nr && !covered; j++)
			covered = sf->nr[j] == (int)req->data.nr;
		if (!covered)
			continue;
		if (sf->path) {
			if (!have_path) {
				have_path = call_path(req, path, sizeof(path)) < 0 ? -1 : 1;
				/* the memory we read must still be the caller's */
				if (have_path > 0 &&
				    ioctl(s->nfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
					have_path = -1;
			}
			if (have_path < 0 || !fl_sc_path_under(path, sf->path))
				continue;
		}
		sf->seen++;
		if (sf->nth)
			fire = sf->seen == sf->nth;
		else
			fire = sf->percent >= 1.0 ||
			       (double)(fl_rand_next(&s->rng) >> 11) * 0x1.0p-53 < sf->percent;
		if (!fire)
			continue;
		sf->hit++;
		*ret_err = sf->err;
		*ret_delay = sf->delay_ns;
		return 1;
	}
	return 0;
}

static int arm_timer(int tfd, uint64_t deadline_ns)
{
	struct itimerspec its = {
		.it_value = { (time_t)(deadline_ns / NSEC_PER_SEC),
			      (long)(deadline_ns % NSEC_PER_SEC) },
	};

	if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return -errno;
	return 0;
}

static int on_notification(struct sup *s)
{
	struct seccomp_notif req;
	uint64_t delay = 0;
	int err = 0, r;

	memset(&req, 0, sizeof(req));
	if (ioctl(s->nfd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
		return errno == ENOENT || errno == EINTR ? 0 : -errno;
	s->notifications++;
	if (!decide(s, &req, &err, &delay))
		return respond(s->nfd, req.id, 0);
	if (!delay)
		return respond(s->nfd, req.id, err);
	/* a delay never blocks the loop: other threads' calls are answered meanwhile */
	uint64_t now = fl_now_ns();
	struct nfqd_item it = { .due = now + delay, .arrival = now };
	const struct nfqd_item *top = nfqd_heap_top(&s->heap);
	bool rearm = !top || it.due < top->due;

	r = slot_get(s, req.id, err, &it.id);
	if (r < 0)
		return r;
	r = nfqd_heap_push(&s->heap, &it);
	if (r < 0)
		return r;
	return rearm ? arm_timer(s->tfd, it.due) : 0;
}

static int on_timer(struct sup *s)
{
	uint64_t now = fl_now_ns(), ticks;
	const struct nfqd_item *top;
	int r = 0;

	if (read(s->tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		return -errno;
	while ((top = nfqd_heap_top(&s->heap)) && top->due <= now) {
		struct nfqd_item it;

		nfqd_heap_pop(&s->heap, &it);
		s->free_ix[s->n_free++] = it.id;
		if (!r)
			r = respond(s->nfd, s->slot[it.id].id, s->slot[it.id].err);
	}
	if (top && arm_timer(s->tfd, top->due) < 0 && !r)
		r = -errno;
	return r;
}

/* The child's messages: the notification fd after the filter is loaded, or an errno. */
struct hello {
	int stage; /* 0: filter loaded; 1: the filter could not be loaded; 2: exec failed */
	int err;
};

static int send_hello(int sock, int stage, int err, int fd)
{
	struct hello h = { stage, err };
	struct iovec iov = { &h, sizeof(h) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		m.msg_control = u.buf;
		m.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(sock, &m, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* 0 with *h (and *ret_fd, or -1); -EPIPE when the child closed the socket (exec'd or died). */
static int recv_hello(int sock, struct hello *h, int *ret_fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { h, sizeof(*h) };
	struct msghdr m = { .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c;
	ssize_t k;

	*ret_fd = -1;
	do
		k = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	while (k < 0 && errno == EINTR);
	if (k < 0)
		return -errno;
	if (k == 0)
		return -EPIPE;
	if (k != sizeof(*h))
		return -EPROTO;
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(ret_fd, CMSG_DATA(c), sizeof(int));
	return 0;
}

static _Noreturn void child(scmp_filter_ctx ctx, bool notify, int sock, char *const *argv,
			    const sigset_t *old)
{
	int r, fd = -1, e;

	/* the command ends with its supervisor: it must never run on, half-filtered */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_DFL); /* faultline ignores it; the command gets the default */
	sigprocmask(SIG_SETMASK, old, NULL);
	r = seccomp_load(ctx);
	if (r < 0) {
		send_hello(sock, 1, -r, -1);
		_exit(127);
	}
	if (notify) {
		fd = seccomp_notify_fd(ctx);
		if (fd < 0) {
			send_hello(sock, 1, fd == -1 ? EBADF : -fd, -1);
			_exit(127);
		}
	}
	if (send_hello(sock, 0, 0, fd) < 0)
		_exit(127);
	if (fd >= 0)
		close(fd);
	execvp(argv[0], argv);
	e = errno;
	send_hello(sock, 2, e, -1);
	_exit(e == ENOENT ? 127 : 126);
}

static int set_reason(char **ret_reason, int r, const char *fmt, ...) _printf_(3, 4);
static int set_reason(char **ret_reason, int r, const char *fmt, ...)
{
	va_list ap;

	if (ret_reason) {
		free(*ret_reason);
		va_start(ap, fmt);
		if (vasprintf(ret_reason, fmt, ap) < 0)
			*ret_reason = NULL;
		va_end(ap);
	}
	return r;
}

static void epoll_add(int ep, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	if (fd >= 0)
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* The counts so far (or final, with the wait status and the reason) as JSON, atomically. */
static void write_stats(const char *path, const struct sup *s, const int *wstatus,
			const struct fl_sc_result *res)
{
	json_t *j = json_pack("{s:b, s:I, s:o}", "sync_wakeup", res->sync_wakeup, "notifications",
			      (json_int_t)s->notifications, "faults", json_array());
	char *text;

	for (size_t i = 0; j && i < s->n; i++) {
		const struct fl_sc_fault *sf = s->faults[i].priv;

		json_array_append_new(json_object_get(j, "faults"),
				      json_pack("{s:s, s:I, s:I}", "name", s->faults[i].name,
						"seen", (json_int_t)sf->seen, "hit",
						(json_int_t)sf->hit));
	}
	if (j && wstatus)
		json_object_set_new(j, "wait_status", json_integer(*wstatus));
	text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (text)
		fl_write_file_atomic(path, text, strlen(text), 0600);
	free(text);
	json_decref(j);
}

enum { EV_NOTIFY, EV_SOCK, EV_PIDFD, EV_SIGNAL, EV_HEAP, EV_DEADLINE };

int fl_seccomp_exec(struct fl_fault *faults, size_t n, char *const *argv,
		    const struct fl_sc_opts *o, struct fl_sc_result *res, char **ret_reason)
{
	_cleanup_close_ int sock_p = -1, pidfd = -1, ep = -1, sfd = -1, tfd = -1, dfd = -1;
	_cleanup_close_ int nfd = -1;
	scmp_filter_ctx ctx = NULL;
	struct sup s = { .faults = faults, .n = n, .nfd = -1, .rng = o->seed };
	sigset_t mask, old;
	int sv[2], r, status = 0;
	bool notify = false, exited = false, term_sent = false;
	struct hello h;
	pid_t pid;

	*res = (struct fl_sc_result){ 0 };
	for (size_t i = 0; i < n; i++)
		if (!is_sc_backend(faults[i].backend) || !faults[i].priv)
			return set_reason(ret_reason, -EINVAL, "fault '%s' is not a seccomp fault",
					  faults[i].name);
	for (size_t i = 0; i < n && o->release; i++)
		((struct fl_sc_fault *)faults[i].priv)->notify = true;
	r = build_filter(faults, n, &ctx, &notify);
	if (r < 0)
		return set_reason(ret_reason, r, "cannot build the seccomp filter: %s",
				  strerror(-r));
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = -errno;
		seccomp_release(ctx);
		return set_reason(ret_reason, r, "socketpair: %s", strerror(-r));
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	if (o->stats_path)
		sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, &old);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		child(ctx, notify, sv[1], argv, &old);
	}
	r = pid < 0 ? -errno : 0;
	seccomp_release(ctx);
	close(sv[1]);
	sock_p = sv[0];
	if (r < 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return set_reason(ret_reason, r, "fork: %s", strerror(-r));
	}
	pidfd = pidfd_open(pid, 0);
	r = recv_hello(sock_p, &h, &nfd);
	if (r == 0 && h.stage != 0)
		r = -h.err;
	if (r < 0 || pidfd < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (pidfd < 0)
			return set_reason(ret_reason, -errno, "pidfd_open: %m");
		return set_reason(ret_reason, r, "cannot install the seccomp filter: %s",
				  strerror(-r));
	}
	s.nfd = nfd;
	res->supervised = nfd >= 0;
	if (o->ready_fd > 0) {
		if (write(o->ready_fd, "1", 1) < 0)
			log_debug("seccomp: readiness: %m");
		close(o->ready_fd);
	}
	if (nfd >= 0 && !o->no_sync_wakeup) {
		/* the supervisor's wake-ups go to the waiting caller's CPU: ~4 us instead of ~47 */
		uint64_t fl = SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP;
		res->sync_wakeup = ioctl(nfd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, fl) == 0;
		if (!res->sync_wakeup)
			log_debug("seccomp: no sync wake-up flag: %m");
	}

	ep = epoll_create1(EPOLL_CLOEXEC);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	dfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (ep < 0 || sfd < 0 || tfd < 0 || dfd < 0) {
		r = -errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		sigprocmask(SIG_SETMASK, &old, NULL);
		return set_reason(ret_reason, r, "supervisor setup: %s", strerror(-r));
	}
	s.tfd = tfd;
	epoll_add(ep, nfd, EV_NOTIFY);
	epoll_add(ep, sock_p, EV_SOCK);
	epoll_add(ep, pidfd, EV_PIDFD);
	epoll_add(ep, sfd, EV_SIGNAL);
	epoll_add(ep, tfd, EV_HEAP);
	epoll_add(ep, dfd, EV_DEADLINE);
	if (o->for_ns)
		arm_timer(dfd, fl_now_ns() + o->for_ns);

	r = 0;
	while (!exited) {
		struct epoll_event ev[8];
		int k = epoll_wait(ep, ev, ARRAY_SIZE(ev), -1);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		for (int i = 0; i < k; i++) {
			switch (ev[i].data.u32) {
			case EV_NOTIFY:
				if (ev[i].events & (EPOLLHUP | EPOLLERR)) {
					/* every filtered task is gone */
					epoll_ctl(ep, EPOLL_CTL_DEL, nfd, NULL);
					break;
				}
				r = on_notification(&s);
				if (r < 0)
					log_debug("seccomp: notification: %s", strerror(-r));
				r = 0;
				break;
			case EV_HEAP:
				r = on_timer(&s);
				if (r < 0)
					log_debug("seccomp: delayed answer: %s", strerror(-r));
				r = 0;
				break;
			case EV_SOCK: {
				int fd2;
				int k2 = recv_hello(sock_p, &h, &fd2);

				if (fd2 >= 0)
					close(fd2);
				if (k2 == 0 && h.stage == 2)
					r = set_reason(ret_reason, 0, "cannot run '%s': %s",
						       SHOW(argv[0]), strerror(h.err));
				epoll_ctl(ep, EPOLL_CTL_DEL, sock_p, NULL);
				break;
			}
			case EV_SIGNAL: {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) != sizeof(si))
					break;
				if (si.ssi_signo == SIGUSR1 && o->stats_path) {
					write_stats(o->stats_path, &s, NULL, res);
					break;
				}
				/* like a shell: the command gets the signal and decides */
				kill(pid, (int)si.ssi_signo);
				break;
			}
			case EV_DEADLINE: {
				uint64_t t;

				if (read(dfd, &t, sizeof(t)) < 0)
					break;
				if (o->release) {
					/* delayed calls already held end on time */
					s.released = res->released = true;
					break;
				}
				res->timed_out = true;
				kill(pid, term_sent ? SIGKILL : SIGTERM);
				if (!term_sent)
					arm_timer(dfd, fl_now_ns() + (o->grace_ns ? o->grace_ns
										  : NSEC_PER_SEC));
				term_sent = true;
				break;
			}
			case EV_PIDFD:
				if (waitpid(pid, &status, WNOHANG) == pid)
					exited = true;
				break;
			}
		}
	}
	nfqd_heap_free(&s.heap);
	free(s.slot);
	free(s.free_ix);
	sigprocmask(SIG_SETMASK, &old, NULL);
	res->wstatus = status;
	res->notifications = s.notifications;
	if (o->stats_path)
		write_stats(o->stats_path, &s, &status, res);
	if (r < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return set_reason(ret_reason, r, "supervisor: %s", strerror(-r));
	}
	return 0;
}

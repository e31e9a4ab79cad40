// SPDX-License-Identifier: GPL-2.0-only
/* `faultline exec --fault SPEC... -- CMD ARGS`: run a command under seccomp faults. */
#include <errno.h>
#include <jansson.h>
#include <seccomp.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>

#include "cmd/cmd.h"
#include "inject/injector.h"
#include "inject/seccomp.h"
#include "scenarios/scenario.h"

#define MAX_FAULTS 16

const char cmd_exec_usage[] =
	"Usage: faultline exec --fault SPEC [--fault SPEC...] [--for DURATION [--release]]\n"
	"                      [--seed N] [--stats FILE] -- CMD [ARGS...]\n"
	"\n"
	"Run CMD with syscall faults installed as a seccomp filter before it starts (no root\n"
	"needed), and exit with CMD's exit status (128+N if signal N ended it). Faults that\n"
	"need a decision per call (percent, nth, path, delay) are answered by faultline itself\n"
	"through seccomp user notification; plain errno faults on every call are a kernel filter\n"
	"(~30 ns a call). Children and threads of CMD inherit the faults. CMD is killed if\n"
	"faultline dies. Signals to faultline (Ctrl-C, SIGTERM) are passed on to CMD.\n"
	"\n"
	"SPEC is KEY=VALUE,... (a word without '=' continues the previous list):\n"
	"  kind=syscall      (default) syscall=LIST errno=E | delay=D (or both: delay, then fail)\n"
	"  kind=disk-error   ops=LIST (open, read, write, fsync, fdatasync, rename, unlink,\n"
	"                    mkdir, rmdir, truncate, fallocate) or syscall=LIST; errno=E\n"
	"                    (default EIO); path=PREFIX\n"
	"  kind=io-latency   ops=LIST or syscall=LIST; delay=D; path=PREFIX\n"
	"  every kind        percent=P (share of matching calls), nth=N (only the Nth\n"
	"                    matching call), notify=yes (decide in faultline even for plain\n"
	"                    errno faults), name=NAME\n"
	"path matches the file an fd refers to (/proc/PID/fd) or the path a call names,\n"
	"made absolute but not normalized.\n"
	"\n"
	"Options:\n"
	"  --fault SPEC       a fault (repeatable; the first that matches a call decides)\n"
	"  --for DURATION     end CMD after DURATION (SIGTERM, SIGKILL 1s later)\n"
	"  --release          with --for: at its end stop injecting and let CMD run on (every\n"
	"                     fault is then decided by faultline, never a kernel errno rule)\n"
	"  --seed N           seed for percent (default: random)\n"
	"  --stats FILE       write what was asked and what happened as JSON to FILE\n"
	"  --no-sync-wakeup   do not ask the kernel for synchronous wake-ups (benchmarks)\n"
	"Common options:\n"
	"  -v, --verbose      print per-fault counts on stderr when CMD ends\n"
	"  -h, --help         this help\n"
	"\n"
	"Exit status: CMD's; 2 invalid --fault or usage, 3 this host has no seccomp (or user\n"
	"notification), 5 internal error; 126/127 CMD could not be run / was not found.\n"
	"\n"
	"Examples:\n"
	"  faultline exec --fault syscall=fsync,errno=EIO -- sqlite3 t.db 'create table t(x)'\n"
	"  faultline exec --fault syscall=write,errno=EIO,percent=30 -- ./writer\n"
	"  faultline exec --fault kind=disk-error,ops=write,path=/var/tmp/db,errno=ENOSPC -- ./db\n"
	"  faultline exec --fault kind=io-latency,syscall=fsync,delay=20ms -- ./app\n"
	"  faultline exec --fault syscall=fsync,errno=EIO,nth=3 --for 30s -- redis-server\n";

static const char *const kinds[][2] = {
	{ "syscall", "seccomp" },
	{ "disk-error", "seccomp" },
	{ "io-latency", "seccomp-notify" },
};

static bool is_key_word(const char *t)
{
	size_t k = strspn(t, "abcdefghijklmnopqrstuvwxyz_.");

	return k > 0 && t[k] == '=';
}

static struct fl_param *find_param(const struct fl_params *p, const char *key)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->v[i].key, key))
			return &p->v[i];
	return NULL;
}

/* "kind=disk-error,ops=write,fsync,path=/x" into params; -EINVAL with the error printed. */
static int parse_spec(const struct fl_cmd *self, const char *spec, struct fl_params *p)
{
	struct fl_where w = { .flag = "--fault" };
	const struct fl_param *kp;
	const char *kind;
	size_t i;

	for (const char *t = spec; *t;) {
		/* a word without KEY= continues the previous value: syscall=write,fsync */
		const char *end = t + strcspn(t, ",");
		const char *eq = strchr(t, '=');
		_cleanup_free_ char *key = NULL, *val = NULL;

		while (*end == ',' && !is_key_word(end + 1) && end[1])
			end += 1 + strcspn(end + 1, ",");
		if (!is_key_word(t)) {
			fl_usage_error(self, "--fault: '%.*s' is not KEY=VALUE", (int)(end - t), t);
			return -EINVAL;
		}
		key = strndup(t, (size_t)(eq - t));
		val = strndup(eq + 1, (size_t)(end - eq - 1));
		if (!key || !val)
			return -ENOMEM;
		if (find_param(p, key)) {
			fl_usage_error(self, "--fault: '%s' is given twice", key);
			return -EINVAL;
		}
		if (fl_params_add(p, key, val, &w) < 0)
			return -ENOMEM;
		t = *end ? end + 1 : end;
	}
	kp = find_param(p, "kind");
	kind = kp ? kp->value : "syscall";
	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		if (!strcmp(kinds[i][0], kind))
			break;
	if (i == ARRAY_SIZE(kinds)) {
		fl_usage_error(self,
			       "--fault: 'kind' must be syscall, disk-error or io-latency for a "
			       "launched command, got '%s'",
			       kind);
		return -EINVAL;
	}
	if (!kp && fl_params_add(p, "kind", kind, &w) < 0)
		return -ENOMEM;
	if (!find_param(p, "backend") && fl_params_add(p, "backend", kinds[i][1], &w) < 0)
		return -ENOMEM;
	p->where = w;
	return 0;
}

static json_t *fault_stats(const struct fl_fault *f)
{
	const struct fl_sc_fault *sf = f->priv;
	json_t *o = json_object(), *calls = json_array();
	char desc[512];

	for (size_t i = 0; i < sf->n_nr; i++) {
		char *n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, sf->nr[i]);
		json_array_append_new(calls, json_string(n ? n : "?"));
		free(n);
	}
	f->backend->describe(f, desc, sizeof(desc));
	json_object_set_new(o, "name", json_string(f->name));
	json_object_set_new(o, "kind", json_string(f->kind));
	json_object_set_new(o, "backend", json_string(f->backend->name));
	json_object_set_new(o, "description", json_string(desc));
	json_object_set_new(o, "syscalls", calls);
	json_object_set_new(o, "mechanism", json_string(sf->notify ? "notify" : "errno-filter"));
	/* an errno filter is answered by the kernel: nothing to count */
	json_object_set_new(o, "seen",
			    sf->notify ? json_integer((json_int_t)sf->seen) : json_null());
	json_object_set_new(o, "hit", sf->notify ? json_integer((json_int_t)sf->hit) : json_null());
	return o;
}

int cmd_exec(int argc, char **argv, struct fl_cli *cli)
{
	const struct fl_cmd *self = fl_cmd_find("exec");
	struct fl_fault faults[MAX_FAULTS] = { 0 };
	struct fl_errors errs = { 0 };
	struct fl_sc_opts o = { 0 };
	struct fl_sc_result res;
	const char *specs[MAX_FAULTS], *for_s = NULL, *seed_s = NULL, *stats = NULL;
	_cleanup_free_ char *cmdline = NULL, *reason = NULL, *argv_json = NULL;
	size_t n_specs = 0, n = 0;
	char **cmd = NULL;
	int ret = FL_EXIT_USAGE, r;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = NULL;

		if (!strcmp(a, "--")) {
			cmd = argv + i + 1;
			break;
		}
		if (!strcmp(a, "--release")) {
			o.release = true;
			continue;
		}
		if (!strcmp(a, "--no-sync-wakeup")) {
			o.no_sync_wakeup = true;
			continue;
		}
		if (!strcmp(a, "--fault")) {
			if (n_specs == MAX_FAULTS)
				return fl_usage_error(self, "at most %d --fault", MAX_FAULTS);
			slot = &specs[n_specs++];
		} else if (!strcmp(a, "--for")) {
			slot = &for_s;
		} else if (!strcmp(a, "--seed")) {
			slot = &seed_s;
		} else if (!strcmp(a, "--stats")) {
			slot = &stats;
		} else if (a[0] == '-') {
			return fl_usage_error(self, "unknown option '%s'", a);
		} else {
			return fl_usage_error(self,
					      "put the command after '--': faultline exec "
					      "--fault SPEC -- %s ...",
					      a);
		}
		if (i + 1 >= argc)
			return fl_usage_error(self, "%s needs a value", a);
		*slot = argv[++i];
	}
	if (!cmd || !cmd[0])
		return fl_usage_error(self, "give the command after '--'");
	if (o.release && !for_s)
		return fl_usage_error(self, "--release goes with --for (when the faults end)");
	if (!n_specs)
		return fl_usage_error(self, "give at least one --fault, e.g. "
					    "--fault syscall=write,errno=EIO");
	if (for_s) {
		r = fl_parse_duration(for_s, &o.for_ns);
		if (r < 0 || o.for_ns == 0)
			return fl_usage_error(self,
					      "--for must be a duration such as '30s', got "
					      "'%s'",
					      for_s);
	}
	if (seed_s) {
		if (fl_parse_uint(seed_s, UINT64_MAX, &o.seed) < 0)
			return fl_usage_error(self,
					      "--seed must be a non-negative integer, got "
					      "'%s'",
					      seed_s);
	} else if (getrandom(&o.seed, sizeof(o.seed), 0) != sizeof(o.seed)) {
		return FL_EXIT_INTERNAL;
	}
	cmdline = fl_strv_join(cmd, " ");
	argv_json = fl_sc_argv_json(cmd);
	if (!cmdline || !argv_json)
		return FL_EXIT_INTERNAL;

	for (size_t i = 0; i < n_specs; i++) {
		struct fl_params p = { 0 };
		struct fl_where wf = { .flag = "--for" }, wx = { .flag = "--" };

		r = parse_spec(self, specs[i], &p);
		if (!r)
			r = fl_params_add(&p, "for", for_s ? for_s : "24h", &wf);
		if (!r)
			r = fl_params_add(&p, "target.exec", argv_json, &wx);
		if (!r) {
			r = fl_fault_from_params(&p, NULL, &faults[n], &errs);
			if (r == 0)
				n++;
		}
		fl_params_clear(&p);
		if (r == -EINVAL && errs.n) {
			fl_errors_print(&errs, stderr);
			fprintf(stderr, "Try 'faultline exec --help'.\n");
		}
		if (r < 0) {
			ret = r == -EINVAL ? FL_EXIT_USAGE : FL_EXIT_INTERNAL;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const char *why = NULL;

		if (faults[i].backend->probe && faults[i].backend->probe(&faults[i], &why) < 0) {
			fprintf(stderr, "faultline exec: %s\n",
				why ? why : "seccomp is unavailable");
			ret = FL_EXIT_HOST;
			goto out;
		}
	}

	r = fl_seccomp_exec(faults, n, cmd, &o, &res, &reason);
	if (r < 0) {
		fprintf(stderr, "faultline exec: %s\n", reason ? reason : strerror(-r));
		ret = r == -EPERM || r == -EACCES || r == -EOPNOTSUPP || r == -ENOSYS
			      ? FL_EXIT_HOST
			      : FL_EXIT_INTERNAL;
		goto out;
	}
	if (reason)
		fprintf(stderr, "faultline exec: %s\n", reason);
	if (WIFEXITED(res.wstatus))
		ret = WEXITSTATUS(res.wstatus);
	else if (WIFSIGNALED(res.wstatus))
		ret = 128 + WTERMSIG(res.wstatus);
	else
		ret = FL_EXIT_INTERNAL;

	if (stats || cli->verbosity > 0) {
		json_t *j = json_pack("{s:s, s:i, s:b, s:b, s:b, s:b, s:I, s:o}", "command",
				      cmdline, "exit_status", ret, "supervised", res.supervised,
				      "sync_wakeup", res.sync_wakeup, "timed_out", res.timed_out,
				      "released", res.released, "notifications",
				      (json_int_t)res.notifications, "faults", json_array());

		for (size_t i = 0; j && i < n; i++)
			json_array_append_new(json_object_get(j, "faults"),
					      fault_stats(&faults[i]));
		if (j && stats && json_dump_file(j, stats, JSON_INDENT(2)) < 0)
			fprintf(stderr, "faultline exec: cannot write '%s'\n", stats);
		for (size_t i = 0; j && cli->verbosity > 0 && i < n; i++) {
			json_t *f = json_array_get(json_object_get(j, "faults"), i);
			json_t *seen = json_object_get(f, "seen");

			if (json_is_null(seen))
				fprintf(stderr,
					"faultline exec: %s: %s (kernel filter, not counted)\n",
					json_string_value(json_object_get(f, "name")),
					json_string_value(json_object_get(f, "description")));
			else
				fprintf(stderr,
					"faultline exec: %s: %s: %lld calls matched, %lld hit\n",
					json_string_value(json_object_get(f, "name")),
					json_string_value(json_object_get(f, "description")),
					json_integer_value(seen),
					json_integer_value(json_object_get(f, "hit")));
		}
		json_decref(j);
	}
out:
	for (size_t i = 0; i < n; i++)
		fl_fault_clear(&faults[i]);
	fl_errors_clear(&errs);
	return ret;
}

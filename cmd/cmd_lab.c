// SPDX-License-Identifier: GPL-2.0-only
/* `faultline lab up|down|status`: a scenario's lab by hand, kept up by a detached keeper. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include "cmd/cmd.h"
#include "inject/journal.h"
#include "inject/lab.h"
#include "inject/log.h"
#include "inject/loop.h"
#include "inject/util.h"
#include "scenarios/scenario.h"

const char cmd_lab_usage[] =
	"Usage: faultline lab up FILE\n"
	"       faultline lab down FILE|LAB_ID [--grace DURATION]\n"
	"       faultline lab status [FILE]\n"
	"\n"
	"Bring a scenario's lab up by hand and leave it running: one network namespace per host\n"
	"(fl-LAB_ID-HOST, eth0 at 198.18.0.10, .11, ...) on a bridge in a switch namespace\n"
	"(fl-LAB_ID-sw, 198.18.0.1), each host running its service in its own cgroup, with host\n"
	"names resolving through a lab hosts file. A background keeper supervises the services\n"
	"(restart policies) until `lab down`. `up` returns once every ready port accepts.\n"
	"Services' output goes to STATE_DIR/runs/LAB_ID/HOST.log (removed by `lab down`; when\n"
	"`up` fails the logs are kept in STATE_DIR/lab-logs/LAB_ID).\n"
	"\n"
	"Actions:\n"
	"  up FILE            create the lab, start the services, wait until they are ready\n"
	"  down FILE|LAB_ID   stop the labs of that scenario (or that lab) and remove everything\n"
	"                     they created; nothing to do is success\n"
	"  status [FILE]      list labs: hosts, namespaces, addresses, pids, restarts\n"
	"Options:\n"
	"  --grace DURATION   down: how long the keeper gets to tear down by itself (default 10s)\n"
	"Common options:\n"
	"  --json             print data as JSON on stdout\n"
	"  -v, --verbose      more detail (the keeper's goes to STATE_DIR/runs/ID/keeper.log)\n"
	"  -q, --quiet        errors only\n"
	"  --state-dir DIR    journal location (default $FAULTLINE_STATE_DIR or\n"
	"                     " FL_STATE_DIR_DEFAULT ")\n"
	"  -h, --help         this help\n"
	"\n"
	"Exit status: 0 ok, 1 the lab did not come up (a service failed or was not ready),\n"
	"2 usage or invalid scenario, 3 not root or the kernel lacks what a lab needs,\n"
	"4 interrupted, 5 internal error.\n"
	"\n"
	"Examples:\n"
	"  sudo faultline lab up scenarios/examples/quickstart.yaml\n"
	"  sudo ip netns exec fl-3f2a9c0d11be-client redis-cli -h cache ping\n"
	"  sudo faultline lab status --json | jq '.labs[].lab.hosts[] | {name, pid}'\n"
	"  sudo faultline lab down scenarios/examples/quickstart.yaml\n";

/* --- up: the keeper --------------------------------------------------------------------- */

struct keeper_args {
	const struct fl_scenario *s;
	const char *scenario_path;
	const char *workdir;
	const char *run_id;
	int status_fd; /* write end of the pipe to the waiting `lab up` */
};

static void keeper_report(int fd, json_t *msg)
{
	char *text = json_dumps(msg, JSON_COMPACT);

	if (text) {
		size_t len = strlen(text);
		for (size_t off = 0; off < len;) {
			ssize_t w = write(fd, text + off, len - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			off += (size_t)w;
		}
	}
	free(text);
	json_decref(msg);
}

static void keeper_fail(int fd, int exit_code, const char *reason)
{
	keeper_report(
		fd, json_pack("{s:b, s:i, s:s}", "ok", false, "exit", exit_code, "reason", reason));
}

/*
 * A lab that failed to come up is removed with its run records; the services' logs explain
 * why, so they move to STATE_DIR/lab-logs/RUN first. Returns that directory, or NULL.
 */
static char *keep_logs(struct fl_journal *j, const char *run_id)
{
	_cleanup_free_ char *dst = NULL;
	const char *dir = fl_journal_dir(j);
	struct dirent *de;
	size_t moved = 0;
	DIR *d;

	if (asprintf(&dst, "%s/lab-logs/%s", fl_state_dir(), run_id) < 0)
		return NULL;
	d = opendir(dir);
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		_cleanup_free_ char *from = NULL, *to = NULL;
		size_t l = strlen(de->d_name);

		if (l < 5 || strcmp(de->d_name + l - 4, ".log") != 0 ||
		    strcmp(de->d_name, "keeper.log") == 0)
			continue;
		if (!moved && fl_mkdir_p(dst, 0700) < 0)
			break;
		if (asprintf(&from, "%s/%s", dir, de->d_name) < 0 ||
		    asprintf(&to, "%s/%s", dst, de->d_name) < 0)
			break;
		if (rename(from, to) == 0)
			moved++;
	}
	closedir(d);
	return moved ? TAKE_PTR(dst) : NULL;
}

static char *replace_all(const char *s, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to), n = 0;
	const char *p;
	char *out, *o;

	for (p = s; fl && (p = strstr(p, from)); p += fl)
		n++;
	out = o = malloc(strlen(s) + n * (tl > fl ? tl - fl : 0) + 1);
	if (!out)
		return NULL;
	for (p = s; *p;) {
		if (fl && strncmp(p, from, fl) == 0) {
			o = stpcpy(o, to);
			p += fl;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

static int lab_exit_code(int r)
{
	switch (-r) {
	case EPERM:
	case EACCES:
	case ENOSYS:
	case EOPNOTSUPP:
	case EPROTONOSUPPORT:
	case EAFNOSUPPORT:
		return FL_EXIT_HOST;
	case ENOMEM:
		return FL_EXIT_INTERNAL;
	default:
		return FL_EXIT_FAILED;
	}
}

static int on_signal(struct fl_source *s, int fd, uint32_t revents, void *userdata)
{
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return 0;
	log_debug("keeper: signal %u, bringing the lab down", si.ssi_signo);
	fl_loop_exit(userdata, 0);
	return 0;
}

static bool term_pending(void)
{
	sigset_t set;

	return sigpending(&set) == 0 && (sigismember(&set, SIGTERM) || sigismember(&set, SIGINT) ||
					 sigismember(&set, SIGHUP));
}

/* The keeper owns the journal (its flock says "alive"), the lab and the loop supervising it. */
static _Noreturn void keeper_main(struct keeper_args *a)
{
	_cleanup_free_ char *reason = NULL, *log_path = NULL;
	struct fl_journal *j = NULL;
	struct fl_loop *loop = NULL;
	struct fl_lab_rt *lab = NULL;
	sigset_t mask;
	int sfd, r, nul;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	/*
	 * A daemon keeps nothing it inherited but the status pipe: a test harness's or a CI
	 * runner's pipe held open here would make them wait for us forever.
	 */
	if (a->status_fd != 3) {
		if (dup3(a->status_fd, 3, O_CLOEXEC) < 0)
			_exit(FL_EXIT_INTERNAL);
		a->status_fd = 3;
	}
	close_range(4, ~0U, 0);
	/* nobody waits for our stdout: a `$(faultline lab up)` must not hang on it */
	nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nul >= 0) {
		dup2(nul, STDIN_FILENO);
		dup2(nul, STDOUT_FILENO);
		dup2(nul, STDERR_FILENO);
		close(nul);
	}
	if (chdir("/") < 0)
		log_debug("keeper: chdir /: %m");

	r = fl_journal_create(a->run_id, "lab", a->scenario_path, a->s->name, &j);
	if (r < 0) {
		_cleanup_free_ char *msg = NULL;
		if (asprintf(&msg, "cannot create the journal record in '%s': %s", fl_state_dir(),
			     strerror(-r)) < 0)
			msg = NULL;
		keeper_fail(a->status_fd,
			    r == -EACCES || r == -EROFS ? FL_EXIT_HOST : FL_EXIT_INTERNAL,
			    msg ? msg : "cannot create the journal record");
		_exit(FL_EXIT_INTERNAL);
	}
	/* our own messages (with -v) go next to the services' logs */
	if (asprintf(&log_path, "%s/keeper.log", fl_journal_dir(j)) >= 0) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
	}
	r = fl_loop_new(&loop);
	if (r >= 0) {
		sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
		r = sfd < 0 ? -errno
			    : fl_loop_add_io(loop, sfd, EPOLLIN, true, on_signal, loop, NULL);
	}
	if (r < 0) {
		keeper_fail(a->status_fd, FL_EXIT_INTERNAL,
			    "cannot set up the keeper's event loop");
		fl_journal_finish(j);
		_exit(FL_EXIT_INTERNAL);
	}

	r = fl_lab_up(a->s->lab, a->run_id, a->workdir, j, loop, &lab, &reason);
	if (r < 0) {
		_cleanup_free_ char *kept = keep_logs(j, a->run_id), *why = NULL;
		const char *text = reason ? reason : strerror(-r);

		/* the failure names the logs where they are now, not where they were */
		if (kept)
			why = replace_all(text, fl_journal_dir(j), kept);
		keeper_fail(a->status_fd, lab_exit_code(r), why ? why : text);
		fl_journal_finish(j);
		fl_loop_free(loop);
		_exit(FL_EXIT_FAILED);
	}
	if (term_pending()) {
		fl_lab_down(lab);
		fl_journal_finish(j);
		keeper_fail(a->status_fd, FL_EXIT_ABORTED, "interrupted; the lab was removed");
		_exit(FL_EXIT_ABORTED);
	}
	keeper_report(a->status_fd, json_pack("{s:b, s:i, s:o}", "ok", true, "keeper_pid",
					      (int)getpid(), "lab", fl_lab_describe(lab)));
	close(a->status_fd);
	log_info("keeper %d: lab %s up", getpid(), a->run_id);

	r = fl_loop_run(loop);
	if (r < 0)
		log_error("keeper: event loop failed: %s", strerror(-r));
	r = fl_lab_down(lab);
	if (r < 0) {
		/* keep the records: `faultline recover` finishes the job */
		log_error("keeper: lab teardown incomplete: %s", strerror(-r));
		fl_journal_close(j);
		fl_loop_free(loop);
		_exit(FL_EXIT_INTERNAL);
	}
	fl_journal_finish(j);
	fl_loop_free(loop);
	_exit(FL_EXIT_OK);
}

static volatile sig_atomic_t got_signal;

static void on_parent_signal(int sig)
{
	got_signal = sig;
}

/* The keeper's report; a Ctrl-C meanwhile is passed on to the keeper's process group. */
static int read_report(int fd, pid_t keeper_pgid, char **ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;
	bool forwarded = false;

	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			char *nb = realloc(buf, cap ? cap * 2 : 8192);
			if (!nb)
				return -ENOMEM;
			buf = nb;
			cap = cap ? cap * 2 : 8192;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR) {
			if (got_signal && !forwarded) {
				/* it blocks SIGTERM until lab up is done, then removes the lab */
				fprintf(stderr,
					"faultline lab: interrupted; the lab is removed as soon "
					"as it is up (or has failed)\n");
				kill(-keeper_pgid, SIGTERM);
				forwarded = true;
			}
			continue;
		}
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	return 0;
}

static void print_lab_text(const char *id, json_t *lab, bool is_lab)
{
	const char *hosts_file = json_string_value(json_object_get(lab, "hosts_file"));
	const char *slash = hosts_file ? strrchr(hosts_file, '/') : NULL;
	json_t *hosts = json_object_get(lab, "hosts"), *sw = json_object_get(lab, "switch"), *h;
	const char *first = NULL;
	size_t i;

	printf("  %-12s  %-15s  %-28s  %s\n", "HOST", "ADDRESS", "NETNS", "PID");
	printf("  %-12s  %-15s  %-28s  %s\n", "switch",
	       json_string_value(json_object_get(sw, "address")),
	       json_string_value(json_object_get(sw, "netns")), "-");
	json_array_foreach (hosts, i, h) {
		json_int_t pid = json_integer_value(json_object_get(h, "pid"));
		const char *state = json_string_value(json_object_get(h, "state"));
		char pidbuf[48];

		if (!first)
			first = json_string_value(json_object_get(h, "netns"));
		if (pid > 0)
			snprintf(pidbuf, sizeof(pidbuf), "%lld", (long long)pid);
		else
			snprintf(pidbuf, sizeof(pidbuf), "- (%s)", state ? state : "?");
		printf("  %-12s  %-15s  %-28s  %s", json_string_value(json_object_get(h, "name")),
		       json_string_value(json_object_get(h, "address")),
		       json_string_value(json_object_get(h, "netns")), pidbuf);
		if (json_integer_value(json_object_get(h, "restarts")) > 0)
			printf("  restarts %lld",
			       (long long)json_integer_value(json_object_get(h, "restarts")));
		putchar('\n');
	}
	if (first)
		printf("  run commands in a host (host names resolve): ip netns exec %s sh\n",
		       first);
	if (slash)
		printf("  services' output: %.*s/HOST.log\n", (int)(slash - hosts_file),
		       hosts_file);
	if (is_lab)
		printf("  bring it down: faultline lab down %s\n", id);
}

static int lab_up(const struct fl_cmd *self, int argc, char **argv, struct fl_cli *cli)
{
	struct fl_errors errs = { 0 };
	struct fl_scenario *s = NULL;
	_cleanup_free_ char *path = NULL, *workdir = NULL, *reason = NULL, *out = NULL;
	struct sigaction sa = { .sa_handler = on_parent_signal }, old_int, old_term;
	char run_id[16];
	json_t *msg;
	int p[2], r, ret, status;
	pid_t pid;

	if (argc < 2)
		return fl_usage_error(self, "lab up: give a scenario file");
	if (argc > 2)
		return fl_usage_error(self, "lab up: unexpected argument '%s'", argv[2]);
	r = fl_scenario_load_file(argv[1], &s, &errs);
	if (r < 0) {
		fl_errors_print(&errs, stderr);
		fl_errors_clear(&errs);
		return FL_EXIT_USAGE;
	}
	fl_errors_clear(&errs);
	if (!s->lab) {
		fprintf(stderr, "faultline lab: '%s' has no lab section: nothing to bring up\n",
			argv[1]);
		fl_scenario_free(s);
		return FL_EXIT_USAGE;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "faultline lab: a lab needs root (network namespaces, mounts and "
				"cgroups need CAP_SYS_ADMIN and CAP_NET_ADMIN)\n");
		fl_scenario_free(s);
		return FL_EXIT_HOST;
	}
	r = fl_state_dir_prepare(&reason);
	if (r < 0) {
		fprintf(stderr, "faultline lab: %s\n", reason ? reason : strerror(-r));
		fl_scenario_free(s);
		return FL_EXIT_HOST;
	}
	path = realpath(argv[1], NULL);
	workdir = realpath(s->dir ? s->dir : ".", NULL);
	if (!path || !workdir || fl_new_id(run_id, sizeof(run_id)) < 0 || pipe2(p, O_CLOEXEC) < 0) {
		fprintf(stderr, "faultline lab: %s\n", strerror(errno));
		fl_scenario_free(s);
		return FL_EXIT_INTERNAL;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "faultline lab: fork: %m\n");
		fl_scenario_free(s);
		return FL_EXIT_INTERNAL;
	}
	if (pid == 0) {
		/* double fork: the keeper is nobody's child and has no controlling terminal */
		struct keeper_args a = { .s = s,
					 .scenario_path = path,
					 .workdir = workdir,
					 .run_id = run_id,
					 .status_fd = p[1] };
		close(p[0]);
		setsid();
		pid = fork();
		if (pid != 0)
			_exit(pid < 0 ? FL_EXIT_INTERNAL : FL_EXIT_OK);
		keeper_main(&a);
	}
	close(p[1]);
	waitpid(pid, &status, 0);
	/* Ctrl-C while waiting: the keeper (blocked signals) learns it from us */
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	r = read_report(p[0], pid, &out);
	close(p[0]);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	msg = r == 0 ? json_loads(out, 0, NULL) : NULL;
	if (!msg) {
		fprintf(stderr, "faultline lab: the lab keeper died before reporting; see "
				"`faultline lab status` and `faultline recover`\n");
		fl_scenario_free(s);
		return FL_EXIT_INTERNAL;
	}
	if (!json_is_true(json_object_get(msg, "ok"))) {
		ret = got_signal ? FL_EXIT_ABORTED
				 : (int)json_integer_value(json_object_get(msg, "exit"));
		fprintf(stderr, "faultline lab: lab up failed: %s\n",
			json_string_value(json_object_get(msg, "reason")) ?: "unknown error");
		json_decref(msg);
		fl_scenario_free(s);
		return ret > 0 ? ret : FL_EXIT_INTERNAL;
	}
	if (got_signal) {
		pid_t keeper = (pid_t)json_integer_value(json_object_get(msg, "keeper_pid"));
		if (keeper > 1)
			kill(keeper, SIGTERM);
		fprintf(stderr, "faultline lab: interrupted; the lab is being removed\n");
		json_decref(msg);
		fl_scenario_free(s);
		return FL_EXIT_ABORTED;
	}
	if (cli->json) {
		json_t *o =
			json_pack("{s:s, s:s, s:s?, s:O, s:O}", "id", run_id, "scenario", path,
				  "name", s->name, "keeper_pid", json_object_get(msg, "keeper_pid"),
				  "lab", json_object_get(msg, "lab"));
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	} else {
		printf("lab %s up: %s, %zu host(s), keeper pid %lld\n", run_id,
		       s->name ? s->name : path, s->lab->n_hosts,
		       (long long)json_integer_value(json_object_get(msg, "keeper_pid")));
		print_lab_text(run_id, json_object_get(msg, "lab"), true);
	}
	json_decref(msg);
	fl_scenario_free(s);
	return FL_EXIT_OK;
}

/* --- down and status -------------------------------------------------------------------- */

static bool is_run_id(const char *s)
{
	return strlen(s) == 12 && strspn(s, "0123456789abcdef") == 12;
}

static bool run_has_lab(const struct fl_run_info *r)
{
	const char *kind = json_string_value(json_object_get(r->run, "kind"));

	return (kind && strcmp(kind, "lab") == 0) || r->lab;
}

static bool run_matches(const struct fl_run_info *r, const char *scenario)
{
	const char *s = json_string_value(json_object_get(r->run, "scenario"));

	return !scenario || (s && strcmp(s, scenario) == 0);
}

static int lab_down(const struct fl_cmd *self, int argc, char **argv, struct fl_cli *cli)
{
	static const struct option opts[] = {
		{ "grace", required_argument, NULL, 'g' },
		{ 0 },
	};
	_cleanup_free_ char *path = NULL;
	struct fl_run_info *v = NULL;
	uint64_t grace = 10 * NSEC_PER_SEC;
	json_t *done = json_array(), *errors = json_array();
	char **ids = NULL;
	const char *arg;
	size_t n = 0;
	int c, r, ret = FL_EXIT_OK;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "g:", opts, NULL)) != -1) {
		if (c != 'g' || fl_parse_duration(optarg, &grace) < 0 ||
		    grace > 600 * NSEC_PER_SEC) {
			json_decref(done);
			json_decref(errors);
			return c == 'g' ? fl_usage_error(self,
							 "--grace must be a duration up to 10m, "
							 "got '%s'",
							 optarg)
					: fl_usage_error(self, "unknown or incomplete option '%s'",
							 argv[optind - 1]);
		}
	}
	if (optind != argc - 1) {
		json_decref(done);
		json_decref(errors);
		return fl_usage_error(self, "lab down: give one scenario file or lab id");
	}
	arg = argv[optind];
	if (access(arg, F_OK) == 0) {
		path = realpath(arg, NULL);
		if (!path) {
			fprintf(stderr, "faultline lab: '%s': %m\n", arg);
			json_decref(done);
			json_decref(errors);
			return FL_EXIT_USAGE;
		}
	} else if (!is_run_id(arg)) {
		json_decref(done);
		json_decref(errors);
		return fl_usage_error(
			self, "lab down: '%s' is neither a scenario file nor a lab id", arg);
	}
	if (geteuid() != 0) {
		fprintf(stderr, "faultline lab: lab down needs root\n");
		json_decref(done);
		json_decref(errors);
		return FL_EXIT_HOST;
	}
	r = fl_journal_list(&v, &n);
	if (r < 0) {
		fprintf(stderr, "faultline lab: cannot read '%s': %s\n", fl_state_dir(),
			strerror(-r));
		json_decref(done);
		json_decref(errors);
		return FL_EXIT_HOST;
	}
	for (size_t i = 0; i < n; i++) {
		const char *kind = json_string_value(json_object_get(v[i].run, "kind"));
		bool lab_kind = kind && strcmp(kind, "lab") == 0;

		if (path ? (lab_kind && run_matches(&v[i], path)) : strcmp(v[i].id, arg) == 0) {
			if (!path && !lab_kind) {
				fprintf(stderr,
					"faultline lab: '%s' is a %s run, not a lab; use "
					"`faultline recover %s`\n",
					arg, kind ? kind : "?", arg);
				ret = FL_EXIT_USAGE;
				continue;
			}
			fl_strv_push(&ids, v[i].id);
		}
	}
	fl_run_info_free(v, n);
	for (size_t i = 0; ids && ids[i]; i++) {
		json_t *report = NULL, *e;
		size_t k;

		r = fl_journal_recover(ids[i], grace, &report);
		if (r == 0 || r == -ENOENT) {
			json_array_append_new(done, json_string(ids[i]));
			if (!cli->json)
				printf("lab %s down\n", ids[i]);
		} else {
			ret = FL_EXIT_INTERNAL;
			json_array_foreach (report, k, e) {
				json_array_append(errors, e);
				if (!cli->json)
					fprintf(stderr, "faultline lab: %s: %s: %s\n", ids[i],
						json_string_value(json_object_get(e, "object")),
						json_string_value(json_object_get(e, "error")));
			}
			if (!cli->json)
				fprintf(stderr,
					"faultline lab: lab %s: teardown incomplete (%s); run "
					"`faultline recover %s` once fixed\n",
					ids[i], strerror(-r), ids[i]);
		}
		json_decref(report);
	}
	if (!ids && ret == FL_EXIT_OK && !cli->json)
		printf("no lab is up for '%s', nothing to do\n", arg);
	if (cli->json) {
		json_t *o = json_pack("{s:b, s:O, s:O}", "ok", ret == FL_EXIT_OK, "down", done,
				      "errors", errors);
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	}
	fl_strv_free(ids);
	json_decref(done);
	json_decref(errors);
	return ret;
}

static int lab_status(const struct fl_cmd *self, int argc, char **argv, struct fl_cli *cli)
{
	_cleanup_free_ char *path = NULL;
	struct fl_run_info *v = NULL;
	json_t *labs;
	size_t n = 0, shown = 0;
	int r;

	if (argc > 2)
		return fl_usage_error(self, "lab status: unexpected argument '%s'", argv[2]);
	if (argc == 2) {
		path = realpath(argv[1], NULL);
		if (!path) {
			fprintf(stderr, "faultline lab: '%s': %m\n", argv[1]);
			return FL_EXIT_USAGE;
		}
	}
	r = fl_journal_list(&v, &n);
	if (r < 0) {
		fprintf(stderr, "faultline lab: cannot read '%s': %s\n", fl_state_dir(),
			strerror(-r));
		return FL_EXIT_HOST;
	}
	labs = json_array();
	for (size_t i = 0; i < n; i++) {
		if (!run_has_lab(&v[i]) || !run_matches(&v[i], path))
			continue;
		json_array_append_new(
			labs, json_pack("{s:s, s:O?, s:O?, s:O?, s:b, s:O?, s:O?}", "id", v[i].id,
					"kind", json_object_get(v[i].run, "kind"), "scenario",
					json_object_get(v[i].run, "scenario"), "name",
					json_object_get(v[i].run, "name"), "alive", v[i].alive,
					"keeper_pid", json_object_get(v[i].run, "owner"), "lab",
					v[i].lab));
	}
	fl_run_info_free(v, n);
	if (cli->json) {
		json_t *o = json_pack("{s:s, s:o}", "state_dir", fl_state_dir(), "labs", labs);
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
		return FL_EXIT_OK;
	}
	{
		json_t *l;
		size_t i;
		json_array_foreach (labs, i, l) {
			json_t *lab = json_object_get(l, "lab");
			const char *id = json_string_value(json_object_get(l, "id"));
			bool alive = json_is_true(json_object_get(l, "alive"));
			const char *kind = json_string_value(json_object_get(l, "kind"));
			bool is_lab = kind && strcmp(kind, "lab") == 0;

			printf("%slab %s  %s  %s  %s", shown++ ? "\n" : "", id,
			       json_string_value(json_object_get(l, "name")) ?: "-",
			       alive ? "alive" : "DEAD",
			       json_string_value(json_object_get(l, "scenario")) ?: "-");
			if (!is_lab)
				printf("  (of a %s run)", kind ? kind : "?");
			putchar('\n');
			if (!alive)
				printf("  its %s is gone; remove what it left: faultline %s %s\n",
				       is_lab ? "keeper" : "run", is_lab ? "lab down" : "recover",
				       id);
			if (lab)
				print_lab_text(id, lab, is_lab);
			else
				printf("  (no lab record yet)\n");
		}
	}
	if (!shown)
		printf("no labs (journal: %s)\n", fl_state_dir());
	json_decref(labs);
	return FL_EXIT_OK;
}

int cmd_lab(int argc, char **argv, struct fl_cli *cli)
{
	const struct fl_cmd *self = fl_cmd_find("lab");

	if (argc < 2)
		return fl_usage_error(self, "give an action: up, down or status");
	if (strcmp(argv[1], "up") == 0)
		return lab_up(self, argc - 1, argv + 1, cli);
	if (strcmp(argv[1], "down") == 0)
		return lab_down(self, argc - 1, argv + 1, cli);
	if (strcmp(argv[1], "status") == 0)
		return lab_status(self, argc - 1, argv + 1, cli);
	{
		static const char *const actions[] = { "up", "down", "status" };
		const char *hint = fl_closest(argv[1], actions, ARRAY_SIZE(actions));
		if (hint)
			return fl_usage_error(self, "unknown action '%s'; did you mean '%s'?",
					      argv[1], hint);
		return fl_usage_error(self, "unknown action '%s' (up, down or status)", argv[1]);
	}
}

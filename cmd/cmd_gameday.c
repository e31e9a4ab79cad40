// SPDX-License-Identifier: GPL-2.0-only
/*
 * `faultline gameday`: run a plan's experiments in order through fl_run, with operator pauses,
 * a time window, guards, notes, a kill switch and webhooks; one combined report at the end.
 * The running day's control files live in STATE/gameday so other commands can find it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "cmd/cmd.h"
#include "cmd/gameday_int.h"
#include "inject/journal.h"
#include "inject/log.h"
#include "inject/util.h"
#include "reports/gameday.h"
#include "reports/writers.h"
#include "scenarios/gameday.h"
#include "scenarios/runner.h"
#include "scenarios/tz.h"

const char cmd_gameday_usage[] =
	"Usage: faultline gameday PLAN [--only NAME,...] [--from NAME] [--out DIR]\n"
	"                         [--format LIST]\n"
	"       faultline gameday continue | note TEXT | stop [--grace D] | status\n"
	"       faultline gameday calendar PLAN -o FILE.ics [--count N]\n"
	"\n"
	"Run a game day: the plan's experiments (scenario files, with per-experiment seed,\n"
	"baseline, recovery_within, healthy_for and on_failure) one after the other through the\n"
	"same runner as `faultline run`, with operator pauses (`wait_for: operator`: press Enter\n"
	"on the terminal or run `faultline gameday continue`), guards (the day stops when an\n"
	"experiment fails or aborts), a time window outside which nothing starts (an experiment\n"
	"running when it closes finishes; the next one does not start) and webhooks. One combined\n"
	"report: DIR/gameday.json, gameday.xml (JUnit), gameday.md, gameday.html, with the\n"
	"timeline, each experiment's metrics and the operators' notes.\n"
	"\n"
	"While a day runs (found through the state directory):\n"
	"  continue           release the pause the day waits in\n"
	"  note TEXT          add a timestamped note to the day's report\n"
	"  stop               the kill switch: halt the day, every active fault reverted (within\n"
	"                     a second); waits up to --grace (default 10s) for the day to end\n"
	"  status             the running day, its state and experiment\n"
	"The plan's stop_file (for fleets) does the same as `stop` when it appears, and while it\n"
	"exists no day starts.\n"
	"calendar writes the day's next dates (its schedule, else its window) as iCalendar.\n"
	"\n"
	"Options:\n"
	"  --only NAME,...    run only these experiments (pauses are skipped)\n"
	"  --from NAME        start at this experiment or pause\n"
	"  --out DIR          where the reports go (default ./faultline-out/gameday-DAY_ID);\n"
	"                     each experiment's result.json in DIR/NN-NAME/\n"
	"  --format LIST      json, junit, md, html (default: all)\n"
	"  -o, --output FILE  calendar: the .ics file ('-' for stdout)\n"
	"  --count N          calendar: how many dates (default 10, at most 366)\n" COMMON_OPTS_TEXT
	"\n"
	"Exit status: 0 every experiment passed, 1 an experiment failed, 2 invalid plan or\n"
	"usage, 3 this host cannot run it, 4 nothing started or the day was halted (window\n"
	"closed, kill switch, stop file, another day running, an experiment aborted), 5 internal.\n"
	"\n"
	"Examples:\n"
	"  faultline gameday scenarios/examples/gameday.yaml\n"
	"  faultline gameday plan.yaml --only kill-redis --out artifacts/day\n"
	"  faultline gameday plan.yaml --from partition-db\n"
	"  faultline gameday note \"p99 alert fired after 40s, paged on-call\"\n"
	"  faultline gameday continue\n"
	"  faultline gameday stop\n"
	"  faultline gameday calendar plan.yaml -o day.ics\n";

/* --- the running day's control files ---------------------------------------------------- */

char *fl_gd_state_path(const char *leaf)
{
	char *p = NULL;

	if (asprintf(&p, "%s/gameday%s%s", fl_state_dir(), leaf ? "/" : "", leaf ? leaf : "") < 0)
		return NULL;
	return p;
}

void fl_gd_iso(uint64_t real_ns, char *buf, size_t len)
{
	time_t t = (time_t)(real_ns / NSEC_PER_SEC);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(real_ns % NSEC_PER_SEC / NSEC_PER_MSEC));
}

void fl_gd_local(time_t t, const char *tz, char *buf, size_t len)
{
	struct fl_tz_saved saved;
	struct tm tm;

	if (fl_tz_push(tz, &saved) < 0) {
		snprintf(buf, len, "?");
		return;
	}
	localtime_r(&t, &tm);
	strftime(buf, len, "%a %Y-%m-%d %H:%M %Z", &tm);
	fl_tz_pop(&saved);
}

/* The running day's record, if its process is alive; -ESRCH otherwise. */
static int current_day(json_t **ret, pid_t *ret_pid)
{
	_cleanup_free_ char *path = fl_gd_state_path("current.json");
	json_t *cur;
	pid_t pid;

	if (!path)
		return -ENOMEM;
	cur = json_load_file(path, 0, NULL);
	if (!cur)
		return -ESRCH;
	pid = (pid_t)json_integer_value(json_object_get(cur, "pid"));
	if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH)) {
		json_decref(cur);
		return -ESRCH;
	}
	*ret = cur;
	if (ret_pid)
		*ret_pid = pid;
	return 0;
}

static const char *cur_str(json_t *cur, const char *key)
{
	const char *v = json_string_value(json_object_get(cur, key));

	return v ? v : "?";
}

static int no_day(const struct fl_cmd *self, struct fl_cli *cli, const char *what)
{
	if (cli->json)
		printf("{\"running\": false}\n");
	fprintf(stderr, "faultline gameday %s: no game day is running (state directory %s)\n", what,
		fl_state_dir());
	(void)self;
	return FL_EXIT_USAGE;
}

static int cmd_continue(const struct fl_cmd *self, int argc, char **argv, struct fl_cli *cli)
{
	_cleanup_free_ char *path = NULL;
	json_t *cur;
	int r;

	if (argc != 1)
		return fl_usage_error(self, "continue takes no arguments");
	if (current_day(&cur, NULL) < 0)
		return no_day(self, cli, "continue");
	if (strcmp(cur_str(cur, "state"), "paused")) {
		fprintf(stderr,
			"faultline gameday continue: the day '%s' is not paused (it is %s "
			"'%s')\n",
			cur_str(cur, "name"), cur_str(cur, "state"), cur_str(cur, "item"));
		json_decref(cur);
		return FL_EXIT_USAGE;
	}
	if (asprintf(&path, "%s/continue", cur_str(cur, "dir")) < 0)
		path = NULL;
	r = path ? fl_write_file_atomic(path, "", 0, 0600) : -ENOMEM;
	if (r < 0) {
		fprintf(stderr, "faultline gameday continue: %s\n", strerror(-r));
		json_decref(cur);
		return FL_EXIT_INTERNAL;
	}
	if (!cli->json)
		printf("released the pause '%s' of game day '%s'\n", cur_str(cur, "item"),
		       cur_str(cur, "name"));
	else
		printf("{\"released\": \"%s\"}\n", cur_str(cur, "item"));
	json_decref(cur);
	return FL_EXIT_OK;
}

static int cmd_note(const struct fl_cmd *self, int argc, char **argv, struct fl_cli *cli)
{
	_cleanup_free_ char *path = NULL, *text = NULL, *line = NULL;
	_cleanup_close_ int fd = -1;
	char when[40];
	json_t *cur, *o;

	if (argc < 2)
		return fl_usage_error(self, "note needs a text: faultline gameday note \"...\"");
	text = fl_strv_join(argv + 1, " ");
	if (!text)
		return FL_EXIT_INTERNAL;
	if (!*text || strlen(text) > FL_GD_NOTE_MAX)
		return fl_usage_error(self, "a note has 1 to %d bytes, got %zu", FL_GD_NOTE_MAX,
				      strlen(text));
	if (current_day(&cur, NULL) < 0)
		return no_day(self, cli, "note");
	fl_gd_iso(fl_realtime_ns(), when, sizeof(when));
	o = json_pack("{s:s, s:I, s:s}", "time", when, "unix_ms",
		      (json_int_t)(fl_realtime_ns() / NSEC_PER_MSEC), "text", text);
	line = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (asprintf(&path, "%s/notes.jsonl", cur_str(cur, "dir")) < 0)
		path = NULL;
	if (line && path)
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	/* one write with O_APPEND: notes from several operators never interleave */
	if (fd < 0 || dprintf(fd, "%s\n", line) < 0) {
		fprintf(stderr, "faultline gameday note: cannot write %s: %s\n",
			path ? path : "notes", strerror(errno));
		json_decref(cur);
		return FL_EXIT_INTERNAL;
	}
	if (!cli->json)
		printf("noted at %s in game day '%s'\n", when, cur_str(cur, "name"));
	else
		printf("{\"time\": \"%s\"}\n", when);
	json_decref(cur);
	return FL_EXIT_OK;
}

static int cmd_stop(const struct fl_cmd *self, int argc, char **argv, struct fl_cli *cli)
{
	static const struct option opts[] = { { "grace", required_argument, NULL, 'g' }, { 0 } };
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int pidfd = -1;
	uint64_t grace = 10 * NSEC_PER_SEC, t0, ms;
	struct pollfd p;
	json_t *cur;
	pid_t pid;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'g' || fl_parse_duration(optarg, &grace) < 0)
			return fl_usage_error(self,
					      c == 'g' ? "--grace needs a duration like 10s, "
							 "got '%s'"
						       : "unknown option '%s'",
					      c == 'g' ? optarg : argv[optind - 1]);
	}
	if (optind != argc)
		return fl_usage_error(self, "stop takes no arguments besides --grace");
	if (current_day(&cur, &pid) < 0) {
		if (cli->json)
			printf("{\"stopped\": false, \"running\": false}\n");
		else
			printf("no game day is running: nothing to stop\n");
		return FL_EXIT_OK;
	}
	t0 = fl_now_ns();
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (asprintf(&path, "%s/stop", cur_str(cur, "dir")) >= 0)
		(void)fl_write_file_atomic(path, "", 0, 0600);
	/* the runner reverts on SIGTERM; between experiments the day stops on it */
	if (kill(pid, SIGTERM) < 0 && errno != ESRCH) {
		fprintf(stderr, "faultline gameday stop: cannot signal pid %d: %s\n", (int)pid,
			strerror(errno));
		json_decref(cur);
		return FL_EXIT_HOST;
	}
	p = (struct pollfd){ .fd = pidfd, .events = POLLIN };
	while (pidfd >= 0 && fl_now_ns() - t0 < grace) {
		int left = (int)((grace - (fl_now_ns() - t0)) / NSEC_PER_MSEC) + 1;

		if (poll(&p, 1, left) > 0)
			break;
	}
	ms = (fl_now_ns() - t0) / NSEC_PER_MSEC;
	if (pidfd >= 0 && poll(&p, 1, 0) <= 0) {
		fprintf(stderr,
			"faultline gameday stop: the day (pid %d) did not end within %llu "
			"ms; its lease guards revert at expiry, or run 'faultline recover --all'\n",
			(int)pid, (unsigned long long)ms);
		json_decref(cur);
		return FL_EXIT_INTERNAL;
	}
	if (cli->json)
		printf("{\"stopped\": true, \"name\": \"%s\", \"pid\": %d, \"ended_after_ms\": "
		       "%llu}\n",
		       cur_str(cur, "name"), (int)pid, (unsigned long long)ms);
	else
		printf("stopped game day '%s' (pid %d): it reverted and ended %llu ms after the "
		       "stop\n",
		       cur_str(cur, "name"), (int)pid, (unsigned long long)ms);
	json_decref(cur);
	return FL_EXIT_OK;
}

static int cmd_gd_status(const struct fl_cmd *self, int argc, char **argv, struct fl_cli *cli)
{
	json_t *cur;

	if (argc != 1)
		return fl_usage_error(self, "status takes no arguments");
	if (current_day(&cur, NULL) < 0) {
		if (cli->json)
			printf("{\"running\": false}\n");
		else
			printf("no game day is running\n");
		return FL_EXIT_OK;
	}
	if (cli->json) {
		json_object_set_new(cur, "running", json_true());
		json_dumpf(cur, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		printf("game day '%s' (pid %lld, id %s): %s '%s'\nreports: %s\n",
		       cur_str(cur, "name"), json_integer_value(json_object_get(cur, "pid")),
		       cur_str(cur, "id"), cur_str(cur, "state"), cur_str(cur, "item"),
		       cur_str(cur, "out"));
	}
	json_decref(cur);
	return FL_EXIT_OK;
}

/* --- the day ---------------------------------------------------------------------------- */

struct day {
	struct fl_gameday *g;
	const char *plan_path;
	char id[16];
	char *gd_dir, *dir, *out;
	uint64_t t0, t0_real;
	json_t *timeline, *exps;
	struct fl_notifier *hooks;
	int sfd, lock_fd;
	char *stop_reason; /* the day halts: why */
	int stop_code;	   /* the exit code the halt gives */
	pthread_t watcher;
	bool watching;
	atomic_bool done;
	atomic_bool fleet_stop;
	const char *state, *item;
};

static void event(struct day *d, const char *what, const char *subject, const char *fmt, ...)
	_printf_(4, 5);
static void event(struct day *d, const char *what, const char *subject, const char *fmt, ...)
{
	_cleanup_free_ char *details = NULL;
	uint64_t now = fl_realtime_ns();
	char when[40];
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		if (vasprintf(&details, fmt, ap) < 0)
			details = NULL;
		va_end(ap);
	}
	fl_gd_iso(now, when, sizeof(when));
	json_array_append_new(d->timeline,
			      json_pack("{s:f, s:s, s:I, s:s, s:s?, s:s?}", "t",
					(double)(fl_now_ns() - d->t0) / 1e9, "time", when,
					"unix_ms", (json_int_t)(now / NSEC_PER_MSEC), "event", what,
					"subject", subject, "details", details));
	log_info("gameday: %s%s%s%s%s", what, subject ? " " : "", subject ? subject : "",
		 details ? ": " : "", details ? details : "");
}

static void write_current(struct day *d)
{
	_cleanup_free_ char *path = fl_gd_state_path("current.json"), *txt = NULL;
	json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "pid", (int)getpid(),
			      "id", d->id, "name", d->g->name, "plan", d->plan_path, "dir", d->dir,
			      "out", d->out, "state", d->state, "item", d->item ? d->item : "");

	txt = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
	json_decref(o);
	if (path && txt && fl_write_file_atomic(path, txt, strlen(txt), 0644) < 0)
		log_warn("gameday: cannot write %s", path);
}

static void notify(struct day *d, unsigned ev, json_t *payload /* stolen */, const char *text)
{
	for (size_t i = 0; i < d->g->n_hooks; i++) {
		const struct fl_gd_hook *h = &d->g->hooks[i];
		_cleanup_free_ char *body = NULL;
		json_t *slack;

		if (!(h->events & ev))
			continue;
		if (h->slack) {
			slack = json_pack("{s:s}", "text", text);
			body = slack ? json_dumps(slack, JSON_COMPACT) : NULL;
			json_decref(slack);
		} else {
			body = json_dumps(payload, JSON_COMPACT);
		}
		if (body)
			fl_notifier_post(d->hooks, h->url, body);
	}
	json_decref(payload);
}

static json_t *payload(struct day *d, const char *ev)
{
	char when[40];

	fl_gd_iso(fl_realtime_ns(), when, sizeof(when));
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "schema", "faultline.gameday.event/1",
			 "event", ev, "day", d->g->name, "day_id", d->id, "time", when);
}

/* The fleet's stop file and the day's own: checked 10 times a second, off the main thread. */
static void *watcher_main(void *ud)
{
	struct day *d = ud;
	_cleanup_free_ char *own = NULL;
	bool sent = false;

	if (asprintf(&own, "%s/stop", d->dir) < 0)
		own = NULL;
	while (!atomic_load(&d->done)) {
		bool fleet = d->g->stop_file && access(d->g->stop_file, F_OK) == 0;

		if (!sent && (fleet || (own && access(own, F_OK) == 0))) {
			atomic_store(&d->fleet_stop, fleet);
			/* process-directed: the runner's (or the day's) signalfd takes it */
			kill(getpid(), SIGTERM);
			sent = true;
		}
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void halt(struct day *d, int code, const char *fmt, ...) _printf_(3, 4);
static void halt(struct day *d, int code, const char *fmt, ...)
{
	va_list ap;

	if (d->stop_reason)
		return;
	va_start(ap, fmt);
	if (vasprintf(&d->stop_reason, fmt, ap) < 0)
		d->stop_reason = strdup("halted");
	va_end(ap);
	d->stop_code = code;
}

/* A stop request: by the command, the fleet's file, or a signal to this process. */
static void stop_requested(struct day *d, const char *sig)
{
	_cleanup_free_ char *own = NULL;

	if (asprintf(&own, "%s/stop", d->dir) >= 0 && access(own, F_OK) == 0)
		halt(d, FL_EXIT_ABORTED, "stopped by 'faultline gameday stop'");
	else if (atomic_load(&d->fleet_stop) ||
		 (d->g->stop_file && access(d->g->stop_file, F_OK) == 0))
		halt(d, FL_EXIT_ABORTED, "stopped by the stop file %s", d->g->stop_file);
	else
		halt(d, FL_EXIT_ABORTED, "interrupted by %s", sig);
}

static bool drain_signals(struct day *d)
{
	struct signalfd_siginfo si;
	bool got = false;

	while (read(d->sfd, &si, sizeof(si)) == sizeof(si)) {
		stop_requested(d, sigabbrev_np((int)si.ssi_signo));
		got = true;
	}
	return got;
}

/* wait_for: operator. Enter on the terminal, `gameday continue`, or a stop. */
static void pause_day(struct day *d, const struct fl_gd_item *it)
{
	_cleanup_free_ char *cont = NULL;
	_cleanup_close_ int ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	bool tty = isatty(STDIN_FILENO);
	const char *by = NULL;

	if (asprintf(&cont, "%s/continue", d->dir) < 0)
		return;
	unlink(cont);
	d->state = "paused";
	d->item = it->name;
	write_current(d);
	event(d, "paused", it->name, "%s", it->message ? it->message : "waiting for the operator");
	fprintf(stderr,
		"\n== paused: %s\n== press Enter here or run 'faultline gameday continue' "
		"(stop: 'faultline gameday stop')\n",
		it->message ? it->message : it->name);
	if (ino >= 0)
		inotify_add_watch(ino, d->dir, IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE);
	while (!by && !d->stop_reason) {
		struct pollfd p[3] = {
			{ .fd = d->sfd, .events = POLLIN },
			{ .fd = ino, .events = POLLIN },
			{ .fd = tty ? STDIN_FILENO : -1, .events = POLLIN },
		};
		char buf[4096];

		/* the inotify watch wakes us; the timeout only covers a missed event */
		if (poll(p, 3, ino >= 0 ? 5000 : 200) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			drain_signals(d);
		if (p[1].revents)
			while (read(ino, buf, sizeof(buf)) > 0)
				;
		if (access(cont, F_OK) == 0) {
			by = "faultline gameday continue";
			unlink(cont);
		}
		if (p[2].revents) {
			ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

			if (n > 0 && memchr(buf, '\n', (size_t)n))
				by = "Enter on the terminal";
			else if (n <= 0)
				tty = false;
		}
	}
	if (by)
		event(d, "resumed", it->name, "by %s", by);
	d->state = "running";
}

static const char *verdict_of(int code)
{
	switch (code) {
	case FL_EXIT_OK:
		return "passed";
	case FL_EXIT_FAILED:
		return "failed";
	case FL_EXIT_ABORTED:
		return "aborted";
	default:
		return "error";
	}
}

static void run_experiment(struct day *d, const struct fl_gd_item *it, size_t idx)
{
	_cleanup_free_ char *out = NULL;
	struct fl_run_opts o = { .notify_fd = -1 };
	struct fl_run_result res;
	uint64_t t0 = fl_now_ns();
	const char *v;
	json_t *e;
	int r;

	if (asprintf(&out, "%s/%02zu-%s", d->out, idx + 1, it->name) < 0)
		return;
	o.out_dir = out;
	d->state = "running";
	d->item = it->name;
	write_current(d);
	event(d, "experiment started", it->name, "scenario %s", it->scenario);
	fprintf(stderr, "\n== %s (%s)\n", it->name, it->scenario);
	r = fl_run(it->s, &o, &res);
	if (r < 0) {
		res = (struct fl_run_result){ .exit_code = FL_EXIT_INTERNAL };
		if (asprintf(&res.reason, "the runner failed: %s", strerror(-r)) < 0)
			res.reason = NULL;
	}
	v = verdict_of(res.exit_code);
	e = json_pack("{s:s, s:s, s:s, s:i, s:f, s:s?, s:s?, s:s?}", "name", it->name, "scenario",
		      it->scenario, "status", v, "exit_code", res.exit_code, "duration_s",
		      (double)(fl_now_ns() - t0) / 1e9, "reason", res.reason, "run_id", res.run_id,
		      "result_path", res.result_path);
	if (res.result)
		json_object_set(e, "result", res.result);
	json_array_append_new(d->exps, e);
	event(d, "verdict", it->name, "%s (exit %d)%s%s", v, res.exit_code, res.reason ? ": " : "",
	      res.reason ? res.reason : "");
	fprintf(stderr, "== %s: %s%s%s\n", it->name, v, res.reason ? ": " : "",
		res.reason ? res.reason : "");
	{
		json_t *p = payload(d, "verdict");
		_cleanup_free_ char *text = NULL;

		json_object_set_new(p, "experiment", json_string(it->name));
		json_object_set_new(p, "verdict", json_string(v));
		json_object_set_new(p, "exit_code", json_integer(res.exit_code));
		if (res.reason)
			json_object_set_new(p, "reason", json_string(res.reason));
		if (asprintf(&text, "faultline game day *%s*: experiment *%s* %s%s%s", d->g->name,
			     it->name, v, res.reason ? ": " : "", res.reason ? res.reason : "") < 0)
			text = NULL;
		notify(d, FL_GD_EV_VERDICT, p, text ? text : v);
	}
	/* a signal ended the run: the whole day halts (the runner already reverted) */
	if (drain_signals(d) ||
	    (res.exit_code == FL_EXIT_ABORTED && res.reason && strstr(res.reason, "SIG")))
		stop_requested(d, "a signal");
	if (!d->stop_reason && !it->keep_going) {
		if (res.exit_code == FL_EXIT_FAILED && d->g->stop_on_failed)
			halt(d, FL_EXIT_FAILED, "guard: '%s' failed", it->name);
		else if (res.exit_code > FL_EXIT_FAILED && d->g->stop_on_aborted)
			halt(d, res.exit_code == FL_EXIT_ABORTED ? FL_EXIT_ABORTED : res.exit_code,
			     "guard: '%s' %s", it->name, v);
	}
	fl_run_result_clear(&res);
}

static void not_run(struct day *d, const struct fl_gd_item *it, const char *why)
{
	json_array_append_new(d->exps,
			      json_pack("{s:s, s:s, s:s, s:s}", "name", it->name, "scenario",
					it->scenario, "status", "not-run", "reason", why));
}

static int by_time(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t u = json_integer_value(json_object_get(x, "unix_ms"));
	json_int_t v = json_integer_value(json_object_get(y, "unix_ms"));

	return u < v ? -1 : u > v;
}

/* The operators' notes, merged into the timeline in time order. */
static json_t *collect_notes(struct day *d)
{
	_cleanup_free_ char *path = NULL, *buf = NULL;
	json_t *notes = json_array();
	size_t len, n;

	if (asprintf(&path, "%s/notes.jsonl", d->dir) >= 0 && fl_read_file(path, &buf, &len) == 0)
		for (char *line = buf, *next; line && *line; line = next) {
			json_t *o;

			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			o = json_loads(line, 0, NULL);
			if (!json_is_string(json_object_get(o, "text"))) {
				json_decref(o);
				continue;
			}
			json_array_append(notes, o);
			json_array_append_new(d->timeline,
					      json_pack("{s:s, s:O, s:O, s:O}", "event", "note",
							"time", json_object_get(o, "time"),
							"unix_ms", json_object_get(o, "unix_ms"),
							"details", json_object_get(o, "text")));
			json_decref(o);
		}
	n = json_array_size(d->timeline);
	if (n > 1) {
		json_t **v = calloc(n, sizeof(*v));

		for (size_t i = 0; v && i < n; i++)
			v[i] = json_incref(json_array_get(d->timeline, i));
		if (v) {
			qsort(v, n, sizeof(*v), by_time);
			json_array_clear(d->timeline);
			for (size_t i = 0; i < n; i++)
				json_array_append_new(d->timeline, v[i]);
			free(v);
		}
	}
	return notes;
}

static int day_exit_code(struct day *d)
{
	int code = FL_EXIT_OK;
	static const int rank[] = {
		[FL_EXIT_OK] = 0,   [FL_EXIT_FAILED] = 1,  [FL_EXIT_USAGE] = 4,
		[FL_EXIT_HOST] = 5, [FL_EXIT_ABORTED] = 2, [FL_EXIT_INTERNAL] = 6
	};
	size_t i;
	json_t *e;

	json_array_foreach (d->exps, i, e) {
		json_t *c = json_object_get(e, "exit_code");
		int v = c ? (int)json_integer_value(c) : FL_EXIT_OK;

		if (v >= 0 && v <= FL_EXIT_INTERNAL && rank[v] > rank[code])
			code = v;
	}
	if (d->stop_reason && rank[d->stop_code] > rank[code])
		code = d->stop_code;
	return code;
}

static int parse_selection(const struct fl_cmd *self, struct fl_gameday *g, const char *only,
			   const char *from, bool *sel)
{
	const char *names[FL_GD_MAX_ITEMS];

	for (size_t i = 0; i < g->n_items; i++) {
		names[i] = g->items[i].name;
		sel[i] = !only;
	}
	if (only) {
		_cleanup_free_ char *copy = strdup(only);
		char *save = NULL;

		for (char *n = copy ? strtok_r(copy, ",", &save) : NULL; n;
		     n = strtok_r(NULL, ",", &save)) {
			const struct fl_gd_item *it = fl_gameday_find(g, n);
			const char *hint = fl_closest(n, names, g->n_items);

			if (!it || it->kind != FL_GD_EXPERIMENT)
				return fl_usage_error(
					self, "--only: no experiment '%s' in the plan%s%s%s", n,
					hint ? " (did you mean '" : "", hint ? hint : "",
					hint ? "'?)" : "");
			sel[it - g->items] = true;
		}
	}
	if (from) {
		const struct fl_gd_item *it = fl_gameday_find(g, from);
		const char *hint = fl_closest(from, names, g->n_items);

		if (!it)
			return fl_usage_error(
				self, "--from: no experiment or pause '%s' in the plan%s%s%s", from,
				hint ? " (did you mean '" : "", hint ? hint : "",
				hint ? "'?)" : "");
		for (size_t i = 0; i < (size_t)(it - g->items); i++)
			sel[i] = false;
	}
	return 0;
}

/* Nothing starts outside the window: a clear message with the next opening. */
static bool window_check(struct day *d, const struct fl_gameday *g, bool at_start)
{
	char local[64], utc[40];
	time_t next;

	if (fl_gd_window_open(&g->window, time(NULL), &next))
		return true;
	fl_gd_local(next, g->window.tz, local, sizeof(local));
	fl_gd_iso((uint64_t)next * NSEC_PER_SEC, utc, sizeof(utc));
	if (at_start)
		fprintf(stderr,
			"faultline gameday: the window (%s) is closed now; it opens %s (%s). "
			"Nothing was started.\n",
			g->window.text, local, utc);
	else
		halt(d, FL_EXIT_ABORTED, "the window (%s) closed; it opens again %s",
		     g->window.text, local);
	return false;
}

static int take_lock(struct day *d, char **why)
{
	_cleanup_free_ char *path = fl_gd_state_path("lock");
	json_t *cur;
	pid_t pid = 0;

	if (!path || fl_mkdir_p(d->gd_dir, 0700) < 0)
		return -EIO;
	d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (d->lock_fd < 0)
		return -errno;
	if (flock(d->lock_fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (current_day(&cur, &pid) == 0) {
		if (asprintf(why,
			     "game day '%s' is already running (pid %d); one day at a time "
			     "per state directory",
			     cur_str(cur, "name"), (int)pid) < 0)
			*why = NULL;
		json_decref(cur);
	}
	return -EBUSY;
}

static int run_day(struct day *d, const bool *sel, unsigned formats)
{
	struct fl_gameday *g = d->g;
	sigset_t mask, old;
	json_t *day, *notes;
	char start[40], end[40];
	size_t ran = 0, left;
	int code, r;

	fl_gd_iso(fl_realtime_ns(), start, sizeof(start));
	/* SIGINT/SIGTERM/...: blocked for the whole day and every thread it starts; the runner's
	 * signalfd takes them during an experiment, the day's own between and in pauses */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	sigprocmask(SIG_BLOCK, &mask, &old);
	d->sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sfd < 0 || fl_notifier_start(&d->hooks) < 0) {
		fprintf(stderr, "faultline gameday: cannot set up signals or the notifier\n");
		return FL_EXIT_INTERNAL;
	}
	d->state = "running";
	write_current(d);
	d->watching = pthread_create(&d->watcher, NULL, watcher_main, d) == 0;
	event(d, "day started", g->name, "plan %s, %zu items", d->plan_path, g->n_items);
	{
		_cleanup_free_ char *text = NULL;
		json_t *p = payload(d, "start");

		json_object_set_new(p, "experiments", json_integer((json_int_t)g->n_items));
		if (asprintf(&text, "faultline game day *%s* started (%zu items)", g->name,
			     g->n_items) < 0)
			text = NULL;
		notify(d, FL_GD_EV_START, p, text ? text : "game day started");
	}
	for (size_t i = 0; i < g->n_items; i++) {
		const struct fl_gd_item *it = &g->items[i];

		if (!sel[i])
			continue;
		drain_signals(d);
		if (!d->stop_reason && it->kind == FL_GD_PAUSE) {
			pause_day(d, it);
			continue;
		}
		if (!d->stop_reason)
			window_check(d, g, false);
		if (d->stop_reason) {
			if (it->kind == FL_GD_EXPERIMENT)
				not_run(d, it, d->stop_reason);
			continue;
		}
		run_experiment(d, it, i);
		ran++;
	}
	if (d->stop_reason)
		event(d, "day halted", g->name, "%s", d->stop_reason);
	atomic_store(&d->done, true);
	if (d->watching)
		pthread_join(d->watcher, NULL);
	code = day_exit_code(d);
	event(d, "day ended", g->name, "%s (exit %d), %zu experiment%s run",
	      code == FL_EXIT_OK ? "passed" : verdict_of(code), code, ran, ran == 1 ? "" : "s");
	notes = collect_notes(d);
	fl_gd_iso(fl_realtime_ns(), end, sizeof(end));
	day = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s?, s:s, s:s, s:s?, s:o, s:o, s:O}",
			"schema", FL_GAMEDAY_SCHEMA, "name", g->name, "day_id", d->id, "plan",
			d->plan_path, "status",
			d->stop_reason	     ? (strstr(d->stop_reason, "window")  ? "window-closed"
						: strstr(d->stop_reason, "guard") ? verdict_of(code)
										  : "stopped")
			: code == FL_EXIT_OK ? "passed"
					     : verdict_of(code),
			"exit_code", code, "reason", d->stop_reason, "started", start, "ended", end,
			"window", g->window.set ? g->window.text : NULL, "timeline", d->timeline,
			"notes", notes, "experiments", d->exps);
	d->timeline = NULL;
	r = day ? fl_gameday_write(day, d->out, formats) : -ENOMEM;
	if (r < 0) {
		fprintf(stderr, "faultline gameday: cannot write the reports in %s: %s\n", d->out,
			strerror(-r));
		if (code == FL_EXIT_OK)
			code = FL_EXIT_INTERNAL;
	}
	{
		_cleanup_free_ char *text = NULL;
		json_t *p = payload(d, "end");

		json_object_set_new(p, "status",
				    json_string(json_string_value(json_object_get(day, "status"))));
		json_object_set_new(p, "exit_code", json_integer(code));
		if (d->stop_reason)
			json_object_set_new(p, "reason", json_string(d->stop_reason));
		if (asprintf(&text, "faultline game day *%s* ended: %s (exit %d)%s%s", g->name,
			     json_string_value(json_object_get(day, "status")), code,
			     d->stop_reason ? ": " : "", d->stop_reason ? d->stop_reason : "") < 0)
			text = NULL;
		notify(d, FL_GD_EV_END, p, text ? text : "game day ended");
	}
	/* the end message gets a few seconds, never the day's exit code */
	left = fl_notifier_finish(d->hooks, (d->stop_reason ? 2 : 10) * NSEC_PER_SEC);
	if (left)
		fprintf(stderr,
			"faultline gameday: %zu webhook message%s not delivered (see the "
			"log above)\n",
			left, left == 1 ? "" : "s");
	printf("game day '%s': %s (exit %d)%s%s\nreport: %s/gameday.html\n", g->name,
	       json_string_value(json_object_get(day, "status")), code, d->stop_reason ? ": " : "",
	       d->stop_reason ? d->stop_reason : "", d->out);
	json_decref(day);
	close(d->sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return code;
}

static int cmd_day(const struct fl_cmd *self, int argc, char **argv, struct fl_cli *cli)
{
	static const struct option opts[] = {
		{ "only", required_argument, NULL, 'O' },
		{ "from", required_argument, NULL, 'F' },
		{ "out", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ 0 },
	};
	struct day d = { .lock_fd = -1, .sfd = -1 };
	struct fl_errors errs = { 0 };
	const char *only = NULL, *from = NULL, *out = NULL;
	_cleanup_free_ char *why = NULL, *cur = NULL;
	unsigned formats = FL_REPORT_ALL;
	bool sel[FL_GD_MAX_ITEMS];
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'O':
			only = optarg;
			break;
		case 'F':
			from = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'f': {
			_cleanup_free_ char *bad = NULL;
			if (fl_report_format_list(optarg, &formats, &bad) < 0)
				return fl_usage_error(self,
						      "unknown report format '%s' in --format "
						      "(json, junit, md, html)",
						      bad ? bad : optarg);
			break;
		}
		default:
			return fl_usage_error(self, "unknown or incomplete option '%s'",
					      argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return fl_usage_error(self, "give one plan file");
	d.plan_path = argv[optind];
	r = fl_gameday_load_file(d.plan_path, &d.g, &errs);
	if (r < 0) {
		fl_errors_print(&errs, stderr);
		fl_errors_clear(&errs);
		return r == -ENOMEM ? FL_EXIT_INTERNAL : FL_EXIT_USAGE;
	}
	r = parse_selection(self, d.g, only, from, sel);
	if (r)
		goto out;
	if (geteuid() != 0) {
		fprintf(stderr, "faultline gameday: needs root (the experiments do)\n");
		r = FL_EXIT_HOST;
		goto out;
	}
	r = FL_EXIT_ABORTED;
	if (d.g->stop_file && access(d.g->stop_file, F_OK) == 0) {
		fprintf(stderr,
			"faultline gameday: the stop file %s exists: the fleet is halted; "
			"remove it to allow game days. Nothing was started.\n",
			d.g->stop_file);
		goto out;
	}
	if (!window_check(&d, d.g, true))
		goto out;
	if (fl_state_dir_prepare(&why) < 0) {
		fprintf(stderr, "faultline gameday: %s\n", why ? why : "no state directory");
		r = FL_EXIT_HOST;
		goto out;
	}
	d.gd_dir = fl_gd_state_path(NULL);
	if (fl_new_id(d.id, sizeof(d.id)) < 0 || !d.gd_dir ||
	    asprintf(&d.dir, "%s/%s", d.gd_dir, d.id) < 0) {
		r = FL_EXIT_INTERNAL;
		goto out;
	}
	r = take_lock(&d, &cur);
	if (r < 0) {
		fprintf(stderr, "faultline gameday: %s. Nothing was started.\n",
			cur ? cur : "another game day holds the lock");
		r = r == -EBUSY ? FL_EXIT_ABORTED : FL_EXIT_HOST;
		goto out;
	}
	if (out)
		d.out = strdup(out);
	else if (asprintf(&d.out, "faultline-out/gameday-%s", d.id) < 0)
		d.out = NULL;
	if (!d.out || fl_mkdir_p(d.dir, 0700) < 0 || fl_mkdir_p(d.out, 0755) < 0) {
		fprintf(stderr, "faultline gameday: cannot create %s or %s\n", d.dir,
			d.out ? d.out : "the output directory");
		r = FL_EXIT_HOST;
		goto out;
	}
	d.timeline = json_array();
	d.exps = json_array();
	d.t0 = fl_now_ns();
	d.t0_real = fl_realtime_ns();
	r = run_day(&d, sel, formats);
	{
		_cleanup_free_ char *curp = fl_gd_state_path("current.json");
		if (curp)
			unlink(curp);
		(void)fl_rm_rf(d.dir);
	}
	(void)cli;
out:
	if (d.lock_fd >= 0)
		close(d.lock_fd);
	json_decref(d.timeline);
	json_decref(d.exps);
	free(d.stop_reason);
	free(d.gd_dir);
	free(d.dir);
	free(d.out);
	fl_gameday_free(d.g);
	return r;
}

int cmd_gameday(int argc, char **argv, struct fl_cli *cli)
{
	const struct fl_cmd *self = fl_cmd_find("gameday");

	if (argc < 2)
		return fl_usage_error(self, "give a plan file, or continue, note, stop, status, "
					    "calendar");
	if (!strcmp(argv[1], "continue"))
		return cmd_continue(self, argc - 1, argv + 1, cli);
	if (!strcmp(argv[1], "note"))
		return cmd_note(self, argc - 1, argv + 1, cli);
	if (!strcmp(argv[1], "stop"))
		return cmd_stop(self, argc - 1, argv + 1, cli);
	if (!strcmp(argv[1], "status"))
		return cmd_gd_status(self, argc - 1, argv + 1, cli);
	if (!strcmp(argv[1], "calendar"))
		return fl_gd_calendar(self, argc - 1, argv + 1, cli);
	return cmd_day(self, argc, argv, cli);
}

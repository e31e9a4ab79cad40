// SPDX-License-Identifier: GPL-2.0-only
/*
 * `faultline schedule run|install|next PLAN` and `faultline gameday calendar`: a plan's
 * schedule in the foreground (timerfd on CLOCK_REALTIME, absolute, cancelled when the clock is
 * set), as a systemd timer, and as iCalendar (RFC 5545) for the team's calendars.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>

#include "cmd/cmd.h"
#include "cmd/gameday_int.h"
#include "inject/log.h"
#include "inject/util.h"
#include "scenarios/gameday.h"
#include "scenarios/tz.h"

const char cmd_schedule_usage[] =
	"Usage: faultline schedule run PLAN [--max-runs N] [--out DIR]\n"
	"       faultline schedule install PLAN [--dir DIR] [--out DIR]\n"
	"       faultline schedule next PLAN [--count N]\n"
	"\n"
	"A plan's `schedule:` (5-field cron, or @hourly @daily @weekly @monthly @yearly, in its\n"
	"tz, default UTC) runs its game day repeatedly.\n"
	"  run      stay in the foreground, asleep on a timerfd (CLOCK_REALTIME, re-armed\n"
	"           when the clock is set); each due time starts `faultline gameday PLAN` as a\n"
	"           child. overlap: skip -- a run due while the previous one is still going is\n"
	"           skipped and recorded as missed, as are times the machine slept through.\n"
	"           Runs and missed runs go to stdout and STATE/gameday/schedule-NAME.jsonl.\n"
	"           SIGTERM or Ctrl-C stops the running day (its faults revert) and exits.\n"
	"  install  write faultline-gameday-NAME.timer and .service into DIR (default\n"
	"           /etc/systemd/system) instead: OnCalendar= translated from the cron expression\n"
	"           (two OnCalendar= lines when both day fields are set: cron ORs them). systemd\n"
	"           skips a start while the service still runs (the same overlap policy). Enable\n"
	"           it with: systemctl daemon-reload && systemctl enable --now NAME.timer\n"
	"  next     print the next due times (UTC and the schedule's zone)\n"
	"DST: a time in a spring-forward gap runs once when the gap ends (02:30 -> 03:00);\n"
	"a time a fall-back repeats runs once, the first time; jobs whose hour is '*' run\n"
	"at the times that exist (cronie's rules). Installed timers follow systemd's own rules.\n"
	"\n"
	"Options:\n"
	"  --max-runs N       run: exit after N days have run\n"
	"  --out DIR          where each day's reports go (default ./faultline-out)\n"
	"  --dir DIR          install: where the unit files go\n"
	"  --count N          next: how many times (default 5)\n" COMMON_OPTS_TEXT "\n"
	"Exit status: 0 ok, 2 invalid plan or usage (or no schedule:), 3 cannot write the units,\n"
	"5 internal error.\n"
	"\n"
	"Examples:\n"
	"  faultline schedule next scenarios/examples/gameday.yaml --count 3\n"
	"  faultline schedule run scenarios/examples/gameday.yaml\n"
	"  faultline schedule install /etc/faultline/gameday.yaml\n"
	"  faultline schedule install plan.yaml --dir ./units && systemd-analyze verify units/*\n";

static int load_plan(const char *path, struct fl_gameday **g, bool need_schedule,
		     const struct fl_cmd *self)
{
	struct fl_errors errs = { 0 };
	int r = fl_gameday_load_file(path, g, &errs);

	if (r < 0) {
		fl_errors_print(&errs, stderr);
		fl_errors_clear(&errs);
		return r == -ENOMEM ? FL_EXIT_INTERNAL : FL_EXIT_USAGE;
	}
	if (need_schedule && !(*g)->has_schedule) {
		fprintf(stderr,
			"%s: the plan has no 'schedule:' (e.g. schedule: { cron: \"30 10 * * "
			"tue\", tz: Europe/Berlin })\n",
			path);
		*g = fl_gameday_free(*g);
		return FL_EXIT_USAGE;
	}
	(void)self;
	return 0;
}

static int parse_count(const struct fl_cmd *self, const char *v, unsigned max, unsigned *ret)
{
	uint64_t n;

	if (fl_parse_uint(v, max, &n) < 0 || n == 0)
		return fl_usage_error(self, "--count must be 1 to %u, got '%s'", max, v);
	*ret = (unsigned)n;
	return 0;
}

/* --- next ----------------------------------------------------------------------------- */

static int sched_next(const struct fl_cmd *self, int argc, char **argv, struct fl_cli *cli)
{
	static const struct option opts[] = { { "count", required_argument, NULL, 'n' }, { 0 } };
	struct fl_gameday *g = NULL;
	unsigned count = 5;
	time_t t = time(NULL);
	json_t *arr = json_array();
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (c != 'n' || (r = parse_count(self, optarg, 1000, &count)))
			return c == 'n' ? r
					: fl_usage_error(self, "unknown option '%s'",
							 argv[optind - 1]);
	if (optind != argc - 1)
		return fl_usage_error(self, "next needs one plan file");
	r = load_plan(argv[optind], &g, true, self);
	if (r)
		return r;
	for (unsigned i = 0; i < count; i++) {
		char utc[40], local[64];

		if (fl_cron_next(&g->cron, g->schedule_tz, t, &t) < 0)
			break;
		fl_gd_iso((uint64_t)t * NSEC_PER_SEC, utc, sizeof(utc));
		utc[19] = 'Z', utc[20] = '\0';
		fl_gd_local(t, g->schedule_tz, local, sizeof(local));
		if (cli->json)
			json_array_append_new(arr, json_pack("{s:s, s:s, s:I}", "utc", utc, "local",
							     local, "unix", (json_int_t)t));
		else
			printf("%s  %s\n", utc, local);
	}
	if (cli->json) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
	}
	json_decref(arr);
	fl_gameday_free(g);
	return FL_EXIT_OK;
}

/* --- install ---------------------------------------------------------------------------- */

/* systemd unit values: escape what the unit parser would read specially (specifiers, quotes). */
static void unit_quote(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '%')
			fputs("%%", f);
		else if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static int sched_install(const struct fl_cmd *self, int argc, char **argv, struct fl_cli *cli)
{
	static const struct option opts[] = { { "dir", required_argument, NULL, 'd' },
					      { "out", required_argument, NULL, 'o' },
					      { 0 } };
	_cleanup_free_ char *plan = NULL, *exe = NULL, *svc = NULL, *tmr = NULL, *out = NULL;
	_cleanup_free_ char *sbuf = NULL, *tbuf = NULL;
	const char *dir = "/etc/systemd/system", *outdir = NULL;
	struct fl_gameday *g = NULL;
	char oc[2][512];
	size_t slen = 0, tlen = 0;
	FILE *f;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'o')
			outdir = optarg;
		else
			return fl_usage_error(self, "unknown or incomplete option '%s'",
					      argv[optind - 1]);
	}
	if (optind != argc - 1)
		return fl_usage_error(self, "install needs one plan file");
	r = load_plan(argv[optind], &g, true, self);
	if (r)
		return r;
	r = fl_cron_to_oncalendar(&g->cron, g->schedule_tz ? g->schedule_tz : "UTC", oc);
	if (r < 0) {
		fprintf(stderr,
			"faultline schedule install: '%s' cannot be written as systemd "
			"OnCalendar= (the expansion is longer than 511 characters); write the "
			"timer by hand or simplify the expression\n",
			g->cron_expr);
		fl_gameday_free(g);
		return FL_EXIT_USAGE;
	}
	plan = realpath(argv[optind], NULL);
	exe = realpath("/proc/self/exe", NULL);
	out = outdir ? (outdir[0] == '/' ? strdup(outdir) : NULL) : NULL;
	if (outdir && !out) {
		_cleanup_free_ char *cwd = getcwd(NULL, 0);
		if (cwd && asprintf(&out, "%s/%s", cwd, outdir) < 0)
			out = NULL;
	}
	if (!plan || !exe || asprintf(&svc, "%s/faultline-gameday-%s.service", dir, g->name) < 0 ||
	    asprintf(&tmr, "%s/faultline-gameday-%s.timer", dir, g->name) < 0) {
		fl_gameday_free(g);
		return FL_EXIT_INTERNAL;
	}
	f = open_memstream(&sbuf, &slen);
	if (!f) {
		fl_gameday_free(g);
		return FL_EXIT_INTERNAL;
	}
	fprintf(f,
		"# Written by faultline schedule install from %s\n[Unit]\n"
		"Description=faultline game day %s\n"
		"After=network.target\n\n[Service]\nType=exec\n",
		plan, g->name);
	if (getenv("FAULTLINE_STATE_DIR")) {
		fputs("Environment=", f);
		_cleanup_free_ char *kv = NULL;
		if (asprintf(&kv, "FAULTLINE_STATE_DIR=%s", getenv("FAULTLINE_STATE_DIR")) >= 0)
			unit_quote(f, kv);
		fputc('\n', f);
	}
	fprintf(f, "WorkingDirectory=%s\nExecStart=", out ? out : "/var/lib/faultline");
	unit_quote(f, exe);
	fputs(" gameday ", f);
	unit_quote(f, plan);
	/* SIGTERM (systemctl stop) is the kill switch: every fault reverts */
	fputs("\nKillSignal=SIGTERM\nKillMode=mixed\nTimeoutStopSec=30s\n", f);
	fclose(f);
	f = open_memstream(&tbuf, &tlen);
	if (!f) {
		fl_gameday_free(g);
		return FL_EXIT_INTERNAL;
	}
	fprintf(f,
		"# Written by faultline schedule install from %s\n# cron: %s (%s)\n[Unit]\n"
		"Description=faultline game day %s, on schedule\n\n[Timer]\nOnCalendar=%s\n",
		plan, g->cron_expr, g->schedule_tz ? g->schedule_tz : "UTC", g->name, oc[0]);
	if (oc[1][0])
		fprintf(f, "OnCalendar=%s\n", oc[1]);
	fputs("AccuracySec=1s\nPersistent=false\n\n[Install]\nWantedBy=timers.target\n", f);
	fclose(f);
	r = fl_mkdir_p(dir, 0755);
	if (r == 0)
		r = fl_write_file_atomic(svc, sbuf, slen, 0644);
	if (r == 0)
		r = fl_write_file_atomic(tmr, tbuf, tlen, 0644);
	if (r < 0) {
		fprintf(stderr, "faultline schedule install: cannot write into %s: %s\n", dir,
			strerror(-r));
		fl_gameday_free(g);
		return FL_EXIT_HOST;
	}
	if (cli->json)
		printf("{\"service\": \"%s\", \"timer\": \"%s\", \"on_calendar\": "
		       "[\"%s\"%s%s%s]}\n",
		       svc, tmr, oc[0], oc[1][0] ? ", \"" : "", oc[1], oc[1][0] ? "\"" : "");
	else
		printf("wrote %s\nwrote %s\nOnCalendar=%s%s%s\nenable: systemctl daemon-reload && "
		       "systemctl enable --now faultline-gameday-%s.timer\n",
		       svc, tmr, oc[0], oc[1][0] ? "\nOnCalendar=" : "", oc[1], g->name);
	fl_gameday_free(g);
	return FL_EXIT_OK;
}

/* --- run -------------------------------------------------------------------------------- */

static void sched_log(const char *name, json_t *rec /* stolen */)
{
	_cleanup_free_ char *path = NULL, *line = NULL;
	_cleanup_free_ char *leaf = NULL;
	int fd;

	line = json_dumps(rec, JSON_COMPACT);
	if (asprintf(&leaf, "schedule-%s.jsonl", name) >= 0)
		path = fl_gd_state_path(leaf);
	printf("%s\n", line ? line : "{}");
	fflush(stdout);
	json_decref(rec);
	if (!path || !line)
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0) {
		if (dprintf(fd, "%s\n", line) < 0)
			log_warn("schedule: cannot append to %s", path);
		close(fd);
	}
}

static void iso_s(time_t t, char *buf, size_t len)
{
	fl_gd_iso((uint64_t)t * NSEC_PER_SEC, buf, len);
	if (len > 20)
		buf[19] = 'Z', buf[20] = '\0';
}

static pid_t start_day(const char *plan, const char *out, time_t due, const char *sfmt)
{
	_cleanup_free_ char *dir = NULL;
	sigset_t none;
	char stamp[40];
	pid_t pid;

	iso_s(due, stamp, sizeof(stamp));
	if (asprintf(&dir, "%s/%s-%s", out, sfmt, stamp) < 0)
		return -ENOMEM;
	pid = fork();
	if (pid != 0)
		return pid < 0 ? -errno : pid;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execl("/proc/self/exe", "faultline", "gameday", plan, "--out", dir, (char *)NULL);
	fprintf(stderr, "faultline schedule: cannot start the day: %s\n", strerror(errno));
	_exit(FL_EXIT_INTERNAL);
}

static int sched_run(const struct fl_cmd *self, int argc, char **argv, struct fl_cli *cli)
{
	static const struct option opts[] = { { "max-runs", required_argument, NULL, 'm' },
					      { "out", required_argument, NULL, 'o' },
					      { 0 } };
	_cleanup_close_ int tfd = -1, sfd = -1;
	_cleanup_free_ char *plan = NULL, *why = NULL;
	const char *out = "faultline-out";
	struct fl_gameday *g = NULL;
	unsigned max_runs = 0, runs = 0;
	sigset_t mask, old;
	time_t due = 0, run_due = 0, last_due = 0;
	pid_t child = 0;
	bool quit = false;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'm') {
			uint64_t v;
			if (fl_parse_uint(optarg, 1000000, &v) < 0 || !v)
				return fl_usage_error(self,
						      "--max-runs must be a positive integer, "
						      "got '%s'",
						      optarg);
			max_runs = (unsigned)v;
		} else if (c == 'o') {
			out = optarg;
		} else {
			return fl_usage_error(self, "unknown or incomplete option '%s'",
					      argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return fl_usage_error(self, "run needs one plan file");
	r = load_plan(argv[optind], &g, true, self);
	if (r)
		return r;
	plan = realpath(argv[optind], NULL);
	if (!plan || fl_state_dir_prepare(&why) < 0 || fl_mkdir_p(out, 0755) < 0) {
		fprintf(stderr, "faultline schedule run: %s\n",
			why ? why
			    : "cannot prepare "
			      "the state or output directory");
		fl_gameday_free(g);
		return FL_EXIT_HOST;
	}
	_cleanup_free_ char *gd = fl_gd_state_path(NULL);
	if (gd)
		(void)fl_mkdir_p(gd, 0700);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, &old);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	tfd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
	if (sfd < 0 || tfd < 0) {
		fprintf(stderr, "faultline schedule run: %s\n", strerror(errno));
		fl_gameday_free(g);
		return FL_EXIT_INTERNAL;
	}
	while (!quit) {
		struct pollfd p[2] = { { .fd = tfd, .events = POLLIN },
				       { .fd = sfd, .events = POLLIN } };
		struct signalfd_siginfo si;
		char when[40], local[64];

		if (!due) {
			struct itimerspec its = { 0 };

			/* strictly after the last due time: time() is the coarse clock and may
			 * still read the second before the timer's expiry */
			time_t from = (time_t)(fl_realtime_ns() / NSEC_PER_SEC);

			if (from < last_due)
				from = last_due;
			if (fl_cron_next(&g->cron, g->schedule_tz, from, &due) < 0) {
				fprintf(stderr, "faultline schedule run: '%s' never comes again\n",
					g->cron_expr);
				break;
			}
			its.it_value.tv_sec = due;
			/* absolute on the wall clock; a clock change cancels it (ECANCELED) */
			if (timerfd_settime(tfd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its,
					    NULL) < 0) {
				fprintf(stderr, "faultline schedule run: timerfd: %s\n",
					strerror(errno));
				break;
			}
			iso_s(due, when, sizeof(when));
			fl_gd_local(due, g->schedule_tz, local, sizeof(local));
			if (!cli->json)
				log_info("schedule '%s': next run at %s (%s)", g->cron_expr, when,
					 local);
		}
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents) {
			uint64_t ticks;
			ssize_t n = read(tfd, &ticks, sizeof(ticks));
			time_t now = (time_t)(fl_realtime_ns() / NSEC_PER_SEC), t;

			if (n < 0 && errno == ECANCELED) {
				log_info("schedule: the clock was set; computing the next run "
					 "again");
				due = 0;
				continue;
			}
			if (n < 0)
				continue;
			/* due times the machine slept through (suspend, a stopped process) */
			for (t = due;
			     fl_cron_next(&g->cron, g->schedule_tz, t, &t) == 0 && t <= now;) {
				iso_s(t, when, sizeof(when));
				sched_log(g->name, json_pack("{s:s, s:s, s:s}", "event", "missed",
							     "due", when, "reason",
							     "the scheduler was not running then"));
			}
			iso_s(due, when, sizeof(when));
			last_due = due;
			if (child > 0) {
				char prev[40];

				iso_s(run_due, prev, sizeof(prev));
				sched_log(g->name,
					  json_pack("{s:s, s:s, s:s, s:i}", "event", "missed",
						    "due", when, "reason",
						    "overlap: the previous run is still going",
						    "previous_pid", (int)child));
			} else {
				child = start_day(plan, out, due, g->name);
				run_due = due;
				char at[40];

				fl_gd_iso(fl_realtime_ns(), at, sizeof(at));
				sched_log(g->name,
					  json_pack("{s:s, s:s, s:s, s:i}", "event", "started",
						    "due", when, "at", at, "pid", (int)child));
			}
			due = 0;
		}
		while (p[1].revents && read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGCHLD) {
				int st;
				pid_t w;

				while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
					if (w != child)
						continue;
					iso_s(run_due, when, sizeof(when));
					sched_log(g->name,
						  json_pack("{s:s, s:s, s:i, s:i}", "event",
							    "ended", "due", when, "pid", (int)w,
							    "exit_code",
							    WIFEXITED(st) ? WEXITSTATUS(st)
									  : 128 + WTERMSIG(st)));
					child = 0;
					if (max_runs && ++runs >= max_runs)
						quit = true;
				}
			} else {
				log_info("schedule: SIG%s, stopping",
					 sigabbrev_np((int)si.ssi_signo));
				quit = true;
			}
		}
	}
	if (child > 0) {
		/* the day's kill switch: it reverts every fault and writes its report */
		kill(child, SIGTERM);
		waitpid(child, NULL, 0);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	fl_gameday_free(g);
	return FL_EXIT_OK;
}

int cmd_schedule(int argc, char **argv, struct fl_cli *cli)
{
	const struct fl_cmd *self = fl_cmd_find("schedule");

	if (argc >= 2 && !strcmp(argv[1], "run"))
		return sched_run(self, argc - 1, argv + 1, cli);
	if (argc >= 2 && !strcmp(argv[1], "install"))
		return sched_install(self, argc - 1, argv + 1, cli);
	if (argc >= 2 && !strcmp(argv[1], "next"))
		return sched_next(self, argc - 1, argv + 1, cli);
	return fl_usage_error(self, "give run, install or next, and a plan file");
}

/* --- iCalendar ------------------------------------------------------------------------------ */

/* RFC 5545 3.3.11 TEXT: backslash, semicolon, comma escaped, newlines as \n. */
static void ics_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\' || *s == ';' || *s == ',')
			fputc('\\', f), fputc(*s, f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s != '\r' && (unsigned char)*s >= 0x20)
			fputc(*s, f);
	}
}

/* RFC 5545 3.1: lines of at most 75 octets, CRLF, continued with a space; never inside a
 * UTF-8 sequence. */
static void ics_fold(FILE *out, const char *line, size_t len)
{
	size_t col = 0;

	for (size_t i = 0; i < len;) {
		size_t n = 1;

		if (((unsigned char)line[i] & 0xe0) == 0xc0)
			n = 2;
		else if (((unsigned char)line[i] & 0xf0) == 0xe0)
			n = 3;
		else if (((unsigned char)line[i] & 0xf8) == 0xf0)
			n = 4;
		if (i + n > len)
			n = len - i;
		if (col + n > 75) {
			fputs("\r\n ", out);
			col = 1;
		}
		fwrite(line + i, 1, n, out);
		col += n;
		i += n;
	}
	fputs("\r\n", out);
}

/* One content line built with printf, folded. */
static void ics(FILE *out, const char *fmt, ...) _printf_(2, 3);
static void ics(FILE *out, const char *fmt, ...)
{
	_cleanup_free_ char *line = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n >= 0)
		ics_fold(out, line, (size_t)n);
}

static void ics_stamp(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y%m%dT%H%M%SZ", &tm);
}

static char *ics_escaped(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	ics_text(f, s);
	fclose(f);
	return buf;
}

static char *day_description(const struct fl_gameday *g)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	if (g->description)
		fprintf(f, "%s\n\n", g->description);
	fprintf(f, "faultline game day '%s' (plan %s):\n", g->name, g->file);
	for (size_t i = 0; i < g->n_items; i++) {
		const struct fl_gd_item *it = &g->items[i];

		if (it->kind == FL_GD_PAUSE)
			fprintf(f, "%zu. pause: %s\n", i + 1, it->message ? it->message : it->name);
		else
			fprintf(f, "%zu. %s (%s)\n", i + 1, it->name, it->scenario);
	}
	if (g->window.set)
		fprintf(f, "Window: %s\n", g->window.text);
	if (g->stop_file)
		fprintf(f, "Kill switch: faultline gameday stop, or create %s\n", g->stop_file);
	else
		fprintf(f, "Kill switch: faultline gameday stop\n");
	fclose(f);
	return buf;
}

int fl_gd_calendar(const struct fl_cmd *self, int argc, char **argv, struct fl_cli *cli)
{
	static const struct option opts[] = { { "output", required_argument, NULL, 'o' },
					      { "count", required_argument, NULL, 'n' },
					      { 0 } };
	_cleanup_free_ char *buf = NULL, *desc = NULL, *summary = NULL, *edesc = NULL;
	const char *output = NULL;
	struct fl_gameday *g = NULL;
	unsigned count = 10;
	uint64_t bound = 0;
	time_t t = time(NULL), now = t;
	char stamp[32], s1[32], s2[32];
	size_t len = 0;
	FILE *f;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (c == 'o')
			output = optarg;
		else if (c == 'n' && (r = parse_count(self, optarg, 366, &count)))
			return r;
		else if (c != 'n')
			return fl_usage_error(self, "unknown or incomplete option '%s'",
					      argv[optind - 1]);
	}
	if (optind != argc - 1 || !output)
		return fl_usage_error(self, "calendar needs a plan file and -o FILE.ics");
	r = load_plan(argv[optind], &g, false, self);
	if (r)
		return r;
	if (!g->has_schedule && !g->window.set) {
		fprintf(stderr,
			"%s: the plan has neither 'schedule:' nor 'window:': no dates to put "
			"in a calendar\n",
			argv[optind]);
		fl_gameday_free(g);
		return FL_EXIT_USAGE;
	}
	for (size_t i = 0; i < g->n_items; i++)
		if (g->items[i].s)
			bound += fl_gd_experiment_bound_ns(g->items[i].s);
	desc = day_description(g);
	edesc = ics_escaped(desc ? desc : "");
	if (asprintf(&summary, "Game day: %s", g->name) < 0)
		summary = NULL;
	f = open_memstream(&buf, &len);
	if (!f || !edesc || !summary) {
		fl_gameday_free(g);
		return FL_EXIT_INTERNAL;
	}
	ics_stamp(now, stamp, sizeof(stamp));
	ics(f, "BEGIN:VCALENDAR");
	ics(f, "VERSION:2.0");
	ics(f, "PRODID:-//faultline//faultline %s//EN", FL_VERSION);
	ics(f, "CALSCALE:GREGORIAN");
	ics(f, "METHOD:PUBLISH");
	for (unsigned i = 0; i < count; i++) {
		time_t start, end;
		_cleanup_free_ char *esum = ics_escaped(summary);

		if (g->has_schedule) {
			/* the schedule's dates; the event lasts as long as the day can */
			if (fl_cron_next(&g->cron, g->schedule_tz, t, &start) < 0)
				break;
			end = start +
			      (time_t)((bound + 59 * NSEC_PER_SEC) / NSEC_PER_SEC / 60 * 60);
			if (end <= start)
				end = start + 60;
			t = start;
		} else {
			/* the window's next openings (past the one open now), until it closes */
			unsigned dur = (g->window.to_min + 1440 - g->window.from_min) % 1440;
			struct fl_tz_saved sv;
			time_t w0, tt[2];

			while (fl_gd_window_open(&g->window, t, &start))
				t += 15 * 60;
			if (start < 0 || fl_tz_push(g->window.tz, &sv) < 0)
				break;
			w0 = fl_tz_wall(start) + (time_t)dur * 60;
			end = fl_tz_instants(w0, tt) ? tt[0] : fl_tz_gap_end(w0);
			fl_tz_pop(&sv);
			t = end;
		}
		ics_stamp(start, s1, sizeof(s1));
		ics_stamp(end, s2, sizeof(s2));
		ics(f, "BEGIN:VEVENT");
		ics(f, "UID:%s-%s@faultline.invalid", g->name, s1);
		ics(f, "DTSTAMP:%s", stamp);
		ics(f, "DTSTART:%s", s1);
		ics(f, "DTEND:%s", s2);
		ics(f, "SUMMARY:%s", esum ? esum : "");
		ics(f, "DESCRIPTION:%s", edesc);
		ics(f, "CATEGORIES:faultline,game day");
		ics(f, "TRANSP:OPAQUE");
		ics(f, "END:VEVENT");
	}
	ics(f, "END:VCALENDAR");
	fclose(f);
	if (!strcmp(output, "-"))
		r = fwrite(buf, 1, len, stdout) == len ? 0 : -EIO;
	else
		r = fl_write_file_atomic(output, buf, len, 0644);
	if (r < 0) {
		fprintf(stderr, "faultline gameday calendar: cannot write %s: %s\n", output,
			strerror(-r));
		fl_gameday_free(g);
		return FL_EXIT_HOST;
	}
	if (strcmp(output, "-") && !cli->json)
		printf("wrote %s\n", output);
	fl_gameday_free(g);
	return FL_EXIT_OK;
}

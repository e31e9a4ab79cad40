// SPDX-License-Identifier: GPL-2.0-only
/* `faultline inject KIND --for D ...`: one fault now, through the scenario validator. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "cmd/cmd.h"
#include "inject/injector.h"
#include "inject/journal.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"

/* CLI flag -> validator key; any other --flag is passed as its own key (dashes to '_'). */
static const struct {
	const char *flag, *key;
} flag_keys[] = {
	{ "for", "for" },		 { "at", "at" },
	{ "pid", "target.pid" },	 { "name", "target.name" },
	{ "cmdline", "target.cmdline" }, { "cgroup", "target.cgroup" },
	{ "netns", "target.netns" },	 { "pick", "target.pick" },
	{ "count", "target.count" },	 { "fault-name", "name" },
};

static const char *key_for_flag(const char *flag, char *buf, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(flag_keys); i++)
		if (strcmp(flag_keys[i].flag, flag) == 0)
			return flag_keys[i].key;
	snprintf(buf, len, "%s", flag);
	for (char *p = buf; *p; p++)
		if (*p == '-')
			*p = '_';
	return buf;
}

/* The detached keeper: runs the fault to its end in its own session; the parent waits for
 * "applied RUN_ID" or "!reason" on a pipe. */
static int run_detached(struct fl_scenario *s, struct fl_cli *cli)
{
	int pfd[2];
	pid_t pid;
	char buf[1024];
	ssize_t n;
	size_t got = 0;
	int st;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		struct fl_run_opts o = { .kind = "inject", .detached = true, .notify_fd = pfd[1] };
		struct fl_run_result res;
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		close(pfd[0]);
		setsid();
		/* the keeper must not die with the terminal it was started from */
		signal(SIGHUP, SIG_IGN);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		if (fork() > 0)
			_exit(0);
		fl_run(s, &o, &res);
		_exit(res.exit_code);
	}
	close(pfd[1]);
	waitpid(pid, &st, 0);
	/* one line: the keeper keeps the pipe open for as long as the fault lasts */
	while (got < sizeof(buf) - 1 && (n = read(pfd[0], buf + got, sizeof(buf) - 1 - got)) > 0) {
		got += (size_t)n;
		if (memchr(buf, '\n', got))
			break;
	}
	close(pfd[0]);
	buf[got] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (strncmp(buf, "applied ", 8) == 0) {
		char d[32];
		const char *id = buf + 8;
		if (cli->json)
			printf("{\"run_id\": \"%s\", \"state\": \"active\", \"for_s\": %.3f}\n", id,
			       (double)s->faults[0].for_ns / 1e9);
		else
			printf("fault active: run %s, ends by itself in %s; end it now with "
			       "'faultline recover %s'\n",
			       id, fl_format_duration(s->faults[0].for_ns, d, sizeof(d)), id);
		return FL_EXIT_OK;
	}
	fprintf(stderr, "faultline inject: %s\n", buf[0] == '!' ? buf + 1 : "the fault keeper failed");
	return FL_EXIT_ABORTED;
}

int cmd_inject(int argc, char **argv, struct fl_cli *cli)
{
	const struct fl_cmd *self = fl_cmd_find("inject");
	struct fl_params p = { 0 };
	struct fl_errors errs = { 0 };
	struct fl_scenario *s = NULL;
	struct fl_run_opts o = { .kind = "inject", .notify_fd = -1 };
	struct fl_run_result res;
	struct fl_where kw = { .flag = "KIND" };
	bool detach = false;
	const char *kind = NULL, *seed = NULL;
	int ret = FL_EXIT_USAGE, r;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		char keybuf[96], flagbuf[80];
		const char *flag, *val, *eq;

		if (strncmp(a, "--", 2) != 0) {
			if (kind) {
				fl_usage_error(self, "unexpected argument '%s'", a);
				goto out;
			}
			kind = a;
			continue;
		}
		flag = a + 2;
		if (strcmp(flag, "detach") == 0) {
			detach = true;
			continue;
		}
		eq = strchr(flag, '=');
		snprintf(flagbuf, sizeof(flagbuf), "--%.*s", (int)(eq ? eq - flag : (long)strlen(flag)),
			 flag);
		if (eq) {
			val = eq + 1;
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			fl_usage_error(self, "%s needs a value", flagbuf);
			goto out;
		}
		if (strcmp(flagbuf, "--seed") == 0) {
			seed = val;
			continue;
		}
		{
			struct fl_where w = { .flag = strdupa(flagbuf) };
			const char *key = key_for_flag(flagbuf + 2, keybuf, sizeof(keybuf));
			if (fl_params_add(&p, key, val, &w) < 0) {
				ret = FL_EXIT_INTERNAL;
				goto out;
			}
		}
	}
	if (!kind) {
		fl_usage_error(self, "give a fault kind, e.g. 'faultline inject stop --name redis-server --for 10s'");
		goto out;
	}
	fl_params_add(&p, "kind", kind, &kw);
	s = calloc(1, sizeof(*s));
	if (!s) {
		ret = FL_EXIT_INTERNAL;
		goto out;
	}
	s->faults = calloc(1, sizeof(*s->faults));
	s->name = strdup("inject");
	s->dir = strdup(".");
	s->version = 1;
	if (!s->faults || !s->name || !s->dir) {
		ret = FL_EXIT_INTERNAL;
		goto out;
	}
	p.where.flag = "inject";
	r = fl_fault_from_params(&p, NULL, &s->faults[0], &errs);
	if (r < 0) {
		fl_errors_print(&errs, stderr);
		fprintf(stderr, "Try 'faultline inject --help'.\n");
		fl_fault_clear(&s->faults[0]);
		goto out;
	}
	s->n_faults = 1;
	if (seed) {
		uint64_t v;
		if (fl_parse_uint(seed, UINT64_MAX, &v) < 0) {
			fl_usage_error(self, "--seed must be a non-negative integer, got '%s'", seed);
			goto out;
		}
		s->seed = v;
		s->seed_set = true;
	}
	if (detach) {
		ret = run_detached(s, cli);
		goto out;
	}
	r = fl_run(s, &o, &res);
	if (r < 0) {
		ret = FL_EXIT_INTERNAL;
		goto out;
	}
	ret = res.exit_code;
	if (res.reason)
		fprintf(stderr, "faultline inject: %s\n", res.reason);
	if (res.result) {
		json_t *f = json_array_get(json_object_get(res.result, "faults"), 0);
		if (cli->json)
			json_dumpf(f, stdout, JSON_INDENT(2)), putchar('\n');
		else
			printf("%s '%s': %s, applied %d time(s), %s\n",
			       json_string_value(json_object_get(f, "kind")),
			       json_string_value(json_object_get(f, "name")),
			       json_string_value(json_object_get(f, "description")),
			       (int)json_integer_value(json_object_get(f, "applications")),
			       ret == FL_EXIT_OK ? "reverted" : "aborted and reverted");
	}
	fl_run_result_clear(&res);
out:
	fl_params_clear(&p);
	fl_errors_clear(&errs);
	fl_scenario_free(s);
	return ret;
}

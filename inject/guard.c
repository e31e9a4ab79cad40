// SPDX-License-Identifier: GPL-2.0-only
/* The lease guard: reverts a dead run's faults when their lease expires, with nobody around. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "inject/guard.h"
#include "inject/journal.h"
#include "inject/log.h"

/* The latest lease (CLOCK_REALTIME ns) among the run's fault records; 0 when none is live. */
static uint64_t latest_lease(const char *run_id)
{
	struct fl_run_info *v = NULL;
	size_t n = 0;
	uint64_t lease = 0;

	if (fl_journal_list(&v, &n) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		json_t *f;
		size_t k;
		if (strcmp(v[i].id, run_id) != 0)
			continue;
		json_array_foreach(v[i].faults, k, f) {
			const char *st = json_string_value(json_object_get(f, "state"));
			uint64_t l = (uint64_t)json_integer_value(json_object_get(f, "lease_expiry"));
			if (st && strcmp(st, "reverted") != 0 && l > lease)
				lease = l;
		}
	}
	fl_run_info_free(v, n);
	return lease;
}

static void guard_main(const char *run_id, pid_t owner)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_close_ int pidfd = pidfd_open(owner, 0), ino = -1;
	struct pollfd p[2];
	bool owner_dead = false;

	if (pidfd < 0 || asprintf(&dir, "%s/runs/%s", fl_state_dir(), run_id) < 0)
		return;
	ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (ino < 0 || inotify_add_watch(ino, dir, IN_DELETE_SELF | IN_MOVE_SELF) < 0)
		return;
	for (;;) {
		uint64_t lease, now;
		int timeout = -1;

		if (access(dir, F_OK) < 0)
			return; /* finished or recovered: nothing to guard */
		if (owner_dead) {
			lease = latest_lease(run_id);
			now = fl_realtime_ns();
			if (lease == 0 || lease <= now)
				break;
			timeout = (int)((lease - now) / NSEC_PER_MSEC) + 1;
		}
		p[0] = (struct pollfd){ .fd = pidfd, .events = owner_dead ? 0 : POLLIN };
		p[1] = (struct pollfd){ .fd = ino, .events = POLLIN };
		if (poll(p, 2, timeout) < 0 && errno != EINTR)
			return;
		if (p[0].revents & POLLIN)
			owner_dead = true;
		if (p[1].revents & POLLIN) {
			char buf[4096];
			while (read(ino, buf, sizeof(buf)) > 0)
				;
		}
	}
	if (access(dir, F_OK) < 0)
		return;
	log_warn("run %s died; its lease expired: reverting what it left", run_id);
	fl_journal_recover(run_id, 0, NULL);
}

pid_t fl_guard_spawn(const char *run_id)
{
	pid_t owner = getpid(), pid;
	sigset_t all;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0)
		return pid;
	/* the guard: its own session, deaf to the terminal's signals, no inherited fds */
	setsid();
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGTERM);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGTERM, SIG_DFL);
	prctl(PR_SET_NAME, "faultline-guard");
	{
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
		}
		/* stderr stays: a revert at lease expiry is worth a line in the run's log */
		close_range(3, ~0U, 0);
	}
	guard_main(run_id, owner);
	_exit(0);
}

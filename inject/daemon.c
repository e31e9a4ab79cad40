// SPDX-License-Identifier: GPL-2.0-only
/* faultline's helper daemons: fork with a readiness pipe, pidfile, verified pidfd, stop. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "inject/daemon.h"
#include "inject/log.h"
#include "inject/netutil.h"
#include "inject/target.h"
#include "inject/util.h"

#define FL_DAEMON_READY_TIMEOUT_MS 5000

int fl_daemon_spawn(const char *comm, const char *what, fl_daemon_main_fn fn, const void *arg,
		    const char *pidfile, pid_t *ret_pid, char **ret_reason)
{
	char buf[600];
	size_t got = 0;
	int pfd[2], st;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return fl_set_reason(ret_reason, -errno, "cannot create a pipe: %s",
				     strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return fl_set_reason(ret_reason, -errno, "cannot fork the %s: %s", what,
				     strerror(errno));
	}
	if (pid == 0) {
		int null;

		/* one fork, not two (each costs ~0.6 ms in a process of our size): the daemon is
		 * our child until we exit, and whoever stops it reaps it (fl_daemon_reap) */
		setsid();
		prctl(PR_SET_NAME, comm);
		prctl(PR_SET_PDEATHSIG, 0);
		null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		if (dup2(pfd[1], 3) < 0)
			_exit(1);
		close_range(4, ~0U, 0);
		fn(arg, 3);
		_exit(1);
	}
	close(pfd[1]);
	{
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		uint64_t deadline = fl_now_ns() + FL_DAEMON_READY_TIMEOUT_MS * NSEC_PER_MSEC;

		while (got < sizeof(buf) - 1 && !memchr(buf, '\n', got)) {
			uint64_t now = fl_now_ns();
			ssize_t n;

			if (now >= deadline ||
			    poll(&p, 1, (int)((deadline - now) / NSEC_PER_MSEC) + 1) <= 0)
				break;
			n = read(pfd[0], buf + got, sizeof(buf) - 1 - got);
			if (n <= 0)
				break;
			got += (size_t)n;
		}
	}
	close(pfd[0]);
	buf[got] = '\0';
	if (got && buf[got - 1] == '\n')
		buf[got - 1] = '\0';
	if (strcmp(buf, "ok") == 0) {
		_cleanup_close_ int fd = fl_daemon_pidfd(pidfile, ret_pid);
		return fd < 0 ? fl_set_reason(ret_reason, fd, "the %s vanished", what) : 0;
	}
	kill(pid, SIGKILL); /* it said why, or nothing within 5 s: it exits or is made to */
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return fl_set_reason(ret_reason, -EIO, "the %s did not start: %s", what,
			     buf[0] == '!' ? buf + 1 : "no answer within 5 s");
}

int fl_daemon_write_file(const char *path, const char *data)
{
	_cleanup_free_ char *tmp = NULL;
	size_t len = strlen(data);
	int fd;

	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, data, len) != (ssize_t)len) {
		close(fd);
		unlink(tmp);
		return -EIO;
	}
	close(fd);
	return rename(tmp, path) < 0 ? -errno : 0;
}

int fl_daemon_write_pidfile(const char *path)
{
	uint64_t st;
	char buf[64];
	int r = fl_proc_starttime(getpid(), &st);

	if (r < 0)
		return r;
	snprintf(buf, sizeof(buf), "%d %" PRIu64 "\n", (int)getpid(), st);
	return fl_daemon_write_file(path, buf);
}

int fl_daemon_pidfd(const char *pidfile, pid_t *ret_pid)
{
	_cleanup_free_ char *text = NULL;
	unsigned long long st;
	size_t len;
	int pid, r;

	r = fl_read_file(pidfile, &text, &len);
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	if (sscanf(text, "%d %llu", &pid, &st) != 2 || pid <= 1)
		return -EINVAL;
	r = fl_pidfd_open_verified((pid_t)pid, (uint64_t)st);
	if (r >= 0 && ret_pid)
		*ret_pid = (pid_t)pid;
	return r;
}

void fl_daemon_reap(int pidfd)
{
	siginfo_t si = { 0 };

	/* ECHILD when another process started it (recover), or it is not dead yet */
	waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOHANG);
}

int fl_daemon_stop(const char *pidfile, const char *what, int wait_ms, char **ret_reason)
{
	pid_t pid = 0;
	_cleanup_close_ int fd = fl_daemon_pidfd(pidfile, &pid);
	struct pollfd p;

	if (fd == -ESRCH || fd == -ENOENT)
		return 0; /* gone already (its lease, or never started) */
	if (fd < 0)
		return fl_set_reason(ret_reason, fd, "cannot read the %s's pidfile %s: %s", what,
				     pidfile, strerror(-fd));
	if (pidfd_send_signal(fd, SIGTERM, NULL, 0) < 0 && errno != ESRCH)
		return fl_set_reason(ret_reason, -errno, "cannot stop the %s %d: %s", what,
				     (int)pid, strerror(errno));
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&p, 1, wait_ms) != 1) {
		log_warn("the %s %d ignored SIGTERM for %d ms: SIGKILL", what, (int)pid, wait_ms);
		pidfd_send_signal(fd, SIGKILL, NULL, 0);
		poll(&p, 1, wait_ms);
	}
	fl_daemon_reap(fd); /* our child when this process started it */
	return 0;
}

json_t *fl_daemon_stats(const char *pidfile, const char *statsfile, int wait_ms)
{
	json_t *st = json_load_file(statsfile, 0, NULL);
	json_int_t seq0 = st ? json_integer_value(json_object_get(st, "seq")) : -1;
	_cleanup_close_ int fd = fl_daemon_pidfd(pidfile, NULL);

	if (fd < 0 || pidfd_send_signal(fd, SIGUSR1, NULL, 0) < 0)
		return st;
	for (int waited = 0; waited < wait_ms; waited += 5) {
		json_t *n = json_load_file(statsfile, 0, NULL);
		if (n && json_integer_value(json_object_get(n, "seq")) > seq0) {
			json_decref(st);
			return n;
		}
		json_decref(n);
		usleep(5000);
	}
	return st;
}

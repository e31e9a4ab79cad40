// SPDX-License-Identifier: GPL-2.0-only
/* Probes: scheduling (a timer per probe, one sample in flight), tcp connect and exec. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <sched.h>
#include <stdarg.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "inject/log.h"
#include "reports/curl_dl.h"
#include "reports/probe_int.h"

static void vfinish(struct fl_probe_rt *p, bool ok, const double *value, const char *fmt,
		    va_list ap) _printf_(4, 0);

static void vfinish(struct fl_probe_rt *p, bool ok, const double *value, const char *fmt,
		    va_list ap)
{
	uint64_t now = fl_now_ns();
	struct fl_sample s = {
		.t_ns = p->started - p->set->t0,
		.latency_ns = now - p->started,
		.ok = ok,
	};

	/* JSON has no NaN or infinity: such a value is only in the reason */
	if (value && isfinite(*value)) {
		s.value = *value;
		s.has_value = true;
	}
	vsnprintf(s.reason, sizeof(s.reason), fmt, ap);
	fl_loop_remove(p->io);
	fl_loop_remove(p->deadline);
	p->io = p->deadline = NULL;
	if (p->fd >= 0 && !p->pid)
		close(p->fd);
	p->fd = -1;
	p->pid = 0;
	p->inflight = false;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;
		struct fl_sample *nv = realloc(p->samples, cap * sizeof(*nv));
		if (!nv)
			return;
		p->samples = nv;
		p->cap = cap;
	}
	p->samples[p->n++] = s;
	if (ok)
		p->failing_since = UINT64_MAX;
	else if (p->failing_since == UINT64_MAX)
		p->failing_since = s.t_ns;
	if (p->set->cb)
		p->set->cb(p, &s, p->set->userdata);
}

static void finish(struct fl_probe_rt *p, bool ok, const char *fmt, ...) _printf_(3, 4);

static void finish(struct fl_probe_rt *p, bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfinish(p, ok, NULL, fmt, ap);
	va_end(ap);
}

void fl_probe_finish(struct fl_probe_rt *p, bool ok, const double *value, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfinish(p, ok, value, fmt, ap);
	va_end(ap);
}

const char *fl_probe_strerror(int err, char *buf, size_t len)
{
	snprintf(buf, len, "%s", strerror(err));
	/* "Connection refused" -> "connection refused", but not "ENOENT"-like acronyms */
	if (buf[0] && buf[1] && islower((unsigned char)buf[1]))
		buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

int fl_probe_socket(const struct fl_probe_rt *p, int family, int type, int protocol,
		    const char **ret_what)
{
	int r, fd, oldns = -1;

	if (p->set->lab) {
		r = fl_lab_enter(p->set->lab, p->spec->from, &oldns);
		if (r < 0) {
			*ret_what = "cannot enter namespace";
			return r;
		}
	}
	/* the socket belongs to the namespace it is created in */
	fd = socket(family, type | SOCK_CLOEXEC, protocol);
	r = fd < 0 ? -errno : fd;
	if (fd >= 0 && (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) == SOCK_STREAM) {
		/*
		 * Close with a RST: a FIN would leave every sample's port in TIME_WAIT for 60s, and
		 * past ~14k of them connect() slows down (hundreds of ms, measured at 1600 samples/s),
		 * which a probe would report as the service's latency.
		 */
		struct linger l = { .l_onoff = 1, .l_linger = 0 };
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	}
	if (oldns >= 0) {
		if (setns(oldns, CLONE_NEWNET) < 0)
			/* cannot happen with a valid fd; everything else would run in the lab */
			log_error("cannot return to the original network namespace: %s",
				  strerror(errno));
		close(oldns);
	}
	*ret_what = "socket";
	return r;
}

static int on_deadline(struct fl_source *src, uint64_t now, void *ud)
{
	struct fl_probe_rt *p = ud;
	char d[32];

	if (p->pid) {
		/* exec probe: kill it and reap, so nothing outlives its sample */
		pidfd_send_signal(p->fd, SIGKILL, NULL, 0);
		waitid(P_PIDFD, (id_t)p->fd, &(siginfo_t){ 0 }, WEXITED);
		close(p->fd);
	}
	finish(p, false, "timeout after %s", fl_format_duration(p->spec->timeout_ns, d, sizeof(d)));
	return 0;
}

static int on_connect(struct fl_source *src, int fd, uint32_t revents, void *ud)
{
	struct fl_probe_rt *p = ud;
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err)
		finish(p, false, "%s", fl_probe_strerror(err, (char[64]){ 0 }, 64));
	else
		finish(p, true, "connected");
	return 0;
}

static int on_exit_probe(struct fl_source *src, int fd, uint32_t revents, void *ud)
{
	struct fl_probe_rt *p = ud;
	siginfo_t si = { 0 };

	if (waitid(P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		return 0;
	close(fd);
	if (si.si_code == CLD_EXITED && si.si_status == 0)
		finish(p, true, "exit status 0");
	else if (si.si_code == CLD_EXITED)
		finish(p, false, "exit status %d", si.si_status);
	else
		finish(p, false, "killed by signal %d", si.si_status);
	return 0;
}

static int spawn_local(const struct fl_probe_rt *p, pid_t *ret_pid, int *ret_pidfd)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		if (p->set->dir && chdir(p->set->dir) < 0)
			_exit(127);
		setpgid(0, 0);
		execvp(p->spec->argv[0], p->spec->argv);
		_exit(127);
	}
	*ret_pidfd = pidfd_open(pid, 0);
	if (*ret_pidfd < 0) {
		int r = -errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return r;
	}
	*ret_pid = pid;
	return 0;
}

static int start_sample(struct fl_probe_rt *p)
{
	struct fl_probes *set = p->set;
	const char *what;
	char e[64];
	int r;

	p->started = fl_now_ns();
	p->inflight = true;
	p->fd = -1;
	p->pid = 0;
	if (p->spec->from_remote)
		return fl_remote_probe_start(p);
	switch (p->spec->kind) {
	case FL_PROBE_HTTP:
	case FL_PROBE_PROMETHEUS:
		return fl_http_start(p);
	case FL_PROBE_TCP:
		r = fl_probe_socket(p, p->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0, &what);
		if (r < 0) {
			finish(p, false, "%s: %s", what, fl_probe_strerror(-r, e, sizeof(e)));
			return 0;
		}
		p->fd = r;
		if (connect(p->fd, (struct sockaddr *)&p->addr, p->addrlen) == 0) {
			finish(p, true, "connected");
			return 0;
		}
		if (errno != EINPROGRESS) {
			finish(p, false, "%s", fl_probe_strerror(errno, e, sizeof(e)));
			return 0;
		}
		r = fl_loop_add_io(set->loop, p->fd, EPOLLOUT, false, on_connect, p, &p->io);
		break;
	case FL_PROBE_EXEC:
	default:
		if (set->lab)
			r = fl_lab_spawn(set->lab, p->spec->from, p->spec->argv, set->dir, false,
					 &p->pid, &p->fd);
		else
			r = spawn_local(p, &p->pid, &p->fd);
		if (r < 0) {
			finish(p, false, "cannot start: %s", fl_probe_strerror(-r, e, sizeof(e)));
			return 0;
		}
		r = fl_loop_add_io(set->loop, p->fd, EPOLLIN, false, on_exit_probe, p, &p->io);
		break;
	}
	if (r < 0)
		return r;
	return fl_loop_add_timer(set->loop, p->started + p->spec->timeout_ns, on_deadline, p,
				 &p->deadline);
}

static int on_tick(struct fl_source *src, uint64_t now, void *ud)
{
	struct fl_probe_rt *p = ud;

	if (p->set->stopped)
		return 0;
	/* fixed schedule: t0 + k*every, never drifting with the probe's own latency */
	do
		p->next_tick += p->spec->every_ns;
	while (p->next_tick <= now);
	fl_loop_timer_set(src, p->next_tick);
	if (p->inflight) {
		p->skipped++;
		return 0;
	}
	return start_sample(p);
}

static int resolve(struct fl_probe_rt *p, char **ret_reason)
{
	const struct fl_probe *spec = p->spec;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&p->addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&p->addr;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	char port[8];
	int r;

	memset(&p->addr, 0, sizeof(p->addr));
	if (inet_pton(AF_INET, spec->host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(spec->port);
		p->addrlen = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, spec->host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(spec->port);
		p->addrlen = sizeof(*in6);
		return 0;
	}
	if (p->set->lab && fl_lab_host_addr(p->set->lab, spec->host, &in4->sin_addr) == 0) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(spec->port);
		p->addrlen = sizeof(*in4);
		return 0;
	}
	snprintf(port, sizeof(port), "%u", spec->port);
	r = getaddrinfo(spec->host, port, &hints, &ai);
	if (r != 0) {
		if (asprintf(ret_reason, "probe '%s': cannot resolve '%s': %s", spec->name,
			     spec->host, gai_strerror(r)) < 0)
			*ret_reason = NULL;
		return -EHOSTUNREACH;
	}
	memcpy(&p->addr, ai->ai_addr, ai->ai_addrlen);
	p->addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

int fl_probes_start(struct fl_loop *loop, const struct fl_scenario *s, struct fl_lab_rt *lab,
		    uint64_t t0, fl_sample_cb cb, void *userdata, struct fl_probes **ret,
		    char **ret_reason)
{
	struct fl_probes *set = calloc(1, sizeof(*set));
	int r;

	if (!set)
		return -ENOMEM;
	*set = (struct fl_probes){
		.loop = loop, .lab = lab, .dir = s->dir, .t0 = t0, .cb = cb, .userdata = userdata
	};
	set->v = calloc(s->n_probes ? s->n_probes : 1, sizeof(*set->v));
	if (!set->v) {
		free(set);
		return -ENOMEM;
	}
	set->n = s->n_probes;
	for (size_t i = 0; i < set->n; i++) {
		struct fl_probe_rt *p = &set->v[i];
		*p = (struct fl_probe_rt){ .set = set,
					   .spec = &s->probes[i],
					   .fd = -1,
					   .failing_since = UINT64_MAX,
					   .next_tick = t0 };
		r = 0;
		if (p->spec->from_remote) {
			/* the agent resolves and connects */
		} else if (p->spec->kind == FL_PROBE_TCP) {
			r = resolve(p, ret_reason);
		} else if (p->spec->kind != FL_PROBE_EXEC) {
			if (!set->http) {
				const char *why = NULL;

				r = fl_curl_load(&why);
				if (r < 0 && asprintf(ret_reason, "probe '%s': %s",
						      p->spec->name, why) < 0)
					*ret_reason = NULL;
				if (r >= 0)
					r = fl_http_set_new(set);
			}
			if (r >= 0)
				r = fl_http_probe_init(p, ret_reason);
		}
		if (r < 0)
			goto fail;
	}
	for (size_t i = 0; i < set->n; i++) {
		r = fl_loop_add_timer(loop, t0, on_tick, &set->v[i], &set->v[i].tick);
		if (r < 0)
			goto fail;
	}
	*ret = set;
	return 0;
fail:
	fl_probes_free(set);
	return r;
}

void fl_probes_stop(struct fl_probes *set)
{
	if (!set || set->stopped)
		return;
	set->stopped = true;
	for (size_t i = 0; i < set->n; i++) {
		struct fl_probe_rt *p = &set->v[i];
		fl_loop_remove(p->tick);
		if (p->http)
			fl_http_cancel(p);
		fl_remote_probe_cancel(p);
		fl_loop_remove(p->io);
		fl_loop_remove(p->deadline);
		p->tick = p->io = p->deadline = NULL;
		if (p->pid) {
			pidfd_send_signal(p->fd, SIGKILL, NULL, 0);
			waitid(P_PIDFD, (id_t)p->fd, &(siginfo_t){ 0 }, WEXITED);
		}
		if (p->fd >= 0)
			close(p->fd);
		p->fd = -1;
		p->pid = 0;
		p->inflight = false;
	}
}

struct fl_probes *fl_probes_free(struct fl_probes *set)
{
	if (!set)
		return NULL;
	fl_probes_stop(set);
	for (size_t i = 0; i < set->n; i++) {
		fl_http_probe_free(&set->v[i]);
		free(set->v[i].samples);
	}
	fl_http_set_free(set);
	free(set->v);
	free(set);
	return NULL;
}

void fl_probes_set_remote(struct fl_probes *set, fl_probe_remote_fn fn, void *ud)
{
	set->remote_call = fn;
	set->remote_ud = ud;
}

size_t fl_probes_n(const struct fl_probes *p)
{
	return p ? p->n : 0;
}

struct fl_probe_rt *fl_probes_get(struct fl_probes *p, size_t i)
{
	return &p->v[i];
}

const struct fl_probe *fl_probe_spec(const struct fl_probe_rt *p)
{
	return p->spec;
}

const struct fl_sample *fl_probe_samples(const struct fl_probe_rt *p, size_t *ret_n)
{
	*ret_n = p->n;
	return p->samples;
}

uint64_t fl_probe_failing_since(const struct fl_probe_rt *p)
{
	return p->failing_since;
}

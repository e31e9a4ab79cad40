// SPDX-License-Identifier: GPL-2.0-only
/*
 * Probes `from` a remote host: each sample is one `probe` call to that host's agent, made by a
 * thread (the call blocks) that wakes the event loop through a pipe when the reply is in. The
 * sample's latency is the controller's round trip; the agent's own is in the reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "reports/probe_int.h"

struct fl_remote_probe {
	pthread_t thread;
	int pipe[2];
	struct fl_probe_rt *p;
	json_t *args, *reply;
	char *why;
	int err;
};

static void rp_free(struct fl_remote_probe *rp)
{
	if (!rp)
		return;
	if (rp->pipe[0] >= 0)
		close(rp->pipe[0]);
	if (rp->pipe[1] >= 0)
		close(rp->pipe[1]);
	json_decref(rp->args);
	json_decref(rp->reply);
	free(rp->why);
	free(rp);
}

static void *rp_thread(void *arg)
{
	struct fl_remote_probe *rp = arg;
	struct fl_probes *set = rp->p->set;

	rp->err = set->remote_call(set->remote_ud, rp->p->spec->from, rp->args, &rp->reply,
				   &rp->why);
	if (write(rp->pipe[1], "x", 1) < 0) {
		/* the loop reads the pipe; it cannot be full with one byte in it */
	}
	return NULL;
}

static int rp_done(struct fl_source *src, int fd, uint32_t revents, void *ud)
{
	struct fl_probe_rt *p = ud;
	struct fl_remote_probe *rp = p->remote;
	json_t *lat;

	pthread_join(rp->thread, NULL);
	p->remote = NULL;
	lat = json_object_get(rp->reply, "latency_ns");
	if (rp->err < 0)
		fl_probe_finish(p, false, NULL, "agent: %s", rp->why ? rp->why : strerror(-rp->err));
	else if (json_is_true(json_object_get(rp->reply, "success")))
		fl_probe_finish(p, true, NULL, "connected from %s (%.3f ms there)", p->spec->from,
				(double)json_integer_value(lat) / 1e6);
	else
		fl_probe_finish(p, false, NULL, "from %s: %s", p->spec->from,
				json_string_value(json_object_get(rp->reply, "error")) ?: "failed");
	rp_free(rp);
	return 0;
}

int fl_remote_probe_start(struct fl_probe_rt *p)
{
	struct fl_remote_probe *rp = calloc(1, sizeof(*rp));
	char target[300];
	int r;

	if (!rp)
		return -ENOMEM;
	rp->p = p;
	rp->pipe[0] = rp->pipe[1] = -1;
	snprintf(target, sizeof(target), strchr(p->spec->host, ':') ? "[%s]:%u" : "%s:%u",
		 p->spec->host, p->spec->port);
	rp->args = json_pack("{s:{s:s}, s:I}", "probe", "tcp", target, "timeout_ms",
			     (json_int_t)(p->spec->timeout_ns / NSEC_PER_MSEC));
	if (!p->set->remote_call || !rp->args) {
		rp_free(rp);
		fl_probe_finish(p, false, NULL, "no session to remote host '%s'", p->spec->from);
		return 0;
	}
	if (pipe2(rp->pipe, O_CLOEXEC) < 0) {
		r = -errno;
		rp_free(rp);
		return r;
	}
	r = fl_loop_add_io(p->set->loop, rp->pipe[0], EPOLLIN, false, rp_done, p, &p->io);
	if (r < 0) {
		rp_free(rp);
		return r;
	}
	r = -pthread_create(&rp->thread, NULL, rp_thread, rp);
	if (r < 0) {
		fl_loop_remove(p->io);
		p->io = NULL;
		rp_free(rp);
		return r;
	}
	p->remote = rp;
	return 0;
}

void fl_remote_probe_cancel(struct fl_probe_rt *p)
{
	if (!p->remote)
		return;
	pthread_join(p->remote->thread, NULL);
	fl_loop_remove(p->io);
	p->io = NULL;
	rp_free(p->remote);
	p->remote = NULL;
}

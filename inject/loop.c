// SPDX-License-Identifier: GPL-2.0-only
/* One epoll event loop over fds and timerfds; sources can be removed from their callbacks. */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>

#include "inject/loop.h"
#include "inject/util.h"

struct fl_source {
	struct fl_loop *loop;
	int fd;
	bool own_fd;
	bool is_timer;
	bool dead;
	fl_io_cb io;
	fl_timer_cb timer;
	void *userdata;
	struct fl_source *next_dead;
	struct fl_source *prev, *next; /* every live source, so the loop can free them */
};

struct fl_loop {
	int epfd;
	bool done;
	int code;
	bool dispatching;
	struct fl_source *dead; /* freed after the current dispatch round */
	struct fl_source *live;
};

int fl_loop_new(struct fl_loop **ret)
{
	struct fl_loop *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int r = -errno;
		free(l);
		return r;
	}
	*ret = l;
	return 0;
}

static void source_free(struct fl_source *s)
{
	if (s->own_fd && s->fd >= 0)
		close(s->fd);
	free(s);
}

static void reap_dead(struct fl_loop *l)
{
	while (l->dead) {
		struct fl_source *s = l->dead;
		l->dead = s->next_dead;
		source_free(s);
	}
}

struct fl_loop *fl_loop_free(struct fl_loop *l)
{
	if (!l)
		return NULL;
	while (l->live)
		fl_loop_remove(l->live);
	reap_dead(l);
	close(l->epfd);
	free(l);
	return NULL;
}

int fl_loop_add_io(struct fl_loop *l, int fd, uint32_t events, int own_fd, fl_io_cb cb,
		   void *userdata, struct fl_source **ret)
{
	struct fl_source *s = calloc(1, sizeof(*s));
	struct epoll_event ev = { .events = events };

	if (!s)
		return -ENOMEM;
	*s = (struct fl_source){ .loop = l, .fd = fd, .own_fd = own_fd, .io = cb,
				 .userdata = userdata };
	ev.data.ptr = s;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int r = -errno;
		free(s);
		return r;
	}
	s->next = l->live;
	if (l->live)
		l->live->prev = s;
	l->live = s;
	if (ret)
		*ret = s;
	return 0;
}

int fl_loop_io_set_events(struct fl_source *s, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = s };

	return epoll_ctl(s->loop->epfd, EPOLL_CTL_MOD, s->fd, &ev) < 0 ? -errno : 0;
}

int fl_loop_timer_set(struct fl_source *s, uint64_t when_ns)
{
	struct itimerspec its = { 0 };

	/* 0 would disarm: fire as soon as possible instead */
	if (when_ns == 0)
		when_ns = 1;
	its.it_value.tv_sec = (time_t)(when_ns / NSEC_PER_SEC);
	its.it_value.tv_nsec = (long)(when_ns % NSEC_PER_SEC);
	return timerfd_settime(s->fd, TFD_TIMER_ABSTIME, &its, NULL) < 0 ? -errno : 0;
}

int fl_loop_add_timer(struct fl_loop *l, uint64_t when_ns, fl_timer_cb cb, void *userdata,
		      struct fl_source **ret)
{
	struct fl_source *s;
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	int r;

	if (fd < 0)
		return -errno;
	r = fl_loop_add_io(l, fd, EPOLLIN, true, NULL, userdata, &s);
	if (r < 0) {
		close(fd);
		return r;
	}
	s->is_timer = true;
	s->timer = cb;
	r = fl_loop_timer_set(s, when_ns);
	if (r < 0) {
		fl_loop_remove(s);
		return r;
	}
	if (ret)
		*ret = s;
	return 0;
}

void fl_loop_remove(struct fl_source *s)
{
	struct fl_loop *l;

	if (!s || s->dead)
		return;
	l = s->loop;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	s->dead = true;
	if (s->prev)
		s->prev->next = s->next;
	else
		l->live = s->next;
	if (s->next)
		s->next->prev = s->prev;
	if (l->dispatching) {
		s->next_dead = l->dead;
		l->dead = s;
	} else {
		source_free(s);
	}
}

void fl_loop_exit(struct fl_loop *l, int code)
{
	l->done = true;
	l->code = code;
}

int fl_loop_run(struct fl_loop *l)
{
	struct epoll_event evs[32];

	l->done = false;
	while (!l->done) {
		int n = epoll_wait(l->epfd, evs, (int)ARRAY_SIZE(evs), -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		l->dispatching = true;
		for (int i = 0; i < n && !l->done; i++) {
			struct fl_source *s = evs[i].data.ptr;
			int r;

			if (s->dead)
				continue;
			if (s->is_timer) {
				uint64_t expirations;
				if (read(s->fd, &expirations, sizeof(expirations)) < 0)
					continue; /* re-armed meanwhile: not due yet */
				r = s->timer(s, fl_now_ns(), s->userdata);
			} else {
				r = s->io(s, s->fd, evs[i].events, s->userdata);
			}
			if (r < 0) {
				l->dispatching = false;
				reap_dead(l);
				return r;
			}
		}
		l->dispatching = false;
		reap_dead(l);
	}
	return l->code;
}

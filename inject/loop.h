/* SPDX-License-Identifier: GPL-2.0-only */
/* One epoll event loop: fds (pidfds, sockets, signalfd) and timers (one timerfd each). */
#ifndef FL_LOOP_H
#define FL_LOOP_H

#include <stdint.h>

struct fl_loop;
struct fl_source;

/* Callbacks return 0, or a negative errno that ends fl_loop_run() with that value. */
typedef int (*fl_io_cb)(struct fl_source *s, int fd, uint32_t revents, void *userdata);
typedef int (*fl_timer_cb)(struct fl_source *s, uint64_t now_ns, void *userdata);

int fl_loop_new(struct fl_loop **ret);
struct fl_loop *fl_loop_free(struct fl_loop *l);

/* Watch fd (not owned unless own_fd) for EPOLLIN/EPOLLOUT... */
int fl_loop_add_io(struct fl_loop *l, int fd, uint32_t events, int own_fd, fl_io_cb cb,
		   void *userdata, struct fl_source **ret);
int fl_loop_io_set_events(struct fl_source *s, uint32_t events);
/* A one-shot timer at an absolute CLOCK_MONOTONIC time; re-arm with fl_loop_timer_set. */
int fl_loop_add_timer(struct fl_loop *l, uint64_t when_ns, fl_timer_cb cb, void *userdata,
		      struct fl_source **ret);
int fl_loop_timer_set(struct fl_source *s, uint64_t when_ns);
/* Remove and free a source (safe from inside its own callback). NULL is fine. */
void fl_loop_remove(struct fl_source *s);

/* Run until fl_loop_exit() or a callback fails. Returns the exit code or the error. */
int fl_loop_run(struct fl_loop *l);
void fl_loop_exit(struct fl_loop *l, int code);

#endif

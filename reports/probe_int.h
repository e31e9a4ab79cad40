/* SPDX-License-Identifier: GPL-2.0-only */
/* Inside the probe runtime: what probe.c (scheduling) and probe_http.c (libcurl) share. */
#ifndef FL_PROBE_INT_H
#define FL_PROBE_INT_H

#include <sys/socket.h>

#include "reports/probe.h"

struct fl_http_rt;  /* one http or prometheus probe's transfer (probe_http.c) */
struct fl_http_set; /* the set's libcurl multi handle (probe_http.c) */

struct fl_probe_rt {
	struct fl_probes *set;
	const struct fl_probe *spec;
	struct sockaddr_storage addr; /* tcp */
	socklen_t addrlen;
	struct fl_sample *samples;
	size_t n, cap;
	uint64_t next_tick; /* absolute monotonic */
	struct fl_source *tick, *io, *deadline;
	bool inflight;
	uint64_t started; /* absolute monotonic */
	int fd;		  /* socket or pidfd of the in-flight sample */
	pid_t pid;
	uint64_t failing_since;
	unsigned skipped;
	struct fl_http_rt *http;
	struct fl_remote_probe *remote; /* `from` a remote host: its in-flight call */
};

struct fl_probes {
	struct fl_loop *loop;
	struct fl_lab_rt *lab;
	const char *dir;
	uint64_t t0;
	fl_sample_cb cb;
	void *userdata;
	struct fl_probe_rt *v;
	size_t n;
	bool stopped;
	struct fl_http_set *http;
	fl_probe_remote_fn remote_call; /* runs a probe through a remote host's agent */
	void *remote_ud;
};

/* Record the in-flight sample's outcome (value: prometheus, or NULL) and tell the runner. */
void fl_probe_finish(struct fl_probe_rt *p, bool ok, const double *value, const char *fmt, ...)
	_printf_(4, 5);

/* A socket in the probe's network namespace (its `from` host, the lab's switch, or this
 * host's): the fd, or a negative errno; *ret_what says which step failed. */
int fl_probe_socket(const struct fl_probe_rt *p, int family, int type, int protocol,
		    const char **ret_what);

/* strerror(), lowercased as our messages are ("connection refused"). */
const char *fl_probe_strerror(int err, char *buf, size_t len);

/* probe_http.c: http and prometheus probes on one libcurl multi handle per set; libcurl
 * loaded first (fl_curl_load). */
int fl_http_set_new(struct fl_probes *set);
void fl_http_set_free(struct fl_probes *set);
int fl_http_probe_init(struct fl_probe_rt *p, char **ret_reason);
void fl_http_probe_free(struct fl_probe_rt *p);
/* Start a sample (p->started is set); its outcome arrives through fl_probe_finish(). */
int fl_http_start(struct fl_probe_rt *p);
/* Abandon the in-flight sample without recording it. */
void fl_http_cancel(struct fl_probe_rt *p);

/* probe_remote.c: probes `from` a remote host, through its agent's `probe` operation. */
int fl_remote_probe_start(struct fl_probe_rt *p);
/* Wait for the in-flight call (bounded by the agent's timeout) without recording it. */
void fl_remote_probe_cancel(struct fl_probe_rt *p);

#endif

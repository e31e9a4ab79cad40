// SPDX-License-Identifier: GPL-2.0-only
/*
 * flperf: the measuring half of `make bench` (bench/run.sh drives it, bench/report.py judges).
 *
 *   udp-send  --dst ADDR --port P --count N --pps R [--size B]
 *             paced UDP datagrams, each stamped with its sequence number and CLOCK_MONOTONIC;
 *             namespaces of one host share that clock, so the receiver gets one-way delay
 *   udp-recv  --port P --ready FILE [--idle S] [--timeout S]
 *             counts datagrams (unique, duplicates) and their one-way delay percentiles; ends
 *             S seconds after the last one (or at the timeout)
 *   tcp-recv  --port P --ready FILE [--timeout S]      one connection, bytes until EOF
 *   tcp-send  --dst ADDR --port P --seconds S          bulk writes for S seconds
 *   bpfstats  --prog-id ID --out FILE -- CMD...
 *             BPF run-time stats (bpf_enable_stats: fd-scoped, the sysctl stays untouched)
 *             of one program around a command: run_cnt, run_time_ns, ns per run
 *   applyrevert --netns NS --dev IF --n N --obj BPF_OBJECT
 *             faultline's network backends in-process (plan, apply with its BPF load timed
 *             apart, revert) and the same change by running tc and iptables, N rounds of each,
 *             interleaved
 *
 * Every subcommand prints one JSON object on stdout (bpfstats: into --out).
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "inject/injector.h"
#include "inject/log.h"
#include "inject/netutil.h"
#include "inject/util.h"
#include "scenarios/diag.h"
#include "scenarios/scenario.h"

extern char **environ;

#define STAMP_MAGIC 0xf1be4c11u
#define MAX_DELAYS (4u << 20)

struct stamp {
	uint32_t magic;
	uint32_t seq;
	uint64_t mono_ns;
};

struct opts {
	const char *dst, *ready, *out, *netns, *dev, *obj;
	unsigned port, count, size, n, prog_id;
	double pps, seconds, idle, timeout;
	char **cmd; /* after "--" */
};

static int fail(const char *what)
{
	fprintf(stderr, "flperf: %s: %s\n", what, strerror(errno));
	return 1;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void print_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_COMPACT | JSON_REAL_PRECISION(6));
	putchar('\n');
	fflush(stdout);
	json_decref(j);
}

static int touch(const char *path)
{
	int fd;

	if (!path)
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail(path);
	close(fd);
	return 0;
}

/* ADDR (v4 or v6) and PORT into a sockaddr; returns its length, 0 when ADDR is not one. */
static socklen_t make_addr(const char *addr, unsigned port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		return sizeof(*in);
	}
	if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		return sizeof(*in6);
	}
	return 0;
}

/* A socket bound to [::]:PORT that takes IPv4 too. */
static int bound_socket(int type, unsigned port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6,
				  .sin6_port = htons((uint16_t)port),
				  .sin6_addr = IN6ADDR_ANY_INIT };
	int fd = socket(AF_INET6, type | SOCK_CLOEXEC, 0), zero = 0, one = 1, big = 16 << 20;

	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* FORCE: past rmem_max, so the receiver is never the one that drops */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* The receivers' socket on --port: the fd, or minus the exit status after saying why. */
static int listen_on(const struct opts *o, int type)
{
	int fd;

	if (!o->port) {
		fprintf(stderr, "flperf: needs --port P\n");
		return -2;
	}
	fd = bound_socket(type, o->port);
	if (fd < 0) {
		errno = -fd;
		return -fail("bind");
	}
	if (type == SOCK_STREAM && listen(fd, 1) < 0) {
		close(fd);
		return -fail("listen");
	}
	return fd;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v[0..n). */
static double pct(const int64_t *v, size_t n, double p)
{
	size_t k;

	if (!n)
		return 0;
	k = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return (double)v[k - 1];
}

/* Samples in ns -> {n, min, p50, p90, p99, max, mean}, each divided by div (1e3: us, 1e6: ms) */
static json_t *dist_json(int64_t *v, size_t n, double div)
{
	double sum = 0;

	qsort(v, n, sizeof(*v), cmp_i64);
	for (size_t i = 0; i < n; i++)
		sum += (double)v[i];
	return json_pack("{s:I, s:f, s:f, s:f, s:f, s:f, s:f}", "n", (json_int_t)n, "min",
			 n ? (double)v[0] / div : 0.0, "p50", pct(v, n, 50) / div, "p90",
			 pct(v, n, 90) / div, "p99", pct(v, n, 99) / div, "max",
			 n ? (double)v[n - 1] / div : 0.0, "mean", n ? sum / (double)n / div : 0.0);
}

/* --- UDP --------------------------------------------------------------------------------- */

/*
 * The probes' own wake-ups must not look like added delay: on a machine shared with other
 * work a normal task waits milliseconds for a CPU now and then. SCHED_FIFO (both sleep most
 * of the time: 1000 pps is 1% of a CPU) takes that out; best effort without the privilege.
 */
static void realtime(void)
{
	struct sched_param sp = { .sched_priority = 10 };

	if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0)
		fprintf(stderr, "flperf: no SCHED_FIFO (%s): delays include scheduling noise\n",
			strerror(errno));
}

static int udp_send(const struct opts *o)
{
	struct sockaddr_storage ss;
	socklen_t sl = o->dst ? make_addr(o->dst, o->port, &ss) : 0;
	_cleanup_close_ int fd = -1;
	_cleanup_free_ uint8_t *buf = NULL;
	uint64_t period, start, errors = 0, sent = 0;
	size_t size = o->size ? o->size : 64;

	if (!sl || !o->port || !o->count || o->pps <= 0) {
		fprintf(stderr, "flperf udp-send: needs --dst ADDR --port P --count N --pps R\n");
		return 2;
	}
	if (size < sizeof(struct stamp) || size > 65000 || !(buf = calloc(1, size))) {
		fprintf(stderr, "flperf udp-send: --size must be %zu..65000\n",
			sizeof(struct stamp));
		return 2;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail("socket");
	prctl(PR_SET_TIMERSLACK, 1UL); /* pacing at 10k pps needs wake-ups to the microsecond */
	realtime();
	period = (uint64_t)(1e9 / o->pps);
	start = mono_ns();
	for (uint32_t i = 0; i < o->count; i++) {
		uint64_t due = start + i * period;
		struct timespec ts = { .tv_sec = (time_t)(due / NSEC_PER_SEC),
				       .tv_nsec = (long)(due % NSEC_PER_SEC) };
		struct stamp s = { .magic = STAMP_MAGIC, .seq = i };

		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		s.mono_ns = mono_ns();
		memcpy(buf, &s, sizeof(s));
		if (sendto(fd, buf, size, 0, (struct sockaddr *)&ss, sl) < 0)
			errors++;
		else
			sent++;
	}
	print_json(json_pack("{s:I, s:I, s:f, s:f}", "sent", (json_int_t)sent, "errors",
			     (json_int_t)errors, "seconds", (double)(mono_ns() - start) / 1e9,
			     "pps_asked", o->pps));
	return 0;
}

static int udp_recv(const struct opts *o)
{
	enum { BATCH = 64 };
	static uint8_t bufs[BATCH][2048];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	_cleanup_close_ int fd = -1;
	_cleanup_free_ int64_t *delays = NULL;
	_cleanup_free_ uint8_t *seen = NULL;
	size_t n_delays = 0, seen_len = 0;
	uint64_t received = 0, unique = 0, dups = 0, foreign = 0, max_seq = 0;
	uint64_t start, last = 0, idle = (uint64_t)((o->idle > 0 ? o->idle : 0.5) * 1e9);
	uint64_t timeout = (uint64_t)((o->timeout > 0 ? o->timeout : 60) * 1e9);

	fd = listen_on(o, SOCK_DGRAM);
	if (fd < 0)
		return -fd;
	delays = calloc(MAX_DELAYS, sizeof(*delays));
	if (!delays || touch(o->ready))
		return 1;
	realtime();
	start = mono_ns();
	for (;;) {
		uint64_t now = mono_ns();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n;

		if (now - start > timeout || (last && now - last > idle))
			break;
		if (poll(&p, 1, 20) <= 0)
			continue;
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = sizeof(bufs[i]) };
			msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i],
								 .msg_iovlen = 1 } };
		}
		n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			continue;
		now = mono_ns();
		last = now;
		for (int i = 0; i < n; i++) {
			struct stamp s;

			if (msgs[i].msg_len < sizeof(s)) {
				foreign++;
				continue;
			}
			memcpy(&s, bufs[i], sizeof(s));
			if (s.magic != STAMP_MAGIC || s.mono_ns > now) {
				foreign++;
				continue;
			}
			received++;
			if (s.seq / 8 >= seen_len) {
				size_t nl = (s.seq / 8 + 1) * 2;
				uint8_t *ns = realloc(seen, nl);
				if (!ns)
					return fail("realloc");
				memset(ns + seen_len, 0, nl - seen_len);
				seen = ns;
				seen_len = nl;
			}
			if (seen[s.seq / 8] & (1u << (s.seq % 8))) {
				dups++;
				continue;
			}
			seen[s.seq / 8] |= (uint8_t)(1u << (s.seq % 8));
			unique++;
			if (s.seq > max_seq)
				max_seq = s.seq;
			if (n_delays < MAX_DELAYS)
				delays[n_delays++] = (int64_t)(now - s.mono_ns);
		}
	}
	print_json(json_pack("{s:I, s:I, s:I, s:I, s:I, s:o}", "received", (json_int_t)received,
			     "unique", (json_int_t)unique, "duplicates", (json_int_t)dups,
			     "foreign", (json_int_t)foreign, "max_seq", (json_int_t)max_seq,
			     "delay_us", dist_json(delays, n_delays, 1e3)));
	return 0;
}

/* --- TCP --------------------------------------------------------------------------------- */

static int tcp_recv(const struct opts *o)
{
	static char buf[1 << 18];
	_cleanup_close_ int lfd = -1, fd = -1;
	uint64_t bytes = 0, t0 = 0, t1;
	struct pollfd p;
	ssize_t n;

	lfd = listen_on(o, SOCK_STREAM);
	if (lfd < 0)
		return -lfd;
	if (touch(o->ready))
		return 1;
	p = (struct pollfd){ .fd = lfd, .events = POLLIN };
	if (poll(&p, 1, (int)((o->timeout > 0 ? o->timeout : 30) * 1000)) <= 0) {
		fprintf(stderr, "flperf tcp-recv: no connection\n");
		return 1;
	}
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return fail("accept");
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (!t0)
			t0 = mono_ns();
		bytes += (uint64_t)n;
	}
	if (n < 0)
		return fail("read");
	t1 = mono_ns();
	print_json(json_pack("{s:I, s:f, s:f}", "bytes", (json_int_t)bytes, "seconds",
			     t0 ? (double)(t1 - t0) / 1e9 : 0.0, "mbit_s",
			     t0 && t1 > t0 ? (double)bytes * 8 / ((double)(t1 - t0) / 1e9) / 1e6
					   : 0.0));
	return 0;
}

static int tcp_send(const struct opts *o)
{
	static char buf[1 << 17];
	struct sockaddr_storage ss;
	socklen_t sl = o->dst ? make_addr(o->dst, o->port, &ss) : 0;
	_cleanup_close_ int fd = -1;
	uint64_t bytes = 0, start, end;
	ssize_t n;

	if (!sl || !o->port || o->seconds <= 0) {
		fprintf(stderr, "flperf tcp-send: needs --dst ADDR --port P --seconds S\n");
		return 2;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail("socket");
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0)
		return fail("connect");
	start = mono_ns();
	end = start + (uint64_t)(o->seconds * 1e9);
	while (mono_ns() < end) {
		n = write(fd, buf, sizeof(buf));
		if (n < 0)
			return fail("write");
		bytes += (uint64_t)n;
	}
	shutdown(fd, SHUT_WR);
	/* wait for the receiver to close, so its count is complete when we report */
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	print_json(json_pack("{s:I, s:f}", "bytes", (json_int_t)bytes, "seconds",
			     (double)(mono_ns() - start) / 1e9));
	return 0;
}

/* --- BPF run-time stats -------------------------------------------------------------------- */

static int prog_stats(int fd, struct bpf_prog_info *info)
{
	uint32_t len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len);
}

static int run_cmd(char **argv, uint64_t *ret_ns)
{
	uint64_t t0 = mono_ns();
	pid_t pid;
	int st, r;

	r = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
	if (r) {
		fprintf(stderr, "flperf: cannot run %s: %s\n", argv[0], strerror(r));
		return -r;
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (ret_ns)
		*ret_ns = mono_ns() - t0;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "flperf: '%s ...' failed (status %#x)\n", argv[0], (unsigned)st);
		return -EIO;
	}
	return 0;
}

static int bpfstats(const struct opts *o)
{
	_cleanup_close_ int sfd = -1, pfd = -1;
	struct bpf_prog_info a, b;
	uint64_t cnt, ns;
	int r;
	json_t *j;

	if (!o->prog_id || !o->out || !o->cmd || !o->cmd[0]) {
		fprintf(stderr, "flperf bpfstats: needs --prog-id ID --out FILE -- CMD...\n");
		return 2;
	}
	pfd = bpf_prog_get_fd_by_id(o->prog_id);
	if (pfd < 0)
		return fail("bpf_prog_get_fd_by_id");
	/* held for this measurement only: closing the fd turns the stats off again */
	sfd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (sfd < 0)
		return fail("bpf_enable_stats(BPF_STATS_RUN_TIME)");
	if (prog_stats(pfd, &a) < 0)
		return fail("bpf_obj_get_info_by_fd");
	r = run_cmd(o->cmd, NULL);
	if (prog_stats(pfd, &b) < 0)
		return fail("bpf_obj_get_info_by_fd");
	cnt = b.run_cnt - a.run_cnt;
	ns = b.run_time_ns - a.run_time_ns;
	j = json_pack("{s:I, s:s, s:I, s:I, s:f, s:i}", "prog_id", (json_int_t)o->prog_id, "name",
		      b.name, "run_cnt", (json_int_t)cnt, "run_time_ns", (json_int_t)ns,
		      "ns_per_run", cnt ? (double)ns / (double)cnt : 0.0, "cmd_status", r);
	if (!j || json_dump_file(j, o->out, JSON_COMPACT) < 0) {
		json_decref(j);
		fprintf(stderr, "flperf bpfstats: cannot write %s\n", o->out);
		return 1;
	}
	json_decref(j);
	return r < 0 ? 1 : 0;
}

/* --- apply + revert --------------------------------------------------------------------------- */

/*
 * Every contestant runs one round in turn (faultline's backends, then each command sequence),
 * N rounds after two warm-up ones, so all of them see the same weather on a shared machine.
 */
enum { S_PLAN, S_APPLY, S_REVERT, S_TOTAL, S_LOAD, S_REST, N_SERIES };
static const char *const series_names[N_SERIES] = { "plan",	    "apply",	"revert",
						    "apply_revert", "bpf_load", "without_load" };

struct series {
	int64_t *v[N_SERIES]; /* ns per round */
	size_t n;
};

static int series_init(struct series *s, unsigned n)
{
	for (int k = 0; k < N_SERIES; k++)
		if (!(s->v[k] = calloc(n, sizeof(int64_t))))
			return -ENOMEM;
	return 0;
}

static void series_put(struct series *s, const int64_t x[N_SERIES])
{
	for (int k = 0; k < N_SERIES; k++)
		s->v[k][s->n] = x[k];
	s->n++;
}

/* The series in mask, each as {n, min, p50, p90, p99, max, mean} in ms; frees them all. */
static void series_out(struct series *s, unsigned mask, json_t *into)
{
	for (int k = 0; k < N_SERIES; k++) {
		if (s->v[k] && (mask & (1u << k)))
			json_object_set_new(into, series_names[k], dist_json(s->v[k], s->n, 1e6));
		free(s->v[k]);
		s->v[k] = NULL;
	}
}

struct bk_case {
	const char *kind, *backend;
	bool bpf_load;		  /* its apply loads a BPF object: report that part and the rest */
	const char *params[8][2]; /* key, value; besides kind, backend, for, netns, dev */
};

static const struct bk_case cases[] = {
	{ "loss",
	  "tc-bpf",
	  true,
	  { { "percent", "10" },
	    { "proto", "udp" },
	    { "dport", "9000" },
	    { "direction", "ingress" } } },
	{ "partition", "tc-bpf", true, { { "src", "10.250.0.1" }, { "direction", "ingress" } } },
	{ "latency",
	  "nfqueue",
	  false,
	  { { "delay", "10ms" },
	    { "proto", "udp" },
	    { "dport", "9000" },
	    { "direction", "ingress" } } },
};

/* One of faultline's backends, called in-process as the runner does (minus the journal). */
struct bk_run {
	const struct bk_case *c;
	struct fl_params p;
	struct fl_errors errs;
	struct fl_fault f;
	char run_id[16];
	uint64_t rng;
	struct series s;
	json_t *res; /* kind, backend, and "na" or "error" once it cannot run */
	bool live;
};

static int add_param(struct fl_params *p, const char *k, const char *v)
{
	struct fl_where w = { .flag = "flperf" };

	return fl_params_add(p, k, v, &w);
}

static void bk_setup(struct bk_run *b, const struct bk_case *c, const struct opts *o)
{
	const char *why = NULL;

	b->c = c;
	b->rng = 42;
	b->p.where.flag = "flperf";
	b->res = json_pack("{s:s, s:s}", "kind", c->kind, "backend", c->backend);
	if (series_init(&b->s, o->n) < 0 || fl_new_id(b->run_id, sizeof(b->run_id)) < 0) {
		json_object_set_new(b->res, "error", json_string("out of memory"));
		return;
	}
	add_param(&b->p, "kind", c->kind);
	add_param(&b->p, "backend", c->backend);
	add_param(&b->p, "for", "60s");
	add_param(&b->p, "target.netns", o->netns);
	add_param(&b->p, "dev", o->dev);
	for (size_t i = 0; i < ARRAY_SIZE(c->params) && c->params[i][0]; i++)
		add_param(&b->p, c->params[i][0], c->params[i][1]);
	if (fl_fault_from_params(&b->p, NULL, &b->f, &b->errs) < 0 || !b->f.backend) {
		/* a backend this build does not have is "n/a", not a failure */
		json_object_set_new(b->res, "na",
				    json_string(b->errs.n ? b->errs.v[0].text : "no such backend"));
		return;
	}
	if (b->f.backend->probe && b->f.backend->probe(&b->f, &why) < 0) {
		json_object_set_new(b->res, "na", json_string(why ? why : "probe failed"));
		return;
	}
	b->live = true;
}

/*
 * Which part of an apply is the BPF load: flperf is linked with
 * -Wl,--wrap=bpf_object__load_skeleton, so the backend's netfault_bpf__load() comes through
 * here (maps created, relocations, the verifier, the programs loaded) and is timed inside the
 * very apply it belongs to.
 */
int __real_bpf_object__load_skeleton(struct bpf_object_skeleton *s);
int __wrap_bpf_object__load_skeleton(struct bpf_object_skeleton *s);
static uint64_t load_ns; /* summed over the calls since the last reset */

int __wrap_bpf_object__load_skeleton(struct bpf_object_skeleton *s)
{
	uint64_t t0 = mono_ns();
	int r = __real_bpf_object__load_skeleton(s);

	load_ns += mono_ns() - t0;
	return r;
}

/* One round: plan, apply (and the BPF load inside it), revert. */
static void bk_round(struct bk_run *b, bool keep)
{
	struct fl_inject_ctx ctx = { .run_id = b->run_id, .fault_id = b->f.name, .rng = &b->rng };
	json_t *objs = NULL, *inj = json_object();
	uint64_t t0, t1, t2, t3, load;
	char *reason = NULL;
	int r;

	t0 = mono_ns();
	r = b->f.backend->plan(&b->f, &ctx, &objs);
	t1 = mono_ns();
	load_ns = 0;
	if (r == 0)
		r = b->f.backend->apply(&b->f, objs, &ctx, inj);
	t2 = mono_ns();
	load = load_ns;
	/* revert after a failed apply too: that is the runner's contract */
	if (objs && b->f.backend->revert(objs, &reason) < 0 && r == 0)
		r = -EIO;
	t3 = mono_ns();
	json_decref(objs);
	json_decref(inj);
	if (r < 0 && !json_object_get(b->res, "error"))
		json_object_set_new(b->res, "error",
				    json_string(ctx.reason ? ctx.reason
						: reason   ? reason
							   : strerror(-r)));
	free(ctx.reason);
	free(reason);
	if (r < 0) {
		b->live = false;
		return;
	}
	if (keep)
		series_put(&b->s, (int64_t[N_SERIES]){ (int64_t)(t1 - t0), (int64_t)(t2 - t1),
						       (int64_t)(t3 - t2), (int64_t)(t3 - t1),
						       (int64_t)load, (int64_t)(t3 - t1 - load) });
}

static json_t *bk_finish(struct bk_run *b)
{
	unsigned mask = (1u << S_PLAN) | (1u << S_APPLY) | (1u << S_REVERT) | (1u << S_TOTAL);

	if (b->c->bpf_load)
		mask |= (1u << S_LOAD) | (1u << S_REST); /* per round: total minus its load */
	series_out(&b->s, json_object_get(b->res, "error") || !b->live ? 0 : mask, b->res);
	fl_fault_clear(&b->f);
	fl_params_clear(&b->p);
	fl_errors_clear(&b->errs);
	return b->res;
}

/* The same change by running commands, as chaosd and ChaosBlade make it. */
struct tool_run {
	const char *name;
	char **const *apply, **const *revert;
	struct series s;
	json_t *res;
	bool live;
};

static json_t *cmd_list(char **const *cmds)
{
	json_t *a = json_array();

	for (char **const *c = cmds; *c; c++) {
		_cleanup_free_ char *s = fl_strv_join(*c, " ");
		json_array_append_new(a, s ? json_string(s) : json_null());
	}
	return a;
}

static void tool_setup(struct tool_run *t, const struct opts *o)
{
	t->res = json_pack("{s:s, s:{s:o, s:o}}", "tool", t->name, "commands", "apply",
			   cmd_list(t->apply), "revert", cmd_list(t->revert));
	t->live = series_init(&t->s, o->n) == 0;
	if (!t->live)
		json_object_set_new(t->res, "error", json_string("out of memory"));
}

/* One round: the apply commands, then the revert commands, wall time of each sequence. */
static void tool_round(struct tool_run *t, bool keep)
{
	uint64_t a = 0, rv = 0, ns = 0;
	int r = 0;

	for (char **const *c = t->apply; *c && r == 0; c++, a += ns)
		r = run_cmd(*c, &ns);
	for (char **const *c = t->revert; *c && r == 0; c++, rv += ns)
		r = run_cmd(*c, &ns);
	if (r < 0) {
		json_object_set_new(t->res, "error", json_sprintf("'%s' failed", (*t->apply)[0]));
		/* leave nothing: the revert commands once more, errors ignored */
		for (char **const *c = t->revert; *c; c++)
			run_cmd(*c, NULL);
		t->live = false;
		return;
	}
	if (keep)
		series_put(&t->s, (int64_t[N_SERIES]){ 0, (int64_t)a, (int64_t)rv,
						       (int64_t)(a + rv), 0, 0 });
}

static int quiet_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static int applyrevert(const struct opts *o)
{
	char *tc_add[] = { "tc", "qdisc", "add", "dev", (char *)o->dev, "clsact", NULL };
	char *tc_filter[] = { "tc",	 "filter", "add", "dev", (char *)o->dev,
			      "ingress", "bpf",	   "da",  "obj", (char *)o->obj,
			      "sec",	 "tc",	   NULL };
	char *tc_fdel[] = { "tc", "filter", "del", "dev", (char *)o->dev, "ingress", NULL };
	char *tc_del[] = { "tc", "qdisc", "del", "dev", (char *)o->dev, "clsact", NULL };
#define IPT_RULE                                                                        \
	"INPUT", "-p", "udp", "--dport", "9000", "-m", "statistic", "--mode", "random", \
		"--probability", "0.1", "-j", "DROP"
	char *ipt_add[] = { "iptables", "-w", "-A", IPT_RULE, NULL };
	char *ipt_del[] = { "iptables", "-w", "-D", IPT_RULE, NULL };
#undef IPT_RULE
	/* tc-qdisc: two tc runs that load nothing, what a netem or tbf change by tc costs */
	struct tool_run tools[] = {
		{ .name = "tc",
		  .apply = (char **const[]){ tc_add, tc_filter, NULL },
		  .revert = (char **const[]){ tc_fdel, tc_del, NULL } },
		{ .name = "tc-qdisc",
		  .apply = (char **const[]){ tc_add, NULL },
		  .revert = (char **const[]){ tc_del, NULL } },
		{ .name = "iptables",
		  .apply = (char **const[]){ ipt_add, NULL },
		  .revert = (char **const[]){ ipt_del, NULL } },
	};
	struct bk_run bks[ARRAY_SIZE(cases)] = { 0 };
	json_t *out = json_object(), *jb = json_array(), *jt = json_array();
	int old = -1, r;

	if (!o->netns || !o->dev || !o->obj || !o->n) {
		fprintf(stderr, "flperf applyrevert: needs --netns NS --dev IF --n N --obj FILE\n");
		return 2;
	}
	/*
	 * A mount namespace and a bpffs instance of our own on /sys/fs/bpf: `tc ... bpf obj`
	 * leaves tc/, ip and xdp in whatever bpffs it finds, faultline pins there; none of it may
	 * reach the host's bpffs (a new mount is a new instance), and all of it vanishes with us.
	 * It is mounted for the whole measurement, as systemd has it on stock distributions, so
	 * neither side mounts one in each round.
	 */
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return fail("a private mount namespace");
	if (mount("bpf", FL_BPFFS, "bpf", 0, "mode=0700") < 0)
		return fail("mount bpffs (private)");
	fl_log_level = FL_LOG_WARN;
	libbpf_set_print(quiet_libbpf);
	/* the commands run in the namespace; faultline's backends enter it themselves */
	r = fl_netns_enter(o->netns, &old);
	if (r < 0) {
		errno = -r;
		return fail(o->netns);
	}
	for (size_t k = 0; k < ARRAY_SIZE(cases); k++)
		bk_setup(&bks[k], &cases[k], o);
	for (size_t k = 0; k < ARRAY_SIZE(tools); k++)
		tool_setup(&tools[k], o);
	for (unsigned i = 0; i < o->n + 2; i++) { /* two warm-up rounds */
		for (size_t k = 0; k < ARRAY_SIZE(bks); k++)
			if (bks[k].live)
				bk_round(&bks[k], i >= 2);
		for (size_t k = 0; k < ARRAY_SIZE(tools); k++)
			if (tools[k].live)
				tool_round(&tools[k], i >= 2);
	}
	fl_netns_leave(old);
	for (size_t k = 0; k < ARRAY_SIZE(bks); k++)
		json_array_append_new(jb, bk_finish(&bks[k]));
	for (size_t k = 0; k < ARRAY_SIZE(tools); k++) {
		series_out(&tools[k].s,
			   tools[k].live ? (1u << S_APPLY) | (1u << S_REVERT) | (1u << S_TOTAL) : 0,
			   tools[k].res);
		json_array_append_new(jt, tools[k].res);
	}
	json_object_set_new(out, "faultline", jb);
	json_object_set_new(out, "tools", jt);
	json_object_set_new(out, "iterations", json_integer(o->n));
	json_object_set_new(out, "interleaved", json_true());
	json_object_set_new(out, "bpffs",
			    json_string("mounted for the whole run (a private "
					"instance)"));
	print_json(out);
	return 0;
}

/* --- main ------------------------------------------------------------------------------------- */

/* --name VALUE options, into struct opts by type and offset */
static const struct opt_spec {
	const char *name;
	enum { O_STR, O_UINT, O_DBL } type;
	size_t off;
} opt_specs[] = {
	{ "dst", O_STR, offsetof(struct opts, dst) },
	{ "ready", O_STR, offsetof(struct opts, ready) },
	{ "out", O_STR, offsetof(struct opts, out) },
	{ "netns", O_STR, offsetof(struct opts, netns) },
	{ "dev", O_STR, offsetof(struct opts, dev) },
	{ "obj", O_STR, offsetof(struct opts, obj) },
	{ "port", O_UINT, offsetof(struct opts, port) },
	{ "count", O_UINT, offsetof(struct opts, count) },
	{ "size", O_UINT, offsetof(struct opts, size) },
	{ "n", O_UINT, offsetof(struct opts, n) },
	{ "prog-id", O_UINT, offsetof(struct opts, prog_id) },
	{ "pps", O_DBL, offsetof(struct opts, pps) },
	{ "seconds", O_DBL, offsetof(struct opts, seconds) },
	{ "idle", O_DBL, offsetof(struct opts, idle) },
	{ "timeout", O_DBL, offsetof(struct opts, timeout) },
};

/* argv[0] is the subcommand; options until "--", the command after it */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		const struct opt_spec *sp = NULL;
		char *end = NULL, *field;

		for (size_t k = 0; k < ARRAY_SIZE(opt_specs); k++)
			if (!strncmp(argv[i], "--", 2) && !strcmp(argv[i] + 2, opt_specs[k].name))
				sp = &opt_specs[k];
		if (!sp || i + 1 >= argc) {
			fprintf(stderr, "flperf %s: unknown option or missing value: %s\n", argv[0],
				argv[i]);
			return -EINVAL;
		}
		field = (char *)o + sp->off;
		errno = 0;
		if (sp->type == O_STR)
			*(const char **)field = argv[++i];
		else if (sp->type == O_UINT)
			*(unsigned *)field = (unsigned)strtoul(argv[++i], &end, 10);
		else
			*(double *)field = strtod(argv[++i], &end);
		if (end && (errno || end == argv[i] || *end)) {
			fprintf(stderr, "flperf %s: --%s: not a number: '%s'\n", argv[0], sp->name,
				argv[i]);
			return -EINVAL;
		}
	}
	if (i + 1 < argc)
		o->cmd = argv + i + 1;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(const struct opts *o);
	} subs[] = {
		{ "udp-send", udp_send }, { "udp-recv", udp_recv }, { "tcp-send", tcp_send },
		{ "tcp-recv", tcp_recv }, { "bpfstats", bpfstats }, { "applyrevert", applyrevert },
	};
	struct opts o = { 0 };

	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		goto usage;
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++) {
		if (strcmp(argv[1], subs[i].name))
			continue;
		if (parse_opts(argc - 1, argv + 1, &o) < 0)
			goto usage;
		return subs[i].fn(&o);
	}
usage:
	fprintf(stderr, "usage: flperf udp-send|udp-recv|tcp-send|tcp-recv|bpfstats|applyrevert "
			"[options] (see bench/flperf.c)\n");
	return 2;
}

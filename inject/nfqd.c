// SPDX-License-Identifier: GPL-2.0-only
/*
 * faultline-nfqd: holds each packet an NFQUEUE rule gives it until its sampled delay has passed,
 * then accepts it. One process per fault, forked from faultline (no exec) into its own
 * session, inside the fault's network namespace. Packets are kept by id in a binary
 * min-heap keyed by release time and released from one timerfd. The queue is fail-open and
 * the rule has --queue-bypass, so a dead daemon or a full queue lets traffic through. It exits
 * by itself at its lease (CLOCK_BOOTTIME), releasing what it holds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netfilter/nfnl.h>
#include <netlink/netfilter/queue.h>
#include <netlink/netfilter/queue_msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "inject/daemon.h"
#include "inject/log.h"
#include "inject/netutil.h"
#include "inject/nfqd.h"
#include "inject/target.h"
#include "inject/util.h"

#define NFQD_MAXLEN 65536	       /* packets the kernel may hold for us */
#define NFQD_RCVBUF (16 * 1024 * 1024) /* meta-only messages are ~150 bytes */
#define NFQD_READY_TIMEOUT_MS 5000

/* --- heap ------------------------------------------------------------------------------------ */

int nfqd_heap_push(struct nfqd_heap *h, const struct nfqd_item *it)
{
	size_t i;

	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 1024;
		struct nfqd_item *v = realloc(h->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		h->v = v;
		h->cap = cap;
	}
	for (i = h->n++; i > 0; i = (i - 1) / 2) {
		size_t parent = (i - 1) / 2;
		if (h->v[parent].due <= it->due)
			break;
		h->v[i] = h->v[parent];
	}
	h->v[i] = *it;
	return 0;
}

const struct nfqd_item *nfqd_heap_top(const struct nfqd_heap *h)
{
	return h->n ? &h->v[0] : NULL;
}

bool nfqd_heap_pop(struct nfqd_heap *h, struct nfqd_item *ret)
{
	struct nfqd_item last;
	size_t i = 0;

	if (!h->n)
		return false;
	*ret = h->v[0];
	last = h->v[--h->n];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1].due < h->v[c].due)
			c++;
		if (last.due <= h->v[c].due)
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
	return true;
}

void nfqd_heap_free(struct nfqd_heap *h)
{
	free(h->v);
	*h = (struct nfqd_heap){ 0 };
}

/* --- sampler --------------------------------------------------------------------------------- */

#define NETEM_DIST_SCALE 8192

static uint32_t crandom(struct nfqd_sampler *s)
{
	uint32_t v = (uint32_t)(fl_rand_next(&s->rng) >> 32);
	uint64_t rho;

	if (!s->corr)
		return v;
	rho = (uint64_t)s->corr + 1;
	s->last = (uint32_t)(((uint64_t)v * ((1ULL << 32) - rho) + (uint64_t)s->last * rho) >> 32);
	return s->last;
}

uint64_t nfqd_sample(struct nfqd_sampler *s)
{
	int64_t mu = (int64_t)s->delay_ns, sigma = (int64_t)s->jitter_ns, x, v;
	uint32_t rnd;
	long t;

	if (!sigma)
		return s->delay_ns;
	rnd = crandom(s);
	if (!s->table || !s->n_table) {
		/* uniform in [mu - sigma, mu + sigma) */
		v = mu - sigma + (int64_t)(((uint64_t)rnd * (uint64_t)(2 * sigma)) >> 32);
	} else {
		t = s->table[rnd % s->n_table];
		x = (sigma % NETEM_DIST_SCALE) * t;
		x += x >= 0 ? NETEM_DIST_SCALE / 2 : -NETEM_DIST_SCALE / 2;
		v = x / NETEM_DIST_SCALE + (sigma / NETEM_DIST_SCALE) * t + mu;
	}
	return v < 0 ? 0 : (uint64_t)v;
}

/* --- histogram ------------------------------------------------------------------------------- */

static size_t hist_idx(uint64_t us)
{
	unsigned e;
	size_t i;

	if (us < 1024)
		return (size_t)us;
	e = (unsigned)(63 - __builtin_clzll(us)) - 9; /* mantissa us >> e in [512, 1023] */
	i = 1024 + (size_t)(e - 1) * NFQD_HIST_SUB + (size_t)((us >> e) - NFQD_HIST_SUB);
	return i < NFQD_HIST_BUCKETS ? i : NFQD_HIST_BUCKETS - 1;
}

static uint64_t hist_value(size_t i)
{
	unsigned e;
	uint64_t mant;

	if (i < 1024)
		return i;
	e = (unsigned)((i - 1024) / NFQD_HIST_SUB) + 1;
	mant = (i - 1024) % NFQD_HIST_SUB + NFQD_HIST_SUB;
	return (mant << e) + (1ULL << (e - 1));
}

void nfqd_hist_add(struct nfqd_hist *h, uint64_t us)
{
	h->b[hist_idx(us)]++;
	h->count++;
	h->sum_us += us;
	if (us > h->max_us)
		h->max_us = us;
}

uint64_t nfqd_hist_quantile(const struct nfqd_hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (!h->count)
		return 0;
	rank = (uint64_t)(q * (double)h->count + 0.999999);
	if (rank < 1)
		rank = 1;
	for (size_t i = 0; i < NFQD_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			uint64_t v = hist_value(i);
			return v > h->max_us ? h->max_us : v;
		}
	}
	return h->max_us;
}

json_t *nfqd_stats_json(const struct nfqd_hist *h, uint64_t seq, uint64_t held,
			long long queue_dropped, long long user_dropped, uint64_t enobufs,
			uint64_t verdict_errors)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:I, s:I, s:I, s:I}", "seq",
			 (json_int_t)seq, "packets", (json_int_t)h->count, "held", (json_int_t)held,
			 "p50_us", (json_int_t)nfqd_hist_quantile(h, 0.50), "p90_us",
			 (json_int_t)nfqd_hist_quantile(h, 0.90), "p99_us",
			 (json_int_t)nfqd_hist_quantile(h, 0.99), "max_us", (json_int_t)h->max_us,
			 "mean_us", h->count ? (double)h->sum_us / (double)h->count : 0.0,
			 "queue_dropped", (json_int_t)queue_dropped, "user_dropped",
			 (json_int_t)user_dropped, "enobufs", (json_int_t)enobufs, "verdict_errors",
			 (json_int_t)verdict_errors);
}

/* --- the config request ---------------------------------------------------------------------- */

int nfqd_build_config(uint16_t queue, uint32_t maxlen, struct nl_msg **ret)
{
	struct nfnl_queue *q = nfnl_queue_alloc();
	struct nl_msg *m = NULL;
	int r;

	if (!q)
		return -ENOMEM;
	nfnl_queue_set_group(q, queue);
	nfnl_queue_set_copy_mode(q, NFNL_QUEUE_COPY_META);
	nfnl_queue_set_copy_range(q, 0);
	nfnl_queue_set_maxlen(q, maxlen);
	r = nfnl_queue_build_create_request(q, &m);
	nfnl_queue_put(q);
	if (r < 0)
		return -ENOMEM;
	/* the kernel wants both in network byte order; the mask says which flags we set */
	if (nla_put_u32(m, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO)) < 0 ||
	    nla_put_u32(m, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO)) < 0) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	*ret = m;
	return 0;
}

/* --- the daemon ------------------------------------------------------------------------------ */

struct nfqd {
	const struct nfqd_config *c;
	struct nl_sock *sk;
	struct nfnl_queue_msg *verdict;
	struct nfqd_heap heap;
	struct nfqd_sampler sampler;
	struct nfqd_hist hist;
	uint64_t seq, enobufs, verdict_errors, released_early;
	int tfd;
};

/* queue_dropped and user_dropped of our queue, from this netns's /proc/net. */
static void queue_counters(uint16_t queue, long long *qd, long long *ud)
{
	_cleanup_fclose_ FILE *fp = fopen("/proc/net/netfilter/nfnetlink_queue", "re");
	unsigned num, a, b, c, d;
	long long x, y;

	*qd = *ud = -1;
	while (fp &&
	       fscanf(fp, "%u %u %u %u %u %lld %lld %*u %*u", &num, &a, &b, &c, &d, &x, &y) == 7) {
		if (num == queue) {
			*qd = x;
			*ud = y;
			return;
		}
	}
}

static void write_stats(struct nfqd *d)
{
	long long qd, ud;
	json_t *j;
	char *s;

	queue_counters(d->c->queue, &qd, &ud);
	j = nfqd_stats_json(&d->hist, ++d->seq, d->heap.n, qd, ud, d->enobufs, d->verdict_errors);
	if (!j)
		return;
	json_object_set_new(j, "released_early", json_integer((json_int_t)d->released_early));
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s)
		fl_daemon_write_file(d->c->statsfile, s);
	free(s);
}

static void accept_packet(struct nfqd *d, uint32_t id)
{
	nfnl_queue_msg_set_packetid(d->verdict, id);
	if (nfnl_queue_msg_send_verdict(d->sk, d->verdict) < 0)
		d->verdict_errors++;
}

static void release_due(struct nfqd *d, bool all)
{
	uint64_t now = fl_now_ns();
	const struct nfqd_item *top;
	struct nfqd_item it;

	while ((top = nfqd_heap_top(&d->heap)) && (all || top->due <= now)) {
		nfqd_heap_pop(&d->heap, &it);
		accept_packet(d, it.id);
		if (it.due <= now)
			nfqd_hist_add(&d->hist, (now - it.arrival) / NSEC_PER_USEC);
		else
			d->released_early++;
		now = fl_now_ns();
	}
	top = nfqd_heap_top(&d->heap);
	{
		struct itimerspec ts = { 0 };
		if (top) {
			ts.it_value.tv_sec = (time_t)(top->due / NSEC_PER_SEC);
			ts.it_value.tv_nsec = (long)(top->due % NSEC_PER_SEC);
		}
		timerfd_settime(d->tfd, TFD_TIMER_ABSTIME, &ts, NULL);
	}
}

/* Read every pending message; queue each packet at arrival + sampled delay. */
static void receive(struct nfqd *d, unsigned char *buf, size_t cap)
{
	for (;;) {
		ssize_t n = recv(nl_socket_get_fd(d->sk), buf, cap, MSG_DONTWAIT);
		struct nlmsghdr *h;
		int len;

		if (n < 0) {
			if (errno == ENOBUFS) {
				d->enobufs++;
				continue;
			}
			return; /* EAGAIN, EINTR */
		}
		len = (int)n;
		for (h = (struct nlmsghdr *)buf; nlmsg_ok(h, len); h = nlmsg_next(h, &len)) {
			struct nfnl_queue_msg *m = NULL;
			struct nfqd_item it;

			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = nlmsg_data(h);
				if (e->error)
					d->verdict_errors++;
				continue;
			}
			if (NFNL_MSG_TYPE(h->nlmsg_type) != NFQNL_MSG_PACKET)
				continue;
			if (nfnlmsg_queue_msg_parse(h, &m) < 0 || !m)
				continue;
			it.id = nfnl_queue_msg_get_packetid(m);
			it.arrival = fl_now_ns();
			it.due = it.arrival + nfqd_sample(&d->sampler);
			nfnl_queue_msg_put(m);
			if (nfqd_heap_push(&d->heap, &it) < 0)
				accept_packet(d, it.id); /* no memory: let it pass */
		}
	}
}

/* Bind the queue; on failure a reason for the parent. */
static int bind_queue(struct nfqd *d, char *why, size_t len)
{
	struct nl_msg *m = NULL;
	int r, sz = NFQD_RCVBUF;

	d->sk = nfnl_queue_socket_alloc();
	if (!d->sk) {
		snprintf(why, len, "out of memory");
		return -ENOMEM;
	}
	r = nl_connect(d->sk, NETLINK_NETFILTER);
	if (r < 0) {
		snprintf(why, len, "cannot open a netfilter netlink socket: %s", nl_geterror(r));
		return -EIO;
	}
	if (setsockopt(nl_socket_get_fd(d->sk), SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(nl_socket_get_fd(d->sk), SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	r = nfqd_build_config(d->c->queue, NFQD_MAXLEN, &m);
	if (r < 0) {
		snprintf(why, len, "out of memory");
		return r;
	}
	r = nl_send_sync(d->sk, m); /* frees m, waits for the kernel's ack */
	if (r < 0) {
		snprintf(why, len, "cannot bind NFQUEUE %u: %s%s", d->c->queue, nl_geterror(r),
			 r == -NLE_BUSY || r == -NLE_PERM ? " (another listener has it?)" : "");
		return -EBUSY;
	}
	/* verdicts: no acks, and the kernel's packet messages carry no sequence of ours */
	nl_socket_disable_auto_ack(d->sk);
	nl_socket_disable_seq_check(d->sk);
	d->verdict = nfnl_queue_msg_alloc();
	if (!d->verdict) {
		snprintf(why, len, "out of memory");
		return -ENOMEM;
	}
	nfnl_queue_msg_set_group(d->verdict, d->c->queue);
	nfnl_queue_msg_set_family(d->verdict, AF_UNSPEC);
	nfnl_queue_msg_set_verdict(d->verdict, NF_ACCEPT);
	return 0;
}

static void report(int fd, const char *msg)
{
	if (fd >= 0 && write(fd, msg, strlen(msg)) < 0)
		return;
}

static _Noreturn void daemon_main(const void *arg, int ready)
{
	const struct nfqd_config *c = arg;
	struct nfqd d = { .c = c, .tfd = -1 };
	static unsigned char buf[256 * 1024];
	char why[512] = "", msg[600];
	int sfd, lfd, old, r;
	struct pollfd p[4];
	sigset_t mask;
	struct itimerspec lease = { 0 };
	bool stopped = false;

	/*
	 * Releasing verdicts on time is the daemon's whole job: the lowest real-time priority (1,
	 * below any real-time service) lets it preempt ordinary work; the kernel's RT throttling
	 * (sched_rt_runtime_us) still bounds it. Without the capability, a better nice value.
	 */
	if (sched_setscheduler(0, SCHED_FIFO, &(struct sched_param){ .sched_priority = 1 }) < 0)
		setpriority(PRIO_PROCESS, 0, -10);
	d.sampler = (struct nfqd_sampler){
		.delay_ns = c->delay_ns,
		.jitter_ns = c->jitter_ns,
		.corr = (uint32_t)(c->corr_pct / 100.0 * (double)UINT32_MAX),
		.table = c->table,
		.n_table = c->n_table,
		.rng = c->seed,
	};
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_SETMASK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	lfd = timerfd_create(CLOCK_BOOTTIME, TFD_CLOEXEC | TFD_NONBLOCK);
	if (sfd < 0 || d.tfd < 0 || lfd < 0) {
		snprintf(msg, sizeof(msg), "!cannot create the daemon's fds: %s\n",
			 strerror(errno));
		report(ready, msg);
		_exit(1);
	}
	lease.it_value.tv_sec = (time_t)(c->lease_boot_ns / NSEC_PER_SEC);
	lease.it_value.tv_nsec = (long)(c->lease_boot_ns % NSEC_PER_SEC);
	timerfd_settime(lfd, TFD_TIMER_ABSTIME, &lease, NULL);

	r = fl_netns_enter(c->netns, &old);
	if (r < 0) {
		snprintf(msg, sizeof(msg), "!cannot enter network namespace '%s': %s\n", c->netns,
			 strerror(-r));
		report(ready, msg);
		_exit(1);
	}
	if (old >= 0)
		close(old);
	r = fl_daemon_write_pidfile(c->pidfile);
	if (r < 0) {
		snprintf(msg, sizeof(msg), "!cannot write '%s': %s\n", c->pidfile, strerror(-r));
		report(ready, msg);
		_exit(1);
	}
	if (bind_queue(&d, why, sizeof(why)) < 0) {
		snprintf(msg, sizeof(msg), "!%s\n", why);
		report(ready, msg);
		unlink(c->pidfile);
		_exit(1);
	}
	write_stats(&d);
	report(ready, "ok\n");
	close(ready);

	p[0] = (struct pollfd){ .fd = nl_socket_get_fd(d.sk), .events = POLLIN };
	p[1] = (struct pollfd){ .fd = d.tfd, .events = POLLIN };
	p[2] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	p[3] = (struct pollfd){ .fd = lfd, .events = POLLIN };
	for (;;) {
		struct signalfd_siginfo si;
		uint64_t ticks;
		bool quit = false;

		if (poll(p, 4, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN)
			receive(&d, buf, sizeof(buf));
		if (p[1].revents & POLLIN && read(d.tfd, &ticks, sizeof(ticks)) < 0)
			ticks = 0;
		release_due(&d, false);
		while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGUSR1)
				write_stats(&d);
			else if (si.ssi_signo != SIGHUP)
				quit = stopped = true;
		}
		if (p[3].revents & POLLIN)
			quit = true; /* the lease: the rule bypasses without us */
		if (quit)
			break;
	}
	release_due(&d, true);
	/* stopped by revert, which reads the stats before and deletes them after (a rename over
	 * the old file costs ~1.5 ms on ext4); at the lease nobody may come: leave them */
	if (!stopped)
		write_stats(&d);
	_exit(0);
}

int nfqd_spawn(const struct nfqd_config *c, pid_t *ret_pid, char **ret_reason)
{
	return fl_daemon_spawn("faultline-nfqd", "NFQUEUE daemon", daemon_main, c, c->pidfile,
			       ret_pid, ret_reason);
}

/* --- iptables-restore lines ---------------------------------------------------------------- */

int nfq_strv_pushf(char ***v, const char *fmt, ...)
{
	_cleanup_free_ char *s = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	return fl_strv_push(v, s);
}

static const char *proto_name(uint8_t p, bool ipv6)
{
	switch (p) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return ipv6 ? "ipv6-icmp" : "icmp";
	default:
		return NULL;
	}
}

static void port_opt(char *buf, size_t len, const char *opt, uint16_t lo, uint16_t hi)
{
	if (!lo && !hi)
		buf[0] = '\0';
	else if (lo == hi || !hi)
		snprintf(buf, len, " %s %u", opt, lo);
	else
		snprintf(buf, len, " %s %u:%u", opt, lo, hi);
}

/* One NFQUEUE rule of our chain, forward (src/dst as given) or reversed. */
static int queue_rule(char ***v, const struct nfq_rule_spec *s, const char *proto, bool rev)
{
	const char *src = rev ? s->dst : s->src, *dst = rev ? s->src : s->dst;
	char sp[32], dp[32], cg[300] = "";

	port_opt(sp, sizeof(sp), "--sport", rev ? s->dport_lo : s->sport_lo,
		 rev ? s->dport_hi : s->sport_hi);
	port_opt(dp, sizeof(dp), "--dport", rev ? s->sport_lo : s->dport_lo,
		 rev ? s->sport_hi : s->dport_hi);
	if (s->cgroup)
		snprintf(cg, sizeof(cg), " -m cgroup --path %s", s->cgroup);
	return nfq_strv_pushf(
		v,
		"-A %s%s%s%s%s%s%s%s%s%s -m comment --comment %s -j NFQUEUE --queue-num %u"
		" --queue-bypass",
		s->chain, src ? " -s " : "", src ? src : "", dst ? " -d " : "", dst ? dst : "",
		proto ? " -p " : "", proto ? proto : "", sp, dp, cg, s->comment, s->queue);
}

int nfq_rule_lines(const struct nfq_rule_spec *s, char ***ret)
{
	const char *protos[2] = { NULL, NULL };
	bool ports = s->sport_lo || s->sport_hi || s->dport_lo || s->dport_hi;
	size_t np = 1;
	char **v = NULL;
	int r = 0;

	if (s->proto) {
		protos[0] = proto_name(s->proto, s->ipv6);
		if (!protos[0])
			return -EPROTONOSUPPORT;
	} else if (ports) {
		protos[0] = "tcp"; /* ports without a protocol: both that have them */
		protos[1] = "udp";
		np = 2;
	}
	r = nfq_strv_pushf(&v, ":%s - [0:0]", s->chain);
	/* excluded ports (the management plane among them) return before the queue */
	for (size_t i = 0; r == 0 && i < s->n_exclude; i += 15) {
		char list[15 * 6 + 1] = "";
		size_t off = 0;
		for (size_t k = i; k < s->n_exclude && k < i + 15; k++)
			off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%u",
						k > i ? "," : "", s->exclude[k]);
		for (const char *p = "tcp"; r == 0 && p; p = strcmp(p, "tcp") == 0 ? "udp" : NULL)
			r = nfq_strv_pushf(
				&v,
				"-A %s -p %s -m multiport --ports %s -m comment --comment %s "
				"-j RETURN",
				s->chain, p, list, s->comment);
	}
	for (size_t i = 0; r == 0 && i < np; i++) {
		r = queue_rule(&v, s, protos[i], false);
		if (r == 0 && s->symmetric && (s->src || s->dst))
			r = queue_rule(&v, s, protos[i], true);
	}
	for (size_t i = 0; r == 0 && i < 2 && s->parent[i]; i++) {
		bool phys = strncmp(s->iface_opt[i], "--physdev", 9) == 0;
		r = nfq_strv_pushf(&v, "-I %s 1%s %s %s -m comment --comment %s -j %s",
				   s->parent[i], phys ? " -m physdev" : "", s->iface_opt[i],
				   s->iface, s->comment, s->chain);
	}
	if (r < 0) {
		fl_strv_free(v);
		return r;
	}
	*ret = v;
	return 0;
}

int nfq_rule_undo_lines(char *const *apply, char ***ret)
{
	char **v = NULL, *chain = NULL;
	size_t n = fl_strv_len(apply);
	int r = 0;

	/* the jump first (the last line), then the chain's rules, then the chain */
	for (size_t i = n; r == 0 && i-- > 0;) {
		const char *l = apply[i];
		if (l[0] == ':') {
			free(chain);
			chain = strndup(l + 1, strcspn(l + 1, " "));
			if (!chain)
				r = -ENOMEM;
		} else if (strncmp(l, "-I ", 3) == 0) {
			/* "-I PARENT 1 rest" -> "-D PARENT rest" */
			const char *parent = l + 3, *sp = strchr(parent, ' ');
			if (!sp || strncmp(sp, " 1 ", 3) != 0)
				r = -EINVAL;
			else
				r = nfq_strv_pushf(&v, "-D %.*s %s", (int)(sp - parent), parent,
						   sp + 3);
		}
	}
	for (size_t i = 0; r == 0 && i < n; i++)
		if (strncmp(apply[i], "-A ", 3) == 0)
			r = nfq_strv_pushf(&v, "-D %s", apply[i] + 3);
	if (r == 0 && chain)
		r = nfq_strv_pushf(&v, "-X %s", chain);
	free(chain);
	if (r < 0) {
		fl_strv_free(v);
		return r;
	}
	*ret = v;
	return 0;
}

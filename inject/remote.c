// SPDX-License-Identifier: GPL-2.0-only
/*
 * The controller's side of protocol v1 (inject/remote.h): a connection to one agent over
 * OpenSSH (ssh runs `faultline agent --stdio` on the host, we talk over its pipes) or mutual
 * TLS, calls with ids and deadlines under a lock, and a heartbeat thread that renews the
 * session's leases every lease/3.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "inject/log.h"
#include "inject/netutil.h"
#include "inject/proto.h"
#include "inject/remote.h"
#include "inject/tls.h"
#include "inject/util.h"

#define DEFAULT_TIMEOUT_NS (10 * NSEC_PER_SEC)

struct fl_remote {
	enum fl_transport transport;
	char label[300]; /* "host:port" for messages */
	uint64_t timeout_ns, lease_ns;
	int fd_r, fd_w; /* ssh: the pipes; TLS: the socket, twice */
	pid_t ssh_pid;
	SSL_CTX *ctx;
	SSL *ssl;
	pthread_mutex_t lock;
	json_int_t next_id;
	struct fl_proto_rx rx;
	bool broken;
	/* heartbeat: every hb_period_ns (a third of the shortest lease applied) */
	pthread_t hb;
	bool hb_running, hb_stop;
	uint64_t hb_period_ns;
	pthread_mutex_t hb_lock;
	pthread_cond_t hb_cond;
};

static void heartbeat_need(struct fl_remote *r, uint64_t lease_ns);
static int fail(struct fl_remote *r, char **ret_reason, int err, const char *fmt, ...)
	_printf_(4, 5);
static int fail(struct fl_remote *r, char **ret_reason, int err, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (ret_reason) {
		free(*ret_reason);
		*ret_reason = NULL;
		if (k >= 0 && asprintf(ret_reason, "%s: %s", r->label, msg) < 0)
			*ret_reason = NULL;
	}
	return err;
}

static int wait_fd(int fd, short ev, uint64_t deadline)
{
	for (;;) {
		uint64_t now = fl_now_ns();
		struct pollfd p = { .fd = fd, .events = ev };
		int k;

		if (now >= deadline)
			return -ETIMEDOUT;
		k = poll(&p, 1, (int)((deadline - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k > 0)
			return 0;
	}
}

/* The TLS handshake, read and write on a non-blocking socket: wait for what OpenSSL wants. */
static int ssl_wait(struct fl_remote *r, int ret, uint64_t deadline)
{
	int e = SSL_get_error(r->ssl, ret);

	if (e == SSL_ERROR_WANT_READ)
		return wait_fd(r->fd_r, POLLIN, deadline);
	if (e == SSL_ERROR_WANT_WRITE)
		return wait_fd(r->fd_r, POLLOUT, deadline);
	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0))
		return -ECONNRESET;
	return -EPROTO;
}

static int send_all(struct fl_remote *r, const char *buf, size_t len, uint64_t deadline)
{
	size_t off = 0;

	while (off < len) {
		if (r->ssl) {
			size_t w = 0;
			int k;
			ERR_clear_error();
			k = SSL_write_ex(r->ssl, buf + off, len - off, &w);
			if (k <= 0) {
				int e = ssl_wait(r, k, deadline);
				if (e < 0)
					return e;
				continue;
			}
			off += w;
		} else {
			ssize_t w = write(r->fd_w, buf + off, len - off);
			if (w < 0 && errno == EAGAIN) {
				int e = wait_fd(r->fd_w, POLLOUT, deadline);
				if (e < 0)
					return e;
				continue;
			}
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -errno;
			off += (size_t)w;
		}
	}
	return 0;
}

/* The next message, by the deadline. */
static int recv_msg(struct fl_remote *r, uint64_t deadline, json_t **ret, char **ret_reason)
{
	char buf[16384];

	for (;;) {
		_cleanup_free_ char *why = NULL;
		ssize_t n;
		int k = fl_proto_next(&r->rx, ret, &why);

		if (k == 1)
			return 0;
		if (k < 0)
			return fail(r, ret_reason, -EPROTO, "bad message from the agent: %s", why);
		if (r->ssl) {
			size_t got = 0;
			ERR_clear_error();
			k = SSL_read_ex(r->ssl, buf, sizeof(buf), &got);
			if (k <= 0) {
				char e[256];
				int w = ssl_wait(r, k, deadline);
				if (w == -ETIMEDOUT)
					return fail(r, ret_reason, w, "no reply within %.1fs",
						    (double)r->timeout_ns / 1e9);
				if (w == -EPROTO)
					return fail(r, ret_reason, w,
						    "TLS: %s (when this is the first reply: the "
						    "agent refuses this client's certificate, its "
						    "log says why)",
						    fl_tls_error(e, sizeof(e))[0]
							    ? e
							    : "the connection failed");
				if (w < 0)
					return fail(r, ret_reason, w,
						    "the agent closed the connection");
				continue;
			}
			n = (ssize_t)got;
		} else {
			k = wait_fd(r->fd_r, POLLIN, deadline);
			if (k < 0)
				return fail(r, ret_reason, k, "no reply within %.1fs",
					    (double)r->timeout_ns / 1e9);
			n = read(r->fd_r, buf, sizeof(buf));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n < 0)
				return fail(r, ret_reason, -errno, "read: %s", strerror(errno));
			if (n == 0)
				return fail(r, ret_reason, -ECONNRESET,
					    "the agent's session ended (ssh or the agent exited)");
		}
		k = fl_proto_feed(&r->rx, buf, (size_t)n);
		if (k < 0)
			return fail(r, ret_reason, k, "the agent sends too much");
	}
}

int fl_remote_call(struct fl_remote *r, const char *op, json_t *args, json_t **ret_reply,
		   char **ret_reason)
{
	_cleanup_free_ char *frame = NULL;
	uint64_t deadline;
	json_t *req, *reply = NULL;
	json_int_t id, lease_ms;
	size_t len;
	int k;

	if (ret_reply)
		*ret_reply = NULL;
	pthread_mutex_lock(&r->lock);
	if (r->broken) {
		pthread_mutex_unlock(&r->lock);
		return fail(r, ret_reason, -ENOTCONN, "the connection broke earlier");
	}
	id = ++r->next_id;
	req = fl_proto_request(id, op, json_incref(args));
	/* a fault's lease: the connection's unless the caller asked for one */
	if (req && strcmp(op, "apply") == 0 && r->lease_ns && !json_object_get(req, "lease_ms"))
		json_object_set_new(req, "lease_ms",
				    json_integer((json_int_t)(r->lease_ns / NSEC_PER_MSEC)));
	k = req ? fl_proto_encode(req, 0, &frame, &len) : -ENOMEM;
	if (k < 0) {
		json_decref(req);
		pthread_mutex_unlock(&r->lock);
		return fail(r, ret_reason, k, "cannot encode '%s': %s", op, strerror(-k));
	}
	lease_ms =
		strcmp(op, "apply") == 0 ? json_integer_value(json_object_get(req, "lease_ms")) : 0;
	json_decref(req);
	deadline = fl_now_ns() + r->timeout_ns;
	k = send_all(r, frame, len, deadline);
	if (k < 0) {
		r->broken = true;
		pthread_mutex_unlock(&r->lock);
		if (r->ssl && strcmp(op, "hello") == 0) {
			char e[256];
			fl_tls_error(e, sizeof(e));
			return fail(
				r, ret_reason, -EPERM,
				"the agent ended the TLS session (%s): it refuses this client's "
				"certificate, its log says why",
				e[0] ? e : strerror(-k));
		}
		return fail(r, ret_reason, k, "cannot send '%s': %s", op, strerror(-k));
	}
	for (;;) {
		json_t *rid;
		k = recv_msg(r, deadline, &reply, ret_reason);
		if (k < 0) {
			r->broken = true;
			break;
		}
		rid = json_object_get(reply, "id");
		if (json_is_integer(rid) && json_integer_value(rid) == id)
			break;
		if (json_is_null(rid) && json_is_false(json_object_get(reply, "ok"))) {
			/* the agent could not read our message: it says why without an id */
			break;
		}
		json_decref(reply); /* a late reply to an earlier call that timed out */
		reply = NULL;
	}
	pthread_mutex_unlock(&r->lock);
	if (k < 0)
		return k;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		k = fail(r, ret_reason, -EREMOTEIO, "%s",
			 json_string_value(json_object_get(reply, "error"))
				 ?: "the agent refused without saying why");
		if (ret_reply)
			*ret_reply = reply;
		else
			json_decref(reply);
		return k;
	}
	if (ret_reply)
		*ret_reply = reply;
	else
		json_decref(reply);
	/* the agent reverts a fault whose session is silent for its lease: keep talking */
	if (lease_ms > 0)
		heartbeat_need(r, (uint64_t)lease_ms * NSEC_PER_MSEC);
	return 0;
}

static void *heartbeat_main(void *ud)
{
	struct fl_remote *r = ud;

	pthread_mutex_lock(&r->hb_lock);
	while (!r->hb_stop) {
		uint64_t period = r->hb_period_ns;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)(period / NSEC_PER_SEC);
		ts.tv_nsec += (long)(period % NSEC_PER_SEC);
		if (ts.tv_nsec >= (long)NSEC_PER_SEC)
			ts.tv_sec++, ts.tv_nsec -= (long)NSEC_PER_SEC;
		if (pthread_cond_timedwait(&r->hb_cond, &r->hb_lock, &ts) != ETIMEDOUT ||
		    r->hb_stop)
			continue;
		pthread_mutex_unlock(&r->hb_lock);
		{
			_cleanup_free_ char *why = NULL;
			if (fl_remote_call(r, "heartbeat", NULL, NULL, &why) < 0)
				log_debug("heartbeat: %s", why ? why : "failed");
		}
		pthread_mutex_lock(&r->hb_lock);
	}
	pthread_mutex_unlock(&r->hb_lock);
	return NULL;
}

/* Heartbeats at least every lease/3 once a fault with that lease is held. */
static void heartbeat_need(struct fl_remote *r, uint64_t lease_ns)
{
	uint64_t period = lease_ns / 3;

	if (period < NSEC_PER_MSEC)
		return;
	pthread_mutex_lock(&r->hb_lock);
	if (!r->hb_period_ns || period < r->hb_period_ns) {
		r->hb_period_ns = period;
		pthread_cond_signal(&r->hb_cond);
	}
	if (!r->hb_running && !r->hb_stop && pthread_create(&r->hb, NULL, heartbeat_main, r) == 0)
		r->hb_running = true;
	pthread_mutex_unlock(&r->hb_lock);
}

static int connect_ssh(struct fl_remote *r, const struct fl_remote_opts *o, char **ret_reason)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 };
	char port[8];
	const char *argv[16];
	size_t n = 0;
	pid_t pid;

	argv[n++] = "ssh";
	if (o->ssh_config) {
		argv[n++] = "-F";
		argv[n++] = o->ssh_config;
	}
	if (o->port) {
		snprintf(port, sizeof(port), "%u", o->port);
		argv[n++] = "-p";
		argv[n++] = port;
	}
	argv[n++] = "-T";
	argv[n++] = "-o";
	argv[n++] = "BatchMode=yes";
	argv[n++] = "--";
	argv[n++] = o->address;
	argv[n++] = o->agent_cmd ? o->agent_cmd : "faultline agent --stdio";
	argv[n] = NULL;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		int e = -errno;
		if (in[0] >= 0)
			close(in[0]), close(in[1]);
		return fail(r, ret_reason, e, "pipe: %s", strerror(-e));
	}
	pid = fork();
	if (pid < 0) {
		int e = -errno;
		close(in[0]), close(in[1]), close(out[0]), close(out[1]);
		return fail(r, ret_reason, e, "fork: %s", strerror(-e));
	}
	if (pid == 0) {
		int old;
		if (o->netns && fl_netns_enter(o->netns, &old) < 0) {
			fprintf(stderr, "faultline: cannot enter network namespace '%s'\n",
				o->netns);
			_exit(127);
		}
		/* ours, not the controller's terminal: Ctrl-C goes to the controller, which
		 * reverts through this connection */
		setpgid(0, 0);
		dup2(in[0], 0);
		dup2(out[1], 1);
		execvp("ssh", (char *const *)argv);
		fprintf(stderr, "faultline: cannot run ssh: %m\n");
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	r->fd_w = in[1];
	r->fd_r = out[0];
	r->ssh_pid = pid;
	fcntl(r->fd_w, F_SETFL, O_NONBLOCK);
	fcntl(r->fd_r, F_SETFL, O_NONBLOCK);
	return 0;
}

static int connect_tls(struct fl_remote *r, const struct fl_remote_opts *o, char **ret_reason)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *ai;
	uint64_t deadline = fl_now_ns() + r->timeout_ns;
	_cleanup_free_ char *why = NULL;
	char port[8], e[256];
	unsigned char ip[16];
	bool is_ip;
	int fd, k, old = -1;

	if (!o->port)
		return fail(r, ret_reason, -EINVAL, "the agent's port is needed");
	r->ctx = fl_tls_client_ctx(o->ca, o->cert, o->key, &why);
	if (!r->ctx)
		return fail(r, ret_reason, -EINVAL, "%s", why);
	snprintf(port, sizeof(port), "%u", o->port);
	if (o->netns && (k = fl_netns_enter(o->netns, &old)) < 0)
		return fail(r, ret_reason, k, "cannot enter network namespace '%s': %s", o->netns,
			    strerror(-k));
	k = getaddrinfo(o->address, port, &hints, &ai);
	if (k != 0) {
		if (o->netns)
			fl_netns_leave(old);
		return fail(r, ret_reason, -EHOSTUNREACH, "cannot resolve: %s", gai_strerror(k));
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)) {
		k = -errno;
		freeaddrinfo(ai);
		if (fd >= 0)
			close(fd);
		if (o->netns)
			fl_netns_leave(old);
		return fail(r, ret_reason, k, "connect: %s", strerror(-k));
	}
	freeaddrinfo(ai);
	if (o->netns)
		fl_netns_leave(old);
	r->fd_r = r->fd_w = fd;
	k = wait_fd(fd, POLLOUT, deadline);
	if (k == 0) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		k = -soerr;
	}
	if (k < 0)
		return fail(r, ret_reason, k, "connect: %s", strerror(-k));
	r->ssl = SSL_new(r->ctx);
	if (!r->ssl || SSL_set_fd(r->ssl, fd) != 1)
		return fail(r, ret_reason, -ENOMEM, "TLS: %s", fl_tls_error(e, sizeof(e)));
	SSL_set_mode(r->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* the agent's certificate must name the address we dialled */
	is_ip = inet_pton(AF_INET, o->address, ip) == 1 || inet_pton(AF_INET6, o->address, ip) == 1;
	if (is_ip)
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(r->ssl), o->address);
	else {
		SSL_set_tlsext_host_name(r->ssl, o->address);
		SSL_set1_host(r->ssl, o->address);
	}
	for (;;) {
		ERR_clear_error();
		k = SSL_connect(r->ssl);
		if (k == 1)
			break;
		k = ssl_wait(r, k, deadline);
		if (k == -EPROTO || k == -ECONNRESET) {
			long v = SSL_get_verify_result(r->ssl);
			if (v != X509_V_OK)
				return fail(r, ret_reason, -EPERM,
					    "the agent's certificate is refused: %s",
					    X509_verify_cert_error_string(v));
			fl_tls_error(e, sizeof(e));
			return fail(r, ret_reason, -EPERM, "TLS handshake failed: %s",
				    e[0] ? e : "the agent hung up");
		}
		if (k < 0)
			return fail(r, ret_reason, k, "TLS handshake: %s", strerror(-k));
	}
	return 0;
}

static void remote_free(struct fl_remote *r)
{
	if (r->ssl) {
		SSL_shutdown(r->ssl);
		SSL_free(r->ssl);
	}
	SSL_CTX_free(r->ctx);
	if (r->fd_w >= 0 && r->fd_w != r->fd_r)
		close(r->fd_w);
	if (r->fd_r >= 0)
		close(r->fd_r);
	if (r->ssh_pid > 0) {
		/* stdin closed: the agent ends its session and ssh exits; do not wait forever */
		for (int i = 0; i < 50; i++) {
			if (waitpid(r->ssh_pid, NULL, WNOHANG) != 0)
				goto reaped;
			usleep(20000);
		}
		kill(r->ssh_pid, SIGTERM);
		waitpid(r->ssh_pid, NULL, 0);
	}
reaped:
	fl_proto_rx_clear(&r->rx);
	pthread_mutex_destroy(&r->lock);
	pthread_mutex_destroy(&r->hb_lock);
	pthread_cond_destroy(&r->hb_cond);
	free(r);
}

int fl_remote_connect(const struct fl_remote_opts *o, struct fl_remote **ret, char **ret_reason)
{
	struct fl_remote *r;
	json_t *reply = NULL;
	int k;

	*ret = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	*r = (struct fl_remote){
		.transport = o->transport,
		.fd_r = -1,
		.fd_w = -1,
		.timeout_ns = o->timeout_ns ? o->timeout_ns : DEFAULT_TIMEOUT_NS,
		.lease_ns = o->lease_ns,
	};
	pthread_mutex_init(&r->lock, NULL);
	pthread_mutex_init(&r->hb_lock, NULL);
	{
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&r->hb_cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	if (!o->address || !*o->address) {
		k = -EINVAL;
		snprintf(r->label, sizeof(r->label), "?");
		fail(r, ret_reason, k, "no address");
		goto err;
	}
	if (o->port)
		snprintf(r->label, sizeof(r->label), "%s:%u", o->address, o->port);
	else
		snprintf(r->label, sizeof(r->label), "%s", o->address);
	k = o->transport == FL_TRANSPORT_SSH ? connect_ssh(r, o, ret_reason)
					     : connect_tls(r, o, ret_reason);
	if (k < 0)
		goto err;
	{
		json_t *hello = json_pack("{s:i}", "version", FL_REMOTE_PROTO);
		k = fl_remote_call(r, "hello", hello, &reply, ret_reason);
		json_decref(hello);
		json_decref(reply);
	}
	if (k < 0)
		goto err;
	if (r->lease_ns)
		heartbeat_need(r, r->lease_ns);
	*ret = r;
	return 0;
err:
	remote_free(r);
	return k;
}

void fl_remote_close(struct fl_remote *r)
{
	if (!r)
		return;
	if (r->hb_running) {
		pthread_mutex_lock(&r->hb_lock);
		r->hb_stop = true;
		pthread_cond_signal(&r->hb_cond);
		pthread_mutex_unlock(&r->hb_lock);
		pthread_join(r->hb, NULL);
	}
	remote_free(r);
}

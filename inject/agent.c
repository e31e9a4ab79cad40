// SPDX-License-Identifier: GPL-2.0-only
/*
 * `faultline agent`: sessions (stdio or mutual TLS) speaking protocol v1, one worker process
 * per applied fault, leases renewed by every message of the fault's session, the stop file.
 * Single-threaded: one event loop, non-blocking sockets, workers reaped through pidfds.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <signal.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "cmd/cmd.h"
#include "inject/agent.h"
#include "inject/journal.h"
#include "inject/log.h"
#include "inject/loop.h"
#include "inject/netutil.h"
#include "inject/proto.h"
#include "inject/remote.h"
#include "inject/tls.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"

#define TICK_NS (100 * NSEC_PER_MSEC)
#define MAX_FAULTS 1024
#define PEER_MAX 160

struct agent;
struct session;

enum fault_state { F_APPLYING, F_ACTIVE, F_REVERTING };

struct fault {
	struct agent *a;
	char id[16];
	char run_id[16];
	char peer[PEER_MAX];
	struct session *s; /* NULL once its session is gone: the lease runs out */
	char *kind, *name, *backend;
	enum fault_state state;
	uint64_t lease_ns, deadline, applied_at;
	pid_t pid;
	struct fl_source *pid_src;
	int notify_fd;
	struct fl_source *notify_src;
	char out[4096]; /* what the worker wrote: "applied RUN\n", then its result line */
	size_t out_len;
	json_int_t apply_id, revert_id; /* replies owed to s (-1: none) */
	struct session *revert_s;
	const char *why_reverted;
	struct fault *next;
};

struct session {
	struct agent *a;
	unsigned no;
	int fd_in, fd_out;
	SSL *ssl;
	bool handshaken, hello, closing, eof;
	bool want_write; /* TLS: the last operation asked for POLLOUT */
	struct fl_source *src, *hs_timer;
	struct fl_proto_rx rx;
	char *tx;
	size_t tx_len, tx_off;
	char addr[80];
	char peer[PEER_MAX];
	uint64_t last_seen;
	struct session *next;
};

struct agent {
	const struct fl_agent_opts *o;
	struct fl_loop *loop;
	SSL_CTX *ctx;
	int lfd;
	struct session *sessions;
	unsigned n_sessions, next_no;
	struct fault *faults;
	unsigned n_faults;
	char *stop_file;
	bool stop_seen, terminating, stdio_done;
	char host[256];
	pid_t pid;
	sigset_t oldmask;
};

static void session_close(struct session *s, const char *why);
static void fault_free(struct fault *f);

/* syslog-style: "2026-11-21T10:00:00Z host faultline-agent[pid]: peer=NAME message" */
static void alog(struct agent *a, const char *peer, const char *fmt, ...) _printf_(3, 4);
static void alog(struct agent *a, const char *peer, const char *fmt, ...)
{
	char ts[32], msg[1024];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s %s faultline-agent[%d]: peer=%s %s\n", ts, a->host, (int)a->pid,
		peer ? peer : "-", msg);
	fflush(stderr);
}

/* --- sending ------------------------------------------------------------------------------ */

static int session_flush(struct session *s);

static void session_send(struct session *s, json_t *msg)
{
	_cleanup_free_ char *frame = NULL;
	size_t len;
	char *nb;

	if (!s || s->closing || !msg) {
		json_decref(msg);
		return;
	}
	if (fl_proto_encode(msg, 0, &frame, &len) < 0) {
		json_decref(msg);
		msg = fl_proto_reply_err(json_integer_value(json_object_get(msg, "id")),
					 FL_EXIT_INTERNAL, "the reply does not fit in a message");
		if (!msg || fl_proto_encode(msg, 0, &frame, &len) < 0) {
			json_decref(msg);
			return;
		}
	}
	json_decref(msg);
	nb = realloc(s->tx, s->tx_len + len);
	if (!nb)
		return;
	s->tx = nb;
	memcpy(s->tx + s->tx_len, frame, len);
	s->tx_len += len;
	session_flush(s);
}

static void session_events(struct session *s)
{
	uint32_t ev = EPOLLIN;

	if (!s->ssl || !s->src)
		return;
	if (s->want_write || s->tx_off < s->tx_len)
		ev |= EPOLLOUT;
	fl_loop_io_set_events(s->src, ev);
}

/* Write what is queued: 0, -EAGAIN (the rest when the socket drains), or an error. */
static int session_flush(struct session *s)
{
	while (s->tx_off < s->tx_len) {
		size_t n = s->tx_len - s->tx_off;
		if (s->ssl) {
			size_t w = 0;
			if (!s->handshaken)
				return -EAGAIN;
			ERR_clear_error();
			if (SSL_write_ex(s->ssl, s->tx + s->tx_off, n, &w) <= 0) {
				int e = SSL_get_error(s->ssl, 0);
				if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
					s->want_write = e == SSL_ERROR_WANT_WRITE;
					session_events(s);
					return -EAGAIN;
				}
				return -EPIPE;
			}
			s->tx_off += w;
		} else {
			ssize_t w = write(s->fd_out, s->tx + s->tx_off, n);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -errno;
			s->tx_off += (size_t)w;
		}
	}
	s->tx_off = s->tx_len = 0;
	s->want_write = false;
	session_events(s);
	return 0;
}

/* --- faults -------------------------------------------------------------------------------- */

static struct fault *fault_find(struct agent *a, const char *id)
{
	for (struct fault *f = a->faults; id && f; f = f->next)
		if (strcmp(f->id, id) == 0)
			return f;
	return NULL;
}

static void fault_renew(struct session *s)
{
	uint64_t now = fl_now_ns();

	s->last_seen = now;
	for (struct fault *f = s->a->faults; f; f = f->next)
		if (f->s == s)
			f->deadline = now + f->lease_ns;
}

static void fault_revert(struct fault *f, const char *why)
{
	if (f->state == F_REVERTING || f->pid <= 0)
		return;
	f->state = F_REVERTING;
	f->why_reverted = why;
	alog(f->a, f->peer, "fault %s (%s '%s'): reverting: %s", f->id, f->kind, f->name, why);
	/* the worker's run loop reverts on SIGTERM, on its existing path */
	kill(f->pid, SIGTERM);
}

static json_t *fault_json(struct fault *f, struct session *viewer)
{
	uint64_t now = fl_now_ns();
	static const char *const states[] = { "applying", "active", "reverting" };

	return json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s, s:s, s:b, s:I, s:I, s:i}", "fault_id",
			 f->id, "run_id", f->run_id, "kind", f->kind, "backend", f->backend, "name",
			 f->name, "state", states[f->state], "peer", f->peer, "mine",
			 viewer && f->s == viewer, "lease_ms",
			 (json_int_t)(f->lease_ns / NSEC_PER_MSEC), "expires_in_ms",
			 (json_int_t)(f->deadline > now ? (f->deadline - now) / NSEC_PER_MSEC : 0),
			 "pid", (int)f->pid);
}

/* The backend the worker's run chose (preflight may fall back from the preferred one), from
 * its journal record STATE/runs/RUN/fault-*.json; NULL when unreadable. */
static char *journal_backend(const char *run_id)
{
	_cleanup_free_ char *dir = NULL;
	struct dirent *de;
	char *backend = NULL;
	DIR *d;

	if (asprintf(&dir, "%s/runs/%s", fl_state_dir(), run_id) < 0)
		return NULL;
	d = opendir(dir);
	while (d && !backend && (de = readdir(d))) {
		_cleanup_free_ char *path = NULL;
		json_t *rec;
		if (strncmp(de->d_name, "fault-", 6) != 0 ||
		    asprintf(&path, "%s/%s", dir, de->d_name) < 0)
			continue;
		rec = json_load_file(path, 0, NULL);
		if (json_string_value(json_object_get(rec, "backend")))
			backend = strdup(json_string_value(json_object_get(rec, "backend")));
		json_decref(rec);
	}
	if (d)
		closedir(d);
	return backend;
}

/* The worker's notify pipe: "applied RUN_ID\n" or "!reason\n", later its result line. */
static void fault_read_notify(struct fault *f)
{
	for (;;) {
		ssize_t n;
		if (f->out_len >= sizeof(f->out) - 1)
			break;
		n = read(f->notify_fd, f->out + f->out_len, sizeof(f->out) - 1 - f->out_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		f->out_len += (size_t)n;
	}
	f->out[f->out_len] = '\0';
	if (f->state != F_APPLYING && f->apply_id < 0)
		return;
	if (f->apply_id >= 0 && strchr(f->out, '\n')) {
		if (strncmp(f->out, "applied ", 8) == 0) {
			snprintf(f->run_id, sizeof(f->run_id), "%.*s",
				 (int)strcspn(f->out + 8, "\n"), f->out + 8);
			if (f->state == F_APPLYING)
				f->state = F_ACTIVE;
			f->applied_at = fl_now_ns();
			free(f->backend);
			f->backend = journal_backend(f->run_id);
			alog(f->a, f->peer,
			     "op=apply fault %s (%s '%s') applied by %s, run %s, lease %llums",
			     f->id, f->kind, f->name, f->backend ? f->backend : "?", f->run_id,
			     (unsigned long long)(f->lease_ns / NSEC_PER_MSEC));
			session_send(f->s, fl_proto_reply_ok(f->apply_id,
							     json_pack("{s:s, s:s, s:s?, s:b}",
								       "fault_id", f->id, "run_id",
								       f->run_id, "backend",
								       f->backend, "injected", 1)));
		} else {
			const char *why = f->out[0] == '!' ? f->out + 1 : "the fault worker failed";
			int len = (int)strcspn(why, "\n");
			alog(f->a, f->peer, "op=apply fault %s (%s) failed: %.*s", f->id, f->kind,
			     len, why);
			session_send(f->s, fl_proto_reply_err(f->apply_id, FL_EXIT_HOST, "%.*s",
							      len, why));
		}
		f->apply_id = -1;
	}
}

static int on_notify(struct fl_source *src, int fd, uint32_t revents, void *ud)
{
	struct fault *f = ud;

	fault_read_notify(f);
	if (revents & (EPOLLHUP | EPOLLERR)) {
		fl_loop_remove(f->notify_src);
		f->notify_src = NULL;
	}
	return 0;
}

static void agent_maybe_done(struct agent *a)
{
	if ((a->terminating || a->stdio_done) && !a->faults)
		fl_loop_exit(a->loop, 0);
}

static int on_worker_exit(struct fl_source *src, int fd, uint32_t revents, void *ud)
{
	struct fault *f = ud;
	struct agent *a = f->a;
	const char *result, *why;
	json_t *observed = NULL;
	int st = 0, code;

	if (waitpid(f->pid, &st, WNOHANG) == 0)
		return 0;
	fault_read_notify(f);
	code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (f->apply_id >= 0) {
		/* it died before saying anything */
		session_send(f->s, fl_proto_reply_err(f->apply_id, FL_EXIT_INTERNAL,
						      "the fault worker ended (status %d) before "
						      "applying",
						      code));
		f->apply_id = -1;
	}
	result = strchr(f->out, '\n');
	if (result && result[1])
		observed = json_loads(result + 1, 0, NULL);
	if (f->why_reverted)
		why = f->why_reverted;
	else if (WIFSIGNALED(st))
		why = "its worker was killed";
	else if (code == FL_EXIT_OK)
		why = "its duration is over";
	else if (code == FL_EXIT_ABORTED)
		why = "its worker was stopped from outside (faultline recover?)";
	else
		why = "its worker failed";
	alog(a, f->peer, "fault %s (%s '%s') ended: %s, worker status %d", f->id, f->kind, f->name,
	     why, code);
	if (WIFSIGNALED(st) && f->run_id[0]) {
		/* killed before it could revert: undo what its journal says, now */
		json_t *report = NULL;
		int r = fl_journal_recover(f->run_id, 0, &report);
		alog(a, f->peer, "fault %s: worker killed by signal %d, recovered run %s: %s",
		     f->id, WTERMSIG(st), f->run_id, r < 0 ? strerror(-r) : "reverted");
		json_decref(report);
	}
	if (f->revert_id >= 0)
		session_send(
			f->revert_s,
			fl_proto_reply_ok(
				f->revert_id,
				json_pack("{s:s, s:b, s:o, s:i}", "fault_id", f->id, "reverted",
					  code == FL_EXIT_OK || code == FL_EXIT_ABORTED, "observed",
					  observed ? observed : json_null(), "status", code)));
	else
		json_decref(observed);
	fault_free(f);
	agent_maybe_done(a);
	return 0;
}

static void fault_free(struct fault *f)
{
	struct agent *a = f->a;

	for (struct fault **pp = &a->faults; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	a->n_faults--;
	fl_loop_remove(f->pid_src);
	fl_loop_remove(f->notify_src);
	if (f->notify_fd >= 0)
		close(f->notify_fd);
	free(f->kind);
	free(f->name);
	free(f->backend);
	free(f);
}

char *fl_agent_errors_text(const struct fl_errors *errs)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);

	if (!m)
		return NULL;
	for (size_t i = 0; i < errs->n; i++)
		fprintf(m, "%s%s", i ? "; " : "", errs->v[i].text);
	fclose(m);
	return text;
}

static void drop_params_kept(char ***keep)
{
	fl_strv_free(*keep);
}

int fl_agent_params(json_t *fault, struct fl_params *p, char ***keep, char **ret_reason)
{
	/* depth-first over nested objects, building "a.b.c" keys */
	struct frame {
		json_t *obj;
		void *it;
		char prefix[128];
	} st[4];
	int depth = 0;

	if (!json_is_object(fault))
		return fl_set_reason(ret_reason, -EINVAL,
				     "\"fault\" must be an object of parameters");
	st[0] = (struct frame){ .obj = fault, .it = json_object_iter(fault) };
	while (depth >= 0) {
		struct frame *fr = &st[depth];
		char key[256], val[64], *where;
		const char *k, *text = val;
		json_t *v;

		if (!fr->it) {
			depth--;
			continue;
		}
		k = json_object_iter_key(fr->it);
		v = json_object_iter_value(fr->it);
		fr->it = json_object_iter_next(fr->obj, fr->it);
		snprintf(key, sizeof(key), "%s%s", fr->prefix, k);
		if (json_is_object(v)) {
			if (depth + 1 >= (int)ARRAY_SIZE(st))
				return fl_set_reason(ret_reason, -EINVAL,
						     "fault.%.80s: nested too deeply", key);
			st[depth + 1] = (struct frame){ .obj = v, .it = json_object_iter(v) };
			if (strlen(key) + 2 > sizeof(st[depth + 1].prefix))
				return fl_set_reason(ret_reason, -EINVAL,
						     "fault.%.80s: key too long", key);
			snprintf(st[depth + 1].prefix, sizeof(st[depth + 1].prefix), "%.126s.",
				 key);
			depth++;
			continue;
		}
		if (json_is_string(v))
			text = json_string_value(v);
		else if (json_is_integer(v))
			snprintf(val, sizeof(val), "%lld", (long long)json_integer_value(v));
		else if (json_is_real(v))
			snprintf(val, sizeof(val), "%.17g", json_real_value(v));
		else if (json_is_boolean(v))
			text = json_is_true(v) ? "true" : "false";
		else
			return fl_set_reason(ret_reason, -EINVAL,
					     "fault.%.80s: must be a string, number or boolean",
					     key);
		/* errors name the key as fault.KEY; the text must outlive the validation */
		if (asprintf(&where, "fault.%s", key) < 0 || fl_strv_push(keep, where) < 0)
			return -ENOMEM;
		free(where);
		if (fl_params_add(p, key, text,
				  &(struct fl_where){ .flag = (*keep)[fl_strv_len(*keep) - 1] }) <
		    0)
			return -ENOMEM;
	}
	return 0;
}

/* The worker: one fault run to its end; SIGTERM (a revert, a lease, the agent's death) ends it
 * early through the runner's own revert path. */
static _Noreturn void worker_main(struct fl_scenario *s, int notify_fd, pid_t agent)
{
	struct fl_run_opts ro = { .kind = "agent", .detached = true, .notify_fd = 3 };
	struct fl_run_result res;
	int null = open("/dev/null", O_RDWR);

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != agent)
		_exit(FL_EXIT_ABORTED);
	if (dup2(notify_fd, 3) < 0)
		_exit(FL_EXIT_INTERNAL);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
	}
	close_range(4, ~0U, 0);
	signal(SIGPIPE, SIG_DFL);
	fl_run(s, &ro, &res);
	if (res.result) {
		_cleanup_free_ char *line = json_dumps(
			json_array_get(json_object_get(res.result, "faults"), 0), JSON_COMPACT);
		if (line && dprintf(3, "%s\n", line) < 0)
			log_debug("cannot report the result: %m");
	}
	_exit(res.exit_code);
}

static void op_apply(struct session *s, json_int_t id, json_t *msg)
{
	struct agent *a = s->a;
	_cleanup_(drop_params_kept) char **keep = NULL;
	_cleanup_free_ char *why = NULL;
	struct fl_params p = { 0 };
	struct fl_errors errs = { 0 };
	struct fl_scenario *sc = NULL;
	json_t *lease = json_object_get(msg, "lease_ms");
	json_int_t lease_ms = FL_AGENT_LEASE_DEFAULT_MS;
	struct fault *f = NULL;
	int pfd[2] = { -1, -1 };
	pid_t pid;
	int r;

	if (a->stop_seen || a->terminating) {
		session_send(s, fl_proto_reply_err(id, FL_EXIT_ABORTED,
						   "the agent is stopping every fault (stop file "
						   "%s): no new faults",
						   a->stop_file));
		return;
	}
	if (a->n_faults >= MAX_FAULTS) {
		session_send(s,
			     fl_proto_reply_err(id, FL_EXIT_HOST,
						"this agent already holds %d faults", MAX_FAULTS));
		return;
	}
	if (lease) {
		if (!json_is_integer(lease) || json_integer_value(lease) < FL_AGENT_LEASE_MIN_MS ||
		    json_integer_value(lease) > FL_AGENT_LEASE_MAX_MS) {
			session_send(s, fl_proto_reply_err(id, FL_EXIT_USAGE,
							   "lease_ms: must be an integer from %d "
							   "to %d",
							   FL_AGENT_LEASE_MIN_MS,
							   FL_AGENT_LEASE_MAX_MS));
			return;
		}
		lease_ms = json_integer_value(lease);
	}
	r = fl_agent_params(json_object_get(msg, "fault"), &p, &keep, &why);
	if (r < 0) {
		session_send(s,
			     fl_proto_reply_err(id, FL_EXIT_USAGE, "%s", why ? why : strerror(-r)));
		goto out;
	}
	sc = calloc(1, sizeof(*sc));
	if (!sc || !(sc->faults = calloc(1, sizeof(*sc->faults))) ||
	    !(sc->name = strdup("agent")) || !(sc->dir = strdup("."))) {
		session_send(s, fl_proto_reply_err(id, FL_EXIT_INTERNAL, "out of memory"));
		goto out;
	}
	sc->version = 1;
	p.where.flag = "fault";
	if (fl_fault_from_params(&p, NULL, &sc->faults[0], &errs) < 0) {
		_cleanup_free_ char *text = fl_agent_errors_text(&errs);
		fl_fault_clear(&sc->faults[0]);
		alog(a, s->peer, "op=apply refused: %s", text ? text : "invalid fault");
		session_send(s, fl_proto_reply_err(id, FL_EXIT_USAGE, "%s",
						   text ? text : "invalid fault"));
		goto out;
	}
	sc->n_faults = 1;
	f = calloc(1, sizeof(*f));
	if (!f || pipe2(pfd, O_CLOEXEC) < 0) {
		session_send(s, fl_proto_reply_err(id, FL_EXIT_INTERNAL,
						   "cannot start a worker: %s", strerror(errno)));
		goto out;
	}
	*f = (struct fault){
		.a = a,
		.s = s,
		.state = F_APPLYING,
		.lease_ns = (uint64_t)lease_ms * NSEC_PER_MSEC,
		.notify_fd = -1,
		.apply_id = id,
		.revert_id = -1,
		.kind = strdup(sc->faults[0].backend ? sc->faults[0].backend->kind : "?"),
		.name = strdup(sc->faults[0].name ? sc->faults[0].name : "?"),
	};
	if (fl_new_id(f->id, sizeof(f->id)) < 0 || !f->kind || !f->name) {
		session_send(s, fl_proto_reply_err(id, FL_EXIT_INTERNAL, "out of memory"));
		goto out;
	}
	snprintf(f->peer, sizeof(f->peer), "%s", s->peer);
	f->deadline = fl_now_ns() + f->lease_ns;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		session_send(s,
			     fl_proto_reply_err(id, FL_EXIT_INTERNAL, "fork: %s", strerror(errno)));
		goto out;
	}
	if (pid == 0) {
		close(pfd[0]);
		worker_main(sc, pfd[1], a->pid);
	}
	close(TAKE_FD(pfd[1]));
	f->pid = pid;
	f->notify_fd = TAKE_FD(pfd[0]);
	fcntl(f->notify_fd, F_SETFL, O_NONBLOCK);
	r = fl_loop_add_io(a->loop, f->notify_fd, EPOLLIN, false, on_notify, f, &f->notify_src);
	if (r >= 0)
		r = fl_loop_add_io(a->loop, pidfd_open(pid, 0), EPOLLIN, true, on_worker_exit, f,
				   &f->pid_src);
	f->next = a->faults;
	a->faults = f;
	a->n_faults++;
	alog(a, s->peer, "op=apply fault %s (%s '%s'): worker %d", f->id, f->kind, f->name,
	     (int)pid);
	if (r < 0) {
		/* cannot watch it: end it now rather than lose track of it */
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		session_send(s, fl_proto_reply_err(id, FL_EXIT_INTERNAL,
						   "cannot watch the worker: %s", strerror(-r)));
		fault_free(f);
	}
	f = NULL;
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	if (f) {
		free(f->kind);
		free(f->name);
		free(f);
	}
	fl_params_clear(&p);
	fl_errors_clear(&errs);
	fl_scenario_free(sc);
}

static void op_revert(struct session *s, json_int_t id, json_t *msg)
{
	const char *fid = json_string_value(json_object_get(msg, "fault_id"));
	struct fault *f = fault_find(s->a, fid);

	if (!fid) {
		session_send(s,
			     fl_proto_reply_err(id, FL_EXIT_USAGE, "fault_id: a string is needed"));
		return;
	}
	if (!f) {
		session_send(s,
			     fl_proto_reply_err(id, FL_EXIT_USAGE,
						"fault_id: no fault '%.40s' on this agent (ended "
						"already?)",
						fid));
		return;
	}
	if (f->revert_id >= 0) {
		session_send(s,
			     fl_proto_reply_err(id, FL_EXIT_USAGE,
						"fault_id: '%s' is being reverted already", f->id));
		return;
	}
	alog(s->a, s->peer, "op=revert fault %s", f->id);
	f->revert_id = id;
	f->revert_s = s;
	fault_revert(f, "reverted by the controller");
}

static void op_status(struct session *s, json_int_t id)
{
	json_t *v = json_array();

	for (struct fault *f = s->a->faults; f; f = f->next)
		json_array_append_new(v, fault_json(f, s));
	alog(s->a, s->peer, "op=status: %u fault(s)", s->a->n_faults);
	session_send(s, fl_proto_reply_ok(id, json_pack("{s:o, s:s, s:b}", "faults", v, "host",
							s->a->host, "stopping", s->a->stop_seen)));
}

static void op_renew(struct session *s, json_int_t id, json_t *msg)
{
	json_t *lease = json_object_get(msg, "lease_ms");
	int n = 0;

	if (lease &&
	    (!json_is_integer(lease) || json_integer_value(lease) < FL_AGENT_LEASE_MIN_MS ||
	     json_integer_value(lease) > FL_AGENT_LEASE_MAX_MS)) {
		session_send(s, fl_proto_reply_err(id, FL_EXIT_USAGE,
						   "lease_ms: must be an integer from %d to %d",
						   FL_AGENT_LEASE_MIN_MS, FL_AGENT_LEASE_MAX_MS));
		return;
	}
	for (struct fault *f = s->a->faults; f; f = f->next) {
		if (f->s != s)
			continue;
		if (lease)
			f->lease_ns = (uint64_t)json_integer_value(lease) * NSEC_PER_MSEC;
		f->deadline = fl_now_ns() + f->lease_ns;
		n++;
	}
	alog(s->a, s->peer, "op=renew: %d fault(s)%s", n, lease ? ", new lease" : "");
	session_send(s, fl_proto_reply_ok(id, json_pack("{s:i}", "faults", n)));
}

static void op_hello(struct session *s, json_int_t id, json_t *msg)
{
	json_t *v = json_object_get(msg, "version");

	if (!json_is_integer(v) || json_integer_value(v) != FL_REMOTE_PROTO) {
		alog(s->a, s->peer, "op=hello refused: protocol version %s",
		     json_is_integer(v) ? "differs" : "missing");
		session_send(s, fl_proto_reply_err(id, FL_EXIT_USAGE,
						   "version: this agent speaks protocol version %d "
						   "(faultline %s), the controller %lld: use the "
						   "same faultline version on both sides",
						   FL_REMOTE_PROTO, FL_VERSION,
						   (long long)json_integer_value(v)));
		return;
	}
	s->hello = true;
	alog(s->a, s->peer, "op=hello from %s", s->addr);
	session_send(s, fl_proto_reply_ok(id, json_pack("{s:i, s:s, s:s, s:s}", "version",
							FL_REMOTE_PROTO, "agent", FL_VERSION,
							"host", s->a->host, "peer", s->peer)));
}

/* --- probes: each in a child process, so a slow target never stalls the loop ---------------- */

struct probe_job {
	struct agent *a;
	struct session *s; /* NULL once the session is gone */
	json_int_t id;
	pid_t pid;
	int fd;
	struct fl_source *src;
	char buf[2048];
	size_t len;
	struct probe_job *next;
};

static struct probe_job *probe_jobs;

static void probe_job_free(struct probe_job *j)
{
	for (struct probe_job **pp = &probe_jobs; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	fl_loop_remove(j->src);
	free(j);
}

static int on_probe_done(struct fl_source *src, int fd, uint32_t revents, void *ud)
{
	struct probe_job *j = ud;
	json_t *res;
	ssize_t n;

	n = read(fd, j->buf + j->len, sizeof(j->buf) - 1 - j->len);
	if (n > 0 && j->len + (size_t)n < sizeof(j->buf) - 1) {
		j->len += (size_t)n;
		return 0;
	}
	if (n < 0 && errno == EINTR)
		return 0;
	if (n > 0)
		j->len += (size_t)n;
	j->buf[j->len] = '\0';
	waitpid(j->pid, NULL, 0);
	res = json_loads(j->buf, 0, NULL);
	if (res && json_object_get(res, "error_exit")) {
		int code = (int)json_integer_value(json_object_get(res, "error_exit"));
		session_send(j->s,
			     fl_proto_reply_err(j->id, code, "%s",
						json_string_value(json_object_get(res, "reason"))));
		json_decref(res);
	} else if (res) {
		session_send(j->s, fl_proto_reply_ok(j->id, res));
	} else {
		session_send(j->s, fl_proto_reply_err(j->id, FL_EXIT_INTERNAL,
						      "the probe ended without a result"));
	}
	probe_job_free(j);
	return 0;
}

static void op_probe(struct session *s, json_int_t id, json_t *msg)
{
	json_t *probe = json_object_get(msg, "probe"), *to = json_object_get(msg, "timeout_ms");
	struct probe_job *j;
	int pfd[2];
	pid_t pid;

	if (to && (!json_is_integer(to) || json_integer_value(to) < 1 ||
		   json_integer_value(to) > (json_int_t)(FL_TIMEOUT_MAX / NSEC_PER_MSEC))) {
		session_send(s, fl_proto_reply_err(id, FL_EXIT_USAGE,
						   "timeout_ms: must be an integer from 1 to %llu",
						   FL_TIMEOUT_MAX / NSEC_PER_MSEC));
		return;
	}
	j = calloc(1, sizeof(*j));
	if (!j || pipe2(pfd, O_CLOEXEC) < 0) {
		free(j);
		session_send(s, fl_proto_reply_err(id, FL_EXIT_INTERNAL, "cannot probe: %m"));
		return;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		_cleanup_free_ char *why = NULL;
		json_t *res = NULL;
		char *text;
		int r;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(pfd[0]);
		r = fl_agent_probe_once(
			probe, to ? (uint64_t)json_integer_value(to) * NSEC_PER_MSEC : NSEC_PER_SEC,
			&res, &why);
		if (r < 0)
			res = json_pack("{s:i, s:s}", "error_exit",
					r == -EINVAL ? FL_EXIT_USAGE : FL_EXIT_INTERNAL, "reason",
					why ? why : strerror(-r));
		text = json_dumps(res, JSON_COMPACT);
		if (text && write(pfd[1], text, strlen(text)) < 0)
			_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	if (pid < 0) {
		close(pfd[0]);
		free(j);
		session_send(s, fl_proto_reply_err(id, FL_EXIT_INTERNAL, "fork: %m"));
		return;
	}
	*j = (struct probe_job){ .a = s->a, .s = s, .id = id, .pid = pid, .fd = pfd[0] };
	if (fl_loop_add_io(s->a->loop, pfd[0], EPOLLIN, true, on_probe_done, j, &j->src) < 0) {
		close(pfd[0]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		free(j);
		session_send(s, fl_proto_reply_err(id, FL_EXIT_INTERNAL, "cannot watch the probe"));
		return;
	}
	j->next = probe_jobs;
	probe_jobs = j;
	alog(s->a, s->peer, "op=probe started (worker %d)", (int)pid);
}

static void handle(struct session *s, json_t *msg)
{
	_cleanup_free_ char *why = NULL;
	json_int_t id;
	const char *op;

	fault_renew(s);
	if (fl_proto_check_request(msg, &id, &op, &why) < 0) {
		alog(s->a, s->peer, "request rejected: %s", why);
		session_send(s, fl_proto_reply_err(id, FL_EXIT_USAGE, "%s", why));
		return;
	}
	if (strcmp(op, "hello") == 0)
		return op_hello(s, id, msg);
	if (!s->hello) {
		session_send(s, fl_proto_reply_err(id, FL_EXIT_USAGE,
						   "say hello first (the version check)"));
		return;
	}
	if (strcmp(op, "apply") == 0)
		op_apply(s, id, msg);
	else if (strcmp(op, "revert") == 0)
		op_revert(s, id, msg);
	else if (strcmp(op, "status") == 0)
		op_status(s, id);
	else if (strcmp(op, "renew") == 0)
		op_renew(s, id, msg);
	else if (strcmp(op, "heartbeat") == 0) {
		/* every lease/3 per controller: logged with -v only */
		if (fl_log_level >= FL_LOG_DEBUG)
			alog(s->a, s->peer, "op=heartbeat");
		session_send(s, fl_proto_reply_ok(id, NULL));
	} else if (strcmp(op, "probe") == 0)
		op_probe(s, id, msg);
}

/* --- sessions ------------------------------------------------------------------------------ */

static void session_close(struct session *s, const char *why)
{
	struct agent *a = s->a;

	if (why)
		alog(a, s->peer[0] ? s->peer : NULL, "session %u from %s closed: %s", s->no,
		     s->addr, why);
	for (struct fault *f = a->faults; f; f = f->next) {
		if (f->s == s) {
			f->s = NULL; /* its lease runs out from the last message */
			f->apply_id = -1;
		}
		if (f->revert_s == s)
			f->revert_s = NULL, f->revert_id = -1;
	}
	for (struct probe_job *j = probe_jobs; j; j = j->next)
		if (j->s == s)
			j->s = NULL;
	for (struct session **pp = &a->sessions; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	a->n_sessions--;
	fl_loop_remove(s->src);
	fl_loop_remove(s->hs_timer);
	if (s->ssl) {
		if (s->handshaken)
			SSL_shutdown(s->ssl);
		SSL_free(s->ssl);
		close(s->fd_in);
	}
	fl_proto_rx_clear(&s->rx);
	free(s->tx);
	if (!a->ctx) {
		/* stdio: the controller is gone; what it applied reverts at lease end */
		a->stdio_done = true;
		agent_maybe_done(a);
	}
	free(s);
}

/* Every whole message in the receive buffer. false when the session was closed. */
static bool session_messages(struct session *s)
{
	for (;;) {
		_cleanup_free_ char *why = NULL;
		json_t *msg = NULL;
		int r = fl_proto_next(&s->rx, &msg, &why);

		if (r == 0)
			return true;
		if (r == -EBADMSG) {
			alog(s->a, s->peer, "message rejected: %s", why);
			session_send(s, fl_proto_reply_err(-1, FL_EXIT_USAGE, "%s", why));
			continue;
		}
		if (r < 0) {
			/* a bad length: no way to find the next message */
			session_send(s, fl_proto_reply_err(-1, FL_EXIT_USAGE, "%s", why));
			session_close(s, why ? why : "framing error");
			return false;
		}
		handle(s, msg);
		json_decref(msg);
	}
}

static bool session_handshake(struct session *s)
{
	char e[256];
	int r;

	ERR_clear_error();
	r = SSL_accept(s->ssl);
	if (r != 1) {
		int err = SSL_get_error(s->ssl, r);
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
			s->want_write = err == SSL_ERROR_WANT_WRITE;
			session_events(s);
			return false;
		}
		if (SSL_get_verify_result(s->ssl) != X509_V_OK)
			snprintf(e, sizeof(e), "client certificate refused: %s",
				 X509_verify_cert_error_string(SSL_get_verify_result(s->ssl)));
		else
			fl_tls_error(e, sizeof(e));
		alog(s->a, NULL, "session %u from %s: TLS handshake failed: %s", s->no, s->addr,
		     e[0] ? e : "the peer hung up");
		session_close(s, NULL);
		return false;
	}
	s->handshaken = true;
	s->want_write = false;
	fl_loop_remove(s->hs_timer);
	s->hs_timer = NULL;
	{
		char cn[128];
		fl_tls_peer_name(s->ssl, cn, sizeof(cn));
		snprintf(s->peer, sizeof(s->peer), "%s", cn);
	}
	if (s->a->o->allow && !fl_tls_peer_allowed(s->ssl, s->a->o->allow)) {
		alog(s->a, s->peer,
		     "session %u from %s refused: certificate '%s' is not in --allow", s->no,
		     s->addr, s->peer);
		session_close(s, NULL);
		return false;
	}
	alog(s->a, s->peer, "session %u from %s: TLS 1.3, certificate accepted", s->no, s->addr);
	s->last_seen = fl_now_ns();
	session_events(s);
	return true;
}

static int on_session(struct fl_source *src, int fd, uint32_t revents, void *ud)
{
	struct session *s = ud;
	char buf[16384];

	if (s->ssl && !s->handshaken && !session_handshake(s))
		return 0;
	if (session_flush(s) < 0 && s->tx_off < s->tx_len && s->ssl && !s->want_write &&
	    SSL_get_error(s->ssl, 0) != SSL_ERROR_WANT_READ) {
		session_close(s, "write failed");
		return 0;
	}
	for (int rounds = 0; rounds < 64; rounds++) {
		ssize_t n;
		int r;

		if (s->ssl) {
			size_t got = 0;
			ERR_clear_error();
			if (SSL_read_ex(s->ssl, buf, sizeof(buf), &got) <= 0) {
				int e = SSL_get_error(s->ssl, 0);
				if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
					s->want_write = e == SSL_ERROR_WANT_WRITE;
					session_events(s);
					return 0;
				}
				n = e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL ? 0 : -1;
			} else {
				n = (ssize_t)got;
			}
		} else {
			if (!(revents & (EPOLLIN | EPOLLHUP)) || rounds > 0)
				return 0; /* stdio: one read per readiness, it may block otherwise
					   */
			n = read(s->fd_in, buf, sizeof(buf));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				return 0;
		}
		if (n <= 0) {
			char why[300], e[256];
			if (n == 0 && fl_proto_pending(&s->rx))
				snprintf(why, sizeof(why),
					 "the peer hung up in the middle of a message (%zu bytes "
					 "of it received: truncated)",
					 fl_proto_pending(&s->rx));
			else if (n == 0)
				snprintf(why, sizeof(why), "the peer hung up");
			else if (s->ssl)
				snprintf(why, sizeof(why), "TLS: %s", fl_tls_error(e, sizeof(e)));
			else
				snprintf(why, sizeof(why), "read: %s", strerror(errno));
			session_close(s, why);
			return 0;
		}
		r = fl_proto_feed(&s->rx, buf, (size_t)n);
		if (r < 0 && r != -EMSGSIZE) {
			session_close(s, "out of memory");
			return 0;
		}
		if (!session_messages(s))
			return 0;
		if (r == -EMSGSIZE) {
			session_close(s, "the peer sends more than one message's worth at once");
			return 0;
		}
	}
	return 0;
}

static int on_handshake_timeout(struct fl_source *src, uint64_t now, void *ud)
{
	struct session *s = ud;

	s->hs_timer = NULL;
	fl_loop_remove(src);
	session_close(s, "no TLS handshake within 10s");
	return 0;
}

static struct session *session_new(struct agent *a, int fd_in, int fd_out, const char *addr)
{
	struct session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	*s = (struct session){ .a = a, .no = ++a->next_no, .fd_in = fd_in, .fd_out = fd_out };
	snprintf(s->addr, sizeof(s->addr), "%s", addr);
	s->last_seen = fl_now_ns();
	s->next = a->sessions;
	a->sessions = s;
	a->n_sessions++;
	return s;
}

static void sockaddr_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char host[64] = "?", port[8] = "?";

	getnameinfo((const struct sockaddr *)ss, sizeof(*ss), host, sizeof(host), port,
		    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(buf, len, ss->ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
}

static int on_accept(struct fl_source *src, int lfd, uint32_t revents, void *ud)
{
	struct agent *a = ud;

	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		char addr[80];
		struct session *s;
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return 0;
		sockaddr_text(&ss, addr, sizeof(addr));
		if (a->n_sessions >=
		    (a->o->max_sessions ? a->o->max_sessions : FL_AGENT_MAX_SESSIONS)) {
			alog(a, NULL, "connection from %s refused: %u sessions already", addr,
			     a->n_sessions);
			close(fd);
			continue;
		}
		/* a controller cut off for good must not hold a session slot forever: TCP
		 * keepalives find it gone within about 90 s (its faults' leases end sooner) */
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &(int){ 1 }, sizeof(int));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &(int){ 60 }, sizeof(int));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &(int){ 10 }, sizeof(int));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &(int){ 3 }, sizeof(int));
		setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &(int){ 90000 }, sizeof(int));
		s = session_new(a, fd, fd, addr);
		if (!s || !(s->ssl = SSL_new(a->ctx)) || SSL_set_fd(s->ssl, fd) != 1 ||
		    fl_loop_add_io(a->loop, fd, EPOLLIN, false, on_session, s, &s->src) < 0 ||
		    fl_loop_add_timer(a->loop, fl_now_ns() + FL_AGENT_HANDSHAKE_MS * NSEC_PER_MSEC,
				      on_handshake_timeout, s, &s->hs_timer) < 0) {
			if (s && !s->ssl)
				close(fd);
			if (s)
				session_close(s, "cannot set the session up");
			else
				close(fd);
			continue;
		}
		SSL_set_mode(s->ssl,
			     SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	}
}

/* --- the loop's housekeeping -------------------------------------------------------------- */

static int on_tick(struct fl_source *src, uint64_t now, void *ud)
{
	struct agent *a = ud;
	bool stop = access(a->stop_file, F_OK) == 0;

	if (stop && !a->stop_seen) {
		alog(a, NULL, "stop file %s appeared: reverting every fault, refusing new ones",
		     a->stop_file);
		for (struct fault *f = a->faults; f; f = f->next)
			fault_revert(f, "the stop file appeared");
	} else if (!stop && a->stop_seen) {
		alog(a, NULL, "stop file %s removed: accepting faults again", a->stop_file);
	}
	a->stop_seen = stop;
	for (struct fault *f = a->faults; f; f = f->next) {
		if (f->state == F_REVERTING || now < f->deadline)
			continue;
		fault_revert(f, f->s ? "lease expired: no message from the controller within the "
				       "lease"
				     : "lease expired: the controller's session is gone");
	}
	fl_loop_timer_set(src, now + TICK_NS);
	return 0;
}

static int on_signal(struct fl_source *src, int fd, uint32_t revents, void *ud)
{
	struct agent *a = ud;
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return 0;
	if (!a->terminating)
		alog(a, NULL, "signal %d: reverting every fault, then exiting", (int)si.ssi_signo);
	a->terminating = true;
	for (struct fault *f = a->faults; f; f = f->next)
		fault_revert(f, "the agent is stopping");
	if (a->lfd >= 0) {
		/* no new sessions while winding down */
		shutdown(a->lfd, SHUT_RDWR);
	}
	agent_maybe_done(a);
	return 0;
}

static int listen_on(const char *spec, int *ret_fd, char **ret_reason)
{
	_cleanup_free_ char *host = NULL;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV },
			*ai = NULL;
	const char *colon = strrchr(spec, ':');
	const char *port;
	int fd, r, one = 1;

	if (!colon || colon == spec || !colon[1])
		return fl_set_reason(ret_reason, -EINVAL,
				     "--listen: give ADDR:PORT (e.g. 0.0.0.0:7411 or [::1]:7411), "
				     "got '%s'",
				     spec);
	host = spec[0] == '[' ? strndup(spec + 1, (size_t)(colon - spec - 2))
			      : strndup(spec, (size_t)(colon - spec));
	port = colon + 1;
	r = getaddrinfo(host, port, &hints, &ai);
	if (r != 0)
		return fl_set_reason(ret_reason, -EINVAL, "--listen: cannot use '%s': %s", spec,
				     gai_strerror(r));
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0) {
		r = -errno;
		freeaddrinfo(ai);
		if (fd >= 0)
			close(fd);
		return fl_set_reason(ret_reason, r, "--listen: cannot listen on %s: %s", spec,
				     strerror(-r));
	}
	freeaddrinfo(ai);
	*ret_fd = fd;
	return 0;
}

/* Runs a previous agent left behind: their owners are dead, the journal says what to undo. */
static void recover_previous(struct agent *a)
{
	struct fl_run_info *v = NULL;
	size_t n = 0;

	if (fl_journal_list(&v, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		const char *kind = json_string_value(json_object_get(v[i].run, "kind"));
		json_t *report = NULL;
		int r;

		if (v[i].alive || !kind || strcmp(kind, "agent") != 0)
			continue;
		r = fl_journal_recover(v[i].id, 0, &report);
		alog(a, NULL, "recovered run %s a previous agent left: %s", v[i].id,
		     r < 0 ? strerror(-r) : "reverted");
		json_decref(report);
	}
	fl_run_info_free(v, n);
}

int fl_agent_run(const struct fl_agent_opts *o, char **ret_reason)
{
	struct agent a = { .o = o, .lfd = -1, .pid = getpid() };
	_cleanup_free_ char *why = NULL;
	sigset_t mask;
	int r, sfd, ret = FL_EXIT_INTERNAL;

	gethostname(a.host, sizeof(a.host) - 1);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if (o->stop_file)
		a.stop_file = strdup(o->stop_file);
	else if (asprintf(&a.stop_file, "%s/agent.stop", fl_state_dir()) < 0)
		a.stop_file = NULL;
	if (!a.stop_file)
		return fl_set_reason(ret_reason, FL_EXIT_INTERNAL, "out of memory"),
		       FL_EXIT_INTERNAL;
	r = fl_state_dir_prepare(&why);
	if (r < 0) {
		fl_set_reason(ret_reason, r, "%s", why ? why : strerror(-r));
		ret = FL_EXIT_HOST;
		goto out;
	}
	if (!o->stdio) {
		a.ctx = fl_tls_server_ctx(o->ca, o->cert, o->key, ret_reason);
		if (!a.ctx) {
			ret = FL_EXIT_USAGE;
			goto out;
		}
		r = listen_on(o->listen, &a.lfd, ret_reason);
		if (r < 0) {
			ret = r == -EINVAL ? FL_EXIT_USAGE : FL_EXIT_HOST;
			goto out;
		}
		{
			/* the management plane: network faults never touch the agent's own port */
			struct sockaddr_storage ss;
			socklen_t sl = sizeof(ss);
			char port[8];
			if (getsockname(a.lfd, (struct sockaddr *)&ss, &sl) == 0 &&
			    getnameinfo((struct sockaddr *)&ss, sl, NULL, 0, port, sizeof(port),
					NI_NUMERICSERV) == 0)
				setenv("FAULTLINE_MGMT_PORT", port, 1);
		}
	}
	recover_previous(&a);
	r = fl_loop_new(&a.loop);
	if (r < 0)
		goto out;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, &a.oldmask);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0 || fl_loop_add_io(a.loop, sfd, EPOLLIN, true, on_signal, &a, NULL) < 0 ||
	    fl_loop_add_timer(a.loop, fl_now_ns() + TICK_NS, on_tick, &a, NULL) < 0) {
		fl_set_reason(ret_reason, -EIO, "cannot set the event loop up");
		goto out;
	}
	if (o->stdio) {
		char addr[80] = "stdio", peer[64];
		const char *ssh = getenv("SSH_CONNECTION"), *user = getenv("USER");
		struct session *s;
		if (ssh) {
			char ip[64];
			unsigned port;
			if (sscanf(ssh, "%63s %u", ip, &port) == 2)
				snprintf(addr, sizeof(addr), "%s:%u", ip, port);
		}
		snprintf(peer, sizeof(peer), "%s%.32s", ssh ? "ssh:" : "stdio:", user ? user : "?");
		s = session_new(&a, 0, 1, addr);
		if (!s || fl_loop_add_io(a.loop, 0, EPOLLIN, false, on_session, s, &s->src) < 0) {
			fl_set_reason(ret_reason, -EIO, "cannot read stdin");
			goto out;
		}
		snprintf(s->peer, sizeof(s->peer), "%.63s@%.79s", peer, addr);
		alog(&a, s->peer, "session on stdin/stdout (protocol %d)", FL_REMOTE_PROTO);
	} else {
		if (fl_loop_add_io(a.loop, a.lfd, EPOLLIN, false, on_accept, &a, NULL) < 0) {
			fl_set_reason(ret_reason, -EIO, "cannot watch the listening socket");
			goto out;
		}
		alog(&a, NULL, "listening on %s (mutual TLS 1.3%s), stop file %s", o->listen,
		     o->allow ? ", --allow" : "", a.stop_file);
	}
	if (!o->no_seccomp) {
		r = fl_agent_seccomp(&why);
		if (r < 0) {
			fl_set_reason(ret_reason, r, "cannot restrict the agent's syscalls: %s",
				      why ? why : strerror(-r));
			goto out;
		}
	}
	r = fl_loop_run(a.loop);
	ret = r < 0 ? FL_EXIT_INTERNAL : FL_EXIT_OK;
	if (r < 0)
		fl_set_reason(ret_reason, r, "event loop: %s", strerror(-r));
out:
	while (a.sessions)
		session_close(a.sessions, NULL);
	/* an error path with faults still held: revert them before leaving */
	for (struct fault *f = a.faults; f; f = f->next)
		fault_revert(f, "the agent is exiting");
	while (a.faults) {
		waitpid(a.faults->pid, NULL, 0);
		fault_free(a.faults);
	}
	while (probe_jobs) {
		kill(probe_jobs->pid, SIGKILL);
		waitpid(probe_jobs->pid, NULL, 0);
		probe_job_free(probe_jobs);
	}
	fl_loop_free(a.loop);
	if (a.lfd >= 0)
		close(a.lfd);
	SSL_CTX_free(a.ctx);
	free(a.stop_file);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0-only
/* Fan-out of agent operations over many hosts with a bound on concurrency (scenarios/fanout.h). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "inject/log.h"
#include "scenarios/fanout.h"
#include "scenarios/scenario.h"

struct session {
	pthread_mutex_t lock; /* held while connecting: one connection per host */
	struct fl_remote *r;
	char *address, *netns; /* route override (lab hosts) */
	char *dest;	       /* ssh: "user@address" */
};

struct fl_fleet {
	const struct fl_hosts *h;
	struct session *s;
};

int fl_fleet_new(const struct fl_hosts *h, struct fl_fleet **ret)
{
	struct fl_fleet *f = calloc(1, sizeof(*f));

	if (!f || !(f->s = calloc(h->n ? h->n : 1, sizeof(*f->s)))) {
		free(f);
		return -ENOMEM;
	}
	f->h = h;
	for (size_t i = 0; i < h->n; i++)
		pthread_mutex_init(&f->s[i].lock, NULL);
	*ret = f;
	return 0;
}

int fl_fleet_set_route(struct fl_fleet *f, size_t host, const char *address, const char *netns)
{
	struct session *s = &f->s[host];

	free(s->address);
	free(s->netns);
	s->address = strdup(address);
	s->netns = netns ? strdup(netns) : NULL;
	return !s->address || (netns && !s->netns) ? -ENOMEM : 0;
}

static int connect_host(struct fl_fleet *f, size_t i, char **reason)
{
	const struct fl_host *h = &f->h->v[i];
	struct session *s = &f->s[i];
	struct fl_remote_opts o = {
		.transport = h->transport,
		.address = s->address ? s->address : h->address,
		.port = h->port,
		.ssh_config = h->ssh_config,
		.netns = s->netns,
		.ca = h->ca,
		.cert = h->cert,
		.key = h->key,
		.timeout_ns = f->h->fanout.timeout_ns,
		.lease_ns = f->h->fanout.lease_ns,
	};

	if (!o.address) {
		*reason = strdup("no address (a lab host before the lab is up)");
		return -EDESTADDRREQ;
	}
	if (h->transport == FL_TRANSPORT_SSH && h->user) {
		free(s->dest);
		if (asprintf(&s->dest, "%s@%s", h->user, o.address) < 0) {
			s->dest = NULL;
			return -ENOMEM;
		}
		o.address = s->dest;
	}
	return fl_remote_connect(&o, &s->r, reason);
}

struct call {
	struct fl_fleet *f;
	const char *op;
	struct fl_fanout_job *jobs;
	size_t n;
	atomic_size_t next;
};

static void run_job(struct call *c, struct fl_fanout_job *j)
{
	struct session *s = &c->f->s[j->host];
	int k = 0;

	j->start_ns = fl_now_ns();
	pthread_mutex_lock(&s->lock);
	if (!s->r)
		k = connect_host(c->f, j->host, &j->reason);
	pthread_mutex_unlock(&s->lock);
	if (k == 0)
		k = fl_remote_call(s->r, c->op, j->args, &j->reply, &j->reason);
	j->err = k;
	j->took_ns = fl_now_ns() - j->start_ns;
	if (k < 0 && !j->reason)
		j->reason = strdup(strerror(-k));
}

static void *worker(void *arg)
{
	struct call *c = arg;

	for (;;) {
		size_t i = atomic_fetch_add(&c->next, 1);
		if (i >= c->n)
			return NULL;
		run_job(c, &c->jobs[i]);
	}
}

int fl_fleet_call(struct fl_fleet *f, const char *op, struct fl_fanout_job *jobs, size_t n)
{
	struct call c = { .f = f, .op = op, .jobs = jobs, .n = n };
	size_t nt = f->h->fanout.concurrency, started = 0;
	_cleanup_free_ pthread_t *t = NULL;

	if (nt > n)
		nt = n;
	if (nt <= 1) {
		worker(&c);
		return 0;
	}
	t = calloc(nt, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (; started < nt; started++) {
		pthread_attr_t a;
		int k;

		pthread_attr_init(&a);
		pthread_attr_setstacksize(&a, 256 * 1024);
		k = pthread_create(&t[started], &a, worker, &c);
		pthread_attr_destroy(&a);
		if (k) {
			log_warn("fan-out: %zu threads instead of %zu: %s", started, nt,
				 strerror(k));
			break;
		}
	}
	if (!started)
		worker(&c);
	for (size_t i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	return 0;
}

int fl_fleet_call_host(void *fleet, const char *host, json_t *args, json_t **ret_reply,
		       char **ret_reason)
{
	struct fl_fleet *f = fleet;
	const struct fl_host *h = fl_hosts_find(f->h, host);
	struct call c = { .f = f, .op = "probe" };
	struct fl_fanout_job j = { .args = args };

	if (!h) {
		*ret_reason = strdup("no such remote host");
		return -ENOENT;
	}
	j.host = (size_t)(h - f->h->v);
	run_job(&c, &j);
	*ret_reply = j.reply;
	*ret_reason = j.reason;
	return j.err;
}

void fl_fanout_job_clear(struct fl_fanout_job *j)
{
	free(j->reason);
	json_decref(j->reply);
	j->reason = NULL;
	j->reply = NULL;
	j->err = 0;
}

void fl_fleet_free(struct fl_fleet *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->h->n; i++) {
		if (f->s[i].r)
			fl_remote_close(f->s[i].r);
		pthread_mutex_destroy(&f->s[i].lock);
		free(f->s[i].address);
		free(f->s[i].netns);
		free(f->s[i].dest);
	}
	free(f->s);
	free(f);
}

/* --- a fault on remote hosts ------------------------------------------------------------ */

const char *const fl_rhost_state_names[] = { "chosen", "applied", "failed", "skipped",
					     "reverted", "revert-failed" };

/*
 * The flat parameters the agent takes: the fault's own, without the controller's timing. The
 * controller ends the fault (revert); the agent's `for` is only a ceiling, long enough that no
 * host ends it first however long the fan-out took: the window, plus a per-host timeout for
 * the apply and one for the revert, plus the lease.
 */
static json_t *apply_args(const struct fl_fleet *f, const struct fl_fault *fault)
{
	const struct fl_fanout *fo = &f->h->fanout;
	json_t *p = json_object();
	char d[32];

	for (size_t i = 0; i < fault->params.n; i++) {
		const struct fl_param *x = &fault->params.v[i];
		if (!strcmp(x->key, "at") || !strcmp(x->key, "on") || !strcmp(x->key, "for"))
			continue;
		json_object_set_new(p, x->key, json_string(x->value));
	}
	json_object_set_new(p, "for", json_string(fl_format_duration(
					      fault->for_ns + 2 * fo->timeout_ns + fo->lease_ns, d,
					      sizeof(d))));
	return json_pack("{s:o, s:I}", "fault", p, "lease_ms",
			 (json_int_t)(f->h->fanout.lease_ns / NSEC_PER_MSEC));
}

static double secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

size_t fl_rfault_apply(struct fl_fleet *f, const struct fl_fault *fault, struct fl_rhost *v,
		       size_t n, uint64_t t0, char **ret_first)
{
	_cleanup_free_ struct fl_fanout_job *jobs = calloc(n ? n : 1, sizeof(*jobs));
	_cleanup_free_ size_t *idx = calloc(n ? n : 1, sizeof(*idx));
	json_t *args = apply_args(f, fault);
	size_t nj = 0, failed = 0;
	bool skip = f->h->fanout.on_host_failure == FL_HOST_FAILURE_SKIP;

	*ret_first = NULL;
	if (!jobs || !idx || !args) {
		json_decref(args);
		*ret_first = strdup("out of memory");
		return n;
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i].state != FL_RH_CHOSEN)
			continue;
		idx[nj] = i;
		jobs[nj++] = (struct fl_fanout_job){ .host = v[i].host, .args = args };
	}
	fl_fleet_call(f, "apply", jobs, nj);
	for (size_t k = 0; k < nj; k++) {
		struct fl_rhost *x = &v[idx[k]];
		struct fl_fanout_job *j = &jobs[k];
		const char *id = json_string_value(json_object_get(j->reply, "fault_id"));

		x->apply_at_s = secs(j->start_ns - t0);
		x->apply_s = secs(j->took_ns);
		if (j->err == 0 && !id) {
			j->err = -EPROTO;
			j->reason = strdup("the agent's reply has no fault_id");
		}
		if (j->err == 0) {
			x->state = FL_RH_APPLIED;
			x->fault_id = strdup(id);
			x->applied = json_incref(j->reply);
		} else {
			const char *name = f->h->v[x->host].name;
			x->state = skip ? FL_RH_SKIPPED : FL_RH_FAILED;
			x->error = j->reason ? strdup(j->reason) : NULL;
			log_warn("fault '%s' on host '%s': %s%s", fault->name, name,
				 j->reason ? j->reason : "failed", skip ? " (skipped)" : "");
			if (!failed++ && asprintf(ret_first, "host '%s': %s", name,
						  j->reason ? j->reason : "failed") < 0)
				*ret_first = NULL;
		}
		fl_fanout_job_clear(j);
	}
	json_decref(args);
	return failed;
}

size_t fl_rfault_revert(struct fl_fleet *f, struct fl_rhost *v, size_t n, uint64_t t0)
{
	_cleanup_free_ struct fl_fanout_job *jobs = calloc(n ? n : 1, sizeof(*jobs));
	_cleanup_free_ size_t *idx = calloc(n ? n : 1, sizeof(*idx));
	size_t nj = 0, failed = 0;

	if (!jobs || !idx)
		return n;
	for (size_t i = 0; i < n; i++) {
		if (v[i].state != FL_RH_APPLIED && v[i].state != FL_RH_REVERT_FAILED)
			continue;
		idx[nj] = i;
		jobs[nj++] = (struct fl_fanout_job){
			.host = v[i].host,
			.args = json_pack("{s:s}", "fault_id", v[i].fault_id),
		};
	}
	fl_fleet_call(f, "revert", jobs, nj);
	for (size_t k = 0; k < nj; k++) {
		struct fl_rhost *x = &v[idx[k]];
		struct fl_fanout_job *j = &jobs[k];

		x->revert_at_s = secs(j->start_ns - t0);
		x->revert_s = secs(j->took_ns);
		if (j->err == 0) {
			x->state = FL_RH_REVERTED;
			x->reverted = json_incref(j->reply);
		} else {
			failed++;
			x->state = FL_RH_REVERT_FAILED;
			free(x->error);
			x->error = j->reason ? strdup(j->reason) : NULL;
			log_error("cannot revert on host '%s': %s (its agent reverts at lease end)",
				  f->h->v[x->host].name, j->reason ? j->reason : "failed");
		}
		json_decref(j->args);
		fl_fanout_job_clear(j);
	}
	return failed;
}

bool fl_rfault_active(const struct fl_rhost *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].state == FL_RH_APPLIED || v[i].state == FL_RH_REVERT_FAILED)
			return true;
	return false;
}

json_t *fl_rfault_json(const struct fl_hosts *h, const struct fl_rhost *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		const struct fl_host *x = &h->v[v[i].host];
		json_t *o = json_pack("{s:s, s:s, s:s, s:s?, s:s?}", "host", x->name, "transport",
				      x->transport == FL_TRANSPORT_SSH ? "ssh" : "agent", "state",
				      fl_rhost_state_names[v[i].state], "address", x->address,
				      "lab", x->lab);

		if (v[i].fault_id)
			json_object_set_new(o, "fault_id", json_string(v[i].fault_id));
		if (v[i].state != FL_RH_CHOSEN) {
			json_object_set_new(o, "apply_at_s", json_real(v[i].apply_at_s));
			json_object_set_new(o, "apply_s", json_real(v[i].apply_s));
		}
		if (v[i].applied)
			json_object_set(o, "applied", v[i].applied);
		if (v[i].reverted || v[i].state == FL_RH_REVERT_FAILED) {
			json_object_set_new(o, "revert_at_s", json_real(v[i].revert_at_s));
			json_object_set_new(o, "revert_s", json_real(v[i].revert_s));
		}
		if (v[i].reverted)
			json_object_set(o, "reverted", v[i].reverted);
		if (v[i].error)
			json_object_set_new(o, "error", json_string(v[i].error));
		json_array_append_new(a, o);
	}
	return a;
}

void fl_rfault_clear(struct fl_rhost *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].fault_id);
		free(v[i].error);
		json_decref(v[i].applied);
		json_decref(v[i].reverted);
		v[i] = (struct fl_rhost){ .host = v[i].host };
	}
}

// SPDX-License-Identifier: GPL-2.0-only
/* The runner: preflight, lab, baseline, fault timeline, revert, recovery window, result. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>

#include "cmd/cmd.h"
#include "inject/guard.h"
#include "inject/injector.h"
#include "inject/journal.h"
#include "inject/lab.h"
#include "inject/log.h"
#include "inject/loop.h"
#include "reports/metrics.h"
#include "reports/probe.h"
#include "reports/result.h"
#include "scenarios/fanout.h"
#include "scenarios/hosts.h"
#include "scenarios/probespec.h"
#include "scenarios/runner.h"

enum run_state {
	ST_BASELINE,
	ST_FAULTS,
	ST_RECOVERY,
	ST_DONE,
};

struct runner;

struct fault_rt {
	struct runner *r;
	struct fl_fault f; /* shallow copy of the scenario's fault, target.netns resolved */
	size_t idx;
	struct fl_source *start, *end;
	unsigned applications;
	bool started, ended;
	bool active; /* applied, not yet reverted */
	char record[FL_NAME_MAX + 32]; /* journal id of the active application */
	bool own_priv; /* priv parsed by an automatically chosen backend: ours to free */
	json_t *objects;		/* planned objects of the active application */
	json_t *events;
	uint64_t first_apply, last_apply, reverted_at; /* from t0 */
	struct fl_rhost *rh; /* remote faults (`on:` a selector): the chosen hosts */
	size_t n_rh;
	/* an apply fan-out in flight: a thread, so probes keep sampling meanwhile */
	bool fan_busy;
	pthread_t fan_thread;
	int fan_pipe[2];
	struct fl_source *fan_io;
	uint64_t fan_t;
	size_t fan_failed;
	char *fan_first;
};

struct runner {
	const struct fl_scenario *s;
	const struct fl_run_opts *o;
	char run_id[16];
	uint64_t seed, rng;
	struct fl_loop *loop;
	struct fl_journal *j;
	struct fl_lab_rt *lab;
	struct fl_fleet *fleet; /* sessions to the remote hosts */
	struct fl_probes *probes;
	struct fault_rt *faults;
	size_t faults_left;
	enum run_state state;
	uint64_t t0;
	uint64_t t0_real;
	struct fl_phases ph;
	struct fl_source *phase_timer;
	int exit_code;
	char *reason;
	bool notified;
	sigset_t oldmask;
	pid_t guard;
	json_t *verify; /* the verify steps' records, once run */
};

static void set_outcome(struct runner *r, int code, const char *fmt, ...) _printf_(3, 4);

static void set_outcome(struct runner *r, int code, const char *fmt, ...)
{
	va_list ap;

	if (r->state == ST_DONE)
		return;
	r->state = ST_DONE;
	r->exit_code = code;
	free(r->reason);
	r->reason = NULL;
	if (fmt) {
		va_start(ap, fmt);
		if (vasprintf(&r->reason, fmt, ap) < 0)
			r->reason = NULL;
		va_end(ap);
	}
	if (r->loop)
		fl_loop_exit(r->loop, 0);
}

static uint64_t rel(const struct runner *r)
{
	return fl_now_ns() - r->t0;
}

static void notify(struct runner *r, const char *msg)
{
	if (r->notified || r->o->notify_fd < 0)
		return;
	r->notified = true;
	if (write(r->o->notify_fd, msg, strlen(msg)) < 0)
		log_debug("cannot notify the parent: %m");
}

static void event(struct fault_rt *fr, uint64_t t, const char *what, json_t *extra)
{
	json_t *e = json_pack("{s:f, s:s}", "t", fl_sec(t), "event", what);

	if (extra)
		json_object_update(e, extra);
	json_decref(extra);
	json_array_append_new(fr->events, e);
}

/* --- faults --------------------------------------------------------------------------------- */

static void fill_ctx(struct runner *r, struct fl_inject_ctx *ctx)
{
	*ctx = (struct fl_inject_ctx){ .run_id = r->run_id, .rng = &r->rng };
	ctx->protect[ctx->n_protect++] = getpid();
	if (r->guard > 0)
		ctx->protect[ctx->n_protect++] = r->guard;
	if (r->lab)
		ctx->n_protect += fl_lab_protected_pids(r->lab, ctx->protect + ctx->n_protect,
							ARRAY_SIZE(ctx->protect) - ctx->n_protect);
}

static void count_application(struct runner *r, struct fault_rt *fr, uint64_t t)
{
	fr->applications++;
	if (!fr->first_apply && fr->applications == 1)
		fr->first_apply = t;
	fr->last_apply = t;
	if (!r->ph.first_fault || t < r->ph.first_fault)
		r->ph.first_fault = t;
}

/* The bookkeeping of a finished apply fan-out (in the loop's thread). */
static void fan_finish(struct runner *r, struct fault_rt *fr)
{
	_cleanup_free_ char *first = fr->fan_first;
	uint64_t t = fr->fan_t;
	size_t ok = 0, failed = fr->fan_failed;

	if (fr->fan_busy) {
		pthread_join(fr->fan_thread, NULL);
		fl_loop_remove(fr->fan_io);
		close(fr->fan_pipe[0]);
		close(fr->fan_pipe[1]);
		fr->fan_io = NULL;
		fr->fan_busy = false;
	}
	fr->fan_first = NULL;
	for (size_t i = 0; i < fr->n_rh; i++)
		ok += fr->rh[i].state == FL_RH_APPLIED;
	count_application(r, fr, t);
	fr->active = fr->f.backend->reversible && fl_rfault_active(fr->rh, fr->n_rh);
	if (failed && r->s->hosts->fanout.on_host_failure == FL_HOST_FAILURE_ABORT) {
		set_outcome(r, FL_EXIT_ABORTED, "fault '%s': apply failed on %zu of %zu hosts: %s",
			    fr->f.name, failed, fr->n_rh, first ? first : "?");
		event(fr, t, "failed", json_pack("{s:s, s:i, s:i}", "reason", r->reason,
						 "hosts_applied", (int)ok, "hosts_failed",
						 (int)failed));
		return;
	}
	log_info("%.3fs applied %s '%s' on %zu of %zu hosts (%.3fs)", fl_sec(t), fr->f.kind,
		 fr->f.name, ok, fr->n_rh, fl_sec(rel(r) - t));
	event(fr, t, "applied", json_pack("{s:i, s:i, s:f}", "hosts_applied", (int)ok,
					  "hosts_skipped", (int)failed, "fanout_s",
					  fl_sec(rel(r) - t)));
	notify(r, "applied\n");
}

static void *fan_apply(void *arg)
{
	struct fault_rt *fr = arg;
	struct runner *r = fr->r;

	fr->fan_failed = fl_rfault_apply(r->fleet, &fr->f, fr->rh, fr->n_rh, r->t0, &fr->fan_first);
	if (fr->fan_busy && write(fr->fan_pipe[1], "x", 1) < 0)
		log_debug("cannot wake the loop: %m");
	return NULL;
}

static int on_fan_done(struct fl_source *src, int fd, uint32_t revents, void *ud)
{
	struct fault_rt *fr = ud;

	fan_finish(fr->r, fr);
	return 0;
}

/*
 * A fault on remote hosts: their agents apply it, all at once, and hold it under a lease. The
 * fan-out runs in a thread so that the loop (probes, signals) goes on; its end is handled in
 * the loop, and a revert or the way out waits for it first.
 */
static int fault_apply_remote(struct runner *r, struct fault_rt *fr)
{
	if (fr->fan_busy)
		return 0; /* a repetition while the last one is still being applied */
	/* a repeated fault that is over once applied (kill) is applied again on the same hosts */
	for (size_t i = 0; i < fr->n_rh && !fr->f.backend->reversible; i++)
		if (fr->rh[i].state == FL_RH_APPLIED)
			fl_rfault_clear(&fr->rh[i], 1);
	fr->fan_t = rel(r);
	if (pipe2(fr->fan_pipe, O_CLOEXEC) == 0) {
		if (fl_loop_add_io(r->loop, fr->fan_pipe[0], EPOLLIN, false, on_fan_done, fr,
				   &fr->fan_io) == 0) {
			fr->fan_busy = true;
			if (pthread_create(&fr->fan_thread, NULL, fan_apply, fr) == 0)
				return 0;
			fr->fan_busy = false;
			fl_loop_remove(fr->fan_io);
			fr->fan_io = NULL;
		}
		close(fr->fan_pipe[0]);
		close(fr->fan_pipe[1]);
	}
	/* no thread: the same, in the loop's thread */
	fan_apply(fr);
	fan_finish(r, fr);
	return 0;
}

static int fault_revert_remote(struct runner *r, struct fault_rt *fr)
{
	uint64_t t = rel(r);
	size_t failed = fl_rfault_revert(r->fleet, fr->rh, fr->n_rh, r->t0);

	fr->active = fl_rfault_active(fr->rh, fr->n_rh);
	if (failed) {
		event(fr, t, "revert-failed",
		      json_pack("{s:s, s:i}", "reason",
				"some hosts did not confirm: their agents revert at lease end",
				"hosts_failed", (int)failed));
		return -EREMOTEIO;
	}
	fr->reverted_at = t;
	event(fr, t, "reverted", json_pack("{s:f}", "fanout_s", fl_sec(rel(r) - t)));
	log_info("%.3fs reverted %s '%s' on its hosts", fl_sec(t), fr->f.kind, fr->f.name);
	return 0;
}

static int fault_apply(struct runner *r, struct fault_rt *fr)
{
	const struct fl_backend *b = fr->f.backend;
	struct fl_inject_ctx ctx;
	json_t *objects = NULL, *injected;
	uint64_t t = rel(r), lease;
	int k;

	if (fr->f.sel)
		return fault_apply_remote(r, fr);
	fill_ctx(r, &ctx);
	k = b->plan(&fr->f, &ctx, &objects);
	if (k < 0) {
		set_outcome(r, FL_EXIT_ABORTED, "fault '%s': %s", fr->f.name,
			    ctx.reason ? ctx.reason : strerror(-k));
		event(fr, t, "failed", json_pack("{s:s}", "reason", r->reason));
		free(ctx.reason);
		return 0;
	}
	snprintf(fr->record, sizeof(fr->record), "%zu-%s.%u", fr->idx, fr->f.name,
		 fr->applications);
	/* the lease: when this fault must be gone even if nobody is left to revert it */
	{
		uint64_t end = r->ph.faults_start + fr->f.at_ns + fr->f.for_ns;
		lease = fl_realtime_ns() + (end > t ? end - t : 0) + 30 * NSEC_PER_SEC;
	}
	k = fl_journal_fault_plan(r->j, fr->record, fr->f.name, b->kind, b->name, objects, lease);
	if (k < 0) {
		set_outcome(r, FL_EXIT_INTERNAL, "cannot write the journal: %s", strerror(-k));
		json_decref(objects);
		return 0;
	}
	injected = json_object();
	k = b->apply(&fr->f, objects, &ctx, injected);
	count_application(r, fr, t);
	if (k < 0) {
		/* partially applied: what was done is reverted with the rest */
		fl_journal_fault_state(r->j, fr->record, "active", NULL);
		fr->active = b->reversible;
		json_decref(fr->objects);
		fr->objects = objects;
		set_outcome(r, FL_EXIT_ABORTED, "fault '%s': apply failed: %s", fr->f.name,
			    ctx.reason ? ctx.reason : strerror(-k));
		event(fr, t, "failed", json_pack("{s:s, s:o}", "reason", r->reason, "injected",
						 injected));
		free(ctx.reason);
		return 0;
	}
	fl_journal_fault_state(r->j, fr->record, b->reversible ? "active" : "reverted",
			       json_pack("{s:O}", "injected", injected));
	if (b->reversible) {
		json_decref(fr->objects);
		fr->objects = objects;
		fr->active = true;
	} else {
		json_decref(objects);
	}
	log_info("%.3fs applied %s '%s'", fl_sec(t), b->kind, fr->f.name);
	event(fr, t, "applied", json_pack("{s:o}", "injected", injected));
	free(ctx.reason);
	{
		char m[64];
		snprintf(m, sizeof(m), "applied %s\n", r->run_id);
		notify(r, m);
	}
	return 0;
}

/* Revert one fault's active application; errors are reported, never fatal to the others. */
static int fault_revert(struct runner *r, struct fault_rt *fr)
{
	_cleanup_free_ char *why = NULL;
	uint64_t t = rel(r);
	int k;

	if (fr->fan_busy)
		fan_finish(r, fr); /* the apply must be over before it is reverted */
	if (!fr->active)
		return 0;
	if (fr->f.sel)
		return fault_revert_remote(r, fr);
	if (fr->f.backend->observe) {
		/* asked versus observed: read what the kernel did before the evidence goes */
		json_t *obs = json_object();
		if (fr->f.backend->observe(fr->objects, obs) == 0)
			event(fr, t, "observed", json_pack("{s:o}", "observed", obs));
		else
			json_decref(obs);
	}
	k = fr->f.backend->revert(fr->objects, &why);
	if (k < 0) {
		log_error("cannot revert fault '%s': %s", fr->f.name, why ? why : strerror(-k));
		event(fr, t, "revert-failed", json_pack("{s:s}", "reason", why ? why : strerror(-k)));
		return k;
	}
	fr->active = false;
	fr->reverted_at = t;
	fl_journal_fault_state(r->j, fr->record, "reverted", NULL);
	event(fr, t, "reverted", NULL);
	log_info("%.3fs reverted %s '%s'", fl_sec(t), fr->f.backend->kind, fr->f.name);
	return 0;
}

static int enter_recovery(struct runner *r);

static int on_fault_end(struct fl_source *src, uint64_t now, void *ud)
{
	struct fault_rt *fr = ud;
	struct runner *r = fr->r;

	fl_loop_remove(fr->end);
	fl_loop_remove(fr->start);
	fr->end = fr->start = NULL;
	fr->ended = true;
	fault_revert(r, fr);
	if (--r->faults_left == 0 && r->state == ST_FAULTS)
		return enter_recovery(r);
	return 0;
}

static int on_fault_start(struct fl_source *src, uint64_t now, void *ud)
{
	struct fault_rt *fr = ud;
	struct runner *r = fr->r;
	uint64_t end_at = r->t0 + r->ph.faults_start + fr->f.at_ns + fr->f.for_ns;

	if (r->state != ST_FAULTS)
		return 0;
	if (!fr->started) {
		fr->started = true;
		if (fl_loop_add_timer(r->loop, end_at, on_fault_end, fr, &fr->end) < 0)
			return -ENOMEM;
	}
	fault_apply(r, fr);
	if (r->state != ST_FAULTS)
		return 0;
	if (fr->f.repeat_ns && now + fr->f.repeat_ns < end_at) {
		fl_loop_timer_set(src, now + fr->f.repeat_ns);
	} else {
		fl_loop_remove(fr->start);
		fr->start = NULL;
	}
	return 0;
}

static void revert_all(struct runner *r)
{
	for (size_t i = r->s->n_faults; i-- > 0;) {
		struct fault_rt *fr = &r->faults[i];
		fl_loop_remove(fr->start);
		fl_loop_remove(fr->end);
		fr->start = fr->end = NULL;
		fault_revert(r, fr);
	}
}

/* --- phases --------------------------------------------------------------------------------- */

static bool all_recovered(struct runner *r)
{
	for (size_t i = 0; i < fl_probes_n(r->probes); i++) {
		struct fl_probe_rt *p = fl_probes_get(r->probes, i);
		struct fl_probe_metrics m;
		size_t n;
		const struct fl_sample *s = fl_probe_samples(p, &n);
		fl_metrics_compute(s, n, &r->ph, r->s->recovery_healthy_for_ns, &m);
		if (!m.recovered)
			return false;
	}
	return true;
}

static int on_recovery_deadline(struct fl_source *src, uint64_t now, void *ud)
{
	struct runner *r = ud;

	set_outcome(r, FL_EXIT_OK, NULL); /* expectations decide the verdict afterwards */
	return 0;
}

static int enter_recovery(struct runner *r)
{
	uint64_t longest_every = 0, deadline;

	r->state = ST_RECOVERY;
	r->ph.faults_end = rel(r);
	/*
	 * Recovery is measured from when the last fault really ended: its revert, or for a kill
	 * (over once delivered) its last signal, whatever its window says.
	 */
	r->ph.reference = 0;
	for (size_t i = 0; i < r->s->n_faults; i++) {
		struct fault_rt *fr = &r->faults[i];
		uint64_t end = fr->f.backend->reversible ? fr->reverted_at : fr->last_apply;
		if (end > r->ph.reference)
			r->ph.reference = end;
	}
	if (!r->ph.reference)
		r->ph.reference = r->ph.faults_end;
	log_info("%.3fs faults over, recovery window %.1fs", fl_sec(r->ph.faults_end),
		 fl_sec(r->s->recovery_within_ns));
	if (fl_probes_n(r->probes) == 0 || all_recovered(r)) {
		set_outcome(r, FL_EXIT_OK, NULL);
		return 0;
	}
	for (size_t i = 0; i < r->s->n_probes; i++)
		if (r->s->probes[i].every_ns > longest_every)
			longest_every = r->s->probes[i].every_ns;
	/* the window must fit: start within `within`, then last healthy_for, plus one sample */
	deadline = r->t0 + r->ph.reference + r->s->recovery_within_ns +
		   r->s->recovery_healthy_for_ns + longest_every;
	if (deadline < fl_now_ns())
		deadline = fl_now_ns();
	return fl_loop_add_timer(r->loop, deadline, on_recovery_deadline, r, &r->phase_timer);
}

static const char *metric_label(enum fl_metric m)
{
	static const char *const l[FL_N_METRICS] = { "success rate", "latency p50", "latency p90",
						     "latency p95", "latency p99", "latency max" };
	return l[m];
}

/* "20/20 ok (100.0%), expected >= 99%" or "p99 0.012s, expected <= 0.3s (+10% tolerance)" */
static char *expect_message(const struct fl_expect_result *e, const struct fl_probe_metrics *m)
{
	char *msg = NULL, tol[48] = "";
	int r;

	if (e->effective != e->threshold)
		snprintf(tol, sizeof(tol), " (tolerance %.4g%s)",
			 e->metric == FL_M_SUCCESS ? 100.0 * (e->threshold - e->effective)
						   : 100.0 * (e->effective / e->threshold - 1.0),
			 e->metric == FL_M_SUCCESS ? " points" : "%");
	if (!e->measured)
		r = asprintf(&msg, "no %s measured in the %s phase", e->metric == FL_M_SUCCESS ?
				   "samples" : "successful samples", fl_phase_names[e->phase]);
	else if (e->metric == FL_M_SUCCESS)
		r = asprintf(&msg, "%zu/%zu ok (%.1f%%), expected >= %.4g%%%s", m->ok[e->phase],
			     m->n[e->phase], 100.0 * e->observed, 100.0 * e->threshold, tol);
	else
		r = asprintf(&msg, "%s %.6gs over %zu samples, expected <= %.6gs%s",
			     fl_metric_names[e->metric] + 8, e->observed, m->lat_n[e->phase],
			     e->threshold, tol);
	return r < 0 ? NULL : msg;
}

static bool baseline_healthy(struct runner *r, char **ret_reason)
{
	/* everything so far is baseline */
	struct fl_phases ph = { .faults_start = UINT64_MAX, .first_fault = UINT64_MAX,
				.faults_end = UINT64_MAX, .reference = UINT64_MAX };

	for (size_t i = 0; i < fl_probes_n(r->probes); i++) {
		struct fl_probe_rt *p = fl_probes_get(r->probes, i);
		const struct fl_probe *spec = fl_probe_spec(p);
		struct fl_expect_result ex[FL_N_EXPECT_PHASES * FL_N_METRICS];
		struct fl_probe_metrics m;
		size_t n, ns;
		const struct fl_sample *smp = fl_probe_samples(p, &ns);

		fl_metrics_compute(smp, ns, &ph, r->s->recovery_healthy_for_ns, &m);
		n = fl_expect_eval(spec, &m, ex, ARRAY_SIZE(ex));
		for (size_t k = 0; k < n; k++) {
			_cleanup_free_ char *msg = NULL;
			const char *last = "no sample";
			if (ex[k].phase != FL_PHASE_BASELINE || ex[k].ok)
				continue;
			for (size_t j = ns; j-- > 0;)
				if (!smp[j].ok) {
					last = smp[j].reason;
					break;
				}
			msg = expect_message(&ex[k], &m);
			if (asprintf(ret_reason, "unhealthy baseline: probe '%s' %s: %s%s%s",
				     spec->name, metric_label(ex[k].metric), msg ? msg : "?",
				     ex[k].metric == FL_M_SUCCESS ? "; last failure: " : "",
				     ex[k].metric == FL_M_SUCCESS ? last : "") < 0)
				*ret_reason = NULL;
			return false;
		}
	}
	return true;
}

static int on_baseline_end(struct fl_source *src, uint64_t now, void *ud)
{
	struct runner *r = ud;
	_cleanup_free_ char *why = NULL;

	fl_loop_remove(r->phase_timer);
	r->phase_timer = NULL;
	if (!baseline_healthy(r, &why)) {
		set_outcome(r, FL_EXIT_ABORTED, "%s", why ? why : "unhealthy baseline");
		return 0;
	}
	r->state = ST_FAULTS;
	r->ph.faults_start = rel(r);
	r->faults_left = r->s->n_faults;
	if (r->s->n_faults == 0)
		return enter_recovery(r);
	for (size_t i = 0; i < r->s->n_faults; i++) {
		struct fault_rt *fr = &r->faults[i];
		int k = fl_loop_add_timer(r->loop, r->t0 + r->ph.faults_start + fr->f.at_ns,
					  on_fault_start, fr, &fr->start);
		if (k < 0)
			return k;
	}
	return 0;
}

/*
 * Share of failed samples among those that started within the last window (and after the
 * fault phase began); judged once the window holds at least 5 samples, so one early failure
 * is not "100%".
 */
static bool error_rate_exceeded(struct runner *r, struct fl_probe_rt *p, const struct fl_stop *st,
				const struct fl_sample *last)
{
	size_t n, in = 0, bad = 0;
	const struct fl_sample *s = fl_probe_samples(p, &n);
	uint64_t from = last->t_ns > st->window_ns ? last->t_ns - st->window_ns : 0;

	if (from < r->ph.faults_start)
		from = r->ph.faults_start;
	for (size_t i = n; i-- > 0 && s[i].t_ns >= from;) {
		in++;
		bad += !s[i].ok;
	}
	if (in < 5 || (double)bad / (double)in <= st->error_rate)
		return false;
	{
		char d[32];
		set_outcome(r, FL_EXIT_ABORTED,
			    "stop condition: probe '%s' error rate %.1f%% > %.4g%% over the last %s "
			    "(%zu of %zu samples failed)",
			    fl_probe_spec(p)->name, 100.0 * (double)bad / (double)in,
			    100.0 * st->error_rate, fl_format_duration(st->window_ns, d, sizeof(d)),
			    bad, in);
	}
	return true;
}

static void on_sample(struct fl_probe_rt *p, const struct fl_sample *smp, void *ud)
{
	struct runner *r = ud;
	const struct fl_probe *spec = fl_probe_spec(p);
	uint64_t since = fl_probe_failing_since(p);

	if (r->state == ST_FAULTS || r->state == ST_RECOVERY) {
		for (size_t i = 0; i < r->s->n_stops; i++) {
			const struct fl_stop *st = &r->s->stops[i];
			uint64_t end = smp->t_ns + smp->latency_ns;
			if (strcmp(st->probe, spec->name) != 0)
				continue;
			if (st->error_rate > 0) {
				if (error_rate_exceeded(r, p, st, smp))
					return;
				continue;
			}
			if (since == UINT64_MAX)
				continue;
			if (end - since >= st->failing_for_ns) {
				char d[32];
				set_outcome(r, FL_EXIT_ABORTED,
					    "stop condition: probe '%s' failing for %s (%s)",
					    spec->name,
					    fl_format_duration(st->failing_for_ns, d, sizeof(d)),
					    smp->reason);
				return;
			}
		}
	}
	if (r->state == ST_RECOVERY && all_recovered(r))
		set_outcome(r, FL_EXIT_OK, NULL);
}

/* The live status line: phase, elapsed and remaining time, active faults, probe health. */
static int on_status_tick(struct fl_source *src, uint64_t now, void *ud)
{
	static const char *const names[] = { "baseline", "faults", "recovery", "done" };
	struct runner *r = ud;
	char line[400];
	size_t off = 0;
	uint64_t t = now - r->t0, total = r->s->baseline_ns, last_end = 0;

	for (size_t i = 0; i < r->s->n_faults; i++)
		if (r->s->faults[i].at_ns + r->s->faults[i].for_ns > last_end)
			last_end = r->s->faults[i].at_ns + r->s->faults[i].for_ns;
	total += last_end + r->s->recovery_within_ns;
	off += (size_t)snprintf(line + off, sizeof(line) - off, "%-8s %5.1fs", names[r->state],
				fl_sec(t));
	if (total > t)
		off += (size_t)snprintf(line + off, sizeof(line) - off, " (at most %.0fs left)",
					fl_sec(total - t));
	for (size_t i = 0; i < r->s->n_faults && off < sizeof(line); i++)
		if (r->faults[i].active || (r->faults[i].started && !r->faults[i].ended))
			off += (size_t)snprintf(line + off, sizeof(line) - off, " | %s on",
						r->faults[i].f.name);
	for (size_t i = 0; i < fl_probes_n(r->probes) && off < sizeof(line); i++) {
		struct fl_probe_rt *p = fl_probes_get(r->probes, i);
		size_t n;
		const struct fl_sample *smp = fl_probe_samples(p, &n);
		off += (size_t)snprintf(line + off, sizeof(line) - off, " | %s %s",
					fl_probe_spec(p)->name,
					!n ? "..." : smp[n - 1].ok ? "ok" : "FAIL");
	}
	fl_status("%s", line);
	return fl_loop_timer_set(src, now + 250 * NSEC_PER_MSEC);
}

static int on_signal(struct fl_source *src, int fd, uint32_t revents, void *ud)
{
	struct runner *r = ud;
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return 0;
	log_warn("interrupted by SIG%s, reverting", sigabbrev_np((int)si.ssi_signo));
	if (r->state == ST_DONE)
		return 0;
	set_outcome(r, FL_EXIT_ABORTED, "interrupted by SIG%s", sigabbrev_np((int)si.ssi_signo));
	return 0;
}

/* --- plan ----------------------------------------------------------------------------------- */

/* The verify steps of a plan: name, command, where. */
static json_t *plan_verify(const struct fl_scenario *s)
{
	json_t *a = json_array();

	for (size_t i = 0; i < s->n_verify; i++) {
		const struct fl_verify *v = &s->verify[i];
		_cleanup_free_ char *cmd = fl_strv_join(v->argv, " ");
		json_t *o = json_pack("{s:s, s:s, s:f}", "name", v->name, "exec", cmd ? cmd : "",
				      "timeout_s", fl_sec(v->timeout_ns));
		if (v->from)
			json_object_set_new(o, "from", json_string(v->from));
		json_array_append_new(a, o);
	}
	return a;
}

json_t *fl_run_plan(const struct fl_scenario *s, uint64_t seed)
{
	json_t *faults = json_array(), *probes = json_array(), *hosts = json_array(), *plan;
	char d[32];

	for (size_t i = 0; i < s->n_faults; i++) {
		const struct fl_fault *f = &s->faults[i];
		char desc[512] = "";
		if (f->backend->describe)
			f->backend->describe(f, desc, sizeof(desc));
		json_array_append_new(faults,
				      json_pack("{s:s, s:s, s:s, s:s?, s:f, s:f, s:s}", "name",
						f->name, "kind", f->kind, "backend", f->backend->name,
						"on", f->on, "at_s", fl_sec(f->at_ns), "for_s",
						fl_sec(f->for_ns), "description", desc));
	}
	for (size_t i = 0; i < s->n_probes; i++) {
		const struct fl_probe *p = &s->probes[i];
		/* redacted: URL credentials and header values never leave the scenario */
		_cleanup_free_ char *target = fl_probe_target(p);
		json_array_append_new(probes,
				      json_pack("{s:s, s:s, s:s?, s:f}", "name", p->name, "kind",
						fl_probe_kind_name(p->kind), "from", p->from,
						"every_s", fl_sec(p->every_ns)));
		json_object_set_new(json_array_get(probes, i), "target",
				    json_string(target ? target : ""));
	}
	for (size_t i = 0; s->lab && i < s->lab->n_hosts; i++) {
		const struct fl_lab_host *h = &s->lab->hosts[i];
		_cleanup_free_ char *cmd = h->run ? fl_strv_join(h->run, " ") : NULL;
		json_array_append_new(hosts, json_pack("{s:s, s:s?}", "name", h->name, "run", cmd));
	}
	plan = json_pack("{s:s, s:s?, s:I, s:o, s:f, s:o, s:o, s:f, s:f, s:s}", "scenario",
			 s->name, "file", s->file, "seed", (json_int_t)seed, "lab_hosts", hosts,
			 "baseline_s", fl_sec(s->baseline_ns), "probes", probes, "faults", faults,
			 "recovery_within_s", fl_sec(s->recovery_within_ns), "recovery_healthy_for_s",
			 fl_sec(s->recovery_healthy_for_ns), "recovery_within",
			 fl_format_duration(s->recovery_within_ns, d, sizeof(d)));
	if (plan && s->n_verify)
		json_object_set_new(plan, "verify", plan_verify(s));
	return plan;
}

void fl_run_print_plan(json_t *plan, FILE *f)
{
	json_t *x;
	size_t i;

	fprintf(f, "plan for '%s' (seed %lld)\n", json_string_value(json_object_get(plan, "scenario")),
		(long long)json_integer_value(json_object_get(plan, "seed")));
	if (json_array_size(json_object_get(plan, "lab_hosts"))) {
		fprintf(f, "  lab:\n");
		json_array_foreach(json_object_get(plan, "lab_hosts"), i, x)
			fprintf(f, "    %-12s %s\n", json_string_value(json_object_get(x, "name")),
				json_object_get(x, "run") ?
					json_string_value(json_object_get(x, "run")) : "(idle)");
	}
	fprintf(f, "  baseline %.3gs\n", json_real_value(json_object_get(plan, "baseline_s")));
	json_array_foreach(json_object_get(plan, "probes"), i, x)
		fprintf(f, "  probe %-12s %s %s every %.3gs\n",
			json_string_value(json_object_get(x, "name")),
			json_string_value(json_object_get(x, "kind")),
			json_string_value(json_object_get(x, "target")),
			json_real_value(json_object_get(x, "every_s")));
	json_array_foreach(json_object_get(plan, "faults"), i, x) {
		fprintf(f, "  at +%.3gs for %.3gs  %-12s %s/%s: %s\n",
			json_real_value(json_object_get(x, "at_s")),
			json_real_value(json_object_get(x, "for_s")),
			json_string_value(json_object_get(x, "name")),
			json_string_value(json_object_get(x, "kind")),
			json_string_value(json_object_get(x, "backend")),
			json_string_value(json_object_get(x, "description")));
		if (json_object_get(x, "hosts")) {
			json_t *h;
			size_t k;
			fprintf(f, "      on %s:", json_string_value(json_object_get(x, "on")));
			json_array_foreach(json_object_get(x, "hosts"), k, h)
				fprintf(f, " %s", json_string_value(h));
			fprintf(f, "\n");
		}
	}
	fprintf(f, "  recovery within %s, healthy for %.3gs\n",
		json_string_value(json_object_get(plan, "recovery_within")),
		json_real_value(json_object_get(plan, "recovery_healthy_for_s")));
	json_array_foreach(json_object_get(plan, "verify"), i, x)
		fprintf(f, "  then verify %-12s %s%s%s\n", json_string_value(json_object_get(x, "name")),
			json_string_value(json_object_get(x, "exec")),
			json_object_get(x, "from") ? " from " : "",
			json_object_get(x, "from") ? json_string_value(json_object_get(x, "from")) : "");
}

/* --- the run -------------------------------------------------------------------------------- */

/*
 * Every fault's backend must be able to run here. Without `backend:`, the kind's backends are
 * tried in order of preference and the first this host can run is used (the result says which);
 * the reasons of those skipped are logged, and all of them are given if none fits.
 */
static int choose_backend(struct runner *r, struct fault_rt *fr)
{
	const struct fl_backend *const *all = fl_backends_of(fr->f.kind);
	_cleanup_free_ char *why_all = NULL;
	const char *why = NULL;
	int k;

	if (fr->f.backend_explicit || !all || !all[1]) {
		k = fr->f.backend->probe ? fr->f.backend->probe(&fr->f, &why) : 0;
		if (k < 0) {
			set_outcome(r, FL_EXIT_HOST, "fault '%s': backend %s/%s cannot run here: %s",
				    fr->f.name, fr->f.backend->kind, fr->f.backend->name,
				    why ? why : strerror(-k));
			return k;
		}
		return 0;
	}
	for (; *all; all++) {
		const struct fl_backend *b = *all;
		struct fl_fault trial = fr->f;
		struct fl_errors errs = { 0 };
		char *acc = NULL;

		trial.backend = b;
		trial.priv = NULL;
		trial.repeat_ns = fr->f.repeat_ns;
		/* the same parameters, as this backend reads them */
		k = b->parse ? b->parse(&trial, &fr->f.params, &errs) : 0;
		if (k < 0 || errs.n) {
			why = errs.n ? errs.v[0].text : "does not accept these parameters";
		} else {
			why = NULL;
			k = b->probe ? b->probe(&trial, &why) : 0;
		}
		if (k >= 0 && !errs.n) {
			if (b != fr->f.backend) {
				fr->f.backend = b;
				fr->f.priv = trial.priv;
				fr->own_priv = true;
				log_info("fault '%s': using backend %s (%s)", fr->f.name, b->name,
					 why_all ? why_all : "preferred one unavailable");
			}
			fl_errors_clear(&errs);
			return 0;
		}
		if (trial.priv && trial.priv != fr->f.priv && b->free_priv)
			b->free_priv(trial.priv);
		if (asprintf(&acc, "%s%s%s: %s", why_all ? why_all : "", why_all ? "; " : "",
			     b->name, why ? why : strerror(-k)) >= 0) {
			free(why_all);
			why_all = acc;
		}
		fl_errors_clear(&errs);
	}
	set_outcome(r, FL_EXIT_HOST, "fault '%s': no %s backend can run here: %s", fr->f.name,
		    fr->f.kind, why_all ? why_all : "none implemented");
	return -EOPNOTSUPP;
}

static int preflight(struct runner *r)
{
	for (size_t i = 0; i < r->s->n_faults; i++) {
		int k = r->faults[i].f.sel ? 0 : choose_backend(r, &r->faults[i]);
		if (k < 0)
			return k;
	}
	if (r->s->lab && geteuid() != 0) {
		set_outcome(r, FL_EXIT_HOST,
			    "a lab needs root (network namespaces need CAP_SYS_ADMIN)");
		return -EPERM;
	}
	return 0;
}

/* Targets must match something before the experiment starts, not silently at fault time. */
static int preflight_targets(struct runner *r)
{
	for (size_t i = 0; i < r->s->n_faults; i++) {
		struct fault_rt *fr = &r->faults[i];
		struct fl_inject_ctx ctx;
		json_t *objects = NULL;
		uint64_t rng = r->seed; /* a copy: the real choice happens at fault time */
		int k;

		if (!fr->f.backend->needs_target || fr->f.sel)
			continue;
		fill_ctx(r, &ctx);
		ctx.rng = &rng;
		k = fr->f.backend->plan(&fr->f, &ctx, &objects);
		json_decref(objects);
		if (k < 0) {
			set_outcome(r, FL_EXIT_HOST, "preflight: fault '%s': %s", fr->f.name,
				    ctx.reason ? ctx.reason : strerror(-k));
			free(ctx.reason);
			return k;
		}
		free(ctx.reason);
	}
	return 0;
}

/* The hosts each remote fault acts on: chosen once, before anything starts, with the seed. */
static int choose_hosts(struct runner *r)
{
	for (size_t i = 0; i < r->s->n_faults; i++) {
		struct fault_rt *fr = &r->faults[i];
		_cleanup_free_ size_t *idx = NULL;

		if (!fr->f.sel)
			continue;
		idx = calloc(r->s->hosts->n, sizeof(*idx));
		fr->rh = calloc(r->s->hosts->n, sizeof(*fr->rh));
		if (!idx || !fr->rh) {
			set_outcome(r, FL_EXIT_INTERNAL, "out of memory");
			return -ENOMEM;
		}
		fr->n_rh = fl_select(r->s->hosts, fr->f.sel, r->seed, fr->f.name, idx);
		for (size_t k = 0; k < fr->n_rh; k++)
			fr->rh[k] = (struct fl_rhost){ .host = idx[k] };
	}
	return 0;
}

/*
 * What a fault did to each probe: the samples from its first application to the next fault's
 * first application (or the end of the run), so faults in sequence get a figure each.
 */
static json_t *fault_impact(struct runner *r, const struct fault_rt *fr)
{
	uint64_t until = r->ph.end, active;
	json_t *o = json_object();

	for (size_t i = 0; i < r->s->n_faults; i++) {
		const struct fault_rt *x = &r->faults[i];
		if (x != fr && x->applications && x->first_apply > fr->first_apply &&
		    x->first_apply < until)
			until = x->first_apply;
	}
	active = until;
	/* a kill is over when delivered: its window is all "active" */
	if (fr->reverted_at > fr->first_apply && fr->reverted_at < until)
		active = fr->reverted_at;
	for (size_t i = 0; i < fl_probes_n(r->probes); i++) {
		struct fl_probe_rt *p = fl_probes_get(r->probes, i);
		json_object_set_new(o, fl_probe_spec(p)->name,
				    fl_result_fault_impact(p, fr->first_apply, active, until));
	}
	return o;
}

#define VERIFY_OUT_MAX (64 * 1024)

/* Start a verify step with its stdout on out_fd: in a lab host (or the switch), or here. */
static int verify_spawn(struct runner *r, const struct fl_verify *v, int out_fd, pid_t *ret_pid,
			int *ret_pidfd)
{
	int saved, k;
	pid_t pid;

	if (r->lab) {
		/* the lab starts a command with our stdout when keep_output: make it the pipe */
		fflush(stdout);
		saved = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
		if (saved < 0)
			return -errno;
		if (dup2(out_fd, STDOUT_FILENO) < 0) {
			k = -errno;
			close(saved);
			return k;
		}
		k = fl_lab_spawn(r->lab, v->from, v->argv, r->s->dir, true, ret_pid, ret_pidfd);
		dup2(saved, STDOUT_FILENO);
		close(saved);
		return k;
	}
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(out_fd, STDOUT_FILENO) < 0 || chdir(r->s->dir) < 0)
			_exit(127);
		execvp(v->argv[0], v->argv);
		_exit(127);
	}
	*ret_pid = pid;
	*ret_pidfd = pidfd_open(pid, 0);
	if (*ret_pidfd < 0) {
		k = -errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return k;
	}
	return 0;
}

static void plan_hosts(struct runner *r, struct fault_rt *fr, json_t *pf)
{
	json_t *names = json_array();
	char on[128];

	for (size_t k = 0; k < fr->n_rh; k++)
		json_array_append_new(names, json_string(r->s->hosts->v[fr->rh[k].host].name));
	fl_selector_describe(fr->f.sel, on, sizeof(on));
	json_object_set_new(pf, "on", json_string(on));
	json_object_set_new(pf, "hosts", names);
}

/* Sessions to the remote hosts; a lab host is reached from the lab's switch. */
static int fleet_up(struct runner *r)
{
	const struct fl_hosts *h = r->s->hosts;
	int k = fl_fleet_new(h, &r->fleet);

	for (size_t i = 0; k == 0 && i < h->n; i++) {
		struct in_addr a;
		char buf[INET_ADDRSTRLEN];

		if (!h->v[i].lab)
			continue;
		k = fl_lab_host_addr(r->lab, h->v[i].lab, &a);
		if (k == 0)
			k = fl_fleet_set_route(r->fleet, i, inet_ntop(AF_INET, &a, buf, sizeof(buf)),
					       fl_lab_netns_name(r->lab, NULL));
	}
	if (k < 0)
		set_outcome(r, FL_EXIT_INTERNAL, "remote hosts: %s", strerror(-k));
	return k;
}

/* Run one verify step to its end or its timeout: its record for the result. */
static json_t *verify_run(struct runner *r, const struct fl_verify *v)
{
	_cleanup_free_ char *out = calloc(1, VERIFY_OUT_MAX + 1);
	_cleanup_close_ int rd = -1, pidfd = -1;
	uint64_t start = fl_now_ns(), deadline = start + v->timeout_ns;
	size_t len = 0;
	bool exited = false, timed_out = false, eof = false;
	int p[2], k, st = 0;
	pid_t pid = 0;
	json_t *o;
	char d[32];

	if (!out || pipe2(p, O_CLOEXEC) < 0)
		return json_pack("{s:s, s:s, s:b}", "name", v->name, "status", "could not start",
				 "ok", false);
	rd = p[0];
	k = verify_spawn(r, v, p[1], &pid, &pidfd);
	close(p[1]);
	if (k < 0)
		return json_pack("{s:s, s:o, s:b}", "name", v->name, "status",
				 json_sprintf("could not start: %s", strerror(-k)), "ok", false);
	/* read until it exits (its children may keep the pipe open) or the timeout */
	while (!exited) {
		struct pollfd pf[2] = { { .fd = pidfd, .events = POLLIN },
					{ .fd = eof ? -1 : rd, .events = POLLIN } };
		uint64_t now = fl_now_ns();
		int n;

		if (now >= deadline) {
			timed_out = true;
			pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
			break;
		}
		n = poll(pf, 2, (int)((deadline - now + 999999) / 1000000));
		if (n < 0 && errno != EINTR)
			break;
		if (pf[1].revents) {
			ssize_t got = read(rd, out + len, VERIFY_OUT_MAX - len);
			if (got > 0)
				len += (size_t)got;
			else
				eof = true;
			if (len == VERIFY_OUT_MAX)
				eof = true; /* enough: the rest is not read */
		}
		if (pf[0].revents)
			exited = true;
	}
	/* what it wrote before it exited */
	fcntl(rd, F_SETFL, O_NONBLOCK);
	while (!eof && len < VERIFY_OUT_MAX) {
		ssize_t got = read(rd, out + len, VERIFY_OUT_MAX - len);
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	out[len] = '\0';
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	o = json_pack("{s:s, s:f, s:o}", "name", v->name, "duration_s",
		      fl_sec(fl_now_ns() - start), "figures", fl_result_figures(out));
	if (v->from)
		json_object_set_new(o, "from", json_string(v->from));
	if (timed_out) {
		json_object_set_new(o, "status",
				    json_sprintf("timeout after %s",
						 fl_format_duration(v->timeout_ns, d, sizeof(d))));
	} else if (WIFEXITED(st)) {
		json_object_set_new(o, "exit_status", json_integer(WEXITSTATUS(st)));
		json_object_set_new(o, "status", json_sprintf("exit status %d", WEXITSTATUS(st)));
	} else {
		json_object_set_new(o, "status",
				    json_sprintf("killed by signal %d", WTERMSIG(st)));
	}
	json_object_set_new(o, "ok", json_boolean(!timed_out && WIFEXITED(st) &&
						  WEXITSTATUS(st) == 0));
	return o;
}

/* After a complete run, before the lab goes: every verify step, in order. */
static void verify_all(struct runner *r)
{
	if (!r->s->n_verify || r->state != ST_DONE || r->exit_code != FL_EXIT_OK || !r->t0)
		return;
	r->verify = json_array();
	for (size_t i = 0; i < r->s->n_verify; i++) {
		json_t *o = verify_run(r, &r->s->verify[i]);
		log_info("verify %s: %s", r->s->verify[i].name,
			 json_string_value(json_object_get(o, "status")));
		json_array_append_new(r->verify, o);
	}
}

/* The verify records and one expectation each (exit status 0); a failed one fails the run. */
static void attach_verify(struct runner *r, json_t *res)
{
	json_t *exps = json_object_get(res, "expectations"), *v;
	bool all_ok = true;
	size_t i;

	if (!r->verify)
		return;
	json_array_foreach(r->verify, i, v) {
		json_t *es = json_object_get(v, "exit_status");
		const char *name = json_string_value(json_object_get(v, "name"));
		bool ok = json_is_true(json_object_get(v, "ok"));

		json_array_append_new(
			exps, json_pack("{s:o, s:s, s:s, s:i, s:s, s:O, s:b, s:o, s:s}", "id",
					json_sprintf("verify.%s.exit_status", name), "metric",
					"exit_status", "op", "==", "threshold", 0,
					"verify", name, "observed", es ? es : json_null(), "ok", ok,
					"name", json_sprintf("verify: %s exits with status 0", name),
					"message",
					json_string_value(json_object_get(v, "status"))));
		all_ok &= ok;
	}
	json_object_set(res, "verify", r->verify);
	if (!all_ok && r->exit_code == FL_EXIT_OK) {
		r->exit_code = FL_EXIT_FAILED;
		json_object_set_new(res, "verdict", json_string("failed"));
		json_object_set_new(res, "exit_code", json_integer(r->exit_code));
	}
}

static json_t *build_result(struct runner *r)
{
	json_t *res, *probes = json_array(), *faults = json_array(), *exps = json_array();
	bool all_ok = true;
	char ts[64];
	time_t secs = (time_t)(r->t0_real / NSEC_PER_SEC);
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!r->ph.end)
		r->ph.end = rel(r);
	if (r->state != ST_DONE || r->ph.faults_end == 0) {
		/* ended early: phases close where the run stopped */
		if (!r->ph.faults_start)
			r->ph.faults_start = r->ph.end;
		if (!r->ph.faults_end)
			r->ph.faults_end = r->ph.end;
		if (!r->ph.reference)
			r->ph.reference = r->ph.faults_end;
	}
	for (size_t i = 0; i < fl_probes_n(r->probes); i++) {
		struct fl_probe_rt *p = fl_probes_get(r->probes, i);
		const struct fl_probe *spec = fl_probe_spec(p);
		struct fl_probe_metrics m;
		json_t *pj = fl_result_probe(p, &r->ph, r->s->recovery_healthy_for_ns, &m);
		struct fl_expect_result ex[FL_N_EXPECT_PHASES * FL_N_METRICS];
		size_t n_ex = fl_expect_eval(spec, &m, ex, ARRAY_SIZE(ex));
		char d[32], d2[32];

		json_array_append_new(probes, pj);
		for (size_t k = 0; k < n_ex; k++) {
			/* a run that ended early has no verdict on the phases it never reached */
			if (r->exit_code != FL_EXIT_OK && ex[k].phase != FL_PHASE_BASELINE)
				continue;
			_cleanup_free_ char *msg = expect_message(&ex[k], &m);
			bool rate = ex[k].metric == FL_M_SUCCESS;
			json_array_append_new(
				exps,
				json_pack("{s:o, s:s, s:s, s:s, s:s, s:f, s:f, s:s, s:o, s:b, s:o, s:s}",
					  "id",
					  json_sprintf("%s.%s.%s", spec->name,
						       fl_phase_names[ex[k].phase],
						       fl_metric_names[ex[k].metric]),
					  "probe", spec->name, "phase", fl_phase_names[ex[k].phase],
					  "metric", fl_metric_names[ex[k].metric], "op",
					  rate ? ">=" : "<=", "threshold", ex[k].threshold,
					  "tolerance", spec->expect[ex[k].phase].tolerance, "unit",
					  rate ? "ratio" : "s", "observed",
					  ex[k].measured ? json_real(ex[k].observed) : json_null(),
					  "ok", ex[k].ok, "name",
					  json_sprintf("%s: %s %s %s %.4g%s", fl_phase_names[ex[k].phase],
						       spec->name, metric_label(ex[k].metric),
						       rate ? ">=" : "<=",
						       rate ? 100.0 * ex[k].threshold : ex[k].threshold,
						       rate ? "%" : "s"),
					  "message", msg ? msg : ""));
			all_ok &= ex[k].ok;
		}
		if (r->exit_code == FL_EXIT_OK) {
			bool rec_ok = m.recovered && m.time_to_recover <= r->s->recovery_within_ns;
			json_t *msg = m.recovered ? json_sprintf("recovered after %.3fs",
								 fl_sec(m.time_to_recover))
						  : json_string("did not recover");
			json_array_append_new(
				exps,
				json_pack("{s:o, s:s, s:s, s:s, s:s, s:f, s:f, s:s, s:o, s:b, s:o, s:o}",
					  "id", json_sprintf("%s.recovery.recovered_within", spec->name),
					  "probe", spec->name, "phase", "recovery", "metric",
					  "recovered_within", "op", "<=", "threshold",
					  fl_sec(r->s->recovery_within_ns), "tolerance", 0.0, "unit", "s",
					  "observed",
					  m.recovered ? json_real(fl_sec(m.time_to_recover)) : json_null(),
					  "ok", rec_ok, "name",
					  json_sprintf("recovery: %s healthy for %s within %s", spec->name,
						       fl_format_duration(r->s->recovery_healthy_for_ns,
									  d, sizeof(d)),
						       fl_format_duration(r->s->recovery_within_ns, d2,
									  sizeof(d2))),
					  "message", msg));
			all_ok &= rec_ok;
		}
	}
	for (size_t i = 0; i < r->s->n_faults; i++) {
		struct fault_rt *fr = &r->faults[i];
		char desc[512] = "";
		json_t *asked = json_object();
		fr->f.backend->describe(&fr->f, desc, sizeof(desc));
		for (size_t k = 0; k < fr->f.params.n; k++)
			json_object_set_new(asked, fr->f.params.v[k].key,
					    json_string(fr->f.params.v[k].value));
		json_array_append_new(faults,
				      json_pack("{s:s, s:s, s:s, s:s?, s:s, s:o, s:f, s:f, s:i, s:O}",
						"name", fr->f.name, "kind", fr->f.kind, "backend",
						fr->f.backend->name, "on", fr->f.on, "description",
						desc, "asked", asked, "at_s", fl_sec(fr->f.at_ns),
						"for_s", fl_sec(fr->f.for_ns), "applications",
						(int)fr->applications, "events", fr->events));
		if (fr->f.sel) {
			json_t *fj = json_array_get(faults, json_array_size(faults) - 1);
			char on[128];
			fl_selector_describe(fr->f.sel, on, sizeof(on));
			json_object_set_new(fj, "on", json_string(on));
			json_object_set_new(fj, "hosts", fl_rfault_json(r->s->hosts, fr->rh, fr->n_rh));
		}
		if (fr->applications)
			json_object_set_new(json_array_get(faults, json_array_size(faults) - 1),
					    "impact", fault_impact(r, fr));
	}
	if (r->exit_code == FL_EXIT_OK && !all_ok)
		r->exit_code = FL_EXIT_FAILED;
	res = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:I, s:s, s:f, s:s, s:i, s:s?}", "schema",
			FL_RESULT_SCHEMA, "faultline", FL_VERSION, "run_id", r->run_id, "scenario",
			r->s->name, "file", r->s->file, "seed", (json_int_t)r->seed, "started", ts,
			"duration_s", fl_sec(r->ph.end), "verdict",
			r->exit_code == FL_EXIT_OK	   ? "passed"
			: r->exit_code == FL_EXIT_FAILED ? "failed"
			: r->exit_code == FL_EXIT_ABORTED ? "aborted"
							  : "error",
			"exit_code", r->exit_code, "reason", r->reason);
	json_object_set_new(res, "phases",
			    json_pack("{s:f, s:f, s:f, s:f, s:f}", "faults_start_s",
				      fl_sec(r->ph.faults_start), "first_fault_s",
				      fl_sec(r->ph.first_fault), "faults_end_s",
				      fl_sec(r->ph.faults_end), "recovery_reference_s",
				      fl_sec(r->ph.reference), "end_s", fl_sec(r->ph.end)));
	json_object_set_new(res, "probes", probes);
	json_object_set_new(res, "faults", faults);
	json_object_set_new(res, "expectations", exps);
	if (r->lab)
		json_object_set_new(res, "lab", fl_lab_describe(r->lab));
	return res;
}

/* The services' output dies with the lab: keep a copy next to the result. */
static void keep_lab_logs(struct runner *r, const char *outdir, json_t *result)
{
	_cleanup_free_ char *dir = NULL;
	json_t *lab = json_object_get(result, "lab"), *h, *logs = json_object();
	size_t i;

	if (asprintf(&dir, "%s/logs", outdir) < 0 || fl_mkdir_p(dir, 0755) < 0) {
		json_decref(logs);
		return;
	}
	json_array_foreach(json_object_get(lab, "hosts"), i, h) {
		const char *src = json_string_value(json_object_get(h, "log"));
		const char *name = json_string_value(json_object_get(h, "name"));
		_cleanup_free_ char *data = NULL, *dst = NULL;
		size_t len = 0;

		if (!src || !name || fl_read_file(src, &data, &len) < 0)
			continue;
		if (asprintf(&dst, "%s/%s.log", dir, name) < 0 ||
		    fl_write_file_atomic(dst, data, len, 0644) < 0)
			continue;
		json_object_set_new(logs, name, json_sprintf("logs/%s.log", name));
	}
	json_object_set_new(result, "logs", logs);
}

static int setup_signals(struct runner *r)
{
	sigset_t mask;
	int fd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	/* blocked from here on: a signal during lab setup is handled once the loop runs */
	if (sigprocmask(SIG_BLOCK, &mask, &r->oldmask) < 0)
		return -errno;
	fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	return fl_loop_add_io(r->loop, fd, EPOLLIN, true, on_signal, r, NULL);
}

static bool signal_pending_now(void)
{
	sigset_t pend;

	sigpending(&pend);
	return sigismember(&pend, SIGINT) || sigismember(&pend, SIGTERM) ||
	       sigismember(&pend, SIGHUP) || sigismember(&pend, SIGQUIT);
}

int fl_run(const struct fl_scenario *s, const struct fl_run_opts *o, struct fl_run_result *res)
{
	struct runner r = { .s = s, .o = o, .exit_code = FL_EXIT_OK };
	_cleanup_free_ char *why = NULL, *outdir = NULL;
	bool clean = true;
	int k;

	memset(res, 0, sizeof(*res));
	if (fl_new_id(r.run_id, sizeof(r.run_id)) < 0)
		return -EIO;
	if (s->seed_set) {
		r.seed = s->seed;
	} else {
		/* no seed given: pick one and record it, so the run can be replayed */
		uint64_t x = fl_realtime_ns() ^ ((uint64_t)getpid() << 32);
		r.seed = fl_rand_next(&x) >> 11;
	}
	r.rng = r.seed;
	r.faults = calloc(s->n_faults ? s->n_faults : 1, sizeof(*r.faults));
	if (!r.faults)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_faults; i++) {
		r.faults[i].f = s->faults[i];
		r.faults[i].r = &r;
		r.faults[i].idx = i;
		r.faults[i].events = json_array();
	}

	if (preflight(&r) < 0)
		goto out_early;
	if (choose_hosts(&r) < 0)
		goto out_early;
	if (o->dry_run) {
		res->result = fl_run_plan(s, r.seed);
		/* the plan shows the backends preflight chose, described with their parameters */
		for (size_t i = 0; i < s->n_faults; i++) {
			json_t *pf = json_array_get(json_object_get(res->result, "faults"), i);
			char desc[512] = "";
			r.faults[i].f.backend->describe(&r.faults[i].f, desc, sizeof(desc));
			json_object_set_new(pf, "backend", json_string(r.faults[i].f.backend->name));
			json_object_set_new(pf, "description", json_string(desc));
			if (r.faults[i].f.sel)
				plan_hosts(&r, &r.faults[i], pf);
		}
		goto out_early;
	}
	k = fl_state_dir_prepare(&why);
	if (k < 0) {
		set_outcome(&r, FL_EXIT_HOST, "%s", why ? why : strerror(-k));
		goto out_early;
	}
	k = fl_loop_new(&r.loop);
	if (k < 0) {
		set_outcome(&r, FL_EXIT_INTERNAL, "cannot create the event loop: %s", strerror(-k));
		goto out_early;
	}
	k = setup_signals(&r);
	if (k < 0) {
		set_outcome(&r, FL_EXIT_INTERNAL, "cannot set up signals: %s", strerror(-k));
		goto out;
	}
	k = fl_journal_create(r.run_id, o->kind ? o->kind : "run", s->file, s->name, &r.j);
	if (k < 0) {
		set_outcome(&r, FL_EXIT_HOST, "cannot write the journal in '%s': %s",
			    fl_state_dir(), strerror(-k));
		goto out;
	}
	fl_journal_set_run(r.j, "seed", json_integer((json_int_t)r.seed));
	/* the TTL must hold even if this process is SIGKILLed: a guard reverts at lease expiry */
	r.guard = fl_guard_spawn(r.run_id);
	if (r.guard < 0)
		log_warn("no lease guard (%s): a crash would leave faults until 'faultline recover'",
			 strerror((int)-r.guard));
	else
		fl_journal_set_run(r.j, "guard", json_integer(r.guard));
	r.t0_real = fl_realtime_ns();
	if (s->lab) {
		_cleanup_free_ char *lab_why = NULL;
		log_info("lab: bringing up %zu hosts", s->lab->n_hosts);
		k = fl_lab_up(s->lab, r.run_id, s->dir, r.j, r.loop, &r.lab, &lab_why);
		if (k < 0) {
			set_outcome(&r, FL_EXIT_HOST, "lab: %s", lab_why ? lab_why : strerror(-k));
			goto out;
		}
		for (size_t i = 0; i < s->n_faults; i++)
			if (r.faults[i].f.on)
				r.faults[i].f.target.netns =
					(char *)fl_lab_netns_name(r.lab, r.faults[i].f.on);
	}
	if (s->hosts && s->hosts->n && fleet_up(&r) < 0)
		goto out;
	if (signal_pending_now()) {
		set_outcome(&r, FL_EXIT_ABORTED, "interrupted during setup");
		goto out;
	}
	if (preflight_targets(&r) < 0)
		goto out;

	r.t0 = fl_now_ns();
	r.t0_real = fl_realtime_ns();
	r.state = ST_BASELINE;
	k = fl_probes_start(r.loop, s, r.lab, r.t0, on_sample, &r, &r.probes, &why);
	if (k < 0) {
		set_outcome(&r, FL_EXIT_HOST, "%s", why ? why : strerror(-k));
		goto out;
	}
	if (r.fleet)
		fl_probes_set_remote(r.probes, fl_fleet_call_host, r.fleet);
	k = fl_loop_add_timer(r.loop, r.t0 + s->baseline_ns, on_baseline_end, &r, &r.phase_timer);
	if (k < 0) {
		set_outcome(&r, FL_EXIT_INTERNAL, "cannot arm a timer: %s", strerror(-k));
		goto out;
	}
	log_info("run %s: baseline %.1fs", r.run_id, fl_sec(s->baseline_ns));
	if (fl_status_enabled() && o->notify_fd < 0)
		fl_loop_add_timer(r.loop, r.t0, on_status_tick, &r, NULL);
	k = fl_loop_run(r.loop);
	if (k < 0)
		set_outcome(&r, FL_EXIT_INTERNAL, "event loop: %s", strerror(-k));
out:
	/* the one way out: every path above lands here and reverts */
	fl_status_clear();
	r.ph.end = r.t0 ? rel(&r) : 0;
	fl_probes_stop(r.probes);
	revert_all(&r);
	verify_all(&r);
	fl_fleet_free(r.fleet);
	r.fleet = NULL;
	if (r.t0)
		res->result = build_result(&r);
	if (res->result)
		attach_verify(&r, res->result);
	json_decref(r.verify);
	if (!o->detached) {
		if (o->out_dir)
			outdir = strdup(o->out_dir);
		else if (asprintf(&outdir, "faultline-out/%s", r.run_id) < 0)
			outdir = NULL;
	}
	if (r.lab && outdir && res->result)
		keep_lab_logs(&r, outdir, res->result);
	if (r.lab) {
		k = fl_lab_down(r.lab);
		r.lab = NULL;
		if (k < 0) {
			clean = false;
			log_error("lab teardown incomplete: %s", strerror(-k));
		}
	}
	for (size_t i = 0; i < s->n_faults; i++)
		clean &= !r.faults[i].active;
	if (r.j) {
		if (clean) {
			fl_journal_finish(r.j);
			/* the records are gone: the guard sees it through inotify and exits */
			if (r.guard > 0)
				waitpid(r.guard, NULL, 0);
		}
		else {
			log_error("some faults could not be reverted: run 'faultline recover %s'",
				  r.run_id);
			fl_journal_close(r.j);
			if (r.exit_code == FL_EXIT_OK || r.exit_code == FL_EXIT_FAILED)
				r.exit_code = FL_EXIT_INTERNAL;
		}
		r.j = NULL;
	}
	if (res->result && outdir) {
		{
			k = fl_result_write(res->result, outdir, &res->result_path);
			if (k < 0)
				log_error("cannot write the result to '%s': %s", outdir, strerror(-k));
		}
	}
	fl_probes_free(r.probes);
	fl_loop_free(r.loop);
	sigprocmask(SIG_SETMASK, &r.oldmask, NULL);
out_early:
	if (!r.notified && o->notify_fd >= 0) {
		_cleanup_free_ char *m = NULL;
		if (asprintf(&m, "!%s\n", r.reason ? r.reason : "the fault was not applied") >= 0)
			notify(&r, m);
	}
	for (size_t i = 0; i < s->n_faults; i++) {
		json_decref(r.faults[i].events);
		json_decref(r.faults[i].objects);
		fl_rfault_clear(r.faults[i].rh, r.faults[i].n_rh);
		free(r.faults[i].rh);
		if (r.faults[i].own_priv && r.faults[i].f.backend->free_priv)
			r.faults[i].f.backend->free_priv(r.faults[i].f.priv);
	}
	free(r.faults);
	res->exit_code = r.exit_code;
	res->reason = r.reason;
	res->run_id = strdup(r.run_id);
	return 0;
}

void fl_run_result_clear(struct fl_run_result *res)
{
	free(res->reason);
	free(res->run_id);
	free(res->result_path);
	json_decref(res->result);
	memset(res, 0, sizeof(*res));
}

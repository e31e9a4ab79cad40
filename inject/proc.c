// SPDX-License-Identifier: GPL-2.0-only
/* Process faults through pidfds: kill (any signal, repeatable) and stop (SIGSTOP/SIGCONT). */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/pidfd.h>

#include "inject/injector.h"
#include "inject/log.h"
#include "inject/target.h"

struct kill_params {
	int signal;
};

int fl_parse_signal(const char *s, int *ret)
{
	uint64_t n;

	if (fl_parse_uint(s, SIGRTMAX, &n) == 0) {
		if (n == 0)
			return -EINVAL;
		*ret = (int)n;
		return 0;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (int i = 1; i < SIGRTMIN; i++) {
		const char *abbrev = sigabbrev_np(i);
		if (abbrev && strcasecmp(abbrev, s) == 0) {
			*ret = i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *fl_signal_name(int sig, char *buf, size_t len)
{
	const char *a = sigabbrev_np(sig);

	if (a)
		snprintf(buf, len, "SIG%s", a);
	else
		snprintf(buf, len, "%d", sig);
	return buf;
}

static int pidfd_probe(const struct fl_fault *f, const char **ret_reason)
{
	_cleanup_close_ int fd = pidfd_open(getpid(), 0);

	if (fd < 0) {
		*ret_reason = "pidfd_open() is not available (needs Linux 5.3 or later)";
		return -errno;
	}
	return 0;
}

static int kill_parse(struct fl_fault *f, const struct fl_params *p, struct fl_errors *errs)
{
	struct fl_param *sig = fl_params_take(p, "signal");
	struct fl_param *iv = fl_params_take(p, "interval");
	struct kill_params *kp = calloc(1, sizeof(*kp));
	int r = 0;

	if (!kp)
		return -ENOMEM;
	kp->signal = SIGKILL;
	if (sig && fl_parse_signal(sig->value, &kp->signal) < 0) {
		fl_errors_add(errs, &sig->where,
			      "'signal' must be a signal name or number such as 'SIGTERM', got '%s'",
			      sig->value);
		r = -EINVAL;
	}
	if (iv) {
		uint64_t ns;
		int k = fl_parse_duration(iv->value, &ns);
		if (k == -ERANGE && iv->value[strspn(iv->value, " ")] == '-') {
			fl_errors_add(errs, &iv->where, "'interval' cannot be negative");
			r = -EINVAL;
		} else if (k < 0) {
			fl_errors_add(errs, &iv->where,
				      "'interval' must be a duration such as '2s', got '%s'",
				      iv->value);
			r = -EINVAL;
		} else if (ns < FL_INTERVAL_MIN) {
			fl_errors_add(errs, &iv->where, "'interval' must be at least 100ms");
			r = -EINVAL;
		} else if (f->for_ns && ns >= f->for_ns) {
			/* the first signal is at 'at'; repeats happen only inside the window */
			fl_errors_add(errs, &iv->where,
				      "'interval' must be shorter than 'for', or it never repeats");
			r = -EINVAL;
		} else {
			f->repeat_ns = ns;
		}
	}
	f->priv = kp;
	return r;
}

static json_t *process_objects(const struct fl_proc *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:i, s:I, s:s}", "type", "process",
						   "pid", (int)v[i].pid, "starttime",
						   (json_int_t)v[i].starttime, "comm", v[i].comm));
	return a;
}

int fl_fault_targets(const struct fl_fault *f, struct fl_inject_ctx *ctx, struct fl_proc **ret,
		     size_t *ret_n)
{
	_cleanup_free_ char *where = NULL, *nspath = NULL;

	if (f->target.netns && asprintf(&nspath, "/run/netns/%s", f->target.netns) < 0)
		return -ENOMEM;
	if (f->on && asprintf(&where, "lab host '%s'", f->on) < 0)
		return -ENOMEM;
	return fl_target_resolve(&f->target, nspath, where, ctx->protect, ctx->n_protect,
				 ctx->rng, ret, ret_n, &ctx->reason);
}

static int proc_plan(const struct fl_fault *f, struct fl_inject_ctx *ctx, json_t **ret_objects)
{
	_cleanup_free_ struct fl_proc *v = NULL;
	size_t n = 0;
	int r;

	r = fl_fault_targets(f, ctx, &v, &n);
	if (r < 0)
		return r;
	*ret_objects = process_objects(v, n);
	return *ret_objects ? 0 : -ENOMEM;
}

/* Send sig to every planned process still alive; counts in `injected`. */
static int signal_objects(json_t *objects, int sig, struct fl_inject_ctx *ctx, json_t *injected)
{
	json_t *o, *sent = json_array(), *gone = json_array();
	size_t i;
	int first_err = 0;
	char name[32];

	json_array_foreach(objects, i, o) {
		pid_t pid;
		_cleanup_close_ int fd = fl_pidfd_open_planned(o, &pid);

		if (fd == -ESRCH) {
			json_array_append_new(gone, json_integer(pid));
			continue;
		}
		if (fd < 0 || pidfd_send_signal(fd, sig, NULL, 0) < 0) {
			int e = fd < 0 ? fd : -errno;
			if (e == -ESRCH) {
				json_array_append_new(gone, json_integer(pid));
				continue;
			}
			if (!first_err) {
				first_err = e;
				free(ctx->reason);
				if (asprintf(&ctx->reason, "cannot send %s to pid %d: %s",
					     fl_signal_name(sig, name, sizeof(name)), pid,
					     strerror(-e)) < 0)
					ctx->reason = NULL;
			}
			continue;
		}
		json_array_append_new(sent, json_integer(pid));
	}
	json_object_set_new(injected, "signal", json_string(fl_signal_name(sig, name, sizeof(name))));
	json_object_set_new(injected, "signalled", sent);
	json_object_set_new(injected, "gone", gone);
	if (first_err)
		return first_err;
	if (json_array_size(sent) == 0) {
		free(ctx->reason);
		if (asprintf(&ctx->reason, "every planned process exited before the signal") < 0)
			ctx->reason = NULL;
		return -ESRCH;
	}
	return 0;
}

static int kill_apply(const struct fl_fault *f, json_t *objects, struct fl_inject_ctx *ctx,
		      json_t *injected)
{
	const struct kill_params *kp = f->priv;

	return signal_objects(objects, kp ? kp->signal : SIGKILL, ctx, injected);
}

static int kill_revert(json_t *objects, char **ret_reason)
{
	/* a delivered signal cannot be undone; nothing is owned afterwards */
	return 0;
}

static int kill_describe(const struct fl_fault *f, char *buf, size_t len)
{
	const struct kill_params *kp = f->priv;
	char sig[32], tgt[200], iv[32];

	fl_target_describe(&f->target, tgt, sizeof(tgt));
	snprintf(buf, len, "%s to %s%s%s%s%s", fl_signal_name(kp ? kp->signal : SIGKILL, sig,
							    sizeof(sig)),
		 tgt, f->on ? " on " : "", f->on ? f->on : "", f->repeat_ns ? " every " : "",
		 f->repeat_ns ? fl_format_duration(f->repeat_ns, iv, sizeof(iv)) : "");
	return 0;
}

static int stop_parse(struct fl_fault *f, const struct fl_params *p, struct fl_errors *errs)
{
	return 0;
}

static int stop_apply(const struct fl_fault *f, json_t *objects, struct fl_inject_ctx *ctx,
		      json_t *injected)
{
	return signal_objects(objects, SIGSTOP, ctx, injected);
}

static int stop_revert(json_t *objects, char **ret_reason)
{
	json_t *o;
	size_t i;
	int r = 0;

	json_array_foreach(objects, i, o) {
		pid_t pid;
		_cleanup_close_ int fd = fl_pidfd_open_planned(o, &pid);

		if (fd == -ESRCH || fd == -ENOENT)
			continue; /* gone: nothing to continue */
		if (fd < 0 || pidfd_send_signal(fd, SIGCONT, NULL, 0) < 0) {
			int e = fd < 0 ? fd : -errno;
			if (e == -ESRCH)
				continue;
			if (!r && ret_reason &&
			    asprintf(ret_reason, "cannot continue pid %d: %s", pid, strerror(-e)) < 0)
				*ret_reason = NULL;
			if (!r)
				r = e;
		}
	}
	return r;
}

static int stop_describe(const struct fl_fault *f, char *buf, size_t len)
{
	char tgt[200], d[32];

	fl_target_describe(&f->target, tgt, sizeof(tgt));
	snprintf(buf, len, "SIGSTOP %s%s%s for %s, then SIGCONT", tgt, f->on ? " on " : "",
		 f->on ? f->on : "", fl_format_duration(f->for_ns, d, sizeof(d)));
	return 0;
}

const struct fl_backend fl_backend_kill = {
	.kind = "kill",
	.name = "pidfd",
	.summary = "signal processes through pidfd_send_signal (default SIGKILL)",
	.keys = (const char *const[]){ "signal", "interval", NULL },
	.needs_target = true,
	.reversible = false,
	.parse = kill_parse,
	.free_priv = free,
	.probe = pidfd_probe,
	.plan = proc_plan,
	.apply = kill_apply,
	.revert = kill_revert,
	.describe = kill_describe,
};

const struct fl_backend fl_backend_stop = {
	.kind = "stop",
	.name = "pidfd",
	.summary = "pause processes with SIGSTOP through a pidfd, SIGCONT at revert",
	.keys = (const char *const[]){ NULL },
	.needs_target = true,
	.reversible = true,
	.parse = stop_parse,
	.free_priv = NULL,
	.probe = pidfd_probe,
	.plan = proc_plan,
	.apply = stop_apply,
	.revert = stop_revert,
	.describe = stop_describe,
};

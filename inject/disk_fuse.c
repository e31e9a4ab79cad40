// SPDX-License-Identifier: GPL-2.0-only
/*
 * disk-error and io-latency through FUSE: a pass-through filesystem of ours (fusefs.c) mounted
 * over the fault's directory fails or delays the operations of the target processes. The plan
 * names the mount (its path and fsname), the daemon's pidfile and the processes; revert
 * unmounts it (lazily if busy) and stops the daemon, from the journal alone.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>

#include "inject/daemon.h"
#include "inject/fusefs.h"
#include "inject/injector.h"
#include "inject/journal.h"
#include "inject/log.h"
#include "inject/net_netem.h"
#include "inject/netutil.h"
#include "inject/target.h"
#include "inject/util.h"

#define FUSE_DELAY_MAX (60 * NSEC_PER_SEC)
#define FUSE_STOP_WAIT_MS 2000
#define FUSE_OBSERVE_WAIT_MS 1000

struct fuse_params {
	char *path, *prefix;
	int err; /* disk-error */
	uint64_t delay_ns, jitter_ns;
	uint32_t ops;
	double percent;
};

static void fuse_params_free(void *p)
{
	struct fuse_params *fp = p;

	if (!fp)
		return;
	free(fp->path);
	free(fp->prefix);
	free(fp);
}

/* --- parse ----------------------------------------------------------------------------------- */

static void take_delay(const struct fl_params *p, const char *key, uint64_t *ret,
		       struct fl_errors *errs)
{
	struct fl_param *v = fl_params_take(p, key);
	int k;

	if (!v)
		return;
	k = fl_parse_duration(v->value, ret);
	if (k == -EINVAL)
		fl_errors_add(errs, &v->where, "'%s' must be a duration such as '20ms', got '%s'",
			      key, v->value);
	else if (k < 0 || *ret > FUSE_DELAY_MAX)
		fl_errors_add(errs, &v->where, "'%s' must be from 0 to 60s, got '%s'", key,
			      v->value);
}

static int parse_common(struct fl_fault *f, const struct fl_params *p, bool latency,
			struct fl_errors *errs)
{
	struct fuse_params *fp = calloc(1, sizeof(*fp));
	struct fl_param *v;
	size_t n0 = errs->n;
	char bad[64];

	if (!fp)
		return -ENOMEM;
	f->priv = fp;
	if (f->target.exec) {
		/* valid, but the seccomp backends' (next in preference): the validator moves on */
		fl_errors_add(errs, &p->where,
			      "a FUSE '%s' fault acts on running processes, not on a command "
			      "faultline launches ('target.exec'): that is the seccomp backend's",
			      f->kind);
		return -EOPNOTSUPP;
	}
	fp->ops = FUSEFS_OPS_ALL;
	fp->percent = 100.0;
	fp->err = EIO;
	if (!(v = fl_params_take(p, "path")))
		fl_errors_add(errs, &p->where,
			      "a '%s' fault needs 'path', the directory to cover, such as "
			      "'/var/lib/app'",
			      f->kind);
	else if (v->value[0] != '/' || strstr(v->value, "/../") || strstr(v->value, "/./") ||
		 strlen(v->value) >= 1024)
		fl_errors_add(errs, &v->where,
			      "'path' must be an absolute directory path without '.' or '..', got "
			      "'%s'",
			      v->value);
	else if (!strcmp(v->value, "/"))
		fl_errors_add(errs, &v->where, "'path' cannot be '/'");
	else if (!(fp->path = strdup(v->value)))
		return -ENOMEM;
	while (fp->path && strlen(fp->path) > 1 && fp->path[strlen(fp->path) - 1] == '/')
		fp->path[strlen(fp->path) - 1] = '\0';
	if ((v = fl_params_take(p, "prefix"))) {
		const char *s = v->value;
		if (s[0] == '/' || !strcmp(s, "..") || !strncmp(s, "../", 3) || strstr(s, "/../") ||
		    (strlen(s) >= 3 && !strcmp(s + strlen(s) - 3, "/..")))
			fl_errors_add(errs, &v->where,
				      "'prefix' must be a path relative to 'path', without '..', "
				      "got '%s'",
				      v->value);
		else if (!(fp->prefix = strdup(s)))
			return -ENOMEM;
	}
	if ((v = fl_params_take(p, "ops")) &&
	    fusefs_ops_parse(v->value, &fp->ops, bad, sizeof(bad)) < 0)
		fl_errors_add(errs, &v->where,
			      "'ops' must be a comma-separated list of open, create, read, "
			      "write, fsync, flush, rename, unlink, mkdir, rmdir, getattr, "
			      "setattr, statfs, link, xattr, fallocate or all: unknown '%s'",
			      bad);
	if ((v = fl_params_take(p, "percent")) && fl_nm_parse_percent(v->value, &fp->percent) < 0)
		fl_errors_add(errs, &v->where,
			      "'percent' must be a percentage from 0 to 100 such as '30%%', got "
			      "'%s'",
			      v->value);
	if (latency) {
		if (!fl_params_take(p, "delay"))
			fl_errors_add(errs, &p->where,
				      "an io-latency fault needs 'delay', such as '20ms'");
		fp->err = 0;
		take_delay(p, "delay", &fp->delay_ns, errs);
		take_delay(p, "jitter", &fp->jitter_ns, errs);
		if (fp->jitter_ns > fp->delay_ns)
			fl_errors_add(errs, &p->where, "'jitter' cannot exceed 'delay'");
	} else if ((v = fl_params_take(p, "errno"))) {
		fp->err = fusefs_errno_parse(v->value);
		if (fp->err < 0)
			fl_errors_add(errs, &v->where,
				      "'errno' must be an error name such as EIO, ENOSPC, EROFS, "
				      "EDQUOT or EACCES, got '%s'",
				      v->value);
	}
	if (f->on)
		fl_errors_add(errs, &p->where,
			      "a '%s' fault cannot be 'on' a lab host: the FUSE mount is made in "
			      "this host's mount namespace, and a lab host has its own",
			      f->kind);
	return errs->n > n0 ? -EINVAL : 0;
}

static int error_parse(struct fl_fault *f, const struct fl_params *p, struct fl_errors *errs)
{
	return parse_common(f, p, false, errs);
}

static int latency_parse(struct fl_fault *f, const struct fl_params *p, struct fl_errors *errs)
{
	return parse_common(f, p, true, errs);
}

/* --- probe ----------------------------------------------------------------------------------- */

static int fuse_probe(const struct fl_fault *f, const char **ret_reason)
{
	_cleanup_close_ int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;
		*ret_reason = e == ENOENT ? "no /dev/fuse (modprobe fuse)"
			      : e == EACCES || e == EPERM
				      ? "/dev/fuse cannot be opened: the FUSE backend needs root"
				      : "/dev/fuse cannot be opened";
		return -e;
	}
	if (geteuid() != 0) {
		*ret_reason = "mounting over a directory needs root";
		return -EPERM;
	}
	return 0;
}

/* --- plan ------------------------------------------------------------------------------------ */

static bool any_target(const struct fl_target *t)
{
	return !t->pid && !t->name && !t->cmdline && !t->cgroup;
}

/* 0 when pid sees our mounts (its mount namespace is ours), -EXDEV when not. */
static int same_mount_ns(pid_t pid)
{
	char p[64];
	struct stat a, b;

	snprintf(p, sizeof(p), "/proc/%d/ns/mnt", pid);
	if (stat("/proc/self/ns/mnt", &a) < 0 || stat(p, &b) < 0)
		return 0; /* gone, or no namespaces: nothing to tell */
	return a.st_ino == b.st_ino && a.st_dev == b.st_dev ? 0 : -EXDEV;
}

static int fuse_plan(const struct fl_fault *f, struct fl_inject_ctx *ctx, json_t **ret_objects)
{
	const struct fuse_params *fp = f->priv;
	_cleanup_free_ struct fl_proc *v = NULL;
	_cleanup_free_ char *nspath = NULL, *where = NULL, *pidfile = NULL, *statsfile = NULL;
	_cleanup_free_ char *path = NULL, *state = NULL;
	const struct fl_target *t = &f->target;
	bool any = any_target(t), recheck;
	char source[64];
	json_t *procs, *o, *spare;
	struct stat st;
	uint32_t handle;
	size_t n = 0;
	int r;

	if (!fp)
		return -EINVAL;
	if (stat(fp->path, &st) < 0)
		return fl_set_reason(&ctx->reason, -errno, "'path' %s: %s", fp->path,
				     strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return fl_set_reason(&ctx->reason, -ENOTDIR, "'path' %s is not a directory",
				     fp->path);
	/* the mount lands on the resolved directory, and mountinfo names it so */
	path = realpath(fp->path, NULL);
	state = realpath(fl_state_dir(), NULL);
	if (!path)
		return fl_set_reason(&ctx->reason, -errno, "'path' %s: %s", fp->path,
				     strerror(errno));
	if (!strcmp(path, "/"))
		return fl_set_reason(&ctx->reason, -EINVAL, "'path' %s is '/'", fp->path);
	if (fusefs_mounted(path, NULL))
		return fl_set_reason(&ctx->reason, -EBUSY,
				     "'path' %s is already covered by a faultline FUSE mount "
				     "(another fault, or one to recover)",
				     path);
	if (state && !strncmp(state, path, strlen(path)) &&
	    (state[strlen(path)] == '/' || !state[strlen(path)]))
		return fl_set_reason(&ctx->reason, -EINVAL,
				     "'path' %s holds faultline's state directory %s", path, state);
	/* new processes are targets too when the target is a kind of process, not a choice */
	recheck = !any && !t->pid && !t->pick_random && !t->count && !t->netns && !f->on;
	if (!any) {
		if (t->netns && asprintf(&nspath, "/run/netns/%s", t->netns) < 0)
			return -ENOMEM;
		if (f->on && asprintf(&where, "lab host '%s'", f->on) < 0)
			return -ENOMEM;
		r = fl_target_resolve(t, nspath, where, ctx->protect, ctx->n_protect, ctx->rng, &v,
				      &n, &ctx->reason);
		if (r == -ESRCH && recheck) {
			/* none yet: the ones that start during the fault are the targets */
			free(ctx->reason);
			ctx->reason = NULL;
			n = 0;
		} else if (r < 0) {
			return r;
		}
	}
	for (size_t i = 0; i < n; i++) {
		r = same_mount_ns(v[i].pid);
		if (r < 0)
			return fl_set_reason(
				&ctx->reason, r,
				"pid %d (%s) lives in another mount namespace (a "
				"container, a service with private mounts): a FUSE mount "
				"over %s would not reach it",
				v[i].pid, v[i].comm, path);
	}
	handle = fl_net_handle(ctx->run_id, f->name);
	snprintf(source, sizeof(source), "faultline:%s-%08x", ctx->run_id, handle);
	if (asprintf(&pidfile, "%s/fuse/%s-%08x.pid", fl_state_dir(), ctx->run_id, handle) < 0 ||
	    asprintf(&statsfile, "%s/fuse/%s-%08x.json", fl_state_dir(), ctx->run_id, handle) < 0)
		return -ENOMEM;
	procs = json_array();
	for (size_t i = 0; procs && i < n; i++)
		json_array_append_new(procs, json_pack("{s:i, s:I, s:s}", "pid", (int)v[i].pid,
						       "starttime", (json_int_t)v[i].starttime,
						       "comm", v[i].comm));
	o = json_pack("{s:s, s:s, s:s?, s:s, s:s, s:s, s:i, s:I, s:I, s:I, s:f, s:I, s:I, s:b, "
		      "s:o, s:o}",
		      "type", "fuse-mount", "path", path, "prefix", fp->prefix, "source", source,
		      "pidfile", pidfile, "statsfile", statsfile, "errno", fp->err, "delay_ns",
		      (json_int_t)fp->delay_ns, "jitter_ns", (json_int_t)fp->jitter_ns, "ops",
		      (json_int_t)fp->ops, "percent", fp->percent, "seed",
		      (json_int_t)(fl_rand_next(ctx->rng) >> 1), "for_ns", (json_int_t)f->for_ns,
		      "any", any, "processes", procs, "recheck",
		      recheck ? json_pack("{s:s?, s:s?, s:s?}", "name", t->name, "cmdline",
					  t->cmdline, "cgroup", t->cgroup)
			      : json_null());
	if (!o)
		return -ENOMEM;
	/* faultline and what it protects are never targets, even of a fault without one */
	spare = json_array();
	json_object_set_new(o, "spare", spare);
	json_array_append_new(spare, json_integer(getpid()));
	for (size_t i = 0; spare && i < ctx->n_protect; i++)
		json_array_append_new(spare, json_integer(ctx->protect[i]));
	*ret_objects = json_array();
	if (!*ret_objects || json_array_append_new(*ret_objects, o) < 0) {
		json_decref(*ret_objects);
		return -ENOMEM;
	}
	return 0;
}

/* --- revert ---------------------------------------------------------------------------------- */

static int revert_one(json_t *o, char **ret_reason)
{
	const char *path = json_string_value(json_object_get(o, "path"));
	const char *source = json_string_value(json_object_get(o, "source"));
	const char *pidfile = json_string_value(json_object_get(o, "pidfile"));
	const char *statsfile = json_string_value(json_object_get(o, "statsfile"));
	int r = 0, k;

	if (!path || !source || !pidfile || !statsfile)
		return fl_set_reason(ret_reason, -EINVAL,
				     "malformed fuse-mount object in the journal");
	/* ours by fsname, and only when it is on top: never another mount at the path */
	switch (fusefs_mount_state(path, source)) {
	case FUSEFS_MOUNT_TOP:
		k = fusefs_unmount(path);
		if (k == 1)
			log_warn("%s was busy (files open through it): unmounted lazily; those "
				 "files fail with ENOTCONN once the daemon stops",
				 path);
		else if (k < 0)
			r = fl_set_reason(ret_reason, k, "cannot unmount the FUSE mount at %s: %s",
					  path, strerror(-k));
		break;
	case FUSEFS_MOUNT_COVERED:
		r = fl_set_reason(ret_reason, -EBUSY,
				  "the FUSE mount %s at %s is covered by another mount: unmount "
				  "that one first, then 'faultline recover' again",
				  source, path);
		break;
	}
	k = fl_daemon_stop(pidfile, "FUSE daemon", FUSE_STOP_WAIT_MS, ret_reason);
	if (k < 0 && !r)
		r = k;
	if (r < 0)
		return r;
	unlink(pidfile);
	unlink(statsfile);
	return 0;
}

/* one mount per fault (the plan's only object) */
static int fuse_revert(json_t *objects, char **ret_reason)
{
	return revert_one(json_array_get(objects, 0), ret_reason);
}

/* --- apply ----------------------------------------------------------------------------------- */

static int apply_one(json_t *o, struct fl_inject_ctx *ctx, json_t *injected)
{
	json_t *procs = json_object_get(o, "processes"), *re = json_object_get(o, "recheck"), *p;
	json_t *spare = json_object_get(o, "spare");
	pid_t sv[ARRAY_SIZE(((struct fl_inject_ctx *)0)->protect) + 1];
	_cleanup_free_ struct fusefs_proc *pv = NULL;
	_cleanup_free_ char *dir = NULL;
	struct fl_target t = { 0 };
	struct fusefs_config c = {
		.path = json_string_value(json_object_get(o, "path")),
		.prefix = json_string_value(json_object_get(o, "prefix")),
		.err = (int)json_integer_value(json_object_get(o, "errno")),
		.delay_ns = (uint64_t)json_integer_value(json_object_get(o, "delay_ns")),
		.jitter_ns = (uint64_t)json_integer_value(json_object_get(o, "jitter_ns")),
		.ops = (uint32_t)json_integer_value(json_object_get(o, "ops")),
		.percent = json_number_value(json_object_get(o, "percent")),
		.seed = (uint64_t)json_integer_value(json_object_get(o, "seed")),
		.any = json_is_true(json_object_get(o, "any")),
		.pidfile = json_string_value(json_object_get(o, "pidfile")),
		.statsfile = json_string_value(json_object_get(o, "statsfile")),
	};
	pid_t pid;
	size_t i;
	int r;

	if (!c.path || !c.pidfile || !c.statsfile || !json_is_array(procs))
		return fl_set_reason(&ctx->reason, -EINVAL,
				     "malformed fuse-mount object in the plan");
	pv = calloc(json_array_size(procs) + 1, sizeof(*pv));
	if (!pv)
		return -ENOMEM;
	json_array_foreach (procs, i, p) {
		pv[i].pid = (pid_t)json_integer_value(json_object_get(p, "pid"));
		pv[i].starttime = (uint64_t)json_integer_value(json_object_get(p, "starttime"));
	}
	json_array_foreach (spare, i, p)
		if (c.n_spare < ARRAY_SIZE(sv))
			sv[c.n_spare++] = (pid_t)json_integer_value(p);
	c.spare = sv;
	c.procs = pv;
	c.n_procs = json_array_size(procs);
	if (json_is_object(re)) {
		t.name = (char *)json_string_value(json_object_get(re, "name"));
		t.cmdline = (char *)json_string_value(json_object_get(re, "cmdline"));
		t.cgroup = (char *)json_string_value(json_object_get(re, "cgroup"));
		c.recheck = &t;
	}
	dir = strndup(c.pidfile, (size_t)(strrchr(c.pidfile, '/') - c.pidfile));
	if (!dir || fl_mkdir_p(dir, 0700) < 0)
		return fl_set_reason(&ctx->reason, -errno, "cannot create '%s': %s", dir ? dir : "",
				     strerror(errno));
	c.lease_boot_ns = fl_boottime_ns() +
			  (uint64_t)json_integer_value(json_object_get(o, "for_ns")) +
			  FL_LEASE_GRACE_NS;
	r = fusefs_spawn(&c, &pid, &ctx->reason);
	if (r < 0)
		return r;
	json_object_set_new(injected, "backend", json_string("fuse"));
	json_object_set_new(injected, "daemon_pid", json_integer(pid));
	json_object_set_new(injected, "mount", json_string(c.path));
	json_object_set_new(injected, "source", json_copy(json_object_get(o, "source")));
	json_object_set_new(injected, "processes", json_integer((json_int_t)c.n_procs));
	json_object_set_new(injected, "new_processes_too", json_boolean(c.recheck != NULL));
	json_object_set_new(injected, "expires_boot_ns", json_integer((json_int_t)c.lease_boot_ns));
	return 0;
}

static int fuse_apply(const struct fl_fault *f, json_t *objects, struct fl_inject_ctx *ctx,
		      json_t *injected)
{
	int r = apply_one(json_array_get(objects, 0), ctx, injected);

	if (r < 0)
		fuse_revert(objects, NULL); /* nothing half-done stays behind */
	return r;
}

/* --- observe --------------------------------------------------------------------------------- */

static int fuse_observe(json_t *objects, json_t *observed)
{
	json_t *o = json_array_get(objects, 0), *st;
	const char *pidfile = json_string_value(json_object_get(o, "pidfile"));
	const char *statsfile = json_string_value(json_object_get(o, "statsfile"));
	static const char *const keys[] = { "ops_seen",	    "ops_matched",   "ops_failed",
					    "ops_delayed",  "delay_p50_us",  "delay_p99_us",
					    "delay_max_us", "delay_mean_us", "per_op" };

	if (!pidfile || !statsfile)
		return -EINVAL;
	st = fl_daemon_stats(pidfile, statsfile, FUSE_OBSERVE_WAIT_MS);
	if (!st)
		return -ENOENT;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		json_object_set_new(observed, keys[i], json_copy(json_object_get(st, keys[i])));
	json_decref(st);
	return 0;
}

/* --- describe -------------------------------------------------------------------------------- */

static int fuse_describe(const struct fl_fault *f, char *buf, size_t len)
{
	const struct fuse_params *fp = f->priv;
	char ops[200], tgt[200], d[32], j[32], what[96];

	if (!fp)
		return -EINVAL;
	fusefs_ops_format(fp->ops, ops, sizeof(ops));
	fl_target_describe(&f->target, tgt, sizeof(tgt));
	if (fp->err)
		snprintf(what, sizeof(what), "%s", strerrorname_np(fp->err) ?: "an errno");
	else
		snprintf(what, sizeof(what), "delay %s%s%s",
			 fl_format_duration(fp->delay_ns, d, sizeof(d)),
			 fp->jitter_ns ? " jitter " : "",
			 fp->jitter_ns ? fl_format_duration(fp->jitter_ns, j, sizeof(j)) : "");
	snprintf(buf, len, "FUSE %s on %s of %s in %s%s%s (%g%%)", what, ops, tgt, fp->path,
		 fp->prefix ? "/" : "", fp->prefix ? fp->prefix : "", fp->percent);
	return 0;
}

const struct fl_backend fl_backend_disk_fuse = {
	.kind = "disk-error",
	.name = "fuse",
	.summary = "fail file operations of target processes with an errno through a "
		   "pass-through FUSE mount over the directory (files opened before it are not "
		   "affected)",
	.keys = (const char *const[]){ "path", "prefix", "errno", "ops", "percent", NULL },
	.needs_target = false,
	.reversible = true,
	.parse = error_parse,
	.free_priv = fuse_params_free,
	.probe = fuse_probe,
	.plan = fuse_plan,
	.apply = fuse_apply,
	.revert = fuse_revert,
	.observe = fuse_observe,
	.describe = fuse_describe,
};

const struct fl_backend fl_backend_iolat_fuse = {
	.kind = "io-latency",
	.name = "fuse",
	.summary = "delay file operations of target processes through a pass-through FUSE mount "
		   "over the directory (files opened before it are not affected)",
	.keys = (const char *const[]){ "path", "prefix", "ops", "percent", "delay", "jitter",
				       NULL },
	.needs_target = false,
	.reversible = true,
	.parse = latency_parse,
	.free_priv = fuse_params_free,
	.probe = fuse_probe,
	.plan = fuse_plan,
	.apply = fuse_apply,
	.revert = fuse_revert,
	.observe = fuse_observe,
	.describe = fuse_describe,
};

// SPDX-License-Identifier: GPL-2.0-only
/*
 * disk-error through BPF programs (bpf/disklsm.bpf.c): open, read, write, unlink, rename,
 * mkdir and rmdir of the target processes on files under a directory fail with an errno.
 * Two backends, one code: bpf-lsm attaches LSM programs (called only when bpf is an active
 * LSM), fmod-ret attaches the same verdict as fmod_ret programs on the security_* functions
 * (called whatever the lsm= list). The validator tries them in that order at run time, each
 * probe attaching for real; the journal and result say which attach ran ("attach").
 * The programs' links are pinned under /sys/fs/bpf/faultline/RUN-HANDLE, so the fault outlives
 * a dead faultline until `recover` (and goes inert by itself at fault end + 30 s).
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/types.h>

#include "bpf/disklsm.h" /* before the skeleton, which uses its types */
#include "bpf/disklsm.skel.h"
#include "inject/disk_lsm.h"
#include "inject/injector.h"
#include "inject/log.h"
#include "inject/netutil.h"
#include "inject/target.h"

/* How the programs attach: one backend each. */
enum dl_attach { DL_ATTACH_LSM, DL_ATTACH_FMOD_RET, _DL_ATTACH_MAX };

static const char *const dl_attach_names[_DL_ATTACH_MAX] = {
	[DL_ATTACH_LSM] = "lsm",
	[DL_ATTACH_FMOD_RET] = "fmod_ret",
};

/* The hooks, and their program for each attach (in bpf/disklsm.bpf.c; also the pins' names). */
enum dl_hook { DL_H_OPEN, DL_H_PERM, DL_H_UNLINK, DL_H_RENAME, DL_H_MKDIR, DL_H_RMDIR, DL_N_HOOKS };

static const char *const dl_progs[_DL_ATTACH_MAX][DL_N_HOOKS] = {
	[DL_ATTACH_LSM] = { "disklsm_open", "disklsm_perm", "disklsm_unlink", "disklsm_rename",
			    "disklsm_mkdir", "disklsm_rmdir" },
	[DL_ATTACH_FMOD_RET] = { "disklsm_fopen", "disklsm_fperm", "disklsm_funlink",
				 "disklsm_frename", "disklsm_fmkdir", "disklsm_frmdir" },
};

/* Each operation: its key in `ops`, its bit, and the hook that sees it. */
static const struct dl_op_info {
	const char *name;
	uint32_t bit;
	enum dl_hook hook;
} dl_ops[] = {
	{ "open", DL_OP_OPEN, DL_H_OPEN },	 { "read", DL_OP_READ, DL_H_PERM },
	{ "write", DL_OP_WRITE, DL_H_PERM },	 { "unlink", DL_OP_UNLINK, DL_H_UNLINK },
	{ "rename", DL_OP_RENAME, DL_H_RENAME }, { "mkdir", DL_OP_MKDIR, DL_H_MKDIR },
	{ "rmdir", DL_OP_RMDIR, DL_H_RMDIR },
};

static enum dl_attach backend_attach(const struct fl_backend *b)
{
	return b == &fl_backend_disk_error_fmodret ? DL_ATTACH_FMOD_RET : DL_ATTACH_LSM;
}

/* A plan's "attach"; one without it is lsm's (plans written before fmod_ret). */
static enum dl_attach attach_from_name(const char *s)
{
	for (int a = 0; s && a < _DL_ATTACH_MAX; a++)
		if (!strcmp(s, dl_attach_names[a]))
			return (enum dl_attach)a;
	return s ? _DL_ATTACH_MAX : DL_ATTACH_LSM;
}

static const char *backend_name(const struct fl_fault *f)
{
	return f->backend ? f->backend->name : "bpf-lsm";
}

/* Operations of the kind that no LSM hook sees: another backend (fuse, seccomp) does them. */
static const char *const dl_unhooked[] = { "fsync", "fdatasync", "sync", "flush" };

int fl_disk_errno_parse(const char *s, int *ret)
{
	uint64_t n;

	if (!s || !*s)
		return -EINVAL;
	if (fl_parse_uint(s, 4095, &n) == 0 && n > 0) {
		*ret = (int)n;
		return 0;
	}
	for (int e = 1; e < 4096; e++) {
		const char *name = strerrorname_np(e);
		if (name && !strcasecmp(name, s)) {
			*ret = e;
			return 0;
		}
	}
	return -EINVAL;
}

int fl_disk_ops_parse(const char *s, uint32_t *ret, const char **ret_bad, size_t *ret_badlen)
{
	uint32_t ops = 0;
	const char *p = s;

	while (p && *p) {
		size_t n = strcspn(p, ", ");
		bool found = false;

		if (n == 0) {
			p++;
			continue;
		}
		if (n == 3 && !strncmp(p, "all", 3)) {
			for (size_t i = 0; i < ARRAY_SIZE(dl_ops); i++)
				ops |= dl_ops[i].bit;
			found = true;
		}
		for (size_t i = 0; i < ARRAY_SIZE(dl_ops) && !found; i++)
			if (strlen(dl_ops[i].name) == n && !strncmp(dl_ops[i].name, p, n)) {
				ops |= dl_ops[i].bit;
				found = true;
			}
		for (size_t i = 0; i < ARRAY_SIZE(dl_unhooked) && !found; i++)
			if (strlen(dl_unhooked[i]) == n && !strncmp(dl_unhooked[i], p, n)) {
				*ret_bad = p;
				*ret_badlen = n;
				return -EOPNOTSUPP;
			}
		if (!found) {
			*ret_bad = p;
			*ret_badlen = n;
			return -EINVAL;
		}
		p += n;
	}
	if (!ops) {
		*ret_bad = s;
		*ret_badlen = 0;
		return -EINVAL;
	}
	*ret = ops;
	return 0;
}

size_t fl_disk_ops_format(uint32_t ops, char *buf, size_t len)
{
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(dl_ops); i++)
		if ((ops & dl_ops[i].bit) && off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "," : "",
						dl_ops[i].name);
	return off;
}

uint64_t fl_disk_threshold(double percent)
{
	if (percent >= 100)
		return 1ULL << 32;
	if (percent <= 0)
		return 0;
	return (uint64_t)(percent / 100.0 * 4294967296.0);
}

struct dl_params {
	int err;
	uint32_t ops;
	double percent;
	char *path;
};

static void dl_params_free(void *p)
{
	struct dl_params *dp = p;

	if (dp)
		free(dp->path);
	free(dp);
}

/* "20", "20%", "0.5%": more than 0, at most 100 */
static int parse_percent(const char *s, double *ret)
{
	_cleanup_free_ char *pct = NULL;
	double v;

	if (!*s || s[strlen(s) - 1] != '%') {
		if (asprintf(&pct, "%s%%", s) < 0)
			return -ENOMEM;
		s = pct;
	}
	if (fl_parse_fraction(s, &v) < 0 || v <= 0)
		return -EINVAL;
	*ret = v * 100.0;
	return 0;
}

static int dl_parse(struct fl_fault *f, const struct fl_params *p, struct fl_errors *errs)
{
	struct dl_params *dp = calloc(1, sizeof(*dp));
	struct fl_param *v;
	size_t n0 = errs->n;
	bool unsupported = false;

	if (!dp)
		return -ENOMEM;
	f->priv = dp;
	/* valid for the kind, but the other backends': the validator moves on to them */
	if (f->target.exec) {
		fl_errors_add(errs, &p->where,
			      "the %s backend acts on running processes, not on a command "
			      "faultline launches ('target.exec'): that is the seccomp backend's",
			      backend_name(f));
		return -EOPNOTSUPP;
	}
	if (!f->target.pid && !f->target.name && !f->target.cmdline && !f->target.cgroup) {
		fl_errors_add(errs, &p->where,
			      "the %s backend needs a target ('target.pid', 'target.name', "
			      "'target.cmdline' or 'target.cgroup'); the fuse backend covers every "
			      "process",
			      backend_name(f));
		return -EOPNOTSUPP;
	}
	dp->err = EIO;
	dp->percent = 100;
	for (size_t i = 0; i < ARRAY_SIZE(dl_ops); i++)
		dp->ops |= dl_ops[i].bit;

	if ((v = fl_params_take(p, "errno")) && fl_disk_errno_parse(v->value, &dp->err) < 0)
		fl_errors_add(errs, &v->where,
			      "'errno' must be an errno name such as 'EIO' or 'ENOSPC', got '%s'",
			      v->value);
	if ((v = fl_params_take(p, "ops"))) {
		const char *bad = NULL;
		size_t badlen = 0;
		int k = fl_disk_ops_parse(v->value, &dp->ops, &bad, &badlen);
		char names[128];

		fl_disk_ops_format(~0u, names, sizeof(names));
		if (k == -EOPNOTSUPP) {
			/* valid for the kind: the validator may take the next backend */
			fl_errors_add(errs, &v->where,
				      "the %s backend cannot fail '%.*s': no LSM hook "
				      "sees it (the fuse or seccomp backend can)",
				      backend_name(f), (int)badlen, bad);
			unsupported = true;
		} else if (k < 0) {
			fl_errors_add(errs, &v->where,
				      "'ops' must be a list of operations (%s, or all), got '%s'",
				      names, v->value);
		}
	}
	if ((v = fl_params_take(p, "percent")) && parse_percent(v->value, &dp->percent) < 0)
		fl_errors_add(errs, &v->where,
			      "'percent' must be more than 0 and at most 100, such as '30%%', "
			      "got '%s'",
			      v->value);
	v = fl_params_take(p, "path");
	if (!v)
		fl_errors_add(errs, &p->where,
			      "a 'disk-error' fault needs 'path' (the directory whose files fail)");
	else if (v->value[0] != '/' || strlen(v->value) >= PATH_MAX)
		fl_errors_add(errs, &v->where, "'path' must be an absolute path, got '%s'",
			      v->value);
	else if (!(dp->path = strdup(v->value)))
		return -ENOMEM;
	if (unsupported && errs->n == n0 + 1)
		return -EOPNOTSUPP;
	return errs->n > n0 ? -EINVAL : 0;
}

/* --- probe: load and attach for real, and see the program called ----------------------- */

static void disklsm_destroyp(struct disklsm_bpf **s)
{
	disklsm_bpf__destroy(*s);
}

static void link_destroyp(struct bpf_link **l)
{
	if (*l)
		bpf_link__destroy(*l);
}

/* Load only the programs of `attach` for the hooks of `ops`. */
static void set_autoload(struct disklsm_bpf *skel, enum dl_attach attach, uint32_t ops)
{
	for (int a = 0; a < _DL_ATTACH_MAX; a++)
		for (int h = 0; h < DL_N_HOOKS; h++) {
			bool want = false;

			for (size_t k = 0; a == (int)attach && k < ARRAY_SIZE(dl_ops); k++)
				if ((ops & dl_ops[k].bit) && dl_ops[k].hook == (enum dl_hook)h)
					want = true;
			bpf_program__set_autoload(
				bpf_object__find_program_by_name(skel->obj, dl_progs[a][h]), want);
		}
}

/* The probe's reasons, by attach. */
static const struct dl_probe_text {
	const char *refused_perm, *refused, *attach, *not_called;
} dl_probe_texts[_DL_ATTACH_MAX] = {
	[DL_ATTACH_LSM] = {
		"the kernel refused the BPF LSM program (BPF_PROG_LOAD of lsm/file_permission: "
		"permission denied): it needs CONFIG_BPF_LSM and BPF trampolines, which this "
		"kernel blocks",
		"the kernel refused the BPF LSM program (BPF_PROG_LOAD of lsm/file_permission "
		"failed): it needs CONFIG_BPF_LSM, BTF and BPF trampolines",
		"the BPF LSM program loaded but the kernel refused to attach it (BPF_LINK_CREATE "
		"on lsm/file_permission)",
		"the BPF LSM program attached but was never called: 'bpf' is not an active LSM "
		"(see /sys/kernel/security/lsm; boot with lsm=...,bpf)",
	},
	[DL_ATTACH_FMOD_RET] = {
		"the kernel refused the fmod_ret program (BPF_PROG_LOAD of "
		"fmod_ret/security_file_permission: permission denied): it needs BPF "
		"trampolines, which this kernel blocks",
		"the kernel refused the fmod_ret program (BPF_PROG_LOAD of "
		"fmod_ret/security_file_permission failed): it needs BTF and BPF trampolines",
		"the fmod_ret program loaded but the kernel refused to attach it "
		"(BPF_LINK_CREATE on security_file_permission)",
		"the fmod_ret program on security_file_permission attached but was never called",
	},
};

/*
 * Our file_permission program of `attach`, for our own tgid and a directory that matches
 * nothing, must load, attach and then see one read of ours: for lsm that proves the BPF LSM is
 * active, not only built (an `lsm=` list without bpf attaches programs that are never called).
 * Nothing fails.
 */
static int probe_once(enum dl_attach attach, const char **ret_reason)
{
	const struct dl_probe_text *t = &dl_probe_texts[attach];
	_cleanup_(disklsm_destroyp) struct disklsm_bpf *skel = NULL;
	_cleanup_(link_destroyp) struct bpf_link *link = NULL;
	_cleanup_close_ int fd = -1;
	struct bpf_program *prog;
	struct dl_config *c;
	uint32_t tgid = (uint32_t)getpid();
	uint8_t one = 1;
	char buf[64];
	int r;

	if (geteuid() != 0) {
		*ret_reason = "BPF LSM and fmod_ret programs need root (CAP_BPF, CAP_PERFMON and "
			      "CAP_MAC_ADMIN)";
		return -EPERM;
	}
	libbpf_set_print(fl_libbpf_quiet);
	skel = disklsm_bpf__open();
	if (!skel) {
		*ret_reason = "cannot open the disklsm BPF object";
		return -errno;
	}
	c = (struct dl_config *)&skel->rodata->cfg;
	c->dev = ~0u; /* no superblock has it: nothing matches, nothing fails */
	c->ops = DL_OP_READ;
	set_autoload(skel, attach, DL_OP_READ);
	r = disklsm_bpf__load(skel);
	if (r < 0) {
		*ret_reason = r == -EPERM || r == -EACCES ? t->refused_perm : t->refused;
		return r;
	}
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.tgids), &tgid, &one, BPF_ANY) < 0) {
		*ret_reason = "cannot fill the disklsm target map";
		return -errno;
	}
	prog = bpf_object__find_program_by_name(skel->obj, dl_progs[attach][DL_H_PERM]);
	link = bpf_program__attach(prog);
	if (!link) {
		r = -errno;
		*ret_reason = t->attach;
		return r;
	}
	fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, buf, sizeof(buf)) < 0) {
		*ret_reason = "cannot read /proc/self/stat for the disklsm probe";
		return -errno;
	}
	if (fl_bpf_percpu_sum(bpf_map__fd(skel->maps.counters), DL_SEEN) <= 0) {
		*ret_reason = t->not_called;
		return -EOPNOTSUPP;
	}
	return 0;
}

static int dl_probe(const struct fl_fault *f, const char **ret_reason)
{
	/* one real probe per process and attach: it attaches a program for a moment */
	static int state[_DL_ATTACH_MAX] = { 1, 1 };
	static const char *reason[_DL_ATTACH_MAX];
	enum dl_attach a = backend_attach(f->backend);

	if (state[a] == 1)
		state[a] = probe_once(a, &reason[a]);
	if (state[a] < 0)
		*ret_reason = reason[a];
	return state[a];
}

/* --- plan ------------------------------------------------------------------------------ */

/* The cgroup's level below the root: "/a/b" is 2. */
static uint32_t cgroup_level(const char *cg)
{
	uint32_t n = 0;

	for (const char *p = cg; *p; p++)
		if (*p != '/' && (p == cg || p[-1] == '/'))
			n++;
	return n;
}

/* Only a cgroup: the kernel checks the subtree itself (processes started later are in). */
static bool by_cgroup(const struct fl_target *t)
{
	return t->cgroup && !t->pid && !t->name && !t->cmdline && !t->pick_random && !t->count;
}

static int dl_plan(const struct fl_fault *f, struct fl_inject_ctx *ctx, json_t **ret_objects)
{
	const struct dl_params *dp = f->priv;
	_cleanup_free_ char *pin = NULL, *where = NULL, *nspath = NULL;
	_cleanup_free_ struct fl_proc *v = NULL;
	char ops[128];
	struct stat st;
	json_t *o, *procs;
	size_t n = 0;
	int r;

	if (!dp || !dp->path)
		return fl_set_reason(&ctx->reason, -EINVAL, "disk-error fault without a path");
	if (stat(dp->path, &st) < 0)
		return fl_set_reason(&ctx->reason, -errno, "path '%s': %s", dp->path,
				     strerror(errno));
	if (asprintf(&pin, FL_PIN_ROOT "/%s-%08x", ctx->run_id,
		     fl_net_handle(ctx->run_id, f->name)) < 0)
		return -ENOMEM;
	fl_disk_ops_format(dp->ops, ops, sizeof(ops));
	/* the kernel's dev_t (MAJOR << 20 | MINOR), as the programs read it from the superblock */
	o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:f, s:I, s:I, s:I}", "type",
		      backend_name(f), "attach", dl_attach_names[backend_attach(f->backend)],
		      "pin_dir", pin, "path", dp->path, "errno", dp->err, "ops", ops, "percent",
		      dp->percent, "dev",
		      (json_int_t)((major(st.st_dev) << 20) | minor(st.st_dev)), "ino",
		      (json_int_t)st.st_ino, "for_ns", (json_int_t)f->for_ns);
	if (!o)
		return -ENOMEM;
	if (by_cgroup(&f->target)) {
		uint64_t id;

		r = fl_cgroup_id(f->target.cgroup, &id);
		if (r < 0) {
			json_decref(o);
			return fl_set_reason(&ctx->reason, r,
					     "cannot find cgroup '%s' in the cgroup v2 hierarchy: %s",
					     f->target.cgroup, strerror(-r));
		}
		json_object_set_new(o, "cgroup", json_string(f->target.cgroup));
		json_object_set_new(o, "cgroup_id", json_integer((json_int_t)id));
		json_object_set_new(o, "cgroup_level",
				    json_integer(cgroup_level(f->target.cgroup)));
	} else {
		if ((f->target.netns &&
		     asprintf(&nspath, "/run/netns/%s", f->target.netns) < 0) ||
		    (f->on && asprintf(&where, "lab host '%s'", f->on) < 0)) {
			json_decref(o);
			return -ENOMEM;
		}
		r = fl_target_resolve(&f->target, nspath, where, ctx->protect, ctx->n_protect,
				      ctx->rng, &v, &n, &ctx->reason);
		if (r < 0) {
			json_decref(o);
			return r;
		}
		procs = json_array();
		for (size_t i = 0; procs && i < n; i++)
			json_array_append_new(procs, json_pack("{s:i, s:I, s:s}", "pid",
							       (int)v[i].pid, "starttime",
							       (json_int_t)v[i].starttime, "comm",
							       v[i].comm));
		json_object_set_new(o, "processes", procs);
	}
	*ret_objects = json_array();
	if (!*ret_objects || json_array_append_new(*ret_objects, o) < 0) {
		json_decref(*ret_objects);
		return -ENOMEM;
	}
	return 0;
}

/* --- apply / revert -------------------------------------------------------------------- */

static int pin_path(char **ret, const char *dir, const char *name)
{
	return asprintf(ret, "%s/%s", dir, name) < 0 ? -ENOMEM : 0;
}

/* Remove our pins (links first: the programs go with them) and the directory. */
static int unpin(const char *pin, char **ret_reason)
{
	_cleanup_free_ char *cpath = NULL;

	for (int a = 0; a < _DL_ATTACH_MAX; a++)
		for (int h = 0; h < DL_N_HOOKS; h++) {
			_cleanup_free_ char *lpath = NULL;

			if (pin_path(&lpath, pin, dl_progs[a][h]) < 0)
				return -ENOMEM;
			if (unlink(lpath) < 0 && errno != ENOENT)
				return fl_set_reason(ret_reason, -errno, "cannot remove '%s': %s",
						     lpath, strerror(errno));
		}
	if (pin_path(&cpath, pin, "counters") < 0)
		return -ENOMEM;
	if ((unlink(cpath) < 0 && errno != ENOENT) || (rmdir(pin) < 0 && errno != ENOENT))
		return fl_set_reason(ret_reason, -errno, "cannot remove '%s': %s", pin,
				     strerror(errno));
	rmdir(FL_PIN_ROOT); /* only when empty */
	fl_bpffs_release();
	return 0;
}

/* Put the planned processes still alive (same start time) in the target map. */
static int fill_tgids(struct disklsm_bpf *skel, json_t *procs, struct fl_inject_ctx *ctx,
		      json_t *injected)
{
	json_t *p, *in = json_array(), *gone = json_array();
	uint8_t one = 1;
	size_t i;

	json_array_foreach(procs, i, p) {
		pid_t pid;
		_cleanup_close_ int fd = fl_pidfd_open_planned(p, &pid);
		uint32_t tgid = (uint32_t)pid;

		if (fd < 0) {
			json_array_append_new(gone, json_integer(pid));
			continue;
		}
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.tgids), &tgid, &one, BPF_ANY) < 0)
			return fl_set_reason(&ctx->reason, -errno, "cannot add pid %d to the map: %s",
					     pid, strerror(errno));
		json_array_append_new(in, json_integer(pid));
	}
	json_object_set_new(injected, "pids", in);
	json_object_set_new(injected, "gone", gone);
	if (json_array_size(in) == 0)
		return fl_set_reason(&ctx->reason, -ESRCH,
				     "every planned process exited before the fault");
	return 0;
}

static int apply_one(json_t *o, struct fl_inject_ctx *ctx, json_t *injected)
{
	const char *pin = json_string_value(json_object_get(o, "pin_dir"));
	const char *ops_s = json_string_value(json_object_get(o, "ops"));
	_cleanup_(disklsm_destroyp) struct disklsm_bpf *skel = NULL;
	const char *attach_s = json_string_value(json_object_get(o, "attach"));
	_cleanup_free_ char *cpath = NULL;
	enum dl_attach attach = attach_from_name(attach_s);
	json_t *progs = NULL;
	const char *bad;
	size_t badlen;
	struct dl_config *c;
	uint32_t ops = 0;
	int r;

	if (attach == _DL_ATTACH_MAX || !pin || !ops_s ||
	    fl_disk_ops_parse(ops_s, &ops, &bad, &badlen) < 0)
		return fl_set_reason(&ctx->reason, -EINVAL, "malformed disklsm object in the plan");
	r = fl_bpffs_ensure();
	if (r < 0)
		return fl_set_reason(&ctx->reason, r, "cannot mount the BPF filesystem on " FL_BPFFS
				     ": %s", strerror(-r));
	libbpf_set_print(fl_libbpf_quiet);
	skel = disklsm_bpf__open();
	if (!skel)
		return fl_set_reason(&ctx->reason, -errno, "cannot open the disklsm BPF object: %s",
				     strerror(errno));
	c = (struct dl_config *)&skel->rodata->cfg;
	c->expiry_boot_ns = fl_boottime_ns() +
			    (uint64_t)json_integer_value(json_object_get(o, "for_ns")) +
			    FL_LEASE_GRACE_NS;
	c->threshold = fl_disk_threshold(json_number_value(json_object_get(o, "percent")));
	c->dev = (uint32_t)json_integer_value(json_object_get(o, "dev"));
	c->ino = (uint64_t)json_integer_value(json_object_get(o, "ino"));
	c->ops = ops;
	c->err = (int32_t)json_integer_value(json_object_get(o, "errno"));
	if (json_object_get(o, "cgroup_id")) {
		c->by_cgroup = 1;
		c->cgroup_id = (uint64_t)json_integer_value(json_object_get(o, "cgroup_id"));
		c->cgroup_level = (uint32_t)json_integer_value(json_object_get(o, "cgroup_level"));
	}
	/* load only the programs of the operations asked for, for the attach planned */
	set_autoload(skel, attach, ops);
	r = disklsm_bpf__load(skel);
	if (r < 0)
		return fl_set_reason(&ctx->reason, r,
				     "the kernel refused the disklsm %s programs: %s",
				     dl_attach_names[attach], strerror(-r));
	if (!c->by_cgroup) {
		r = fill_tgids(skel, json_object_get(o, "processes"), ctx, injected);
		if (r < 0)
			return r;
	}
	if ((mkdir(FL_PIN_ROOT, 0700) < 0 && errno != EEXIST) || mkdir(pin, 0700) < 0)
		return fl_set_reason(&ctx->reason, -errno, "cannot create '%s': %s", pin,
				     strerror(errno));
	if (pin_path(&cpath, pin, "counters") < 0) {
		r = -ENOMEM;
		goto fail;
	}
	r = bpf_map__pin(skel->maps.counters, cpath);
	if (r < 0) {
		r = fl_set_reason(&ctx->reason, r, "cannot pin the counters at '%s': %s", cpath,
				  strerror(-r));
		goto fail;
	}
	progs = json_array();
	for (int h = 0; h < DL_N_HOOKS; h++) {
		const char *name = dl_progs[attach][h];
		struct bpf_program *prog = bpf_object__find_program_by_name(skel->obj, name);
		_cleanup_(link_destroyp) struct bpf_link *link = NULL;
		_cleanup_free_ char *lpath = NULL;

		if (!bpf_program__autoload(prog))
			continue;
		link = bpf_program__attach(prog);
		if (!link) {
			r = fl_set_reason(&ctx->reason, -errno, "cannot attach %s: %s",
					  bpf_program__section_name(prog), strerror(errno));
			goto fail;
		}
		/* pinned: the link (and the hook) outlives us; revert or recover unpins it */
		if (pin_path(&lpath, pin, name) < 0) {
			r = -ENOMEM;
			goto fail;
		}
		r = bpf_link__pin(link, lpath);
		if (r < 0) {
			r = fl_set_reason(&ctx->reason, r, "cannot pin the link at '%s': %s", lpath,
					  strerror(-r));
			goto fail;
		}
		json_array_append_new(progs, json_string(bpf_program__section_name(prog)));
	}
	json_object_set_new(injected, "attach", json_string(dl_attach_names[attach]));
	json_object_set_new(injected, "hooks", progs);
	json_object_set_new(injected, "path", json_copy(json_object_get(o, "path")));
	json_object_set_new(injected, "errno", json_string(strerrorname_np(c->err) ?: "?"));
	json_object_set_new(injected, "ops", json_string(ops_s));
	json_object_set_new(injected, "percent", json_copy(json_object_get(o, "percent")));
	json_object_set_new(injected, "counters", json_string(cpath));
	json_object_set_new(injected, "expires_boot_ns", json_integer((json_int_t)c->expiry_boot_ns));
	return 0;
fail:
	json_decref(progs);
	unpin(pin, NULL);
	return r;
}

/* A plan has one object: the programs, their config and their pins. */
static int dl_apply(const struct fl_fault *f, json_t *objects, struct fl_inject_ctx *ctx,
		    json_t *injected)
{
	if (json_array_size(objects) != 1)
		return fl_set_reason(&ctx->reason, -EINVAL, "malformed disklsm plan");
	return apply_one(json_array_get(objects, 0), ctx, injected);
}

static int dl_revert(json_t *objects, char **ret_reason)
{
	json_t *o;
	size_t i;
	int r = 0, k;

	json_array_foreach(objects, i, o) {
		const char *pin = json_string_value(json_object_get(o, "pin_dir"));

		if (!pin || strncmp(pin, FL_PIN_ROOT "/", strlen(FL_PIN_ROOT) + 1))
			k = fl_set_reason(ret_reason, -EINVAL, "malformed disklsm object in the "
					  "journal");
		else
			k = unpin(pin, ret_reason);
		if (k < 0 && !r)
			r = k;
	}
	return r;
}

static int dl_observe(json_t *objects, json_t *observed)
{
	static const char *const names[DL_N_COUNTERS] = {
		[DL_SEEN] = "calls_seen",
		[DL_MATCHED] = "calls_matched",
		[DL_FAILED] = "calls_failed",
		[DL_AFTER_TTL] = "calls_after_ttl",
	};
	long long sum[DL_N_COUNTERS] = { 0 };
	double percent = -1;
	bool any = false;
	json_t *o;
	size_t i;

	json_array_foreach(objects, i, o) {
		const char *pin = json_string_value(json_object_get(o, "pin_dir"));
		_cleanup_free_ char *cpath = NULL;
		_cleanup_close_ int fd = -1;

		if (!pin || pin_path(&cpath, pin, "counters") < 0)
			continue;
		fd = bpf_obj_get(cpath);
		if (fd < 0)
			continue;
		for (int c = 0; c < DL_N_COUNTERS; c++)
			sum[c] += fl_bpf_percpu_sum(fd, (uint32_t)c);
		percent = json_number_value(json_object_get(o, "percent"));
		any = true;
	}
	if (!any)
		return -ENOENT;
	for (int c = 0; c < DL_N_COUNTERS; c++)
		json_object_set_new(observed, names[c], json_integer(sum[c]));
	json_object_set_new(observed, "expected_fail_ratio", json_real(percent / 100.0));
	if (sum[DL_MATCHED])
		json_object_set_new(observed, "fail_ratio",
				    json_real((double)sum[DL_FAILED] / (double)sum[DL_MATCHED]));
	return 0;
}

static int dl_describe(const struct fl_fault *f, char *buf, size_t len)
{
	const struct dl_params *dp = f->priv;
	char ops[128], tgt[200], pct[32] = "";

	if (!dp)
		return -EINVAL;
	fl_disk_ops_format(dp->ops, ops, sizeof(ops));
	fl_target_describe(&f->target, tgt, sizeof(tgt));
	if (dp->percent < 100)
		snprintf(pct, sizeof(pct), "%g%% of ", dp->percent);
	snprintf(buf, len, "%s on %s%s of %s under %s%s%s", strerrorname_np(dp->err) ?: "?", pct,
		 ops, tgt, dp->path ? dp->path : "?", f->on ? " on " : "", f->on ? f->on : "");
	return 0;
}

/* Two backends, one code: the attach follows from the backend (backend_attach). */
#define DL_BACKEND(bname, bsummary)                                                  \
	{                                                                            \
		.kind = "disk-error", .name = bname, .summary = bsummary,            \
		.keys = (const char *const[]){ "errno", "ops", "percent", "path", NULL }, \
		/* checked by dl_parse: without one, the fuse backend's */           \
		.needs_target = false, .reversible = true, .parse = dl_parse,        \
		.free_priv = dl_params_free, .probe = dl_probe, .plan = dl_plan,     \
		.apply = dl_apply, .revert = dl_revert, .observe = dl_observe,       \
		.describe = dl_describe,                                             \
	}

const struct fl_backend fl_backend_disk_error_lsm = DL_BACKEND(
	"bpf-lsm", "fail file operations under a path with an errno (BPF LSM hooks, self-expiring)");

/* The same programs' twins, verdict and pins, attached as fmod_ret on the security_* functions */
const struct fl_backend fl_backend_disk_error_fmodret =
	DL_BACKEND("fmod-ret", "fail file operations under a path with an errno (fmod_ret on "
			       "security_*, where bpf is not an active LSM; self-expiring)");

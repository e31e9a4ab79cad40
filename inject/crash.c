// SPDX-License-Identifier: GPL-2.0-only
/* crash-point: SIGKILL a target on its nth call of a syscall or entry into a function (eBPF). */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>

#include "bpf/crash.h" /* before the skeleton, which uses its types */
#include "bpf/crash.skel.h"
#include "inject/injector.h"
#include "inject/log.h"
#include "inject/netutil.h"
#include "inject/target.h"

#define CRASH_NTH_MAX 1000000000ULL
#define CRASH_SYSCALL_MAX 1024 /* x86_64 numbers are below this */
#define TARGETS_PIN "targets"

struct crash_params {
	char *syscall; /* canonical name, or NULL for a function crash point */
	int nr;
	char *function;
	char *binary;
	uint64_t nth;
	int signal;
};

static void crash_params_free(void *p)
{
	struct crash_params *cp = p;

	if (!cp)
		return;
	free(cp->syscall);
	free(cp->function);
	free(cp->binary);
	free(cp);
}

static const char *ordinal(uint64_t n, char *buf, size_t len)
{
	const char *sfx = "th";

	if (n % 100 < 11 || n % 100 > 13)
		sfx = n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th";
	snprintf(buf, len, "%llu%s", (unsigned long long)n, sfx);
	return buf;
}

/* The x86_64 syscall names libseccomp knows, for "did you mean". */
static const char *closest_syscall(const char *name, char *buf, size_t len)
{
	char *names[CRASH_SYSCALL_MAX];
	const char *best;
	size_t n = 0;

	for (int i = 0; i < CRASH_SYSCALL_MAX; i++) {
		char *s = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, i);
		if (s)
			names[n++] = s;
	}
	best = fl_closest(name, (const char *const *)names, n);
	if (best)
		snprintf(buf, len, "%s", best);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	return best ? buf : NULL;
}

/* A syscall name (or its x86_64 number) to its number; -EINVAL for an unknown one. */
static int resolve_syscall(const char *s, int *ret_nr, char **ret_name)
{
	uint64_t n;
	char *name;
	int nr;

	if (fl_parse_uint(s, CRASH_SYSCALL_MAX - 1, &n) == 0) {
		nr = (int)n;
		name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
		if (!name)
			return -EINVAL;
	} else {
		nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, s);
		/* negative: unknown, or a pseudo-syscall of another architecture */
		if (nr < 0)
			return -EINVAL;
		name = strdup(s);
		if (!name)
			return -ENOMEM;
	}
	*ret_nr = nr;
	*ret_name = name;
	return 0;
}

/*
 * Does the ELF file define a function `name` (also as a versioned "name@@VER")? 0, -ENOENT
 * when it does not, -ENOEXEC when it is no ELF file, or another negative errno.
 */
static int elf_has_function(const char *path, const char *name)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = strlen(name);
	Elf_Scn *scn = NULL;
	Elf *e;
	int r = -ENOENT;

	if (fd < 0)
		return -errno;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOTSUP;
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		if (e)
			elf_end(e);
		return -ENOEXEC;
	}
	while (r == -ENOENT && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		data = elf_getdata(scn, NULL);
		for (size_t i = 0; data && sh.sh_entsize && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *s;

			if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx == SHN_UNDEF)
				continue;
			if (GELF_ST_TYPE(sym.st_info) != STT_FUNC &&
			    GELF_ST_TYPE(sym.st_info) != STT_GNU_IFUNC)
				continue;
			s = elf_strptr(e, sh.sh_link, sym.st_name);
			if (s && !strncmp(s, name, len) && (s[len] == '\0' || s[len] == '@')) {
				r = 0;
				break;
			}
		}
	}
	elf_end(e);
	return r;
}

static void parse_function(struct crash_params *cp, struct fl_param *fn, struct fl_param *bin,
			   struct fl_errors *errs)
{
	struct stat st;
	int k;

	if (!bin) {
		fl_errors_add(errs, &fn->where,
			      "'function' needs 'binary', the ELF file that defines it, such as "
			      "'/lib/x86_64-linux-gnu/libc.so.6'");
		return;
	}
	if (!fn) {
		fl_errors_add(errs, &bin->where,
			      "'binary' needs 'function', the function to crash "
			      "on entering, such as 'fsync'");
		return;
	}
	if (bin->value[0] != '/') {
		fl_errors_add(errs, &bin->where,
			      "'binary' must be an absolute path, such as "
			      "'/lib/x86_64-linux-gnu/libc.so.6', got '%s'",
			      bin->value);
		return;
	}
	if (stat(bin->value, &st) < 0 || !S_ISREG(st.st_mode)) {
		fl_errors_add(errs, &bin->where, "'binary': '%s' %s", bin->value,
			      errno == ENOENT ? "does not exist" : "is not a readable file");
		return;
	}
	if (!fn->value[0]) {
		fl_errors_add(errs, &fn->where, "'function' cannot be empty");
		return;
	}
	k = elf_has_function(bin->value, fn->value);
	if (k == -ENOEXEC)
		fl_errors_add(errs, &bin->where, "'binary': '%s' is not an ELF file", bin->value);
	else if (k == -ENOENT)
		fl_errors_add(errs, &fn->where, "'function': '%s' defines no function '%s'",
			      bin->value, fn->value);
	else if (k < 0)
		fl_errors_add(errs, &bin->where, "'binary': cannot read '%s': %s", bin->value,
			      strerror(-k));
	cp->function = strdup(fn->value);
	cp->binary = strdup(bin->value);
}

static int crash_parse(struct fl_fault *f, const struct fl_params *p, struct fl_errors *errs)
{
	struct fl_param *sc = fl_params_take(p, "syscall"), *nth = fl_params_take(p, "nth");
	struct fl_param *fn = fl_params_take(p, "function"), *bin = fl_params_take(p, "binary");
	struct fl_param *sig = fl_params_take(p, "signal");
	struct crash_params *cp = calloc(1, sizeof(*cp));
	size_t n0 = errs->n;
	char hint[64];

	if (!cp)
		return -ENOMEM;
	f->priv = cp;
	cp->nth = 1;
	cp->signal = SIGKILL;
	if (sc && (fn || bin)) {
		fl_errors_add(errs, &(fn ?: bin)->where,
			      "a crash point is either a 'syscall' or a 'function' in a 'binary', "
			      "not both");
	} else if (sc) {
		int k = resolve_syscall(sc->value, &cp->nr, &cp->syscall);
		if (k == -ENOMEM)
			return k;
		if (k < 0 && closest_syscall(sc->value, hint, sizeof(hint)))
			fl_errors_add(errs, &sc->where,
				      "'syscall': unknown x86_64 syscall '%s' "
				      "(did you mean '%s'?)",
				      sc->value, hint);
		else if (k < 0)
			fl_errors_add(errs, &sc->where, "'syscall': unknown x86_64 syscall '%s'",
				      sc->value);
	} else if (fn || bin) {
		parse_function(cp, fn, bin, errs);
	} else {
		fl_errors_add(errs, &p->where,
			      "a 'crash-point' needs 'syscall' (such as 'fsync') or 'function' and "
			      "'binary' (such as 'fsync' in '/lib/x86_64-linux-gnu/libc.so.6')");
	}
	if (nth && (fl_parse_uint(nth->value, CRASH_NTH_MAX, &cp->nth) < 0 || cp->nth == 0))
		fl_errors_add(
			errs, &nth->where,
			"'nth' must be a whole number from 1 to %llu (the call that crashes), "
			"got '%s'",
			CRASH_NTH_MAX, nth->value);
	if (sig && fl_parse_signal(sig->value, &cp->signal) < 0)
		fl_errors_add(
			errs, &sig->where,
			"'signal' must be a signal name or number such as 'SIGKILL', got '%s'",
			sig->value);
	return errs->n > n0 ? -EINVAL : 0;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN && fl_log_level >= FL_LOG_DEBUG)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

/* Open the object with only the program this crash point attaches. */
static struct crash_bpf *crash_open(bool uprobe)
{
	struct crash_bpf *skel;

	libbpf_set_print(libbpf_quiet);
	skel = crash_bpf__open();
	if (!skel)
		return NULL;
	bpf_program__set_autoload(skel->progs.crash_sys_enter, !uprobe);
	bpf_program__set_autoload(skel->progs.crash_uprobe, uprobe);
	return skel;
}

static int crash_probe(const struct fl_fault *f, const char **ret_reason)
{
	const struct crash_params *cp = f ? f->priv : NULL;
	bool uprobe = cp && cp->function;
	struct crash_bpf *skel;
	int r;

	if (geteuid() != 0) {
		*ret_reason = "crash points need root (CAP_BPF and CAP_PERFMON)";
		return -EPERM;
	}
	skel = crash_open(uprobe);
	if (!skel) {
		*ret_reason = "cannot open the crash-point BPF object";
		return -errno;
	}
	r = crash_bpf__load(skel);
	crash_bpf__destroy(skel);
	if (r < 0)
		*ret_reason =
			uprobe ? "the kernel refused the uprobe program with bpf_send_signal"
			       : "the kernel refused the raw tracepoint sys_enter program with "
				 "bpf_send_signal (BPF_PROG_LOAD failed; needs kernel BTF)";
	return r < 0 ? r : 0;
}

/*
 * A syscall crash point whose target is a cgroup and nothing else: its processes forked later
 * are targets too (the program adds them at their first call). Any other key names a fixed set
 * of processes, and so does a cgroup for a uprobe (attached per process: a uprobe for every
 * process would trap each caller of the function on the host).
 */
static bool cgroup_mode(const struct fl_fault *f)
{
	const struct fl_target *t = &f->target;
	const struct crash_params *cp = f->priv;

	return cp->syscall && t->cgroup && !t->pid && !t->name && !t->cmdline && !t->netns && !t->pick_random &&
	       !t->count;
}

/* "cgroup", its id and its depth in the v2 hierarchy (the program compares that ancestor). */
static int plan_cgroup(const char *cg, json_t *o, char **reason)
{
	uint64_t id;
	int level = 0, r;

	r = fl_cgroup_id(cg, &id);
	if (r < 0)
		return fl_set_reason(reason, r, "cgroup '%s': %s", cg, strerror(-r));
	for (const char *c = cg; *c; c++)
		if (*c != '/' && (c == cg || c[-1] == '/') && strncmp(c, "./", 2) && strcmp(c, "."))
			level++;
	if (level == 0)
		return fl_set_reason(reason, -EINVAL,
				     "cgroup '%s' is the root: every process "
				     "would be a target",
				     cg);
	if (json_object_set_new(o, "cgroup", json_string(cg)) < 0 ||
	    json_object_set_new(o, "cgroup_id", json_integer((json_int_t)id)) < 0 ||
	    json_object_set_new(o, "cgroup_level", json_integer(level)) < 0)
		return -ENOMEM;
	return 0;
}

/* --- plan ---------------------------------------------------------------------------------- */

static int crash_plan(const struct fl_fault *f, struct fl_inject_ctx *ctx, json_t **ret_objects)
{
	const struct crash_params *cp = f->priv;
	_cleanup_free_ struct fl_proc *v = NULL;
	_cleanup_free_ char *pin = NULL;
	json_t *o, *tg, *links, *exempt;
	char sig[32];
	size_t n = 0;
	int r;

	if (!cp)
		return -EINVAL;
	r = fl_fault_targets(f, ctx, &v, &n);
	if (r < 0)
		return r;
	if (n > CRASH_MAX_TARGETS)
		return fl_set_reason(&ctx->reason, -E2BIG,
				     "%zu target processes: a crash point "
				     "takes at most %d (narrow the target or use 'count')",
				     n, CRASH_MAX_TARGETS);
	if (asprintf(&pin, FL_PIN_ROOT "/%s-%08x", ctx->run_id,
		     fl_net_handle(ctx->run_id, f->name)) < 0)
		return -ENOMEM;
	tg = json_array();
	links = json_array();
	exempt = json_array();
	for (size_t i = 0; tg && links && i < n; i++) {
		char ln[48];

		json_array_append_new(tg, json_pack("{s:i, s:I, s:s}", "pid", (int)v[i].pid,
						    "starttime", (json_int_t)v[i].starttime, "comm",
						    v[i].comm));
		if (cp->function) {
			snprintf(ln, sizeof(ln), "link-uprobe-%d", (int)v[i].pid);
			json_array_append_new(links, json_string(ln));
		}
	}
	if (links && !cp->function)
		json_array_append_new(links, json_string("link-sys_enter"));
	for (size_t i = 0; exempt && i < ctx->n_protect; i++)
		json_array_append_new(exempt, json_integer(ctx->protect[i]));
	o = json_pack("{s:s, s:s, s:o, s:o, s:o, s:I, s:s, s:I}", "type", "bpf-signal", "pin_dir",
		      pin, "targets", tg, "links", links, "exempt", exempt, "nth",
		      (json_int_t)cp->nth, "signal", fl_signal_name(cp->signal, sig, sizeof(sig)),
		      "for_ns", (json_int_t)f->for_ns);
	if (o && cgroup_mode(f)) {
		r = plan_cgroup(f->target.cgroup, o, &ctx->reason);
		if (r < 0) {
			json_decref(o);
			return r;
		}
	}
	if (o && cp->syscall &&
	    (json_object_set_new(o, "syscall", json_string(cp->syscall)) < 0 ||
	     json_object_set_new(o, "nr", json_integer(cp->nr)) < 0))
		o = (json_decref(o), NULL);
	if (o && cp->function &&
	    (json_object_set_new(o, "function", json_string(cp->function)) < 0 ||
	     json_object_set_new(o, "binary", json_string(cp->binary)) < 0))
		o = (json_decref(o), NULL);
	if (!o)
		return -ENOMEM;
	*ret_objects = json_array();
	if (!*ret_objects || json_array_append_new(*ret_objects, o) < 0) {
		json_decref(*ret_objects);
		return -ENOMEM;
	}
	return 0;
}

/* --- apply / revert ------------------------------------------------------------------------ */

static void bpf_link_destroyp(struct bpf_link **l)
{
	bpf_link__destroy(*l);
}

static void crash_bpf_destroyp(struct crash_bpf **s)
{
	crash_bpf__destroy(*s);
}

/* Attach one link and pin it as pin/name; the pin keeps it after our fds are gone. */
static int attach_pinned(struct crash_bpf *skel, json_t *o, const char *pin, const char *name,
			 pid_t pid, char **reason)
{
	_cleanup_(bpf_link_destroyp) struct bpf_link *link = NULL;
	_cleanup_free_ char *path = NULL;
	const char *fn = json_string_value(json_object_get(o, "function"));
	const char *bin = json_string_value(json_object_get(o, "binary"));
	int r;

	if (asprintf(&path, "%s/%s", pin, name) < 0)
		return -ENOMEM;
	if (fn) {
		LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = fn);

		link = bpf_program__attach_uprobe_opts(skel->progs.crash_uprobe, pid, bin, 0, &uo);
		if (!link)
			return fl_set_reason(reason, -errno,
					     "cannot attach a uprobe to '%s' in '%s' "
					     "for pid %d: %s",
					     fn, bin, pid, strerror(errno));
	} else {
		link = bpf_program__attach_raw_tracepoint(skel->progs.crash_sys_enter, "sys_enter");
		if (!link)
			return fl_set_reason(reason, -errno,
					     "cannot attach to the raw tracepoint "
					     "sys_enter: %s",
					     strerror(errno));
	}
	r = bpf_link__pin(link, path);
	if (r < 0)
		return fl_set_reason(reason, r, "cannot pin the link at '%s': %s", path,
				     strerror(-r));
	return 0;
}

static int apply_one(json_t *o, struct fl_inject_ctx *ctx, json_t *injected)
{
	const char *pin = json_string_value(json_object_get(o, "pin_dir"));
	const char *sc = json_string_value(json_object_get(o, "syscall"));
	const char *sig = json_string_value(json_object_get(o, "signal"));
	json_t *tg = json_object_get(o, "targets"), *links = json_object_get(o, "links");
	_cleanup_(crash_bpf_destroyp) struct crash_bpf *skel = NULL;
	_cleanup_free_ char *mpath = NULL;
	struct crash_config *c;
	json_t *t, *armed = json_array(), *gone = json_array();
	int signo = SIGKILL, r;
	size_t i;

	if (!pin || !json_is_array(tg) || !json_is_array(links) || !armed || !gone ||
	    (!sc && !json_object_get(o, "function")) || (sig && fl_parse_signal(sig, &signo) < 0)) {
		json_decref(armed);
		json_decref(gone);
		return fl_set_reason(&ctx->reason, -EINVAL,
				     "malformed bpf-signal object in the plan");
	}
	json_object_set_new(injected, "armed", armed);
	json_object_set_new(injected, "gone", gone);
	r = fl_bpffs_ensure();
	if (r < 0)
		return fl_set_reason(&ctx->reason, r,
				     "cannot mount the BPF filesystem on " FL_BPFFS ": %s",
				     strerror(-r));
	skel = crash_open(!sc);
	if (!skel)
		return fl_set_reason(&ctx->reason, -errno,
				     "cannot open the crash-point BPF object: %s",
				     strerror(errno));
	c = (struct crash_config *)&skel->rodata->cfg;
	c->expiry_boot_ns = fl_boottime_ns() +
			    (uint64_t)json_integer_value(json_object_get(o, "for_ns")) +
			    FL_LEASE_GRACE_NS;
	c->nth = (uint64_t)json_integer_value(json_object_get(o, "nth"));
	c->syscall_nr = (uint32_t)json_integer_value(json_object_get(o, "nr"));
	c->signal = (uint32_t)signo;
	c->cgroup_id = (uint64_t)json_integer_value(json_object_get(o, "cgroup_id"));
	c->cgroup_level = (uint32_t)json_integer_value(json_object_get(o, "cgroup_level"));
	r = crash_bpf__load(skel);
	if (r < 0)
		return fl_set_reason(&ctx->reason, r,
				     "the kernel refused the crash-point program: %s",
				     strerror(-r));
	json_array_foreach (tg, i, t) {
		uint32_t pid = (uint32_t)json_integer_value(json_object_get(t, "pid"));
		struct crash_target ct = {
			.starttime = (uint64_t)json_integer_value(json_object_get(t, "starttime")),
		};

		r = bpf_map__update_elem(skel->maps.targets, &pid, sizeof(pid), &ct, sizeof(ct),
					 BPF_NOEXIST);
		if (r < 0)
			return fl_set_reason(&ctx->reason, r,
					     "cannot add pid %u to the targets: %s", pid,
					     strerror(-r));
	}
	json_array_foreach (json_object_get(o, "exempt"), i, t) {
		uint32_t pid = (uint32_t)json_integer_value(t);
		struct crash_target ct = { .verdict = CRASH_EXEMPT };

		/* a planned target is never exempt (the plan left faultline's own out) */
		bpf_map__update_elem(skel->maps.targets, &pid, sizeof(pid), &ct, sizeof(ct),
				     BPF_NOEXIST);
	}
	if ((mkdir(FL_PIN_ROOT, 0700) < 0 && errno != EEXIST) || mkdir(pin, 0700) < 0)
		return fl_set_reason(&ctx->reason, -errno, "cannot create '%s': %s", pin,
				     strerror(errno));
	if (asprintf(&mpath, "%s/" TARGETS_PIN, pin) < 0)
		return -ENOMEM;
	r = bpf_map__pin(skel->maps.targets, mpath);
	if (r < 0)
		return fl_set_reason(&ctx->reason, r, "cannot pin the targets at '%s': %s", mpath,
				     strerror(-r));
	if (sc) {
		r = attach_pinned(skel, o, pin, "link-sys_enter", 0, &ctx->reason);
		if (r < 0)
			return r;
		json_array_foreach (tg, i, t)
			json_array_append(armed, json_object_get(t, "pid"));
	} else {
		/* one uprobe per process: the kernel filters on its memory map */
		json_array_foreach (tg, i, t) {
			pid_t pid;
			_cleanup_close_ int pfd = fl_pidfd_open_planned(t, &pid);

			if (pfd == -ESRCH) {
				json_array_append_new(gone, json_integer(pid));
				continue;
			}
			r = attach_pinned(skel, o, pin, json_string_value(json_array_get(links, i)),
					  pid, &ctx->reason);
			if (r < 0)
				return r;
			json_array_append_new(armed, json_integer(pid));
		}
	}
	if (json_array_size(armed) == 0)
		return fl_set_reason(&ctx->reason, -ESRCH,
				     "every planned process exited before "
				     "the crash point was armed");
	if (sc) {
		json_object_set_new(injected, "syscall", json_string(sc));
		json_object_set(injected, "nr", json_object_get(o, "nr"));
	} else {
		json_object_set(injected, "function", json_object_get(o, "function"));
		json_object_set(injected, "binary", json_object_get(o, "binary"));
	}
	json_object_set(injected, "nth", json_object_get(o, "nth"));
	json_object_set(injected, "signal", json_object_get(o, "signal"));
	json_object_set_new(injected, "pin_dir", json_string(pin));
	json_object_set_new(injected, "expires_boot_ns",
			    json_integer((json_int_t)c->expiry_boot_ns));
	/* the pins hold the links, the links the program: our fds can go */
	return 0;
}

/* The plan has one object (bpf-signal): apply, observe and revert take the first. */
static int crash_apply(const struct fl_fault *f, json_t *objects, struct fl_inject_ctx *ctx,
		       json_t *injected)
{
	return apply_one(json_array_get(objects, 0), ctx, injected);
}

static const char *verdict_name(uint32_t v)
{
	static const char *const names[] = { "armed", "fired", "pid-reused", "signal-failed",
					     "exempt" };

	return v < ARRAY_SIZE(names) ? names[v] : "unknown";
}

static int crash_observe(json_t *objects, json_t *observed)
{
	uint64_t mono = fl_now_ns(), real = fl_realtime_ns();
	json_t *o = json_array_get(objects, 0), *out;
	const char *pin = json_string_value(json_object_get(o, "pin_dir"));
	_cleanup_free_ char *mpath = NULL;
	_cleanup_close_ int fd = -1;
	long long fired = 0, calls = 0;
	uint32_t pid;

	if (!pin)
		return -EINVAL;
	if (asprintf(&mpath, "%s/" TARGETS_PIN, pin) < 0)
		return -ENOMEM;
	fd = bpf_obj_get(mpath);
	if (fd < 0)
		return -errno;
	out = json_array();
	/* every process the map holds: the planned ones, and a cgroup's later members */
	for (int k = bpf_map_get_next_key(fd, NULL, &pid); k == 0;
	     k = bpf_map_get_next_key(fd, &pid, &pid)) {
		struct crash_target ct;
		json_t *e;

		if (bpf_map_lookup_elem(fd, &pid, &ct) < 0 || ct.verdict == CRASH_EXEMPT)
			continue;
		e = json_pack("{s:i, s:I, s:s}", "pid", (int)pid, "calls", (json_int_t)ct.calls,
			      "verdict", verdict_name(ct.verdict));
		if (e && ct.verdict == CRASH_FIRED) {
			/* when the nth call entered the kernel, also as wall-clock time */
			json_object_set_new(e, "tid", json_integer(ct.tid));
			json_object_set_new(e, "fired_mono_ns",
					    json_integer((json_int_t)ct.fired_ns));
			json_object_set_new(
				e, "fired_at_ns",
				json_integer((json_int_t)(real - (mono - ct.fired_ns))));
			fired++;
		}
		if (e && ct.verdict == CRASH_FAILED)
			json_object_set_new(e, "error", json_string(strerror(-ct.err)));
		calls += (long long)ct.calls;
		json_array_append_new(out, e);
	}
	json_object_set(observed, "nth", json_object_get(o, "nth"));
	json_object_set_new(observed, "calls_counted", json_integer(calls));
	json_object_set_new(observed, "signals_sent", json_integer(fired));
	json_object_set_new(observed, "targets", out);
	return 0;
}

static int unlink_pin(const char *dir, const char *name, char **reason)
{
	_cleanup_free_ char *path = NULL;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return -ENOMEM;
	if (unlink(path) < 0 && errno != ENOENT)
		return fl_set_reason(reason, -errno, "cannot remove '%s': %s", path,
				     strerror(errno));
	return 0;
}

static int revert_one(json_t *o, char **ret_reason)
{
	const char *pin = json_string_value(json_object_get(o, "pin_dir"));
	json_t *links = json_object_get(o, "links"), *l;
	size_t i;
	int r = 0, k;

	if (!pin || !json_is_array(links) || strncmp(pin, FL_PIN_ROOT "/", strlen(FL_PIN_ROOT) + 1))
		return fl_set_reason(ret_reason, -EINVAL,
				     "malformed bpf-signal object in the journal");
	/* the last reference to a link is its pin: unpinning detaches the program */
	json_array_foreach (links, i, l) {
		const char *name = json_string_value(l);

		if (!name || strchr(name, '/'))
			continue;
		k = unlink_pin(pin, name, ret_reason);
		if (k < 0 && !r)
			r = k;
	}
	k = unlink_pin(pin, TARGETS_PIN, ret_reason);
	if (k < 0 && !r)
		r = k;
	if (r < 0)
		return r;
	if (rmdir(pin) < 0 && errno != ENOENT)
		return fl_set_reason(ret_reason, -errno, "cannot remove '%s': %s", pin,
				     strerror(errno));
	rmdir(FL_PIN_ROOT); /* only when empty */
	fl_bpffs_release();
	return 0;
}

static int crash_revert(json_t *objects, char **ret_reason)
{
	return revert_one(json_array_get(objects, 0), ret_reason);
}

static int crash_describe(const struct fl_fault *f, char *buf, size_t len)
{
	const struct crash_params *cp = f->priv;
	char sig[32], tgt[200], nth[32];

	if (!cp)
		return -EINVAL;
	fl_target_describe(&f->target, tgt, sizeof(tgt));
	if (cp->syscall)
		snprintf(buf, len, "%s to %s%s%s on its %s %s()",
			 fl_signal_name(cp->signal, sig, sizeof(sig)), tgt, f->on ? " on " : "",
			 f->on ? f->on : "", ordinal(cp->nth, nth, sizeof(nth)), cp->syscall);
	else
		snprintf(buf, len, "%s to %s%s%s on its %s entry into %s() in %s",
			 fl_signal_name(cp->signal, sig, sizeof(sig)), tgt, f->on ? " on " : "",
			 f->on ? f->on : "", ordinal(cp->nth, nth, sizeof(nth)), cp->function,
			 cp->binary);
	return 0;
}

const struct fl_backend fl_backend_crash_bpf = {
	.kind = "crash-point",
	.name = "bpf-signal",
	.summary = "SIGKILL a process on its nth syscall or function entry (eBPF, self-expiring)",
	.keys = (const char *const[]){ "syscall", "nth", "function", "binary", "signal", NULL },
	.needs_target = true,
	.reversible = true,
	.parse = crash_parse,
	.free_priv = crash_params_free,
	.probe = crash_probe,
	.plan = crash_plan,
	.apply = crash_apply,
	.revert = crash_revert,
	.observe = crash_observe,
	.describe = crash_describe,
};

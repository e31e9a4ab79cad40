// SPDX-License-Identifier: GPL-2.0-only
/* Host capability probing for `faultline doctor`, and the backend choice per fault kind. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/seccomp.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/qdisc/tbf.h>
#include <seccomp.h>

#include "bpf/probe.skel.h"
#include "inject/doctor.h"
#include "inject/log.h"
#include "inject/nlack.h"
#include "inject/seccomp.h"

/* Not in Debian 12's 6.1 uapi headers; values from the kernel's uapi. */
#ifndef BPF_TCX_INGRESS
#define BPF_TCX_INGRESS 46
#endif
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

/* A queue number for the NFQUEUE probes; queues are per netns, so no one else's. */
#define PROBE_QUEUE 4242

static const char *const cap_names[_FL_CAP_MAX] = {
	[FL_CAP_ROOT] = "root",
	[FL_CAP_SYS_ADMIN] = "cap-sys-admin",
	[FL_CAP_NET_ADMIN] = "cap-net-admin",
	[FL_CAP_BPF] = "cap-bpf",
	[FL_CAP_KERNEL_BTF] = "kernel-btf",
	[FL_CAP_BPF_SYSCALL] = "bpf-syscall",
	[FL_CAP_NETNS] = "netns",
	[FL_CAP_TC_BPF] = "tc-bpf",
	[FL_CAP_TCX] = "tcx",
	[FL_CAP_NETEM] = "netem",
	[FL_CAP_TBF] = "tbf",
	[FL_CAP_NFQUEUE] = "nfqueue",
	[FL_CAP_IPTABLES_NFQUEUE] = "iptables-nfqueue",
	[FL_CAP_VETH] = "veth",
	[FL_CAP_BRIDGE] = "bridge",
	[FL_CAP_BPF_TRAMPOLINE] = "bpf-trampoline",
	[FL_CAP_BPF_LSM] = "bpf-lsm",
	[FL_CAP_BPF_LSM_ACTIVE] = "bpf-lsm-active",
	[FL_CAP_FMOD_RET_SECURITY] = "fmod-ret-security",
	[FL_CAP_FMOD_RET_SYSCALL] = "fmod-ret-syscall",
	[FL_CAP_KPROBE_OVERRIDE] = "kprobe-override",
	[FL_CAP_TP_BTF_SIGNAL] = "tp-btf-signal",
	[FL_CAP_TRACEPOINT_SIGNAL] = "tracepoint-signal",
	[FL_CAP_UPROBE] = "uprobe",
	[FL_CAP_SECCOMP_FILTER] = "seccomp-filter",
	[FL_CAP_SECCOMP_NOTIFY] = "seccomp-notify",
	[FL_CAP_SECCOMP_SYNC_WAKEUP] = "seccomp-notify-sync-wakeup",
	[FL_CAP_DEV_FUSE] = "dev-fuse",
	[FL_CAP_FUSERMOUNT] = "fusermount3",
	[FL_CAP_CGROUP2] = "cgroup2",
	[FL_CAP_CGROUP_KILL] = "cgroup-kill",
	[FL_CAP_PIDFD] = "pidfd",
};

const char *fl_cap_name(enum fl_cap_id id)
{
	if (id <= FL_CAP_NONE || id >= _FL_CAP_MAX)
		return NULL;
	return cap_names[id];
}

enum fl_cap_id fl_cap_from_name(const char *name)
{
	for (int i = FL_CAP_NONE + 1; name && i < _FL_CAP_MAX; i++)
		if (!strcmp(cap_names[i], name))
			return (enum fl_cap_id)i;
	return FL_CAP_NONE;
}

/* --- results -------------------------------------------------------------------------- */

static void _printf_(3, 4) set_cap(struct fl_cap_result *res, bool ok, const char *fmt, ...)
{
	va_list ap;

	res->ok = ok;
	va_start(ap, fmt);
	vsnprintf(res->detail, sizeof(res->detail), fmt, ap);
	va_end(ap);
}

/* Copy with truncation, always terminated. */
static void copy_str(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static const char *errname(int err)
{
	const char *n;

	if (err < 0)
		err = -err;
	n = strerrorname_np(err);
	return n ? n : "unknown error";
}

/* --- privileges ----------------------------------------------------------------------- */

struct privs {
	bool root;
	uint64_t effective;
	int last_cap;
};

static void read_privs(struct privs *p)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};
	_cleanup_free_ char *s = NULL;

	p->root = geteuid() == 0;
	p->effective = 0;
	if (syscall(SYS_capget, &hdr, data) == 0)
		p->effective = (uint64_t)data[1].effective << 32 | data[0].effective;
	p->last_cap = 40;
	if (fl_read_file("/proc/sys/kernel/cap_last_cap", &s, NULL) == 0)
		p->last_cap = atoi(s);
}

static bool has_cap(const struct privs *p, int cap)
{
	return cap <= p->last_cap && cap < 64 && (p->effective & (1ULL << cap));
}

static bool can_bpf(const struct privs *p)
{
	return has_cap(p, CAP_SYS_ADMIN) || has_cap(p, CAP_BPF);
}

static bool can_trace(const struct privs *p)
{
	return has_cap(p, CAP_SYS_ADMIN) || (has_cap(p, CAP_BPF) && has_cap(p, CAP_PERFMON));
}

static void needs_root(struct fl_cap_result *res, const char *missing)
{
	set_cap(res, false, "needs root (no %s)", missing);
}

static void probe_privs(struct fl_caps *caps, const struct privs *p)
{
	static const struct {
		enum fl_cap_id id;
		int cap;
		const char *name;
	} tab[] = {
		{ FL_CAP_SYS_ADMIN, CAP_SYS_ADMIN, "CAP_SYS_ADMIN" },
		{ FL_CAP_NET_ADMIN, CAP_NET_ADMIN, "CAP_NET_ADMIN" },
		{ FL_CAP_BPF, CAP_BPF, "CAP_BPF" },
	};

	set_cap(&caps->cap[FL_CAP_ROOT], p->root, "euid %u%s", (unsigned)geteuid(),
		p->root ? "" : " (not root)");
	for (size_t i = 0; i < ARRAY_SIZE(tab); i++) {
		struct fl_cap_result *res = &caps->cap[tab[i].id];

		if (tab[i].cap > p->last_cap)
			set_cap(res, false, "kernel has no %s (cap_last_cap %d)", tab[i].name,
				p->last_cap);
		else
			set_cap(res, has_cap(p, tab[i].cap), "%s %s the effective set (capget)",
				tab[i].name, has_cap(p, tab[i].cap) ? "in" : "not in");
	}
}

/* --- libbpf output -------------------------------------------------------------------- */

/* The first warning libbpf printed during the current probe: its reason when no log says. */
static char libbpf_warning[FL_DOCTOR_DETAIL_MAX];

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	log_debug("%s", buf);
	if (level == LIBBPF_WARN && !libbpf_warning[0])
		copy_str(libbpf_warning, sizeof(libbpf_warning),
			 strncmp(buf, "libbpf: ", 8) ? buf : buf + 8);
	return 0;
}

/*
 * The line of a verifier log that says why: the last one that is not statistics. Empty when
 * the kernel refused without a word (trampolines on hardened kernels).
 */
static void log_reason(const char *log, char *out, size_t len)
{
	const char *p = log, *best = NULL;
	size_t best_len = 0;

	out[0] = '\0';
	while (p && *p) {
		const char *e = strchrnul(p, '\n');
		size_t l = (size_t)(e - p);

		if (l && strncmp(p, "processed ", 10) && strncmp(p, "verification time", 17) &&
		    strncmp(p, "stack depth", 11) && strncmp(p, "-- ", 3)) {
			best = p;
			best_len = l;
		}
		p = *e ? e + 1 : NULL;
	}
	if (best)
		snprintf(out, len, "%.*s", (int)(best_len < len ? best_len : len - 1), best);
}

/* --- BPF probes ----------------------------------------------------------------------- */

static void probe_bpf_destroyp(struct probe_bpf **p)
{
	if (*p)
		probe_bpf__destroy(*p);
}

static void bpf_link_destroyp(struct bpf_link **l)
{
	if (*l)
		bpf_link__destroy(*l);
}

#define PROBE_LOG_SIZE (64 * 1024)

/*
 * Open the skeleton with only `prog` set to load, and load it. Returns 0 when loaded, 1 when
 * the kernel or libbpf refused (res says why: verifier log line, libbpf's warning or the
 * errno, prefixed with `what`), or -ENOMEM when doctor itself ran out of memory.
 */
static int load_one(const char *prog, const char *what, struct fl_cap_result *res,
		    struct probe_bpf **ret)
{
	_cleanup_(probe_bpf_destroyp) struct probe_bpf *skel = NULL;
	_cleanup_free_ char *log = calloc(1, PROBE_LOG_SIZE);
	struct bpf_program *p, *target = NULL;
	char reason[FL_DOCTOR_DETAIL_MAX];
	int r;

	if (!log)
		return -ENOMEM;
	libbpf_warning[0] = '\0';
	skel = probe_bpf__open();
	if (!skel) {
		set_cap(res, false, "%s: cannot open the probe object: %s", what, errname(errno));
		return 1;
	}
	bpf_object__for_each_program(p, skel->obj) {
		bool want = !strcmp(bpf_program__name(p), prog);

		bpf_program__set_autoload(p, want);
		if (want)
			target = p;
	}
	if (!target) {
		set_cap(res, false, "%s: no program '%s' in the probe object", what, prog);
		return 1;
	}
	bpf_program__set_log_buf(target, log, PROBE_LOG_SIZE);
	r = probe_bpf__load(skel);
	if (r < 0) {
		log_reason(log, reason, sizeof(reason));
		if (reason[0])
			set_cap(res, false, "%s: BPF_PROG_LOAD %s: %s", what, errname(r), reason);
		else if (log[0] == '\0' && libbpf_warning[0] &&
			 !strstr(libbpf_warning, "program load failed"))
			set_cap(res, false, "%s: %s (%s)", what, libbpf_warning, errname(r));
		else
			set_cap(res, false, "%s: BPF_PROG_LOAD %s, %s", what, errname(r),
				log[0] ? "no reason in the verifier log" : "empty verifier log");
		return 1;
	}
	*ret = TAKE_PTR(skel);
	return 0;
}

struct bpf_probe {
	enum fl_cap_id id;
	const char *prog; /* in bpf/probe.bpf.c */
	const char *what;
	bool attach;	  /* attach by section name after load, then detach */
	bool tracing;	  /* needs CAP_PERFMON as well as CAP_BPF */
};

static const struct bpf_probe bpf_probes[] = {
	{ FL_CAP_BPF_SYSCALL, "probe_socket", "socket filter", false, false },
	{ FL_CAP_BPF_TRAMPOLINE, "probe_fentry", "fentry/vfs_read", true, true },
	{ FL_CAP_BPF_LSM, "probe_lsm", "lsm/file_permission", true, true },
	{ FL_CAP_FMOD_RET_SECURITY, "probe_fmod_ret_security",
	  "fmod_ret/security_file_permission", true, true },
	{ FL_CAP_FMOD_RET_SYSCALL, "probe_fmod_ret_syscall", "fmod_ret/__x64_sys_write", true,
	  true },
	{ FL_CAP_KPROBE_OVERRIDE, "probe_kprobe_override",
	  "kprobe/__x64_sys_getppid with bpf_override_return", true, true },
	{ FL_CAP_TP_BTF_SIGNAL, "probe_tp_btf_signal", "tp_btf/sys_enter with bpf_send_signal",
	  true, true },
	{ FL_CAP_TRACEPOINT_SIGNAL, "probe_tp_signal",
	  "tracepoint/raw_syscalls/sys_enter with bpf_send_signal", true, true },
};

static int run_bpf_probe(const struct bpf_probe *bp, struct fl_cap_result *res)
{
	_cleanup_(probe_bpf_destroyp) struct probe_bpf *skel = NULL;
	_cleanup_(bpf_link_destroyp) struct bpf_link *link = NULL;
	struct bpf_program *prog;
	int r;

	r = load_one(bp->prog, bp->what, res, &skel);
	if (r != 0)
		return r < 0 ? r : 0;
	if (!bp->attach) {
		set_cap(res, true, "%s loaded", bp->what);
		return 0;
	}
	prog = bpf_object__find_program_by_name(skel->obj, bp->prog);
	libbpf_warning[0] = '\0';
	link = bpf_program__attach(prog);
	if (!link) {
		r = -errno;
		if (libbpf_warning[0])
			set_cap(res, false, "%s: loaded, attach failed: %s", bp->what,
				libbpf_warning);
		else
			set_cap(res, false, "%s: loaded, attach failed: %s", bp->what, errname(r));
		return 0;
	}
	set_cap(res, true, "%s loaded and attached", bp->what);
	return 0;
}

/* A uprobe on libc's getppid() for our own pid: must fire when we call it. */
static int probe_uprobe(struct fl_cap_result *res)
{
	_cleanup_(probe_bpf_destroyp) struct probe_bpf *skel = NULL;
	_cleanup_(bpf_link_destroyp) struct bpf_link *link = NULL;
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = "getppid");
	const char *what = "uprobe on libc getppid()";
	Dl_info info;
	int r;

	if (!dladdr((void *)getppid, &info) || !info.dli_fname || info.dli_fname[0] != '/') {
		set_cap(res, false, "%s: cannot find libc's path (dladdr)", what);
		return 0;
	}
	r = load_one("probe_uprobe", what, res, &skel);
	if (r != 0)
		return r < 0 ? r : 0;
	skel->data->uprobe_tgid = (__u32)getpid();
	libbpf_warning[0] = '\0';
	link = bpf_program__attach_uprobe_opts(skel->progs.probe_uprobe, getpid(), info.dli_fname,
					       0, &uo);
	if (!link) {
		r = -errno;
		set_cap(res, false, "%s: attach failed: %s", what,
			libbpf_warning[0] ? libbpf_warning : errname(r));
		return 0;
	}
	(void)getppid();
	if (skel->bss->uprobe_hits == 0)
		set_cap(res, false, "%s: attached to %s but did not fire", what, info.dli_fname);
	else
		set_cap(res, true, "%s in %s attached, fired, detached", what, info.dli_fname);
	return 0;
}

/* --- child processes ------------------------------------------------------------------ */

/* Results the children write (MAP_SHARED); done[] says which they filled in. */
struct shared {
	struct fl_cap_result cap[_FL_CAP_MAX];
	bool done[_FL_CAP_MAX];
};

static void child_set(struct shared *sh, enum fl_cap_id id, bool ok, const char *fmt, ...)
	_printf_(4, 5);

static void child_set(struct shared *sh, enum fl_cap_id id, bool ok, const char *fmt, ...)
{
	va_list ap;

	sh->cap[id].ok = ok;
	va_start(ap, fmt);
	vsnprintf(sh->cap[id].detail, sizeof(sh->cap[id].detail), fmt, ap);
	va_end(ap);
	sh->done[id] = true;
}

struct child {
	const char *what;
	pid_t pid;
	int pidfd;
	const enum fl_cap_id *owns; /* FL_CAP_NONE-terminated */
};

/*
 * Fork a child that runs fn and exits without running atexit handlers or flushing the
 * parent's stdio buffers. It dies with us (PDEATHSIG), so its namespaces never outlive doctor.
 */
static int child_start(struct child *c, void (*fn)(struct shared *, void *), struct shared *sh,
		       void *arg)
{
	pid_t parent = getpid();
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(1);
		fn(sh, arg);
		_exit(0);
	}
	c->pid = pid;
	c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	return 0;
}

/* Wait for the child until the deadline, then kill it; fills in what it did not report. */
static void child_finish(struct child *c, struct shared *sh, uint64_t deadline,
			 struct fl_caps *caps)
{
	char why[128] = "";
	int status = 0;

	if (c->pid <= 0)
		return;
	if (c->pidfd >= 0) {
		uint64_t now = fl_now_ns();
		int ms = now >= deadline ? 0 : (int)((deadline - now) / NSEC_PER_MSEC) + 1;
		struct pollfd pfd = { .fd = c->pidfd, .events = POLLIN };
		int r;

		do
			r = poll(&pfd, 1, ms);
		while (r < 0 && errno == EINTR);
		if (r == 0) {
			/* our own child, by its pid */
			kill(c->pid, SIGKILL);
			snprintf(why, sizeof(why), "%s probe timed out", c->what);
		}
		close(c->pidfd);
	}
	while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
		;
	log_debug("doctor: %s probe reaped %.1f ms before the deadline", c->what,
		  ((double)deadline - (double)fl_now_ns()) / NSEC_PER_MSEC);
	if (!why[0] && WIFSIGNALED(status))
		snprintf(why, sizeof(why), "%s probe died of %s", c->what,
			 sigabbrev_np(WTERMSIG(status)) ?: "a signal");
	else if (!why[0])
		snprintf(why, sizeof(why), "%s probe did not report", c->what);
	for (const enum fl_cap_id *id = c->owns; *id != FL_CAP_NONE; id++) {
		if (sh->done[*id])
			caps->cap[*id] = sh->cap[*id];
		else
			set_cap(&caps->cap[*id], false, "%s", why);
	}
	c->pid = 0;
}

/* Run argv (full path), collect its stdout+stderr (last line kept), until the deadline. */
static int run_cmd(char *const argv[], char *out, size_t outlen, uint64_t deadline)
{
	_cleanup_close_ int rd = -1;
	char buf[1024];
	size_t len = 0;
	int p[2], status = 0;
	pid_t pid;

	out[0] = '\0';
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);

		/* dies with the probe child that ran it, and so with doctor */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || nul < 0 || dup2(nul, 0) < 0 || dup2(p[1], 1) < 0 || dup2(p[1], 2) < 0)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	rd = p[0];
	for (;;) {
		uint64_t now = fl_now_ns();
		int ms = now >= deadline ? 0 : (int)((deadline - now) / NSEC_PER_MSEC) + 1;
		struct pollfd pfd = { .fd = rd, .events = POLLIN };
		ssize_t n;
		int r = poll(&pfd, 1, ms);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return -ETIME;
		}
		n = read(rd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(buf) - 1)
			len = 0; /* keep the tail only */
	}
	buf[len] = '\0';
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	{
		const char *last = strrchr(buf, '\n');

		if (snprintf(out, outlen, "%s", last ? last + 1 : buf) >= (int)outlen)
			out[outlen - 1] = '\0';
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* Find an executable in PATH and the sbin directories a non-root PATH often lacks. */
static int find_exe(const char *name, char *buf, size_t len)
{
	const char *path = getenv("PATH");
	_cleanup_free_ char *dirs = NULL;
	char *save = NULL;

	if (asprintf(&dirs, "%s:/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin", path ? path : "") <
	    0)
		return -ENOMEM;
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		if (d[0] != '/')
			continue;
		snprintf(buf, len, "%s/%s", d, name);
		if (access(buf, X_OK) == 0)
			return 0;
	}
	buf[0] = '\0';
	return -ENOENT;
}

/* --- network probes, in the scratch network namespace --------------------------------- */

/* "what: kernel message (ENOENT)", or the libnl error when the kernel said nothing. */
static void nl_fail(struct shared *sh, enum fl_cap_id id, const char *what, int nlerr,
		    const struct fl_nl_ack *ack, const char *enoent_hint)
{
	const char *hint = ack->error == -ENOENT && enoent_hint ? enoent_hint : "";

	if (ack->error && ack->msg[0])
		child_set(sh, id, false, "%s: kernel: \"%s\" (%s)%s", what, ack->msg,
			  errname(ack->error), hint);
	else if (ack->error)
		child_set(sh, id, false, "%s: %s%s", what, errname(ack->error), hint);
	else
		child_set(sh, id, false, "%s: libnl: %s", what, nl_geterror(nlerr));
}

static void rtnl_qdisc_putp(struct rtnl_qdisc **q)
{
	if (*q)
		rtnl_qdisc_put(*q);
}

static void rtnl_link_putp(struct rtnl_link **l)
{
	if (*l)
		rtnl_link_put(*l);
}

static void probe_qdisc(struct shared *sh, struct nl_sock *sk, struct fl_nl_ack *ack, int ifindex,
			const char *kind)
{
	_cleanup_(rtnl_qdisc_putp) struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	enum fl_cap_id id = !strcmp(kind, "netem") ? FL_CAP_NETEM : FL_CAP_TBF;
	char what[64], hint[64];
	int r;

	if (!q) {
		child_set(sh, id, false, "out of memory");
		return;
	}
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	r = rtnl_tc_set_kind(TC_CAST(q), kind);
	if (r < 0) {
		child_set(sh, id, false, "libnl-route has no '%s' support: %s", kind,
			  nl_geterror(r));
		return;
	}
	if (id == FL_CAP_NETEM) {
		rtnl_netem_set_delay(q, 1000); /* microseconds */
	} else {
		/* the burst must hold one packet of lo's 64 KiB MTU, or sch_tbf warns in dmesg */
		rtnl_qdisc_tbf_set_limit(q, 140000);
		rtnl_qdisc_tbf_set_rate(q, 125000, 70000, 0);
	}
	snprintf(what, sizeof(what), "rtnl_qdisc_add %s on lo", kind);
	snprintf(hint, sizeof(hint), ": no sch_%s in this kernel", kind);
	memset(ack, 0, sizeof(*ack));
	r = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_EXCL);
	if (r < 0) {
		nl_fail(sh, id, what, r, ack, hint);
		return;
	}
	child_set(sh, id, true, "%s qdisc added on lo in a scratch netns", kind);
	rtnl_qdisc_delete(sk, q);
}

static void probe_link(struct shared *sh, struct nl_sock *sk, struct fl_nl_ack *ack,
		       enum fl_cap_id id)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
	const char *kind = id == FL_CAP_VETH ? "veth" : "bridge";
	char what[64];
	int r;

	if (id == FL_CAP_VETH) {
		struct rtnl_link *peer;

		link = rtnl_link_veth_alloc();
		if (link) {
			rtnl_link_set_name(link, "fl-probe0");
			peer = rtnl_link_veth_get_peer(link);
			rtnl_link_set_name(peer, "fl-probe1");
			rtnl_link_put(peer);
		}
	} else {
		link = rtnl_link_bridge_alloc();
		if (link)
			rtnl_link_set_name(link, "fl-probe-br");
	}
	if (!link) {
		child_set(sh, id, false, "out of memory");
		return;
	}
	snprintf(what, sizeof(what), "rtnl_link_add %s", kind);
	memset(ack, 0, sizeof(*ack));
	r = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
	if (r < 0) {
		nl_fail(sh, id, what, r, ack, NULL);
		return;
	}
	child_set(sh, id, true, "%s link created in a scratch netns", kind);
	rtnl_link_delete(sk, link);
}

/* Bind a queue with the fail-open flag, as the latency daemon will. */
static void probe_nfqueue(struct shared *sh)
{
	_cleanup_(fl_nl_socket_freep) struct nl_sock *sk = NULL;
	struct nfgenmsg g = {
		.nfgen_family = AF_UNSPEC,
		.version = NFNETLINK_V0,
		.res_id = htons(PROBE_QUEUE),
	};
	struct nfqnl_msg_config_cmd cmd = {
		.command = NFQNL_CFG_CMD_BIND,
		.pf = htons(AF_INET),
	};
	struct fl_nl_ack ack = {};
	struct nl_msg *msg;
	int r;

	r = fl_nl_open(NETLINK_NETFILTER, &ack, &sk);
	if (r < 0) {
		child_set(sh, FL_CAP_NFQUEUE, false, "NETLINK_NETFILTER socket: %s", errname(r));
		return;
	}
	msg = nlmsg_alloc_simple(NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_CONFIG,
				 NLM_F_REQUEST | NLM_F_ACK);
	if (!msg || nlmsg_append(msg, &g, sizeof(g), NLMSG_ALIGNTO) < 0 ||
	    nla_put(msg, NFQA_CFG_CMD, sizeof(cmd), &cmd) < 0 ||
	    nla_put_u32(msg, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN)) < 0 ||
	    nla_put_u32(msg, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_FAIL_OPEN)) < 0) {
		nlmsg_free(msg);
		child_set(sh, FL_CAP_NFQUEUE, false, "out of memory");
		return;
	}
	r = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	if (r >= 0)
		r = nl_wait_for_ack(sk);
	if (r < 0) {
		nl_fail(sh, FL_CAP_NFQUEUE, "nfnetlink_queue bind", r, &ack,
			": no nfnetlink_queue in this kernel");
		return;
	}
	/* closing the socket unbinds the queue */
	child_set(sh, FL_CAP_NFQUEUE, true,
		  "nfnetlink_queue: queue %d bound with fail-open in a scratch netns", PROBE_QUEUE);
}

static void probe_iptables(struct shared *sh, const char *iptables, uint64_t deadline)
{
	char qnum[16], version[128], out[256];
	char *const vargv[] = { (char *)iptables, "-V", NULL };
	char *const argv[] = { (char *)iptables, "-A",	      "INPUT",	       "-j",
			       "NFQUEUE",	 "--queue-num", qnum,	       "--queue-bypass",
			       NULL };
	int r;

	if (!iptables[0]) {
		child_set(sh, FL_CAP_IPTABLES_NFQUEUE, false, "no iptables binary in PATH or sbin");
		return;
	}
	snprintf(qnum, sizeof(qnum), "%d", PROBE_QUEUE);
	if (run_cmd(vargv, version, sizeof(version), deadline) != 0 &&
	    snprintf(version, sizeof(version), "%s", iptables) >= (int)sizeof(version))
		version[sizeof(version) - 1] = '\0';
	r = run_cmd(argv, out, sizeof(out), deadline);
	if (r == 0)
		child_set(sh, FL_CAP_IPTABLES_NFQUEUE, true,
			  "%s: -j NFQUEUE --queue-bypass rule added in a scratch netns", version);
	else if (r == -ETIME)
		child_set(sh, FL_CAP_IPTABLES_NFQUEUE, false, "%s: timed out", version);
	else if (r < 0)
		child_set(sh, FL_CAP_IPTABLES_NFQUEUE, false, "%s: %s", iptables, errname(r));
	else
		child_set(sh, FL_CAP_IPTABLES_NFQUEUE, false,
			  "%s: -j NFQUEUE --queue-bypass: exit %d: %s", version, r, out);
}

static void probe_tc(struct shared *sh, int ifindex)
{
	_cleanup_(probe_bpf_destroyp) struct probe_bpf *skel = NULL;
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts);
	LIBBPF_OPTS(bpf_link_create_opts, lo);
	struct fl_cap_result res = {};
	int fd, r;

	r = load_one("probe_tc", "tc program", &res, &skel);
	if (r != 0) {
		child_set(sh, FL_CAP_TC_BPF, false, "%s", res.detail);
		child_set(sh, FL_CAP_TCX, false, "%s", res.detail);
		return;
	}
	fd = bpf_program__fd(skel->progs.probe_tc);

	libbpf_warning[0] = '\0';
	r = bpf_tc_hook_create(&hook);
	if (r < 0 && r != -EEXIST) {
		child_set(sh, FL_CAP_TC_BPF, false, "bpf_tc_hook_create clsact on lo: %s%s%s",
			  errname(r), libbpf_warning[0] ? ": " : "", libbpf_warning);
	} else {
		bool created = r == 0;

		opts.prog_fd = fd;
		r = bpf_tc_attach(&hook, &opts);
		if (r < 0) {
			child_set(sh, FL_CAP_TC_BPF, false, "bpf_tc_attach on lo: %s%s%s",
				  errname(r), libbpf_warning[0] ? ": " : "", libbpf_warning);
		} else {
			child_set(sh, FL_CAP_TC_BPF, true,
				  "clsact + cls_bpf direct-action attached on lo in a scratch netns");
			opts.prog_fd = opts.prog_id = 0;
			opts.flags = 0;
			bpf_tc_detach(&hook, &opts);
		}
		/* only a hook this probe created */
		if (created)
			bpf_tc_hook_destroy(&hook);
	}

	r = bpf_link_create(fd, ifindex, BPF_TCX_INGRESS, &lo);
	if (r < 0) {
		child_set(sh, FL_CAP_TCX, false, "bpf_link_create BPF_TCX_INGRESS on lo: %s",
			  errname(r));
	} else {
		child_set(sh, FL_CAP_TCX, true, "tcx ingress link on lo in a scratch netns");
		close(r);
	}
}

static int lo_up(int *ret_ifindex)
{
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = { .ifr_name = "lo" };

	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return -errno;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return -errno;
	*ret_ifindex = (int)if_nametoindex("lo");
	return *ret_ifindex > 0 ? 0 : -ENODEV;
}

struct netns_args {
	char iptables[256];
	uint64_t deadline;
};

static const enum fl_cap_id netns_caps[] = {
	FL_CAP_NETNS,	FL_CAP_TC_BPF,		 FL_CAP_TCX,  FL_CAP_NETEM,  FL_CAP_TBF,
	FL_CAP_NFQUEUE, FL_CAP_IPTABLES_NFQUEUE, FL_CAP_VETH, FL_CAP_BRIDGE, FL_CAP_NONE,
};

/* the ones that go through an rtnetlink socket */
static const enum fl_cap_id rtnl_caps[] = {
	FL_CAP_NETEM, FL_CAP_TBF, FL_CAP_VETH, FL_CAP_BRIDGE, FL_CAP_NONE,
};

static void netns_child(struct shared *sh, void *arg)
{
	struct netns_args *a = arg;
	_cleanup_(fl_nl_socket_freep) struct nl_sock *sk = NULL;
	struct fl_nl_ack ack = {};
	int ifindex = 0, r;

	if (unshare(CLONE_NEWNET) < 0) {
		r = -errno;
		for (const enum fl_cap_id *id = netns_caps; *id; id++)
			child_set(sh, *id, false, "needs a scratch network namespace: unshare: %s",
				  errname(r));
		return;
	}
	child_set(sh, FL_CAP_NETNS, true, "unshare(CLONE_NEWNET): network probes ran in it");
	r = lo_up(&ifindex);
	if (r < 0) {
		for (const enum fl_cap_id *id = netns_caps + 1; *id; id++)
			child_set(sh, *id, false, "cannot bring lo up in the scratch netns: %s",
				  errname(r));
		return;
	}
	probe_tc(sh, ifindex);
	r = fl_nl_open(NETLINK_ROUTE, &ack, &sk);
	if (r < 0) {
		for (const enum fl_cap_id *id = rtnl_caps; *id; id++)
			child_set(sh, *id, false, "NETLINK_ROUTE socket: %s", errname(r));
	} else {
		probe_qdisc(sh, sk, &ack, ifindex, "netem");
		probe_qdisc(sh, sk, &ack, ifindex, "tbf");
		probe_link(sh, sk, &ack, FL_CAP_VETH);
		probe_link(sh, sk, &ack, FL_CAP_BRIDGE);
	}
	probe_nfqueue(sh);
	probe_iptables(sh, a->iptables, a->deadline);
}

/* --- seccomp -------------------------------------------------------------------------- */

static const enum fl_cap_id seccomp_caps[] = {
	FL_CAP_SECCOMP_FILTER,
	FL_CAP_SECCOMP_NOTIFY,
	FL_CAP_SECCOMP_SYNC_WAKEUP,
	FL_CAP_NONE,
};

/* In a throwaway child: a filter only it carries. */
static void seccomp_child(struct shared *sh, void *arg)
{
	scmp_filter_ctx ctx;
	long r;
	int fd;

	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EIO), SCMP_SYS(getppid), 0) < 0) {
		child_set(sh, FL_CAP_SECCOMP_FILTER, false, "libseccomp: cannot build a filter");
	} else if ((r = seccomp_load(ctx)) < 0) {
		child_set(sh, FL_CAP_SECCOMP_FILTER, false, "seccomp_load: %s", errname((int)r));
	} else {
		errno = 0;
		r = syscall(SYS_getppid);
		if (r == -1 && errno == EIO)
			child_set(sh, FL_CAP_SECCOMP_FILTER, true,
				  "SCMP_ACT_ERRNO(EIO) filter installed, getppid() got EIO");
		else
			child_set(sh, FL_CAP_SECCOMP_FILTER, false,
				  "filter installed but getppid() returned %ld", r);
	}
	seccomp_release(ctx);

	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(getpgid), 0) < 0) {
		child_set(sh, FL_CAP_SECCOMP_NOTIFY, false,
			  "libseccomp %u.%u.%u (API level %u): cannot build a notify filter",
			  seccomp_version()->major, seccomp_version()->minor,
			  seccomp_version()->micro, seccomp_api_get());
		child_set(sh, FL_CAP_SECCOMP_SYNC_WAKEUP, false, "no seccomp user notification");
		seccomp_release(ctx);
		return;
	}
	r = seccomp_load(ctx);
	fd = r < 0 ? (int)r : seccomp_notify_fd(ctx);
	if (fd < 0) {
		child_set(sh, FL_CAP_SECCOMP_NOTIFY, false, "notify filter: %s", errname(fd));
		child_set(sh, FL_CAP_SECCOMP_SYNC_WAKEUP, false, "no seccomp user notification");
		seccomp_release(ctx);
		return;
	}
	child_set(sh, FL_CAP_SECCOMP_NOTIFY, true,
		  "SECCOMP_RET_USER_NOTIF filter installed, listener fd obtained");
	if (!ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, (__u64)SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP))
		child_set(sh, FL_CAP_SECCOMP_SYNC_WAKEUP, true,
			  "SECCOMP_IOCTL_NOTIF_SET_FLAGS(SYNC_WAKE_UP) accepted on a listener");
	else
		child_set(sh, FL_CAP_SECCOMP_SYNC_WAKEUP, false,
			  "SECCOMP_IOCTL_NOTIF_SET_FLAGS(SYNC_WAKE_UP) on a listener: %s",
			  errname(errno));
	seccomp_release(ctx);
}

/* --- pseudo filesystems that are not mounted: a private mount namespace ------------- */

#define LSM_PATH "/sys/kernel/security/lsm"

/* Is "bpf" among the active LSMs? Attached BPF LSM programs are only called if so. */
static void lsm_verdict(struct fl_cap_result *res, const char *list, const char *how)
{
	_cleanup_free_ char *copy = strdup(list);
	bool found = false;
	char *save = NULL;

	if (!copy) {
		set_cap(res, false, "out of memory");
		return;
	}
	copy[strcspn(copy, "\n")] = '\0';
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (!strcmp(t, "bpf"))
			found = true;
	/* strtok_r cut the copy: print the original list */
	set_cap(res, found, "%s'bpf' in active LSMs: %.*s%s", found ? "" : "no ",
		(int)strcspn(list, "\n"), list, how);
}

struct mount_args {
	bool securityfs; /* read the active LSM list */
	bool tracefs;	 /* attach the raw_syscalls tracepoint probe */
};

static void private_lsm(struct shared *sh, int err)
{
	_cleanup_free_ char *list = NULL;
	struct fl_cap_result res;
	int r;

	if (err < 0) {
		child_set(sh, FL_CAP_BPF_LSM_ACTIVE, false,
			  "securityfs not mounted; private mount namespace: %s", errname(err));
		return;
	}
	if (mount("securityfs", "/sys/kernel/security", "securityfs",
		  MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		child_set(sh, FL_CAP_BPF_LSM_ACTIVE, false,
			  "securityfs not mounted, and mounting it failed: %s", errname(errno));
		return;
	}
	r = fl_read_file(LSM_PATH, &list, NULL);
	if (r < 0) {
		child_set(sh, FL_CAP_BPF_LSM_ACTIVE, false, "%s: %s", LSM_PATH, errname(r));
		return;
	}
	lsm_verdict(&res, list, " (securityfs was not mounted: read in a private mount namespace)");
	sh->cap[FL_CAP_BPF_LSM_ACTIVE] = res;
	sh->done[FL_CAP_BPF_LSM_ACTIVE] = true;
}

/* libbpf finds a tracepoint's id in tracefs. */
static void private_tracepoint(struct shared *sh, int err)
{
	enum fl_cap_id id = FL_CAP_TRACEPOINT_SIGNAL;
	struct fl_cap_result res = {};
	size_t n;

	if (err < 0) {
		child_set(sh, id, false, "tracefs not mounted; private mount namespace: %s",
			  errname(err));
		return;
	}
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0) {
		child_set(sh, id, false, "tracefs not mounted, and mounting it failed: %s",
			  errname(errno));
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(bpf_probes); i++)
		if (bpf_probes[i].id == id)
			run_bpf_probe(&bpf_probes[i], &res);
	n = strlen(res.detail);
	snprintf(res.detail + n, sizeof(res.detail) - n,
		 " (tracefs was not mounted: in a private mount namespace)");
	sh->cap[id] = res;
	sh->done[id] = true;
}

/* Mount what is missing where only this child sees it: nothing stays on the host. */
static void mount_child(struct shared *sh, void *arg)
{
	const struct mount_args *a = arg;
	int err = 0;

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		err = -errno;
	if (a->securityfs)
		private_lsm(sh, err);
	if (a->tracefs)
		private_tracepoint(sh, err);
}

/* --- the rest: files and processes ---------------------------------------------------- */

static void probe_btf(struct fl_cap_result *res)
{
	struct stat st;

	if (stat("/sys/kernel/btf/vmlinux", &st) < 0)
		set_cap(res, false, "/sys/kernel/btf/vmlinux: %s (kernel without CONFIG_DEBUG_INFO_BTF)",
			errname(errno));
	else if (access("/sys/kernel/btf/vmlinux", R_OK) < 0)
		set_cap(res, false, "/sys/kernel/btf/vmlinux: %s", errname(errno));
	else
		set_cap(res, true, "/sys/kernel/btf/vmlinux, %.1f MiB",
			(double)st.st_size / (1024.0 * 1024.0));
}

/*
 * dev-fuse: the kernel offers FUSE. Non-root users never open /dev/fuse themselves (it is
 * often 0600): the setuid fusermount3 does, so for them it is enough that it is there.
 */
static void probe_fuse(struct fl_caps *caps, const struct privs *pv)
{
	struct fl_cap_result *dev = &caps->cap[FL_CAP_DEV_FUSE];
	char path[256];
	struct stat st;
	int fd, r;

	if (stat("/dev/fuse", &st) < 0) {
		set_cap(dev, false, "/dev/fuse: %s", errname(errno));
	} else if (!S_ISCHR(st.st_mode)) {
		set_cap(dev, false, "/dev/fuse is not a character device");
	} else if ((fd = open("/dev/fuse", O_RDWR | O_CLOEXEC)) >= 0) {
		set_cap(dev, true, "/dev/fuse opened read-write");
		close(fd);
	} else {
		r = -errno;
		if ((r == -EACCES || r == -EPERM) && !pv->root)
			set_cap(dev, true, "/dev/fuse present (%s for euid %u: fusermount3 opens it)",
				errname(r), (unsigned)geteuid());
		else
			set_cap(dev, false, "open /dev/fuse: %s", errname(r));
	}

	if (find_exe("fusermount3", path, sizeof(path)) < 0 || stat(path, &st) < 0)
		set_cap(&caps->cap[FL_CAP_FUSERMOUNT], false, "no fusermount3 in PATH (fuse3)");
	else if (st.st_uid == 0 && (st.st_mode & S_ISUID))
		set_cap(&caps->cap[FL_CAP_FUSERMOUNT], true, "%s (setuid root)", path);
	else
		set_cap(&caps->cap[FL_CAP_FUSERMOUNT], false,
			"%s is not setuid root: only root can mount", path);
}

/* Undo mountinfo's octal escapes ("\040" for a space) in place. */
static void unescape_mount(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

static bool has_kill_file(const char *dir)
{
	char p[PATH_MAX];

	if (snprintf(p, sizeof(p), "%s/cgroup.kill", dir) >= (int)sizeof(p))
		return false;
	return access(p, F_OK) == 0;
}

/* A non-root cgroup to look into: ours, or the first child of the root. */
static int some_cgroup(const char *mnt, char *dir, size_t len)
{
	_cleanup_free_ char *self = NULL;
	struct dirent *de;
	DIR *d;

	if (fl_read_file("/proc/self/cgroup", &self, NULL) == 0) {
		char *p = strstr(self, "0::");

		if (p && (p == self || p[-1] == '\n')) {
			p += 3;
			p[strcspn(p, "\n")] = '\0';
			if (strcmp(p, "/") && snprintf(dir, len, "%s%s", mnt, p) < (int)len)
				return 0;
		}
	}
	d = opendir(mnt);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (snprintf(dir, len, "%s/%s", mnt, de->d_name) >= (int)len)
			continue;
		closedir(d);
		return 0;
	}
	closedir(d);
	return -ENOENT;
}

/* cgroup.kill is in every non-root cgroup of a kernel that has it, never in the root. */
static void probe_cgroup_kill(struct fl_cap_result *res, const char *mnt, const struct privs *pv)
{
	char dir[PATH_MAX];

	if (some_cgroup(mnt, dir, sizeof(dir)) == 0) {
		if (has_kill_file(dir))
			set_cap(res, true, "cgroup.kill in %s", dir);
		else
			set_cap(res, false, "no cgroup.kill in %s (kernel before 5.14)", dir);
		return;
	}
	/* only the root cgroup exists: make a scratch one and remove it */
	if (!has_cap(pv, CAP_SYS_ADMIN)) {
		set_cap(res, false, "needs root (no CAP_SYS_ADMIN): only the root cgroup exists");
		return;
	}
	if (snprintf(dir, sizeof(dir), "%s/faultline-doctor-%d", mnt, (int)getpid()) >=
	    (int)sizeof(dir)) {
		set_cap(res, false, "cgroup2 mount path too long");
		return;
	}
	if (mkdir(dir, 0700) < 0) {
		set_cap(res, false, "mkdir scratch cgroup %s: %s", dir, errname(errno));
		return;
	}
	if (has_kill_file(dir))
		set_cap(res, true, "cgroup.kill in a scratch cgroup (removed)");
	else
		set_cap(res, false, "no cgroup.kill in a scratch cgroup (kernel before 5.14)");
	if (rmdir(dir) < 0)
		log_debug("doctor: rmdir %s: %s", dir, errname(errno));
}

static void probe_cgroup(struct fl_caps *caps, const struct privs *pv)
{
	_cleanup_free_ char *info = NULL;
	char mnt[PATH_MAX] = "", *save = NULL;
	struct fl_cap_result *kill_res = &caps->cap[FL_CAP_CGROUP_KILL];
	int v1 = 0, r;

	r = fl_read_file("/proc/self/mountinfo", &info, NULL);
	if (r < 0) {
		set_cap(&caps->cap[FL_CAP_CGROUP2], false, "/proc/self/mountinfo: %s", errname(r));
		set_cap(kill_res, false, "no cgroup v2 mount");
		return;
	}
	for (char *line = strtok_r(info, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char point[PATH_MAX], fstype[64];
		const char *sep = strstr(line, " - ");

		if (!sep || sscanf(sep, " - %63s", fstype) != 1 ||
		    sscanf(line, "%*s %*s %*s %*s %4095s", point) != 1)
			continue;
		if (!strcmp(fstype, "cgroup")) {
			v1++;
		} else if (!strcmp(fstype, "cgroup2") && !mnt[0]) {
			unescape_mount(point);
			snprintf(mnt, sizeof(mnt), "%s", point);
		}
	}
	if (!mnt[0]) {
		set_cap(&caps->cap[FL_CAP_CGROUP2], false, "no cgroup2 mount in /proc/self/mountinfo");
		set_cap(kill_res, false, "no cgroup v2 mount");
		return;
	}
	if (v1)
		set_cap(&caps->cap[FL_CAP_CGROUP2], true,
			"mounted at %s (hybrid: %d cgroup v1 hierarchies too)", mnt, v1);
	else
		set_cap(&caps->cap[FL_CAP_CGROUP2], true, "mounted at %s (unified)", mnt);

	probe_cgroup_kill(kill_res, mnt, pv);
}

/* Kill a child of ours through a pidfd and see it die through the same pidfd. */
static void probe_pidfd(struct fl_cap_result *res)
{
	_cleanup_close_ int pidfd = -1;
	siginfo_t si = {};
	pid_t pid;
	int r;

	pid = fork();
	if (pid < 0) {
		set_cap(res, false, "fork: %s", errname(errno));
		return;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		r = -errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		set_cap(res, false, "pidfd_open: %s", errname(r));
		return;
	}
	if (syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) < 0) {
		r = -errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		set_cap(res, false, "pidfd_open ok, pidfd_send_signal: %s", errname(r));
		return;
	}
	while ((r = waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED)) < 0 && errno == EINTR)
		;
	if (r < 0) {
		r = -errno;
		waitpid(pid, NULL, 0);
		set_cap(res, true, "pidfd_open + pidfd_send_signal(SIGKILL) ok (waitid P_PIDFD: %s)",
			errname(r));
		return;
	}
	set_cap(res, si.si_code == CLD_KILLED && si.si_status == SIGKILL,
		"pidfd_open + pidfd_send_signal(SIGKILL) on a child, death seen with waitid(P_PIDFD)");
}

/* --- putting it together -------------------------------------------------------------- */

static bool tracefs_mounted(void)
{
	return access("/sys/kernel/tracing/events/raw_syscalls", F_OK) == 0 ||
	       access("/sys/kernel/debug/tracing/events/raw_syscalls", F_OK) == 0;
}

static void fill_needs_root(struct fl_caps *caps, const enum fl_cap_id *ids, const char *missing)
{
	for (; *ids != FL_CAP_NONE; ids++)
		needs_root(&caps->cap[*ids], missing);
}

int fl_doctor_probe(struct fl_caps *caps, uint64_t budget_ns)
{
	uint64_t start = fl_now_ns(), deadline;
	struct netns_args nargs = {};
	struct child netns = { .what = "network", .owns = netns_caps };
	struct child sec = { .what = "seccomp", .owns = seccomp_caps };
	enum fl_cap_id mount_owns[3] = {};
	struct child mnt = { .what = "private mount", .owns = mount_owns };
	struct mount_args margs = {};
	size_t n_owns = 0;
	_cleanup_free_ char *lsm_list = NULL;
	libbpf_print_fn_t old_print;
	struct utsname u;
	struct shared *sh;
	struct privs pv;
	int r = 0, k;

	memset(caps, 0, sizeof(*caps));
	deadline = start + (budget_ns ? budget_ns : FL_DOCTOR_BUDGET_NS);
	if (uname(&u) == 0) {
		snprintf(caps->kernel, sizeof(caps->kernel), "%s", u.release);
		snprintf(caps->machine, sizeof(caps->machine), "%s", u.machine);
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return -ENOMEM;
	old_print = libbpf_set_print(libbpf_print);
	read_privs(&pv);
	probe_privs(caps, &pv);
	find_exe("iptables", nargs.iptables, sizeof(nargs.iptables));
	nargs.deadline = deadline;

	/* the slow probes run in children while this process loads BPF programs */
	if (!has_cap(&pv, CAP_SYS_ADMIN))
		fill_needs_root(caps, netns_caps, "CAP_SYS_ADMIN");
	else if ((k = child_start(&netns, netns_child, sh, &nargs)) < 0)
		for (const enum fl_cap_id *id = netns_caps; *id; id++)
			set_cap(&caps->cap[*id], false, "fork: %s", errname(k));
	if ((k = child_start(&sec, seccomp_child, sh, NULL)) < 0)
		for (const enum fl_cap_id *id = seccomp_caps; *id; id++)
			set_cap(&caps->cap[*id], false, "fork: %s", errname(k));
	k = fl_read_file(LSM_PATH, &lsm_list, NULL);
	if (k == 0)
		lsm_verdict(&caps->cap[FL_CAP_BPF_LSM_ACTIVE], lsm_list, " (" LSM_PATH ")");
	else if (k != -ENOENT)
		set_cap(&caps->cap[FL_CAP_BPF_LSM_ACTIVE], false, "%s: %s", LSM_PATH, errname(k));
	else if (!has_cap(&pv, CAP_SYS_ADMIN))
		set_cap(&caps->cap[FL_CAP_BPF_LSM_ACTIVE], false,
			"needs root (no CAP_SYS_ADMIN): securityfs is not mounted");
	else
		margs.securityfs = true;
	margs.tracefs = can_trace(&pv) && !tracefs_mounted();
	if (margs.securityfs)
		mount_owns[n_owns++] = FL_CAP_BPF_LSM_ACTIVE;
	if (margs.tracefs)
		mount_owns[n_owns++] = FL_CAP_TRACEPOINT_SIGNAL;
	if (n_owns && (k = child_start(&mnt, mount_child, sh, &margs)) < 0)
		for (size_t i = 0; i < n_owns; i++)
			set_cap(&caps->cap[mount_owns[i]], false, "fork: %s", errname(k));

	probe_btf(&caps->cap[FL_CAP_KERNEL_BTF]);
	for (size_t i = 0; i < ARRAY_SIZE(bpf_probes); i++) {
		const struct bpf_probe *bp = &bpf_probes[i];
		uint64_t t0 = fl_now_ns();

		if (bp->tracing ? !can_trace(&pv) : !can_bpf(&pv)) {
			needs_root(&caps->cap[bp->id],
				   bp->tracing ? "CAP_BPF + CAP_PERFMON" : "CAP_BPF");
			continue;
		}
		if (bp->id == FL_CAP_TRACEPOINT_SIGNAL && margs.tracefs)
			continue;
		r = run_bpf_probe(bp, &caps->cap[bp->id]);
		if (r < 0)
			goto out;
		log_debug("doctor: %s: %.1f ms", fl_cap_name(bp->id),
			  (double)(fl_now_ns() - t0) / NSEC_PER_MSEC);
	}
	if (!can_trace(&pv)) {
		needs_root(&caps->cap[FL_CAP_UPROBE], "CAP_BPF + CAP_PERFMON");
	} else {
		r = probe_uprobe(&caps->cap[FL_CAP_UPROBE]);
		if (r < 0)
			goto out;
	}
	probe_fuse(caps, &pv);
	probe_cgroup(caps, &pv);
	probe_pidfd(&caps->cap[FL_CAP_PIDFD]);

out:
	child_finish(&netns, sh, deadline, caps);
	child_finish(&sec, sh, deadline, caps);
	child_finish(&mnt, sh, deadline, caps);
	libbpf_set_print(old_print);
	munmap(sh, sizeof(*sh));
	caps->elapsed_ns = fl_now_ns() - start;
	return r;
}

/* --- backend choice ------------------------------------------------------------------- */

/*
 * What each backend of the design needs from the host. `all` must all be present, and at
 * least one of `any` when it lists something. Backend names are the ones in the registry's
 * `planned` lists.
 */
struct backend_req {
	const char *name;
	enum fl_cap_id all[4];
	enum fl_cap_id any[3];
};

static const struct backend_req backend_reqs[] = {
	{ "netem", { FL_CAP_NET_ADMIN, FL_CAP_NETEM }, {} },
	{ "nfqueue", { FL_CAP_NET_ADMIN, FL_CAP_NFQUEUE, FL_CAP_IPTABLES_NFQUEUE }, {} },
	{ "seccomp-notify", { FL_CAP_SECCOMP_NOTIFY }, {} },
	{ "seccomp", { FL_CAP_SECCOMP_FILTER }, {} },
	{ "tc-bpf", { FL_CAP_NET_ADMIN, FL_CAP_TC_BPF }, {} },
	{ "tbf", { FL_CAP_NET_ADMIN, FL_CAP_TBF }, {} },
	{ "pidfd", { FL_CAP_PIDFD }, {} },
	/* syscall crash points; either tracepoint flavour works */
	{ "bpf-signal", {}, { FL_CAP_TP_BTF_SIGNAL, FL_CAP_TRACEPOINT_SIGNAL } },
	/* the program attaching is not enough: "bpf" must be an active LSM to be called */
	{ "bpf-lsm", { FL_CAP_BPF_LSM, FL_CAP_BPF_LSM_ACTIVE }, {} },
	/* on security_* functions; syscall fmod_ret needs error injection, rarely built */
	{ "fmod-ret", { FL_CAP_FMOD_RET_SECURITY }, {} },
	/* root mounts directly; others need the setuid helper */
	{ "fuse", { FL_CAP_DEV_FUSE }, { FL_CAP_ROOT, FL_CAP_FUSERMOUNT } },
};

static const struct backend_req *find_req(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(backend_reqs); i++)
		if (!strcmp(backend_reqs[i].name, name))
			return &backend_reqs[i];
	return NULL;
}

bool fl_doctor_backend_known(const char *name)
{
	return find_req(name) != NULL;
}

const char *fl_backend_status_name(enum fl_backend_status s)
{
	switch (s) {
	case FL_BACKEND_AVAILABLE:
		return "available";
	case FL_BACKEND_MISSING:
		return "missing";
	case FL_BACKEND_NOT_IMPLEMENTED:
		return "not-implemented";
	}
	return "unknown";
}

static void _printf_(3, 4) append(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

static const char *cname(enum fl_cap_id id)
{
	const char *n = fl_cap_name(id);

	return n ? n : "unknown";
}

/*
 * Does the host have what `name` needs? Missing capabilities go to `missing` as
 * "id: detail; id: detail", their bare ids to `ids` as "id, id".
 */
static bool host_has(const char *name, const struct fl_caps *caps, char *missing, size_t mlen,
		     char *ids, size_t ilen)
{
	const struct backend_req *req = find_req(name);
	bool ok = true, any_ok = false;

	missing[0] = ids[0] = '\0';
	if (!req) {
		snprintf(missing, mlen, "doctor does not know what '%s' needs", name);
		snprintf(ids, ilen, "unknown requirements");
		return false;
	}
	for (size_t i = 0; i < ARRAY_SIZE(req->all) && req->all[i]; i++) {
		enum fl_cap_id id = req->all[i];

		if (caps->cap[id].ok)
			continue;
		ok = false;
		append(missing, mlen, "%s%s: %s", missing[0] ? "; " : "", cname(id),
		       caps->cap[id].detail[0] ? caps->cap[id].detail : "not probed");
		append(ids, ilen, "%s%s", ids[0] ? ", " : "", cname(id));
	}
	if (!req->any[0])
		return ok;
	for (size_t i = 0; i < ARRAY_SIZE(req->any) && req->any[i]; i++)
		if (caps->cap[req->any[i]].ok)
			any_ok = true;
	if (any_ok)
		return ok;
	append(ids, ilen, "%s", ids[0] ? ", " : "");
	for (size_t i = 0; i < ARRAY_SIZE(req->any) && req->any[i]; i++) {
		enum fl_cap_id id = req->any[i];

		append(missing, mlen, "%s%s: %s", missing[0] ? "; " : "", cname(id),
		       caps->cap[id].detail[0] ? caps->cap[id].detail : "not probed");
		append(ids, ilen, "%s%s", i ? " or " : "", cname(id));
	}
	return false;
}

static const struct fl_backend *implemented(const struct fl_kind_info *k, const char *name)
{
	for (const struct fl_backend *const *b = k->backends; b && *b; b++)
		if ((*b)->name && !strcmp((*b)->name, name))
			return *b;
	return NULL;
}

static bool planned(const struct fl_kind_info *k, const char *name)
{
	for (const char *const *p = k->planned; p && *p; p++)
		if (!strcmp(*p, name))
			return true;
	return false;
}

static int add_backend(struct fl_kind_report *rep, const struct fl_kind_info *k,
		       const struct fl_caps *caps, const char *name, char (*ids)[256])
{
	struct fl_backend_report *b;
	char missing[sizeof(b->detail)];

	if (rep->n_backends >= FL_DOCTOR_MAX_BACKENDS)
		return -E2BIG;
	b = &rep->backends[rep->n_backends];
	b->name = name;
	b->host_ok = host_has(name, caps, missing, sizeof(missing), ids[rep->n_backends],
			      sizeof(ids[0]));
	if (!implemented(k, name)) {
		b->status = FL_BACKEND_NOT_IMPLEMENTED;
		if (b->host_ok)
			snprintf(b->detail, sizeof(b->detail),
				 "not implemented in this version (this host has what it needs)");
		else
			snprintf(b->detail, sizeof(b->detail),
				 "not implemented in this version (this host also lacks %s)",
				 ids[rep->n_backends]);
	} else if (b->host_ok) {
		b->status = FL_BACKEND_AVAILABLE;
		snprintf(b->detail, sizeof(b->detail), "implemented, and this host has what it needs");
	} else {
		b->status = FL_BACKEND_MISSING;
		snprintf(b->detail, sizeof(b->detail), "%s", missing);
	}
	rep->n_backends++;
	return 0;
}

int fl_doctor_eval_kind(const struct fl_kind_info *k, const struct fl_caps *caps,
			struct fl_kind_report *ret)
{
	char ids[FL_DOCTOR_MAX_BACKENDS][256];
	size_t chosen = SIZE_MAX, n_impl = 0;
	char *reason = ret->reason;
	size_t rlen = sizeof(ret->reason);
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->kind = k->kind;
	for (const char *const *p = k->planned; p && *p; p++) {
		r = add_backend(ret, k, caps, *p, ids);
		if (r < 0)
			return r;
	}
	/* implemented but not in the plan: still what faultline can run, after the plan */
	for (const struct fl_backend *const *b = k->backends; b && *b; b++) {
		if (!(*b)->name || planned(k, (*b)->name))
			continue;
		r = add_backend(ret, k, caps, (*b)->name, ids);
		if (r < 0)
			return r;
	}

	for (size_t i = 0; i < ret->n_backends; i++) {
		if (ret->backends[i].status != FL_BACKEND_NOT_IMPLEMENTED)
			n_impl++;
		if (chosen == SIZE_MAX && ret->backends[i].status == FL_BACKEND_AVAILABLE)
			chosen = i;
	}

	if (ret->n_backends == 0) {
		snprintf(reason, rlen, "no backend is planned for this kind");
		return 0;
	}
	if (chosen != SIZE_MAX) {
		ret->backend = ret->backends[chosen].name;
		if (chosen == 0) {
			snprintf(reason, rlen, "'%s' is the preferred backend and is available",
				 ret->backend);
			return 0;
		}
		snprintf(reason, rlen, "'%s' is available; preferred ", ret->backend);
		for (size_t i = 0; i < chosen; i++) {
			const struct fl_backend_report *b = &ret->backends[i];

			if (b->status == FL_BACKEND_NOT_IMPLEMENTED)
				append(reason, rlen, "%s'%s' not implemented in this version",
				       i ? ", " : "", b->name);
			else
				append(reason, rlen, "%s'%s' needs %s", i ? ", " : "", b->name,
				       ids[i]);
		}
		return 0;
	}
	if (n_impl == 0) {
		snprintf(reason, rlen, "no backend for it is implemented in this version");
	} else {
		snprintf(reason, rlen, "no implemented backend can run here: ");
		for (size_t i = 0, n = 0; i < ret->n_backends; i++) {
			if (ret->backends[i].status != FL_BACKEND_MISSING)
				continue;
			append(reason, rlen, "%s'%s' needs %s", n++ ? ", " : "",
			       ret->backends[i].name, ids[i]);
		}
	}
	{
		bool first = true;

		for (size_t i = 0; i < ret->n_backends; i++) {
			if (ret->backends[i].status != FL_BACKEND_NOT_IMPLEMENTED ||
			    !ret->backends[i].host_ok)
				continue;
			append(reason, rlen, "%s%s", first ? "; this host could run: " : ", ",
			       ret->backends[i].name);
			first = false;
		}
	}
	return 0;
}

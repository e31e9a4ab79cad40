// SPDX-License-Identifier: GPL-2.0-only
/* Hermetic labs: namespaces, veths on a bridge, cgroups, supervised services, recorded teardown. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>

#include "inject/lab.h"
#include "inject/log.h"
#include "inject/target.h"

#define NETNS_DIR "/run/netns"
#define ETC_NETNS_DIR "/etc/netns"
#define LAB_NET "198.18.0"
#define LAB_HOST_BASE 10
#define LAB_PREFIXLEN 24
#define READY_RETRY_NS (50 * NSEC_PER_MSEC)
#define READY_ATTEMPT_MAX_NS (1 * NSEC_PER_SEC)
#define KILL_WAIT_NS (5 * NSEC_PER_SEC)
#define REAP_WAIT_NS (2 * NSEC_PER_SEC)
#define RESTART_BACKOFF_MAX_NS (10 * NSEC_PER_SEC)
#define RESTART_DELAY_MIN_NS (10 * NSEC_PER_MSEC)
#define LOG_TAIL_BYTES 600

enum host_state {
	HOST_IDLE,     /* no service */
	HOST_STARTING, /* forked, not yet exec'd */
	HOST_RUNNING,
	HOST_RESTARTING, /* exited, a restart is scheduled */
	HOST_EXITED,	 /* exited, no restart (policy) */
	HOST_FAILED,	 /* could not be started */
};

static const char *const host_state_names[] = {
	[HOST_IDLE] = "idle",	    [HOST_STARTING] = "starting",
	[HOST_RUNNING] = "running", [HOST_RESTARTING] = "restarting",
	[HOST_EXITED] = "exited",   [HOST_FAILED] = "failed",
};

static const char *const restart_names[] = {
	[FL_RESTART_NO] = "no",
	[FL_RESTART_ON_FAILURE] = "on-failure",
	[FL_RESTART_ALWAYS] = "always",
};

struct lab_host {
	struct fl_lab_rt *lab;
	char *name;
	char **run;  /* NULL: idle */
	char **envp; /* full environment for the service */
	enum fl_restart restart;
	uint64_t restart_delay_ns;
	uint64_t backoff_ns;
	uint16_t ready_port;
	uint64_t ready_timeout_ns;

	struct in_addr addr;
	char netns_name[40];
	char port_name[IFNAMSIZ];
	char *netns_path;
	char *etc_dir;
	char *cgroup; /* NULL without cgroup v2 */
	char *log_path;
	int nsfd;
	bool ns_made;

	enum host_state state;
	pid_t pid;
	uint64_t start_time;
	int pidfd;
	unsigned restarts;
	char last_exit[48];
	uint64_t restart_at; /* CLOCK_MONOTONIC, readiness phase only */
	struct fl_source *io, *timer;
};

struct fl_lab_rt {
	char run_id[16];
	struct fl_journal *j;
	struct fl_loop *loop;
	char *workdir;
	char *hosts_file;
	char *scratch_dir; /* RUNDIR/lab: FAULTLINE_LAB_DIR, removed with the run's records */
	char *cg_base; /* CG2/faultline */
	char *cg_run;  /* CG2/faultline/RUN */
	char sw_name[40];
	char *sw_path;
	char *sw_etc_dir;
	int sw_nsfd;
	bool sw_made;
	bool going_down;
	const char *state;
	struct lab_host *hosts;
	size_t n_hosts;
};

/* --- small helpers ------------------------------------------------------------------------ */

/* libnl folds many kernel errors into NLE_FAILURE: keep the kernel's errno from the ack. */
static __thread int nl_kernel_errno;

static int on_nl_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	nl_kernel_errno = e->error < 0 ? -e->error : e->error;
	return NL_STOP;
}

static int nlerr_to_errno(int e)
{
	int k = nl_kernel_errno;

	nl_kernel_errno = 0;
	if (k > 0)
		return -k;
	switch (e < 0 ? -e : e) {
	case NLE_EXIST:
		return -EEXIST;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_PERM:
		return -EPERM;
	case NLE_NODEV:
		return -ENODEV;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_RANGE:
		return -ERANGE;
	case NLE_AF_NOSUPPORT:
		return -EAFNOSUPPORT;
	default:
		return -EIO;
	}
}

static void set_reason(char **ret_reason, const char *fmt, ...) _printf_(2, 3);
static void set_reason(char **ret_reason, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	if (!ret_reason || *ret_reason)
		return; /* the first (innermost) cause wins */
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	*ret_reason = s;
}

static void report_add(json_t *report, const char *object, int err, const char *what)
{
	char buf[256];

	log_debug("lab teardown: %s: %s: %s", object, what, strerror(-err));
	if (!report)
		return;
	snprintf(buf, sizeof(buf), "%s: %s", what, strerror(-err));
	json_array_append_new(report, json_pack("{s:s, s:s}", "object", object, "error", buf));
}

/* Small files nobody needs after a crash: no fsync (the lab record itself is durable). */
static int write_file(const char *path, const char *data, int mode)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	size_t len = strlen(data);

	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (size_t)w;
	}
	return 0;
}

static int write_existing(const char *path, const char *data)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t len = (ssize_t)strlen(data);

	if (fd < 0)
		return -errno;
	if (write(fd, data, (size_t)len) != len)
		return -errno;
	return 0;
}

static bool path_under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	return path && strncmp(path, prefix, n) == 0 && !strstr(path, "/../") &&
	       !strchr(path + n, '/');
}

/* CG2/faultline/RUN: one level below our own base, nothing else */
static bool cg_child_of(const char *cg, const char *base)
{
	size_t n = strlen(base);
	const char *tail = strrchr(base, '/');

	return tail && strcmp(tail, "/faultline") == 0 && strncmp(cg, base, n) == 0 &&
	       cg[n] == '/' && cg[n + 1] && cg[n + 1] != '.' && !strchr(cg + n + 1, '/');
}

/* The cgroup v2 mount point ("/sys/fs/cgroup" or, in hybrid mode, ".../unified"). */
static int cgroup2_root(char **ret)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		char mnt[PATH_MAX], *sep, fstype[32];
		/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPER" */
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		sep = strstr(line, " - ");
		if (!sep || sscanf(sep + 3, "%31s", fstype) != 1 || strcmp(fstype, "cgroup2") != 0)
			continue;
		/* mountinfo escapes spaces as \040; cgroup2 mount points never contain them */
		if (strchr(mnt, '\\'))
			continue;
		*ret = strdup(mnt);
		return *ret ? 0 : -ENOMEM;
	}
	return -ENOENT;
}

static int lab_host_index(const struct fl_lab_rt *lab, const char *name)
{
	for (size_t i = 0; lab && name && i < lab->n_hosts; i++)
		if (strcmp(lab->hosts[i].name, name) == 0)
			return (int)i;
	return -1;
}

static void describe_exit(const siginfo_t *si, char *buf, size_t len)
{
	if (si->si_code == CLD_EXITED)
		snprintf(buf, len, "exit status %d", si->si_status);
	else
		snprintf(buf, len, "killed by signal %s",
			 sigabbrev_np(si->si_status) ? sigabbrev_np(si->si_status) : "?");
}

static bool exit_is_failure(const siginfo_t *si)
{
	return si->si_code != CLD_EXITED || si->si_status != 0;
}

/* The last lines a service wrote, for failure messages (its log dies with the run records). */
static char *log_tail(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	char buf[LOG_TAIL_BYTES + 1], *p, *out, *o;
	off_t end;
	ssize_t n;

	if (fd < 0)
		return NULL;
	end = lseek(fd, 0, SEEK_END);
	if (end <= 0)
		return NULL;
	n = pread(fd, buf, LOG_TAIL_BYTES, end > LOG_TAIL_BYTES ? end - LOG_TAIL_BYTES : 0);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	p = buf;
	if (end > LOG_TAIL_BYTES) {
		char *nl = strchr(p, '\n');
		if (nl)
			p = nl + 1;
	}
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (!*p)
		return NULL;
	out = o = malloc(strlen(p) * 4 + 8);
	if (!out)
		return NULL;
	o = stpcpy(o, "\n  | ");
	for (; *p; p++) {
		if (*p == '\n')
			o = stpcpy(o, "\n  | ");
		else
			*o++ = (*p == '\t' || (unsigned char)*p >= 0x20) ? *p : '?';
	}
	*o = '\0';
	return out;
}

/* --- the record ----------------------------------------------------------------------------- */

static json_t *host_record(const struct lab_host *h)
{
	char addr[INET_ADDRSTRLEN];
	json_t *run = json_array(), *o;

	for (size_t i = 0; h->run && h->run[i]; i++)
		json_array_append_new(run, json_string(h->run[i]));
	inet_ntop(AF_INET, &h->addr, addr, sizeof(addr));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s, s:o, s:s, s:i, s:I, s:i, s:s}", "name",
		      h->name, "netns", h->netns_name, "netns_path", h->netns_path, "address", addr,
		      "port", h->port_name, "cgroup", h->cgroup, "log", h->log_path, "run", run,
		      "restart", restart_names[h->restart], "pid", (int)h->pid, "start_time",
		      (json_int_t)h->start_time, "restarts", (int)h->restarts, "state",
		      host_state_names[h->state]);
	if (o && h->etc_dir)
		json_object_set_new(o, "etc_netns", json_string(h->etc_dir));
	if (o && h->last_exit[0])
		json_object_set_new(o, "last_exit", json_string(h->last_exit));
	if (o && h->ready_port)
		json_object_set_new(o, "ready_port", json_integer(h->ready_port));
	return o;
}

static json_t *lab_record(const struct fl_lab_rt *lab)
{
	json_t *hosts = json_array(), *o;

	for (size_t i = 0; i < lab->n_hosts; i++)
		json_array_append_new(hosts, host_record(&lab->hosts[i]));
	o = json_pack("{s:i, s:s, s:s, s:i, s:s, s:{s:s, s:s, s:s, s:s, s:s?}, s:s, s:s?, s:s?, "
		      "s:s, s:o}",
		      "version", 1, "run_id", lab->run_id, "state", lab->state, "supervisor_pid",
		      (int)getpid(), "subnet", LAB_NET ".0/24", "switch", "netns", lab->sw_name,
		      "netns_path", lab->sw_path, "address", LAB_NET ".1", "bridge", "br0",
		      "etc_netns", lab->sw_etc_dir, "hosts_file", lab->hosts_file, "cgroup",
		      lab->cg_run, "cgroup_base", lab->cg_base, "workdir", lab->workdir, "hosts",
		      hosts);
	return o;
}

static int lab_journal(struct fl_lab_rt *lab)
{
	json_t *rec;

	if (!lab->j)
		return 0;
	rec = lab_record(lab);
	if (!rec)
		return -ENOMEM;
	return fl_journal_lab(lab->j, rec);
}

/* --- namespaces and links ----------------------------------------------------------------- */

static int netns_dir_prepare(void)
{
	bool made = false;

	if (mkdir(NETNS_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	/*
	 * Like iproute2: a shared mount point, so that removing a netns file here also unmounts
	 * its copies in mount namespaces made later (the lab's services), freeing the netns.
	 */
	while (mount("", NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) < 0) {
		if (errno != EINVAL || made)
			return -errno;
		if (mount(NETNS_DIR, NETNS_DIR, "none", MS_BIND | MS_REC, NULL) < 0)
			return -errno;
		made = true;
	}
	return 0;
}

static int nl_open(struct nl_sock **ret)
{
	struct nl_sock *sk = nl_socket_alloc();
	int r;

	if (!sk)
		return -ENOMEM;
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0) {
		nl_socket_free(sk);
		return nlerr_to_errno(r);
	}
	nl_socket_modify_err_cb(sk, NL_CB_CUSTOM, on_nl_error, NULL);
	*ret = sk;
	return 0;
}

/* Bring a link up; returns its ifindex. */
static int link_up(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *link = NULL, *change;
	int r, idx;

	r = rtnl_link_get_kernel(sk, 0, name, &link);
	if (r < 0)
		return nlerr_to_errno(r);
	idx = rtnl_link_get_ifindex(link);
	change = rtnl_link_alloc();
	if (!change) {
		rtnl_link_put(link);
		return -ENOMEM;
	}
	rtnl_link_set_flags(change, IFF_UP);
	r = rtnl_link_change(sk, link, change, 0);
	rtnl_link_put(change);
	rtnl_link_put(link);
	return r < 0 ? nlerr_to_errno(r) : idx;
}

static int link_index(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *link = NULL;
	int r = rtnl_link_get_kernel(sk, 0, name, &link), idx;

	if (r < 0)
		return nlerr_to_errno(r);
	idx = rtnl_link_get_ifindex(link);
	rtnl_link_put(link);
	return idx;
}

static int addr_add(struct nl_sock *sk, int ifindex, struct in_addr a)
{
	struct rtnl_addr *addr = rtnl_addr_alloc();
	struct nl_addr *local;
	int r;

	if (!addr)
		return -ENOMEM;
	local = nl_addr_build(AF_INET, &a, sizeof(a));
	if (!local) {
		rtnl_addr_put(addr);
		return -ENOMEM;
	}
	nl_addr_set_prefixlen(local, LAB_PREFIXLEN);
	rtnl_addr_set_ifindex(addr, ifindex);
	rtnl_addr_set_family(addr, AF_INET);
	r = rtnl_addr_set_local(addr, local);
	if (r >= 0) {
		rtnl_addr_set_prefixlen(addr, LAB_PREFIXLEN);
		r = rtnl_addr_add(sk, addr, 0);
	}
	nl_addr_put(local);
	rtnl_addr_put(addr);
	return r < 0 ? nlerr_to_errno(r) : 0;
}

/*
 * Create the named netns the way `ip netns add` does, from this thread: unshare, bind-mount the
 * thread's netns on /run/netns/NAME, open a netlink socket there (it stays bound to that netns),
 * bring lo up, and return to the original netns. Returns the socket.
 */
static int netns_create(const char *path, int orig_ns, struct nl_sock **ret_sk, bool *made,
			char **reason)
{
	_cleanup_close_ int fd = -1;
	struct nl_sock *sk = NULL;
	int r;

	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		set_reason(reason, "cannot create '%s': %s", path, strerror(-r));
		return r;
	}
	*made = true; /* ours: removed on failure */
	if (unshare(CLONE_NEWNET) < 0) {
		r = -errno;
		set_reason(reason, "cannot create a network namespace: %s", strerror(-r));
		return r;
	}
	if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0) {
		r = -errno;
		set_reason(reason, "cannot bind-mount the network namespace on '%s': %s", path,
			   strerror(-r));
		goto back;
	}
	r = nl_open(&sk);
	if (r < 0) {
		set_reason(reason, "cannot open a netlink socket: %s", strerror(-r));
		goto back;
	}
	r = link_up(sk, "lo");
	if (r >= 0)
		r = 0;
	else
		set_reason(reason, "cannot bring lo up in '%s': %s", path, strerror(-r));
back:
	if (setns(orig_ns, CLONE_NEWNET) < 0) {
		/* unreachable in practice: the original netns fd is valid and we are privileged */
		int k = -errno;
		set_reason(reason, "cannot return to the original network namespace: %s",
			   strerror(-k));
		r = k;
	}
	if (r < 0) {
		if (sk)
			nl_socket_free(sk);
		return r;
	}
	*ret_sk = sk;
	return 0;
}

static int switch_setup(struct fl_lab_rt *lab, struct nl_sock *sk, char **reason)
{
	struct rtnl_link *br = rtnl_link_bridge_alloc();
	struct in_addr a;
	int r, idx;

	if (!br)
		return -ENOMEM;
	rtnl_link_set_name(br, "br0");
	rtnl_link_set_flags(br, IFF_UP);
	r = rtnl_link_add(sk, br, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(br);
	if (r < 0) {
		r = nlerr_to_errno(r);
		set_reason(reason, "cannot create bridge br0 in '%s': %s", lab->sw_name,
			   strerror(-r));
		return r;
	}
	idx = link_index(sk, "br0");
	if (idx < 0) {
		set_reason(reason, "cannot find bridge br0 in '%s': %s", lab->sw_name,
			   strerror(-idx));
		return idx;
	}
	inet_pton(AF_INET, LAB_NET ".1", &a);
	r = addr_add(sk, idx, a);
	if (r < 0) {
		set_reason(reason, "cannot add " LAB_NET ".1/24 to br0: %s", strerror(-r));
		return r;
	}
	return idx;
}

/*
 * One request creates the pair: the switch side (on br0, up) here, the peer directly in the
 * host's netns as eth0, so no temporary name and no move are needed. The peer cannot be set up
 * in the same request (veth_open() fails with ENOTCONN before the pair is linked).
 */
static int host_link(struct lab_host *h, struct nl_sock *swsk, int br_idx, char **reason)
{
	struct rtnl_link *veth = rtnl_link_veth_alloc(), *peer;
	int r;

	if (!veth)
		return -ENOMEM;
	rtnl_link_set_name(veth, h->port_name);
	rtnl_link_set_master(veth, br_idx);
	rtnl_link_set_flags(veth, IFF_UP);
	peer = rtnl_link_veth_get_peer(veth);
	rtnl_link_set_name(peer, "eth0");
	rtnl_link_set_ns_fd(peer, h->nsfd);
	rtnl_link_put(peer);
	r = rtnl_link_add(swsk, veth, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(veth);
	if (r < 0) {
		r = nlerr_to_errno(r);
		set_reason(reason, "host '%s': cannot create veth %s/eth0: %s", h->name,
			   h->port_name, strerror(-r));
		return r;
	}
	return 0;
}

static int host_network(struct fl_lab_rt *lab, struct lab_host *h, int orig_ns,
			struct nl_sock *swsk, int br_idx, char **reason)
{
	struct nl_sock *hsk = NULL;
	int r, idx;

	r = netns_create(h->netns_path, orig_ns, &hsk, &h->ns_made, reason);
	if (r < 0)
		return r;
	h->nsfd = open(h->netns_path, O_RDONLY | O_CLOEXEC);
	if (h->nsfd < 0) {
		r = -errno;
		set_reason(reason, "cannot open '%s': %s", h->netns_path, strerror(-r));
		goto out;
	}
	r = host_link(h, swsk, br_idx, reason);
	if (r < 0)
		goto out;
	idx = link_up(hsk, "eth0");
	if (idx < 0) {
		r = idx;
		set_reason(reason, "host '%s': cannot bring eth0 up: %s", h->name, strerror(-r));
		goto out;
	}
	r = addr_add(hsk, idx, h->addr);
	if (r < 0)
		set_reason(reason, "host '%s': cannot add its address: %s", h->name, strerror(-r));
out:
	nl_socket_free(hsk);
	return r;
}

/* --- processes ---------------------------------------------------------------------------- */

enum spawn_step {
	STEP_SETSID,
	STEP_CGROUP,
	STEP_LOG,
	STEP_NETNS,
	STEP_UNSHARE,
	STEP_MOUNT_SLAVE,
	STEP_HOSTS,
	STEP_HOSTNAME,
	STEP_CHDIR,
	STEP_STDIO,
	STEP_GO,
	STEP_EXEC,
};

static const char *const step_names[] = {
	[STEP_SETSID] = "start a session",
	[STEP_CGROUP] = "join its cgroup",
	[STEP_LOG] = "open its log",
	[STEP_NETNS] = "enter its network namespace",
	[STEP_UNSHARE] = "create its mount and UTS namespaces",
	[STEP_MOUNT_SLAVE] = "make its mounts private",
	[STEP_HOSTS] = "bind-mount the lab's hosts file on /etc/hosts",
	[STEP_HOSTNAME] = "set its hostname",
	[STEP_CHDIR] = "change to the working directory",
	[STEP_STDIO] = "set up stdin/stdout/stderr",
	[STEP_GO] = "wait for the supervisor",
	[STEP_EXEC] = "execute",
};

struct spawn_req {
	int nsfd;
	const char *cgroup; /* directory, or NULL */
	const char *hosts_file;
	const char *hostname;
	const char *workdir;
	const char *log_path; /* NULL: /dev/null, unless keep_output */
	bool keep_output;
	bool wait_go; /* block before exec until the supervisor recorded the pid */
	char *const *argv;
	char *const *envp;
};

struct spawned {
	pid_t pid;
	int pidfd;
	uint64_t start_time;
	int go_fd;  /* write end: one byte releases the child, EOF makes it exit */
	int err_fd; /* read end: EOF on exec, else {step, errno} */
};

struct spawn_err {
	int step;
	int err;
};

static _Noreturn void child_fail(int fd, int step)
{
	struct spawn_err e = { .step = step, .err = errno };
	ssize_t _unused_ w = write(fd, &e, sizeof(e));

	_exit(127);
}

/* After fork: only async-signal-safe calls, everything was prepared by the parent. */
static _Noreturn void child_run(const struct spawn_req *rq, const char *cg_procs, int go_r,
				int err_w)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	sigset_t none;
	int fd;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < _NSIG; sig++)
		sigaction(sig, &sa, NULL);
	if (setsid() < 0)
		child_fail(err_w, STEP_SETSID);
	if (cg_procs) {
		fd = open(cg_procs, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1)
			child_fail(err_w, STEP_CGROUP);
		close(fd);
	}
	if (rq->keep_output) {
		fd = -1;
	} else {
		if (rq->log_path)
			fd = open(rq->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		else
			fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			child_fail(err_w, STEP_LOG);
	}
	if (setns(rq->nsfd, CLONE_NEWNET) < 0)
		child_fail(err_w, STEP_NETNS);
	if (unshare(CLONE_NEWNS | CLONE_NEWUTS) < 0)
		child_fail(err_w, STEP_UNSHARE);
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		child_fail(err_w, STEP_MOUNT_SLAVE);
	if (mount(rq->hosts_file, "/etc/hosts", NULL, MS_BIND, NULL) < 0)
		child_fail(err_w, STEP_HOSTS);
	if (sethostname(rq->hostname, strlen(rq->hostname)) < 0)
		child_fail(err_w, STEP_HOSTNAME);
	if (chdir(rq->workdir) < 0)
		child_fail(err_w, STEP_CHDIR);
	{
		int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (nul < 0 || dup2(nul, STDIN_FILENO) < 0)
			child_fail(err_w, STEP_STDIO);
		if (fd >= 0 && (dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0))
			child_fail(err_w, STEP_STDIO);
	}
	/* whatever the parent left open without O_CLOEXEC must not leak into the service */
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	if (rq->wait_go) {
		char c;
		ssize_t n;
		do
			n = read(go_r, &c, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1) {
			errno = ECANCELED;
			child_fail(err_w, STEP_GO);
		}
	}
	execvpe(rq->argv[0], rq->argv, rq->envp);
	child_fail(err_w, STEP_EXEC);
}

static int spawn_start(const struct spawn_req *rq, struct spawned *ret)
{
	_cleanup_close_ int go_r = -1, go_w = -1, err_r = -1, err_w = -1;
	_cleanup_free_ char *cg_procs = NULL;
	int p[2], r;
	pid_t pid;

	if (rq->cgroup && asprintf(&cg_procs, "%s/cgroup.procs", rq->cgroup) < 0)
		return -ENOMEM;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	err_r = p[0];
	err_w = p[1];
	if (rq->wait_go) {
		if (pipe2(p, O_CLOEXEC) < 0)
			return -errno;
		go_r = p[0];
		go_w = p[1];
	}
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (go_w >= 0)
			close(go_w); /* or a dead supervisor would leave us waiting forever */
		close(err_r);
		child_run(rq, cg_procs, go_r, err_w);
	}
	*ret = (struct spawned){ .pid = pid, .pidfd = -1, .go_fd = -1, .err_fd = -1 };
	ret->pidfd = pidfd_open(pid, 0);
	if (ret->pidfd < 0) {
		r = -errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return r;
	}
	fl_proc_starttime(pid, &ret->start_time);
	ret->go_fd = TAKE_FD(go_w);
	ret->err_fd = TAKE_FD(err_r);
	return 0;
}

/*
 * Release the child (when it waits) and learn whether exec worked. On failure the child has
 * exited: it is reaped here and its pidfd closed.
 */
static int spawn_finish(struct spawned *sp, const char *what, char *const *argv, char **reason)
{
	struct spawn_err e;
	ssize_t n;

	if (sp->go_fd >= 0) {
		ssize_t _unused_ w = write(sp->go_fd, "g", 1);
		close(sp->go_fd);
		sp->go_fd = -1;
	}
	do
		n = read(sp->err_fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(sp->err_fd);
	sp->err_fd = -1;
	if (n == 0)
		return 0;
	if (n != (ssize_t)sizeof(e))
		e = (struct spawn_err){ .step = STEP_EXEC, .err = EIO };
	waitid(P_PIDFD, sp->pidfd, &(siginfo_t){ 0 }, WEXITED);
	close(sp->pidfd);
	sp->pidfd = -1;
	sp->pid = 0;
	if (e.step == STEP_EXEC)
		set_reason(reason, "%s: cannot execute '%s': %s", what, argv[0], strerror(e.err));
	else
		set_reason(reason, "%s: cannot %s: %s", what,
			   e.step >= 0 && e.step < (int)ARRAY_SIZE(step_names) ? step_names[e.step]
									       : "start",
			   strerror(e.err));
	return e.err > 0 ? -e.err : -EIO;
}

static void spawn_abort(struct spawned *sp)
{
	if (sp->go_fd >= 0)
		close(sp->go_fd); /* EOF: the child exits without exec */
	if (sp->err_fd >= 0)
		close(sp->err_fd);
	if (sp->pidfd >= 0) {
		pidfd_send_signal(sp->pidfd, SIGKILL, NULL, 0);
		waitid(P_PIDFD, sp->pidfd, &(siginfo_t){ 0 }, WEXITED);
		close(sp->pidfd);
	}
	*sp = (struct spawned){ .pidfd = -1, .go_fd = -1, .err_fd = -1 };
}

static void host_spawn_req(const struct lab_host *h, struct spawn_req *rq)
{
	*rq = (struct spawn_req){
		.nsfd = h->nsfd,
		.cgroup = h->cgroup,
		.hosts_file = h->lab->hosts_file,
		.hostname = h->name,
		.workdir = h->lab->workdir,
		.log_path = h->log_path,
		.wait_go = true,
		.argv = h->run,
		.envp = h->envp,
	};
}

static int build_env(struct lab_host *h, char *const *extra)
{
	extern char **environ;
	char **v = NULL;
	char *s = NULL;
	int r = 0;

	for (char **e = environ; *e && r >= 0; e++) {
		size_t k = strcspn(*e, "=");
		bool overridden = !strncmp(*e, "FAULTLINE_LAB=", 14) ||
				  !strncmp(*e, "FAULTLINE_HOST=", 15) ||
				  !strncmp(*e, "FAULTLINE_LAB_DIR=", 18);
		for (size_t i = 0; extra && extra[i] && !overridden; i++)
			overridden = !strncmp(extra[i], *e, k) && extra[i][k] == '=';
		if (!overridden)
			r = fl_strv_push(&v, *e);
	}
	if (r >= 0 && asprintf(&s, "FAULTLINE_LAB=%s", h->lab->run_id) >= 0) {
		r = fl_strv_push(&v, s);
		free(s);
	} else {
		r = -ENOMEM;
	}
	if (r >= 0 && asprintf(&s, "FAULTLINE_HOST=%s", h->name) >= 0) {
		r = fl_strv_push(&v, s);
		free(s);
	} else if (r >= 0) {
		r = -ENOMEM;
	}
	if (r >= 0 && asprintf(&s, "FAULTLINE_LAB_DIR=%s", h->lab->scratch_dir) >= 0) {
		r = fl_strv_push(&v, s);
		free(s);
	} else if (r >= 0) {
		r = -ENOMEM;
	}
	for (size_t i = 0; extra && extra[i] && r >= 0; i++)
		r = fl_strv_push(&v, extra[i]);
	if (r < 0) {
		fl_strv_free(v);
		return r;
	}
	h->envp = v;
	return 0;
}

/* --- supervision -------------------------------------------------------------------------- */

static int host_watch(struct lab_host *h);

static void host_started(struct lab_host *h, struct spawned *sp)
{
	h->pid = sp->pid;
	h->pidfd = sp->pidfd;
	h->start_time = sp->start_time;
	h->state = HOST_RUNNING;
	sp->pidfd = -1;
}

/* Restart: fork (the child waits), record the new pid, then let it exec. */
static int host_restart(struct lab_host *h, char **reason)
{
	struct spawn_req rq;
	struct spawned sp;
	char what[64];
	int r;

	host_spawn_req(h, &rq);
	r = spawn_start(&rq, &sp);
	if (r < 0) {
		set_reason(reason, "host '%s': cannot fork: %s", h->name, strerror(-r));
		return r;
	}
	h->pid = sp.pid;
	h->start_time = sp.start_time;
	h->state = HOST_STARTING;
	h->restarts++;
	r = lab_journal(h->lab);
	if (r < 0) {
		spawn_abort(&sp);
		h->pid = 0;
		h->state = HOST_FAILED;
		set_reason(reason, "host '%s': cannot record the restart: %s", h->name,
			   strerror(-r));
		return r;
	}
	snprintf(what, sizeof(what), "host '%s'", h->name);
	r = spawn_finish(&sp, what, h->run, reason);
	if (r < 0) {
		h->pid = 0;
		h->state = HOST_FAILED;
		return r;
	}
	host_started(h, &sp);
	log_debug("lab %s: host '%s' restarted as pid %d (restart %u)", h->lab->run_id, h->name,
		  h->pid, h->restarts);
	return 0;
}

/* Reap the service; true when the policy wants it restarted. */
static bool host_reap(struct lab_host *h)
{
	siginfo_t si = { 0 };
	bool again;

	if (waitid(P_PIDFD, h->pidfd, &si, WEXITED | WNOHANG) < 0) {
		/* someone else reaped it (SIGCHLD ignored): the cause is unknown */
		si.si_code = CLD_KILLED;
		si.si_status = 0;
		snprintf(h->last_exit, sizeof(h->last_exit), "exited (status unknown)");
	} else if (si.si_pid == 0) {
		return false; /* spurious: still running */
	} else {
		describe_exit(&si, h->last_exit, sizeof(h->last_exit));
	}
	close(h->pidfd);
	h->pidfd = -1;
	h->pid = 0;
	h->start_time = 0;
	again = h->restart == FL_RESTART_ALWAYS ||
		(h->restart == FL_RESTART_ON_FAILURE && exit_is_failure(&si));
	h->state = again ? HOST_RESTARTING : HOST_EXITED;
	log_debug("lab %s: host '%s' service %s%s", h->lab->run_id, h->name, h->last_exit,
		  again ? ", restarting" : "");
	return again;
}

static int on_restart_timer(struct fl_source *s, uint64_t now_ns, void *userdata)
{
	struct lab_host *h = userdata;
	_cleanup_free_ char *reason = NULL;
	int r;

	if (h->lab->going_down || h->state != HOST_RESTARTING)
		return 0;
	r = host_restart(h, &reason);
	if (r < 0) {
		/* keep the lab up and try again later, backing off like a service manager */
		log_debug("lab %s: %s", h->lab->run_id, reason ? reason : strerror(-r));
		h->state = HOST_RESTARTING;
		h->backoff_ns = h->backoff_ns ? h->backoff_ns * 2 : h->restart_delay_ns;
		if (h->backoff_ns < 100 * NSEC_PER_MSEC)
			h->backoff_ns = 100 * NSEC_PER_MSEC;
		if (h->backoff_ns > RESTART_BACKOFF_MAX_NS)
			h->backoff_ns = RESTART_BACKOFF_MAX_NS;
		lab_journal(h->lab);
		if (fl_loop_timer_set(s, now_ns + h->backoff_ns) < 0)
			h->state = HOST_FAILED;
		return 0;
	}
	h->backoff_ns = 0;
	lab_journal(h->lab);
	r = host_watch(h);
	if (r < 0)
		log_debug("lab %s: cannot watch host '%s': %s", h->lab->run_id, h->name,
			  strerror(-r));
	return 0;
}

static int schedule_restart(struct lab_host *h)
{
	uint64_t when = fl_now_ns() + h->restart_delay_ns;

	if (h->timer)
		return fl_loop_timer_set(h->timer, when);
	return fl_loop_add_timer(h->lab->loop, when, on_restart_timer, h, &h->timer);
}

static int on_service_exit(struct fl_source *s, int fd, uint32_t revents, void *userdata)
{
	struct lab_host *h = userdata;
	bool again;

	if (h->lab->going_down)
		return 0;
	fl_loop_remove(s);
	h->io = NULL;
	again = host_reap(h);
	if (h->pidfd >= 0) {
		/* still running (spurious wake-up): watch again */
		host_watch(h);
		return 0;
	}
	lab_journal(h->lab);
	if (again && schedule_restart(h) < 0) {
		h->state = HOST_FAILED;
		lab_journal(h->lab);
	}
	return 0;
}

static int host_watch(struct lab_host *h)
{
	if (!h->lab->loop || h->pidfd < 0 || h->io)
		return 0;
	return fl_loop_add_io(h->lab->loop, h->pidfd, EPOLLIN, false, on_service_exit, h, &h->io);
}

int fl_lab_attach_loop(struct fl_lab_rt *lab, struct fl_loop *loop)
{
	int r;

	if (!lab || !loop)
		return -EINVAL;
	if (lab->loop && lab->loop != loop)
		return -EBUSY;
	lab->loop = loop;
	for (size_t i = 0; i < lab->n_hosts; i++) {
		struct lab_host *h = &lab->hosts[i];
		if (h->state == HOST_RESTARTING && !h->timer) {
			r = schedule_restart(h);
			if (r < 0)
				return r;
		}
		r = host_watch(h);
		if (r < 0)
			return r;
	}
	return 0;
}

/* --- readiness ---------------------------------------------------------------------------- */

struct ready_state {
	int fd; /* connect in flight, or -1 */
	uint64_t started;
	uint64_t next_try;
	uint64_t deadline;
	int last_err;
	bool done;
};

static int socket_in_ns(int nsfd)
{
	_cleanup_close_ int old = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int fd, r;

	if (old < 0)
		return -errno;
	if (setns(nsfd, CLONE_NEWNET) < 0)
		return -errno;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	r = fd < 0 ? -errno : fd;
	if (setns(old, CLONE_NEWNET) < 0) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	return r;
}

static void ready_try(struct fl_lab_rt *lab, struct lab_host *h, struct ready_state *st,
		      uint64_t now)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(h->ready_port),
				   .sin_addr = h->addr };
	int fd = socket_in_ns(lab->sw_nsfd);

	st->started = now;
	st->next_try = now + READY_RETRY_NS;
	if (fd < 0) {
		st->last_err = -fd;
		return;
	}
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0) {
		st->done = true;
		close(fd);
		return;
	}
	if (errno != EINPROGRESS) {
		st->last_err = errno;
		close(fd);
		return;
	}
	st->fd = fd;
}

static void ready_check(struct ready_state *st)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(st->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == 0)
		st->done = true;
	else
		st->last_err = err;
	close(st->fd);
	st->fd = -1;
}

static void ready_fail(struct lab_host *h, const char *what, char **reason)
{
	_cleanup_free_ char *tail = log_tail(h->log_path);

	set_reason(reason, "host '%s': %s; see %s.log (%s)%s", h->name, what, h->name, h->log_path,
		   tail ? tail : "");
}

/*
 * Wait until every host with a ready port accepts a TCP connection from the switch, retrying
 * every 50 ms; services that exit meanwhile are restarted per their policy or fail the wait.
 */
static int lab_wait_ready(struct fl_lab_rt *lab, char **reason)
{
	struct ready_state st[FL_MAX_HOSTS];
	struct pollfd pfd[2 * FL_MAX_HOSTS];
	struct lab_host *who[2 * FL_MAX_HOSTS];
	uint64_t t0 = fl_now_ns();
	size_t pending = 0;
	int r = 0;

	for (size_t i = 0; i < lab->n_hosts; i++) {
		struct lab_host *h = &lab->hosts[i];
		st[i] = (struct ready_state){ .fd = -1,
					      .next_try = t0,
					      .deadline = t0 + h->ready_timeout_ns,
					      .done = !h->ready_port };
		pending += !st[i].done;
	}
	while (pending) {
		uint64_t now = fl_now_ns(), wake = UINT64_MAX;
		size_t n = 0;
		int timeout;

		pending = 0;
		for (size_t i = 0; i < lab->n_hosts; i++) {
			struct lab_host *h = &lab->hosts[i];
			struct ready_state *s = &st[i];

			if (h->state == HOST_RESTARTING && now >= h->restart_at) {
				r = host_restart(h, reason);
				if (r < 0)
					goto out;
			}
			if (h->state == HOST_RESTARTING && h->restart_at < wake)
				wake = h->restart_at;
			if (s->done)
				continue;
			pending++;
			if (s->fd >= 0 && now - s->started >= READY_ATTEMPT_MAX_NS) {
				close(s->fd);
				s->fd = -1;
				s->last_err = ETIMEDOUT;
			}
			if (s->fd < 0 && now >= s->next_try)
				ready_try(lab, h, s, now);
			if (s->done) {
				log_debug("lab %s: host '%s' port %u ready after %llums",
					  lab->run_id, h->name, h->ready_port,
					  (unsigned long long)((now - t0) / NSEC_PER_MSEC));
				pending--;
				continue;
			}
			if (now >= s->deadline) {
				char what[160], tbuf[32];
				snprintf(
					what, sizeof(what),
					"port %u did not accept connections within %s (last error: "
					"%s)",
					h->ready_port,
					fl_format_duration(h->ready_timeout_ns, tbuf, sizeof(tbuf)),
					s->last_err ? strerror(s->last_err) : "none");
				ready_fail(h, what, reason);
				r = -ETIMEDOUT;
				goto out;
			}
			if (s->fd >= 0) {
				pfd[n] = (struct pollfd){ .fd = s->fd, .events = POLLOUT };
				who[n++] = NULL;
				if (s->started + READY_ATTEMPT_MAX_NS < wake)
					wake = s->started + READY_ATTEMPT_MAX_NS;
			} else if (s->next_try < wake) {
				wake = s->next_try;
			}
			if (s->deadline < wake)
				wake = s->deadline;
		}
		if (!pending)
			break;
		for (size_t i = 0; i < lab->n_hosts; i++) {
			if (lab->hosts[i].pidfd < 0)
				continue;
			pfd[n] = (struct pollfd){ .fd = lab->hosts[i].pidfd, .events = POLLIN };
			who[n++] = &lab->hosts[i];
		}
		now = fl_now_ns();
		if (wake > now + READY_RETRY_NS)
			wake = now + READY_RETRY_NS; /* bounded: never sleep past a retry slot */
		timeout = wake <= now ? 0 : (int)((wake - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);
		if (poll(pfd, n, timeout) < 0 && errno != EINTR) {
			r = -errno;
			set_reason(reason, "waiting for the lab's services: %s", strerror(-r));
			goto out;
		}
		for (size_t k = 0; k < n; k++) {
			struct lab_host *h = who[k];
			if (!pfd[k].revents)
				continue;
			if (!h) {
				for (size_t i = 0; i < lab->n_hosts; i++)
					if (st[i].fd == pfd[k].fd)
						ready_check(&st[i]);
				continue;
			}
			if (!host_reap(h))
				continue;
			h->restart_at = fl_now_ns() + h->restart_delay_ns;
		}
		for (size_t i = 0; i < lab->n_hosts; i++) {
			struct lab_host *h = &lab->hosts[i];
			if (h->state == HOST_EXITED && h->ready_port && !st[i].done) {
				char what[160];
				snprintf(what, sizeof(what),
					 "the service exited (%s) before port %u accepted "
					 "connections",
					 h->last_exit, h->ready_port);
				ready_fail(h, what, reason);
				r = -ECHILD;
				goto out;
			}
		}
	}
out:
	for (size_t i = 0; i < lab->n_hosts; i++)
		if (st[i].fd >= 0)
			close(st[i].fd);
	return r;
}

/* --- teardown ----------------------------------------------------------------------------- */

static int cg_wait_empty(const char *cg, uint64_t timeout_ns)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	uint64_t deadline = fl_now_ns() + timeout_ns;

	if (asprintf(&path, "%s/cgroup.events", cg) < 0)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	for (;;) {
		char buf[256], *p;
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		uint64_t now;

		if (n < 0)
			return errno == ENODEV ? 0 : -errno;
		buf[n] = '\0';
		p = strstr(buf, "populated ");
		if (!p || p[10] == '0')
			return 0;
		now = fl_now_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		/* the kernel signals every change of cgroup.events with POLLPRI */
		struct pollfd pfd = { .fd = fd, .events = POLLPRI };
		if (poll(&pfd, 1, (int)((deadline - now) / NSEC_PER_MSEC) + 1) < 0 &&
		    errno != EINTR)
			return -errno;
	}
}

/* SIGKILL every process of the subtree; returns how many were signalled. */
static int cg_kill_procs(const char *cg)
{
	_cleanup_free_ char *procs = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	struct dirent *de;
	DIR *d;
	int n = 0, pid;

	if (asprintf(&procs, "%s/cgroup.procs", cg) < 0)
		return 0;
	f = fopen(procs, "re");
	while (f && fscanf(f, "%d", &pid) == 1)
		if (pid > 1 && pid != getpid() && kill(pid, SIGKILL) == 0)
			n++;
	d = opendir(cg);
	if (!d)
		return n;
	while ((de = readdir(d))) {
		_cleanup_free_ char *sub = NULL;
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (asprintf(&sub, "%s/%s", cg, de->d_name) >= 0)
			n += cg_kill_procs(sub);
	}
	closedir(d);
	return n;
}

/* SIGKILL everything in the cgroup subtree: cgroup.kill (>= 5.14), else pid by pid. */
static int cg_kill(const char *cg)
{
	_cleanup_free_ char *path = NULL;
	int r;

	if (asprintf(&path, "%s/cgroup.kill", cg) < 0)
		return -ENOMEM;
	r = write_existing(path, "1");
	if (r == 0 || access(cg, F_OK) < 0)
		return 0;
	if (r != -ENOENT)
		return r;
	/* forks racing the walk are caught by the next round */
	for (int round = 0; round < 10; round++) {
		if (cg_kill_procs(cg) == 0 || cg_wait_empty(cg, 500 * NSEC_PER_MSEC) == 0)
			return 0;
	}
	return -EBUSY;
}

static int cg_remove(const char *cg)
{
	DIR *d = opendir(cg);
	struct dirent *de;
	int r = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		_cleanup_free_ char *sub = NULL;
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (asprintf(&sub, "%s/%s", cg, de->d_name) < 0) {
			r = -ENOMEM;
			continue;
		}
		int k = cg_remove(sub);
		if (k < 0 && !r)
			r = k;
	}
	closedir(d);
	if (rmdir(cg) < 0 && errno != ENOENT && !r)
		r = -errno;
	return r;
}

static int netns_remove(const char *path)
{
	/* MNT_DETACH: a process still inside only keeps it until it exits */
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return -errno;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* Processes a teardown kills, each pinned by a pidfd so a recycled pid is never signalled. */
struct killset {
	int *fd;
	pid_t *pid;
	size_t n, cap;
};

static void killset_add(struct killset *ks, int fd, pid_t pid)
{
	for (size_t i = 0; i < ks->n; i++)
		if (ks->pid[i] == pid) {
			close(fd);
			return;
		}
	if (ks->n == ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 32;
		int *nfd = realloc(ks->fd, cap * sizeof(*nfd));
		pid_t *npid = nfd ? realloc(ks->pid, cap * sizeof(*npid)) : NULL;
		if (nfd)
			ks->fd = nfd;
		if (!npid) {
			/* cannot wait for it: at least kill it */
			pidfd_send_signal(fd, SIGKILL, NULL, 0);
			close(fd);
			return;
		}
		ks->pid = npid;
		ks->cap = cap;
	}
	ks->fd[ks->n] = fd;
	ks->pid[ks->n++] = pid;
}

static void killset_clear(struct killset *ks)
{
	for (size_t i = 0; i < ks->n; i++)
		close(ks->fd[i]);
	free(ks->fd);
	free(ks->pid);
	*ks = (struct killset){ 0 };
}

static void collect_recorded_pid(struct killset *ks, json_t *host)
{
	pid_t pid = (pid_t)json_integer_value(json_object_get(host, "pid"));
	uint64_t st = (uint64_t)json_integer_value(json_object_get(host, "start_time"));
	int fd;

	if (pid <= 1 || pid == getpid())
		return;
	fd = fl_pidfd_open_verified(pid, st);
	if (fd >= 0) /* else gone, or the pid now names another process: leave it alone */
		killset_add(ks, fd, pid);
}

/* Every process of a cgroup subtree; each one's membership is checked after it is pinned. */
static void collect_cgroup(struct killset *ks, const char *cg, const char *cg_rel)
{
	_cleanup_free_ char *procs = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	struct dirent *de;
	DIR *d;
	int pid;

	if (asprintf(&procs, "%s/cgroup.procs", cg) < 0)
		return;
	f = fopen(procs, "re");
	while (f && fscanf(f, "%d", &pid) == 1) {
		_cleanup_free_ char *mine = NULL;
		char path[64];
		int fd;

		if (pid <= 1 || pid == getpid())
			continue;
		fd = pidfd_open(pid, 0);
		if (fd < 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
		if (fl_read_file(path, &mine, NULL) == 0 && strstr(mine, cg_rel))
			killset_add(ks, fd, pid);
		else
			close(fd);
	}
	d = opendir(cg);
	if (!d)
		return;
	while ((de = readdir(d))) {
		_cleanup_free_ char *sub = NULL;
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (asprintf(&sub, "%s/%s", cg, de->d_name) >= 0)
			collect_cgroup(ks, sub, cg_rel);
	}
	closedir(d);
}

/*
 * Processes inside the lab's network namespaces, the way `ip netns pids` finds them: what
 * services forked when there is no cgroup, exec probes, shells users opened with
 * `ip netns exec`. One scan of /proc; each process is pinned with a pidfd before its namespace
 * is compared.
 */
static void collect_netns(struct killset *ks, const struct stat *ns, size_t n_ns)
{
	struct dirent *de;
	DIR *d;

	if (!n_ns)
		return;
	d = opendir("/proc");
	if (!d)
		return;
	while ((de = readdir(d))) {
		pid_t pid = (pid_t)strtol(de->d_name, NULL, 10);
		char path[64];
		struct stat st;
		bool match = false;
		int fd;

		if (pid <= 1 || pid == getpid())
			continue;
		fd = pidfd_open(pid, 0);
		if (fd < 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
		if (stat(path, &st) == 0)
			for (size_t i = 0; i < n_ns && !match; i++)
				match = st.st_ino == ns[i].st_ino && st.st_dev == ns[i].st_dev;
		if (match)
			killset_add(ks, fd, pid);
		else
			close(fd);
	}
	closedir(d);
}

/* Does a pidfd report POLLHUP once its process is reaped (Linux 6.x)? Probed once. */
static bool pidfd_reports_reap(void)
{
	static int known = -1;
	struct pollfd pfd;
	pid_t pid;
	int fd;

	if (known >= 0)
		return known;
	known = 0;
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0)
		_exit(0);
	fd = pidfd_open(pid, 0);
	waitpid(pid, NULL, 0);
	if (fd < 0)
		return false;
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	known = poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLHUP);
	close(fd);
	return known;
}

/*
 * SIGKILL everything (stopped processes too) and wait until it has exited, and, where the
 * kernel says so, until its parent (init, for orphans) has reaped it: afterwards no lab
 * process is left, not even as a zombie.
 */
static void killset_kill(struct killset *ks, json_t *report)
{
	uint64_t deadline = fl_now_ns() + KILL_WAIT_NS;
	struct pollfd *pfd;
	bool reap = false;

	if (!ks->n)
		return;
	pfd = calloc(ks->n, sizeof(*pfd));
	if (!pfd)
		return;
	for (size_t i = 0; i < ks->n; i++)
		pidfd_send_signal(ks->fd[i], SIGKILL, NULL, 0);
	for (int phase = 0; phase < 2; phase++) {
		short want = phase ? POLLHUP : POLLIN;
		for (;;) {
			uint64_t now = fl_now_ns();
			size_t n = 0;

			for (size_t i = 0; i < ks->n; i++) {
				/* POLLHUP is always reported; asking for POLLIN would not let us
				 * sleep */
				pfd[n] = (struct pollfd){ .fd = ks->fd[i],
							  .events = phase ? 0 : POLLIN };
				if (poll(&pfd[n], 1, 0) == 1 && (pfd[n].revents & want))
					continue;
				n++;
			}
			if (!n || now >= deadline)
				break;
			/* the pidfd wakes us on exit and, with reap reporting, on reap */
			poll(pfd, n, (int)((deadline - now) / NSEC_PER_MSEC) + 1);
		}
		if (phase == 0) {
			for (size_t i = 0; i < ks->n; i++) {
				struct pollfd p = { .fd = ks->fd[i], .events = POLLIN };
				if (poll(&p, 1, 0) == 0) {
					char obj[64];
					snprintf(obj, sizeof(obj), "pid %d", ks->pid[i]);
					report_add(report, obj, -ETIMEDOUT,
						   "still running after SIGKILL");
				}
			}
			reap = pidfd_reports_reap();
			if (!reap)
				break;
			/*
			 * Reaping orphans is init's job: give it a moment, no more (some inits,
			 * like this project's VM's, reap only once a second).
			 */
			deadline = fl_now_ns() + REAP_WAIT_NS;
		}
	}
	free(pfd);
}

int fl_lab_destroy_recorded(json_t *lab, json_t *report)
{
	json_t *hosts = json_object_get(lab, "hosts"), *sw = json_object_get(lab, "switch"), *h;
	const char *cg = json_string_value(json_object_get(lab, "cgroup"));
	const char *cg_base = json_string_value(json_object_get(lab, "cgroup_base"));
	const char *hosts_file = json_string_value(json_object_get(lab, "hosts_file"));
	size_t n_before = report ? json_array_size(report) : 0;
	struct killset ks = { 0 };
	bool failed = false;
	size_t i;
	int r;

	if (!json_is_object(lab))
		return -EINVAL;
	/* 1. processes: pin every one (recorded, in the cgroup, or in a namespace), then kill */
	if (!(cg && cg_base && cg_child_of(cg, cg_base)))
		cg = NULL;
	json_array_foreach (hosts, i, h)
		collect_recorded_pid(&ks, h);
	if (cg)
		collect_cgroup(&ks, cg, cg + strlen(cg_base) - strlen("/faultline"));
	{
		struct stat ns[FL_MAX_HOSTS + 1];
		const char *path = json_string_value(json_object_get(sw, "netns_path"));
		size_t n_ns = 0;

		if (path_under(path, NETNS_DIR "/fl-") && stat(path, &ns[n_ns]) == 0)
			n_ns++;
		json_array_foreach (hosts, i, h) {
			path = json_string_value(json_object_get(h, "netns_path"));
			if (n_ns < ARRAY_SIZE(ns) && path_under(path, NETNS_DIR "/fl-") &&
			    stat(path, &ns[n_ns]) == 0)
				n_ns++;
		}
		collect_netns(&ks, ns, n_ns);
	}
	if (cg) {
		/* and whatever forks meanwhile */
		r = cg_kill(cg);
		if (r < 0)
			report_add(report, cg, r, "cannot kill the lab's processes");
	}
	killset_kill(&ks, report);
	killset_clear(&ks);
	if (cg) {
		r = cg_wait_empty(cg, KILL_WAIT_NS);
		if (r < 0)
			report_add(report, cg, r, "processes left in the cgroup");
		r = cg_remove(cg);
		if (r < 0)
			report_add(report, cg, r, "cannot remove the cgroup");
		/* shared by every lab: only when we were the last one */
		if (rmdir(cg_base) < 0 && errno != ENOENT && errno != ENOTEMPTY && errno != EBUSY)
			report_add(report, cg_base, -errno, "cannot remove the cgroup");
	}
	/* 2. namespaces (their veths, addresses, qdiscs and filters go with them) */
	json_array_foreach (hosts, i, h) {
		const char *path = json_string_value(json_object_get(h, "netns_path"));
		const char *etc = json_string_value(json_object_get(h, "etc_netns"));
		if (path_under(path, NETNS_DIR "/fl-")) {
			r = netns_remove(path);
			if (r < 0)
				report_add(report, path, r, "cannot remove the network namespace");
		}
		if (path_under(etc, ETC_NETNS_DIR "/fl-")) {
			r = fl_rm_rf(etc);
			if (r < 0)
				report_add(report, etc, r, "cannot remove");
		}
	}
	{
		const char *path = json_string_value(json_object_get(sw, "netns_path"));
		const char *etc = json_string_value(json_object_get(sw, "etc_netns"));
		if (path_under(path, NETNS_DIR "/fl-")) {
			r = netns_remove(path);
			if (r < 0)
				report_add(report, path, r, "cannot remove the network namespace");
		}
		if (path_under(etc, ETC_NETNS_DIR "/fl-")) {
			r = fl_rm_rf(etc);
			if (r < 0)
				report_add(report, etc, r, "cannot remove");
		}
	}
	/* 3. files */
	if (hosts_file && strstr(hosts_file, "/runs/") && unlink(hosts_file) < 0 && errno != ENOENT)
		report_add(report, hosts_file, -errno, "cannot remove");
	failed = report ? json_array_size(report) > n_before : false;
	return failed ? -EBUSY : 0;
}

static void lab_free(struct fl_lab_rt *lab)
{
	if (!lab)
		return;
	for (size_t i = 0; i < lab->n_hosts; i++) {
		struct lab_host *h = &lab->hosts[i];
		fl_loop_remove(h->io);
		fl_loop_remove(h->timer);
		if (h->pidfd >= 0)
			close(h->pidfd);
		if (h->nsfd >= 0)
			close(h->nsfd);
		free(h->name);
		fl_strv_free(h->run);
		fl_strv_free(h->envp);
		free(h->netns_path);
		free(h->etc_dir);
		free(h->cgroup);
		free(h->log_path);
	}
	if (lab->sw_nsfd >= 0)
		close(lab->sw_nsfd);
	free(lab->hosts);
	free(lab->workdir);
	free(lab->hosts_file);
	free(lab->scratch_dir);
	free(lab->cg_base);
	free(lab->cg_run);
	free(lab->sw_path);
	free(lab->sw_etc_dir);
	free(lab);
}

/* Kill and reap our own children through their pidfds, then remove the rest by the record. */
static int lab_teardown(struct fl_lab_rt *lab, json_t *report)
{
	struct pollfd pfd[FL_MAX_HOSTS];
	uint64_t deadline;
	json_t *rec;
	size_t n = 0;
	int r;

	lab->going_down = true;
	lab->state = "down";
	for (size_t i = 0; i < lab->n_hosts; i++) {
		struct lab_host *h = &lab->hosts[i];
		fl_loop_remove(h->io);
		fl_loop_remove(h->timer);
		h->io = h->timer = NULL;
		if (h->pidfd >= 0)
			pidfd_send_signal(h->pidfd, SIGKILL, NULL, 0); /* stopped ones too */
	}
	if (lab->cg_run)
		cg_kill(lab->cg_run);
	deadline = fl_now_ns() + KILL_WAIT_NS;
	for (;;) {
		uint64_t now = fl_now_ns();
		n = 0;
		for (size_t i = 0; i < lab->n_hosts; i++) {
			struct lab_host *h = &lab->hosts[i];
			siginfo_t si = { 0 };
			if (h->pidfd < 0)
				continue;
			if (waitid(P_PIDFD, h->pidfd, &si, WEXITED | WNOHANG) < 0 || si.si_pid) {
				close(h->pidfd);
				h->pidfd = -1;
				h->pid = 0;
				h->state = HOST_EXITED;
				continue;
			}
			pfd[n++] = (struct pollfd){ .fd = h->pidfd, .events = POLLIN };
		}
		if (!n || now >= deadline)
			break;
		poll(pfd, n, (int)((deadline - now) / NSEC_PER_MSEC) + 1);
	}
	for (size_t i = 0; i < lab->n_hosts; i++) {
		if (lab->hosts[i].nsfd >= 0)
			close(lab->hosts[i].nsfd);
		lab->hosts[i].nsfd = -1;
	}
	if (lab->sw_nsfd >= 0)
		close(lab->sw_nsfd);
	lab->sw_nsfd = -1;
	rec = lab_record(lab);
	if (!rec)
		return -ENOMEM;
	/* only undo what we did: a name that existed before is someone else's */
	for (size_t i = 0; i < lab->n_hosts; i++)
		if (!lab->hosts[i].ns_made)
			json_object_del(json_array_get(json_object_get(rec, "hosts"), i),
					"netns_path");
	if (!lab->sw_made)
		json_object_del(json_object_get(rec, "switch"), "netns_path");
	r = fl_lab_destroy_recorded(rec, report);
	json_decref(rec);
	return r;
}

int fl_lab_down(struct fl_lab_rt *lab)
{
	json_t *report;
	int r;

	if (!lab)
		return 0;
	report = json_array();
	r = lab_teardown(lab, report);
	if (r < 0) {
		size_t i;
		json_t *e;
		json_array_foreach (report, i, e)
			log_debug("lab %s: %s: %s", lab->run_id,
				  json_string_value(json_object_get(e, "object")),
				  json_string_value(json_object_get(e, "error")));
	}
	json_decref(report);
	lab_free(lab);
	return r;
}

/* --- bring up ----------------------------------------------------------------------------- */

static int lab_alloc(const struct fl_lab *spec, const char *run_id, const char *workdir,
		     struct fl_journal *j, struct fl_lab_rt **ret, char **reason)
{
	struct fl_lab_rt *lab;
	_cleanup_free_ char *cg2 = NULL;
	const char *dir = fl_journal_dir(j);
	int r;

	lab = calloc(1, sizeof(*lab));
	if (!lab)
		return -ENOMEM;
	lab->sw_nsfd = -1;
	lab->j = j;
	lab->state = "creating";
	snprintf(lab->run_id, sizeof(lab->run_id), "%s", run_id);
	snprintf(lab->sw_name, sizeof(lab->sw_name), "fl-%s-sw", run_id);
	lab->workdir = realpath(workdir, NULL);
	if (!lab->workdir) {
		r = -errno;
		set_reason(reason, "working directory '%s': %s", workdir, strerror(-r));
		lab_free(lab);
		return r;
	}
	lab->hosts = calloc(spec->n_hosts, sizeof(*lab->hosts));
	if (!lab->hosts || asprintf(&lab->hosts_file, "%s/hosts", dir) < 0 ||
	    asprintf(&lab->scratch_dir, "%s/lab", dir) < 0 ||
	    asprintf(&lab->sw_path, NETNS_DIR "/%s", lab->sw_name) < 0 ||
	    asprintf(&lab->sw_etc_dir, ETC_NETNS_DIR "/%s", lab->sw_name) < 0) {
		lab_free(lab);
		return -ENOMEM;
	}
	/* FAULTLINE_LAB_CGROUP=0 forces the pid fallback (used by the tests) */
	if ((!getenv("FAULTLINE_LAB_CGROUP") || strcmp(getenv("FAULTLINE_LAB_CGROUP"), "0")) &&
	    cgroup2_root(&cg2) == 0) {
		if (asprintf(&lab->cg_base, "%s/faultline", cg2) < 0 ||
		    asprintf(&lab->cg_run, "%s/%s", lab->cg_base, run_id) < 0) {
			lab_free(lab);
			return -ENOMEM;
		}
	}
	lab->n_hosts = spec->n_hosts;
	for (size_t i = 0; i < spec->n_hosts; i++)
		lab->hosts[i].pidfd = lab->hosts[i].nsfd = -1;
	for (size_t i = 0; i < spec->n_hosts; i++) {
		const struct fl_lab_host *sh = &spec->hosts[i];
		struct lab_host *h = &lab->hosts[i];

		h->lab = lab;
		h->restart = sh->restart;
		/* a service that exits at once must not make us spin */
		h->restart_delay_ns = sh->restart_delay_ns > RESTART_DELAY_MIN_NS
					      ? sh->restart_delay_ns
					      : RESTART_DELAY_MIN_NS;
		h->ready_port = sh->ready_port;
		h->ready_timeout_ns =
			sh->ready_timeout_ns ? sh->ready_timeout_ns : 10 * NSEC_PER_SEC;
		h->addr.s_addr = htonl((198u << 24) | (18u << 16) | (LAB_HOST_BASE + (uint32_t)i));
		h->state = sh->run && sh->run[0] ? HOST_STARTING : HOST_IDLE;
		snprintf(h->netns_name, sizeof(h->netns_name), "fl-%s-%s", run_id, sh->name);
		snprintf(h->port_name, sizeof(h->port_name), "h-%s", sh->name);
		if (!(h->name = strdup(sh->name)) ||
		    asprintf(&h->netns_path, NETNS_DIR "/%s", h->netns_name) < 0 ||
		    asprintf(&h->etc_dir, ETC_NETNS_DIR "/%s", h->netns_name) < 0 ||
		    asprintf(&h->log_path, "%s/%s.log", dir, sh->name) < 0 ||
		    (lab->cg_run && asprintf(&h->cgroup, "%s/%s", lab->cg_run, sh->name) < 0)) {
			lab_free(lab);
			return -ENOMEM;
		}
		for (size_t k = 0; sh->run && sh->run[k]; k++)
			if (fl_strv_push(&h->run, sh->run[k]) < 0) {
				lab_free(lab);
				return -ENOMEM;
			}
		if (h->run && build_env(h, sh->env) < 0) {
			lab_free(lab);
			return -ENOMEM;
		}
	}
	*ret = lab;
	return 0;
}

static int check_spec(const struct fl_lab *spec, const char *run_id, char **reason)
{
	if (!run_id || strlen(run_id) != 12 || strspn(run_id, "0123456789abcdef") != 12) {
		set_reason(reason, "invalid run id '%s'", run_id ? run_id : "");
		return -EINVAL;
	}
	if (spec->n_hosts == 0 || spec->n_hosts > FL_MAX_HOSTS) {
		set_reason(reason, "a lab has 1 to %d hosts, not %zu", FL_MAX_HOSTS, spec->n_hosts);
		return -EINVAL;
	}
	for (size_t i = 0; i < spec->n_hosts; i++) {
		const char *n = spec->hosts[i].name;
		if (!fl_valid_name(n, FL_HOST_NAME_MAX)) {
			set_reason(reason, "invalid lab host name '%s'", n ? n : "");
			return -EINVAL;
		}
		/* "fl-RUN-sw" is the switch, "switch" its address in the hosts file */
		if (!strcmp(n, "sw") || !strcmp(n, "switch") || !strcmp(n, "localhost")) {
			set_reason(reason, "lab host name '%s' is reserved", n);
			return -EINVAL;
		}
		for (size_t k = 0; k < i; k++)
			if (!strcmp(spec->hosts[k].name, n)) {
				set_reason(reason, "duplicate lab host '%s'", n);
				return -EINVAL;
			}
	}
	return 0;
}

static int write_hosts(struct fl_lab_rt *lab, char **reason)
{
	char line[64];
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int r;

	if (!f)
		return -ENOMEM;
	fprintf(f,
		"# faultline lab %s\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost "
		"ip6-loopback\n" LAB_NET ".1\tswitch\n",
		lab->run_id);
	for (size_t i = 0; i < lab->n_hosts; i++) {
		char addr[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &lab->hosts[i].addr, addr, sizeof(addr));
		snprintf(line, sizeof(line), "%s\t%s\n", addr, lab->hosts[i].name);
		fputs(line, f);
	}
	if (fclose(f) != 0)
		return -ENOMEM;
	r = write_file(lab->hosts_file, text, 0644);
	if (r < 0) {
		set_reason(reason, "cannot write '%s': %s", lab->hosts_file, strerror(-r));
		return r;
	}
	/* services' scratch space (generated configs, state files): goes with the run's dir */
	if (mkdir(lab->scratch_dir, 0755) < 0 && errno != EEXIST) {
		r = -errno;
		set_reason(reason, "cannot create '%s': %s", lab->scratch_dir, strerror(-r));
		return r;
	}
	/* `ip netns exec fl-RUN-HOST ...` bind-mounts /etc/netns/NAME/hosts on /etc/hosts */
	if (mkdir(ETC_NETNS_DIR, 0755) < 0 && errno != EEXIST)
		return 0; /* a convenience only */
	for (size_t i = 0; i <= lab->n_hosts; i++) {
		const char *dir = i < lab->n_hosts ? lab->hosts[i].etc_dir : lab->sw_etc_dir;
		_cleanup_free_ char *link = NULL;
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			continue;
		if (asprintf(&link, "%s/hosts", dir) < 0)
			return -ENOMEM;
		unlink(link);
		if (symlink(lab->hosts_file, link) < 0)
			log_debug("lab %s: cannot link '%s': %m", lab->run_id, link);
	}
	return 0;
}

/* Without a usable cgroup v2 tree the lab falls back to pids and its namespaces' processes. */
static void lab_drop_cgroups(struct fl_lab_rt *lab)
{
	cg_remove(lab->cg_run);
	rmdir(lab->cg_base); /* only when empty: other labs may use it */
	free(lab->cg_run);
	free(lab->cg_base);
	lab->cg_run = lab->cg_base = NULL;
	for (size_t i = 0; i < lab->n_hosts; i++) {
		free(lab->hosts[i].cgroup);
		lab->hosts[i].cgroup = NULL;
	}
}

static void lab_cgroups(struct fl_lab_rt *lab)
{
	int r;

	if (!lab->cg_run)
		return;
	for (size_t i = 0; i < lab->n_hosts; i++) {
		r = fl_mkdir_p(lab->hosts[i].cgroup, 0755);
		if (r < 0) {
			log_debug("lab %s: cannot create cgroup '%s' (%s), using pids instead",
				  lab->run_id, lab->hosts[i].cgroup, strerror(-r));
			lab_drop_cgroups(lab);
			return;
		}
	}
}

static int lab_network(struct fl_lab_rt *lab, char **reason)
{
	_cleanup_close_ int orig = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	struct nl_sock *swsk = NULL;
	int r, br;

	if (orig < 0)
		return -errno;
	r = netns_dir_prepare();
	if (r < 0) {
		set_reason(reason, "cannot prepare " NETNS_DIR ": %s", strerror(-r));
		return r;
	}
	r = netns_create(lab->sw_path, orig, &swsk, &lab->sw_made, reason);
	if (r < 0)
		return r;
	lab->sw_nsfd = open(lab->sw_path, O_RDONLY | O_CLOEXEC);
	if (lab->sw_nsfd < 0) {
		r = -errno;
		set_reason(reason, "cannot open '%s': %s", lab->sw_path, strerror(-r));
		goto out;
	}
	br = switch_setup(lab, swsk, reason);
	if (br < 0) {
		r = br;
		goto out;
	}
	for (size_t i = 0; i < lab->n_hosts; i++) {
		r = host_network(lab, &lab->hosts[i], orig, swsk, br, reason);
		if (r < 0)
			goto out;
	}
out:
	nl_socket_free(swsk);
	return r;
}

static int lab_start(struct fl_lab_rt *lab, char **reason)
{
	struct spawned sp[FL_MAX_HOSTS];
	size_t started = 0;
	int r = 0;

	/* fork every service first; each waits until its pid is on disk */
	for (size_t i = 0; i < lab->n_hosts; i++) {
		struct lab_host *h = &lab->hosts[i];
		struct spawn_req rq;

		sp[i] = (struct spawned){ .pidfd = -1, .go_fd = -1, .err_fd = -1 };
		if (h->state == HOST_IDLE)
			continue;
		host_spawn_req(h, &rq);
		r = spawn_start(&rq, &sp[i]);
		if (r < 0) {
			set_reason(reason, "host '%s': cannot fork: %s", h->name, strerror(-r));
			goto fail;
		}
		h->pid = sp[i].pid;
		h->start_time = sp[i].start_time;
		started = i + 1;
	}
	lab->state = "starting";
	r = lab_journal(lab);
	if (r < 0) {
		set_reason(reason, "cannot record the lab: %s", strerror(-r));
		goto fail;
	}
	for (size_t i = 0; i < lab->n_hosts; i++) {
		struct lab_host *h = &lab->hosts[i];
		char what[64];
		if (h->state == HOST_IDLE)
			continue;
		snprintf(what, sizeof(what), "host '%s'", h->name);
		r = spawn_finish(&sp[i], what, h->run, reason);
		if (r < 0) {
			h->pid = 0;
			h->state = HOST_FAILED;
			goto fail;
		}
		host_started(h, &sp[i]);
	}
	return 0;
fail:
	for (size_t i = 0; i < started; i++)
		if (sp[i].pidfd >= 0) {
			lab->hosts[i].pid = 0;
			spawn_abort(&sp[i]);
		}
	return r;
}

int fl_lab_up(const struct fl_lab *spec, const char *run_id, const char *workdir,
	      struct fl_journal *j, struct fl_loop *loop, struct fl_lab_rt **ret, char **ret_reason)
{
	struct fl_lab_rt *lab = NULL;
	char *reason = NULL;
	uint64_t t0 = fl_now_ns();
	int r;

	if (!spec || !j || !ret)
		return -EINVAL;
	r = check_spec(spec, run_id, &reason);
	if (r < 0)
		goto fail_early;
	r = lab_alloc(spec, run_id, workdir ? workdir : ".", j, &lab, &reason);
	if (r < 0)
		goto fail_early;
	/* write-ahead: every name and path we are about to create */
	r = lab_journal(lab);
	if (r < 0) {
		set_reason(&reason, "cannot record the lab: %s", strerror(-r));
		goto fail;
	}
	r = write_hosts(lab, &reason);
	if (r < 0)
		goto fail;
	lab_cgroups(lab);
	r = lab_network(lab, &reason);
	if (r < 0)
		goto fail;
	log_debug("lab %s: network of %zu hosts up in %llums", run_id, lab->n_hosts,
		  (unsigned long long)((fl_now_ns() - t0) / NSEC_PER_MSEC));
	r = lab_start(lab, &reason);
	if (r < 0)
		goto fail;
	r = lab_wait_ready(lab, &reason);
	if (r < 0)
		goto fail;
	lab->state = "up";
	r = lab_journal(lab);
	if (r < 0) {
		set_reason(&reason, "cannot record the lab: %s", strerror(-r));
		goto fail;
	}
	if (loop) {
		r = fl_lab_attach_loop(lab, loop);
		if (r < 0) {
			set_reason(&reason, "cannot supervise the lab: %s", strerror(-r));
			goto fail;
		}
	}
	log_debug("lab %s: up in %llums", run_id,
		  (unsigned long long)((fl_now_ns() - t0) / NSEC_PER_MSEC));
	*ret = lab;
	return 0;
fail:
	if (!reason)
		set_reason(&reason, "%s", strerror(-r));
	{
		json_t *report = json_array();
		if (lab_teardown(lab, report) < 0) {
			size_t i;
			json_t *e;
			json_array_foreach (report, i, e)
				log_debug("lab %s: cleanup: %s: %s", run_id,
					  json_string_value(json_object_get(e, "object")),
					  json_string_value(json_object_get(e, "error")));
		}
		json_decref(report);
		lab_free(lab);
	}
fail_early:
	if (ret_reason)
		*ret_reason = reason;
	else
		free(reason);
	return r;
}

/* --- queries ------------------------------------------------------------------------------ */

const char *fl_lab_netns_path(const struct fl_lab_rt *lab, const char *host)
{
	int i;

	if (!lab)
		return NULL;
	if (!host)
		return lab->sw_path;
	i = lab_host_index(lab, host);
	return i < 0 ? NULL : lab->hosts[i].netns_path;
}

const char *fl_lab_netns_name(const struct fl_lab_rt *lab, const char *host)
{
	int i;

	if (!lab)
		return NULL;
	if (!host)
		return lab->sw_name;
	i = lab_host_index(lab, host);
	return i < 0 ? NULL : lab->hosts[i].netns_name;
}

int fl_lab_host_addr(const struct fl_lab_rt *lab, const char *host, struct in_addr *ret)
{
	int i = lab_host_index(lab, host);

	if (i < 0)
		return -ENOENT;
	*ret = lab->hosts[i].addr;
	return 0;
}

pid_t fl_lab_host_pid(const struct fl_lab_rt *lab, const char *host)
{
	int i = lab_host_index(lab, host);

	return i < 0 || lab->hosts[i].state != HOST_RUNNING ? 0 : lab->hosts[i].pid;
}

unsigned fl_lab_host_restarts(const struct fl_lab_rt *lab, const char *host)
{
	int i = lab_host_index(lab, host);

	return i < 0 ? 0 : lab->hosts[i].restarts;
}

size_t fl_lab_protected_pids(const struct fl_lab_rt *lab, pid_t *out, size_t max)
{
	if (!lab || max < 1)
		return 0;
	out[0] = getpid();
	return 1;
}

static int lab_nsfd(const struct fl_lab_rt *lab, const char *host)
{
	int i;

	if (!host)
		return lab->sw_nsfd;
	i = lab_host_index(lab, host);
	return i < 0 ? -1 : lab->hosts[i].nsfd;
}

int fl_lab_enter(const struct fl_lab_rt *lab, const char *host, int *ret_oldns)
{
	_cleanup_close_ int old = -1;
	int nsfd;

	if (!lab || !ret_oldns)
		return -EINVAL;
	nsfd = lab_nsfd(lab, host);
	if (nsfd < 0)
		return -ENOENT;
	old = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (old < 0)
		return -errno;
	if (setns(nsfd, CLONE_NEWNET) < 0)
		return -errno;
	*ret_oldns = TAKE_FD(old);
	return 0;
}

/* This process's environment with FAULTLINE_LAB_DIR set to the lab's scratch directory. */
static char **env_with_scratch(const struct fl_lab_rt *lab)
{
	extern char **environ;
	_cleanup_free_ char *s = NULL;
	char **v = NULL;
	int r = 0;

	for (char **e = environ; *e && r >= 0; e++)
		if (strncmp(*e, "FAULTLINE_LAB_DIR=", 18))
			r = fl_strv_push(&v, *e);
	if (r >= 0 && asprintf(&s, "FAULTLINE_LAB_DIR=%s", lab->scratch_dir) < 0)
		r = -ENOMEM;
	if (r >= 0)
		r = fl_strv_push(&v, s);
	if (r < 0)
		return fl_strv_free(v);
	return v;
}

int fl_lab_spawn(const struct fl_lab_rt *lab, const char *host, char *const *argv,
		 const char *workdir, bool keep_output, pid_t *ret_pid, int *ret_pidfd)
{
	struct spawn_req rq;
	struct spawned sp;
	char **envp;
	int nsfd, r;

	if (!lab || !argv || !argv[0] || !ret_pid || !ret_pidfd)
		return -EINVAL;
	nsfd = lab_nsfd(lab, host);
	if (nsfd < 0)
		return -ENOENT;
	envp = env_with_scratch(lab);
	if (!envp)
		return -ENOMEM;
	rq = (struct spawn_req){
		.nsfd = nsfd,
		.hosts_file = lab->hosts_file,
		.hostname = host ? host : "switch",
		.workdir = workdir ? workdir : lab->workdir,
		.keep_output = keep_output,
		.argv = argv,
		.envp = envp,
	};
	r = spawn_start(&rq, &sp);
	fl_strv_free(envp);
	if (r < 0)
		return r;
	r = spawn_finish(&sp, host ? host : "switch", argv, NULL);
	if (r < 0)
		return r;
	*ret_pid = sp.pid;
	*ret_pidfd = sp.pidfd;
	return 0;
}

json_t *fl_lab_describe(const struct fl_lab_rt *lab)
{
	return lab ? lab_record(lab) : NULL;
}

// SPDX-License-Identifier: GPL-2.0-only
/* Shared by the network backends: namespaces, bpffs, peers, cgroups, the match part of a plan. */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/types.h>

#include "bpf/netfault.h"
#include "inject/journal.h"
#include "inject/log.h"
#include "inject/netutil.h"

int fl_set_reason(char **reason, int r, const char *fmt, ...)
{
	va_list ap;

	if (!reason)
		return r;
	free(*reason);
	va_start(ap, fmt);
	if (vasprintf(reason, fmt, ap) < 0)
		*reason = NULL;
	va_end(ap);
	return r;
}

int fl_netns_enter(const char *netns, int *ret_old)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	int old;

	*ret_old = -1;
	if (!netns)
		return 0;
	if (asprintf(&path, "/run/netns/%s", netns) < 0)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	old = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (old < 0)
		return -errno;
	if (setns(fd, CLONE_NEWNET) < 0) {
		int e = -errno;
		close(old);
		return e;
	}
	*ret_old = old;
	return 0;
}

void fl_netns_leave(int old)
{
	if (old < 0)
		return;
	if (setns(old, CLONE_NEWNET) < 0)
		log_error("cannot return to faultline's network namespace: %s", strerror(errno));
	close(old);
}

/*
 * Written when we mounted bpffs, so the last revert (any process, any state directory) unmounts
 * it. Host-wide and gone at reboot with the mount itself: /run, not the state directory, which
 * tests and users may have several of.
 */
#define BPFFS_MARKER_DIR "/run/faultline"
#define BPFFS_MARKER BPFFS_MARKER_DIR "/bpffs-mounted-by-faultline"

int fl_bpffs_ensure(void)
{
	struct statfs sf;

	if (statfs(FL_BPFFS, &sf) == 0 && sf.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", FL_BPFFS, "bpf", 0, "mode=0700") < 0)
		return -errno;
	if (fl_mkdir_p(BPFFS_MARKER_DIR, 0700) < 0 ||
	    fl_write_file_atomic(BPFFS_MARKER, "", 0, 0600) < 0)
		log_warn("cannot write " BPFFS_MARKER ": the BPF filesystem stays mounted after "
			 "the fault");
	log_info("mounted the BPF filesystem on " FL_BPFFS " (it was not mounted); the last "
		 "revert unmounts it");
	return 0;
}

/*
 * Unmount the bpffs we mounted once nothing of ours is pinned and nothing of anyone else's is
 * either: the kernel's own preload iterators (progs.debug, maps.debug) do not count.
 */
void fl_bpffs_release(void)
{
	DIR *d;
	struct dirent *de;
	bool others = false;

	if (access(BPFFS_MARKER, F_OK) < 0)
		return; /* not ours: never unmount a bpffs someone else mounted */
	d = opendir(FL_BPFFS);
	if (!d)
		return;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    strcmp(de->d_name, "progs.debug") && strcmp(de->d_name, "maps.debug"))
			others = true;
	closedir(d);
	if (others)
		return;
	if (umount2(FL_BPFFS, MNT_DETACH) == 0 || errno == EINVAL) {
		unlink(BPFFS_MARKER);
		rmdir(BPFFS_MARKER_DIR); /* only when empty */
	}
}

int fl_lab_peer_addr(const char *run_id, const char *host, struct fl_cidr *ret)
{
	_cleanup_free_ char *path = NULL, *line = NULL;
	_cleanup_(fclosep) FILE *fp = NULL;
	size_t cap = 0;

	if (asprintf(&path, "%s/runs/%s/hosts", fl_state_dir(), run_id) < 0)
		return -ENOMEM;
	fp = fopen(path, "re");
	if (!fp)
		return -errno;
	while (getline(&line, &cap, fp) > 0) {
		char addr[64], name[64];
		if (line[0] == '#' || sscanf(line, "%63s %63s", addr, name) != 2)
			continue;
		if (strcmp(name, host) == 0) {
			*ret = (struct fl_cidr){ .family = AF_INET, .prefix = 32 };
			return inet_pton(AF_INET, addr, ret->addr) == 1 ? 0 : -EINVAL;
		}
	}
	return -ENOENT;
}

int fl_cgroup_id(const char *cg, uint64_t *ret)
{
	_cleanup_(fclosep) FILE *fp = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL, *path = NULL;
	char mnt[512] = "";
	size_t cap = 0;
	struct stat st;

	if (!fp)
		return -errno;
	while (getline(&line, &cap, fp) > 0) {
		char m[512], *dash = strstr(line, " - ");
		if (!dash || strncmp(dash + 3, "cgroup2 ", 8) != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %511s", m) == 1) {
			snprintf(mnt, sizeof(mnt), "%s", m);
			break;
		}
	}
	if (!mnt[0])
		return -ENOENT;
	if (asprintf(&path, "%s%s", mnt, cg) < 0)
		return -ENOMEM;
	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*ret = st.st_ino;
	return 0;
}

json_t *fl_cidr_to_json(const struct fl_cidr *c)
{
	char a[INET6_ADDRSTRLEN], buf[INET6_ADDRSTRLEN + 8];

	if (!c->family)
		return json_null();
	inet_ntop(c->family, c->addr, a, sizeof(a));
	snprintf(buf, sizeof(buf), "%s/%u", a, c->prefix);
	return json_string(buf);
}

int fl_cidr_from_json(json_t *j, struct fl_cidr *ret)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	uint64_t prefix;

	memset(ret, 0, sizeof(*ret));
	if (!json_is_string(j))
		return 0;
	snprintf(buf, sizeof(buf), "%s", json_string_value(j));
	slash = strchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	if (inet_pton(AF_INET, buf, ret->addr) == 1)
		ret->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, ret->addr) == 1)
		ret->family = AF_INET6;
	else
		return -EINVAL;
	if (fl_parse_uint(slash + 1, ret->family == AF_INET ? 32 : 128, &prefix) < 0)
		return -EINVAL;
	ret->prefix = (uint8_t)prefix;
	return 0;
}

static uint32_t fnv1a(uint32_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

uint32_t fl_net_handle(const char *run_id, const char *fault_name)
{
	char ts[32];

	snprintf(ts, sizeof(ts), "%llu", (unsigned long long)fl_boottime_ns());
	return fnv1a(fnv1a(fnv1a(2166136261u, run_id), fault_name), ts) | 1;
}

size_t fl_mgmt_ports(uint16_t ret[2])
{
	const char *ssh = getenv("SSH_CONNECTION");
	unsigned cport, sport;

	if (ssh && sscanf(ssh, "%*s %u %*s %u", &cport, &sport) == 2 && cport && cport < 65536 &&
	    sport && sport < 65536) {
		ret[0] = (uint16_t)cport;
		ret[1] = (uint16_t)sport;
		return 2;
	}
	/* `faultline agent --listen`: its port, set for the fault workers it forks */
	ssh = getenv("FAULTLINE_MGMT_PORT");
	if (ssh && sscanf(ssh, "%u", &sport) == 1 && sport && sport < 65536) {
		ret[0] = (uint16_t)sport;
		return 1;
	}
	return 0;
}

int fl_netmatch_plan(const struct fl_fault *f, const struct fl_netspec *spec, bool symmetric,
		     struct fl_inject_ctx *ctx, json_t *o)
{
	struct fl_cidr peer = { 0 };
	uint64_t cg = 0;
	uint16_t mgmt[2];
	size_t n_mgmt;
	json_t *excl;
	int r;

	if (spec->peer) {
		r = inet_pton(AF_INET, spec->peer, peer.addr) == 1 ? 0 : -EINVAL;
		if (r == 0)
			peer.family = AF_INET, peer.prefix = 32;
		else if (inet_pton(AF_INET6, spec->peer, peer.addr) == 1)
			peer.family = AF_INET6, peer.prefix = 128, r = 0;
		else if (f->on)
			r = fl_lab_peer_addr(ctx->run_id, spec->peer, &peer);
		if (r < 0)
			return fl_set_reason(&ctx->reason, r, "cannot resolve peer '%s'%s: %s",
					     spec->peer, f->on ? " in the lab" : " (not a lab run)",
					     strerror(-r));
	}
	if (spec->cgroup && (r = fl_cgroup_id(spec->cgroup, &cg)) < 0)
		return fl_set_reason(&ctx->reason, r,
				     "cannot find cgroup '%s' in the cgroup v2 hierarchy: %s",
				     spec->cgroup, strerror(-r));
	excl = json_array();
	for (size_t i = 0; i < spec->n_exclude; i++)
		json_array_append_new(excl, json_integer(spec->exclude[i]));
	/* the management plane: the SSH connection this runs over is never touched */
	n_mgmt = fl_mgmt_ports(mgmt);
	for (size_t i = 0; i < n_mgmt; i++)
		json_array_append_new(excl, json_integer(mgmt[i]));
	r = json_object_update_new(
		o, json_pack("{s:b, s:i, s:o, s:o, s:i, s:i, s:i, s:i, s:I, s:o}", "symmetric",
			     symmetric || spec->peer, "proto", (int)spec->proto, "src",
			     fl_cidr_to_json(spec->peer ? &(struct fl_cidr){ 0 } : &spec->src),
			     "dst", fl_cidr_to_json(spec->peer ? &peer : &spec->dst), "sport_lo",
			     (int)spec->sport.lo, "sport_hi", (int)spec->sport.hi, "dport_lo",
			     (int)spec->dport.lo, "dport_hi", (int)spec->dport.hi, "cgroup_id",
			     (json_int_t)cg, "exclude", excl));
	return r < 0 ? -ENOMEM : 0;
}

static int nf_cidr_of(json_t *j, struct nf_cidr *c)
{
	struct fl_cidr fc;
	int r = fl_cidr_from_json(j, &fc);

	memset(c, 0, sizeof(*c));
	if (r < 0)
		return r;
	if (fc.family)
		c->family = fc.family == AF_INET ? 4 : 6;
	c->prefix = fc.prefix;
	memcpy(c->addr, fc.addr, 16);
	return 0;
}

int fl_netmatch_config(json_t *o, struct nf_config *c)
{
	json_t *excl = json_object_get(o, "exclude"), *h;
	size_t i;

	c->cgroup_id = (uint64_t)json_integer_value(json_object_get(o, "cgroup_id"));
	c->proto = (uint8_t)json_integer_value(json_object_get(o, "proto"));
	c->symmetric = json_is_true(json_object_get(o, "symmetric"));
	c->sport_lo = (uint16_t)json_integer_value(json_object_get(o, "sport_lo"));
	c->sport_hi = (uint16_t)json_integer_value(json_object_get(o, "sport_hi"));
	c->dport_lo = (uint16_t)json_integer_value(json_object_get(o, "dport_lo"));
	c->dport_hi = (uint16_t)json_integer_value(json_object_get(o, "dport_hi"));
	c->n_exclude = 0;
	json_array_foreach(excl, i, h)
		if (c->n_exclude < NF_MAX_EXCLUDE)
			c->exclude[c->n_exclude++] = (uint16_t)json_integer_value(h);
	if (nf_cidr_of(json_object_get(o, "src"), &c->src) < 0 ||
	    nf_cidr_of(json_object_get(o, "dst"), &c->dst) < 0)
		return -EINVAL;
	return 0;
}

int fl_net_place(const struct fl_fault *f, const struct fl_netspec *spec, bool on_host,
		 const char *run_id, char **ret_netns, char **ret_dev, enum fl_direction *ret_dir)
{
	enum fl_direction dir = spec->direction;

	*ret_netns = *ret_dev = NULL;
	if (f->on && !on_host) {
		if (asprintf(ret_netns, "fl-%s-sw", run_id) < 0 ||
		    asprintf(ret_dev, "h-%s", f->on) < 0)
			goto oom;
		if (dir == FL_DIR_INGRESS)
			dir = FL_DIR_EGRESS;
		else if (dir == FL_DIR_EGRESS)
			dir = FL_DIR_INGRESS;
	} else {
		if ((f->target.netns && !(*ret_netns = strdup(f->target.netns))) ||
		    !(*ret_dev = strdup(spec->dev ? spec->dev : "eth0")))
			goto oom;
	}
	*ret_dir = dir;
	return 0;
oom:
	free(*ret_netns);
	free(*ret_dev);
	*ret_netns = *ret_dev = NULL;
	return -ENOMEM;
}

int fl_libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN && fl_log_level >= FL_LOG_DEBUG)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

long long fl_bpf_percpu_sum(int fd, uint32_t key)
{
	int ncpu = libbpf_num_possible_cpus();
	_cleanup_free_ uint64_t *v = NULL;
	unsigned long long sum = 0;

	if (ncpu <= 0 || !(v = calloc((size_t)ncpu, sizeof(*v))))
		return -1;
	if (bpf_map_lookup_elem(fd, &key, v) < 0)
		return -1;
	for (int i = 0; i < ncpu; i++)
		sum += v[i];
	return (long long)sum;
}

int fl_run_capture(const char *netns, char *const *argv, const char *input, bool with_stderr,
		   char **ret_out)
{
	int in[2], out[2], st;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	pid_t pid;

	if (ret_out)
		*ret_out = NULL;
	if (pipe2(in, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return -errno;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		int e = -errno;
		close(in[0]), close(in[1]), close(out[0]), close(out[1]);
		return e;
	}
	if (pid == 0) {
		int old;
		if (fl_netns_enter(netns, &old) < 0)
			_exit(126);
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		if (with_stderr) {
			dup2(out[1], STDERR_FILENO);
		} else {
			int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
			if (null >= 0)
				dup2(null, STDERR_FILENO);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	if (input) {
		size_t n = strlen(input), off = 0;
		while (off < n) {
			ssize_t w = write(in[1], input + off, n - off);
			if (w <= 0)
				break;
			off += (size_t)w;
		}
	}
	close(in[1]);
	for (;;) {
		ssize_t n;
		if (cap - len < 1024) {
			char *nb = realloc(buf, cap + 4096);
			if (!nb)
				break;
			buf = nb;
			cap += 4096;
		}
		n = read(out[0], buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(out[0]);
	if (buf) {
		buf[len] = '\0';
		while (len && buf[len - 1] == '\n')
			buf[--len] = '\0';
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			free(buf);
			return -errno;
		}
	if (ret_out)
		*ret_out = buf;
	else
		free(buf);
	if (!WIFEXITED(st))
		return -EINTR;
	return WEXITSTATUS(st);
}

int fl_revert_each(json_t *objects, int (*revert_one)(json_t *o, char **ret_reason),
		   char **ret_reason)
{
	json_t *o;
	size_t i;
	int r = 0, k;

	json_array_foreach(objects, i, o) {
		k = revert_one(o, ret_reason);
		if (k < 0 && !r)
			r = k;
	}
	return r;
}

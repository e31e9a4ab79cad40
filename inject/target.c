// SPDX-License-Identifier: GPL-2.0-only
/* Process targets: scan /proc, filter, pick reproducibly, open pidfds without pid races. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>

#include "inject/log.h"
#include "inject/target.h"

int fl_proc_starttime(pid_t pid, uint64_t *ret)
{
	_cleanup_free_ char *buf = NULL;
	char path[64], *p;
	unsigned long long st;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	r = fl_read_file(path, &buf, NULL);
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	/* comm may contain spaces and parentheses: fields resume after the last ')' */
	p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	/* after ") " come fields 3..: state(3) ... starttime(22) */
	p += 2;
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -EIO;
		p++;
	}
	if (sscanf(p, "%llu", &st) != 1)
		return -EIO;
	*ret = st;
	return 0;
}

int fl_pidfd_open_verified(pid_t pid, uint64_t starttime)
{
	_cleanup_close_ int fd = pidfd_open(pid, 0);
	uint64_t st;
	int r;

	if (fd < 0)
		return -errno;
	/* the pidfd pins the process: if its start time matches now, it is the one we planned */
	r = fl_proc_starttime(pid, &st);
	if (r < 0)
		return r;
	if (st != starttime)
		return -ESRCH;
	return TAKE_FD(fd);
}

int fl_pidfd_open_planned(json_t *o, pid_t *ret_pid)
{
	*ret_pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
	return fl_pidfd_open_verified(*ret_pid, (uint64_t)json_integer_value(
							   json_object_get(o, "starttime")));
}

static bool is_kernel_thread(pid_t pid)
{
	char path[64];
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	if (fl_read_file(path, &buf, &len) < 0)
		return true;
	return len == 0;
}

static int read_cmdline(pid_t pid, char **ret_joined, char **ret_argv0)
{
	char path[64];
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	r = fl_read_file(path, &buf, &len);
	if (r < 0)
		return r;
	if (ret_argv0) {
		const char *slash = strrchr(buf, '/');
		*ret_argv0 = strdup(slash ? slash + 1 : buf);
	}
	for (size_t i = 0; i + 1 < len; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	*ret_joined = TAKE_PTR(buf);
	return 0;
}

static bool cgroup_matches(pid_t pid, const char *want)
{
	char path[64];
	_cleanup_free_ char *buf = NULL;
	size_t wl = strlen(want);

	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	if (fl_read_file(path, &buf, NULL) < 0)
		return false;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, "0::", 3) != 0)
			continue;
		const char *cg = line + 3;
		if (wl == 1 && want[0] == '/')
			return true;
		/* the cgroup itself or anything below it */
		if (strncmp(cg, want, wl) == 0 && (cg[wl] == '\0' || cg[wl] == '/'))
			return true;
	}
	return false;
}

static bool netns_matches(pid_t pid, const struct stat *want)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	if (stat(path, &st) < 0)
		return false;
	return st.st_ino == want->st_ino && st.st_dev == want->st_dev;
}

bool fl_target_match(const struct fl_target *t, pid_t pid)
{
	_cleanup_free_ char *joined = NULL, *argv0 = NULL, *comm = NULL;
	char path[64];
	bool ok = true;

	if ((t->pid && pid != t->pid) || is_kernel_thread(pid))
		return false;
	if (t->cgroup && !cgroup_matches(pid, t->cgroup))
		return false;
	if ((t->name || t->cmdline) && read_cmdline(pid, &joined, &argv0) < 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (t->name && fl_read_file(path, &comm, NULL) < 0)
		return false;
	if (comm)
		comm[strcspn(comm, "\n")] = '\0';
	if (t->name && strcmp(comm, t->name) != 0 && !(argv0 && !strcmp(argv0, t->name)))
		return false;
	if (t->cmdline) {
		regex_t re;
		if (regcomp(&re, t->cmdline, REG_EXTENDED | REG_NOSUB) != 0)
			return false;
		ok = regexec(&re, joined, 0, NULL, 0) == 0;
		regfree(&re);
	}
	return ok;
}

void fl_target_describe(const struct fl_target *t, char *buf, size_t len)
{
	size_t off = 0;

#define APPEND(...)                                                                                \
	do {                                                                                       \
		if (off < len)                                                                     \
			off += (size_t)snprintf(buf + off, len - off, __VA_ARGS__);                \
	} while (0)
	buf[0] = '\0';
	if (t->pid)
		APPEND("pid %d", t->pid);
	if (t->name)
		APPEND("%sname '%s'", off ? " and " : "", t->name);
	if (t->cmdline)
		APPEND("%scmdline '%s'", off ? " and " : "", t->cmdline);
	if (t->cgroup)
		APPEND("%scgroup '%s'", off ? " and " : "", t->cgroup);
	if (!off)
		APPEND("any process");
#undef APPEND
}

static int cmp_pid(const void *a, const void *b)
{
	const struct fl_proc *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static bool protected_pid(pid_t pid, const pid_t *protect, size_t n)
{
	if (pid == 1 || pid == getpid())
		return true;
	for (size_t i = 0; i < n; i++)
		if (protect[i] == pid)
			return true;
	return false;
}

int fl_target_resolve(const struct fl_target *t, const char *netns_path, const char *where,
		      const pid_t *protect, size_t n_protect, uint64_t *rng,
		      struct fl_proc **ret, size_t *ret_n, char **ret_reason)
{
	_cleanup_free_ struct fl_proc *v = NULL;
	struct stat ns_st;
	regex_t re;
	bool have_re = false;
	size_t n = 0, cap = 0, want;
	char desc[256];
	DIR *d;
	struct dirent *de;
	int r = 0;

	fl_target_describe(t, desc, sizeof(desc));
	if (t->pid == 1 || (t->pid && t->pid == getpid())) {
		if (asprintf(ret_reason, "refusing to target %s", t->pid == 1 ? "PID 1" :
			     "faultline itself") < 0)
			*ret_reason = NULL;
		return -EPERM;
	}
	if (netns_path && stat(netns_path, &ns_st) < 0) {
		r = -errno;
		if (asprintf(ret_reason, "cannot find network namespace '%s': %s", netns_path,
			     strerror(-r)) < 0)
			*ret_reason = NULL;
		return r;
	}
	if (t->cmdline) {
		if (regcomp(&re, t->cmdline, REG_EXTENDED | REG_NOSUB) != 0) {
			if (asprintf(ret_reason, "invalid cmdline regex '%s'", t->cmdline) < 0)
				*ret_reason = NULL;
			return -EINVAL;
		}
		have_re = true;
	}
	d = opendir("/proc");
	if (!d) {
		r = -errno;
		goto out;
	}
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		_cleanup_free_ char *joined = NULL, *argv0 = NULL;
		struct fl_proc p = { 0 };

		if (*end || pid <= 0)
			continue;
		if (t->pid && pid != t->pid)
			continue;
		if (protected_pid((pid_t)pid, protect, n_protect) || is_kernel_thread((pid_t)pid))
			continue;
		if (netns_path && !netns_matches((pid_t)pid, &ns_st))
			continue;
		if (t->cgroup && !cgroup_matches((pid_t)pid, t->cgroup))
			continue;
		if (t->name || have_re) {
			if (read_cmdline((pid_t)pid, &joined, &argv0) < 0)
				continue;
		}
		p.pid = (pid_t)pid;
		{
			char path[64];
			_cleanup_free_ char *comm = NULL;
			snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
			if (fl_read_file(path, &comm, NULL) < 0)
				continue;
			comm[strcspn(comm, "\n")] = '\0';
			snprintf(p.comm, sizeof(p.comm), "%s", comm);
		}
		if (t->name && strcmp(p.comm, t->name) != 0 &&
		    !(argv0 && strcmp(argv0, t->name) == 0))
			continue;
		if (have_re && regexec(&re, joined, 0, NULL, 0) != 0)
			continue;
		if (fl_proc_starttime(p.pid, &p.starttime) < 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			struct fl_proc *nv = realloc(v, cap * sizeof(*nv));
			if (!nv) {
				r = -ENOMEM;
				break;
			}
			v = nv;
		}
		v[n++] = p;
	}
	closedir(d);
	if (r < 0)
		goto out;
	if (n == 0) {
		if (t->pid && kill(t->pid, 0) < 0 && errno == ESRCH)
			r = asprintf(ret_reason, "no process with pid %d (it is gone)", t->pid);
		else
			r = asprintf(ret_reason, "no process matches %s%s%s", desc,
				     where ? " in " : "", where ? where : "");
		if (r < 0)
			*ret_reason = NULL;
		r = -ESRCH;
		goto out;
	}
	qsort(v, n, sizeof(*v), cmp_pid);
	want = t->count ? t->count : (t->pick_random ? 1 : n);
	if (want > n)
		want = n;
	if (t->pick_random) {
		/* Fisher-Yates over the sorted list: same seed, same processes, same choice */
		for (size_t i = 0; i < want; i++) {
			size_t j = i + (size_t)(fl_rand_next(rng) % (n - i));
			struct fl_proc tmp = v[i];
			v[i] = v[j];
			v[j] = tmp;
		}
	}
	*ret_n = want;
	*ret = TAKE_PTR(v);
	r = 0;
out:
	if (have_re)
		regfree(&re);
	return r;
}

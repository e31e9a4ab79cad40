// SPDX-License-Identifier: GPL-2.0-only
/*
 * faultline-fused: a pass-through FUSE filesystem (libfuse3, high-level API, multithreaded)
 * mounted over the directory a disk-error or io-latency fault covers. The real directory stays
 * reachable to the daemon through an O_PATH descriptor opened before the mount: every
 * operation is an ...at() call relative to it. A call by a target process (its thread id from
 * the request -> Tgid from /proc -> the planned set, or the target's filters for a process
 * that started later), on a chosen operation below the prefix, fails with the errno or sleeps
 * for the delay (with the given probability); everything else passes through unchanged.
 * Files opened before the mount are on the real filesystem and never see us.
 * At its lease (CLOCK_BOOTTIME) the daemon stops injecting and unmounts itself (lazily if
 * busy); SIGTERM ends it at once (revert has unmounted it); SIGUSR1 writes the stats.
 * After the lease it passes through for at most FUSEFS_LEASE_GRACE_S more (files still open
 * through a lazily unmounted mount, or a copy of the mount in a mount namespace created while
 * it was up, which no umount here reaches), then exits: those get ENOTCONN, and nothing of
 * ours outlives the fault by more than the grace.
 */
#define FUSE_USE_VERSION 31

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/timerfd.h>
#include <time.h>

#include <linux/openat2.h>

#include "inject/daemon.h"
#include "inject/fusefs.h"
#include "inject/nfqd.h"
#include "inject/target.h"
#include "inject/util.h"

/* --- names ----------------------------------------------------------------------------------- */

static const char *const op_names[_FUSEFS_OP_MAX] = {
	[FUSEFS_OP_OPEN] = "open",	 [FUSEFS_OP_CREATE] = "create",
	[FUSEFS_OP_READ] = "read",	 [FUSEFS_OP_WRITE] = "write",
	[FUSEFS_OP_FSYNC] = "fsync",	 [FUSEFS_OP_FLUSH] = "flush",
	[FUSEFS_OP_RENAME] = "rename",	 [FUSEFS_OP_UNLINK] = "unlink",
	[FUSEFS_OP_MKDIR] = "mkdir",	 [FUSEFS_OP_RMDIR] = "rmdir",
	[FUSEFS_OP_GETATTR] = "getattr", [FUSEFS_OP_SETATTR] = "setattr",
	[FUSEFS_OP_STATFS] = "statfs",	 [FUSEFS_OP_LINK] = "link",
	[FUSEFS_OP_XATTR] = "xattr",	 [FUSEFS_OP_ALLOCATE] = "fallocate",
};

/* other names users write for the same operations */
static const struct {
	const char *name;
	enum fusefs_op op;
} op_aliases[] = {
	{ "fdatasync", FUSEFS_OP_FSYNC },  { "close", FUSEFS_OP_FLUSH },
	{ "truncate", FUSEFS_OP_SETATTR }, { "stat", FUSEFS_OP_GETATTR },
	{ "readdir", FUSEFS_OP_READ },	   { "mknod", FUSEFS_OP_CREATE },
	{ "symlink", FUSEFS_OP_LINK },	   { "readlink", FUSEFS_OP_LINK },
};

const char *fusefs_op_name(enum fusefs_op op)
{
	return (unsigned)op < _FUSEFS_OP_MAX ? op_names[op] : NULL;
}

static int op_lookup(const char *s, size_t len)
{
	for (size_t i = 0; i < _FUSEFS_OP_MAX; i++)
		if (strlen(op_names[i]) == len && !strncasecmp(op_names[i], s, len))
			return (int)i;
	for (size_t i = 0; i < ARRAY_SIZE(op_aliases); i++)
		if (strlen(op_aliases[i].name) == len && !strncasecmp(op_aliases[i].name, s, len))
			return (int)op_aliases[i].op;
	return -1;
}

int fusefs_ops_parse(const char *list, uint32_t *ret_mask, char *bad, size_t len)
{
	uint32_t mask = 0;
	const char *p = list;

	if (bad && len)
		bad[0] = '\0';
	for (;;) {
		size_t n;
		int op;

		p += strspn(p, " \t");
		n = strcspn(p, ",");
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 3 && !strncasecmp(p, "all", 3)) {
			mask |= FUSEFS_OPS_ALL;
		} else if ((op = op_lookup(p, n)) >= 0) {
			mask |= 1u << op;
		} else {
			if (bad && len)
				snprintf(bad, len, "%.*s", (int)n, p);
			return -EINVAL;
		}
		p = strchr(p, ',');
		if (!p)
			break;
		p++;
	}
	*ret_mask = mask;
	return 0;
}

void fusefs_ops_format(uint32_t mask, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	if ((mask & FUSEFS_OPS_ALL) == FUSEFS_OPS_ALL) {
		snprintf(buf, len, "all");
		return;
	}
	for (size_t i = 0; i < _FUSEFS_OP_MAX && off < len; i++)
		if (mask & (1u << i))
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "," : "",
						op_names[i]);
}

int fusefs_errno_parse(const char *s)
{
	uint64_t n;

	if (!s || !*s)
		return -EINVAL;
	if (fl_parse_uint(s, 4095, &n) == 0)
		return n ? (int)n : -EINVAL;
	for (int e = 1; e < 4096; e++) {
		const char *name = strerrorname_np(e);
		if (name && !strcasecmp(name, s))
			return e;
	}
	return -EINVAL;
}

bool fusefs_path_under(const char *path, const char *prefix)
{
	size_t n;

	if (!prefix)
		return true;
	while (*prefix == '/')
		prefix++;
	n = strlen(prefix);
	while (n && prefix[n - 1] == '/')
		n--;
	if (!n)
		return true;
	if (!path)
		return false;
	while (*path == '/')
		path++;
	return !strncmp(path, prefix, n) && (path[n] == '\0' || path[n] == '/');
}

/* --- the caller cache ---------------------------------------------------------------------- */

const struct fusefs_cache_slot *fusefs_cache_get(const struct fusefs_cache *c, pid_t tid,
						 uint64_t now)
{
	const struct fusefs_cache_slot *s = &c->s[(unsigned)tid % FUSEFS_CACHE_SLOTS];

	if (s->tid != tid || !tid || now - s->when > FUSEFS_CACHE_TTL_NS)
		return NULL;
	return s;
}

void fusefs_cache_put(struct fusefs_cache *c, pid_t tid, pid_t tgid, bool match, uint64_t now)
{
	c->s[(unsigned)tid % FUSEFS_CACHE_SLOTS] =
		(struct fusefs_cache_slot){ .tid = tid, .tgid = tgid, .match = match, .when = now };
}

int fusefs_tgid_of(pid_t tid, pid_t *ret)
{
	_cleanup_free_ char *text = NULL;
	char path[64];
	const char *p;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	r = fl_read_file(path, &text, NULL);
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	p = strstr(text, "\nTgid:");
	if (!p || sscanf(p + 6, "%d", ret) != 1)
		return -EINVAL;
	return 0;
}

bool fusefs_roll(uint64_t *rng, double percent)
{
	if (percent >= 100.0)
		return true;
	if (percent <= 0.0)
		return false;
	/* 53 random bits as a fraction in [0, 1) */
	return (double)(fl_rand_next(rng) >> 11) * 0x1.0p-53 * 100.0 < percent;
}

/* --- mounts ---------------------------------------------------------------------------------- */

/* mountinfo's octal escapes (\040 for a space) undone in place. */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/* A fuse.faultline mount at path whose source is `source` (NULL: any of ours). */
int fusefs_mount_state(const char *path, const char *source)
{
	_cleanup_fclose_ FILE *fp = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	bool ours = false, top = false;
	size_t cap = 0;

	/* mountinfo lists a mount after the one it covers: the last at path is on top */
	while (fp && getline(&line, &cap, fp) > 0) {
		char mnt[4096], fstype[256], src[4096];
		const char *sep = strstr(line, " - ");

		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%255s %4095s", fstype, src) != 2)
			continue;
		unescape(mnt);
		if (strcmp(mnt, path))
			continue;
		unescape(src);
		top = !strcmp(fstype, "fuse.faultline") && (!source || !strcmp(src, source));
		ours = ours || top;
	}
	return top ? FUSEFS_MOUNT_TOP : ours ? FUSEFS_MOUNT_COVERED : FUSEFS_MOUNT_NONE;
}

bool fusefs_mounted(const char *path, const char *source)
{
	return fusefs_mount_state(path, source) != FUSEFS_MOUNT_NONE;
}

int fusefs_unmount(const char *path)
{
	if (umount2(path, UMOUNT_NOFOLLOW) == 0)
		return 0;
	if (errno != EBUSY)
		return -errno;
	/* busy: detached now, gone when the last file opened through it closes */
	return umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) == 0 ? 1 : -errno;
}

/* --- the daemon ------------------------------------------------------------------------------ */

struct op_count {
	atomic_uint_fast64_t seen, matched, hit;
};

static struct fused {
	const struct fusefs_config *c;
	char source[160]; /* the mount's fsname: faultline:PIDFILE-BASENAME */
	int rootfd;
	atomic_bool injecting;
	pthread_mutex_t lock; /* the rng, the cache, the histogram */
	uint64_t rng;
	struct fusefs_cache cache;
	struct nfqd_hist hist;
	struct op_count ops[_FUSEFS_OP_MAX];
	uint64_t seq;
} fd_state = { .rootfd = -1, .lock = PTHREAD_MUTEX_INITIALIZER };

static bool planned(pid_t tgid)
{
	const struct fusefs_config *c = fd_state.c;
	uint64_t st;

	for (size_t i = 0; i < c->n_procs; i++)
		if (c->procs[i].pid == tgid)
			return fl_proc_starttime(tgid, &st) == 0 && st == c->procs[i].starttime;
	return false;
}

/* Never a target: faultline itself and what it protects (its lab supervisor...), and us. */
static bool spared(pid_t tgid)
{
	const struct fusefs_config *c = fd_state.c;

	if (tgid == getpid())
		return true;
	for (size_t i = 0; i < c->n_spare; i++)
		if (c->spare[i] == tgid)
			return true;
	return false;
}

/* Is the caller of the current request a target? Cached per thread id for a second. */
static bool caller_matches(void)
{
	const struct fusefs_config *c = fd_state.c;
	pid_t tid = fuse_get_context()->pid, tgid = 0;
	const struct fusefs_cache_slot *s;
	uint64_t now = fl_now_ns();
	bool m;

	if (tid <= 0)
		return false; /* the kernel's own requests (writeback, release) */
	pthread_mutex_lock(&fd_state.lock);
	s = fusefs_cache_get(&fd_state.cache, tid, now);
	m = s && s->match;
	pthread_mutex_unlock(&fd_state.lock);
	if (s)
		return m;
	if (fusefs_tgid_of(tid, &tgid) < 0)
		return false;
	m = !spared(tgid) &&
	    (c->any || planned(tgid) || (c->recheck && fl_target_match(c->recheck, tgid)));
	pthread_mutex_lock(&fd_state.lock);
	fusefs_cache_put(&fd_state.cache, tid, tgid, m, now);
	pthread_mutex_unlock(&fd_state.lock);
	return m;
}

static uint64_t sample_delay(void)
{
	const struct fusefs_config *c = fd_state.c;
	uint64_t r;

	if (!c->jitter_ns)
		return c->delay_ns;
	r = fl_rand_next(&fd_state.rng) % (2 * c->jitter_ns + 1);
	return c->delay_ns + r < c->jitter_ns ? 0 : c->delay_ns + r - c->jitter_ns;
}

/* Before each operation on a path below the prefix or not: 0 to pass it through (after a
 * delay), or -errno to fail it. */
static int gate(enum fusefs_op op, bool under)
{
	const struct fusefs_config *c = fd_state.c;
	struct op_count *oc = &fd_state.ops[op];
	uint64_t delay = 0, t0;
	struct timespec ts;
	bool hit;

	atomic_fetch_add_explicit(&oc->seen, 1, memory_order_relaxed);
	if (!atomic_load_explicit(&fd_state.injecting, memory_order_relaxed) ||
	    !(c->ops & (1u << op)) || !under || !caller_matches())
		return 0;
	atomic_fetch_add_explicit(&oc->matched, 1, memory_order_relaxed);
	pthread_mutex_lock(&fd_state.lock);
	hit = fusefs_roll(&fd_state.rng, c->percent);
	if (hit && !c->err)
		delay = sample_delay();
	pthread_mutex_unlock(&fd_state.lock);
	if (!hit)
		return 0;
	atomic_fetch_add_explicit(&oc->hit, 1, memory_order_relaxed);
	if (c->err)
		return -c->err;
	t0 = fl_now_ns();
	ts.tv_sec = (time_t)(delay / NSEC_PER_SEC);
	ts.tv_nsec = (long)(delay % NSEC_PER_SEC);
	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
	pthread_mutex_lock(&fd_state.lock);
	nfqd_hist_add(&fd_state.hist, (fl_now_ns() - t0) / NSEC_PER_USEC);
	pthread_mutex_unlock(&fd_state.lock);
	return 0;
}

/*
 * An open file or directory: libfuse gives fh operations no path (nullpath_ok), so whether it
 * is below the prefix is decided at open (a rename later does not move it in or out).
 */
struct ofile {
	int fd;
	DIR *dir;
	bool under;
};

static struct ofile *of(const struct fuse_file_info *fi)
{
	return (struct ofile *)(uintptr_t)fi->fh;
}

static int fh_fd(const struct fuse_file_info *fi)
{
	return of(fi)->fd;
}

static bool under(const char *path, const struct fuse_file_info *fi)
{
	return fi ? of(fi)->under : fusefs_path_under(path, fd_state.c->prefix);
}

#define GATE_FI(op, path, fi)                       \
	do {                                        \
		int _g = gate(op, under(path, fi)); \
		if (_g)                             \
			return _g;                  \
	} while (0)
#define GATE(op, path) GATE_FI(op, path, NULL)

/* Hand an open descriptor (or directory) to the kernel as fi->fh. */
static int keep(struct fuse_file_info *fi, const char *path, int fd, DIR *dir)
{
	struct ofile *o = malloc(sizeof(*o));

	if (!o) {
		if (dir)
			closedir(dir);
		else
			close(fd);
		return -ENOMEM;
	}
	*o = (struct ofile){ .fd = fd, .dir = dir, .under = under(path, NULL) };
	fi->fh = (uint64_t)(uintptr_t)o;
	return 0;
}

/* "/a/b" -> "a/b", "/" -> "." */
static const char *rel(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

static int neg(int r)
{
	return r < 0 ? -errno : r;
}

/* The flags open(2) takes; the kernel's own f_flags bits (__FMODE_EXEC...) would be EINVAL. */
#define OPEN_FLAGS                                                                             \
	(O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_DSYNC | \
	 O_SYNC | O_DIRECT | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_PATH)

/*
 * Open rel below the covered directory, never through a symlink or out of it: we are root,
 * and a component swapped for a symlink between the kernel's lookup and ours must not lead
 * anywhere else (openat2, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS).
 */
static int open_beneath(int dirfd, const char *rel_path, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(flags & OPEN_FLAGS) | O_CLOEXEC,
		.mode = flags & O_CREAT ? mode & 07777 : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, dirfd, rel_path, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

/*
 * The directory that holds path's last component, opened as open_beneath() does, for an
 * ...at() call on *last (never a path with a '/'). The caller closes it.
 */
static int parent_of(const char *path, const char **last)
{
	const char *r = rel(path), *slash = strrchr(r, '/');
	char dir[4096];

	*last = slash ? slash + 1 : r;
	if (!slash) {
		int fd = fcntl(fd_state.rootfd, F_DUPFD_CLOEXEC, 0);
		return fd < 0 ? -errno : fd;
	}
	if ((size_t)(slash - r) >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, r, (size_t)(slash - r));
	dir[slash - r] = '\0';
	return open_beneath(fd_state.rootfd, dir, O_PATH | O_DIRECTORY, 0);
}

/* New objects belong to the caller, not to us (root); failing that, owned by root as on a
 * root-squashed share. By fd when there is one, else dirfd and last. */
static void own(int dirfd, const char *last, int fd)
{
	struct fuse_context *ctx = fuse_get_context();
	int r;

	if (geteuid() != 0 || ctx->uid == 0)
		return;
	if (fd >= 0)
		r = fchown(fd, ctx->uid, ctx->gid);
	else
		r = fchownat(dirfd, last ? last : "", ctx->uid, ctx->gid, AT_SYMLINK_NOFOLLOW);
	(void)r;
}

static void *fs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	cfg->use_ino = 1;
	cfg->nullpath_ok = 1;
	cfg->hard_remove = 1; /* no .fuse_hidden files in the user's directory */
	cfg->kernel_cache = 0;
	cfg->direct_io = 0;
	/* every write reaches us with its caller's pid: no writeback cache */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	return NULL;
}

/* dirfd and last for path, or return its error: the ...at() calls of one operation */
#define PARENT(dirfd, last, path)                           \
	_cleanup_close_ int dirfd = parent_of(path, &last); \
	if (dirfd < 0)                                      \
	return dirfd

static int fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	const char *last;

	GATE_FI(FUSEFS_OP_GETATTR, path, fi);
	if (fi)
		return neg(fstat(fh_fd(fi), st));
	if (!strcmp(rel(path), "."))
		return neg(fstatat(fd_state.rootfd, "", st, AT_EMPTY_PATH));
	PARENT(dfd, last, path);
	return neg(fstatat(dfd, last, st, AT_SYMLINK_NOFOLLOW));
}

static int fs_readlink(const char *path, char *buf, size_t size)
{
	const char *last;
	ssize_t n;

	GATE(FUSEFS_OP_LINK, path);
	PARENT(dfd, last, path);
	n = readlinkat(dfd, last, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static int fs_mknod(const char *path, mode_t mode, dev_t rdev)
{
	const char *last;

	GATE(FUSEFS_OP_CREATE, path);
	PARENT(dfd, last, path);
	if (mknodat(dfd, last, mode, rdev) < 0)
		return -errno;
	own(dfd, last, -1);
	return 0;
}

static int fs_mkdir(const char *path, mode_t mode)
{
	const char *last;

	GATE(FUSEFS_OP_MKDIR, path);
	PARENT(dfd, last, path);
	if (mkdirat(dfd, last, mode) < 0)
		return -errno;
	own(dfd, last, -1);
	return 0;
}

static int fs_unlink(const char *path)
{
	const char *last;

	GATE(FUSEFS_OP_UNLINK, path);
	PARENT(dfd, last, path);
	return neg(unlinkat(dfd, last, 0));
}

static int fs_rmdir(const char *path)
{
	const char *last;

	GATE(FUSEFS_OP_RMDIR, path);
	PARENT(dfd, last, path);
	return neg(unlinkat(dfd, last, AT_REMOVEDIR));
}

static int fs_symlink(const char *target, const char *path)
{
	const char *last;

	GATE(FUSEFS_OP_LINK, path);
	PARENT(dfd, last, path);
	if (symlinkat(target, dfd, last) < 0)
		return -errno;
	own(dfd, last, -1);
	return 0;
}

static int fs_rename(const char *from, const char *to, unsigned int flags)
{
	const char *l1, *l2;

	GATE(FUSEFS_OP_RENAME, from);
	if (!fusefs_path_under(from, fd_state.c->prefix))
		GATE(FUSEFS_OP_RENAME, to); /* into the prefix counts too */
	PARENT(d1, l1, from);
	PARENT(d2, l2, to);
	return neg(renameat2(d1, l1, d2, l2, flags));
}

static int fs_link(const char *from, const char *to)
{
	const char *l1, *l2;

	GATE(FUSEFS_OP_LINK, to);
	PARENT(d1, l1, from);
	PARENT(d2, l2, to);
	return neg(linkat(d1, l1, d2, l2, 0));
}

static int fs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	_cleanup_close_ int fd = -1;
	char proc[64];

	GATE_FI(FUSEFS_OP_SETATTR, path, fi);
	if (fi)
		return neg(fchmod(fh_fd(fi), mode));
	/* no fchmodat(AT_SYMLINK_NOFOLLOW) before Linux 6.6: the file itself, by its fd */
	fd = open_beneath(fd_state.rootfd, rel(path), O_PATH, 0);
	if (fd < 0)
		return fd;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return neg(chmod(proc, mode));
}

static int fs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	const char *last;

	GATE_FI(FUSEFS_OP_SETATTR, path, fi);
	if (fi)
		return neg(fchown(fh_fd(fi), uid, gid));
	PARENT(dfd, last, path);
	return neg(fchownat(dfd, last, uid, gid, AT_SYMLINK_NOFOLLOW));
}

static int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	_cleanup_close_ int fd = -1;

	GATE_FI(FUSEFS_OP_SETATTR, path, fi);
	if (fi)
		return neg(ftruncate(fh_fd(fi), size));
	fd = open_beneath(fd_state.rootfd, rel(path), O_WRONLY, 0);
	if (fd < 0)
		return fd;
	return neg(ftruncate(fd, size));
}

static int fs_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	const char *last;

	GATE_FI(FUSEFS_OP_SETATTR, path, fi);
	if (fi)
		return neg(futimens(fh_fd(fi), tv));
	PARENT(dfd, last, path);
	return neg(utimensat(dfd, last, tv, AT_SYMLINK_NOFOLLOW));
}

static int fs_open(const char *path, struct fuse_file_info *fi)
{
	int fd;

	GATE(FUSEFS_OP_OPEN, path);
	fd = open_beneath(fd_state.rootfd, rel(path), fi->flags, 0);
	if (fd < 0)
		return fd;
	return keep(fi, path, fd, NULL);
}

static int fs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	int fd;

	GATE(FUSEFS_OP_CREATE, path);
	fd = open_beneath(fd_state.rootfd, rel(path), fi->flags | O_CREAT, mode);
	if (fd < 0)
		return fd;
	own(-1, NULL, fd);
	return keep(fi, path, fd, NULL);
}

static int fs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	ssize_t n;

	GATE_FI(FUSEFS_OP_READ, path, fi);
	n = pread(fh_fd(fi), buf, size, off);
	return n < 0 ? -errno : (int)n;
}

static int fs_write(const char *path, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	ssize_t n;

	GATE_FI(FUSEFS_OP_WRITE, path, fi);
	n = pwrite(fh_fd(fi), buf, size, off);
	return n < 0 ? -errno : (int)n;
}

static int fs_statfs(const char *path, struct statvfs *st)
{
	GATE(FUSEFS_OP_STATFS, path);
	return neg(fstatvfs(fd_state.rootfd, st));
}

static int fs_flush(const char *path, struct fuse_file_info *fi)
{
	int fd;

	GATE_FI(FUSEFS_OP_FLUSH, path, fi);
	/* close() of a duplicate: what the real filesystem does at the caller's close() */
	fd = dup(fh_fd(fi));
	if (fd < 0)
		return -errno;
	return neg(close(fd));
}

static int fs_release(const char *path, struct fuse_file_info *fi)
{
	close(fh_fd(fi));
	free(of(fi));
	return 0;
}

static int fs_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	GATE_FI(FUSEFS_OP_FSYNC, path, fi);
	return neg(datasync ? fdatasync(fh_fd(fi)) : fsync(fh_fd(fi)));
}

static int fs_opendir(const char *path, struct fuse_file_info *fi)
{
	int fd;
	DIR *d;

	GATE(FUSEFS_OP_OPEN, path);
	fd = open_beneath(fd_state.rootfd, rel(path), O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	return keep(fi, path, fd, d);
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
		      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	DIR *d = of(fi)->dir;
	struct dirent *de;

	GATE_FI(FUSEFS_OP_READ, path, fi);
	seekdir(d, off);
	while ((de = readdir(d))) {
		struct stat st = { .st_ino = de->d_ino, .st_mode = (mode_t)DTTOIF(de->d_type) };
		if (fill(buf, de->d_name, &st, telldir(d), 0))
			break;
	}
	return 0;
}

static int fs_releasedir(const char *path, struct fuse_file_info *fi)
{
	closedir(of(fi)->dir);
	free(of(fi));
	return 0;
}

static int fs_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi)
{
	DIR *d = of(fi)->dir;

	GATE_FI(FUSEFS_OP_FSYNC, path, fi);
	return neg(datasync ? fdatasync(dirfd(d)) : fsync(dirfd(d)));
}

static int fs_fallocate(const char *path, int mode, off_t off, off_t len, struct fuse_file_info *fi)
{
	GATE_FI(FUSEFS_OP_ALLOCATE, path, fi);
	return neg(fallocate(fh_fd(fi), mode, off, len));
}

static int fs_flock(const char *path, struct fuse_file_info *fi, int op)
{
	return neg(flock(fh_fd(fi), op));
}

static const struct fuse_operations fs_ops = {
	.init = fs_init,
	.getattr = fs_getattr,
	.readlink = fs_readlink,
	.mknod = fs_mknod,
	.mkdir = fs_mkdir,
	.unlink = fs_unlink,
	.rmdir = fs_rmdir,
	.symlink = fs_symlink,
	.rename = fs_rename,
	.link = fs_link,
	.chmod = fs_chmod,
	.chown = fs_chown,
	.truncate = fs_truncate,
	.utimens = fs_utimens,
	.open = fs_open,
	.create = fs_create,
	.read = fs_read,
	.write = fs_write,
	.statfs = fs_statfs,
	.flush = fs_flush,
	.release = fs_release,
	.fsync = fs_fsync,
	.opendir = fs_opendir,
	.readdir = fs_readdir,
	.releasedir = fs_releasedir,
	.fsyncdir = fs_fsyncdir,
	.fallocate = fs_fallocate,
	.flock = fs_flock,
};

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;

/* Callers hold stats_lock: one writer of the file at a time. */
static void write_stats_locked(void)
{
	json_t *j, *per = json_object();
	uint64_t seen = 0, matched = 0, hit = 0;
	_cleanup_free_ char *s = NULL;

	for (size_t i = 0; per && i < _FUSEFS_OP_MAX; i++) {
		uint64_t a = atomic_load(&fd_state.ops[i].seen),
			 b = atomic_load(&fd_state.ops[i].matched),
			 h = atomic_load(&fd_state.ops[i].hit);
		seen += a;
		matched += b;
		hit += h;
		if (a)
			json_object_set_new(per, op_names[i],
					    json_pack("[I, I, I]", (json_int_t)a, (json_int_t)b,
						      (json_int_t)h));
	}
	pthread_mutex_lock(&fd_state.lock);
	j = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:b, s:o?}", "seq",
		      (json_int_t)++fd_state.seq, "ops_seen", (json_int_t)seen, "ops_matched",
		      (json_int_t)matched, "ops_failed", (json_int_t)(fd_state.c->err ? hit : 0),
		      "ops_delayed", (json_int_t)(fd_state.c->err ? 0 : hit), "delay_p50_us",
		      (json_int_t)nfqd_hist_quantile(&fd_state.hist, 0.50), "delay_p99_us",
		      (json_int_t)nfqd_hist_quantile(&fd_state.hist, 0.99), "delay_max_us",
		      (json_int_t)fd_state.hist.max_us, "delay_mean_us",
		      fd_state.hist.count
			      ? (double)fd_state.hist.sum_us / (double)fd_state.hist.count
			      : 0.0,
		      "injecting", atomic_load(&fd_state.injecting), "per_op", per);
	pthread_mutex_unlock(&fd_state.lock);
	if (!j)
		return;
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s)
		fl_daemon_write_file(fd_state.c->statsfile, s);
}

static void write_stats(void)
{
	pthread_mutex_lock(&stats_lock);
	write_stats_locked();
	pthread_mutex_unlock(&stats_lock);
}

/* The last stats and exit, from whichever thread gets here first (the other waits). */
static _Noreturn void finish(void)
{
	pthread_mutex_lock(&stats_lock);
	atomic_store(&fd_state.injecting, false);
	write_stats_locked();
	_exit(0);
}

/* Signals and the lease, on a thread of their own (every other thread blocks them). */
static void *control(void *arg)
{
	const struct fusefs_config *c = fd_state.c;
	int sfd = ((int *)arg)[0], lfd = ((int *)arg)[1];
	struct pollfd p[2] = { { .fd = sfd, .events = POLLIN }, { .fd = lfd, .events = POLLIN } };
	bool lease_over = false;

	for (;;) {
		struct signalfd_siginfo si;

		if (poll(p, 2, -1) < 0)
			continue;
		while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGUSR1) {
				write_stats();
				continue;
			}
			/* stopped (revert unmounts it): the stats, then gone at once; a mount
			 * left behind answers ENOTCONN, never the real directory's data */
			finish();
		}
		if ((p[1].revents & POLLIN) && !lease_over) {
			struct itimerspec grace = { .it_value.tv_sec = FUSEFS_LEASE_GRACE_S };
			uint64_t ticks;

			if (read(lfd, &ticks, sizeof(ticks)) < 0)
				ticks = 0;

			/* the lease: pass-through only, then unmount (lazily if busy); the loop
			 * ends when the kernel lets the connection go, or the grace does */
			atomic_store(&fd_state.injecting, false);
			write_stats();
			if (fusefs_mount_state(c->path, fd_state.source) == FUSEFS_MOUNT_TOP)
				fusefs_unmount(c->path);
			lease_over = true;
			timerfd_settime(lfd, 0, &grace, NULL);
		} else if (p[1].revents & POLLIN) {
			finish(); /* the grace is over */
		}
	}
	return NULL;
}

static void report(int fd, const char *fmt, ...) _printf_(2, 3);
static void report(int fd, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (fd >= 0 && write(fd, msg, strlen(msg)) < 0)
		return;
}

static _Noreturn void daemon_main(const void *arg, int ready)
{
	const struct fusefs_config *c = arg;
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct itimerspec lease = { 0 };
	char opts[300];
	const char *base = strrchr(c->pidfile, '/');
	int ctl[2], r;
	struct fuse *f;
	pthread_t th;
	sigset_t mask;

	umask(0); /* the kernel applied the caller's umask to every mode we get */
	fd_state.c = c;
	fd_state.rng = c->seed;
	atomic_store(&fd_state.injecting, true);
	snprintf(fd_state.source, sizeof(fd_state.source), "faultline:%.*s",
		 (int)strcspn(base ? base + 1 : c->pidfile, "."), base ? base + 1 : c->pidfile);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_SETMASK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	ctl[0] = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	ctl[1] = timerfd_create(CLOCK_BOOTTIME, TFD_CLOEXEC | TFD_NONBLOCK);
	if (ctl[0] < 0 || ctl[1] < 0) {
		report(ready, "!cannot create the daemon's fds: %s\n", strerror(errno));
		_exit(1);
	}
	lease.it_value.tv_sec = (time_t)(c->lease_boot_ns / NSEC_PER_SEC);
	lease.it_value.tv_nsec = (long)(c->lease_boot_ns % NSEC_PER_SEC);
	timerfd_settime(ctl[1], TFD_TIMER_ABSTIME, &lease, NULL);

	/* the real directory, before it is covered */
	fd_state.rootfd = open(c->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd_state.rootfd < 0) {
		report(ready, "!cannot open '%s': %s\n", c->path, strerror(errno));
		_exit(1);
	}
	r = fl_daemon_write_pidfile(c->pidfile);
	if (r < 0) {
		report(ready, "!cannot write '%s': %s\n", c->pidfile, strerror(-r));
		_exit(1);
	}
	snprintf(opts, sizeof(opts), "allow_other,default_permissions,fsname=%s,subtype=faultline",
		 fd_state.source);
	if (fuse_opt_add_arg(&args, "faultline-fused") < 0 || fuse_opt_add_arg(&args, "-o") < 0 ||
	    fuse_opt_add_arg(&args, opts) < 0) {
		report(ready, "!out of memory\n");
		_exit(1);
	}
	f = fuse_new(&args, &fs_ops, sizeof(fs_ops), NULL);
	if (!f) {
		report(ready, "!libfuse refused the options '%s'\n", opts);
		unlink(c->pidfile);
		_exit(1);
	}
	if (fuse_mount(f, c->path) != 0) {
		report(ready, "!cannot mount FUSE over '%s' (see doctor: dev-fuse)\n", c->path);
		unlink(c->pidfile);
		_exit(1);
	}
	write_stats();
	if (pthread_create(&th, NULL, control, ctl) != 0) {
		fusefs_unmount(c->path);
		report(ready, "!cannot start the control thread\n");
		unlink(c->pidfile);
		_exit(1);
	}
	report(ready, "ok\n");
	close(ready);
	fuse_loop_mt(f, 0);
	/* unmounted (the lease, or by hand): the stats, and done; no fuse_unmount(): the path
	 * may be someone else's mount by now */
	finish();
}

int fusefs_spawn(const struct fusefs_config *c, pid_t *ret_pid, char **ret_reason)
{
	return fl_daemon_spawn("faultline-fused", "FUSE daemon", daemon_main, c, c->pidfile,
			       ret_pid, ret_reason);
}

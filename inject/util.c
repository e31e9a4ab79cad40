// SPDX-License-Identifier: GPL-2.0-only
/* Small helpers every module shares: durations, files, time, names, string vectors. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "inject/util.h"

int fl_parse_duration(const char *s, uint64_t *ret_ns)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
	} units[] = {
		{ "ns", 1 },
		{ "us", NSEC_PER_USEC },
		{ "ms", NSEC_PER_MSEC },
		{ "s", NSEC_PER_SEC },
		{ "m", 60 * NSEC_PER_SEC },
		{ "h", 3600 * NSEC_PER_SEC },
	};
	const char *p = s;
	uint64_t whole = 0, frac = 0, frac_div = 1;
	bool digits = false;

	if (!s || !*s)
		return -EINVAL;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '-')
		return -ERANGE;
	for (; isdigit((unsigned char)*p); p++) {
		digits = true;
		if (whole > UINT64_MAX / 10 / (3600 * NSEC_PER_SEC))
			return -ERANGE;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		p++;
		for (; isdigit((unsigned char)*p); p++) {
			digits = true;
			if (frac_div < 1000000000ULL) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				frac_div *= 10;
			}
		}
	}
	if (!digits)
		return -EINVAL;
	if (!*p) {
		/* only "0" may omit the unit */
		if (whole == 0 && frac == 0) {
			*ret_ns = 0;
			return 0;
		}
		return -EINVAL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcmp(p, units[i].suffix) != 0)
			continue;
		long double v = (long double)whole * units[i].mult +
				(long double)frac * units[i].mult / frac_div;
		if (v > (long double)FL_DURATION_MAX)
			return -ERANGE;
		*ret_ns = (uint64_t)(v + 0.5L);
		return 0;
	}
	return -EINVAL;
}

const char *fl_format_duration(uint64_t ns, char *buf, size_t len)
{
	if (ns == 0)
		snprintf(buf, len, "0s");
	else if (ns % (3600 * NSEC_PER_SEC) == 0)
		snprintf(buf, len, "%lluh", (unsigned long long)(ns / (3600 * NSEC_PER_SEC)));
	else if (ns % (60 * NSEC_PER_SEC) == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(ns / (60 * NSEC_PER_SEC)));
	else if (ns >= NSEC_PER_SEC)
		snprintf(buf, len, "%.3gs", (double)ns / NSEC_PER_SEC);
	else if (ns >= NSEC_PER_MSEC)
		snprintf(buf, len, "%.3gms", (double)ns / NSEC_PER_MSEC);
	else if (ns >= NSEC_PER_USEC)
		snprintf(buf, len, "%.3gus", (double)ns / NSEC_PER_USEC);
	else
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
	return buf;
}

int fl_parse_fraction(const char *s, double *ret)
{
	char *end;
	double v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || isnan(v) || isinf(v))
		return -EINVAL;
	if (*end == '%') {
		end++;
		v /= 100.0;
	} else if (v > 1.0) {
		return -ERANGE;
	}
	if (*end)
		return -EINVAL;
	if (v < 0.0 || v > 1.0)
		return -ERANGE;
	*ret = v;
	return 0;
}

int fl_parse_uint(const char *s, uint64_t max, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (!s || !*s)
		return -EINVAL;
	if (!isdigit((unsigned char)*s))
		return *s == '-' ? -ERANGE : -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t fl_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t fl_realtime_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

uint64_t fl_boottime_ns(void)
{
	return clock_ns(CLOCK_BOOTTIME);
}

size_t fl_levenshtein(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[65];

	if (lb >= ARRAY_SIZE(row) || la >= ARRAY_SIZE(row))
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t sub = prev + (a[i - 1] != b[j - 1]);
			size_t del = row[j] + 1, ins = row[j - 1] + 1;
			row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
			prev = cur;
		}
	}
	return row[lb];
}

const char *fl_closest(const char *word, const char *const *candidates, size_t n)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX, limit;

	if (!word)
		return NULL;
	/* allow roughly one edit per three characters, at least two */
	limit = strlen(word) / 3;
	if (limit < 2)
		limit = 2;
	for (size_t i = 0; i < n; i++) {
		if (!candidates[i])
			continue;
		size_t d = fl_levenshtein(word, candidates[i]);
		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best_d <= limit ? best : NULL;
}

int fl_read_file(const char *path, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		if (cap - len < 4096) {
			if (cap > (64u << 20))
				return -EFBIG;
			cap = cap ? cap * 2 : 8192;
			char *n = realloc(buf, cap);
			if (!n)
				return -ENOMEM;
			buf = n;
		}
		ssize_t r = read(fd, buf + len, cap - len - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	if (ret_len)
		*ret_len = len;
	*ret = TAKE_PTR(buf);
	return 0;
}

int fl_write_file_atomic(const char *path, const char *data, size_t len, int mode)
{
	_cleanup_free_ char *tmp = NULL, *dir = NULL;
	_cleanup_close_ int fd = -1, dfd = -1;
	char *slash;
	int r;

	if (asprintf(&tmp, "%s.tmp.%d", path, getpid()) < 0)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto fail;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0 || rename(tmp, path) < 0) {
		r = -errno;
		goto fail;
	}
	dir = strdup(path);
	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		fsync(dfd);
	return 0;
fail:
	unlink(tmp);
	return r;
}

int fl_mkdir_p(const char *path, int mode)
{
	_cleanup_free_ char *p = strdup(path);

	if (!p)
		return -ENOMEM;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int rm_rf_at(int dfd, const char *name)
{
	_cleanup_close_ int fd = -1;
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	d = fdopendir(TAKE_FD(fd));
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		int k = rm_rf_at(dirfd(d), de->d_name);
		if (k < 0 && r == 0)
			r = k;
	}
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
		r = -errno;
	return r;
}

int fl_rm_rf(const char *path)
{
	return rm_rf_at(AT_FDCWD, path);
}

int fl_new_id(char *buf, size_t len)
{
	uint8_t raw[6];

	if (len < 2 * sizeof(raw) + 1)
		return -EINVAL;
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -errno;
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(buf + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

bool fl_valid_name(const char *s, size_t maxlen)
{
	size_t n;

	if (!s || !*s)
		return false;
	n = strlen(s);
	if (n > maxlen)
		return false;
	if (!islower((unsigned char)s[0]) && !isdigit((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '-')
			return false;
	return s[n - 1] != '-';
}

const char *fl_shorten(const char *v, size_t max, char *buf)
{
	size_t i;

	for (i = 0; v[i] && i < max; i++)
		buf[i] = (unsigned char)v[i] < 0x20 || v[i] == 0x7f ? '?' : v[i];
	if (v[i]) {
		/* do not cut a UTF-8 sequence in half */
		while (i > 0 && ((unsigned char)v[i] & 0xc0) == 0x80)
			i--;
		strcpy(buf + i, "...");
	} else {
		buf[i] = '\0';
	}
	return buf;
}

char **fl_strv_free(char **v)
{
	if (v)
		for (char **p = v; *p; p++)
			free(*p);
	free(v);
	return NULL;
}

size_t fl_strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

int fl_strv_push(char ***v, const char *s)
{
	size_t n = fl_strv_len(*v);
	char **nv;
	char *dup = strdup(s);

	if (!dup)
		return -ENOMEM;
	nv = realloc(*v, (n + 2) * sizeof(char *));
	if (!nv) {
		free(dup);
		return -ENOMEM;
	}
	nv[n] = dup;
	nv[n + 1] = NULL;
	*v = nv;
	return 0;
}

char *fl_strv_join(char *const *v, const char *sep)
{
	size_t len = 1, sl = strlen(sep);
	char *out, *p;

	for (size_t i = 0; v && v[i]; i++)
		len += strlen(v[i]) + sl;
	out = p = malloc(len);
	if (!out)
		return NULL;
	*p = '\0';
	for (size_t i = 0; v && v[i]; i++) {
		if (i)
			p = stpcpy(p, sep);
		p = stpcpy(p, v[i]);
	}
	return out;
}

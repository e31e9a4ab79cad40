// SPDX-License-Identifier: GPL-2.0-only
/* Named time zones through glibc and tzdata: TZ + tzset + localtime_r, gaps and overlaps. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inject/util.h"
#include "scenarios/tz.h"

static bool tz_name_chars(const char *s)
{
	if (!*s || *s == '/' || strstr(s, ".."))
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || strchr("/_+-", *s)))
			return false;
	return true;
}

int fl_tz_check(const char *name, char *why, size_t len)
{
	const char *dir = getenv("TZDIR");
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	char magic[4];

	if (!name || !strcmp(name, "UTC"))
		return 0;
	if (strlen(name) > FL_TZ_NAME_MAX || !tz_name_chars(name)) {
		snprintf(why, len,
			 "'%s' is not a time zone name (an IANA name such as "
			 "Europe/Berlin, or UTC)",
			 name);
		return -EINVAL;
	}
	if (asprintf(&path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name) < 0)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, magic, 4) != 4 || memcmp(magic, "TZif", 4)) {
		snprintf(why, len,
			 "unknown time zone '%s' (no tzdata file %s; is tzdata "
			 "installed?)",
			 name, path);
		return -ENOENT;
	}
	return 0;
}

int fl_tz_push(const char *name, struct fl_tz_saved *saved)
{
	const char *old = getenv("TZ");
	_cleanup_free_ char *v = NULL;

	saved->had = old != NULL;
	saved->old = old ? strdup(old) : NULL;
	if (old && !saved->old)
		return -ENOMEM;
	/* ":NAME" makes glibc read the zone file, never parse NAME as a POSIX rule */
	if (asprintf(&v, ":%s", name ? name : "UTC") < 0)
		return -ENOMEM;
	if (setenv("TZ", v, 1) < 0)
		return -errno;
	tzset();
	return 0;
}

void fl_tz_pop(struct fl_tz_saved *saved)
{
	if (saved->had)
		setenv("TZ", saved->old, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved->old);
	saved->old = NULL;
}

time_t fl_tz_wall(time_t t)
{
	struct tm tm;

	localtime_r(&t, &tm);
	return timegm(&tm);
}

static long offset_at(time_t t)
{
	struct tm tm;

	localtime_r(&t, &tm);
	return tm.tm_gmtoff;
}

int fl_tz_instants(time_t wall, time_t ret[2])
{
	/* the offsets in force a day either side: zones change at most once within two days */
	long offs[2] = { offset_at(wall - 86400), offset_at(wall + 86400) };
	int n = 0;

	for (int i = 0; i < 2; i++) {
		time_t t = wall - offs[i];

		if (i == 1 && offs[1] == offs[0])
			break;
		if (fl_tz_wall(t) == wall)
			ret[n++] = t;
	}
	if (n == 2 && ret[1] < ret[0]) {
		time_t x = ret[0];
		ret[0] = ret[1];
		ret[1] = x;
	}
	return n;
}

time_t fl_tz_gap_end(time_t wall)
{
	time_t t[2];

	/* the first wall-clock minute that exists again; its instant is the transition */
	for (int i = 1; i <= 24 * 60; i++)
		if (fl_tz_instants(wall + i * 60, t) > 0)
			return t[0];
	return wall;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * wloop: the workload of bench/syscall.sh. Linked against libc dynamically, so fiu-run's
 * LD_PRELOAD wrappers reach it like any program.
 *
 *   wloop write N FILE    N write()s of 16 bytes to FILE (truncated first)
 *   wloop getppid N       N getppid()s through syscall(2) (never cached by libc)
 *
 * Writes one JSON object to the file $WLOOP_OUT: calls, failed, ns_per_call (CLOCK_MONOTONIC
 * around the loop).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	static const char buf[16] = "0123456789abcde";
	unsigned long long t0, t1;
	long n, failed = 0;
	int fd = -1;

	if (argc < 3 || (strcmp(argv[1], "write") == 0 && argc < 4)) {
		fprintf(stderr, "usage: wloop write N FILE | wloop getppid N\n");
		return 2;
	}
	n = strtol(argv[2], NULL, 10);
	if (n <= 0)
		return 2;
	if (strcmp(argv[1], "write") == 0) {
		fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0) {
			perror("open");
			return 1;
		}
		t0 = now_ns();
		for (long i = 0; i < n; i++)
			if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
				failed++;
		t1 = now_ns();
		close(fd);
	} else if (strcmp(argv[1], "getppid") == 0) {
		t0 = now_ns();
		for (long i = 0; i < n; i++)
			if (syscall(SYS_getppid) < 0)
				failed++;
		t1 = now_ns();
	} else {
		return 2;
	}
	/* write() itself may be the faulted call: the result goes out with pwrite() to a file */
	const char *out = getenv("WLOOP_OUT");
	char line[160];
	int len = snprintf(line, sizeof(line),
			   "{\"calls\": %ld, \"failed\": %ld, \"ns_per_call\": %.1f}\n", n, failed,
			   (double)(t1 - t0) / (double)n);

	if (!out)
		return 2;
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || pwrite(fd, line, (size_t)len, 0) != len)
		return 1;
	return close(fd) ? 1 : 0;
}

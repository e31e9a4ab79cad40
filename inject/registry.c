// SPDX-License-Identifier: GPL-2.0-only
/* The registry: every fault kind of the design, its backends by preference, the ones built. */
#include <string.h>

#include "inject/injector.h"

#define PLANNED(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define BUILT(...) ((const struct fl_backend *const[]){ __VA_ARGS__, NULL })
#define NONE ((const struct fl_backend *const[]){ NULL })

static const struct fl_kind_info kinds[] = {
	{ "kill", "send a signal to target processes (once or every interval)", PLANNED("pidfd"),
	  BUILT(&fl_backend_kill) },
	{ "stop", "pause target processes (SIGSTOP) for the fault's duration", PLANNED("pidfd"),
	  BUILT(&fl_backend_stop) },
	{ "latency", "delay packets", PLANNED("netem", "nfqueue", "seccomp-notify"),
	  BUILT(&fl_backend_latency_netem, &fl_backend_latency_nfq) },
	{ "loss", "drop a share of packets", PLANNED("tc-bpf", "netem"),
	  BUILT(&fl_backend_loss_tc, &fl_backend_loss_netem) },
	{ "corrupt", "corrupt a share of packets", PLANNED("netem", "tc-bpf"),
	  BUILT(&fl_backend_corrupt_netem, &fl_backend_corrupt_tc) },
	{ "duplicate", "duplicate a share of packets", PLANNED("netem"),
	  BUILT(&fl_backend_duplicate_netem) },
	{ "reorder", "reorder a share of packets", PLANNED("netem"),
	  BUILT(&fl_backend_reorder_netem) },
	{ "partition", "drop traffic between host groups or to addresses", PLANNED("tc-bpf"),
	  BUILT(&fl_backend_partition_tc) },
	{ "bandwidth", "limit bandwidth", PLANNED("tbf"), BUILT(&fl_backend_bandwidth_tbf) },
	{ "crash-point", "kill a process at its Nth call of a syscall or function",
	  PLANNED("bpf-signal"), BUILT(&fl_backend_crash_bpf) },
	{ "disk-error", "fail file operations with an errno",
	  PLANNED("bpf-lsm", "fmod-ret", "fuse", "seccomp"),
	  BUILT(&fl_backend_disk_error_lsm, &fl_backend_disk_error_fmodret, &fl_backend_disk_fuse,
		&fl_backend_disk_seccomp) },
	{ "io-latency", "delay file operations", PLANNED("fuse", "seccomp-notify"),
	  BUILT(&fl_backend_iolat_fuse, &fl_backend_iolat_seccomp) },
	{ "syscall", "fail or delay syscalls of a command faultline launches", PLANNED("seccomp"),
	  BUILT(&fl_backend_syscall_seccomp) },
};

static const struct fl_kind_info *const kind_ptrs[] = {
	&kinds[0], &kinds[1], &kinds[2], &kinds[3], &kinds[4],	&kinds[5],
	&kinds[6], &kinds[7], &kinds[8], &kinds[9], &kinds[10], &kinds[11], &kinds[12], NULL,
};

_Static_assert(ARRAY_SIZE(kind_ptrs) == ARRAY_SIZE(kinds) + 1, "kind_ptrs out of sync");

const struct fl_kind_info *const *fl_kinds(void)
{
	return kind_ptrs;
}

const struct fl_backend *fl_backend_find(const char *kind)
{
	if (!kind)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (strcmp(kinds[i].kind, kind) == 0)
			return kinds[i].backends[0];
	return NULL;
}

const struct fl_backend *const *fl_backends_of(const char *kind)
{
	for (size_t i = 0; kind && i < ARRAY_SIZE(kinds); i++)
		if (strcmp(kinds[i].kind, kind) == 0)
			return kinds[i].backends;
	return NULL;
}

const struct fl_backend *fl_backend_find_named(const char *kind, const char *name)
{
	if (!kind || !name)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		if (strcmp(kinds[i].kind, kind) != 0)
			continue;
		for (const struct fl_backend *const *b = kinds[i].backends; *b; b++)
			if (strcmp((*b)->name, name) == 0)
				return *b;
	}
	return NULL;
}

size_t fl_kind_names(const char **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(kinds) && n < max; i++)
		if (kinds[i].backends[0])
			out[n++] = kinds[i].kind;
	return n;
}

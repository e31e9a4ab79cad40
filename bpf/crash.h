/* SPDX-License-Identifier: GPL-2.0-only */
/* Types shared by bpf/crash.bpf.c and inject/crash.c: a crash point's config and its targets. */
#ifndef FL_CRASH_H
#define FL_CRASH_H

#define CRASH_MAX_TARGETS 1024
/* /proc/PID/stat's starttime is in USER_HZ (100) ticks of the boot clock */
#define CRASH_NS_PER_TICK 10000000ULL

struct crash_config {
	__u64 expiry_boot_ns; /* CLOCK_BOOTTIME: after it the programs do nothing */
	__u64 nth;	      /* the call that fires, counted per target process from 1 */
	__u32 syscall_nr;     /* sys_enter: the syscall counted (x86_64 number) */
	__u32 signal;	      /* what bpf_send_signal() sends, SIGKILL by default */
	/*
	 * 0, or a cgroup v2 id: processes of that subtree (its ancestor at cgroup_level) that
	 * are not in the map yet become targets at their first call, so a service's processes
	 * forked after the fault started are counted too.
	 */
	__u64 cgroup_id;
	__u32 cgroup_level;
	__u32 pad;
};

enum crash_verdict {
	CRASH_ARMED,  /* counting */
	CRASH_FIRED,  /* the signal went to the process on its nth call */
	CRASH_STALE,  /* the pid was reused by another process: left alone, disarmed */
	CRASH_FAILED, /* bpf_send_signal() refused */
	CRASH_EXEMPT, /* faultline's own processes: never counted */
};

/* One per target process, keyed by its tgid in the root pid namespace. */
struct crash_target {
	__u64 starttime; /* from the plan: the process the pid must still be */
	__u64 calls;	 /* calls counted, up to the nth */
	__u64 fired_ns;	 /* CLOCK_MONOTONIC (bpf_ktime_get_ns) at the nth call's entry */
	__u32 tid;	 /* the thread that made the nth call */
	__u32 verdict;	 /* enum crash_verdict */
	__s32 err;	 /* bpf_send_signal()'s return when it failed */
	__u32 pad;
};

#endif

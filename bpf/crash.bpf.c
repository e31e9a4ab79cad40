// SPDX-License-Identifier: GPL-2.0-only
/*
 * Crash points: send a signal (SIGKILL) to a target process on its nth call of a syscall
 * (raw tracepoint sys_enter) or on its nth entry into a function of a binary (uprobe).
 * The programs are global: the targets map, keyed by tgid, is the filter.
 */
/*
 * CO-RE on purpose (no BPF_NO_PRESERVE_ACCESS_INDEX): at the firing call the program reads
 * the process's start time from its task_struct, so a pid reused by another process is never
 * signalled; and when a cgroup's new process joins the targets. Never on the hot path.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "crash.h"

char LICENSE[] SEC("license") = "GPL";

const volatile struct crash_config cfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CRASH_MAX_TARGETS);
	__type(key, __u32);
	__type(value, struct crash_target);
} targets SEC(".maps");

/* The current process's start time in /proc/PID/stat's ticks. */
static __always_inline __u64 current_starttime(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	return BPF_CORE_READ(task, group_leader, start_boottime) / CRASH_NS_PER_TICK;
}

/* A process of the target cgroup's subtree that is not in the map yet: add it, armed. */
static __always_inline struct crash_target *cgroup_member(__u32 tgid)
{
	struct crash_target n = {};

	if (!cfg.cgroup_id || bpf_get_current_ancestor_cgroup_id(cfg.cgroup_level) != cfg.cgroup_id)
		return NULL;
	n.starttime = current_starttime();
	bpf_map_update_elem(&targets, &tgid, &n, BPF_NOEXIST);
	return bpf_map_lookup_elem(&targets, &tgid);
}

static __always_inline int crash_call(void)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct crash_target *t;
	long r;

	t = bpf_map_lookup_elem(&targets, &tgid);
	if (t && t->verdict != CRASH_ARMED)
		return 0;
	if (!t && !cfg.cgroup_id)
		return 0;
	if (bpf_ktime_get_boot_ns() >= cfg.expiry_boot_ns)
		return 0; /* the lease ran out and nobody reverted us: inert */
	if (!t && !(t = cgroup_member(tgid)))
		return 0;
	/* threads race here: exactly one of them draws the nth number */
	if (__sync_fetch_and_add(&t->calls, 1) + 1 != cfg.nth)
		return 0;
	if (current_starttime() != t->starttime) {
		t->verdict = CRASH_STALE;
		return 0;
	}
	t->fired_ns = bpf_ktime_get_ns();
	t->tid = (__u32)id;
	/* lands on the way back to user mode: the nth call does not complete */
	r = bpf_send_signal(cfg.signal);
	if (r < 0) {
		t->err = (__s32)r;
		t->verdict = CRASH_FAILED;
	} else {
		t->verdict = CRASH_FIRED;
	}
	return 0;
}

/* args[1] is the syscall number (TP_PROTO(struct pt_regs *regs, long id)) */
SEC("raw_tracepoint/sys_enter")
int crash_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	if (ctx->args[1] != cfg.syscall_nr)
		return 0;
	return crash_call();
}

SEC("uprobe")
int crash_uprobe(void *ctx)
{
	return crash_call();
}

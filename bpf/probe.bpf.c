// SPDX-License-Identifier: GPL-2.0-only
/* Trivial programs that `faultline doctor` loads one at a time to probe kernel features. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

#define TC_ACT_OK 0
#define FL_SIGKILL 9
#define FL_EIO 5

/*
 * Writable on purpose (.data, not const volatile .rodata): the verifier cannot know the value,
 * so it checks the helper calls behind the comparison, while at run time ~0 never equals a
 * real tgid and the programs do nothing. A frozen .rodata value would let the verifier prune
 * the branch, and the probe would say nothing about the helper.
 */
__u32 never_tgid = ~0u;
/* The uprobe counts its hits for this tgid only (set by user space after load). */
__u32 uprobe_tgid = ~0u;
__u64 uprobe_hits = 0;

static __always_inline bool is_never_tgid(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == never_tgid;
}

/* The bpf() syscall at all: the simplest program type there is. */
SEC("socket")
int probe_socket(struct __sk_buff *skb)
{
	return 0;
}

/* tc clsact (cls_bpf direct-action) and tcx links: let every packet pass. */
SEC("tc")
int probe_tc(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

/* BPF trampolines. */
SEC("fentry/vfs_read")
int BPF_PROG(probe_fentry, struct file *file)
{
	return 0;
}

/* BPF LSM: hand back the previous verdict untouched. */
SEC("lsm/file_permission")
int BPF_PROG(probe_lsm, struct file *file, int mask, int ret)
{
	return ret;
}

/* fmod_ret: 0 means "do not modify, run the function". */
SEC("fmod_ret/security_file_permission")
int BPF_PROG(probe_fmod_ret_security, struct file *file, int mask, int ret)
{
	return 0;
}

SEC("fmod_ret/__x64_sys_write")
int BPF_PROG(probe_fmod_ret_syscall, struct pt_regs *regs, int ret)
{
	return 0;
}

/* kprobes + bpf_override_return (needs CONFIG_BPF_KPROBE_OVERRIDE). */
SEC("kprobe/__x64_sys_getppid")
int BPF_KPROBE(probe_kprobe_override)
{
	if (is_never_tgid())
		bpf_override_return(ctx, -FL_EIO);
	return 0;
}

/* Crash points: bpf_send_signal from the BTF-typed and the plain syscall tracepoint. */
SEC("tp_btf/sys_enter")
int BPF_PROG(probe_tp_btf_signal, struct pt_regs *regs, long id)
{
	if (is_never_tgid())
		bpf_send_signal(FL_SIGKILL);
	return 0;
}

SEC("tracepoint/raw_syscalls/sys_enter")
int probe_tp_signal(struct trace_event_raw_sys_enter *ctx)
{
	if (is_never_tgid())
		bpf_send_signal(FL_SIGKILL);
	return 0;
}

/* Attached by user space to a libc function for its own pid only. */
SEC("uprobe")
int BPF_KPROBE(probe_uprobe)
{
	if ((bpf_get_current_pid_tgid() >> 32) == uprobe_tgid)
		__sync_fetch_and_add(&uprobe_hits, 1);
	return 0;
}

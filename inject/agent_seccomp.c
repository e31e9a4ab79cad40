// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent's own syscall filter, loaded once it is set up (socket bound, certificates read,
 * journal recovered). Default allow, deny a list: the workers that apply faults are forked
 * from the agent and inherit the filter, so everything a fault kind needs stays allowed:
 * execve (the network backends run ip, tc, nft, iptables), bpf and perf_event_open (eBPF
 * network faults, crash-point uprobes), mount (FUSE disk faults, bpffs), setns (namespaces),
 * kill (process faults). Denied (EPERM), because no fault, probe or session needs them and each
 * is a classic step from a compromised daemon to the whole machine: see the list below.
 * Only the native architecture is allowed (other ABIs kill the process: libseccomp's default).
 */
#include <errno.h>
#include <seccomp.h>
#include <string.h>
#include <unistd.h>

#include "inject/agent.h"
#include "inject/netutil.h"

const char *const fl_agent_denied_syscalls[] = {
	/* another process' memory and registers: faults signal processes, never trace them
	 * (sanitizer builds keep ptrace: LeakSanitizer stops the world with it at exit) */
#ifndef __SANITIZE_ADDRESS__
	"ptrace",
#endif
	"process_vm_writev",
	"process_madvise",
	/* replacing or stopping the kernel */
	"kexec_load",
	"kexec_file_load",
	"reboot",
	/* kernel modules (the kernel autoloads what tc or nft need through its own helper) */
	"init_module",
	"finit_module",
	"delete_module",
	/* the clock every host in a fleet is measured against */
	"settimeofday",
	"clock_settime",
	"clock_adjtime",
	"adjtimex",
	/* swap, accounting, quotas, the root directory */
	"swapon",
	"swapoff",
	"acct",
	"quotactl",
	"pivot_root",
	"chroot",
	/* raw I/O ports, file handles that bypass paths, kernel keyrings, userfaultfd */
	"iopl",
	"ioperm",
	"open_by_handle_at",
	"keyctl",
	"add_key",
	"request_key",
	"userfaultfd",
	"uselib",
	"personality",
	"vhangup",
	"lookup_dcookie",
	"nfsservctl",
	NULL,
};

int fl_agent_seccomp(char **ret_reason)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int r;

	if (!ctx)
		return fl_set_reason(ret_reason, -ENOMEM, "seccomp_init failed");
	/* root has CAP_SYS_ADMIN: no need for no_new_privs, which the tools the workers run
	 * (ip, tc, nft) would inherit */
	if (geteuid() == 0)
		seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	for (size_t i = 0; fl_agent_denied_syscalls[i]; i++) {
		int nr = seccomp_syscall_resolve_name(fl_agent_denied_syscalls[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
		if (r < 0) {
			seccomp_release(ctx);
			return fl_set_reason(ret_reason, r, "cannot deny %s: %s",
					     fl_agent_denied_syscalls[i], strerror(-r));
		}
	}
	r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		return fl_set_reason(ret_reason, r, "seccomp_load: %s", strerror(-r));
	return 0;
}

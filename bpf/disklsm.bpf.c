// SPDX-License-Identifier: GPL-2.0-only
/*
 * disk-error through BPF: file operations of the target processes on files under one directory
 * fail with an errno, for a share of the calls, until the expiry in the config. Each hook has
 * two programs with one verdict: an LSM program (attach "lsm", called only when bpf is an
 * active LSM) and an fmod_ret program on the security_* function that calls the LSM hooks
 * (attach "fmod_ret": the verifier lets BPF_MODIFY_RETURN change any security_* function, so
 * it works whatever the lsm= list). User space loads one set, never both.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "disklsm.h"

char LICENSE[] SEC("license") = "GPL";

#define DL_MAY_WRITE 0x2 /* include/linux/fs.h */
#define DL_MAY_READ 0x4

const volatile struct dl_config cfg = {};

/* The target's thread group ids (init pid namespace), unless by_cgroup. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DL_MAX_TGIDS);
	__type(key, __u32);
	__type(value, __u8);
} tgids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DL_N_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(enum dl_counter c)
{
	__u32 k = c;
	__u64 *v = bpf_map_lookup_elem(&counters, &k);

	if (v)
		*v += 1;
}

static __always_inline bool is_target(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (cfg.by_cgroup)
		return bpf_get_current_ancestor_cgroup_id(cfg.cgroup_level) == cfg.cgroup_id;
	return bpf_map_lookup_elem(&tgids, &tgid) != NULL;
}

/* Is d the covered directory (or file) or below it, within DL_MAX_DEPTH levels? */
static __always_inline bool under_dir(struct dentry *d)
{
	struct dentry *parent;

	if (!d || BPF_CORE_READ(d, d_sb, s_dev) != cfg.dev)
		return false;
	for (int i = 0; i < DL_MAX_DEPTH; i++) {
		if (BPF_CORE_READ(d, d_inode, i_ino) == cfg.ino)
			return true;
		parent = BPF_CORE_READ(d, d_parent);
		if (!parent || parent == d)
			return false; /* the filesystem's root */
		d = parent;
	}
	return false;
}

/*
 * The verdict for one call: 0, or -errno. prev is the verdict of the LSMs before us (lsm), or
 * of the fmod_ret programs before us (fmod_ret): never turn a refusal into a success.
 */
static __always_inline int verdict(__u32 op, struct dentry *d, struct dentry *d2, int prev)
{
	if (prev)
		return prev;
	if (!(cfg.ops & op) || !is_target())
		return 0;
	count(DL_SEEN);
	if (!under_dir(d) && !under_dir(d2))
		return 0;
	if (bpf_ktime_get_boot_ns() > cfg.expiry_boot_ns) {
		count(DL_AFTER_TTL);
		return 0;
	}
	count(DL_MATCHED);
	if ((__u64)bpf_get_prandom_u32() >= cfg.threshold)
		return 0;
	count(DL_FAILED);
	return -cfg.err;
}

/* file_permission's mask: the operation, or 0 for a call we leave alone */
static __always_inline __u32 perm_op(int mask)
{
	if (mask & DL_MAY_WRITE)
		return DL_OP_WRITE;
	if (mask & DL_MAY_READ)
		return DL_OP_READ;
	return 0;
}

static __always_inline int perm_verdict(struct file *file, int mask, int prev)
{
	__u32 op = perm_op(mask);

	if (!op)
		return prev;
	return verdict(op, BPF_CORE_READ(file, f_path.dentry), NULL, prev);
}

/*
 * One hook, two attaches: DL_HOOK(name, hook, verdict, arguments...) defines disklsm_NAME on
 * lsm/HOOK and disklsm_fNAME on fmod_ret/security_HOOK, the same body over the same arguments
 * (the security_* function's are the hook's, but for rename's, below) and `ret`.
 */
#define DL_HOOK(name, hook, verdict_expr, ...)              \
	SEC("lsm/" #hook)                                   \
	int BPF_PROG(disklsm_##name, __VA_ARGS__, int ret)  \
	{                                                   \
		return verdict_expr;                        \
	}                                                   \
	SEC("fmod_ret/security_" #hook)                     \
	int BPF_PROG(disklsm_f##name, __VA_ARGS__, int ret) \
	{                                                   \
		return verdict_expr;                        \
	}

DL_HOOK(open, file_open, verdict(DL_OP_OPEN, BPF_CORE_READ(file, f_path.dentry), NULL, ret),
	struct file *file)
DL_HOOK(perm, file_permission, perm_verdict(file, mask, ret), struct file *file, int mask)
DL_HOOK(unlink, inode_unlink, verdict(DL_OP_UNLINK, dentry, NULL, ret), struct inode *dir,
	struct dentry *dentry)
DL_HOOK(mkdir, inode_mkdir, verdict(DL_OP_MKDIR, dentry, NULL, ret), struct inode *dir,
	struct dentry *dentry, umode_t mode)
DL_HOOK(rmdir, inode_rmdir, verdict(DL_OP_RMDIR, dentry, NULL, ret), struct inode *dir,
	struct dentry *dentry)

/* security_inode_rename has one more argument than the hook, its flags (RENAME_*) */
SEC("lsm/inode_rename")
int BPF_PROG(disklsm_rename, struct inode *old_dir, struct dentry *old_dentry,
	     struct inode *new_dir, struct dentry *new_dentry, int ret)
{
	return verdict(DL_OP_RENAME, old_dentry, new_dentry, ret);
}

SEC("fmod_ret/security_inode_rename")
int BPF_PROG(disklsm_frename, struct inode *old_dir, struct dentry *old_dentry,
	     struct inode *new_dir, struct dentry *new_dentry, unsigned int flags, int ret)
{
	return verdict(DL_OP_RENAME, old_dentry, new_dentry, ret);
}

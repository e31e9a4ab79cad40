#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# disk-error on a stock kernel booted with an lsm= list without bpf: BPF LSM programs would
# attach and never be called, so faultline's probe passes over bpf-lsm and picks fmod-ret (the
# same programs as fmod_ret on security_*), by itself. The key checks of disklsm.bats, again.
# vm-append: lsm=landlock,lockdown,yama,apparmor,tomoyo

load guest
bats_require_minimum_version 1.5.0

load disklsm

ATTACH=fmod_ret
BACKEND=fmod-ret

@test "the kernel runs without the BPF LSM; doctor picks fmod-ret and says why" {
	run cat /sys/kernel/security/lsm
	refute_output --regexp '(^|,)bpf(,|$)'
	run "$FL" doctor --json
	assert_success
	run jq -r '.kinds[] | select(.kind == "disk-error") |
		"\(.backend): \(.reason)"' <<<"$output"
	assert_output "fmod-ret: 'fmod-ret' is available; preferred 'bpf-lsm' needs bpf-lsm-active"
}

@test "dd gets EIO on write under the path through fmod_ret; another dd does not" {
	check_eio_write
	# the validator said why not bpf-lsm: its probe program was never called
	run cat fault.err
	assert_output --partial "using backend fmod-ret (bpf-lsm: the BPF LSM program attached but was never called"
}

@test "ENOSPC on open for a cgroup through fmod_ret; others open the file" {
	check_enospc_open
}

@test "SIGKILL of faultline under fmod_ret: recover removes every link, program and pin" {
	check_sigkill_recover
}

@test "every hook as fmod_ret: open, read, write, unlink, rename, mkdir, rmdir fail for the target" {
	[ -n "$CG2" ] || skip "no cgroup v2"
	CGDIR="${CG2}/fl-disklsm-$$"
	mkdir "$CGDIR" data/gone
	echo r >data/r.txt
	: >data/w.txt
	touch data/unlink.txt data/move.txt
	# read and write on descriptors opened before the fault; each operation by the target's
	# shell or a child of it (the cgroup covers both): "NAME fail" when it failed
	bash -c 'exec 3<data/r.txt 4>>data/w.txt; while [ ! -e go ]; do sleep 0.05; done
		for op in "open:cat data/r.txt" "read:cat <&3" "write:echo x >&4" \
			"unlink:rm data/unlink.txt" "rename:mv data/move.txt data/moved.txt" \
			"mkdir:mkdir data/new" "rmdir:rmdir data/gone"; do
			if eval "${op#*:}" >/dev/null; then echo "${op%%:*} ok"; else echo "${op%%:*} fail"; fi
		done >ops.txt 2>err.txt' &
	local tgt=$!
	FL_PIDS+=("$tgt")
	echo "$tgt" >"${CGDIR}/cgroup.procs"
	inject_bg --cgroup "/fl-disklsm-$$" --path "$DATA" --errno EROFS --ops all --for 60s --json
	local inj=$INJ
	[ "$(pinned | wc -l)" -eq 6 ]
	touch go
	wait "$tgt"
	cat ops.txt err.txt
	assert_equal "$(tr '\n' ' ' <ops.txt)" \
		"open fail read fail write fail unlink fail rename fail mkdir fail rmdir fail "
	[ "$(grep -c 'Read-only file system' err.txt)" -eq 7 ]
	# nothing happened to the files
	[ -e data/unlink.txt ] && [ -e data/move.txt ] && [ ! -e data/moved.txt ]
	[ ! -e data/new ] && [ -d data/gone ] && [ ! -s data/w.txt ]
	kill -INT "$inj"
	wait "$inj" || true
	run applied
	assert_output "fmod-ret fmod_ret EROFS open,read,write,unlink,rename,mkdir,rmdir $(sec file_open),$(sec file_permission),$(sec inode_unlink),$(sec inode_rename),$(sec inode_mkdir),$(sec inode_rmdir)"
	nothing_left
}

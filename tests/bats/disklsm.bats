#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# disk-error's bpf-lsm and fmod-ret backends on a kernel that refuses BPF LSM and fmod_ret
# programs (ours: no trampolines): exit 3 naming the reason, nothing touched; bad input names the
# key. The programs themselves run in the stock-kernel tier (tests/vm/guest/disklsm.bats, with
# the BPF LSM active, and disklsm-fmodret.bats, without).

load '../lib/common'
bats_require_minimum_version 1.5.0

setup() {
	fl_setup
	require_root
	mkdir -p data
	DATA="${BATS_TEST_TMPDIR}/data"
}

teardown() { fl_teardown; }

# require_refused [BACKEND]: skip where BACKEND (bpf-lsm) works: the refusal cannot be seen
# there (the guest tier covers it).
require_refused() {
	local st
	st="$("$FL" doctor --json | jq -r --arg b "${1:-bpf-lsm}" '.kinds[] |
		select(.kind == "disk-error") | .backends[] | select(.name == $b) | .status')"
	[ "$st" != available ] || skip "${1:-bpf-lsm} works on this kernel"
}

# What the backend would leave: pins, links or programs of ours, one a line.
leftovers() {
	ls -d /sys/fs/bpf/faultline/*/disklsm_* 2>/dev/null || true
	bpftool prog show 2>/dev/null | awk '$3 == "name" && $4 ~ /^disklsm_/ { print "prog", $4 }'
}

# refused BACKEND REASON REGEXP: `inject --backend BACKEND` exits 3 with REASON and a line
# matching REGEXP, and touches nothing.
refused() {
	start_target "fl-dl-$1"
	echo before >data/f
	run "$FL" inject disk-error --pid "$TARGET" --path "$DATA" --errno EIO --ops write \
		--for 5s --backend "$1"
	assert_failure 3
	assert_output --partial "backend disk-error/$1 cannot run here"
	assert_output --partial "$2"
	assert_output --regexp "$3"
	[ -z "$(leftovers)" ]
	run "$FL" status
	assert_output --partial "nothing active"
	echo after >>data/f
	[ "$(cat data/f)" = "$(printf 'before\nafter')" ]
}

@test "--backend bpf-lsm where the kernel refuses it: exit 3 naming why, nothing touched" {
	require_refused bpf-lsm
	refused bpf-lsm "the kernel refused the BPF LSM program" "CONFIG_BPF_LSM|active LSM"
}

@test "--backend fmod-ret where the kernel refuses it: exit 3 naming why, nothing touched" {
	require_refused fmod-ret
	refused fmod-ret "the kernel refused the fmod_ret program (BPF_PROG_LOAD of " \
		"fmod_ret/security_file_permission: .*\): it needs (BTF and )?BPF trampolines"
}

@test "without --backend: another disk-error backend, or one clear message naming bpf-lsm's reason" {
	require_refused bpf-lsm
	require_refused fmod-ret
	start_target fl-dl-auto
	run "$FL" inject disk-error --pid "$TARGET" --path "$DATA" --errno EIO --ops write \
		--for 1s
	if [ "$status" -eq 3 ]; then
		assert_output --regexp "no disk-error backend can run here|disk-error/bpf-lsm cannot run here"
		assert_output --partial "the kernel refused the BPF LSM program"
	else
		# a later backend (fuse) ran the fault, and said why bpf-lsm and fmod-ret did not
		assert_success
		assert_output --partial "using backend fuse (bpf-lsm: the kernel refused the BPF LSM program"
		assert_output --partial "; fmod-ret: the kernel refused the fmod_ret program"
		assert_output --partial "FUSE EIO on write of pid $TARGET"
	fi
	[ -z "$(leftovers)" ]
}

@test "doctor explains the bpf-lsm and fmod-ret backends' state, and which disk backend runs" {
	run "$FL" doctor
	assert_success
	assert_output --regexp "bpf-lsm +(available|missing: bpf-lsm)"
	assert_output --regexp "fmod-ret +(available|missing: fmod-ret-security)"
	run "$FL" doctor --json
	run jq -r '.kinds[] | select(.kind == "disk-error") | "\(.backend): \(.reason)"' <<<"$output"
	# one of the four, and the reason names the backends passed over
	assert_output --regexp "^(bpf-lsm: 'bpf-lsm' is the preferred backend and is available|fmod-ret: 'fmod-ret' is available; preferred 'bpf-lsm' needs bpf-lsm|fuse: 'fuse' is available; preferred 'bpf-lsm' needs bpf-lsm.*, 'fmod-ret' needs fmod-ret-security)"
}

@test "bad input names the flag and changes nothing" {
	start_target fl-dl-bad
	run "$FL" inject disk-error --pid "$TARGET" --path data --errno EWHAT --ops write,wirte \
		--percent 0 --for 1s --backend bpf-lsm
	assert_failure 2
	assert_output --partial "--path: 'path' must be an absolute path, got 'data'"
	assert_output --partial "--errno: 'errno' must be an errno name such as 'EIO' or 'ENOSPC', got 'EWHAT'"
	assert_output --partial "--ops: 'ops' must be a list of operations"
	assert_output --partial "--percent: 'percent' must be more than 0 and at most 100"
	run "$FL" inject disk-error --path "$DATA" --for 1s --backend bpf-lsm
	assert_failure 2
	assert_output --partial "the bpf-lsm backend needs a target ('target.pid', 'target.name', 'target.cmdline' or 'target.cgroup'); the fuse backend covers every process"
	[ -z "$(leftovers)" ]
}

@test "ops: [fsync] is not for bpf-lsm: no LSM hook sees it (file:line:col)" {
	cat >fsync.yaml <<EOF
version: 1
name: fsync
faults:
  - kind: disk-error
    backend: bpf-lsm
    target: { pid: 99 }
    path: /tmp
    ops: [write, fsync]
    for: 1s
EOF
	run "$FL" validate fsync.yaml
	assert_failure 2
	assert_output --partial "fsync.yaml:8:10: the bpf-lsm backend cannot fail 'fsync': no LSM hook sees it (the fuse or seccomp backend can)"
}

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

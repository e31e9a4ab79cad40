#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# disk-error through the BPF LSM (backend bpf-lsm) on a stock kernel, where the BPF LSM is
# active: real programs get the errno on the covered directory only, at the asked rate, and
# nothing is left after a SIGKILL and recover; the fmod-ret backend's programs too, asked for.
# disklsm-fmodret.bats boots without bpf in lsm=, where faultline picks fmod-ret by itself.

load guest
bats_require_minimum_version 1.5.0

load disklsm

# bpf is an active LSM here (the kernel's default lsm= list): faultline picks bpf-lsm
ATTACH=lsm
BACKEND=bpf-lsm

@test "doctor: bpf-lsm is the disk-error backend here" {
	run "$FL" doctor --json
	assert_success
	assert_equal "$(jq -r '.kinds[] | select(.kind == "disk-error") | .backend' <<<"$output")" \
		bpf-lsm
}

@test "dd gets EIO on write under the path; another dd on the same filesystem does not" {
	check_eio_write
}

@test "ENOSPC on open for a cgroup (and the processes it starts); others open the file" {
	check_enospc_open
}

@test "--backend fmod-ret where the BPF LSM is active too: the same EIO, through security_*" {
	ATTACH=fmod_ret
	check_eio_write --backend fmod-ret
}

@test "percent: 30% of 400 writes fail, within binomial bounds; the counters agree" {
	# one write(2) per echo, each to a file under the path; failures counted by the program
	start_gated 'n=0; for ((i = 0; i < 400; i++)); do echo x >>data/p.txt 2>/dev/null ||
		n=$((n + 1)); done; echo "$n" >fails.txt'
	local tgt=$GATED
	inject_bg --pid "$tgt" --path "$DATA" --errno EIO --ops write --percent 30 --for 120s --json
	local inj=$INJ
	touch go
	wait "$tgt"
	local fails written
	fails="$(cat fails.txt)"
	written="$(wc -l <data/p.txt)"
	echo "# failed ${fails} of 400 writes at 30%, ${written} lines written" >&3
	# n = 400, p = 0.3: mean 120, sd 9.2; 4.5 sd either side
	[ "$fails" -ge 79 ] && [ "$fails" -le 161 ]
	[ $((fails + written)) -eq 400 ]
	kill -INT "$inj"
	wait "$inj" || true
	run jq -r '.events[] | select(.event == "observed") | .observed |
		"\(.calls_matched) \(.calls_failed)"' fault.json
	assert_output "400 ${fails}"
	nothing_left
}

@test "SIGKILL of faultline: the fault holds; recover removes every link, program and pin" {
	check_sigkill_recover
}

@test "TTL: with faultline and its guard SIGKILLed, the programs step aside at for + 30 s" {
	# for 5 s: time enough to SIGKILL faultline (and its guard) before it reverts by itself
	start_gated 'while :; do if echo x >>data/t.txt 2>/dev/null; then echo "ok $(date +%s)";
		else echo fail; fi >>log.txt; sleep 0.2; done'
	touch go
	local tgt=$GATED
	wait_for 'grep -q ok log.txt' 20
	inject_bg --pid "$tgt" --path "$DATA" --ops write --for 5s
	local inj=$INJ
	local t0
	t0="$(date +%s)"
	# expiry: apply + 5 s + 30 s
	kill -KILL "$inj"
	pkill -KILL -x faultline-guard || true
	wait "$inj" || true
	: >log.txt
	wait_for 'grep -q fail log.txt' 10
	# nobody reverts: the pins stay, and the programs' own expiry ends the fault
	wait_for 'grep -q "^ok" log.txt' 80
	local back
	back="$(awk '/^ok/ { print $2; exit }' log.txt)"
	echo "# writes work again $((back - t0)) s after the fault (for 5 s) was applied" >&3
	[ -n "$(pinned)" ]
	[ $((back - t0)) -ge 34 ] && [ $((back - t0)) -le 40 ]
	run "$FL" recover --all
	assert_success
	nothing_left
	kill "$tgt"
}

# time_writes CGROUP: ns per 16-byte write of 20000 by dd (a child of a shell in the cgroup, to
# a file under the path); the best of 3 runs.
time_writes() {
	local best=0 t0 t1 i ns
	for i in 1 2 3; do
		rm -f go t.txt
		start_gated 't0=$(date +%s%N); dd if=/dev/zero of=data/b bs=16 count=20000 \
			2>/dev/null; echo "$? $t0 $(date +%s%N)" >t.txt'
		echo "$GATED" >"$1/cgroup.procs"
		touch go
		wait "$GATED"
		read -r st t0 t1 <t.txt
		[ "$st" -eq 0 ] || return 1
		ns=$(((t1 - t0) / 20000))
		if [ "$best" -eq 0 ] || [ "$ns" -lt "$best" ]; then best=$ns; fi
	done
	echo "$best"
}

# timed_under BACKEND CGROUP ARGS...: time_writes in CGDIR (into TIMED) while a fault of BACKEND
# on writes under the path by CGROUP is in place
timed_under() {
	local b=$1 cg=$2 inj
	shift 2
	inject_bg --backend "$b" --cgroup "$cg" --path "$DATA" --ops write --for 100s "$@"
	inj=$INJ
	TIMED="$(time_writes "$CGDIR")"
	kill -INT "$inj"
	wait "$inj" || true
	wait_for '[ -z "$(pinned)" ]' 10
}

@test "figures: ns per write without a fault, untargeted, and targeted but not failed" {
	[ -n "$CG2" ] || skip "no cgroup v2"
	CGDIR="${CG2}/fl-disklsm-$$"
	mkdir "$CGDIR" "${CG2}/fl-disklsm-other-$$"
	local none b line=
	none="$(time_writes "$CGDIR")"
	for b in bpf-lsm fmod-ret; do
		# the programs run for every write of every process: for one outside the target
		timed_under "$b" "/fl-disklsm-other-$$"
		line+="; ${b}: ${TIMED} untargeted (+$((TIMED - none)))"
		# the target's writes under the path: the whole verdict, failing one call in 10^7
		timed_under "$b" "/fl-disklsm-$$" --percent 0.00001
		line+=", ${TIMED} targeted (+$((TIMED - none)))"
	done
	rmdir "${CG2}/fl-disklsm-other-$$"
	echo "# dd bs=16 under TCG: ${none} ns/write without a fault${line}" >&3
	nothing_left
}

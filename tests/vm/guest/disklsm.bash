# SPDX-License-Identifier: GPL-2.0-only
# disk-error through BPF (backends bpf-lsm and fmod-ret: the same programs, attached as LSM
# programs or as fmod_ret on security_*): helpers and checks shared by disklsm.bats (bpf an
# active LSM) and disklsm-fmodret.bats (booted without bpf in lsm=). ATTACH (lsm or fmod_ret)
# names the attach the suite expects; BACKEND the backend faultline picks by itself.

# A suite that loads this file gets these as its setup and teardown.
setup() {
	fl_setup
	mkdir -p data other
	DATA="${BATS_TEST_TMPDIR}/data"
	CGDIR=
}

teardown() {
	fl_teardown
	if [ -n "$CGDIR" ] && [ -d "$CGDIR" ]; then
		echo 1 >"${CGDIR}/cgroup.kill" 2>/dev/null || true
		wait_for '! grep -q . "${CGDIR}/cgroup.procs"' 5 || true
		rmdir "$CGDIR" 2>/dev/null || true
	fi
}

# prog HOOK: our program on HOOK (perm, open, unlink...) for ATTACH, as pinned and named.
prog() {
	if [ "$ATTACH" = fmod_ret ]; then echo "disklsm_f$1"; else echo "disklsm_$1"; fi
}

# sec HOOK: the section the result lists for HOOK (file_open, inode_unlink...) under ATTACH.
sec() {
	if [ "$ATTACH" = fmod_ret ]; then echo "fmod_ret/security_$1"; else echo "lsm/$1"; fi
}

# Our pinned links (PIN-DIR/PROGRAM), one a line: the fault is in place when they are.
pinned() {
	local f
	for f in /sys/fs/bpf/faultline/*/disklsm_*; do
		[ ! -e "$f" ] || echo "$f"
	done
}

# Programs of ours the kernel still has, one "id name" a line.
our_progs() {
	bpftool prog show 2>/dev/null | awk '$3 == "name" && $4 ~ /^disklsm_/ { print $1, $4 }'
}

# Nothing of ours: no pin, no link, no program (links and programs go asynchronously).
nothing_left() {
	wait_for '[ -z "$(our_progs)" ]' 15 || { our_progs; return 1; }
	[ -z "$(pinned)" ] || { pinned; return 1; }
	[ ! -e /sys/fs/bpf/faultline ] || [ -z "$(ls -A /sys/fs/bpf/faultline)" ]
	run bpftool link show
	refute_output --partial disklsm_
}

# inject_bg ARGS...: `faultline inject disk-error ARGS` in the background (stdout in
# fault.json, stderr in fault.err) until its first link is pinned; its pid in INJ.
inject_bg() {
	"$FL" inject disk-error "$@" >fault.json 2>fault.err &
	INJ=$!
	FL_PIDS+=("$INJ")
	wait_for '[ -n "$(pinned)" ]' 60 || { cat fault.err; return 1; }
}

# start_gated SCRIPT: a bash that waits for ./go, then runs SCRIPT (exec keeps its pid); its
# pid in GATED. The fault is planned on the pid before the program starts its I/O.
start_gated() {
	rm -f go
	bash -c 'while [ ! -e go ]; do sleep 0.05; done; '"$1" &
	GATED=$!
	FL_PIDS+=("$GATED")
}

# The fault in fault.json as applied: "BACKEND ATTACH ERRNO OPS HOOKS".
applied() {
	jq -r '.backend as $b | .events[] | select(.event == "applied") | .injected |
		"\($b) \(.attach) \(.errno) \(.ops) \(.hooks | join(","))"' fault.json
}

# dd gets EIO on write under the path; another dd on the same filesystem does not. ARGS: more
# `inject` options (--backend ...).
check_eio_write() {
	start_gated 'exec dd if=/dev/zero of=data/target.img bs=4k count=16 2>dd.err'
	local tgt=$GATED
	inject_bg --pid "$tgt" --path "$DATA" --errno EIO --ops write --for 60s --json "$@"
	local inj=$INJ
	# only the hook the operation needs
	assert_equal "$(pinned | sed 's|.*/||')" "$(prog perm)"
	touch go
	local st=0
	wait "$tgt" || st=$?
	cat dd.err
	[ "$st" -ne 0 ]
	grep -q 'Input/output error' dd.err
	[ ! -s data/target.img ]
	# not the target: same directory, same filesystem, untouched
	dd if=/dev/zero of=data/other.img bs=4k count=16
	[ "$(stat -c %s data/other.img)" -eq 65536 ]
	kill -INT "$inj"
	wait "$inj" || true
	run jq -r '.events[] | select(.event == "observed") | .observed |
		"\(.calls_matched) \(.calls_failed) \(.expected_fail_ratio)"' fault.json
	assert_output "1 1 1"
	nothing_left
	# after the revert the target's kind of write works again
	dd if=/dev/zero of=data/target.img bs=4k count=16
}

# ENOSPC on open for a cgroup (and the processes it starts); others open the file.
check_enospc_open() {
	[ -n "$CG2" ] || skip "no cgroup v2"
	CGDIR="${CG2}/fl-disklsm-$$"
	mkdir "$CGDIR"
	# a child of the target (dd, forked) is in the cgroup too: a cgroup target covers it
	start_gated 'echo outside >other/ok.txt && dd if=/dev/zero of=data/new.img bs=1k count=1 \
		2>dd.err; echo "dd $?" >rc.txt'
	echo "$GATED" >"${CGDIR}/cgroup.procs"
	inject_bg --cgroup "/fl-disklsm-$$" --path "$DATA" --errno ENOSPC \
		--ops open --for 60s --json
	local inj=$INJ
	assert_equal "$(pinned | sed 's|.*/||')" "$(prog open)"
	touch go
	wait_for '[ -s rc.txt ]' 30
	cat dd.err
	assert_equal "$(cat rc.txt)" "dd 1"
	grep -q 'No space left on device' dd.err
	# outside the path the target opens as it likes
	assert_equal "$(cat other/ok.txt)" outside
	# a process outside the cgroup opens (creates) a file there
	echo fine >data/new.img
	assert_equal "$(cat data/new.img)" fine
	kill -INT "$inj"
	wait "$inj" || true
	run applied
	assert_output "${BACKEND} ${ATTACH} ENOSPC open $(sec file_open)"
	nothing_left
}

# SIGKILL of faultline: the fault holds; recover removes every link, program and pin.
check_sigkill_recover() {
	start_gated 'while :; do if echo x >>data/k.txt 2>/dev/null; then echo ok; else echo fail;
		fi >>log.txt; sleep 0.1; done'
	touch go
	local tgt=$GATED
	wait_for 'grep -q ok log.txt' 20
	inject_bg --pid "$tgt" --path "$DATA" --ops write,unlink,rename --for 120s
	local inj=$INJ
	wait_for '[ "$(pinned | wc -l)" -eq 3 ]' 10 || { pinned; false; }
	assert_equal "$(pinned | sed 's|.*/||' | sort | tr '\n' ' ')" \
		"$(prog perm) $(prog rename) $(prog unlink) "
	kill -KILL "$inj"
	wait "$inj" || true
	# the pinned links outlive faultline: the target's writes keep failing
	: >log.txt
	wait_for '[ "$(grep -c fail log.txt)" -ge 3 ]' 20
	! grep -q ok log.txt
	[ "$(our_progs | wc -l)" -eq 3 ]
	run "$FL" recover --all
	assert_success
	nothing_left
	: >log.txt
	wait_for '[ "$(grep -c ok log.txt)" -ge 3 ]' 20
	kill "$tgt"
}

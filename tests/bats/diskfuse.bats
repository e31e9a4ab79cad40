#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# disk-error and io-latency (fuse backend): real programs (sqlite3, dd, python) on a directory of
# the test's own, the target only; probability within binomial bounds; the delay within 5 %;
# SIGKILL then recover; the lease. Every mount is under $BATS_TEST_TMPDIR.

load '../lib/common'
bats_require_minimum_version 1.5.0

setup() {
	require_root
	[ -c /dev/fuse ] || skip "needs /dev/fuse"
	command -v python3 >/dev/null || skip "needs python3"
	fl_setup
	D="$BATS_TEST_TMPDIR/data"
	mkdir -p "$D"
	# worker.py DIR MODE ...: waits (up to 10 s) for our mount over DIR, then works in it
	cat >"$BATS_TEST_TMPDIR/worker.py" <<'PY'
import os, sys, time
d, mode = sys.argv[1], sys.argv[2]
def mounted():
    for l in open("/proc/self/mountinfo"):
        f = l.split()
        i = f.index("-")
        if f[4] == d and f[i + 1] == "fuse.faultline":
            return True
    return False
if os.environ.get("WAIT_MOUNT", "1") == "1":
    end = time.time() + 10
    while not mounted():
        if time.time() > end:
            sys.exit("no mount")
        time.sleep(0.01)
if mode == "writes":
    # writes FILE N: N small writes, one per call; prints "errors N" and the errnos seen
    fd = os.open(os.path.join(d, sys.argv[3]), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    errs, names = 0, set()
    for i in range(int(sys.argv[4])):
        try:
            os.write(fd, b"0123456789abcdef")
        except OSError as e:
            errs += 1
            names.add(e.errno)
    os.close(fd)
    print("errors", errs, " ".join(str(n) for n in sorted(names)))
elif mode == "fsyncs":
    # fsyncs FILE N: the time of each fsync in us, sorted
    fd = os.open(os.path.join(d, sys.argv[3]), os.O_WRONLY | os.O_CREAT, 0o644)
    t = []
    for i in range(int(sys.argv[4])):
        os.write(fd, b"x")
        a = time.perf_counter_ns()
        os.fsync(fd)
        t.append((time.perf_counter_ns() - a) // 1000)
    os.close(fd)
    print(" ".join(str(x) for x in sorted(t)))
PY
}

teardown() {
	# the tmpfs a test puts over our mount, then ours (recover refuses while it is covered)
	while grep -q " $D .* - tmpfs fltest-cover " /proc/self/mountinfo; do
		umount -l "$D" || break
	done
	fl_teardown
	# a mount of ours left by a failed test: never anything else
	while grep -q " ${BATS_TEST_TMPDIR}/[^ ]* .* - fuse.faultline " /proc/self/mountinfo; do
		umount -l "$(awk -v t="$BATS_TEST_TMPDIR" '$5 ~ "^"t && / - fuse.faultline / {print $5; exit}' /proc/self/mountinfo)" || break
	done
	# the tmpfs a test put under $D, last (ours was on top of it)
	while grep -q " $D .* - tmpfs fltest-data " /proc/self/mountinfo; do
		umount -l "$D" || break
	done
}

ours_mounted() {
	grep -q " $D .* - fuse.faultline " /proc/self/mountinfo
}

# Our mount over $D within 10 s, or why not: the inject's exit status and what it said.
mounted_by() {
	wait_for ours_mounted 10 && return 0
	if exited "$1"; then
		echo "inject exited early: $(wait "$1"; echo "status $?")" >&2
	else
		echo "inject still running after 10 s, no mount" >&2
	fi
	cat fault.err >&2
	return 1
}

# The fault's JSON (inject --json) in $1: its observed counters as "key value" lines.
observed() {
	python3 - "$1" <<'P'
import json, sys
f = json.load(open(sys.argv[1]))
ev = [e["event"] for e in f["events"]]
assert ev[-2:] == ["observed", "reverted"], ev
for k, v in [e for e in f["events"] if e["event"] == "observed"][0]["observed"].items():
    if not isinstance(v, dict):
        print(k, v)
P
}

# A process that is gone, or dead and waiting for its reaper (PID 1 here reaps lazily).
exited() {
	[[ "$(proc_state "$1")" =~ ^(Z|gone)$ ]]
}

obs() {
	awk -v k="$2" '$1 == k {print $2}' "$1"
}

@test "sqlite3 by pid gets EIO on its database, another sqlite3 in the same directory does not" {
	command -v sqlite3 >/dev/null || skip "needs sqlite3"
	mkfifo "$BATS_TEST_TMPDIR/in-a" "$BATS_TEST_TMPDIR/in-b"
	# both start before the fault (target by pid) but open their database after the mount
	sqlite3 -bail "$D/a.db" <"$BATS_TEST_TMPDIR/in-a" >a.out 2>&1 &
	local a=$!
	sqlite3 -bail "$D/b.db" <"$BATS_TEST_TMPDIR/in-b" >b.out 2>&1 &
	local b=$!
	FL_PIDS+=("$a" "$b")
	"$FL" inject disk-error --path "$D" --errno EIO --ops write,fsync --pid "$a" --for 20s \
		--json >fault.json 2>fault.err &
	local fl=$!
	mounted_by "$fl"
	local daemon
	daemon="$(awk '{print $1}' "$FAULTLINE_STATE_DIR"/fuse/*.pid)"
	sql="create table t(x); begin; insert into t values(1); insert into t values(2); commit;"
	printf '%s\n' "$sql" >"$BATS_TEST_TMPDIR/in-a"
	printf '%s\n' "$sql" >"$BATS_TEST_TMPDIR/in-b"
	local ra=0 rb=0
	wait "$a" || ra=$?
	wait "$b" || rb=$?
	[ "$ra" -ne 0 ]
	[ "$rb" -eq 0 ]
	grep -q "disk I/O error" a.out
	[ ! -s b.out ]
	kill -INT "$fl"
	wait "$fl" || true
	! ours_mounted
	# after the fault: b's rows are on the real disk, a wrote none
	[ "$(sqlite3 "$D/b.db" 'select count(*) from t')" -eq 2 ]
	run sqlite3 "$D/a.db" 'select count(*) from t'
	refute_output 2
	observed fault.json >obs
	[ "$(obs obs ops_failed)" -ge 1 ]
	[ "$(obs obs ops_matched)" -eq "$(obs obs ops_failed)" ]
	exited "$daemon"
	[ -z "$(ls "$FAULTLINE_STATE_DIR"/fuse/)" ]
}

@test "dd by name (started after the mount) gets EIO on write, and ENOSPC as asked" {
	command -v dd >/dev/null || skip "needs dd"
	cp "$(command -v dd)" "$BATS_TEST_TMPDIR/fl-dd"
	"$FL" inject disk-error --path "$D" --errno EIO --ops write --name fl-dd --for 20s \
		--json >fault.json 2>fault.err &
	local fl=$!
	mounted_by "$fl"
	run "$BATS_TEST_TMPDIR/fl-dd" if=/dev/zero of="$D/dd.out" bs=4k count=16
	assert_failure
	assert_output --partial "Input/output error"
	# not a target: the same dd binary under its own name, the same directory
	run dd if=/dev/zero of="$D/other.out" bs=4k count=16
	assert_success
	[ "$(stat -c %s "$D/other.out")" -eq 65536 ]
	kill -INT "$fl"
	wait "$fl" || true
	! ours_mounted
	[ "$(stat -c %s "$D/other.out")" -eq 65536 ]
	[ "$(stat -c %s "$D/dd.out")" -eq 0 ]
	observed fault.json >obs
	[ "$(obs obs ops_failed)" -eq 1 ] # dd stops at its first failed write

	"$FL" inject disk-error --path "$D" --errno ENOSPC --ops write --name fl-dd --for 20s \
		--json >fault2.json 2>&1 &
	fl=$!
	wait_for ours_mounted 10
	run "$BATS_TEST_TMPDIR/fl-dd" if=/dev/zero of="$D/dd.out" bs=4k count=16
	assert_failure
	assert_output --partial "No space left on device"
	kill -INT "$fl"
	wait "$fl" || true
	! ours_mounted
}

@test "prefix and ops: only the target's reads below the prefix fail, its writes and other paths pass" {
	mkdir -p "$D/db" "$D/logs"
	echo data >"$D/db/r.txt"
	echo data >"$D/logs/r.txt"
	cp /bin/cat "$BATS_TEST_TMPDIR/fl-cat"
	"$FL" inject disk-error --path "$D" --prefix db --errno EIO --ops read --name fl-cat \
		--for 20s --json >fault.json 2>fault.err &
	local fl=$!
	mounted_by "$fl"
	run "$BATS_TEST_TMPDIR/fl-cat" "$D/db/r.txt"
	assert_failure
	assert_output --partial "Input/output error"
	run "$BATS_TEST_TMPDIR/fl-cat" "$D/logs/r.txt"
	assert_success
	assert_output data
	# writes are not in ops; cat (not the target) reads the prefix fine
	echo more | "$BATS_TEST_TMPDIR/fl-cat" >>"$D/db/w.txt"
	run cat "$D/db/r.txt"
	assert_success
	assert_output data
	kill -INT "$fl"
	wait "$fl" || true
	! ours_mounted
	[ "$(cat "$D/db/w.txt")" = more ]
	observed fault.json >obs
	# the page cache retries a failed read ahead with one read of the page: 1 or 2 requests
	[ "$(obs obs ops_failed)" -ge 1 ] && [ "$(obs obs ops_failed)" -le 2 ]
	[ "$(obs obs ops_matched)" -eq "$(obs obs ops_failed)" ]
}

@test "pass-through: others see an ordinary filesystem (links, renames, modes, owners, sizes)" {
	echo before >"$D/old.txt"
	chmod 0777 "$D"
	# the user of the test below reaches $D (bats' directories are 0700)
	local p="$BATS_TEST_TMPDIR"
	while [ "$p" != / ] && [ "$p" != /tmp ]; do
		chmod o+x "$p"
		p="$(dirname "$p")"
	done
	"$FL" inject disk-error --path "$D" --errno EIO --name nobody-at-all --for 30s \
		--json >fault.json 2>fault.err &
	local fl=$!
	mounted_by "$fl"
	[ "$(cat "$D/old.txt")" = before ]
	mkdir -p "$D/a/b"
	echo one >"$D/a/b/f"
	ln -s b/f "$D/a/l"
	[ "$(readlink "$D/a/l")" = b/f ]
	[ "$(cat "$D/a/l")" = one ]
	ln "$D/a/b/f" "$D/a/hard"
	[ "$(stat -c %h "$D/a/hard")" -eq 2 ]
	mv "$D/a/b/f" "$D/a/b/g"
	chmod 0640 "$D/a/b/g"
	[ "$(stat -c %a "$D/a/b/g")" = 640 ]
	truncate -s 3 "$D/a/b/g"
	[ "$(stat -c %s "$D/a/b/g")" -eq 3 ]
	touch -d '2001-02-03 04:05:06' "$D/a/b/g"
	[ "$(stat -c %Y "$D/a/b/g")" -eq "$(date -d '2001-02-03 04:05:06' +%s)" ]
	[ "$(ls "$D/a" | tr '\n' ' ')" = "b hard l " ]
	# a file a user creates is theirs, and the kernel checks modes (default_permissions)
	setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "echo u >'$D/user.txt'"
	[ "$(stat -c %u:%g "$D/user.txt")" = 65534:65534 ]
	run setpriv --reuid=65534 --regid=65534 --clear-groups cat "$D/a/b/g"
	assert_failure
	df "$D" >/dev/null
	rm -r "$D/a"
	kill -INT "$fl"
	wait "$fl" || true
	! ours_mounted
	# all of it is on the real directory
	[ ! -e "$D/a" ]
	[ "$(cat "$D/user.txt")" = u ]
	[ "$(stat -c %u "$D/user.txt")" -eq 65534 ]
	observed fault.json >obs
	[ "$(obs obs ops_matched)" -eq 0 ]
	[ "$(obs obs ops_seen)" -gt 20 ]
}

@test "percent 30 over 2000 writes: within binomial bounds, the daemon and the program agree" {
	python3 "$BATS_TEST_TMPDIR/worker.py" "$D" writes p.dat 2000 >w.out &
	local w=$!
	FL_PIDS+=("$w")
	"$FL" inject disk-error --path "$D" --errno EIO --ops write --percent 30 --pid "$w" \
		--for 30s --json >fault.json 2>fault.err &
	local fl=$!
	wait "$w"
	kill -INT "$fl"
	wait "$fl" || true
	read -r _ errs names <w.out
	# binomial(2000, 0.3): mean 600, sd 20.5; 5 sd
	[ "$errs" -ge 498 ] && [ "$errs" -le 702 ]
	[ "$names" = "5" ] # EIO only
	observed fault.json >obs
	[ "$(obs obs ops_failed)" -eq "$errs" ]
	[ "$(obs obs ops_matched)" -eq 2000 ]
	# the writes that passed are really there
	[ "$(stat -c %s "$D/p.dat")" -eq $(((2000 - errs) * 16)) ]
}

@test "io-latency 20ms on fsync: the program's fsync is 20 ms slower within 5 %, another's is not" {
	# on a tmpfs, so the disk's own fsync time (tens of ms on a busy disk) is not in the figures
	mount -t tmpfs -o size=16m fltest-data "$D"
	WAIT_MOUNT=0 python3 "$BATS_TEST_TMPDIR/worker.py" "$D" fsyncs base.dat 30 >base.out
	python3 "$BATS_TEST_TMPDIR/worker.py" "$D" fsyncs slow.dat 40 >slow.out &
	local w=$!
	FL_PIDS+=("$w")
	"$FL" inject io-latency --path "$D" --delay 20ms --ops fsync --pid "$w" --for 30s \
		--json >fault.json 2>fault.err &
	local fl=$!
	mounted_by "$fl"
	python3 "$BATS_TEST_TMPDIR/worker.py" "$D" fsyncs other.dat 30 >other.out
	wait "$w"
	kill -INT "$fl"
	wait "$fl" || true
	! ours_mounted
	observed fault.json >obs
	python3 - base.out slow.out other.out obs <<'P'
import sys
med = lambda f: sorted(int(x) for x in open(f).read().split())[len(open(f).read().split()) // 2]
base, slow, other = med(sys.argv[1]), med(sys.argv[2]), med(sys.argv[3])
obs = dict(l.split() for l in open(sys.argv[4]))
# the same path through the mount, untargeted, is the baseline of the targeted fsync
extra = slow - other
print("fsync median us: direct", base, "targeted", slow, "untargeted", other, "p50", obs["delay_p50_us"])
assert 19000 <= extra <= 21000, (other, slow)
assert other < base + 5000, (base, other)
assert int(obs["ops_delayed"]) == 40, obs
assert 19000 <= int(obs["delay_p50_us"]) <= 21000, obs
assert int(obs["delay_p99_us"]) < 40000, obs  # a loaded VM oversleeps several ms at times
P
}

@test "SIGKILL during the fault, then recover --all: no FUSE mount, no daemon, the files are there" {
	"$FL" inject disk-error --path "$D" --errno EIO --name nobody-at-all --for 60s >/dev/null 2>&1 &
	local fl=$!
	FL_PIDS+=("$fl")
	wait_for ours_mounted 10
	local daemon
	daemon="$(cat "$FAULTLINE_STATE_DIR"/fuse/*.pid | awk '{print $1}')"
	[ "$(cat /proc/$daemon/comm)" = "faultline-fused" ]
	# written through the mount by a process that is not a target
	for i in $(seq 50); do echo "line $i" >>"$D/kept.txt"; done
	mkdir "$D/sub"
	echo inner >"$D/sub/f"
	kill -KILL "$fl"
	wait "$fl" || true
	ours_mounted
	! exited "$daemon"
	# status finds both, tracked by the journal
	run "$FL" status
	assert_output --regexp "tracked +mount +FUSE mount faultline:[0-9a-f]{12}-[0-9a-f]{8} at $D"
	assert_output --regexp "tracked +process +process faultline-fused \(pid $daemon\)"
	run "$FL" recover --all
	assert_success
	! ours_mounted
	exited "$daemon"
	[ "$(wc -l <"$D/kept.txt")" -eq 50 ]
	[ "$(cat "$D/sub/f")" = inner ]
	[ -z "$(ls "$FAULTLINE_STATE_DIR"/fuse/ 2>/dev/null)" ]
}

@test "revert while a file is open through the mount: unmounted lazily, daemon gone" {
	"$FL" inject disk-error --path "$D" --errno EIO --name nobody-at-all --for 2s >/dev/null 2>err &
	local fl=$!
	wait_for ours_mounted 10
	local daemon
	daemon="$(awk '{print $1}' "$FAULTLINE_STATE_DIR"/fuse/*.pid)"
	exec 7>"$D/held"
	wait "$fl"
	exec 7>&-
	grep -q "unmounted lazily" err
	! ours_mounted
	exited "$daemon"
}

@test "a mount put over ours is never unmounted: revert says so, recover finishes once it is gone" {
	"$FL" inject disk-error --path "$D" --errno EIO --name nobody-at-all --for 2s >/dev/null \
		2>err &
	local fl=$!
	wait_for ours_mounted 10
	mount -t tmpfs fltest-cover "$D"
	local rc=0
	wait "$fl" || rc=$?
	[ "$rc" -ne 0 ]
	grep -q "is covered by another mount" err
	# theirs is still there, on top of ours
	grep -q " $D .* - tmpfs fltest-cover " /proc/self/mountinfo
	ours_mounted
	umount "$D"
	run "$FL" recover --all
	assert_success
	! ours_mounted
}

@test "bad input names the key and changes nothing" {
	run "$FL" inject disk-error --path "$D" --errno EBOGUS --for 1s
	assert_failure 2
	assert_output --partial "--errno: 'errno' must be an error name"
	run "$FL" inject disk-error --path relative --for 1s
	assert_failure 2
	assert_output --partial "--path: 'path' must be an absolute directory"
	run "$FL" inject io-latency --path "$D" --delay 20ms --ops fsync,sing --for 1s
	assert_failure 2
	assert_output --partial "--ops:"
	assert_output --partial "unknown 'sing'"
	run "$FL" inject disk-error --path "$D/none" --for 1s
	assert_failure
	assert_output --partial "No such file or directory"
	cat >bad.yaml <<'Y'
version: 1
name: bad
faults:
  - kind: io-latency
    path: /tmp
    delay: 20ms
    ops: write
    percent: 130%
    for: 1s
Y
	run "$FL" validate bad.yaml
	assert_failure 2
	assert_output --partial "bad.yaml:8:14: 'percent' must be a percentage"
	# a target the mount would not reach is refused, not silently spared
	unshare -m sleep 60 &
	FL_PIDS+=($!)
	run "$FL" inject disk-error --path "$D" --pid $! --for 1s
	assert_failure
	assert_output --partial "lives in another mount namespace"
	! ours_mounted
}

@test "the lease: faultline and its guard SIGKILLed, the daemon unmounts itself at for + 30 s and is gone after the grace" {
	echo held >"$D/held.txt"
	# 4 s: long enough that faultline is still there to be killed on a loaded machine
	"$FL" inject disk-error --path "$D" --errno EIO --name nobody-at-all --for 4s \
		>/dev/null 2>&1 &
	local fl=$!
	FL_PIDS+=("$fl")
	wait_for ours_mounted 10
	local daemon guard holder
	daemon="$(awk '{print $1}' "$FAULTLINE_STATE_DIR"/fuse/*.pid)"
	# a file open through the mount keeps the connection after a lazy unmount
	sleep 300 <"$D/held.txt" &
	holder=$!
	FL_PIDS+=("$holder")
	# the lease guard would revert at the same time: without it, the daemon's own lease acts
	guard="$(pgrep -P "$fl" -x faultline-guard)"
	[ -n "$guard" ]
	kill -KILL "$fl" "$guard"
	wait "$fl" || true
	sleep 31
	ours_mounted
	# the lease is at for + 30 s = 34 s: unmounted (lazily) by then, with slack for a loaded
	# machine; the open file still reads through the daemon, which passes through
	wait_for "! ours_mounted" 5
	! exited "$daemon"
	[ "$(cat "/proc/$holder/fd/0")" = held ]
	# the grace (10 s after the lease): the daemon exits, the open file answers ENOTCONN
	wait_for "exited $daemon" 14
	run cat "/proc/$holder/fd/0"
	assert_failure
	assert_output --partial "Transport endpoint is not connected"
	[ "$(cat "$D/held.txt")" = held ]
}

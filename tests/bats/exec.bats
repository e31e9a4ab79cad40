#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# `faultline exec`: seccomp faults on real programs (dd, sqlite3, python3), as root and not.

load '../lib/common'
bats_require_minimum_version 1.5.0

# Debian's interpreter: a shim (pyenv) would run the faulted calls in a shell of its own.
PY=/usr/bin/python3

setup() {
	fl_setup
	# a directory every user may write (the non-root test runs as nobody)
	D="$(mktemp -d /tmp/fl-exec.XXXXXX)"
	chmod 777 "$D"
	mkdir -m 777 "$D/db" "$D/other"
}

teardown() {
	fl_teardown
	rm -rf "$D"
}

# Python: N os.write() calls of 16 bytes to a file; prints how many failed with which errno.
count_writes() {
	cat > "$D/writes.py" <<'EOF'
import errno, os, sys
path, n = sys.argv[1], int(sys.argv[2])
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
bad = {}
for _ in range(n):
    try:
        os.write(fd, b"0123456789abcdef")
    except OSError as e:
        bad[errno.errorcode[e.errno]] = bad.get(errno.errorcode[e.errno], 0) + 1
os.close(fd)
sys.stderr.write("failed %s\n" % sum(bad.values()))
sys.stderr.write("errnos %s\n" % ",".join(sorted(bad)))
EOF
}

@test "exec is in the command table with help and examples" {
	run "$FL" --help
	assert_output --partial "exec       run a command under syscall faults"
	run "$FL" exec --help
	assert_success
	assert_output --partial "Usage: faultline exec --fault SPEC"
	assert_output --partial "faultline exec --fault kind=io-latency,syscall=fsync,delay=20ms"
}

@test "dd gets ENOSPC on writes under the path only; its other writes and another dd succeed" {
	# an unfaulted writer on the same filesystem, running meanwhile
	( for i in $(seq 50); do dd if=/dev/zero of="$D/other/bystander" bs=4k count=4 \
		status=none || exit 1; done ) &
	by=$!
	run "$FL" exec --fault kind=disk-error,ops=write,path="$D/db",errno=ENOSPC -- sh -c "
		dd if=/dev/zero of='$D/db/f' bs=4k count=4 status=none; echo db=\$?
		dd if=/dev/zero of='$D/other/f' bs=4k count=4 status=none; echo other=\$?"
	assert_success
	assert_output --partial "No space left on device"
	assert_line "db=1"
	assert_line "other=0"
	[ "$(stat -c %s "$D/db/f")" -eq 0 ]
	[ "$(stat -c %s "$D/other/f")" -eq 16384 ]
	wait "$by"
	[ "$(stat -c %s "$D/other/bystander")" -eq 16384 ]
}

@test "sqlite3 writing a database under the path gets ENOSPC; the same statements elsewhere work" {
	sql='create table t(x); insert into t values (1), (2);'
	run "$FL" exec --fault kind=disk-error,ops=write,fsync,path="$D/db",errno=ENOSPC -- \
		sqlite3 "$D/db/t.db" "$sql"
	assert_failure 13
	assert_output --partial "database or disk is full"
	run "$FL" exec --fault kind=disk-error,ops=write,fsync,path="$D/db",errno=ENOSPC -- \
		sqlite3 "$D/other/t.db" "$sql"
	assert_success
	run sqlite3 "$D/other/t.db" 'select count(*) from t'
	assert_output 2
}

@test "open is refused under the path with EACCES, relative paths included" {
	echo hello > "$D/db/f"
	run "$FL" exec --fault kind=disk-error,ops=open,path="$D/db",errno=EACCES -- sh -c "
		cd '$D/db' && cat f; echo rel=\$?; cat '$D/db/f'; echo abs=\$?; cd /; cat /etc/hostname >/dev/null; echo etc=\$?"
	assert_line "rel=1"
	assert_line "abs=1"
	assert_line "etc=0"
	assert_output --partial "Permission denied"
}

@test "percent=30 fails a share of 2000 writes within binomial bounds (and counts it right)" {
	count_writes
	run --separate-stderr "$FL" exec --stats "$D/stats.json" \
		--fault syscall=write,errno=EIO,percent=30,path="$D/db" -- $PY "$D/writes.py" "$D/db/w" 2000
	assert_success
	failed=$(echo "$stderr" | awk '/^failed/ {print $2}')
	echo "failed $failed of 2000"
	# mean 600, sd 20.5: 4.5 sd either side
	[ "$failed" -ge 508 ] && [ "$failed" -le 692 ]
	echo "$stderr" | grep -qx "errnos EIO"
	# the supervisor's count of hits is what the program saw
	hit=$(jq '.faults[0].hit' "$D/stats.json")
	seen=$(jq '.faults[0].seen' "$D/stats.json")
	[ "$hit" -eq "$failed" ]
	[ "$seen" -eq 2000 ]
	# the file holds exactly the writes that went through
	[ "$(stat -c %s "$D/db/w")" -eq $(((2000 - failed) * 16)) ]
}

@test "the same seed fails the same calls" {
	count_writes
	run --separate-stderr "$FL" exec --seed 7 --fault syscall=write,errno=EIO,percent=50,path="$D/db" \
		-- $PY "$D/writes.py" "$D/db/w" 500
	a=$(echo "$stderr" | awk '/^failed/ {print $2}')
	run --separate-stderr "$FL" exec --seed 7 --fault syscall=write,errno=EIO,percent=50,path="$D/db" \
		-- $PY "$D/writes.py" "$D/db/w" 500
	b=$(echo "$stderr" | awk '/^failed/ {print $2}')
	[ -n "$a" ] && [ "$a" = "$b" ]
}

@test "nth=3 fails exactly the 3rd fsync, and the data written before it is there" {
	cat > "$D/fs.py" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
for i in range(1, 7):
    os.write(fd, b"record %d\n" % i)
    try:
        os.fsync(fd)
        print(i, "ok")
    except OSError as e:
        print(i, os.strerror(e.errno))
EOF
	run "$FL" exec --fault syscall=fsync,errno=EIO,nth=3 -- $PY "$D/fs.py" "$D/db/log"
	assert_success
	assert_output "1 ok
2 ok
3 Input/output error
4 ok
5 ok
6 ok"
	[ "$(wc -l < "$D/db/log")" -eq 6 ]
}

@test "io-latency: 20ms on fsync is applied within 5%" {
	cat > "$D/lat.py" <<'EOF'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT)
ts = []
for _ in range(30):
    t = time.monotonic()
    os.fsync(fd)
    ts.append(time.monotonic() - t)
print("%.6f" % (sum(ts) / len(ts)))
EOF
	# tmpfs: fsync itself costs nothing, what is measured is the delay
	f=$(mktemp /dev/shm/fl-exec.XXXXXX)
	base=$($PY "$D/lat.py" "$f")
	run "$FL" exec --fault kind=io-latency,syscall=fsync,delay=20ms -- $PY "$D/lat.py" "$f"
	rm -f "$f"
	assert_success
	echo "plain $base s, delayed $output s"
	$PY -c "import sys; d = float(sys.argv[1]) - float(sys.argv[2]); sys.exit(not 0.019 <= d <= 0.021)" \
		"$output" "$base"
}

@test "concurrent delayed calls of a multi-threaded target are not serialized" {
	cat > "$D/mt.py" <<'EOF'
import os, sys, threading, time
def one(i):
    fd = os.open("%s.%d" % (sys.argv[1], i), os.O_WRONLY | os.O_CREAT)
    os.fsync(fd)
t = time.monotonic()
ts = [threading.Thread(target=one, args=(i,)) for i in range(8)]
[x.start() for x in ts]
[x.join() for x in ts]
print("%.3f" % (time.monotonic() - t))
EOF
	run "$FL" exec -v --fault kind=io-latency,syscall=fsync,delay=200ms -- $PY "$D/mt.py" "$D/db/mt"
	assert_success
	assert_output --partial "8 calls matched, 8 hit"
	total=$(echo "$output" | head -1)
	echo "8 threads, 200ms each: $total s"
	# serialized would be 1.6 s
	$PY -c "import sys; sys.exit(not 0.2 <= float(sys.argv[1]) < 0.4)" "$total"
}

@test "runs as non-root (nobody) with the same faults" {
	count_writes
	run --separate-stderr setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
		"$FL" exec --fault syscall=write,errno=EIO,path="$D/db" \
		--fault kind=io-latency,syscall=fsync,delay=1ms -- \
		sh -c "id -u; $PY '$D/writes.py' '$D/db/w' 10"
	assert_success
	assert_output "65534"
	echo "$stderr" | grep -qx "failed 10"
}

@test "exit status: the command's own, or 128+signal" {
	run "$FL" exec --fault syscall=getppid,errno=EPERM -- sh -c 'exit 42'
	assert_failure 42
	run "$FL" exec --fault syscall=getppid,errno=EPERM -- sh -c 'kill -TERM $$'
	assert_failure 143
	run -127 "$FL" exec --fault syscall=getppid,errno=EPERM -- "$D/no-such-command"
	assert_output --partial "cannot run"
}

@test "--for ends the command (SIGTERM) and exits 143" {
	SECONDS=0
	run "$FL" exec --for 300ms --fault kind=io-latency,syscall=fsync,delay=1ms -- sleep 30
	assert_failure 143
	[ "$SECONDS" -lt 5 ]
}

@test "--for with --release: the faults end on time and the command runs on" {
	cat > "$D/rel.py" <<'EOF'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
t0, res = time.monotonic(), []
while time.monotonic() - t0 < 1.0:
    try:
        os.write(fd, b"x")
        res.append("%.2f ok" % (time.monotonic() - t0))
    except OSError:
        res.append("%.2f EIO" % (time.monotonic() - t0))
    time.sleep(0.02)
open(sys.argv[2], "w").write("\n".join(res) + "\n")
EOF
	run "$FL" exec --for 400ms --release --stats "$D/st.json" \
		--fault syscall=write,errno=EIO,path="$D/db" -- $PY "$D/rel.py" "$D/db/x" "$D/other/log"
	assert_success
	[ "$(jq .released "$D/st.json")" = true ]
	# EIO until ~0.4 s, then every write goes through, to the end of the command's second
	$PY - "$D/other/log" <<'EOF'
import sys
rows = [l.split() for l in open(sys.argv[1])]
fails = [float(t) for t, r in rows if r == "EIO"]
oks = [float(t) for t, r in rows if r == "ok"]
assert fails and oks and max(fails) < min(oks), (fails, oks)
assert 0.3 < min(oks) < 0.6 and max(oks) > 0.9, (min(oks), max(oks))
EOF
}

@test "Ctrl-C reaches the command, which decides" {
	# python, because a shell started in the background cannot trap SIGINT (ignored on entry)
	cat > "$D/int.py" <<'EOF'
import signal, sys, time
def on_int(sig, frame):
    open(sys.argv[1], "w").write("got-int")
    sys.exit(3)
signal.signal(signal.SIGINT, on_int)
while True:
    time.sleep(0.05)
EOF
	"$FL" exec --fault kind=io-latency,syscall=fsync,delay=1ms -- $PY "$D/int.py" "$D/int" &
	fl=$!
	FL_PIDS+=("$fl")
	wait_for "pgrep -P $fl >/dev/null" 5
	sleep 0.2
	kill -INT "$fl"
	st=0
	wait "$fl" || st=$?
	[ "$st" -eq 3 ]
	[ "$(cat "$D/int")" = got-int ]
}

@test "SIGKILL of faultline ends the command too: no supervised process is left" {
	cp /bin/sleep "$D/fl-sc-sleeper"
	"$FL" exec --fault kind=io-latency,syscall=fsync,delay=1ms -- "$D/fl-sc-sleeper" 300 &
	fl=$!
	FL_PIDS+=("$fl")
	wait_for "pgrep -x fl-sc-sleeper >/dev/null" 5
	child=$(pgrep -x fl-sc-sleeper)
	grep -q '^Seccomp:.*2' "/proc/$child/status"
	kill -KILL "$fl"
	wait "$fl" || true
	wait_for "! pgrep -x fl-sc-sleeper >/dev/null" 5
	run "$FL" status
	assert_output --partial "nothing active"
}

@test "bad --fault: an error naming --fault and the key, and the command never runs" {
	run "$FL" exec --fault syscall=write,errno=EWHAT -- touch "$D/ran"
	assert_failure 2
	assert_output --partial "--fault: 'errno' must be an error name such as 'EIO'"
	run "$FL" exec --fault syscall=write,errno=EIO,percentt=5 -- touch "$D/ran"
	assert_failure 2
	assert_output --partial "--fault: unknown key 'percentt' (did you mean 'percent'?)"
	run "$FL" exec --fault kind=latency,delay=1ms -- touch "$D/ran"
	assert_failure 2
	assert_output --partial "'kind' must be syscall, disk-error or io-latency"
	run "$FL" exec --fault kind=disk-error,ops=write,flush -- touch "$D/ran"
	assert_failure 2
	assert_output --partial "'ops' must be a comma list"
	run "$FL" exec --fault kind=io-latency,ops=fsync -- touch "$D/ran"
	assert_failure 2
	assert_output --partial "needs 'delay'"
	run "$FL" exec --fault syscall=write,errno=EIO touch "$D/ran"
	assert_failure 2
	assert_output --partial "put the command after '--'"
	[ ! -e "$D/ran" ]
}

# A scenario whose fault launches a python writer under disk errors (50%) for `for`.
exec_scenario() {
	cat > "$D/w.py" <<'EOF'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
open(sys.argv[2], "w").write(str(os.getpid()))
while True:
    try:
        os.write(fd, b"x")
    except OSError:
        pass
    time.sleep(0.005)
EOF
	cat > s.yaml <<EOF
version: 1
name: exec-fault
steady_state:
  baseline: 0s
faults:
  - name: eio
    kind: disk-error
    target: { exec: [$PY, "$D/w.py", "$D/db/data", "$D/pid"] }
    ops: write
    path: $D/db
    percent: 50
    for: $1
EOF
}

@test "scenario: target.exec launches the command for the fault's window, observed counts" {
	require_root
	exec_scenario 1s
	run "$FL" validate s.yaml
	assert_success
	run "$FL" run --out out s.yaml
	assert_success
	pid=$(cat "$D/pid")
	# the command ended with the fault
	! kill -0 "$pid" 2>/dev/null
	jq -e '.faults[0].events[] | select(.event == "observed") | .observed.faults[0] |
		.seen > 50 and .hit > 0.3 * .seen and .hit < 0.7 * .seen' out/result.json
	jq -e '.faults[0].backend == "seccomp"' out/result.json
}

@test "scenario: SIGKILL of the runner takes the supervisor and the command with it; recover is clean" {
	require_root
	exec_scenario 60s
	"$FL" run --out out s.yaml >/dev/null 2>&1 &
	fl=$!
	FL_PIDS+=("$fl")
	wait_for "[ -s '$D/pid' ]" 10
	pid=$(cat "$D/pid")
	kill -0 "$pid"
	kill -KILL "$fl"
	wait "$fl" || true
	wait_for "! kill -0 $pid 2>/dev/null" 5
	run "$FL" recover --all
	assert_success
	run "$FL" status
	assert_output --partial "nothing active"
	[ -z "$(ls "$FAULTLINE_STATE_DIR"/exec/*.pid 2>/dev/null)" ]
}

@test "scenario: target.exec must be a command sequence" {
	printf 'version: 1\nname: t\nfaults:\n  - { kind: syscall, syscall: write, errno: EIO, for: 1s, target: { exec: "dd" } }\n' > s.yaml
	run "$FL" validate s.yaml
	assert_failure 2
	assert_output --partial "s.yaml:4:75: expected a sequence of strings for 'exec', got 'dd'"
	printf 'version: 1\nname: t\nfaults:\n  - { kind: kill, for: 1s, target: { exec: [dd] } }\n' > s.yaml
	run "$FL" validate s.yaml
	assert_failure 2
	assert_output --partial "'target.exec' is for faults on a command faultline launches"
}

@test "a syscall fault in a scenario without a launched command is refused clearly" {
	printf 'version: 1\nname: t\nfaults:\n  - { kind: syscall, syscall: write, errno: EIO, for: 1s }\n' > s.yaml
	run "$FL" validate s.yaml
	assert_failure 2
	assert_output --partial "s.yaml:4:5: a 'syscall' fault through seccomp acts on a command faultline launches"
}

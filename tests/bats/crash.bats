#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# crash-point (bpf-signal): real writers killed on exactly their nth fsync, by syscall and by
# uprobe; a bystander untouched; redis-server on its nth fdatasync; SIGKILL + recover; the TTL.

load '../lib/common'
bats_require_minimum_version 1.5.0

LIBC=/lib/x86_64-linux-gnu/libc.so.6

setup_file() {
	[ "$(id -u)" -eq 0 ] || return 0
	# w FILE N GO: once GO exists, N times: write "line I", fsync. The pause lets the fault
	# arm first. loop N: N raw getppid() calls, 7 times, prints the best ns per call.
	cat >"$BATS_FILE_TMPDIR/crashw.c" <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc == 3 && argv[1][0] == 'l') {
		/* the best of 7 rounds: the machine is shared, noise only adds */
		long n = atol(argv[2]);
		double best = 1e9;

		for (int r = 0; r < 7; r++) {
			long long t0 = now();

			for (long i = 0; i < n; i++)
				syscall(SYS_getppid);
			if ((double)(now() - t0) / n < best)
				best = (double)(now() - t0) / n;
		}
		printf("%.1f\n", best);
		return 0;
	}
	if (argc == 5 && argv[1][0] == 'r') {
		/* r K WRITER GO: K writers, then each one's death time as "pid ns" */
		int k = atoi(argv[2]);

		for (int i = 0; i < k; i++) {
			char out[32];

			snprintf(out, sizeof(out), "out-%d.txt", i);
			if (fork() == 0) {
				execl(argv[3], argv[3], "w", out, "10", argv[4], (char *)NULL);
				_exit(127);
			}
		}
		for (int i = 0; i < k; i++) {
			int pid = wait(NULL);

			printf("%d %lld\n", pid, now());
		}
		return 0;
	}
	if (argc != 5)
		return 2;
	int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int n = atoi(argv[3]);
	char line[64];

	if (fd < 0)
		return 3;
	while (access(argv[4], F_OK) < 0)
		usleep(2000);
	for (int i = 1; i <= n; i++) {
		int len = snprintf(line, sizeof(line), "line %d\n", i);

		if (write(fd, line, len) != len || fsync(fd) < 0)
			return 1;
	}
	return 0;
}
C
	cc -O2 -o "$BATS_FILE_TMPDIR/crashw" "$BATS_FILE_TMPDIR/crashw.c"
}

setup() {
	require_root
	fl_setup
	[ -x "$BATS_FILE_TMPDIR/crashw" ]
}

teardown() {
	fl_teardown
	[ -z "${CG:-}" ] || rmdir "$CG" 2>/dev/null || true
}

# A copy of the writer under its own name (the target key), waiting for ./go.
start_writer() { # NAME FILE N
	cp "$BATS_FILE_TMPDIR/crashw" "$BATS_TEST_TMPDIR/$1"
	"$BATS_TEST_TMPDIR/$1" w "$2" "$3" go &
	FL_PIDS+=($!)
	LAST=$!
	wait_for "[ \"\$(cat /proc/$LAST/comm 2>/dev/null)\" = '${1:0:15}' ]" 5
}

# The pin directory of this test's armed run (its link is pinned: the crash point is armed).
armed_pin() { # LINK
	local id
	for id in $(ls "$FAULTLINE_STATE_DIR/runs" 2>/dev/null); do
		ls -d /sys/fs/bpf/faultline/"$id"-*/"$1" 2>/dev/null | xargs -r dirname
	done | head -1
}

wait_armed() { # LINK
	wait_for "[ -n \"\$(armed_pin '$1')\" ]" 10
	PIN="$(armed_pin "$1")"
}

lines() { printf 'line %s\n' $(seq "$1" "$2"); }

# Nothing of the run left: no pin directory, and the program behind the link is gone.
nothing_left() { # PROG_ID
	[ ! -e "$PIN" ]
	# the kernel frees a link and its program after an RCU grace period
	wait_for "! bpftool prog show id $1 >/dev/null 2>&1" 5
}

# Writer NAME dies on its 3rd call, bystander OTHER (same program, same filesystem) runs to its
# end; the crash point's own keys follow. The result is in res.json.
third_call_kills() { # NAME OTHER KEYS...
	local name=$1 other_name=$2 victim other inj link=link-sys_enter st
	shift 2
	start_writer "$name" out.txt 10
	victim=$LAST
	start_writer "$other_name" other.txt 10
	other=$LAST
	"$FL" inject crash-point --name "$name" --nth 3 --for 2s --json "$@" >res.json &
	inj=$!
	[ "$1" = --function ] && link="link-uprobe-$victim"
	wait_armed "$link"
	touch go
	st=0
	wait "$victim" || st=$?
	[ "$st" -eq 137 ] # SIGKILL
	st=0
	wait "$other" || st=$?
	[ "$st" -eq 0 ]
	# the 3rd call started after line 3's write, and the process never ran again
	assert_equal "$(cat out.txt)" "$(lines 1 3)"
	assert_equal "$(cat other.txt)" "$(lines 1 10)"
	wait "$inj"
	python3 - "$victim" <<'P'
import json, sys
d = json.load(open("res.json"))
ev = {e["event"]: e for e in d["events"]}
assert ev["applied"]["injected"]["armed"] == [int(sys.argv[1])], ev
o = ev["observed"]["observed"]
t = o["targets"][0]
assert (o["signals_sent"], t["verdict"], t["calls"], t["tid"]) == (1, "fired", 3, int(sys.argv[1])), o
assert "reverted" in ev
P
	[ ! -e "$PIN" ]
}

@test "crash-point: killed on exactly its 3rd fsync; lines 1-3 written, 4 never; a bystander untouched" {
	third_call_kills fl-crashw fl-bystander --syscall fsync
	grep -q '"syscall": "fsync"' res.json
}

@test "crash-point: each target process counts its own calls" {
	start_writer fl-twin a.txt 10
	local a=$LAST
	"$BATS_TEST_TMPDIR/fl-twin" w b.txt 10 go &
	local b=$!
	FL_PIDS+=("$b")
	"$FL" inject crash-point --name fl-twin --syscall fsync --nth 2 --for 2s >/dev/null 2>&1 &
	local inj=$!
	wait_armed link-sys_enter
	touch go
	st=0; wait "$a" || st=$?
	[ "$st" -eq 137 ]
	st=0; wait "$b" || st=$?
	[ "$st" -eq 137 ]
	assert_equal "$(cat a.txt)" "$(lines 1 2)"
	assert_equal "$(cat b.txt)" "$(lines 1 2)"
	wait "$inj"
}

@test "crash-point: a cgroup target: its processes started after the fault are counted too" {
	CG="/sys/fs/cgroup/unified/fl-crash-$$-$BATS_TEST_NUMBER"
	mkdir "$CG"
	cp "$BATS_FILE_TMPDIR/crashw" "$BATS_TEST_TMPDIR/fl-crashc"
	# a shell in the cgroup that starts two writers once ./go exists
	bash -c 'echo $$ >"$1/cgroup.procs"
		while [ ! -e go ]; do sleep 0.01; done
		"$2" w a.txt 10 go & a=$!
		"$2" w b.txt 10 go & b=$!
		wait $a; echo $? >a.st; wait $b; echo $? >b.st' _ "$CG" "$BATS_TEST_TMPDIR/fl-crashc" &
	FL_PIDS+=($!)
	local sh=$!
	wait_for "grep -qx $sh $CG/cgroup.procs" 5
	start_writer fl-bystandc other.txt 10
	local other=$LAST
	"$FL" inject crash-point --cgroup "/${CG##*/}" --syscall fsync --nth 3 --for 3s \
		--json >res.json &
	local inj=$!
	wait_armed link-sys_enter
	touch go
	wait "$sh"
	wait "$other"
	assert_equal "$(cat a.st) $(cat b.st)" "137 137"
	assert_equal "$(cat a.txt)" "$(lines 1 3)"
	assert_equal "$(cat b.txt)" "$(lines 1 3)"
	assert_equal "$(cat other.txt)" "$(lines 1 10)"
	wait "$inj"
	run jq -r '[.events[] | select(.event == "observed")][0].observed |
		"\(.signals_sent) \([.targets[] | select(.verdict == "fired") | .calls] | unique)"' \
		res.json
	assert_output "2 [3]"
}

@test "crash-point: uprobe on libc's fsync, 3rd entry; a bystander using the same libc untouched" {
	third_call_kills fl-crashu fl-bystandu --function fsync --binary "$LIBC"
	grep -q '"function": "fsync"' res.json
}

@test "crash-point: redis-server (appendfsync always) dies on its 4th fdatasync; the AOF has 4 SETs" {
	command -v redis-server >/dev/null || skip "redis-server is not installed"
	cp "$(command -v redis-server)" "$BATS_TEST_TMPDIR/fl-redis"
	mkdir data
	"$BATS_TEST_TMPDIR/fl-redis" --port 0 --unixsocket "$PWD/r.sock" --dir "$PWD/data" \
		--appendonly yes --appendfsync always --save '' >redis.log 2>&1 &
	local redis=$!
	FL_PIDS+=("$redis")
	wait_for "redis-cli -s '$PWD/r.sock' ping 2>/dev/null | grep -q PONG" 10
	# redis fsyncs its appendonly file with fdatasync(2)
	"$FL" inject crash-point --name fl-redis --syscall fdatasync --nth 4 --for 5s \
		--json >res.json &
	local inj=$!
	wait_armed link-sys_enter
	for i in 1 2 3 4 5 6; do
		redis-cli -s "$PWD/r.sock" set "k$i" "v$i" >"set$i.out" 2>&1 || break
	done
	st=0
	wait "$redis" || st=$?
	[ "$st" -eq 137 ]
	# sets 1-3 were acknowledged; the 4th was written to the AOF, then its fdatasync killed
	# redis before the reply; the 5th never reached it
	for i in 1 2 3; do grep -qx OK "set$i.out"; done
	run ! grep -qx OK set4.out
	aof="$(cat data/appendonlydir/*.incr.aof)"
	for i in 1 2 3 4; do [[ "$aof" == *"k$i"* ]]; done
	[[ "$aof" != *k5* ]]
	wait "$inj"
}

@test "crash-point: SIGKILL faultline mid-fault, then recover --all: no pin, link or program left" {
	start_writer fl-crashk out.txt 10
	"$FL" inject crash-point --name fl-crashk --syscall fsync --nth 5 --for 60s &
	local inj=$!
	FL_PIDS+=("$inj")
	wait_armed link-sys_enter
	local prog
	prog="$(bpftool link show pinned "$PIN/link-sys_enter" | grep -o 'prog [0-9]*' | cut -d' ' -f2)"
	[ -n "$prog" ]
	kill -KILL "$inj"
	wait "$inj" || true
	# the pin holds the armed crash point without us
	[ -e "$PIN/link-sys_enter" ]
	bpftool prog show id "$prog" | grep -q crash_sys_enter
	run "$FL" recover --all
	assert_success
	nothing_left "$prog"
	# disarmed: the writer now runs to its end
	touch go
	wait "$LAST"
	assert_equal "$(cat out.txt)" "$(lines 1 10)"
}

@test "crash-point: TTL: after SIGKILL and no recover, the program is inert past for + 30 s" {
	start_writer fl-crasht out.txt 10
	"$FL" inject crash-point --name fl-crasht --syscall fsync --nth 1 --for 1s &
	local inj=$!
	FL_PIDS+=("$inj")
	wait_armed link-sys_enter
	# the lease guard would revert at the same time: kill it too, the program is on its own
	local guard
	guard="$(pgrep -P "$inj" -x faultline-guard)"
	[ -n "$guard" ]
	kill -KILL "$guard" "$inj"
	wait "$inj" || true
	sleep 32
	# still attached (nobody reverted it), but expired: the first fsync goes through
	[ -e "$PIN/link-sys_enter" ]
	touch go
	wait "$LAST"
	assert_equal "$(cat out.txt)" "$(lines 1 10)"
	run "$FL" recover --all
	assert_success
	[ ! -e "$PIN" ]
}

@test "crash-point: bad keys name their flag, and nothing is touched" {
	local before
	before="$(ls /sys/fs/bpf/faultline 2>/dev/null | sort)"
	run "$FL" inject crash-point --name x --syscall fsnyc --for 1s
	assert_failure 2
	assert_output --partial "--syscall: 'syscall': unknown x86_64 syscall 'fsnyc' (did you mean 'fsync'?)"
	run "$FL" inject crash-point --name x --syscall fsync --nth 0 --for 1s
	assert_failure 2
	assert_output --partial "--nth: 'nth' must be a whole number from 1"
	run "$FL" inject crash-point --name x --function fsync --for 1s
	assert_failure 2
	assert_output --partial "'function' needs 'binary'"
	run "$FL" inject crash-point --name x --function nope_xyz --binary "$LIBC" --for 1s
	assert_failure 2
	assert_output --partial "'function': '$LIBC' defines no function 'nope_xyz'"
	run "$FL" inject crash-point --syscall fsync --for 1s
	assert_failure 2
	assert_output --partial "needs a target"
	run "$FL" inject crash-point --name fl-no-such-process --syscall fsync --for 1s
	assert_failure 3
	assert_equal "$(ls /sys/fs/bpf/faultline 2>/dev/null | sort)" "$before"
}

# Figures, not a gate: printed with --tap (bats -t) and kept in $BATS_RUN_TMPDIR/crash-figures.
@test "crash-point: measured: nth call to death, overhead per untargeted syscall" {
	local w="$BATS_FILE_TMPDIR/crashw" base same other
	# death: 5 writers die on their 3rd fsync; their parent stamps each reaping, the program
	# each 3rd call's entry (both CLOCK_MONOTONIC)
	cp "$w" "$BATS_TEST_TMPDIR/fl-crashm"
	"$w" r 5 "$BATS_TEST_TMPDIR/fl-crashm" go >death.txt &
	local reaper=$!
	wait_for '[ "$(pgrep -cx fl-crashm)" = 5 ]' 5
	"$FL" inject crash-point --name fl-crashm --syscall fsync --nth 3 --for 2s --json >res.json &
	local inj=$!
	wait_armed link-sys_enter
	touch go
	wait "$reaper"
	wait "$inj"
	death="$(python3 -c "
import json, statistics
d = json.load(open('res.json'))
fired = {t['pid']: t['fired_mono_ns'] for t in
	 [e for e in d['events'] if e['event'] == 'observed'][0]['observed']['targets']}
dead = dict(map(int, l.split()) for l in open('death.txt'))
assert sorted(fired) == sorted(dead), (fired, dead)
ns = sorted(dead[p] - fired[p] for p in fired)
print(f'median {statistics.median(ns)} (min {ns[0]}, max {ns[-1]})')")"
	# overhead: getppid() in a loop, without the program, then with it counting getppid
	# (same syscall, not a target: map lookup) and counting fsync (other syscall)
	base="$("$w" loop 500000)"
	start_target fl-crasho
	"$FL" inject crash-point --name fl-crasho --syscall getppid --for 30s >/dev/null 2>&1 &
	inj=$!
	wait_armed link-sys_enter
	same="$("$w" loop 500000)"
	kill -INT "$inj"; wait "$inj" || true
	"$FL" inject crash-point --name fl-crasho --syscall fsync --for 30s >/dev/null 2>&1 &
	inj=$!
	wait_armed link-sys_enter
	other="$("$w" loop 500000)"
	kill -INT "$inj"; wait "$inj" || true
	printf 'nth call to death (reaped by the parent): %s ns; getppid %s ns/call, %s with the program on getppid (not a target), %s with it on fsync\n' \
		"$death" "$base" "$same" "$other" | tee -a "$BATS_RUN_TMPDIR/crash-figures" >&3
}

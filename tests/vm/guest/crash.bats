#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# crash-point (bpf-signal) on a stock kernel: redis-server (appendfsync always) killed on its nth
# fdatasync, by the syscall tracepoint and by a uprobe on libc; SIGKILL + recover.

load guest
bats_require_minimum_version 1.5.0

setup() { fl_setup; }
teardown() { fl_teardown; }

# redis under its own name, persisting every write with fdatasync(2); its pid in REDIS.
start_redis() {
	cp /usr/bin/redis-server "$BATS_TEST_TMPDIR/fl-redis"
	mkdir -p data
	"$BATS_TEST_TMPDIR/fl-redis" --port 0 --unixsocket "$PWD/r.sock" --dir "$PWD/data" \
		--appendonly yes --appendfsync always --save '' >redis.log 2>&1 &
	REDIS=$!
	FL_PIDS+=("$REDIS")
	wait_for "redis-cli -s '$PWD/r.sock' ping 2>/dev/null | grep -q PONG" 30
}

# The run's pin directory once LINK is pinned there (the crash point is armed).
wait_armed() { # LINK
	wait_for "ls -d /sys/fs/bpf/faultline/*/$1 >/dev/null 2>&1" 30
	PIN="$(dirname "$(ls -d /sys/fs/bpf/faultline/*/"$1" | head -1)")"
}

# SETs k1..k6 until one fails; redis must die by SIGKILL with the AOF holding k1..kN, not k(N+1).
sets_until_killed() { # N
	local i st=0
	for i in 1 2 3 4 5 6; do
		redis-cli -s "$PWD/r.sock" set "k$i" "v$i" >"set$i.out" 2>&1 || break
	done
	wait "$REDIS" || st=$?
	[ "$st" -eq 137 ]
	for ((i = 1; i < $1; i++)); do grep -qx OK "set$i.out"; done
	run ! grep -qx OK "set$1.out"
	aof="$(cat data/appendonlydir/*.incr.aof)"
	for ((i = 1; i <= $1; i++)); do [[ "$aof" == *"k$i"* ]]; done
	[[ "$aof" != *"k$(($1 + 1))"* ]]
}

@test "redis-server dies on its 3rd fdatasync (raw tracepoint sys_enter)" {
	start_redis
	"$FL" inject crash-point --name fl-redis --syscall fdatasync --nth 3 --for 20s \
		--json >res.json &
	local inj=$!
	wait_armed link-sys_enter
	sets_until_killed 3
	# end the fault now (Ctrl-C: revert, exit 4), its result still has what was observed
	kill -INT "$inj"
	wait "$inj" || true
	run jq -e '[.events[] | select(.event == "observed")][0].observed.targets[0] |
		.verdict == "fired" and .calls == 3' res.json
	assert_success
	[ ! -e "$PIN" ]
}

@test "redis-server dies on its 2nd entry into libc's fdatasync (uprobe)" {
	start_redis
	local libc
	libc="$(awk '$6 ~ /\/libc\.so/ { print $6; exit }' "/proc/$REDIS/maps")"
	[ -n "$libc" ]
	"$FL" inject crash-point --name fl-redis --function fdatasync --binary "$libc" --nth 2 \
		--for 20s >/dev/null 2>&1 &
	local inj=$!
	wait_armed "link-uprobe-$REDIS"
	sets_until_killed 2
	kill -INT "$inj"
	wait "$inj" || true
	[ ! -e "$PIN" ]
}

@test "SIGKILL faultline while armed, then recover --all: no pin, link or program left" {
	start_redis
	"$FL" inject crash-point --name fl-redis --syscall fdatasync --nth 50 --for 60s &
	local inj=$!
	FL_PIDS+=("$inj")
	wait_armed link-sys_enter
	local prog
	prog="$(bpftool link show pinned "$PIN/link-sys_enter" | grep -o 'prog [0-9]*')"
	prog="${prog#prog }"
	[ -n "$prog" ]
	kill -KILL "$inj"
	wait "$inj" || true
	[ -e "$PIN/link-sys_enter" ]
	run "$FL" recover --all
	assert_success
	[ ! -e "$PIN" ]
	wait_for "! bpftool prog show id $prog >/dev/null 2>&1" 10
	# disarmed: redis keeps answering
	for i in 1 2 3; do redis-cli -s "$PWD/r.sock" set "k$i" v | grep -qx OK; done
}

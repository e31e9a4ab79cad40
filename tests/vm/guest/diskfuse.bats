#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# disk-error and io-latency through FUSE on a stock kernel: redis-server with appendfsync
# always started under the fault, a writer beside it untouched; SIGKILL then recover.

load guest
bats_require_minimum_version 1.5.0

setup() {
	fl_setup
	D="$BATS_TEST_TMPDIR/data"
	mkdir -p "$D"
}

teardown() {
	fl_teardown
}

ours_mounted() {
	grep -q " $D .* - fuse.faultline " /proc/self/mountinfo
}

# start_redis NAME PORT DIR: a copy of redis-server under NAME, AOF with appendfsync always
start_redis() {
	cp "$(command -v redis-server)" "$BATS_TEST_TMPDIR/$1"
	mkdir -p "$3"
	"$BATS_TEST_TMPDIR/$1" --port "$2" --dir "$3" --appendonly yes --appendfsync always \
		--save '' --logfile "$BATS_TEST_TMPDIR/$1.log" &
	REDIS=$!
	FL_PIDS+=("$REDIS")
}

# ms for 20 SETs through one redis-cli (each one fsyncs the AOF before its reply)
sets_ms() {
	local a b
	a=$(date +%s%N)
	for i in $(seq 20); do echo "SET k$i v"; done | redis-cli -p "$1" >/dev/null
	b=$(date +%s%N)
	echo $(((b - a) / 1000000))
}

@test "redis-server (appendfsync always) started under EIO on write exits on its AOF error; another writer does not" {
	"$FL" inject disk-error --path "$D" --errno EIO --ops write,fsync --name fl-redis \
		--for 60s >fault.out 2>&1 &
	local fl=$!
	wait_for ours_mounted 30
	start_redis fl-redis 6390 "$D/r"
	# not a target: the shell writes beside it, through the same mount
	for i in 1 2 3; do echo "line $i" >>"$D/other.txt"; done
	wait_for '[ "$(proc_state '"$REDIS"')" = gone ] || [ "$(proc_state '"$REDIS"')" = Z ]' 60
	grep -q "Write error writing append only file on disk: Input/output error" \
		"$BATS_TEST_TMPDIR/fl-redis.log"
	kill -INT "$fl"
	wait "$fl" || true
	! ours_mounted
	[ "$(wc -l <"$D/other.txt")" -eq 3 ]
}

@test "io-latency 50ms on fsync: a target redis answers 20 SETs 1 s slower, its neighbour does not" {
	"$FL" inject io-latency --path "$D" --delay 50ms --ops fsync --name fl-redis --for 120s \
		--json >fault.json 2>fault.err &
	local fl=$!
	wait_for ours_mounted 30
	start_redis fl-redis 6391 "$D/slow"
	local slow=$REDIS
	start_redis fl-other 6392 "$D/fast"
	wait_for "redis-cli -p 6391 ping 2>/dev/null | grep -q PONG" 60
	wait_for "redis-cli -p 6392 ping 2>/dev/null | grep -q PONG" 60
	local t_slow t_fast
	t_slow=$(sets_ms 6391)
	t_fast=$(sets_ms 6392)
	echo "20 SETs: target $t_slow ms, neighbour $t_fast ms"
	[ "$t_slow" -ge 1000 ]
	[ $((t_slow - t_fast)) -ge 800 ]
	kill "$slow" "$REDIS"
	kill -INT "$fl"
	wait "$fl" || true
	! ours_mounted
	[ "$(jq '.events[] | select(.event == "observed") | .observed.ops_delayed' fault.json)" -ge 20 ]
	# the AOF of both is on the real disk
	grep -q k20 "$D"/slow/appendonlydir/*.incr.aof
	grep -q k20 "$D"/fast/appendonlydir/*.incr.aof
}

@test "SIGKILL during an io-latency fault, then recover --all: no FUSE mount, no daemon" {
	"$FL" inject io-latency --path "$D" --delay 20ms --ops fsync --for 120s >/dev/null 2>&1 &
	local fl=$!
	wait_for ours_mounted 30
	local daemon
	daemon="$(awk '{print $1}' "$FAULTLINE_STATE_DIR"/fuse/*.pid)"
	[ "$(cat /proc/$daemon/comm)" = faultline-fused ]
	echo kept >"$D/kept.txt"
	kill -KILL "$fl"
	wait "$fl" || true
	ours_mounted
	run "$FL" recover --all
	assert_success
	! ours_mounted
	[[ "$(proc_state "$daemon")" =~ ^(Z|gone)$ ]]
	[ "$(cat "$D/kept.txt")" = kept ]
}

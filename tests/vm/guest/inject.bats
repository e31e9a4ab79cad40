#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# The foundation's kill and stop on a stock kernel: duration, Ctrl-C, signals, detach, crash.

load guest
bats_require_minimum_version 1.5.0

setup() { fl_setup; }
teardown() { fl_teardown; }

@test "stop pauses a process for the duration, then continues it" {
	start_target fl-stop-me
	# longer than on the host: the stopped state must outlast a slow poll under emulation
	"$FL" inject stop --name fl-stop-me --for 3s &
	inj=$!
	wait_for '[ "$(proc_state $TARGET)" = T ]' 10
	wait "$inj"
	[ "$(proc_state $TARGET)" = S ]
	run "$FL" status
	assert_output --partial "nothing active"
}

@test "Ctrl-C (SIGINT) ends the fault early, reverts it and exits 4" {
	start_target fl-int-me
	"$FL" inject stop --pid "$TARGET" --for 60s &
	inj=$!
	wait_for '[ "$(proc_state $TARGET)" = T ]' 10
	kill -INT "$inj"
	st=0
	wait "$inj" || st=$?
	[ "$st" -eq 4 ]
	[ "$(proc_state $TARGET)" = S ]
}

@test "kill sends the signal asked for, and --json reports it next to what was asked" {
	start_target fl-kill-me
	run "$FL" inject kill --name fl-kill-me --signal SIGTERM --for 100ms
	assert_success
	assert_output --partial "SIGTERM to name 'fl-kill-me'"
	wait_for '[ "$(proc_state $TARGET)" = gone ] || [ "$(proc_state $TARGET)" = Z ]' 10

	start_target fl-json-me
	run --separate-stderr "$FL" inject kill --name fl-json-me --for 100ms --json
	assert_success
	assert_equal "$(jq -r '.asked."target.name"' <<<"$output")" fl-json-me
	assert_equal "$(jq -r '.events[] | select(.event == "applied") | .injected.signal' \
		<<<"$output")" SIGKILL
	assert_equal "$(jq -c '.events[] | select(.event == "applied") | .injected.signalled' \
		<<<"$output")" "[$TARGET]"
}

@test "--detach leaves the fault active with its lease; recover ends it early" {
	start_target fl-detach-me
	run "$FL" inject stop --name fl-detach-me --for 60s --detach
	assert_success
	assert_output --regexp "fault active: run [0-9a-f]{12}"
	id="$(grep -o 'run [0-9a-f]*' <<<"$output" | head -1 | cut -d' ' -f2)"
	[ "$(proc_state $TARGET)" = T ]
	run "$FL" status --json
	assert_success
	run jq -r --arg id "$id" '.runs[] | select(.id == $id) | "\(.state) \(.kind) " +
		(.faults[0] | "\(.state) \(.objects[0].pid) \(.lease_expiry > 0)")' <<<"$output"
	assert_output "active inject active $TARGET true"
	run "$FL" recover "$id"
	assert_success
	wait_for '[ "$(proc_state $TARGET)" = S ]' 10
	run "$FL" status
	assert_output --partial "nothing active"
	# twice is fine
	run "$FL" recover --all
	assert_success
}

@test "--detach fault ends by itself when its duration is over" {
	start_target fl-ttl-me
	run "$FL" inject stop --name fl-ttl-me --for 3s --detach
	assert_success
	[ "$(proc_state $TARGET)" = T ]
	wait_for '[ "$(proc_state $TARGET)" = S ]' 10
	wait_for '"$FL" status | grep -q "nothing active"' 10
}

@test "SIGKILL of a stop inject: recover continues its process, and only that one" {
	start_target fl-left-stopped
	cp /usr/bin/sleep "$BATS_TEST_TMPDIR/fl-bystander"
	"$BATS_TEST_TMPDIR/fl-bystander" 300 &
	bystander=$!
	FL_PIDS+=("$bystander")
	kill -STOP "$bystander" # stopped by someone else: not faultline's to continue
	"$FL" inject stop --name fl-left-stopped --for 120s &
	inj=$!
	wait_for '[ "$(proc_state $TARGET)" = T ]' 10
	kill -KILL "$inj"
	wait "$inj" || true
	[ "$(proc_state $TARGET)" = T ]
	run "$FL" status
	assert_output --partial "DEAD"
	run "$FL" recover --all
	assert_success
	[ "$(proc_state $TARGET)" = S ]
	[ "$(proc_state $bystander)" = T ]
	run "$FL" status
	assert_output --partial "nothing active"
}

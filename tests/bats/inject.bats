#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# `faultline inject`: kill and stop on real processes, detach, recover, and bad input.

load '../lib/common'
bats_require_minimum_version 1.5.0

setup() { fl_setup; }
teardown() { fl_teardown; }

@test "stop pauses a process for the duration, then continues it" {
	start_target fl-stop-me
	"$FL" inject stop --name fl-stop-me --for 1s &
	inj=$!
	wait_for '[ "$(proc_state $TARGET)" = T ]' 5
	wait "$inj"
	[ "$(proc_state $TARGET)" = S ]
	# the journal is empty again
	run "$FL" status
	assert_output --partial "nothing active"
}

@test "Ctrl-C (SIGINT) ends the fault early, reverts it and exits 4" {
	start_target fl-int-me
	"$FL" inject stop --pid "$TARGET" --for 60s &
	inj=$!
	wait_for '[ "$(proc_state $TARGET)" = T ]' 5
	kill -INT "$inj"
	st=0
	wait "$inj" || st=$?
	[ "$st" -eq 4 ]
	[ "$(proc_state $TARGET)" = S ]
}

@test "kill sends the signal asked for" {
	start_target fl-kill-me
	run "$FL" inject kill --name fl-kill-me --signal SIGTERM --for 100ms
	assert_success
	assert_output --partial "SIGTERM to name 'fl-kill-me'"
	wait_for '[ "$(proc_state $TARGET)" = gone ] || [ "$(proc_state $TARGET)" = Z ]' 5
}

@test "kill --json reports what was injected next to what was asked" {
	start_target fl-json-me
	run --separate-stderr "$FL" inject kill --name fl-json-me --for 100ms --json
	assert_success
	echo "$output" | python3 -c "
import json, sys
d = json.load(sys.stdin)
assert d['asked']['target.name'] == 'fl-json-me', d
ev = [e for e in d['events'] if e['event'] == 'applied'][0]
assert ev['injected']['signal'] == 'SIGKILL'
assert ev['injected']['signalled'] == [$TARGET], ev"
}

@test "pick random with a seed chooses the same process every time" {
	cp /bin/sleep "$BATS_TEST_TMPDIR/fl-pick"
	for i in 1 2 3 4 5; do "$BATS_TEST_TMPDIR/fl-pick" 300 & FL_PIDS+=($!); done
	wait_for '[ "$(pgrep -cx fl-pick)" = 5 ]' 5
	a="$("$FL" inject stop --name fl-pick --pick random --seed 7 --for 100ms --json | python3 -c 'import json,sys; print([e for e in json.load(sys.stdin)["events"] if e["event"]=="applied"][0]["injected"]["signalled"])')"
	b="$("$FL" inject stop --name fl-pick --pick random --seed 7 --for 100ms --json | python3 -c 'import json,sys; print([e for e in json.load(sys.stdin)["events"] if e["event"]=="applied"][0]["injected"]["signalled"])')"
	[ "$a" = "$b" ]
	[ "$(echo "$a" | tr -cd , | wc -c)" -eq 0 ]
}

@test "--detach leaves the fault active with its lease; recover ends it early" {
	start_target fl-detach-me
	run "$FL" inject stop --name fl-detach-me --for 60s --detach
	assert_success
	assert_output --regexp "fault active: run [0-9a-f]{12}"
	id="$(echo "$output" | grep -o 'run [0-9a-f]*' | cut -d' ' -f2)"
	[ "$(proc_state $TARGET)" = T ]
	run "$FL" status --json
	echo "$output" | python3 -c "
import json, sys
d = json.load(sys.stdin)
r = [r for r in d['runs'] if r['id'] == '$id'][0]
assert r['state'] == 'active' and r['kind'] == 'inject'
assert r['faults'][0]['state'] == 'active'
assert r['faults'][0]['objects'][0]['pid'] == $TARGET
assert r['faults'][0]['lease_expiry'] > 0"
	run "$FL" recover "$id"
	assert_success
	wait_for '[ "$(proc_state $TARGET)" = S ]' 5
	run "$FL" status
	assert_output --partial "nothing active"
	# twice is fine
	run "$FL" recover --all
	assert_success
}

@test "--detach fault ends by itself when its duration is over" {
	start_target fl-ttl-me
	run "$FL" inject stop --name fl-ttl-me --for 1s --detach
	assert_success
	[ "$(proc_state $TARGET)" = T ]
	wait_for '[ "$(proc_state $TARGET)" = S ]' 5
	wait_for '"$FL" status | grep -q "nothing active"' 5
}

@test "a target that matches nothing is an error, nothing is touched" {
	run "$FL" inject kill --name no-such-process-xyz --for 1s
	assert_failure 3
	assert_output --partial "no process matches name 'no-such-process-xyz'"
	run "$FL" status
	assert_output --partial "nothing active"
}

@test "a pid that is gone" {
	sleep 0 & gone=$!
	wait "$gone"
	run "$FL" inject stop --pid "$gone" --for 1s
	assert_failure 3
	assert_output --partial "no process with pid $gone (it is gone)"
}

@test "PID 1 and faultline itself are refused" {
	run "$FL" inject kill --pid 1 --for 1s
	assert_failure 2
	assert_output --partial "--pid: refusing to target PID 1"
}

@test "bad flags go through the scenario validator" {
	run "$FL" inject kill --name x --for -5s
	assert_failure 2
	assert_output --partial "--for: 'for' cannot be negative"
	run "$FL" inject kill --name x --for 1s --signal SIGNOPE
	assert_failure 2
	assert_output --partial "--signal: 'signal' must be a signal name or number"
	run "$FL" inject kil --name x --for 1s
	assert_failure 2
	assert_output --partial "unknown fault kind 'kil' (did you mean 'kill'?)"
	run "$FL" inject stop --name x
	assert_failure 2
	assert_output --partial "needs 'for'"
	run "$FL" inject stop --nmae x --for 1s
	assert_failure 2
	assert_output --partial "--nmae"
	assert_output --partial "did you mean"
	run "$FL" inject
	assert_failure 2
	assert_output --partial "give a fault kind"
}

@test "a state dir that cannot be written" {
	start_target fl-state-me
	run "$FL" inject stop --name fl-state-me --for 1s --state-dir /proc/faultline-nope
	assert_failure 3
	assert_output --partial "state directory '/proc/faultline-nope' is not writable"
	[ "$(proc_state $TARGET)" = S ]
}

@test "--backend pins a backend; an unknown one is a usage error" {
	start_target fl-backend-me
	run --separate-stderr "$FL" inject stop --name fl-backend-me --backend pidfd --for 100ms --json
	assert_success
	echo "$output" | python3 -c 'import json,sys; assert json.load(sys.stdin)["backend"] == "pidfd"'
	run "$FL" inject stop --name fl-backend-me --backend netem --for 100ms
	assert_failure 2
	assert_output --partial "--backend: 'stop' faults have no backend 'netem' (implemented: pidfd)"
}

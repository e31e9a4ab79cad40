#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# The crash case: SIGKILL faultline mid-fault; `recover --all` must leave nothing behind.

load '../lib/common'

setup() {
	require_root
	fl_setup
}
teardown() { fl_teardown; }

@test "SIGKILL during a lab stop fault; recover --all undoes everything" {
	cat > crash.yaml <<'Y'
version: 1
name: crash
lab:
  hosts:
    a: { run: [redis-server, --port, "7100", --save, "", --appendonly, "no"], restart: always, ready: { tcp: 7100 } }
    b: { run: [sleep, "600"] }
steady_state: { baseline: 200ms }
faults:
  - { name: pause, kind: stop, on: a, target: { name: redis-server }, at: 0s, for: 120s }
Y
	"$FL" run --out out crash.yaml &
	pid=$!
	wait_for 'grep -qs "\"state\": \"active\"" "$FAULTLINE_STATE_DIR"/runs/*/fault-*.json' 15
	id="$(ls "$FAULTLINE_STATE_DIR/runs")"
	target=$(python3 -c 'import json,glob; print(json.load(open(glob.glob("'"$FAULTLINE_STATE_DIR"'/runs/*/fault-*.json")[0]))["objects"][0]["pid"])')
	[ "$(proc_state $target)" = T ]
	lab_pids="$(for ns in $(ip netns list | awk '{print $1}' | grep "^fl-$id-"); do ip netns pids $ns; done)"
	[ -n "$lab_pids" ]

	kill -KILL "$pid"
	wait "$pid" || true

	# the dead run is visible as such
	run "$FL" status
	assert_output --partial "DEAD"
	assert_output --partial "faultline recover $id"

	run "$FL" recover --all
	assert_success
	assert_output --partial "recovered $id"

	# nothing left: no namespace, no lab process, no stopped process, nothing active
	run ip netns list
	refute_output --partial "fl-$id-"
	for p in $lab_pids; do
		[ "$(proc_state $p)" = gone ]
	done
	run "$FL" status
	assert_output --partial "nothing active"
	# and again: idempotent
	run "$FL" recover --all
	assert_success
	assert_output --partial "nothing to recover"
}

@test "recover continues a process a dead inject left stopped, and only that" {
	start_target fl-left-stopped
	cp /bin/sleep "$BATS_TEST_TMPDIR/fl-bystander"
	"$BATS_TEST_TMPDIR/fl-bystander" 300 & bystander=$!
	FL_PIDS+=("$bystander")
	kill -STOP "$bystander"   # stopped by someone else: not ours to continue
	"$FL" inject stop --name fl-left-stopped --for 120s &
	inj=$!
	wait_for '[ "$(proc_state $TARGET)" = T ]' 5
	kill -KILL "$inj"
	wait "$inj" || true
	[ "$(proc_state $TARGET)" = T ]
	run "$FL" recover --all
	assert_success
	[ "$(proc_state $TARGET)" = S ]
	[ "$(proc_state $bystander)" = T ]
}

@test "recover with an unknown id, or without arguments" {
	run "$FL" recover 0123456789ab
	assert_failure 2
	assert_output --partial "no run '0123456789ab'"
	run "$FL" recover
	assert_failure 2
	assert_output --partial "give a run id, RUN_ID/FAULT, or --all"
	run "$FL" recover ../etc
	assert_failure 2
}

@test "the lease holds without us: SIGKILL and no recover, the stop ends at its lease" {
	start_target fl-lease-me
	# lease = the fault's end + 30s grace; keep the fault short so the test stays quick
	"$FL" inject stop --name fl-lease-me --for 1s &
	inj=$!
	wait_for '[ "$(proc_state $TARGET)" = T ]' 5
	guard=$(python3 -c 'import json,glob; print(json.load(open(glob.glob("'"$FAULTLINE_STATE_DIR"'/runs/*/run.json")[0]))["guard"])')
	kill -KILL "$inj"
	wait "$inj" || true
	[ "$(proc_state $TARGET)" = T ]
	run "$FL" status
	assert_output --partial "DEAD"
	# nobody runs recover: the guard continues the process when the lease (1s + 30s) ends
	wait_for '[ "$(proc_state $TARGET)" = S ]' 40
	wait_for '"$FL" status | grep -q "nothing active"' 5
	# and the guard is gone (a zombie until PID 1 reaps it counts as gone)
	wait_for '[ "$(proc_state $guard)" = gone ] || [ "$(proc_state $guard)" = Z ]' 5
}

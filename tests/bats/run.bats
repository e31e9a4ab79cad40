#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# `faultline run`: the quickstart end to end, dry runs, aborts, and the revert path.

load '../lib/common'

setup() {
	require_root
	fl_setup
}
teardown() { fl_teardown; }

no_lab_left() {
	! ip netns list | grep -q "^fl-"  || {
		# only namespaces of this test's runs count
		for id in $(ls "$FAULTLINE_STATE_DIR/runs" 2>/dev/null); do
			ip netns list | grep -q "^fl-$id-" && return 1
		done
		return 0
	}
}

@test "the quickstart runs end to end, detects the kill and recovers" {
	run "$FL" run --out out "$FL_ROOT/scenarios/examples/quickstart.yaml"
	assert_success
	assert_output --partial ": passed"
	assert_output --partial "[pass] recovery: redis-port"
	python3 - out/result.json <<'P'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["schema"] == "faultline.result/1"
assert r["verdict"] == "passed" and r["exit_code"] == 0
assert r["seed"] == 42
p = r["probes"][0]
assert p["name"] == "redis-port"
# measured, not asserted: the kill was seen and recovery happened within the window
assert p["detected"] is True and 0 <= p["time_to_detect_s"] < 1.0, p.get("time_to_detect_s")
assert p["recovered"] is True and 0 < p["time_to_recover_s"] < 5.0
assert p["phases"]["baseline"]["availability"] == 1.0
assert p["phases"]["faults"]["availability"] < 1.0
f = r["faults"][0]
assert f["kind"] == "kill" and f["backend"] == "pidfd"
ev = [e for e in f["events"] if e["event"] == "applied"][0]
assert ev["injected"]["signal"] == "SIGKILL" and len(ev["injected"]["signalled"]) == 1
assert len(p["samples"]) > 30
assert all(set(s) == {"t", "latency_ms", "ok", "reason"} for s in p["samples"])
P
	no_lab_left
	run "$FL" status
	assert_output --partial "nothing active"
}

@test "--dry-run prints the plan and touches nothing" {
	before="$(ip netns list | wc -l)"
	run "$FL" run --dry-run "$FL_ROOT/scenarios/examples/quickstart.yaml"
	assert_success
	assert_output --partial "plan for 'quickstart' (seed 42)"
	assert_output --partial "kill-redis"
	assert_output --partial "SIGKILL to name 'redis-server' on cache"
	[ "$(ip netns list | wc -l)" = "$before" ]
	[ ! -d "$FAULTLINE_STATE_DIR/runs" ] || [ -z "$(ls "$FAULTLINE_STATE_DIR/runs")" ]
	run "$FL" run --dry-run --json "$FL_ROOT/scenarios/examples/quickstart.yaml"
	echo "$output" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["faults"][0]["name"] == "kill-redis"'
}

@test "an unhealthy baseline aborts with 4 before any fault" {
	cat > s.yaml <<'Y'
version: 1
name: unhealthy
lab:
  hosts:
    a: { run: [sleep, "300"] }
steady_state:
  baseline: 500ms
  probes:
    - { name: nothing-listens, tcp: { host: a, port: 9 }, every: 100ms, timeout: 200ms }
faults:
  - { name: k, kind: kill, on: a, target: { name: sleep }, at: 0s, for: 1s }
Y
	run "$FL" run --out out s.yaml
	assert_failure 4
	assert_output --partial "unhealthy baseline: probe 'nothing-listens'"
	python3 -c '
import json
r = json.load(open("out/result.json"))
assert r["verdict"] == "aborted"
assert r["faults"][0]["applications"] == 0'
	no_lab_left
}

@test "a stop condition reverts everything and exits 4" {
	cat > s.yaml <<'Y'
version: 1
name: stopcond
lab:
  hosts:
    a: { run: [redis-server, --port, "7000", --save, "", --appendonly, "no"], ready: { tcp: 7000 } }
steady_state:
  baseline: 500ms
  probes:
    - { name: redis, exec: [redis-cli, -h, a, -p, "7000", ping], every: 100ms, timeout: 300ms }
faults:
  - { name: pause, kind: stop, on: a, target: { name: redis-server }, at: 0s, for: 30s }
stop_when:
  - { probe: redis, failing_for: 1s }
Y
	start=$(date +%s)
	run "$FL" run --out out s.yaml
	assert_failure 4
	assert_output --partial "stop condition: probe 'redis' failing for 1s"
	[ $(( $(date +%s) - start )) -lt 20 ]
	python3 -c '
import json
r = json.load(open("out/result.json"))
f = r["faults"][0]
assert [e["event"] for e in f["events"]] == ["applied", "reverted"], f["events"]'
	no_lab_left
}

@test "an expectation that fails exits 1 (the CI gate)" {
	cat > s.yaml <<'Y'
version: 1
name: norestart
lab:
  hosts:
    a: { run: [redis-server, --port, "7001", --save, "", --appendonly, "no"], restart: "no", ready: { tcp: 7001 } }
steady_state:
  baseline: 500ms
  probes:
    - { name: port, tcp: { host: a, port: 7001 }, every: 100ms, timeout: 200ms }
faults:
  - { name: k, kind: kill, on: a, target: { name: redis-server }, at: 200ms, for: 200ms }
recovery: { within: 1s, healthy_for: 500ms }
Y
	run "$FL" run --out out s.yaml
	assert_failure 1
	assert_output --partial "[FAIL] recovery: port"
	assert_output --partial "did not recover"
	no_lab_left
}

@test "SIGTERM during the fault phase reverts a stopped process and exits 4" {
	cat > s.yaml <<'Y'
version: 1
name: sigterm
lab:
  hosts:
    a: { run: [sleep, "300"] }
steady_state: { baseline: 200ms }
faults:
  - { name: pause, kind: stop, on: a, target: { name: sleep }, at: 0s, for: 60s }
Y
	"$FL" run --out out s.yaml &
	pid=$!
	wait_for '"$FL" status --json | grep -q "\"state\": \"active\""' 10
	wait_for 'grep -q "\"state\": \"active\"" "$FAULTLINE_STATE_DIR"/runs/*/fault-*.json' 10
	target=$(python3 -c 'import json,glob; print(json.load(open(glob.glob("'"$FAULTLINE_STATE_DIR"'/runs/*/fault-*.json")[0]))["objects"][0]["pid"])')
	[ "$(proc_state $target)" = T ]
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	[ "$st" -eq 4 ]
	[ "$(proc_state $target)" = gone ]
	no_lab_left
	run "$FL" status
	assert_output --partial "nothing active"
}

@test "a lab target that matches nothing fails preflight with 3 and removes the lab" {
	cat > s.yaml <<'Y'
version: 1
name: nomatch
lab:
  hosts:
    a: { run: [sleep, "300"] }
faults:
  - { name: k, kind: kill, on: a, target: { name: nginx }, for: 1s }
Y
	run "$FL" run --out out s.yaml
	assert_failure 3
	assert_output --partial "preflight: fault 'k': no process matches name 'nginx' in lab host 'a'"
	no_lab_left
}

@test "an invalid scenario exits 2 and touches nothing" {
	printf 'version: 1\nname: t\nfaults:\n  - { kind: kill, target: { pid: 1 }, for: 1s }\n' > bad.yaml
	run "$FL" run bad.yaml
	assert_failure 2
	assert_output --partial "bad.yaml:4:"
	assert_output --partial "refusing to target PID 1"
	[ ! -d "$FAULTLINE_STATE_DIR/runs" ] || [ -z "$(ls "$FAULTLINE_STATE_DIR/runs")" ]
}

@test "an error-rate stop condition aborts within its window and leaves nothing" {
	cat > s.yaml <<'Y'
version: 1
name: errrate
lab:
  hosts:
    a: { run: [redis-server, --port, "7200", --save, "", --appendonly, "no"], ready: { tcp: 7200 } }
steady_state:
  baseline: 500ms
  probes:
    - { name: redis, exec: [redis-cli, -h, a, -p, "7200", ping], every: 100ms, timeout: 300ms }
faults:
  - { name: pause, kind: stop, on: a, target: { name: redis-server }, at: 0s, for: 30s }
stop_when:
  - { probe: redis, error_rate: "> 50%", window: 2s }
Y
	start=$(date +%s%N)
	run "$FL" run --out out s.yaml
	assert_failure 4
	assert_output --regexp "stop condition: probe 'redis' error rate [0-9.]+% > 50% over the last 2s"
	# aborted well inside the fault's 30s: the window plus a timeout or two
	[ $(( ($(date +%s%N) - start) / 1000000 )) -lt 8000 ]
	python3 -c '
import json
r = json.load(open("out/result.json"))
assert r["verdict"] == "aborted" and "error rate" in r["reason"]
assert [e["event"] for e in r["faults"][0]["events"]] == ["applied", "reverted"]'
	no_lab_left
}

@test "a latency expectation during the faults phase that fails exits 1 with the numbers" {
	cat > s.yaml <<'Y'
version: 1
name: latexp
lab:
  hosts:
    a: { run: [redis-server, --port, "7300", --save, "", --appendonly, "no"], ready: { tcp: 7300 } }
steady_state:
  baseline: 500ms
  probes:
    - name: redis
      exec: [redis-cli, -h, a, -p, "7300", ping]
      every: 100ms
      timeout: 2s
      expect:
        faults: { latency_max: "<= 50ms" }
faults:
  - { name: pause, kind: stop, on: a, target: { name: redis-server }, at: 100ms, for: 600ms }
recovery: { within: 3s, healthy_for: 300ms }
Y
	run "$FL" run --out out s.yaml
	assert_failure 1
	assert_output --partial "[FAIL] faults: redis latency max <= 0.05s"
	python3 -c '
import json
r = json.load(open("out/result.json"))
e = [e for e in r["expectations"] if e["id"] == "redis.faults.latency_max"][0]
assert e["ok"] is False and e["observed"] > 0.3, e
assert r["probes"][0]["phases"]["faults"]["latency"]["max"] > 0.3'
	no_lab_left
}

@test "recovery is measured from the latest end of any fault (a stop, then a later kill)" {
	cat > s.yaml <<'Y'
version: 1
name: mixed
lab:
  hosts:
    a: { run: [redis-server, --port, "7400", --save, "", --appendonly, "no"], restart: always, restart_delay: 200ms, ready: { tcp: 7400 } }
steady_state:
  baseline: 300ms
  probes:
    - { name: port, tcp: { host: a, port: 7400 }, every: 50ms, timeout: 200ms }
faults:
  - { name: pause, kind: stop, on: a, target: { name: redis-server }, at: 0s, for: 300ms }
  - { name: kill, kind: kill, on: a, target: { name: redis-server }, at: 600ms, for: 1s }
recovery: { within: 5s, healthy_for: 300ms }
Y
	run "$FL" run --out out s.yaml
	assert_success
	python3 -c '
import json
r = json.load(open("out/result.json"))
ph = r["phases"]
kill = [e for e in r["faults"][1]["events"] if e["event"] == "applied"][0]["t"]
stop_rev = [e for e in r["faults"][0]["events"] if e["event"] == "reverted"][0]["t"]
assert stop_rev < kill, (stop_rev, kill)
# the reference is the kill (the later end), not the stop revert and not the window end
assert abs(ph["recovery_reference_s"] - kill) < 1e-6, (ph, kill)
assert ph["faults_end_s"] > kill + 0.9
p = r["probes"][0]
assert p["recovered"] and 0.2 <= p["time_to_recover_s"] < 2.0, p["time_to_recover_s"]'
	no_lab_left
}

#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Fleets: a scenario's remote hosts are lab hosts running a real sshd (Debian's openssh-server)
# or `faultline agent --listen` with test certificates; selectors choose among them with the
# seed, the fan-out applies and reverts on the chosen ones, and host failures follow the policy.

load '../lib/common'
load '../lib/ssh-helpers'

setup() {
	require_root
	command -v "$SSHD" >/dev/null || skip "openssh-server is not installed (tests/lib/deps.sh)"
	fl_setup
}
teardown() { fl_teardown; }

# The id of the run this test started: the one with a lab switch (fl-ID-sw); the agents in
# the lab hosts journal their own runs in the same state directory.
run_id() {
	local id
	for id in $(ls "$FAULTLINE_STATE_DIR/runs" 2>/dev/null); do
		ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "fl-$id-sw" && echo "$id" &&
			return 0
	done
	true
}

# Run the scenario in the background; while it runs, record which hosts carry the fault (as
# seen in their network namespaces) and check it is gone again before the lab goes down.
# Sets SEEN (every host seen with the fault), MOST (most hosts seen with it at once), GONE (1
# when it was gone from all of them while the lab was still up) and RC.
run_and_watch() {
	local f="$1" id="" seen="" now pid
	"$FL" run --out out "$f" >run.out 2>run.err &
	pid=$!
	FL_PIDS+=("$pid")
	GONE=0
	MOST=0
	for _ in $(seq 400); do
		[ -n "$id" ] || id="$(run_id)"
		if [ -n "$id" ]; then
			now="$(hosts_with_fault "$id")"
			if [ -n "$now" ]; then
				seen="$(printf '%s\n%s\n' "$seen" "$now" | grep . | sort -uV)"
				[ "$(wc -l <<<"$now")" -le "$MOST" ] || MOST="$(wc -l <<<"$now")"
			fi
			if [ -n "$seen" ] && [ -z "$now" ] &&
				ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "fl-$id-h1"; then
				GONE=1
				break
			fi
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	RC=0
	wait "$pid" || RC=$?
	SEEN="$(echo $seen)"
	cat run.out run.err
}

# fleet_scenario plus a probe that keeps the recovery phase (and so the lab) up for 1.5s after
# the revert, so the test can see the fault gone from the hosts while they still exist.
with_probe() {
	local port="$1"
	sed -i "s|^steady_state: .*|steady_state:\n  baseline: 200ms\n  probes:\n    - { name: h1, tcp: { host: h1, port: $port }, every: 100ms }|" "$2"
	sed -i 's|^recovery: .*|recovery: { within: 5s, healthy_for: 1500ms }|' "$2"
}

check_result() {
	# check_result TRANSPORT EXPECTED_HOSTS(space separated)
	python3 - out/result.json "$1" "$2" <<'P'
import json, sys
r = json.load(open(sys.argv[1]))
tr, want = sys.argv[2], sys.argv[3].split()
f = r["faults"][0]
assert r["verdict"] == "passed", r.get("reason")
assert f["on"] == "30% of group web", f["on"]
hosts = f["hosts"]
assert [h["host"] for h in hosts] == want, (hosts, want)
for h in hosts:
    assert h["transport"] == tr
    assert h["state"] == "reverted", h
    assert h["fault_id"] and h["applied"]["fault_id"] == h["fault_id"]
    assert 0 < h["apply_s"] < 5 and 0 < h["revert_s"] < 5
    assert h["reverted"].get("reverted") is True, h["reverted"]
ev = [e["event"] for e in f["events"]]
assert ev[0] == "applied" and "reverted" in ev, ev
P
}

# 30% of a group of 10 lab hosts over TRANSPORT (its daemon on PORT): the plan names 3 hosts,
# exactly those carry the fault during the run (all 3 at once), it is gone before the lab goes
# down, and the result has each host reverted.
thirty_percent() {
	local tr="$1" port="$2"
	fleet_scenario s.yaml "$tr" 10
	with_probe "$port" s.yaml
	run "$FL" run --dry-run --json s.yaml
	assert_success
	plan="$(jq -r '.faults[0].hosts | join(" ")' <<<"$output")"
	[ "$(wc -w <<<"$plan")" -eq 3 ]
	run_and_watch s.yaml
	[ "$RC" -eq 0 ]
	echo "seen: $SEEN (at most $MOST at once), plan: $plan"
	[ "$SEEN" = "$plan" ]
	[ "$MOST" -eq 3 ]
	[ "$GONE" -eq 1 ]
	check_result "$tr" "$plan"
}

@test "30% of a group over ssh: exactly the seeded hosts get the fault, all reverted" {
	ssh_material ssh
	thirty_percent ssh 22
	grep -q "Remote hosts" out/report.md
	[ "$(grep -c 'on host' out/junit.xml)" -eq 3 ]
}

@test "30% of a group over agents with mutual TLS: the same hosts, applied and reverted" {
	agent_material pki 10
	thirty_percent agent "$AGENT_PORT"
}

@test "a probe from a remote host runs through its agent" {
	agent_material pki 2
	fleet_scenario s.yaml agent 2 "" abort "{ group: web, count: 1 }"
	with_probe "$AGENT_PORT" s.yaml
	# h1's agent connects to h2 (resolved in the lab) and to a port nobody listens on
	sed -i "s|^  probes:|  probes:\n    - { name: from-h1, from: h1, tcp: { host: h2, port: $AGENT_PORT }, every: 100ms }\n    - { name: closed, from: h1, tcp: { host: h2, port: 9 }, every: 200ms, expect: { success_rate: 0 } }|" s.yaml
	run "$FL" run --out out s.yaml
	# the closed port never recovers: the CI gate fails on it, and only on it
	[ "$status" -eq 1 ]
	assert_output --partial "[FAIL] recovery: closed"
	refute_output --partial "[FAIL] recovery: from-h1"
	python3 - out/result.json <<'P'
import json, sys
r = json.load(open(sys.argv[1]))
p = {x["name"]: x for x in r["probes"]}
ok = p["from-h1"]["samples"]
assert len(ok) > 10 and all(s["ok"] for s in ok), ok[:3]
assert ok[0]["reason"].startswith("connected from h1"), ok[0]
bad = p["closed"]["samples"]
assert bad and not any(s["ok"] for s in bad), bad[:3]
assert "refused" in bad[0]["reason"], bad[0]
P
}

@test "an agent that is down: skipped and reported with on_host_failure: skip" {
	agent_material pki 4
	fleet_scenario s.yaml agent 4 h2 skip "{ group: web }"
	run_and_watch s.yaml
	[ "$RC" -eq 0 ]
	[ "$SEEN" = "h1 h3 h4" ]
	python3 - out/result.json <<'P'
import json, sys
r = json.load(open(sys.argv[1]))
hs = {h["host"]: h for h in r["faults"][0]["hosts"]}
assert hs["h2"]["state"] == "skipped" and hs["h2"]["error"], hs["h2"]
assert all(hs[h]["state"] == "reverted" for h in ("h1", "h3", "h4")), hs
ev = r["faults"][0]["events"][0]
assert ev["event"] == "applied" and ev["hosts_applied"] == 3 and ev["hosts_skipped"] == 1, ev
P
	grep -q '<testcase name="fault drop-udp on host h2: skipped"' out/junit.xml
	# per-host test cases keep junit.xml valid for CI reporters
	xmllint --noout --schema "$FL_ROOT/tests/golden/junit.xsd" out/junit.xml
	xmllint --noout --schema "$FL_ROOT/tests/golden/junit-ant.xsd" out/junit.xml
	grep -q "Remote hosts" out/report.html
}

@test "an agent that is down aborts the run with on_host_failure: abort, the others reverted" {
	agent_material pki 4
	fleet_scenario s.yaml agent 4 h2 abort "{ group: web }"
	run_and_watch s.yaml
	[ "$RC" -eq 4 ]
	grep -q "apply failed on 1 of 4 hosts: host 'h2'" run.err
	python3 - out/result.json <<'P'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["verdict"] == "aborted"
hs = {h["host"]: h for h in r["faults"][0]["hosts"]}
assert hs["h2"]["state"] == "failed", hs["h2"]
assert all(hs[h]["state"] == "reverted" for h in ("h1", "h3", "h4")), hs
P
	grep -q '<failure message="failed: 198.18.0.11:7443: connect: ' out/junit.xml
	xmllint --noout --schema "$FL_ROOT/tests/golden/junit-ant.xsd" out/junit.xml
}

@test "SIGTERM while the fault is on remote hosts: reverted on every host, exit 4" {
	ssh_material ssh
	fleet_scenario s.yaml ssh 6 "" abort "{ group: web }"
	sed -i 's|^    for: 4s|    for: 60s|' s.yaml
	"$FL" run --out out s.yaml >run.out 2>run.err &
	pid=$!
	FL_PIDS+=("$pid")
	# as soon as the first host carries it (the fan-out may still be going on)
	wait_for '[ -n "$(run_id)" ] && [ -n "$(hosts_with_fault "$(run_id)")" ]' 30
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 4 ]
	python3 - out/result.json <<'P'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["verdict"] == "aborted" and r["reason"] == "interrupted by SIGTERM", r["reason"]
hs = r["faults"][0]["hosts"]
assert len(hs) == 6 and all(h["state"] == "reverted" for h in hs), [(h["host"], h["state"]) for h in hs]
P
}

@test "bad hosts: and on: input: file:line:col, exit 2, nothing started" {
	cat >bad.yaml <<'Y'
version: 1
name: bad
hosts:
  - { name: a, address: 192.0.2.1, groups: [web], transport: ssh }
  - { name: b, address: -oProxyCommand=x, transport: { agent: { port: 7443 } } }
fanout: { on_host_failure: maybe }
faults:
  - { kind: loss, dev: eth0, percent: 1, for: 1s, on: { group: wbe, percent: 30 } }
Y
	before="$(ip netns list 2>/dev/null | wc -l)"
	run "$FL" run bad.yaml
	[ "$status" -eq 2 ]
	assert_output --partial "bad.yaml:5:25: invalid address '-oProxyCommand=x'"
	assert_output --partial "bad.yaml:5:63: 'agent' needs 'ca'"
	assert_output --partial "bad.yaml:6:28: 'on_host_failure' must be 'abort' or 'skip', got 'maybe'"
	assert_output --partial "bad.yaml:8:64: no host is in group 'wbe' (did you mean 'web'?)"
	[ "$(ip netns list 2>/dev/null | wc -l)" = "$before" ]
}

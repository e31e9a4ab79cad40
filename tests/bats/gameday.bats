#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# `faultline gameday` and `faultline schedule`: a day of two lab experiments with an operator
# pause, notes and webhooks; the kill switch (stop command and fleet stop file) measured; the
# window; bad plans; the iCalendar file; systemd units; the scheduler's timerfd.

load '../lib/common'

setup() {
	require_root
	fl_setup
	HOOK_PID=
}

teardown() {
	[ -z "$HOOK_PID" ] || kill "$HOOK_PID" 2>/dev/null || true
	"$FL" gameday stop --grace 5s >/dev/null 2>&1 || true
	fl_teardown
}

# A webhook receiver on loopback: /ok answers 200, /flaky 500 twice then 200; each body is
# appended to hooks-PATH.jsonl. Its port in $HOOK_PORT.
start_hooks() {
	cat > hooks.py <<'P'
import http.server, sys
fails = {"/flaky": 2}
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        assert self.headers.get("Content-Type") == "application/json"
        if fails.get(self.path, 0) > 0:
            fails[self.path] -= 1
            self.send_response(500); self.end_headers(); return
        with open("hooks-%s.jsonl" % self.path.strip("/"), "ab") as f:
            f.write(body + b"\n")
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open("hook.port", "w").write(str(s.server_port))
s.serve_forever()
P
	python3 hooks.py &
	HOOK_PID=$!
	wait_for '[ -s hook.port ]' 5
	HOOK_PORT="$(cat hook.port)"
}

day_state() {
	"$FL" gameday status --json 2>/dev/null | python3 -c \
		'import json,sys; d=json.load(sys.stdin); print(d.get("state", "none"))'
}

@test "a day: two lab experiments, an operator pause released by 'gameday continue', notes, webhooks" {
	start_hooks
	cat > plan.yaml <<Y
version: 1
name: practice
description: two redis kills with a look at the dashboards between them
notify:
  - { url: "http://127.0.0.1:${HOOK_PORT}/ok" }
  - { url: "http://127.0.0.1:${HOOK_PORT}/flaky", format: slack, events: [start, end] }
experiments:
  - name: first-kill
    scenario: ${FL_ROOT}/scenarios/examples/quickstart.yaml
    baseline: 1s
  - wait_for: operator
    name: look
    message: check the dashboards, then continue
  - name: second-kill
    scenario: ${FL_ROOT}/scenarios/examples/quickstart.yaml
    baseline: 1s
    seed: 7
Y
	"$FL" gameday plan.yaml --out day > day.out 2> day.err < /dev/null &
	FL_PIDS+=($!)
	day=$!
	wait_for '[ "$(day_state)" = paused ]' 60 || { cat day.err; false; }
	run "$FL" gameday continue --state-dir "$FAULTLINE_STATE_DIR" --json
	assert_success
	run "$FL" gameday note "first kill: redis back in under a second"
	assert_success
	# a pause is not released twice
	run "$FL" gameday note "during the second kill"
	assert_success
	wait "$day" || { cat day.err; false; }
	[ -f day/gameday.json ]
	python3 - <<'P'
import json
d = json.load(open("day/gameday.json"))
assert d["schema"] == "faultline.gameday/1" and d["status"] == "passed" and d["exit_code"] == 0
ex = d["experiments"]
assert [e["name"] for e in ex] == ["first-kill", "second-kill"], ex
for e in ex:
    r = e["result"]
    assert e["status"] == "passed" and r["verdict"] == "passed", e
    p = r["probes"][0]
    assert p["detected"] and p["recovered"], p
    # the plan's baseline override (the scenario says 2s)
    assert abs(r["phases"]["faults_start_s"] - 1.0) < 0.2, r["phases"]
assert ex[0]["result"]["seed"] == 42 and ex[1]["result"]["seed"] == 7
ev = [(t["event"], t.get("subject")) for t in d["timeline"]]
i = ev.index(("paused", "look")); j = ev.index(("resumed", "look"))
assert ev.index(("verdict", "first-kill")) < i < j < ev.index(("experiment started", "second-kill"))
res = [t for t in d["timeline"] if t["event"] == "resumed"][0]
assert "gameday continue" in res["details"]
assert [n["text"] for n in d["notes"]] == ["first kill: redis back in under a second",
                                         "during the second kill"]
times = [t["unix_ms"] for t in d["timeline"]]
assert times == sorted(times)
P
	xmllint --noout day/gameday.xml
	[ "$(xmllint --xpath 'count(/testsuites/testsuite)' day/gameday.xml)" = 2 ]
	grep -q '^## Experiment first-kill' day/gameday.md
	grep -q 'first kill: redis back in under a second' day/gameday.md
	grep -q '<h2>Timeline</h2>' day/gameday.html
	grep -q 'srcdoc=' day/gameday.html
	# webhooks: the JSON one got start, both verdicts, end, in order
	python3 - <<'P'
import json
ev = [json.loads(l) for l in open("hooks-ok.jsonl")]
assert [e["event"] for e in ev] == ["start", "verdict", "verdict", "end"], ev
assert [e.get("experiment") for e in ev[1:3]] == ["first-kill", "second-kill"]
assert ev[1]["verdict"] == "passed" and ev[3]["status"] == "passed"
# the flaky one failed twice (HTTP 500), was retried with backoff, and got its messages
sl = [json.loads(l) for l in open("hooks-flaky.jsonl")]
assert len(sl) == 2 and all(set(m) == {"text"} for m in sl), sl
assert "practice" in sl[0]["text"] and "ended: passed" in sl[1]["text"]
P
	grep -q 'webhook http://127.0.0.1:[0-9]*/flaky: HTTP status 500; retrying in 0.5s' day.err
	run "$FL" gameday status
	assert_output "no game day is running"
	run "$FL" status
	assert_output --partial "nothing active"
}

# freeze.yaml: a scenario without a lab that stops this test's process $TARGET (named $1)
# for $2 (the fault is gone when the process runs again).
freeze_scenario() {
	cat > freeze.yaml <<Y
version: 1
name: freeze
steady_state:
  baseline: 300ms
  probes:
    - { name: alive, exec: [kill, "-0", "$TARGET"], every: 200ms }
faults:
  - { name: freeze, kind: stop, target: { name: $1 }, at: 0s, for: $2 }
recovery:
  within: 2s
Y
}

# A day whose first experiment freezes a process of this test with a 60 s stop fault (no lab:
# the fault is gone when the process runs again). Returns once it is frozen; the day's pid in $day.
frozen_day() {
	start_target gdvictim
	freeze_scenario gdvictim 60s
	cat > plan.yaml <<Y
version: 1
name: killswitch
stop_file: ${BATS_TEST_TMPDIR}/fleet-stop
experiments:
  - scenario: freeze.yaml
  - { name: never, scenario: freeze.yaml }
Y
	"$FL" gameday plan.yaml --out day > day.out 2> day.err < /dev/null &
	FL_PIDS+=($!)
	day=$!
	wait_for '[ "$(proc_state $TARGET)" = T ]' 30 || { cat day.err; false; }
}

@test "the kill switch: 'gameday stop' reverts a 60 s fault in under a second and halts the day" {
	frozen_day
	# one day at a time; a running (not paused) day cannot be continued
	run "$FL" gameday plan.yaml --out day2
	assert_failure 4
	assert_output --partial "game day 'killswitch' is already running (pid $day)"
	run "$FL" gameday continue
	assert_failure 2
	assert_output --partial "the day 'killswitch' is not paused (it is running 'freeze')"
	t0=$(date +%s%N)
	"$FL" gameday stop --json > stop.json &
	stopper=$!
	wait_for '[ "$(proc_state $TARGET)" != T ]' 5
	t1=$(date +%s%N)
	ms=$(( (t1 - t0) / 1000000 ))
	echo "# kill switch: the 60 s fault was gone ${ms} ms after 'gameday stop'" >&3
	[ "$ms" -lt 1000 ]
	[ "$(proc_state $TARGET)" = S ]
	wait "$day" && false || [ $? -eq 4 ]
	wait "$stopper"
	python3 - <<'P'
import json
s = json.load(open("stop.json"))
assert s["stopped"] and s["ended_after_ms"] < 5000, s
d = json.load(open("day/gameday.json"))
assert d["status"] == "stopped" and d["exit_code"] == 4, d["status"]
assert d["reason"] == "stopped by 'faultline gameday stop'"
e = d["experiments"]
assert e[0]["status"] == "aborted" and "SIGTERM" in e[0]["reason"]
assert e[1]["status"] == "not-run" and e[1]["name"] == "never"
assert "result" not in e[1]
P
	grep -q 'skipped message="stopped by' day/gameday.xml
	# the target lives on: only the fault was undone
	kill -0 "$TARGET"
}

@test "the fleet's stop file halts a running day, and no day starts while it exists" {
	frozen_day
	t0=$(date +%s%N)
	touch fleet-stop
	wait_for '[ "$(proc_state $TARGET)" != T ]' 5
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	echo "# stop file: the fault was gone ${ms} ms after the file appeared" >&3
	[ "$ms" -lt 1000 ]
	wait "$day" && false || [ $? -eq 4 ]
	grep -q "stopped by the stop file ${BATS_TEST_TMPDIR}/fleet-stop" day.out
	run "$FL" gameday plan.yaml --out day2
	assert_failure 4
	assert_output --partial "the stop file ${BATS_TEST_TMPDIR}/fleet-stop exists"
	[ ! -e day2 ]
}

@test "a window that is closed now refuses to start: exit 4, nothing started" {
	# tomorrow's weekday in UTC: today is never in the window
	day="$(LC_ALL=C date -u -d tomorrow +%a | tr 'A-Z' 'a-z')"
	cat > plan.yaml <<Y
version: 1
name: windowed
window: { days: ${day}, from: "00:00", to: "24:00", tz: UTC }
experiments:
  - { scenario: ${FL_ROOT}/scenarios/examples/quickstart.yaml }
Y
	before="$(ip netns list | wc -l)"
	run "$FL" gameday plan.yaml --out day
	assert_failure 4
	assert_output --partial "the window (${day} 00:00-24:00 UTC) is closed now; it opens"
	assert_output --partial "Nothing was started."
	[ ! -e day ]
	[ "$(ip netns list | wc -l)" = "$before" ]
	[ ! -d "$FAULTLINE_STATE_DIR/runs" ] || [ -z "$(ls "$FAULTLINE_STATE_DIR/runs")" ]
}

@test "bad plans: every problem as file:line:col, exit 2, nothing started" {
	printf 'version: 1\nname: bad\nfoo: 1\n' > s.yaml
	cat > plan.yaml <<'Y'
version: 1
name: bad
windw: {}
schedule: { cron: "30 25 * * *", tz: Europe/Berlinn }
guards: { stop_on: [faild] }
notify:
  - { url: "ftp://x" }
experiments:
  - { scenario: missing.yaml }
  - { scenario: s.yaml, baseline: 5 }
  - { wait_for: operater, seed: 3 }
Y
	run "$FL" gameday plan.yaml
	assert_failure 2
	assert_line "plan.yaml:3:1: unknown key 'windw' in the plan; did you mean 'window'?"
	assert_line "plan.yaml:4:23: invalid cron expression '30 25 * * *': hour field at column 4: 25 is out of range 0-23"
	assert_line --partial "plan.yaml:4:38: unknown time zone 'Europe/Berlinn'"
	assert_line "plan.yaml:5:21: unknown verdict 'faild' in 'stop_on'; did you mean 'failed'?"
	assert_line "plan.yaml:7:12: 'url' must be an http:// or https:// URL, got 'ftp://x'"
	assert_line --partial "plan.yaml:9:17: scenario 'missing.yaml' not found"
	assert_line --partial "s.yaml:3:1: unknown key 'foo'"
	assert_line "plan.yaml:10:17: scenario 's.yaml' is invalid (1 problem above)"
	assert_line "plan.yaml:11:17: 'wait_for' must be 'operator', got 'operater'"
	assert_line "plan.yaml:11:33: 'seed' belongs to an experiment, not to a pause (wait_for)"
	printf 'version: 1\nname: ok\nexperiments:\n  - { name: a, scenario: %s, baseline: 2x }\n' \
		"$FL_ROOT/scenarios/examples/quickstart.yaml" > p2.yaml
	run "$FL" gameday p2.yaml
	assert_failure 2
	assert_output --partial "p2.yaml:4:"
	assert_output --partial "'baseline' must be a duration from 0s to 1h (like 500ms, 10s, 2m), got '2x'"
	printf 'version: 1\nname: ok\nexperiments:\n  - { name: a, scenario: %s }\n' \
		"$FL_ROOT/scenarios/examples/quickstart.yaml" > p3.yaml
	run "$FL" gameday p3.yaml --only b
	assert_failure 2
	assert_output --partial "--only: no experiment 'b' in the plan (did you mean 'a'?)"
	run "$FL" gameday p3.yaml --from zz
	assert_failure 2
	[ ! -d "$FAULTLINE_STATE_DIR/gameday" ]
}

@test "calendar: an RFC 5545 file a strict parser accepts" {
	cat > plan.yaml <<Y
version: 1
name: weekly-chaos
description: "Kill redis; then partition, ok? Notes: a;b,c\\\\d"
schedule: { cron: "30 2 * * sun", tz: Europe/Berlin }
experiments:
  - { name: kill-one-with-a-rather-long-name-to-force-folding-of-lines, scenario: ${FL_ROOT}/scenarios/examples/quickstart.yaml }
  - { wait_for: operator, message: "Überprüfe die Dashboards — then continue" }
Y
	run "$FL" gameday calendar plan.yaml -o day.ics --count 30
	assert_success
	/usr/bin/python3 - <<'P'
import re, icalendar, datetime
raw = open("day.ics", "rb").read()
# strict checks RFC 5545 asks for and lenient parsers forgive
assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
for line in raw.split(b"\r\n")[:-1]:
    assert len(line) <= 75, (len(line), line)
    line.decode("utf-8")  # folding never splits a UTF-8 sequence
cal = icalendar.Calendar.from_ical(raw)
assert cal["VERSION"] == "2.0" and cal["PRODID"].startswith("-//faultline//")
ev = cal.walk("VEVENT")
assert len(ev) == 30
uids = set()
for e in ev:
    for k in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"):
        assert k in e, k
    uids.add(str(e["UID"]))
    s, t = e["DTSTART"].dt, e["DTEND"].dt
    assert s.tzinfo is not None and s.utcoffset() == datetime.timedelta(0) and t > s
    assert str(e["SUMMARY"]) == "Game day: weekly-chaos"
    d = str(e["DESCRIPTION"])
    assert "Kill redis; then partition, ok? Notes: a;b,c\\d" in d, d
    assert "Überprüfe die Dashboards — then continue" in d
assert len(uids) == 30
# Sundays 02:30 Berlin; 28 March 2027 has no 02:30: it runs at 03:00 CEST (01:00Z)
starts = [e["DTSTART"].dt for e in ev]
assert all(s.astimezone(datetime.timezone(datetime.timedelta(hours=1))).weekday() == 6
           for s in starts)
sp = [s for s in starts if s.date() == datetime.date(2027, 3, 28)]
assert sp and sp[0].strftime("%H:%M") == "01:00", sp
P
	grep -q 'DESCRIPTION:.*Kill redis\\; then partition\\, ok?' day.ics
}

@test "schedule install: units systemd-analyze verifies, OnCalendar= elapsing when faultline says" {
	command -v systemd-analyze >/dev/null || skip "no systemd-analyze"
	cat > plan.yaml <<Y
version: 1
name: nightly
schedule: { cron: "*/20 1-3 13 * fri", tz: America/New_York }
experiments:
  - { scenario: ${FL_ROOT}/scenarios/examples/quickstart.yaml }
Y
	run "$FL" schedule install plan.yaml --dir units
	assert_success
	assert_output --partial "OnCalendar=*-*-13 1..3:0,20,40:00 America/New_York"
	assert_output --partial "OnCalendar=Fri *-*-* 1..3:0,20,40:00 America/New_York"
	run systemd-analyze verify units/faultline-gameday-nightly.timer \
		units/faultline-gameday-nightly.service
	assert_success
	grep -q "^ExecStart=\"$(readlink -f "$FL")\" gameday \"$(readlink -f plan.yaml)\"$" \
		units/faultline-gameday-nightly.service
	# systemd's next elapses of both lines, merged, are faultline's next run times
	run "$FL" schedule next plan.yaml --count 12 --json
	assert_success
	echo "$output" > ours.json
	for i in 1 2; do
		spec="$(grep '^OnCalendar=' units/faultline-gameday-nightly.timer | sed -n ${i}p | cut -d= -f2-)"
		TZ=UTC systemd-analyze calendar --iterations=12 "$spec" | \
			sed -n 's/.*\(Next elapse\|Iter\. #[0-9]*\): ... \([0-9-]* [0-9:]*\) UTC/\2/p'
	done | sort -u | head -12 > theirs.txt
	python3 -c '
import json
ours = [t["utc"].replace("T", " ").rstrip("Z") for t in json.load(open("ours.json"))]
theirs = open("theirs.txt").read().split("\n")[:-1]
assert ours == theirs, (ours, theirs)'
	run "$FL" schedule install p-none.yaml --dir units
	assert_failure 2
	printf 'version: 1\nname: x\nexperiments:\n  - { scenario: %s }\n' \
		"$FL_ROOT/scenarios/examples/quickstart.yaml" > nosched.yaml
	run "$FL" schedule install nosched.yaml --dir units
	assert_failure 2
	assert_output --partial "the plan has no 'schedule:'"
}

@test "schedule run sleeps on an absolute CLOCK_REALTIME timerfd, and SIGTERM ends it" {
	cat > plan.yaml <<Y
version: 1
name: hourly
schedule: { cron: "@hourly" }
experiments:
  - { scenario: ${FL_ROOT}/scenarios/examples/quickstart.yaml }
Y
	"$FL" schedule run plan.yaml > sched.out 2> sched.err &
	pid=$!
	FL_PIDS+=($pid)
	wait_for "grep -q 'next run at' sched.err" 5
	next="$(date -u -d "$(date -u +%Y-%m-%dT%H:00:00Z) + 1 hour" +%s)"
	found=
	for fd in /proc/$pid/fd/*; do
		[ "$(readlink "$fd")" = "anon_inode:[timerfd]" ] || continue
		info="/proc/$pid/fdinfo/${fd##*/}"
		# clockid 0 = CLOCK_REALTIME; flags 3 = TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET
		grep -q '^clockid: 0$' "$info" && grep -q '^settime flags: 0*3$' "$info" && found=1
	done
	[ -n "$found" ]
	# asleep, not polling: no CPU time used over a second
	t0="$(awk '{print $14 + $15}' /proc/$pid/stat)"
	sleep 1
	[ "$(awk '{print $14 + $15}' /proc/$pid/stat)" -eq "$t0" ]
	kill -TERM "$pid"
	wait "$pid"
	grep -q "$(date -u -d @"$next" +%Y-%m-%dT%H:%M:%S)" sched.err
}

@test "schedule run fires at the next minute, runs the day as a child, records it" {
	start_target gdsched
	freeze_scenario gdsched 500ms
	cat > plan.yaml <<Y
version: 1
name: minutely
schedule: { cron: "* * * * *", tz: UTC }
experiments:
  - { scenario: freeze.yaml }
Y
	# waits for the next minute: up to 60 s
	run timeout 90 "$FL" schedule run plan.yaml --max-runs 1 --out runs
	assert_success
	echo "$output" | grep '^{' > records.jsonl
	python3 - >&3 <<'P'
import json, datetime, glob
rec = [json.loads(l) for l in open("records.jsonl")]
assert [r["event"] for r in rec] == ["started", "ended"], rec
due = datetime.datetime.fromisoformat(rec[0]["due"].replace("Z", "+00:00"))
at = datetime.datetime.fromisoformat(rec[0]["at"].replace("Z", "+00:00"))
assert due.second == 0 and due.microsecond == 0
late = (at - due).total_seconds()
print("# timer fired %.0f ms after the due minute" % (late * 1000))
assert 0 <= late < 1.0, late
assert rec[1]["exit_code"] == 0 and rec[1]["due"] == rec[0]["due"]
day = glob.glob("runs/minutely-*/gameday.json")
assert len(day) == 1, day
d = json.load(open(day[0]))
assert d["status"] == "passed" and d["experiments"][0]["status"] == "passed"
assert len(open("state/gameday/schedule-minutely.jsonl").readlines()) == 2
P
}

@test "guards stop the day after an abort; on_failure: continue, --from and --only run part of it" {
	start_target gdguard
	freeze_scenario gdguard 300ms
	cat > sick.yaml <<'Y'
version: 1
name: sick
steady_state:
  baseline: 300ms
  probes:
    - { name: never-healthy, exec: ["false"], every: 100ms }
faults:
  - { name: k, kind: stop, target: { name: gdguard }, at: 0s, for: 1s }
Y
	cat > plan.yaml <<'Y'
version: 1
name: guarded
experiments:
  - { name: sick, scenario: sick.yaml }
  - { name: fine, scenario: freeze.yaml }
  - { name: also-fine, scenario: freeze.yaml }
Y
	run "$FL" gameday plan.yaml --out a
	assert_failure 4
	python3 -c '
import json
d = json.load(open("a/gameday.json"))
assert d["status"] == "aborted" and d["reason"] == "guard: '"'"'sick'"'"' aborted", d["reason"]
assert [(e["name"], e["status"]) for e in d["experiments"]] == \
	[("sick", "aborted"), ("fine", "not-run"), ("also-fine", "not-run")]'
	sed -i 's/{ name: sick, scenario: sick.yaml }/{ name: sick, scenario: sick.yaml, on_failure: continue }/' plan.yaml
	run "$FL" gameday plan.yaml --out b
	assert_failure 4
	python3 -c '
import json
d = json.load(open("b/gameday.json"))
assert [(e["name"], e["status"]) for e in d["experiments"]] == \
	[("sick", "aborted"), ("fine", "passed"), ("also-fine", "passed")]'
	run "$FL" gameday plan.yaml --from fine --out c
	assert_success
	run "$FL" gameday plan.yaml --only also-fine --out d
	assert_success
	python3 -c '
import json
for out, want in (("c", ["fine", "also-fine"]), ("d", ["also-fine"])):
    d = json.load(open(out + "/gameday.json"))
    assert [e["name"] for e in d["experiments"]] == want and d["status"] == "passed"'
}

@test "an operator pause is released by Enter on the day's terminal" {
	start_target gdtty
	freeze_scenario gdtty 300ms
	cat > plan.yaml <<'Y'
version: 1
name: at-the-terminal
experiments:
  - { wait_for: operator, message: press enter when ready }
  - { scenario: freeze.yaml }
Y
	# the day on a pseudo-terminal, as an operator would run it
	python3 - "$FL" <<'P'
import os, pty, subprocess, sys, time, select
m, s = pty.openpty()
p = subprocess.Popen([sys.argv[1], "gameday", "plan.yaml", "--out", "day"],
                     stdin=s, stdout=s, stderr=s, close_fds=True)
os.close(s)
out, deadline, sent = b"", time.time() + 60, False
while p.poll() is None and time.time() < deadline:
    if select.select([m], [], [], 0.1)[0]:
        try:
            out += os.read(m, 4096)
        except OSError:
            break
    if not sent and b"press Enter here" in out:
        os.write(m, b"\n")
        sent = True
p.wait(timeout=30)
print(out.decode(errors="replace"))
assert sent and p.returncode == 0, p.returncode
P
	python3 -c '
import json
d = json.load(open("day/gameday.json"))
r = [t for t in d["timeline"] if t["event"] == "resumed"][0]
assert r["details"] == "by Enter on the terminal", r
assert d["experiments"][0]["status"] == "passed"'
}

@test "'gameday stop' during an operator pause ends the day; nothing after it starts" {
	cat > plan.yaml <<Y
version: 1
name: paused-stop
experiments:
  - { wait_for: operator }
  - { scenario: ${FL_ROOT}/scenarios/examples/quickstart.yaml }
Y
	"$FL" gameday plan.yaml --out day > day.out 2> day.err < /dev/null &
	FL_PIDS+=($!)
	day=$!
	wait_for '[ "$(day_state)" = paused ]' 30 || { cat day.err; false; }
	run "$FL" gameday stop
	assert_success
	wait "$day" && false || [ $? -eq 4 ]
	python3 -c '
import json
d = json.load(open("day/gameday.json"))
assert d["status"] == "stopped" and [e["status"] for e in d["experiments"]] == ["not-run"]
assert not any(t["event"] == "resumed" for t in d["timeline"])'
	[ ! -d "$FAULTLINE_STATE_DIR/runs" ] || [ -z "$(ls "$FAULTLINE_STATE_DIR/runs")" ]
}

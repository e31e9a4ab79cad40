#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Reports: what `run` writes next to result.json, `faultline report`, JUnit against the XSDs,
# the HTML page in headless Chromium, and the CI gate's exit codes with their JUnit records.

load '../lib/common'
load '../lib/browser'

GOLDEN="${FL_ROOT}/tests/golden"
XSD="${GOLDEN}/junit.xsd"	  # Jenkins xunit junit-10 (what Jenkins and GitLab read)
XSD_ANT="${GOLDEN}/junit-ant.xsd" # the stricter Ant/windyroad schema

# One quickstart run, shared by the tests that only read what it wrote.
setup_file() {
	[ "$(id -u)" -eq 0 ] || return 0
	export QS="${BATS_FILE_TMPDIR}/qs"
	export FAULTLINE_STATE_DIR="${BATS_FILE_TMPDIR}/state"
	mkdir -p "$QS" "$FAULTLINE_STATE_DIR"
	cd "$QS"
	local st=0
	"$FL" run "$FL_ROOT/scenarios/examples/quickstart.yaml" --out out --junit ci/junit.xml \
		>run.out 2>run.err || st=$?
	echo "$st" >run.status
}

teardown_file() {
	[ "$(id -u)" -eq 0 ] || return 0
	FL_PIDS=()
	fl_teardown
}

setup() { fl_setup; }
teardown() { [ "$(id -u)" -ne 0 ] || fl_teardown; }

require_quickstart() {
	require_root
	[ "$(cat "$QS/run.status")" -eq 0 ] || {
		cat "$QS/run.out" "$QS/run.err"
		return 1
	}
}

require_xmllint() {
	command -v xmllint >/dev/null || skip "xmllint not installed (tests/lib/deps.sh installs it)"
}

validates() {
	run xmllint --schema "$XSD" --noout "$1"
	assert_success
	assert_output --partial "$1 validates"
	run xmllint --schema "$XSD_ANT" --noout "$1"
	assert_success
	assert_output --partial "$1 validates"
}

@test "run writes result.json, junit.xml, report.md and report.html; --junit a copy" {
	require_quickstart
	for f in result.json junit.xml report.md report.html; do
		[ -s "$QS/out/$f" ] || { echo "missing out/$f"; false; }
	done
	cmp "$QS/out/junit.xml" "$QS/ci/junit.xml"
	grep -qx "report: out/report.html" "$QS/run.out"
	grep -q '^## ✅ faultline: quickstart passed$' "$QS/out/report.md"
	grep -q '^| ✅ pass | recovery: redis-port ' "$QS/out/report.md"
	# time to detect and to recover, measured, in the summary table
	grep -Eq '^\| `redis-port` \| tcp \| `cache:6379` from `client` \| [0-9.]+ s \| [0-9.]+ s \|' \
		"$QS/out/report.md"
	grep -q '<testsuite name="quickstart" tests="2" failures="0" errors="0"' "$QS/out/junit.xml"
}

@test "junit.xml validates against the JUnit XSDs, which do reject a broken file" {
	require_quickstart
	require_xmllint
	validates "$QS/out/junit.xml"
	[ "$(grep -c '<testcase ' "$QS/out/junit.xml")" -eq 2 ]
	grep -q 'classname="faultline.quickstart.redis-port"' "$QS/out/junit.xml"
	# the schemas are not vacuous: a testcase without a name, a suite without a hostname
	sed 's/<testcase name="[^"]*"/<testcase/' "$QS/out/junit.xml" >noname.xml
	run xmllint --schema "$XSD" --noout noname.xml
	assert_failure
	sed 's/ hostname="[^"]*"//' "$QS/out/junit.xml" >nohost.xml
	run xmllint --schema "$XSD_ANT" --noout nohost.xml
	assert_failure
}

@test "faultline report renders every format byte for byte as run wrote it" {
	require_quickstart
	run "$FL" report "$QS/out/result.json" --format html -o again.html
	assert_success
	cmp again.html "$QS/out/report.html"
	"$FL" report "$QS/out/result.json" --format md >again.md
	cmp again.md "$QS/out/report.md"
	"$FL" report "$QS/out/result.json" --format junit >again.xml
	cmp again.xml "$QS/out/junit.xml"
	# -o's extension picks the format
	"$FL" report "$QS/out/result.json" -o guessed.xml
	cmp guessed.xml "$QS/out/junit.xml"
	# json: the same document (result.json has no final newline, stdout has one)
	[ "$("$FL" report "$QS/out/result.json" --format json)" = "$(cat "$QS/out/result.json")" ]
}

@test "the HTML report renders in headless Chromium: screenshot, SVG chart, no console errors" {
	require_quickstart
	require_chromium
	build_pngstat
	local start=$SECONDS
	browser_render "$QS/out/report.html" b
	[ $((SECONDS - start)) -lt 15 ]
	# a real picture: large, many colours, and the chart's own colours are on screen (the
	# passed verdict, healthy samples, the failed samples of the kill)
	[ "$(stat -c %s b/shot.png)" -gt 20000 ]
	run "$PNGSTAT" b/shot.png 1a7f37 2da44e cf222e
	assert_success
	read -r w h colours <<<"${lines[0]}"
	[ "$w" -eq 1200 ]
	[ "$h" -eq 900 ]
	[ "$colours" -gt 200 ]
	# the chart, as the browser parsed it: latency line, fault window, phases, marks, strip
	grep -q '<svg class="chart"' b/dom.html
	for cls in ln pt win ph det rec sok sbad ev; do
		grep -q "class=\"$cls\"" b/dom.html || { echo "no .$cls in the chart"; false; }
	done
	grep -q 'detected +[0-9.]* s</text>' b/dom.html
	grep -q 'recovered +[0-9.]* s</text>' b/dom.html
	[ ! -s b/console.log ] || { cat b/console.log; false; }
}

@test "the console check sees a page's errors (so a clean log means something)" {
	require_chromium
	printf '<!DOCTYPE html><title>x</title><p>x</p><script>undefinedFn()</script>\n' >bad.html
	browser_render bad.html b
	grep -q 'Uncaught ReferenceError: undefinedFn is not defined' b/console.log
}

@test "hostile names stay text in the browser: no element made of them, no console error" {
	require_chromium
	"$FL" report "$GOLDEN/special.json" --format html -o special.html
	browser_render special.html b
	[ ! -s b/console.log ] || { cat b/console.log; false; }
	# the names carry <script> and <b>; in the parsed DOM they are text, never elements
	run grep -c '<script\|<b>' b/dom.html
	assert_output 0
	grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;' b/dom.html
	[ "$(grep -c '<svg class="chart"' b/dom.html)" -eq 3 ]
}

@test "an expectation that fails exits 1 and junit.xml has a <failure> with the numbers" {
	require_root
	require_xmllint
	cat >s.yaml <<'Y'
version: 1
name: norestart
lab:
  hosts:
    a: { run: [redis-server, --port, "7011", --save, "", --appendonly, "no"], restart: "no", ready: { tcp: 7011 } }
steady_state:
  baseline: 500ms
  probes:
    - { name: port, tcp: { host: a, port: 7011 }, every: 100ms, timeout: 200ms }
faults:
  - { name: k, kind: kill, on: a, target: { name: redis-server }, at: 200ms, for: 200ms }
recovery: { within: 1s, healthy_for: 500ms }
Y
	run "$FL" run s.yaml --out out --junit junit.xml
	assert_failure 1
	validates out/junit.xml
	cmp out/junit.xml junit.xml
	grep -q '<testsuite name="norestart" tests="2" failures="1" errors="0"' junit.xml
	grep -q '<testcase name="recovery: port healthy for 500ms within 1s" classname="faultline.norestart.port" time="[0-9.]*">' junit.xml
	grep -q '<failure message="[^"]*did not recover[^"]*" type="expectation">' junit.xml
	grep -q '^expected: recovered_within &lt;= 1 s$' junit.xml
	grep -q '^expectation: port.recovery.recovered_within$' junit.xml
	grep -q '^## ❌ faultline: norestart failed$' out/report.md
	grep -q '^| ❌ \*\*FAIL\*\* | recovery: port healthy for 500ms within 1s |' out/report.md
	grep -q '<tr class="fail">' out/report.html
}

@test "an aborted run exits 4 and junit.xml has an <error> with the reason" {
	require_root
	require_xmllint
	cat >s.yaml <<'Y'
version: 1
name: stopcond
lab:
  hosts:
    a: { run: [redis-server, --port, "7010", --save, "", --appendonly, "no"], ready: { tcp: 7010 } }
steady_state:
  baseline: 500ms
  probes:
    - { name: redis, exec: [redis-cli, -h, a, -p, "7010", ping], every: 100ms, timeout: 300ms }
faults:
  - { name: pause, kind: stop, on: a, target: { name: redis-server }, at: 0s, for: 30s }
stop_when:
  - { probe: redis, failing_for: 1s }
Y
	run "$FL" run s.yaml --out out
	assert_failure 4
	validates out/junit.xml
	# (a slow machine may also fail the baseline expectation: the abort is what counts here)
	grep -q '<testsuite name="stopcond" tests="[0-9]*" failures="[01]" errors="1"' out/junit.xml ||
		{ cat out/junit.xml; false; }
	grep -q '<testcase name="run" classname="faultline.stopcond"' out/junit.xml
	grep -q '<error message="stop condition: probe &#39;redis&#39; failing for 1s[^"]*" type="aborted">' out/junit.xml
	grep -q '^> \*\*Reason:\*\* stop condition: probe' out/report.md
	grep -q '<header class="aborted">' out/report.html
	# the stop fault's window: applied and reverted, both in the timeline
	grep -q '`pause` applied | injected: signal: SIGSTOP' out/report.md
	grep -q '`pause` reverted' out/report.md
}

@test "--format chooses the reports, --junit makes its directory, a bad format runs nothing" {
	require_root
	start_target fl-rep-target
	cat >s.yaml <<Y
version: 1
name: formats
steady_state: { baseline: 100ms }
faults:
  - { name: pause, kind: stop, target: { pid: $TARGET }, for: 200ms }
Y
	run "$FL" run s.yaml --out a --format md,html
	assert_success
	[ -f a/result.json ]
	[ -f a/report.md ]
	[ -f a/report.html ]
	[ ! -e a/junit.xml ]
	run "$FL" run s.yaml --out b --format json --junit ci/deep/junit.xml
	assert_success
	[ -f b/result.json ]
	[ ! -e b/report.md ]
	[ ! -e b/report.html ]
	[ ! -e b/junit.xml ]
	[ -s ci/deep/junit.xml ]
	if command -v xmllint >/dev/null; then validates ci/deep/junit.xml; fi
	runs_before="$(ls "$FAULTLINE_STATE_DIR/runs" 2>/dev/null | wc -l)"
	run "$FL" run s.yaml --out c --format md,pdf
	assert_failure 2
	assert_output --partial "unknown report format 'pdf' in --format"
	[ ! -e c ]
	[ "$(ls "$FAULTLINE_STATE_DIR/runs" 2>/dev/null | wc -l)" = "$runs_before" ]
}

@test "faultline report: bad input exits 2 with a clear message" {
	run "$FL" report
	assert_failure 2
	assert_output --partial "give one result file"
	run "$FL" report nope.json
	assert_failure 2
	assert_output --partial "cannot read 'nope.json': No such file or directory"
	printf '{"schema": ' >trunc.json
	run "$FL" report trunc.json
	assert_failure 2
	assert_output --regexp "trunc.json:1:[0-9]+: not valid JSON"
	echo '{"name": "x"}' >other.json
	run "$FL" report other.json
	assert_failure 2
	assert_output --partial "'other.json': not a faultline result"
	echo '{"schema": "faultline.result/2"}' >newer.json
	run "$FL" report newer.json
	assert_failure 2
	assert_output --partial "unsupported result schema 'faultline.result/2'"
	run "$FL" report .
	assert_failure 2
	assert_output --partial "is a directory"
	run "$FL" report "$GOLDEN/passed.json" --format pdf
	assert_failure 2
	assert_output --partial "unknown format 'pdf'"
	run "$FL" report "$GOLDEN/passed.json" -o summary.txt
	assert_failure 2
	assert_output --partial "cannot tell the format from 'summary.txt'"
	[ ! -e summary.txt ]
	run "$FL" report "$GOLDEN/passed.json" -o /nonexistent/dir/r.html
	assert_failure 5
	assert_output --partial "cannot write '/nonexistent/dir/r.html'"
}

@test "faultline report renders the golden results as the unit tests expect, also from stdin" {
	for c in passed failed aborted special legacy minimal; do
		"$FL" report "$GOLDEN/$c.json" --format junit | cmp - "$GOLDEN/$c.xml"
		"$FL" report "$GOLDEN/$c.json" --format md | cmp - "$GOLDEN/$c.md"
		"$FL" report "$GOLDEN/$c.json" --format html | cmp - "$GOLDEN/$c.html"
	done
	"$FL" report - --format html <"$GOLDEN/failed.json" | cmp - "$GOLDEN/failed.html"
	if command -v xmllint >/dev/null; then
		for c in passed failed aborted special legacy minimal; do
			validates "$GOLDEN/$c.xml"
		done
	fi
}

@test "credentials redacted in the result stay redacted in every report" {
	for f in html md junit; do
		"$FL" report "$GOLDEN/special.json" --format "$f" >"out.$f"
		# nothing beyond what the writers know: no stray sample or probe fields
		run grep -c CANARY "out.$f"
		assert_output 0
		# a URL's user info is only ever the probe's "***"
		run bash -c "grep -oE '://[^/@ ]*@' 'out.$f' | grep -vcE '^://\\*\\*\\*@$'"
		assert_output 0
	done
	grep -qF 'http://***@web/health?a=1&amp;b=&lt;2&gt;' out.html
	grep -qF '`http://***@web/health?a=1&b=<2>`' out.md
	grep -qF 'https://***@prometheus:9090/' out.md
	grep -qF 'redis-server --requirepass ***' out.html
}

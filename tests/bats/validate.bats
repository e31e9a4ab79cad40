#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# `faultline validate`: good files, and every kind of bad input with file:line:col.

load '../lib/common'

setup() { fl_setup; }

@test "the shipped examples are valid" {
	run "$FL" validate "$FL_ROOT"/scenarios/examples/*.yaml
	assert_success
	assert_output --partial "quickstart.yaml: ok (2 lab hosts, 1 probes, 1 faults)"
}

@test "validate works without root and touches nothing" {
	# as nobody: no privilege to touch anything, and no journal is written
	chmod 755 "$BATS_TEST_TMPDIR"
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$FL" validate "$FL_ROOT/scenarios/examples/quickstart.yaml"
	assert_success
	assert_output --partial "quickstart.yaml: ok"
	[ ! -e "$FAULTLINE_STATE_DIR/runs" ]
}

@test "an empty file" {
	: > empty.yaml
	run "$FL" validate empty.yaml
	assert_failure 2
	assert_output "empty.yaml:1:1: empty scenario: expected a mapping with 'version: 1'"
}

@test "a file that is not YAML" {
	printf 'version: 1\nname: [unclosed\n' > bad.yaml
	run "$FL" validate bad.yaml
	assert_failure 2
	assert_output --regexp '^bad\.yaml:[0-9]+:[0-9]+: invalid YAML: '
}

@test "a missing file" {
	run "$FL" validate /nonexistent/x.yaml
	assert_failure 2
	assert_output --partial "/nonexistent/x.yaml"
	assert_output --partial "No such file or directory"
}

@test "wrong types, negative and huge durations, unknown kind: all errors at once" {
	cat > many.yaml <<'Y'
version: 1
name: many
steady_state:
  probes: "x"
faults:
  - name: a
    kind: kil
    target: { name: x }
    for: -1s
  - name: b
    kind: stop
    target: { name: x }
    for: 25h
Y
	run "$FL" validate many.yaml
	assert_failure 2
	assert_line --index 0 --regexp "^many\.yaml:4:[0-9]+: .*expected a sequence"
	assert_output --partial "many.yaml:7:11: unknown fault kind 'kil' (did you mean 'kill'?)"
	assert_output --regexp "many.yaml:9:[0-9]+: 'for' cannot be negative"
	assert_output --regexp "many.yaml:13:[0-9]+: 'for' must be at most 24h"
	[ "${#lines[@]}" -eq 4 ]
}

@test "unknown keys get a did-you-mean" {
	printf 'version: 1\nname: t\nfualts: []\n' > typo.yaml
	run "$FL" validate typo.yaml
	assert_failure 2
	assert_output "typo.yaml:3:1: unknown key 'fualts' (did you mean 'faults'?)"
}

@test "an invalid lab host name" {
	printf 'version: 1\nname: t\nlab:\n  hosts:\n    Web_1: {}\n' > host.yaml
	run "$FL" validate host.yaml
	assert_failure 2
	assert_output --regexp "^host\.yaml:5:5: invalid lab host name 'Web_1'"
}

@test "a kind of the design that is not implemented yet" {
	printf 'version: 1\nname: t\nfaults:\n  - { kind: io-latency, for: 1s }\n' > lat.yaml
	run "$FL" validate lat.yaml
	assert_failure 2
	assert_output --partial "fault kind 'io-latency' is not implemented yet (implemented: kill, stop, latency, loss, corrupt, duplicate, reorder, partition, bandwidth, disk-error)"
}

@test "--json reports every file" {
	: > empty.yaml
	run "$FL" validate --json "$FL_ROOT/scenarios/examples/quickstart.yaml" empty.yaml
	assert_failure 2
	echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d[0]["ok"] is True and d[0]["errors"] == []
assert d[1]["ok"] is False and "empty scenario" in d[1]["errors"][0]'
}

#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# The command table: help, version, typos, exit codes for usage errors.

load '../lib/common'

setup() { fl_setup; }

@test "no arguments prints usage and exits 2" {
	run "$FL"
	assert_failure 2
	assert_output --partial "Usage: faultline"
}

@test "--help lists every command" {
	run "$FL" --help
	assert_success
	for c in run validate inject exec status recover doctor lab report version; do
		assert_output --partial "  $c "
	done
}

@test "--version and version agree" {
	run "$FL" --version
	assert_success
	assert_output --regexp '^faultline [0-9]+\.[0-9]+\.[0-9]+$'
	v="$output"
	run "$FL" version
	assert_success
	assert_output --partial "$v"
	run "$FL" version --json
	assert_success
	echo "$output" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["version"]'
}

@test "every subcommand has --help with examples" {
	for c in run validate inject exec status recover doctor lab report version; do
		run "$FL" "$c" --help
		assert_success
		assert_output --partial "Usage: faultline $c"
		assert_output --partial "Example"
	done
}

@test "a typo gets a did-you-mean and exit 2" {
	run "$FL" rnu x.yaml
	assert_failure 2
	assert_output --partial "'rnu' is not a faultline command. Did you mean 'run'?"
	run "$FL" stauts
	assert_failure 2
	assert_output --partial "Did you mean 'status'?"
	run "$FL" frobnicate
	assert_failure 2
	refute_output --partial "Did you mean"
}

@test "prefixes are not commands" {
	run "$FL" val x.yaml
	assert_failure 2
	assert_output --partial "'val' is not a faultline command"
}

@test "unknown options are usage errors" {
	run "$FL" run --bogus x.yaml
	assert_failure 2
	assert_output --partial "unknown or incomplete option '--bogus'"
	run "$FL" status extra
	assert_failure 2
	assert_output --partial "unexpected argument 'extra'"
	run "$FL" status --state-dir
	assert_failure 2
	assert_output --partial "--state-dir needs a directory"
}

#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# `make install`: binary, man page and bash completion under PREFIX and DESTDIR.

load '../lib/common'

setup() { fl_setup; }

@test "make install honours PREFIX and DESTDIR" {
	run make -C "$FL_ROOT" install DESTDIR="$BATS_TEST_TMPDIR/root" PREFIX=/opt/fl
	assert_success
	d="$BATS_TEST_TMPDIR/root/opt/fl"
	[ -x "$d/bin/faultline" ]
	[ -f "$d/share/man/man1/faultline.1" ]
	[ -f "$d/share/bash-completion/completions/faultline" ]
	run "$d/bin/faultline" --version
	assert_success
	assert_output --regexp '^faultline [0-9.]+$'
	# the completion script is valid bash and defines its function
	run bash -c "_init_completion() { return 0; }; complete() { :; }; source '$d/share/bash-completion/completions/faultline' && declare -F _faultline"
	assert_success
	# the man page renders without warnings
	if command -v groff >/dev/null; then
		run sh -c "groff -man -Tutf8 -ww '$d/share/man/man1/faultline.1' 2>&1 >/dev/null"
		assert_success
		assert_output ""
	fi
}

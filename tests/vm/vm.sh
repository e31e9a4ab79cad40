#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The guest tier (`make test-vm`): run each guest suite in its own qemu guest, a few at a time.
#
# Usage: tests/vm/vm.sh [SUITE...]
#   SUITE: a path, or a name (doctor for tests/vm/guest/doctor.bats); default: all of guest/
#
# Settings, from the environment (the Makefile passes its variables of the same names):
#   VM_KERNEL_PKG   kernel package name or .deb file (default: what linux-image-amd64 depends on)
#   VM_VMLINUX, VM_MODULES, VM_KCONFIG   or a vmlinux/vmlinuz, its lib/modules/KVER directory and
#                   (optional) its build config, instead of a package
#   VM_JOBS         guests at a time (default: the number of CPUs)
#   VM_TIMEOUT      seconds one guest may take, boot to power-off (default 300)
#   VM_TEST_TIMEOUT seconds one test may take inside a guest (default 120)
#   VM_FILTER       run only the tests whose name matches this regex (bats --filter)
#   VM_APPEND       more kernel command line (e.g. lsm=...); VM_QEMU_OPTS more qemu options
#   VM_MEM          guest memory in MiB (default 1024)
#   VM_FAULTLINE    the binary to test (default build/faultline)
#   VM_CACHE        downloads, kernels, initramfs and logs (default tests/vm/cache)
# Exit status: 0 when every suite passed; 1 otherwise, including a guest that did not boot or
# finish, and a missing qemu.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

LOGS="${VM_CACHE}/logs"

# Suites, the slowest of the last run first, so that a small pool ends sooner.
order_suites() {
	local s w
	for s in "$@"; do
		w="$(awk '{ print $3 }' "${LOGS}/$(basename "$s" .bats)/result" 2>/dev/null)" ||
			true
		[[ "$w" =~ ^[0-9.]+$ ]] || w=
		printf '%s %s\n' "${w:-9999}" "$s"
	done | sort -rn | cut -d' ' -f2-
}

# Count TAP results in a suite's output: "OK FAILED SKIPPED".
tap_counts() {
	awk '/^ok .* # skip/ { s++; next } /^ok / { o++ } /^not ok / { f++ }
		END { printf "%d %d %d\n", o, f, s }' "$1" 2>/dev/null || echo "0 0 0"
}

report() {
	local name="$1" dir="${LOGS}/$1"
	echo "=== ${name}"
	cat "${dir}/stdout"
}

main() {
	local suites=() ordered=() s kdir base start t0 jobs name fail=0 line
	local st boot wall why ok failed skipped tot_ok=0 tot_failed=0 tot_skipped=0
	start="$(vm_now)"
	if [ $# -gt 0 ]; then
		for s in "$@"; do
			case "$s" in
			*/* | *.bats) suites+=("$s") ;;
			*) suites+=("${VM_DIR}/guest/${s}.bats") ;; # a short name: doctor
			esac
		done
	else
		suites=("${VM_DIR}"/guest/*.bats)
	fi
	[ -e "${suites[0]}" ] || vm_die "no guest suites in ${VM_DIR}/guest"
	for s in "${suites[@]}"; do
		[ -r "$s" ] || vm_die "no guest suite '${s}'"
	done
	command -v "${VM_QEMU:-qemu-system-x86_64}" >/dev/null 2>&1 ||
		vm_die "no ${VM_QEMU:-qemu-system-x86_64}: the guest tier cannot run;" \
			"install qemu-system-x86 ('make deps')"
	jobs="${VM_JOBS:-$(nproc)}"
	[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || vm_die "VM_JOBS: '${jobs}' is not a positive number"

	t0="$(vm_now)"
	kdir="$("${VM_DIR}/kernel.sh")"
	vm_msg "kernel $(cat "${kdir}/label") ($(cat "${kdir}/kver")): ready in" \
		"$(vm_elapsed "$t0" "$(vm_now)") s"
	t0="$(vm_now)"
	base="$("${VM_DIR}/initramfs.sh" "$kdir")"
	vm_msg "base initramfs $(($(stat -c %s "$base") / 1048576)) MiB: ready in" \
		"$(vm_elapsed "$t0" "$(vm_now)") s"

	mkdir -p "$LOGS"
	vm_msg "${#suites[@]} guest suite(s), ${jobs} at a time; logs in ${LOGS}"
	mapfile -t ordered < <(order_suites "${suites[@]}")
	for s in "${ordered[@]}"; do
		while [ "${#VM_PIDS[@]}" -ge "$jobs" ]; do
			wait_one
		done
		name="$(basename "$s" .bats)"
		mkdir -p "${LOGS}/${name}"
		rm -f "${LOGS}/${name}"/{result,output.log,console.log}
		"${VM_DIR}/boot.sh" "$kdir" "$base" "$s" "${LOGS}/${name}" \
			>"${LOGS}/${name}/stdout" 2>&1 &
		VM_PIDS+=($!)
		NAME_OF[$!]="$name"
	done
	while [ "${#VM_PIDS[@]}" -gt 0 ]; do
		wait_one
	done

	echo "=== summary: kernel $(cat "${kdir}/kver"), ${jobs} guest(s) at a time"
	for s in "${suites[@]}"; do
		name="$(basename "$s" .bats)"
		read -r st boot wall why <"${LOGS}/${name}/result" ||
			st=125 boot=- wall=- why="no result: see its output above"
		read -r ok failed skipped < <(tap_counts "${LOGS}/${name}/output.log")
		tot_ok=$((tot_ok + ok))
		tot_failed=$((tot_failed + failed))
		tot_skipped=$((tot_skipped + skipped))
		if [ "$st" = 0 ] && [ $((ok + failed + skipped)) -eq 0 ] && [ -z "${VM_FILTER:-}" ]; then
			line="FAIL"
			why="it ran no test"
			st=125
			fail=1
		elif [ "$st" = 0 ]; then
			line="pass"
		else
			line="FAIL"
			fail=1
		fi
		printf '  %-16s %s  %2d ok, %d failed, %d skipped  boot %5s s  total %5s s' \
			"${name}.bats" "$line" "$ok" "$failed" "$skipped" "$boot" "$wall"
		if [ "$st" = 125 ]; then printf '  (%s)' "$why"; fi
		printf '\n'
	done
	vm_msg "$([ "$fail" = 0 ] && echo passed || echo FAILED): ${tot_ok} ok," \
		"${tot_failed} failed, ${tot_skipped} skipped," \
		"in $(vm_elapsed "$start" "$(vm_now)") s"
	exit "$fail"
}

# Wait for one guest to finish and show its output.
declare -A NAME_OF=()
wait_one() {
	local pid='' i rest=()
	wait -n -p pid "${VM_PIDS[@]}" || true
	[ -n "$pid" ] || return 0
	for i in "${VM_PIDS[@]}"; do
		[ "$i" = "$pid" ] || rest+=("$i")
	done
	VM_PIDS=("${rest[@]}")
	report "${NAME_OF[$pid]}"
}

# main exits itself: called in a condition, its errors would not stop it (set -e)
main "$@"

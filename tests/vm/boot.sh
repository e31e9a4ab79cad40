#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Boot one guest under qemu TCG to run one bats suite; print its output and exit with its status.
#
# Usage: boot.sh KERNEL_DIR BASE_INITRAMFS SUITE.bats [LOG_DIR]
# The guest's initramfs is BASE plus a small archive of this run: the faultline binary, the guest
# suites and their helpers, the example scenarios, and /fl/test.conf naming SUITE. LOG_DIR (a
# temporary directory when not given) receives console.log (the kernel's), output.log (the
# suite's) and result ("STATUS BOOT_S WALL_S WHY": seconds from kernel start to the suite's start,
# and in all; why the guest failed, or -).
# Exit status: the suite's; 125 when the guest did not boot, did not finish or has no qemu.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KDIR="${1:?usage: boot.sh KERNEL_DIR BASE SUITE.bats [LOG_DIR]}"
BASE="${2:?usage: boot.sh KERNEL_DIR BASE SUITE.bats [LOG_DIR]}"
SUITE="${3:?usage: boot.sh KERNEL_DIR BASE SUITE.bats [LOG_DIR]}"
LOGS="${4:-}"
FAULTLINE="${VM_FAULTLINE:-${VM_ROOT}/build/faultline}"
TIMEOUT="${VM_TIMEOUT:-300}"
MEM="${VM_MEM:-1024}"
QEMU="${VM_QEMU:-qemu-system-x86_64}"

# Repository paths every guest gets under /fl, next to /fl/faultline.
PAYLOAD=(tests/vm/guest scenarios/examples)

# result STATUS BOOT_S WALL_S WHY: one line for vm.sh's summary.
result() {
	printf '%s %s %s %s\n' "$1" "$2" "$3" "$4" >"${LOGS}/result"
}

# The per-test archive, appended to the base on a 4-byte boundary.
payload() {
	local stage="$1" name="$2" p
	mkdir -p "${stage}/fl"
	cp "$FAULTLINE" "${stage}/fl/faultline"
	for p in "${PAYLOAD[@]}"; do
		mkdir -p "${stage}/fl/$(dirname "$p")"
		cp -r "${VM_ROOT}/${p}" "${stage}/fl/${p}"
	done
	{
		printf 'FL_TEST=%q\n' "tests/vm/guest/${name}"
		printf 'FL_FILTER=%q\n' "${VM_FILTER:-}"
		printf 'FL_TEST_TIMEOUT=%q\n' "${VM_TEST_TIMEOUT:-120}"
	} >"${stage}/fl/test.conf"
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet)
}

# A suite's own kernel command line: its line "# vm-append: ARGS" (disklsm-fmodret: lsm=...).
suite_append() {
	sed -n 's/^# vm-append: //p' "$1" | head -1
}

main() {
	local name tmp start end st why boot wall
	[ -r "$SUITE" ] || vm_die "no guest suite '${SUITE}'"
	name="$(basename "$SUITE")"
	[ "$(cd "$(dirname "$SUITE")" && pwd)" = "${VM_DIR}/guest" ] ||
		vm_die "'${SUITE}': guest suites live in tests/vm/guest/"
	[ -r "${KDIR}/vmlinux" ] || vm_die "no vmlinux in '${KDIR}'"
	[ $(($(stat -c %s "$BASE") % 4)) -eq 0 ] || vm_die "'${BASE}' is not padded to 4 bytes"
	[ -x "$FAULTLINE" ] || vm_die "no faultline binary at '${FAULTLINE}': run 'make' first"
	vm_tmpdir tmp
	if [ -z "$LOGS" ]; then
		LOGS="${tmp}/logs"
	fi
	mkdir -p "$LOGS"
	rm -f "${LOGS}/console.log" "${LOGS}/output.log" "${LOGS}/result"

	if ! command -v "$QEMU" >/dev/null 2>&1; then
		why="no ${QEMU}: install qemu-system-x86 ('make deps')"
		result 125 - 0 "$why"
		vm_msg "${name}: FAILED: ${why}"
		exit 125
	fi

	payload "${tmp}/stage" "$name" >"${tmp}/test.cpio"
	cat "$BASE" "${tmp}/test.cpio" >"${tmp}/initrd"

	start="$(vm_now)"
	st=0
	# in the background: timeout runs in a process group of its own, which a Ctrl-C does not
	# reach, so our exit path must end it (lib.sh), and `wait` lets a signal in.
	# VM_QEMU_OPTS is a list of options: split on purpose
	# shellcheck disable=SC2086
	timeout -k 10 "$TIMEOUT" "$QEMU" -accel tcg -m "$MEM" -nographic -monitor none -nic none \
		-no-reboot -kernel "${KDIR}/vmlinux" -initrd "${tmp}/initrd" \
		-append "console=ttyS0 quiet panic=-1 ${VM_APPEND:-} $(suite_append "$SUITE")" \
		-serial stdio -serial "file:${LOGS}/output.log" ${VM_QEMU_OPTS:-} \
		</dev/null >"${LOGS}/console.log" 2>&1 &
	VM_PIDS=($!)
	wait "${VM_PIDS[0]}" || st=$?
	VM_PIDS=()
	end="$(vm_now)"
	wall="$(vm_elapsed "$start" "$end")"
	touch "${LOGS}/output.log"
	tr -d '\r' <"${LOGS}/output.log" >"${tmp}/out" && mv "${tmp}/out" "${LOGS}/output.log"

	boot="$(sed -n 's/^fl-vm: kernel .* test starts \([0-9.]*\) s after boot$/\1/p' \
		"${LOGS}/output.log" | head -1)"
	why=
	if [ "$st" -eq 124 ] || [ "$st" -eq 137 ]; then
		why="the guest did not finish within ${TIMEOUT}s (VM_TIMEOUT)"
	elif [ "$st" -ne 0 ]; then
		why="${QEMU} failed with exit status ${st}"
	elif [ -z "$boot" ]; then
		why="the guest did not boot to its init (see the console below)"
	elif ! grep -q '^fl-vm: exit status [0-9]*$' "${LOGS}/output.log"; then
		why="the guest stopped without a result (panic or crash? see the console below)"
	fi

	grep -v '^fl-vm: exit status ' "${LOGS}/output.log" || true
	if [ -n "$why" ]; then
		result 125 "${boot:--}" "$wall" "$why"
		echo "--- ${name}: FAILED: ${why}"
		echo "--- ${name}: last lines of the guest's console (${LOGS}/console.log)"
		tr -d '\r' <"${LOGS}/console.log" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g' |
			tail -n 25
		exit 125
	fi
	st="$(sed -n 's/^fl-vm: exit status \([0-9]*\)$/\1/p' "${LOGS}/output.log" | tail -1)"
	result "$st" "$boot" "$wall" "-"
	exit "$st"
}

# main exits itself: called in a condition, its errors would not stop it (set -e)
main "$@"

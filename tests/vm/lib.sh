# SPDX-License-Identifier: GPL-2.0-only
# Shared helpers of the guest-tier scripts (sourced by vm.sh, kernel.sh, initramfs.sh, boot.sh).

VM_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # used by the scripts that source this
VM_ROOT="$(cd "${VM_DIR}/../.." && pwd)"
VM_CACHE="${VM_CACHE:-${VM_DIR}/cache}"

vm_msg() {
	printf 'test-vm: %s\n' "$*" >&2
}

vm_die() {
	printf 'test-vm: error: %s\n' "$*" >&2
	exit 1
}

vm_need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			vm_die "'$c' is not installed: run 'make deps' (tests/lib/deps.sh)"
	done
}

# Temporary files and directories of this process, removed on every exit path, and the child
# processes (qemu under timeout, or guests) still running then, ended.
VM_TMPS=()
VM_PIDS=()
vm_cleanup() {
	local t
	for t in "${VM_PIDS[@]}"; do
		kill -TERM "$t" 2>/dev/null || true
	done
	for t in "${VM_PIDS[@]}"; do
		wait "$t" 2>/dev/null || true
	done
	VM_PIDS=()
	for t in "${VM_TMPS[@]}"; do
		[ -n "$t" ] && rm -rf -- "$t"
	done
	VM_TMPS=()
}
trap vm_cleanup EXIT
# set -e alone exits without a word: name the command that failed
set -E
trap '[ "$BASH_SUBSHELL" -gt 0 ] || vm_msg "error: \"${BASH_COMMAND}\" failed (status $?)" \
	"at ${BASH_SOURCE[0]##*/}:${LINENO}"' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

# vm_tmpdir VAR [PARENT]: a new temporary directory, removed at exit, in VAR.
vm_tmpdir() {
	local parent="${2:-${VM_CACHE}/tmp}" d
	mkdir -p "$parent"
	d="$(mktemp -d "${parent}/tmp.XXXXXX")"
	VM_TMPS+=("$d")
	printf -v "$1" '%s' "$d"
}

# vm_lock NAME: hold an exclusive lock on the cache for the rest of this process, so that two
# runs in one tree do not build the same thing at once.
vm_lock() {
	mkdir -p "${VM_CACHE}"
	exec 9>"${VM_CACHE}/${1}.lock"
	flock 9 || vm_die "cannot lock '${VM_CACHE}/${1}.lock'"
}

vm_unlock() {
	exec 9>&-
}

# Print a short, stable digest of standard input.
vm_digest() {
	sha256sum | cut -c1-16
}

# Seconds since the epoch with milliseconds, and a difference of two such values.
vm_now() {
	date +%s.%N | cut -c1-14
}

vm_elapsed() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'
}

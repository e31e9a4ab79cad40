# SPDX-License-Identifier: GPL-2.0-only
# Shared setup for faultline's bats suites: isolated state, cleanup that runs on failure too.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

FL_ROOT="$(cd "$(dirname "${BATS_TEST_FILENAME}")/../.." && pwd)"
FL="${FL_ROOT}/faultline"

fl_setup() {
	export FAULTLINE_STATE_DIR="${BATS_TEST_TMPDIR}/state"
	mkdir -p "${FAULTLINE_STATE_DIR}"
	cd "${BATS_TEST_TMPDIR}"
	FL_PIDS=()
}

# Undo anything a test left: faultline's own recover first, then a fallback that only touches
# namespaces named after run ids of this test's journal.
fl_teardown() {
	local pid id
	for pid in "${FL_PIDS[@]}"; do
		kill -CONT "$pid" 2>/dev/null || true
		kill -KILL "$pid" 2>/dev/null || true
	done
	"${FL}" recover --all --grace 2s >/dev/null 2>&1 || true
	for id in $(ls "${FAULTLINE_STATE_DIR}/runs" 2>/dev/null); do
		for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^fl-${id}-" || true); do
			ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
			ip netns delete "$ns" 2>/dev/null || true
		done
	done
}

require_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
}

# Start a throwaway process for a test to target; its pid in $TARGET.
start_target() {
	local name="${1:-sleep}"
	# a copy of sleep under a unique name, so no other process on the host matches it
	cp /bin/sleep "${BATS_TEST_TMPDIR}/${name}"
	"${BATS_TEST_TMPDIR}/${name}" 300 &
	TARGET=$!
	FL_PIDS+=("$TARGET")
	for _ in $(seq 100); do
		[ "$(cat /proc/$TARGET/comm 2>/dev/null)" = "${name:0:15}" ] && return 0
		sleep 0.01
	done
	return 1
}

# Process state letter from /proc (R, S, T for stopped, Z...).
proc_state() {
	awk '{print $3}' "/proc/$1/stat" 2>/dev/null || echo gone
}

# Wait (up to $2 seconds) until a command succeeds.
wait_for() {
	local cmd="$1" secs="${2:-10}" i
	for ((i = 0; i < secs * 20; i++)); do
		eval "$cmd" && return 0
		sleep 0.05
	done
	return 1
}

# SPDX-License-Identifier: GPL-2.0-only
# Shared setup of the guest suites: the faultline under test, isolated state, waits, cleanup.
#
# In a guest the repository's payload is under /fl (FL_ROOT, set by the guest's init): the
# faultline binary, tests/vm/guest/ and scenarios/examples/. There is no python3 in the guest:
# read JSON with jq.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

FL_ROOT="${FL_ROOT:-$(cd "$(dirname "${BATS_TEST_FILENAME}")/../../.." && pwd)}"
FL="${FL_ROOT}/faultline"
# the cgroup v2 mount point, from mountinfo (empty without cgroup v2)
CG2="$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)"

fl_setup() {
	[ "$(id -u)" -eq 0 ] || skip "guest suites run as root"
	export FAULTLINE_STATE_DIR="${BATS_TEST_TMPDIR}/state"
	mkdir -p "$FAULTLINE_STATE_DIR"
	cd "$BATS_TEST_TMPDIR" || return 1
	FL_PIDS=()
}

# Undo what a test left, even when it failed half-way: faultline's own recover first, then by
# hand, touching only namespaces and cgroups named after this test's run ids.
fl_teardown() {
	local pid dir id ns
	for pid in "${FL_PIDS[@]}"; do
		kill -CONT "$pid" 2>/dev/null || true
		kill -KILL "$pid" 2>/dev/null || true
	done
	"$FL" recover --all --grace 2s >/dev/null 2>&1 || true
	for dir in "${FAULTLINE_STATE_DIR}"/runs/*/; do
		[ -d "$dir" ] || continue
		id="$(basename "$dir")"
		for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }' | grep "^fl-${id}-"); do
			ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
			ip netns delete "$ns" 2>/dev/null || true
		done
		if [ -n "$CG2" ] && [ -d "${CG2}/faultline/${id}" ]; then
			echo 1 >"${CG2}/faultline/${id}/cgroup.kill" 2>/dev/null || true
			sleep 0.1
			rmdir "${CG2}/faultline/${id}"/* "${CG2}/faultline/${id}" 2>/dev/null ||
				true
		fi
		rm -rf /etc/netns/fl-"${id}"-*
	done
}

# Start a throwaway process to target, under a name no other process has; its pid in TARGET.
start_target() {
	local name="${1:-sleep}"
	cp /usr/bin/sleep "${BATS_TEST_TMPDIR}/${name}"
	"${BATS_TEST_TMPDIR}/${name}" 300 &
	TARGET=$!
	FL_PIDS+=("$TARGET")
	wait_for '[ "$(cat /proc/$TARGET/comm 2>/dev/null)" = "${name:0:15}" ]' 5
}

# Process state letter from /proc (R, S, T when stopped, Z), or "gone". No awk: every exec is
# slow under TCG, and waits poll this.
proc_state() {
	local stat
	if ! read -r stat 2>/dev/null <"/proc/$1/stat"; then
		echo gone
		return 0
	fi
	stat="${stat##*) }" # after "(comm) ", which may hold spaces
	echo "${stat%% *}"
}

# wait_for COMMAND [SECONDS]: until the command succeeds (default 10 s; the guest is emulated,
# so allow more than on the host).
wait_for() {
	local cmd="$1" secs="${2:-10}" i
	for ((i = 0; i < secs * 20; i++)); do
		eval "$cmd" && return 0
		sleep 0.05
	done
	echo "timed out after ${secs}s waiting for: ${cmd}" >&2
	return 1
}

# The pids the first fault record of this test's runs names (the processes a fault holds).
fault_pids() {
	jq -r '.objects[]?.pid // empty' "$FAULTLINE_STATE_DIR"/runs/*/fault-*.json 2>/dev/null
}

# Everything a lab with this run id could leave behind, one line each; empty when gone.
lab_leftovers() {
	local id="$1"
	ip netns list | awk '{ print $1 }' | grep "^fl-${id}-" | sed 's/^/netns /' || true
	if [ -n "$CG2" ] && [ -e "${CG2}/faultline/${id}" ]; then
		echo "cgroup ${CG2}/faultline/${id}"
	fi
	ls -d /etc/netns/fl-"${id}"-* 2>/dev/null | sed 's/^/etc /' || true
	# the guest starts with only lo in its own network namespace
	ip -o link show | awk -F': ' '$2 != "lo" { print "link " $2 }'
}

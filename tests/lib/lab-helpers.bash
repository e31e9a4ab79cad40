# SPDX-License-Identifier: GPL-2.0-only
# Helpers for the lab suite: bring labs up and down, inspect them, remove only what a test made.

CG2="$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)"
LAB_IDS=()

# iputils ping when installed, busybox's otherwise.
if command -v ping >/dev/null 2>&1; then
	PING=(ping)
else
	PING=(busybox ping)
fi

lab_setup() {
	require_root
	fl_setup
	LAB_IDS=()
}

# `faultline lab up --json FILE`; on success LAB_ID and LAB_JSON are set.
lab_up() {
	run --separate-stderr "$FL" lab up --json "$@"
	if [ "$status" -eq 0 ]; then
		LAB_JSON="$output"
		LAB_ID="$(jq -r .id <<<"$LAB_JSON")"
		LAB_IDS+=("$LAB_ID")
	else
		echo "lab up failed ($status): $stderr"
	fi
}

# A run id named in a failure message (the path of the logs kept names it).
lab_id_from() {
	grep -o 'lab-logs/[0-9a-f]\{12\}/' <<<"$1" | head -1 | cut -c10-21
}

# host_pid HOST: the service's current pid from `lab status --json`.
host_pid() {
	"$FL" lab status --json | jq -r --arg h "$1" --arg id "$LAB_ID" \
		'.labs[] | select(.id == $id) | .lab.hosts[] | select(.name == $h) | .pid'
}

host_field() {
	"$FL" lab status --json | jq -r --arg h "$1" --arg id "$LAB_ID" --arg f "$2" \
		'.labs[] | select(.id == $id) | .lab.hosts[] | select(.name == $h) | .[$f]'
}

# Everything a lab with this id could leave behind, one line each; empty when gone.
lab_leftovers() {
	local id="$1"
	ip netns list | awk '{print $1}' | grep "^fl-${id}-" | sed 's/^/netns /' || true
	[ -n "$CG2" ] && [ -e "$CG2/faultline/$id" ] && echo "cgroup $CG2/faultline/$id"
	ls -d /etc/netns/fl-"${id}"-* 2>/dev/null | sed 's/^/etc /' || true
	[ -e "$FAULTLINE_STATE_DIR/runs/$id" ] && echo "records $FAULTLINE_STATE_DIR/runs/$id"
	true
}

# Remove what this test's labs left, even when the test failed half-way: faultline's own way
# first, then by hand, touching only names made from this test's run ids.
lab_teardown() {
	local id ns
	fl_teardown
	for id in "${LAB_IDS[@]}" $(ls "${FAULTLINE_STATE_DIR}/runs" 2>/dev/null); do
		"$FL" lab down "$id" >/dev/null 2>&1 || true
		for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^fl-${id}-" || true); do
			ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
			ip netns delete "$ns" 2>/dev/null || true
		done
		if [ -n "$CG2" ] && [ -d "$CG2/faultline/$id" ]; then
			echo 1 >"$CG2/faultline/$id/cgroup.kill" 2>/dev/null || true
			sleep 0.1
			rmdir "$CG2/faultline/$id"/* "$CG2/faultline/$id" 2>/dev/null || true
		fi
		rm -rf /etc/netns/fl-"${id}"-*
	done
	[ -n "$CG2" ] && rmdir "$CG2/faultline" 2>/dev/null || true
}

# write_scenario FILE NAME HOSTS_YAML: a scenario with only a lab (hosts indented 4 spaces).
write_scenario() {
	{
		printf 'version: 1\nname: %s\nlab:\n  hosts:\n' "$2"
		printf '%s\n' "$3"
	} >"$1"
}

# veth_pair NS_A NS_B DEV_A DEV_B "ADDR/LEN..." "ADDR/LEN...": two new namespaces joined by a
# veth pair (DEV_A in NS_A, DEV_B in NS_B), each end with its addresses (IPv6 ones with nodad,
# usable at once), everything up. The caller deletes the namespaces in its teardown.
veth_addr() {
	if [[ "$3" == *:* ]]; then
		ip -n "$1" addr add "$3" dev "$2" nodad
	else
		ip -n "$1" addr add "$3" dev "$2"
	fi
}

veth_pair() {
	local a="$1" b="$2" da="$3" db="$4" addr tmp="flv$RANDOM"
	ip netns add "$a"
	ip netns add "$b"
	ip link add "${tmp}a" type veth peer name "${tmp}b"
	ip link set "${tmp}a" netns "$a" name "$da"
	ip link set "${tmp}b" netns "$b" name "$db"
	for addr in $5; do veth_addr "$a" "$da" "$addr"; done
	for addr in $6; do veth_addr "$b" "$db" "$addr"; done
	ip -n "$a" link set lo up
	ip -n "$b" link set lo up
	ip -n "$a" link set "$da" up
	ip -n "$b" link set "$db" up
}

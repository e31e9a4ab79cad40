#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# `faultline status` finds faultline's kernel objects by looking: tracked while a record knows
# them, untracked (with the command that removes them) once the state directory is gone.
# Everything lives in namespaces of the test's own; other runs on the host are ignored by
# filtering on this test's run ids and namespaces.

load '../lib/common'
load '../lib/lab-helpers'
bats_require_minimum_version 1.5.0

setup() {
	require_root
	command -v jq >/dev/null || skip "needs jq"
	fl_setup
	NS_A="fltest-ha-$$"
	NS_B="fltest-hb-$$"
}

teardown() {
	fl_teardown
	# a faultline-nfqd whose state directory a test deleted lives in NS_B
	ip netns pids "$NS_B" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
	ip netns del "$NS_A" 2>/dev/null || true
	ip netns del "$NS_B" 2>/dev/null || true
	for p in /sys/fs/bpf/faultline/"${RUN:-none}"-*; do
		[ -e "$p" ] && rm -r "$p"
	done
	rmdir /sys/fs/bpf/faultline 2>/dev/null || true
}

# kobj JQ_FILTER: this test's kernel objects (of run $RUN or in namespace $NS_B) as JSON lines
kobj() {
	"$FL" status --json | jq -c --arg run "$RUN" --arg ns "$NS_B" \
		".kernel_objects[] | select(.run_id == \$run or .netns == \$ns) | $1"
}

@test "status lists a live fault's filter, pin, qdisc and guard as tracked; untracked once the state dir is gone" {
	veth_pair "$NS_A" "$NS_B" va vb 10.250.2.1/24 10.250.2.2/24
	"$FL" inject loss --netns "$NS_B" --dev vb --percent 10 --proto udp --for 120s &
	FL_PIDS+=($!)
	local pid=$!
	wait_for "ip netns exec $NS_B tc filter show dev vb ingress | grep -q netfault_ingres" 10
	RUN="$(ls "$FAULTLINE_STATE_DIR/runs" | head -1)"
	[ -n "$RUN" ]
	"$FL" inject bandwidth --netns "$NS_B" --dev vb --rate 10mbit --for 120s &
	FL_PIDS+=($!)
	local bwpid=$! bwrun
	wait_for "ip netns exec $NS_B tc qdisc show dev vb | grep -q 'tbf fa17:'" 10
	bwrun="$(ls "$FAULTLINE_STATE_DIR/runs" | grep -v "$RUN")"

	run "$FL" status
	assert_success
	assert_output --regexp "tracked +tc-filter tc filter on vb ingress pref 0xfa17 handle 0x[0-9a-f]+: BPF netfault_ingres \(id [0-9]+\) in netns $NS_B, run $RUN"
	assert_output --regexp "tracked +pin +BPF pin /sys/fs/bpf/faultline/$RUN-[0-9a-f]{8}, run $RUN"
	assert_output --regexp "tracked +qdisc +tbf qdisc fa17: root on vb in netns $NS_B, run $bwrun"
	assert_output --regexp "tracked +process +process faultline-guard \(pid [0-9]+\), run $RUN"
	[ "$(kobj 'select(.tracked | not)')" = "" ]

	# SIGKILL: the records stay (a dead run), the guard still knows it (its inotify watch)
	kill -KILL "$pid" "$bwpid"
	wait "$pid" "$bwpid" || true
	run "$FL" status
	assert_output --partial "$RUN  inject DEAD"
	assert_output --regexp "tracked +process +process faultline-guard \(pid [0-9]+\), run $RUN"

	# the state directory goes (the guards leave with it): nothing is removed from the kernel...
	rm -rf "$FAULTLINE_STATE_DIR/runs"
	ip netns exec "$NS_B" tc filter show dev vb ingress | grep -q netfault_ingres
	ip netns exec "$NS_B" tc qdisc show dev vb | grep -q "tbf fa17:"
	# ...and status flags every object as untracked, with the command that removes it
	run "$FL" status
	assert_success
	assert_output --regexp "UNTRACKED +tc-filter tc filter on vb ingress .* in netns $NS_B, run $RUN"
	assert_output --regexp "UNTRACKED +qdisc +tbf qdisc fa17: root on vb in netns $NS_B"
	assert_output --regexp "UNTRACKED +pin +BPF pin /sys/fs/bpf/faultline/$RUN-"
	assert_output --partial "remove with: tc -n $NS_B filter del dev vb ingress pref 64023 handle 0x"
	assert_output --partial "remove with: tc -n $NS_B qdisc del dev vb root"
	assert_output --partial "untracked: left by a run whose state directory is gone"
	[ "$(kobj 'select(.tracked)')" = "" ]
	[ "$(kobj 'select(.type == "tc-filter") | .run_id' | tr -d '"')" = "$RUN" ]

	# the test cleans up with exactly the commands status gave
	kobj '.remove' | jq -r . >remove.sh
	cat remove.sh
	[ "$(wc -l <remove.sh)" -eq 3 ]
	sh -e remove.sh
	[ -z "$(ip netns exec "$NS_B" tc filter show dev vb ingress)" ]
	! ip netns exec "$NS_B" tc qdisc show dev vb | grep -q "fa17:" || false
	[ -z "$(kobj .)" ]
}

@test "iptables rules and a chain commented faultline:RUN:HANDLE of an unknown run are untracked" {
	command -v iptables >/dev/null || skip "needs iptables"
	veth_pair "$NS_A" "$NS_B" va vb 10.250.2.1/24 10.250.2.2/24
	RUN=0123456789ab
	# what the NFQUEUE backend adds, in the shape of its rules, in a namespace of our own
	ip netns exec "$NS_B" iptables -t mangle -N FL-00000007
	ip netns exec "$NS_B" iptables -t mangle -A FL-00000007 -m comment \
		--comment "faultline:$RUN:00000007" -j ACCEPT
	ip netns exec "$NS_B" iptables -t mangle -A PREROUTING -p udp --dport 9000 -m comment \
		--comment "faultline:$RUN:00000007" -j FL-00000007
	ip netns exec "$NS_B" ip6tables -A INPUT -p udp -m comment --comment "faultline:$RUN:9" \
		-j ACCEPT
	# a rule that is not ours is not listed
	ip netns exec "$NS_B" iptables -A INPUT -m comment --comment "faultlinex:$RUN:1" -j ACCEPT

	run "$FL" status
	assert_success
	assert_output --partial "-A PREROUTING -p udp -m udp --dport 9000 -m comment --comment \"faultline:$RUN:00000007\" -j FL-00000007 in netns $NS_B, run $RUN"
	assert_output --partial "remove with: ip netns exec $NS_B iptables -t mangle -D PREROUTING -p udp -m udp --dport 9000 -m comment --comment \"faultline:$RUN:00000007\" -j FL-00000007"
	assert_output --partial "remove with: ip netns exec $NS_B iptables -t mangle -F FL-00000007; ip netns exec $NS_B iptables -t mangle -X FL-00000007"
	assert_output --partial "remove with: ip netns exec $NS_B ip6tables -t filter -D INPUT"
	refute_output --partial "faultlinex"
	[ "$(kobj 'select(.type | startswith("iptables")) | .tracked' | sort -u)" = "false" ]
	[ "$(kobj 'select(.type | startswith("iptables"))' | wc -l)" -eq 4 ]

	# the rules first, then the chain: the commands in the order given leave nothing
	kobj '.remove' | jq -r . >remove.sh
	sh -e remove.sh
	[ "$(ip netns exec "$NS_B" iptables-save | grep -c 'faultline:')" -eq 0 ]
	[ "$(ip netns exec "$NS_B" ip6tables-save | grep -c 'faultline:')" -eq 0 ]
	! ip netns exec "$NS_B" iptables-save | grep -q FL-00000007 || false
	[ "$(ip netns exec "$NS_B" iptables-save | grep -c 'faultlinex:')" -eq 1 ]
	[ -z "$(kobj .)" ]
}

@test "an nfqueue fault's nftables table is tracked, then untracked with the nft command that removes it" {
	command -v nft >/dev/null || skip "needs nft"
	veth_pair "$NS_A" "$NS_B" va vb 10.250.2.1/24 10.250.2.2/24
	"$FL" inject latency --backend nfqueue --netns "$NS_B" --dev vb --delay 20ms \
		--direction ingress --proto udp --dport 9000 --for 120s &
	FL_PIDS+=($!)
	local pid=$!
	wait_for "ip netns exec $NS_B nft list tables | grep -q faultline-" 10
	RUN="$(ls "$FAULTLINE_STATE_DIR/runs" | head -1)"
	[ -n "$RUN" ]
	run "$FL" status
	assert_success
	assert_output --regexp "tracked +nftables +nftables table ip faultline-$RUN-[0-9a-f]{8} in netns $NS_B, run $RUN"
	# no address: one table per family (ip and ip6)
	[ "$(kobj 'select(.type == "nftables") | .tracked' | sort -u)" = "true" ]
	[ "$(kobj 'select(.type == "nftables")' | wc -l)" -eq 2 ]

	kill -KILL "$pid"
	wait "$pid" || true
	rm -rf "$FAULTLINE_STATE_DIR/runs"
	run "$FL" status
	assert_success
	assert_output --regexp "UNTRACKED +nftables +nftables table ip faultline-$RUN-[0-9a-f]{8} in netns $NS_B"
	assert_output --regexp "remove with: ip netns exec $NS_B nft delete table ip faultline-$RUN-[0-9a-f]{8}"
	kobj 'select(.type == "nftables") | .remove' | jq -r . >remove.sh
	[ "$(wc -l <remove.sh)" -eq 2 ]
	sh -e remove.sh
	! ip netns exec "$NS_B" nft list tables | grep -q faultline- || false
	[ -z "$(kobj 'select(.type == "nftables")')" ]
}

@test "a lab's namespaces are tracked by their run; status stays fast with a few namespaces" {
	write_scenario lab.yaml hs "    a: {}
    b: {}
    c: {}"
	lab_up lab.yaml
	[ "$status" -eq 0 ]
	RUN="$LAB_ID"
	run "$FL" status --json
	[ "$(jq -c --arg r "$RUN" '[.kernel_objects[] | select(.run_id == $r and .type == "netns") | .tracked] | unique' <<<"$output")" = "[true]" ]
	[ "$(jq --arg r "$RUN" '[.kernel_objects[] | select(.run_id == $r and .type == "netns")] | length' <<<"$output")" -eq 4 ]
	# five runs of status, the slowest under 100 ms here (faultline's own start included)
	python3 - "$FL" <<'P'
import subprocess, sys, time
t = []
for _ in range(5):
    t0 = time.monotonic()
    subprocess.run([sys.argv[1], "status"], stdout=subprocess.DEVNULL, check=True)
    t.append(time.monotonic() - t0)
print("status: " + ", ".join(f"{x * 1000:.0f} ms" for x in t))
assert min(t) < 0.1, t
P
	"$FL" lab down "$RUN"
}

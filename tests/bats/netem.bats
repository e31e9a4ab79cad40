#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# netem and tbf faults on this machine: netem's absence is a clean exit 3 that changes nothing;
# without sch_prio (no classifier) tbf (bandwidth) falls back to a root qdisc, says so, restores
# a user's root qdisc exactly, and recover undoes a SIGKILL; filters and exclude are refused
# then, naming what is missing. Everything happens on a veth pair in a namespace these tests
# create. The classful tree, filters and the TTL run for real in the guest tier
# (tests/vm/guest/netem.bats).

load '../lib/common'
bats_require_minimum_version 1.5.0

setup() {
	require_root
	fl_setup
	NS="fltest-nm-$$"
	ip netns add "$NS"
	ip -n "$NS" link add veth0 type veth peer name veth1
	ip -n "$NS" link set veth0 up
	ip -n "$NS" link set veth1 up
}

teardown() {
	fl_teardown
	ip netns delete "$NS" 2>/dev/null || true
}

# Has this kernel the qdisc? Try it in a throwaway namespace, like the backend's probe.
have_qdisc() {
	unshare -n sh -c "tc qdisc add dev lo root $*" 2>/dev/null
}

@test "latency without sch_netem exits 3 naming the missing module, and changes nothing" {
	have_qdisc netem delay 1ms && skip "this kernel has netem: covered by the guest tier"
	before="$(tc -n "$NS" qdisc show)"
	run "$FL" inject latency --backend netem --netns "$NS" --dev veth0 --delay 50ms --for 1s
	assert_failure 3
	assert_output --partial "backend latency/netem cannot run here: the kernel has no sch_netem (module not available): use a kernel with netem, or the tc-bpf/nfqueue backends"
	assert_equal "$(tc -n "$NS" qdisc show)" "$before"
	run "$FL" status
	assert_output --partial "nothing active"
}

@test "netem faults reject ingress and bad filters with a reason, before touching anything" {
	run "$FL" inject latency --backend netem --netns "$NS" --dev veth0 --delay 5ms \
		--direction ingress --sport 0 --for 1s
	assert_failure 2
	assert_output --partial "--direction: 'direction' 'ingress': netem shapes a device's egress only (ingress needs an ifb device)"
	assert_output --partial "--sport: 'sport' must be a port or range such as '9000' or '9000-9010' (1-65535), got '0'"
	run "$FL" inject reorder --netns "$NS" --dev veth0 --percent 25 --for 1s
	assert_failure 2
	assert_output --partial "reordering needs a delay"
	run "$FL" inject latency --delay 5ms --for 1s
	assert_failure 2
	assert_output --partial "a latency fault needs 'dev'"
}

@test "without sch_prio: filters and exclude exit 3 naming it; unfiltered tbf falls back, saying so" {
	have_qdisc tbf rate 1mbit burst 10kb latency 50ms || skip "this kernel has no sch_tbf"
	have_qdisc prio && skip "this kernel has sch_prio: the classful tree is the guest tier's"
	before="$(tc -n "$NS" qdisc show)"
	run "$FL" inject bandwidth --netns "$NS" --dev veth0 --rate 8mbit --proto udp \
		--dport 9000 --for 1s
	assert_failure 3
	assert_output --partial "backend bandwidth/tbf cannot run here: filters and 'exclude' need the classifier (sch_prio, cls_bpf, BPF): the kernel has no sch_prio (module not available)"
	run "$FL" inject bandwidth --netns "$NS" --dev veth0 --rate 8mbit --exclude 22 --for 1s
	assert_failure 3
	assert_output --partial "need the classifier (sch_prio, cls_bpf, BPF)"
	assert_equal "$(tc -n "$NS" qdisc show)" "$before"
	# the management plane: unclassified, a fault in this host's namespace could hit it
	SSH_CONNECTION="10.9.9.9 40000 10.9.9.8 22" run "$FL" inject bandwidth --dev lo \
		--rate 8mbit --for 1s
	assert_failure 3
	assert_output --partial "the fault would also hit the SSH connection faultline runs over: refusing in this host's network namespace"
	run "$FL" inject bandwidth --netns "$NS" --dev veth0 --rate 8mbit --for 200ms
	assert_success
	assert_output --partial "the kernel has no sch_prio (module not available): use a kernel with prio; tbf becomes the root qdisc of 'veth0' for all of its traffic, with no TTL in the kernel"
	run "$FL" status
	assert_output --partial "nothing active"
}

@test "bandwidth puts a tbf root with the asked rate, then the kernel default comes back" {
	have_qdisc tbf rate 1mbit burst 10kb latency 50ms || skip "this kernel has no sch_tbf"
	have_qdisc prio && skip "this kernel has sch_prio: the classful tree is the guest tier's"
	before="$(tc -n "$NS" qdisc show dev veth0)"
	"$FL" inject bandwidth --netns "$NS" --dev veth0 --rate 8mbit --burst 20kb --for 3s \
		--json >"$BATS_TEST_TMPDIR/out.json" &
	inj=$!
	wait_for 'tc -n "$NS" qdisc show dev veth0 | grep -q "tbf fa17: root"' 5
	run tc -n "$NS" qdisc show dev veth0
	assert_output --partial "rate 8Mbit burst 20Kb"
	wait "$inj"
	assert_equal "$(tc -n "$NS" qdisc show dev veth0)" "$before"
	python3 - "$BATS_TEST_TMPDIR/out.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
f = d["faults"][0] if "faults" in d else d
assert f["backend"] == "tbf", f
inj = [e for e in f["events"] if e["event"] == "applied"][0]["injected"]
assert inj["accepted"]["rate_bytes_per_s"] == 1000000, inj
assert inj["accepted"]["burst_bytes"] == 20480, inj
assert inj["mode"] == "root", inj
obs = [e for e in f["events"] if e["event"] == "observed"][0]["observed"]
assert obs["qdisc"]["kind"] == "tbf", obs
PY
}

@test "a user's tbf root survives a bandwidth fault byte for byte, also after SIGKILL + recover" {
	have_qdisc tbf rate 1mbit burst 10kb latency 50ms || skip "this kernel has no sch_tbf"
	tc -n "$NS" qdisc add dev veth0 root handle 1: tbf rate 3mbit burst 20kb latency 70ms \
		peakrate 4mbit mtu 1600
	before="$(tc -n "$NS" -d qdisc show dev veth0)"
	run "$FL" inject bandwidth --netns "$NS" --dev veth0 --rate 1mbit --for 500ms
	assert_success
	assert_equal "$(tc -n "$NS" -d qdisc show dev veth0)" "$before"

	"$FL" inject bandwidth --netns "$NS" --dev veth0 --rate 1mbit --for 60s >/dev/null 2>&1 &
	inj=$!
	FL_PIDS+=("$inj")
	wait_for 'tc -n "$NS" qdisc show dev veth0 | grep -q " fa17: root"' 5
	kill -KILL "$inj"
	wait "$inj" || true
	run "$FL" recover --all
	assert_success
	assert_equal "$(tc -n "$NS" -d qdisc show dev veth0)" "$before"
	# recover again: nothing left, nothing touched
	run "$FL" recover --all
	assert_success
	assert_equal "$(tc -n "$NS" -d qdisc show dev veth0)" "$before"
}

@test "a root qdisc with children is refused (it could not be restored exactly)" {
	have_qdisc tbf rate 1mbit burst 10kb latency 50ms || skip "this kernel has no sch_tbf"
	tc -n "$NS" qdisc add dev veth0 root handle 1: tbf rate 3mbit burst 20kb latency 70ms
	tc -n "$NS" qdisc add dev veth0 parent 1:1 handle 10: pfifo limit 50
	before="$(tc -n "$NS" qdisc show dev veth0)"
	run "$FL" inject bandwidth --netns "$NS" --dev veth0 --rate 1mbit --for 1s
	assert_failure
	assert_output --partial "the root qdisc of 'veth0' (tbf 1:) has 1 child qdisc(s): faultline replaces only a root it can restore exactly, refusing"
	assert_equal "$(tc -n "$NS" qdisc show dev veth0)" "$before"
}

@test "a device that is not there is named in the error" {
	have_qdisc tbf rate 1mbit burst 10kb latency 50ms || skip "this kernel has no sch_tbf"
	run "$FL" inject bandwidth --netns "$NS" --dev nope0 --rate 1mbit --for 1s
	assert_failure
	assert_output --partial "no device 'nope0' in network namespace '$NS'"
}

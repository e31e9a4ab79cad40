#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Every filter of the tc-bpf loss/partition backends on real traffic: the targeted flow is hit,
# a control flow next to it is not. IPv4 and IPv6 (ULA addresses on a veth pair of the test's
# own), protocols, port ranges, a cgroup of the test's own, and in a lab placement and peer.

load '../lib/common'
load '../lib/lab-helpers' # PING, CG2 (the cgroup v2 mount), veth_pair
bats_require_minimum_version 1.5.0

setup() {
	require_root
	command -v python3 >/dev/null || skip "needs python3"
	fl_setup
	NS_A="fltest-fa-$$"
	NS_B="fltest-fb-$$"
	CG_TEST="fltest-filter-$$"
	cat >"$BATS_TEST_TMPDIR/flows.py" <<'PY'
import select, socket, sys, time
def sock(addr, kind=socket.SOCK_DGRAM):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    return socket.socket(fam, kind)
cmd = sys.argv[1]
if cmd == "recv":
    # recv PORT,PORT SECS OUT: UDP on every address (v4 and v6); counts per payload tag
    socks = []
    for p in sys.argv[2].split(","):
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.bind(("::", int(p))); s.setblocking(False); socks.append(s)
    counts = {}
    open(sys.argv[4] + ".ready", "w").close()
    end = time.time() + float(sys.argv[3])
    while time.time() < end:
        r, _, _ = select.select(socks, [], [], 0.05)
        for s in r:
            while True:
                try:
                    tag = s.recv(64).decode()
                except BlockingIOError:
                    break
                counts[tag] = counts.get(tag, 0) + 1
    with open(sys.argv[4], "w") as f:
        for t, n in sorted(counts.items()):
            f.write(f"{t} {n}\n")
elif cmd == "send":
    # send N TAG,DST,DPORT[,SRC[,SPORT]]...: N packets per flow, payload = the flow's tag
    n, flows = int(sys.argv[2]), []
    for spec in sys.argv[3:]:
        f = spec.split(",")
        s = sock(f[1])
        if len(f) > 3:
            s.bind((f[3], int(f[4]) if len(f) > 4 else 0))
        flows.append((s, f[0].encode(), (f[1], int(f[2]))))
    for i in range(n):
        for s, tag, dst in flows:
            s.sendto(tag, dst)
        time.sleep(0.005)
elif cmd == "listen":
    # listen PORT SECS: accept TCP connections (v4 and v6) for SECS
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", int(sys.argv[2]))); s.listen(64); s.settimeout(0.2)
    end = time.time() + float(sys.argv[3])
    while time.time() < end:
        try:
            s.accept()[0].close()
        except socket.timeout:
            pass
elif cmd == "connect":
    # connect DST PORT: exit 0 when a TCP connection is made within 1.5 s
    s = sock(sys.argv[2], socket.SOCK_STREAM); s.settimeout(1.5)
    try:
        s.connect((sys.argv[2], int(sys.argv[3])))
    except OSError:
        sys.exit(1)
PY
}

teardown() {
	fl_teardown
	ip netns del "$NS_A" 2>/dev/null || true
	ip netns del "$NS_B" 2>/dev/null || true
	if [ -n "$CG2" ] && [ -d "$CG2/$CG_TEST" ]; then
		for d in "$CG2/$CG_TEST"/*/; do
			[ -d "$d" ] || continue
			xargs -r kill -KILL <"$d/cgroup.procs" 2>/dev/null || true
		done
		sleep 0.1
		rmdir "$CG2/$CG_TEST"/* "$CG2/$CG_TEST" 2>/dev/null || true
	fi
}

# `! cmd` never fails a bats test (errexit ignores it): this does
fails() {
	if "$@"; then
		echo "unexpectedly succeeded: $*"
		return 1
	fi
}

# A veth pair between two namespaces of the test's own, dual stack, two addresses per family
# on each side (nodad: usable at once):
#   A (va): 10.250.1.1, 10.250.1.11, fd17::a, fd17::1:a
#   B (vb): 10.250.1.2, 10.250.1.12, fd17::b, fd17::2:b
make_pair() {
	veth_pair "$NS_A" "$NS_B" va vb "10.250.1.1/24 10.250.1.11/24 fd17::a/64 fd17::1:a/64" \
		"10.250.1.2/24 10.250.1.12/24 fd17::b/64 fd17::2:b/64"
	# neighbours resolved before any fault (a fault may drop what resolution needs)
	for a in 10.250.1.2 10.250.1.12 fd17::b fd17::2:b; do
		ip netns exec "$NS_A" "${PING[@]}" -c 1 -W 2 "$a" >/dev/null
	done
}

# round RXNS TXNS PORTS FLOW...: N=20 packets per flow from TXNS to RXNS; the counts land in
# $BATS_TEST_TMPDIR/round (tag count), read them with got TAG.
round() {
	local rx="$1" tx="$2" ports="$3" out="$BATS_TEST_TMPDIR/round"
	shift 3
	rm -f "$out" "$out.ready"
	ip netns exec "$rx" python3 "$BATS_TEST_TMPDIR/flows.py" recv "$ports" 1.5 "$out" &
	local rp=$!
	wait_for "[ -e $out.ready ]" 10
	ip netns exec "$tx" python3 "$BATS_TEST_TMPDIR/flows.py" send 20 "$@"
	wait "$rp"
	cat "$out"
}

got() { awk -v t="$1" '$1 == t { n = $2 } END { print n + 0 }' "$BATS_TEST_TMPDIR/round"; }

# hit TAG... : none of the flow's 20 packets arrived; spared TAG...: all 20 did
hit() { local t; for t in "$@"; do [ "$(got "$t")" -eq 0 ] || { echo "$t: $(got "$t") arrived"; return 1; }; done; }
spared() { local t; for t in "$@"; do [ "$(got "$t")" -eq 20 ] || { echo "$t: $(got "$t")/20"; return 1; }; done; }

# A detached fault; its run id in $RUN (ended with `end_fault`).
fault() {
	run --separate-stderr "$FL" inject "$@" --for 60s --detach --json
	[ "$status" -eq 0 ] || { echo "inject $*: $stderr"; return 1; }
	RUN="$(jq -r .run_id <<<"$output")"
}

end_fault() {
	"$FL" recover "$RUN" >/dev/null
	[ -z "$(ip netns exec "$NS_B" tc filter show dev vb ingress)" ]
	[ -z "$(ip netns exec "$NS_A" tc filter show dev va egress)" ]
}

@test "IPv6 and IPv4 src/dst: single addresses and CIDRs hit their flow, not the neighbour's" {
	make_pair
	local v6a="a6,fd17::b,9000,fd17::a" v6a1="a61,fd17::b,9000,fd17::1:a"
	local v6b2="b62,fd17::2:b,9000,fd17::a" v4="a4,10.250.1.2,9000,10.250.1.1"
	local v4s="a41,10.250.1.2,9000,10.250.1.11" v4d="b42,10.250.1.12,9000,10.250.1.1"

	# an IPv6 CIDR as source: fd17::a is in fd17::/120, fd17::1:a is not; IPv4 is another family
	fault loss --netns "$NS_B" --dev vb --percent 100 --proto udp --src fd17::/120
	round "$NS_B" "$NS_A" 9000 "$v6a" "$v6a1" "$v4" "$v6b2"
	hit a6 b62
	spared a61 a4
	end_fault

	# one IPv6 address as destination
	fault loss --netns "$NS_B" --dev vb --percent 100 --proto udp --dst fd17::2:b
	round "$NS_B" "$NS_A" 9000 "$v6a" "$v6b2" "$v4d"
	hit b62
	spared a6 b42
	end_fault

	# an IPv4 address as source, an IPv4 CIDR as destination (10.250.1.8/29 holds .12, not .2)
	fault loss --netns "$NS_B" --dev vb --percent 100 --proto udp --src 10.250.1.11
	round "$NS_B" "$NS_A" 9000 "$v4s" "$v4" "$v6a"
	hit a41
	spared a4 a6
	end_fault
	fault partition --netns "$NS_B" --dev vb --dst 10.250.1.8/29 --direction ingress
	round "$NS_B" "$NS_A" 9000 "$v4d" "$v4" "$v6b2"
	hit b42
	spared a4 b62
	end_fault
}

@test "proto: udp, tcp, icmp and icmpv6 each drop their own protocol only" {
	make_pair
	ip netns exec "$NS_B" python3 "$BATS_TEST_TMPDIR/flows.py" listen 7000 60 &
	FL_PIDS+=($!)
	wait_for "ip netns exec $NS_B ss -Hltn 'sport = :7000' | grep -q LISTEN" 10
	local u4="u4,10.250.1.2,9000" u6="u6,fd17::b,9000"
	ping4() { ip netns exec "$NS_A" "${PING[@]}" -c 3 -i 0.2 -W 1 -w 2 10.250.1.2 >/dev/null; }
	ping6() { ip netns exec "$NS_A" "${PING[@]}" -6 -c 3 -i 0.2 -W 1 -w 2 fd17::b >/dev/null; }
	tcp4() { ip netns exec "$NS_A" python3 "$BATS_TEST_TMPDIR/flows.py" connect 10.250.1.2 7000; }
	tcp6() { ip netns exec "$NS_A" python3 "$BATS_TEST_TMPDIR/flows.py" connect fd17::b 7000; }

	fault loss --netns "$NS_B" --dev vb --percent 100 --proto udp
	round "$NS_B" "$NS_A" 9000 "$u4" "$u6"
	hit u4 u6
	tcp4
	tcp6
	ping4
	end_fault

	fault loss --netns "$NS_B" --dev vb --percent 100 --proto tcp
	fails tcp4
	fails tcp6
	round "$NS_B" "$NS_A" 9000 "$u4" "$u6"
	spared u4 u6
	ping4
	end_fault

	fault loss --netns "$NS_B" --dev vb --percent 100 --proto icmp
	fails ping4
	ping6
	tcp4
	round "$NS_B" "$NS_A" 9000 "$u4"
	spared u4
	end_fault

	fault loss --netns "$NS_B" --dev vb --percent 100 --proto icmpv6
	fails ping6
	ping4
	tcp6
	end_fault
}

@test "sport and dport ranges: the edges are in, one past them is out (IPv4 and IPv6)" {
	make_pair
	fault loss --netns "$NS_B" --dev vb --percent 100 --proto udp --dport 9000-9002
	round "$NS_B" "$NS_A" 8999,9000,9001,9002,9003 d8999,10.250.1.2,8999 d9000,10.250.1.2,9000 \
		d9002,10.250.1.2,9002 d9003,10.250.1.2,9003 d6,fd17::b,9001
	hit d9000 d9002 d6
	spared d8999 d9003
	end_fault

	fault loss --netns "$NS_B" --dev vb --percent 100 --proto udp --sport 40000-40009
	round "$NS_B" "$NS_A" 9000 s39999,10.250.1.2,9000,10.250.1.1,39999 \
		s40000,10.250.1.2,9000,10.250.1.1,40000 s40009,10.250.1.2,9000,10.250.1.1,40009 \
		s40010,10.250.1.2,9000,10.250.1.1,40010 s6,fd17::b,9000,fd17::a,40005 \
		s6out,fd17::b,9000,fd17::a,40011
	hit s40000 s40009 s6
	spared s39999 s40010 s6out
	end_fault
}

@test "cgroup: a process in the test's cgroup loses its traffic, a sibling's is untouched" {
	[ -n "$CG2" ] || skip "no cgroup v2 mount"
	make_pair
	mkdir -p "$CG2/$CG_TEST/svc" "$CG2/$CG_TEST/other"
	# bpf_skb_cgroup_id() knows the sending socket only: ingress is refused before anything
	run "$FL" inject loss --netns "$NS_A" --dev va --percent 100 --cgroup "/$CG_TEST/svc" \
		--for 5s
	assert_failure 2
	assert_output --partial "--cgroup: 'cgroup' needs 'direction: egress'"
	run "$FL" inject partition --netns "$NS_A" --dev va --dst 10.250.1.2 \
		--cgroup "/$CG_TEST/svc" --for 5s
	assert_failure 2
	fails grep -q clsact < <(ip netns exec "$NS_A" tc qdisc show dev va)

	fault loss --netns "$NS_A" --dev va --percent 100 --cgroup "/$CG_TEST/svc" \
		--direction egress
	local out="$BATS_TEST_TMPDIR/round"
	rm -f "$out" "$out.ready"
	ip netns exec "$NS_B" python3 "$BATS_TEST_TMPDIR/flows.py" recv 9000 2.5 "$out" &
	local rp=$!
	wait_for "[ -e $out.ready ]" 10
	local pids=()
	for cg in svc other; do
		sh -c 'echo $$ >"$1/cgroup.procs" && exec ip netns exec "$2" python3 "$3" send 20 \
			"$4,10.250.1.2,9000" "${4}6,fd17::b,9000"' \
			- "$CG2/$CG_TEST/$cg" "$NS_A" "$BATS_TEST_TMPDIR/flows.py" "$cg" &
		pids+=($!)
	done
	wait "${pids[@]}"
	wait "$rp"
	hit svc svc6
	spared other other6
	end_fault
}

# A lab of three idle hosts with one fault; the run in the background, its id in $ID.
lab_run() {
	cat >lab.yaml <<Y
version: 1
name: netfilter
lab:
  hosts:
    a: {}
    b: {}
    c: {}
steady_state:
  baseline: 200ms
faults:
  - name: f
    kind: loss
    on: a
    percent: 100%
    proto: udp
    at: 0s
    for: 60s
$1
Y
	"$FL" run lab.yaml >run.out 2>&1 &
	FL_PIDS+=($!)
	RUNPID=$!
	wait_for '[ -n "$(ls "$FAULTLINE_STATE_DIR/runs" 2>/dev/null)" ]' 10
	ID="$(ls "$FAULTLINE_STATE_DIR/runs" | head -1)"
	wait_for "[ -s $FAULTLINE_STATE_DIR/runs/$ID/hosts ]" 15
	HOSTS="$FAULTLINE_STATE_DIR/runs/$ID/hosts"
	A="$(awk '$2 == "a" {print $1}' "$HOSTS")"
	B="$(awk '$2 == "b" {print $1}' "$HOSTS")"
	C="$(awk '$2 == "c" {print $1}' "$HOSTS")"
}

lab_stop() {
	kill -INT "$RUNPID"
	wait "$RUNPID" || true
	# this run's pins are gone (other runs on the host may have their own)
	fails grep -q "^$ID-" < <(ls /sys/fs/bpf/faultline 2>/dev/null)
}

@test "placement: host puts the fault on the lab host's own eth0, not its switch port" {
	lab_run '    dport: "9000"
    placement: host'
	wait_for "ip netns exec fl-$ID-a tc filter show dev eth0 ingress 2>/dev/null | grep -q netfault" 15
	# nothing at the switch port: the fault is the host's own
	[ -z "$(ip netns exec "fl-$ID-sw" tc filter show dev h-a ingress)" ]
	[ -z "$(ip netns exec "fl-$ID-sw" tc filter show dev h-a egress)" ]
	round "fl-$ID-a" "fl-$ID-b" 9000,9001 "hit,$A,9000" "other,$A,9001"
	hit hit
	spared other
	lab_stop
}

@test "peer in a lab: the peer's traffic to the host is lost, a third host's is not" {
	lab_run '    peer: b'
	wait_for "ip netns exec fl-$ID-sw tc filter show dev h-a egress 2>/dev/null | grep -q netfault" 15
	round "fl-$ID-a" "fl-$ID-b" 9000 "fromb,$A,9000"
	hit fromb
	round "fl-$ID-a" "fl-$ID-c" 9000 "fromc,$A,9000"
	spared fromc
	# ingress only (the default): what a sends to b is untouched
	round "fl-$ID-b" "fl-$ID-a" 9000 "tob,$B,9000"
	spared tob
	[ -n "$C" ]
	lab_stop
}

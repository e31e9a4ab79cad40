#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# loss and partition (tc-bpf backend): fidelity, filters, ownership, recover and TTL after SIGKILL.
# Traffic only flows inside namespaces these tests create (a lab, or a veth pair of their own).

load '../lib/common'
load '../lib/lab-helpers'
bats_require_minimum_version 1.5.0

setup() {
	require_root
	command -v python3 >/dev/null || skip "needs python3"
	command -v bpftool >/dev/null || skip "needs bpftool"
	fl_setup
	NS_A="fltest-a-$$"
	NS_B="fltest-b-$$"
	cat >"$BATS_TEST_TMPDIR/udp.py" <<'PY'
import socket, sys, time
# recv PORT,PORT SECS OUT | send DST PORT,PORT N INTERVAL_S
if sys.argv[1] == "first":
    # first PORT TIMEOUT: print the wall-clock time the first packet arrived
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", int(sys.argv[2]))); s.settimeout(float(sys.argv[3]))
    s.recv(2048)
    print(f"{time.time():.3f}")
elif sys.argv[1] == "seqrecv":
    # seqrecv PORT SECS OUT N: packets numbered 0..N-1; writes "N lost runs mean_run"
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    s.bind(("0.0.0.0", int(sys.argv[2]))); s.settimeout(0.2)
    open(sys.argv[4] + ".ready", "w").close()
    got, end = set(), time.time() + float(sys.argv[3])
    while time.time() < end:
        try:
            got.add(int(s.recv(64)))
        except socket.timeout:
            pass
    n = int(sys.argv[5])
    runs, run, lost = [], 0, 0
    for i in range(n):
        if i in got:
            if run:
                runs.append(run)
            run = 0
        else:
            run += 1; lost += 1
    if run:
        runs.append(run)
    with open(sys.argv[4], "w") as f:
        f.write(f"{n} {lost} {len(runs)} {sum(runs) / max(len(runs), 1):.3f}\n")
elif sys.argv[1] == "seqsend":
    # seqsend DST PORT N INTERVAL_S: packets numbered 0..N-1
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dst, port, n, iv = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    t = time.time()
    for i in range(n):
        s.sendto(str(i).encode(), (dst, port))
        t += iv
        d = t - time.time()
        if d > 0:
            time.sleep(d)
elif sys.argv[1] == "recv":
    ports = [int(p) for p in sys.argv[2].split(",")]
    socks = []
    for p in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        s.bind(("0.0.0.0", p)); s.setblocking(False); socks.append(s)
    counts = dict((p, 0) for p in ports)
    open(sys.argv[4] + ".ready", "w").close()
    end = time.time() + float(sys.argv[3])
    import select
    while time.time() < end:
        r, _, _ = select.select(socks, [], [], 0.1)
        for s in r:
            while True:
                try:
                    s.recv(2048)
                except BlockingIOError:
                    break
                counts[s.getsockname()[1]] += 1
    with open(sys.argv[4], "w") as f:
        f.write(" ".join(str(counts[p]) for p in ports) + "\n")
else:
    dst, ports, n, iv = sys.argv[2], [int(p) for p in sys.argv[3].split(",")], int(sys.argv[4]), float(sys.argv[5])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if len(sys.argv) > 6:
        s.bind(("0.0.0.0", int(sys.argv[6])))
    t = time.time()
    for i in range(n):
        for p in ports:
            try:
                s.sendto(b"x" * 64, (dst, p))
            except OSError:
                pass
        t += iv
        d = t - time.time()
        if d > 0:
            time.sleep(d)
PY
}

teardown() {
	fl_teardown
	ip netns del "$NS_A" 2>/dev/null || true
	ip netns del "$NS_B" 2>/dev/null || true
}

udp() { python3 "$BATS_TEST_TMPDIR/udp.py" "$@"; }

# A veth pair between two namespaces of the test's own: A 10.250.0.1 (va) <-> B 10.250.0.2 (vb).
make_pair() {
	veth_pair "$NS_A" "$NS_B" va vb 10.250.0.1/24 10.250.0.2/24
}

# Does UDP get from namespace $1 to address $3 in namespace $2? (any of 20 packets arrives)
udp_ok() {
	local out="$BATS_TEST_TMPDIR/reach.$RANDOM"
	ip netns exec "$2" python3 "$BATS_TEST_TMPDIR/udp.py" recv 9999 1.2 "$out" &
	local rp=$!
	wait_for "[ -e $out.ready ]" 10
	ip netns exec "$1" python3 "$BATS_TEST_TMPDIR/udp.py" send "$3" 9999 20 0.02
	wait "$rp"
	[ "$(cat "$out")" -gt 0 ]
}

# Send N packets per port from A to B; prints the counts received per port.
# Ports are given as "9000,9001".
send_count() {
	local ports="$1" n="$2" out="$BATS_TEST_TMPDIR/counts.$RANDOM"
	ip netns exec "$NS_B" python3 "$BATS_TEST_TMPDIR/udp.py" recv "$ports" \
		"$(python3 -c "print($n * 0.0005 + 1.5)")" "$out" &
	local rp=$!
	wait_for "[ -e $out.ready ]" 10
	ip netns exec "$NS_A" python3 "$BATS_TEST_TMPDIR/udp.py" send 10.250.0.2 "$ports" "$n" 0.0005
	wait "$rp"
	cat "$out"
}

filters() { ip netns exec "$1" tc filter show dev "$2" "$3" 2>/dev/null; }

# What this test's fault owns, by name (other runs on the host may have programs and pins of
# their own): "prog ID" and "pin DIR" lines in ./ours, for no_leftovers.
# remember_ours: from the live fault on vb and its journal record
remember_ours() {
	{ filters "$NS_B" vb ingress; filters "$NS_B" vb egress; } |
		grep -o ' id [0-9]*' | sed 's/^ id /prog /' >>ours
	jq -r '.objects[].pin_dir // empty | "pin " + .' "$FAULTLINE_STATE_DIR"/runs/*/fault-*.json \
		>>ours
	[ -s ours ]
}

# remember_json FILE: from `inject --json`, once the fault is over
remember_json() {
	jq -r '.events[] | select(.event == "applied") | .injected |
		(.ingress_prog_id // empty | "prog \(.)"), (.egress_prog_id // empty | "prog \(.)"),
		(.counters | "pin " + sub("/counters$"; ""))' "$1" >>ours
	[ -s ours ]
}

# The programs and pins remembered are gone.
ours_gone() {
	local kind what
	[ -s ours ] # every caller remembered what to look for
	while read -r kind what; do
		case "$kind" in
		prog) if bpftool prog show id "$what" >/dev/null 2>&1; then
			echo "program $what is still loaded"
			return 1
		fi ;;
		pin) if [ -e "$what" ]; then
			echo "pin $what is still there"
			return 1
		fi ;;
		esac
	done <ours
}

no_leftovers() {
	[ -z "$(filters "$NS_B" vb ingress)" ]
	[ -z "$(filters "$NS_B" vb egress)" ]
	[[ "$(ip netns exec "$NS_B" tc qdisc show dev vb)" != *clsact* ]]
	ours_gone
}

# The 99.99% binomial interval for n packets at loss p: received within n(1-p) +- 3.89 sd (the
# issue's 99% bound is judged by `make bench`; a test must not fail one run in a hundred).
in_interval() {
	python3 -c "
import math, sys
got, n, p = $1, $2, $3
sd = math.sqrt(n * p * (1 - p))
lo, hi = n * (1 - p) - 3.89 * sd, n * (1 - p) + 3.89 * sd
print(f'received {got} of {n} at {p:.0%} loss, 99.99% interval [{lo:.0f}, {hi:.0f}]')
sys.exit(0 if lo <= got <= hi else 1)"
}

@test "loss: bad parameters name their flag" {
	run "$FL" inject loss --dev eth0 --percent 150 --for 1s
	assert_failure 2
	assert_output --partial "--percent: 'percent' must be more than 0 and at most 100"
	run "$FL" inject loss --dev eth0 --percent 5 --dport 70000 --proto udp --for 1s
	assert_failure 2
	assert_output --partial "--dport: 'dport' must be a port or range"
	run "$FL" inject partition --dev eth0 --for 1s
	assert_failure 2
	assert_output --partial "a 'partition' needs 'peer'"
}

@test "loss: the CLI path on a namespace of our own, then nothing left" {
	make_pair
	run --separate-stderr "$FL" inject loss --netns "$NS_B" --dev vb --percent 20 --proto udp \
		--dport 9000 --direction ingress --for 2s --json
	assert_success
	[ "$(jq -r .description <<<"$output")" = "20% loss udp dport 9000 ingress on vb in netns $NS_B" ]
	remember_json <(printf '%s' "$output")
	no_leftovers
}

@test "loss: 50% on a lab host's UDP 9000 at its switch port; 9001 untouched" {
	cat >lab.yaml <<'Y'
version: 1
name: netloss
lab:
  hosts:
    rx: {}
    tx: {}
steady_state:
  baseline: 500ms
faults:
  - name: lose
    kind: loss
    on: rx
    percent: 50%
    proto: udp
    dport: "9000"
    at: 0s
    for: 30s
Y
	"$FL" run lab.yaml >run.out 2>&1 &
	FL_PIDS+=($!)
	local runpid=$!
	wait_for '[ -n "$(ls "$FAULTLINE_STATE_DIR/runs" 2>/dev/null)" ]' 10
	id="$(ls "$FAULTLINE_STATE_DIR/runs" | head -1)"
	wait_for "ip netns exec fl-$id-sw tc filter show dev h-rx egress 2>/dev/null | grep -q netfault_egres" 15
	# the host's ingress is its switch port's egress
	[ -z "$(filters "fl-$id-sw" h-rx ingress)" ]
	rx="$(awk '$2 == "rx" {print $1}' "$FAULTLINE_STATE_DIR/runs/$id/hosts")"
	udp_ok "fl-$id-tx" "fl-$id-rx" "$rx"
	out="$BATS_TEST_TMPDIR/lab.counts"
	ip netns exec "fl-$id-rx" python3 "$BATS_TEST_TMPDIR/udp.py" recv 9000,9001 3 "$out" &
	rp=$!
	wait_for "[ -e $out.ready ]" 10
	ip netns exec "fl-$id-tx" python3 "$BATS_TEST_TMPDIR/udp.py" send "$rx" 9000,9001 1000 0.001
	wait "$rp"
	read -r got9000 got9001 <"$out"
	in_interval "$got9000" 1000 0.5
	[ "$got9001" -eq 1000 ]
	kill -INT "$runpid"
	wait "$runpid" || true
	[ -z "$(ls /sys/fs/bpf/faultline 2>/dev/null)" ]
	# asked versus observed: the program's own counters agree with what the receiver missed
	python3 - "faultline-out/$id/result.json" "$got9000" <<'P'
import json, sys
r = json.load(open(sys.argv[1]))
lost = 1000 - int(sys.argv[2])
f = r["faults"][0]
assert f["backend"] == "tc-bpf" and f["asked"]["percent"] == "50%", f
obs = [e for e in f["events"] if e["event"] == "observed"][0]["observed"]
assert obs["packets_matched"] >= 1000, obs
assert lost <= obs["packets_dropped"] <= obs["packets_matched"], (lost, obs)
assert 0.40 < obs["drop_ratio"] < 0.60, obs
assert [e["event"] for e in f["events"]][-2:] == ["observed", "reverted"], f["events"]
P
}

@test "partition: a lab host and its peer cannot talk both ways, a third host can; back after" {
	cat >lab.yaml <<'Y'
version: 1
name: netpart
lab:
  hosts:
    a: {}
    b: {}
    c: {}
steady_state:
  baseline: 500ms
  probes:
    - { name: up, exec: ["true"], every: 200ms }
faults:
  - name: split
    kind: partition
    on: a
    peer: b
    at: 0s
    for: 8s
recovery: { within: 5s, healthy_for: 20s }
Y
	"$FL" run lab.yaml >run.out 2>&1 &
	FL_PIDS+=($!)
	local runpid=$!
	wait_for '[ -n "$(ls "$FAULTLINE_STATE_DIR/runs" 2>/dev/null)" ]' 10
	id="$(ls "$FAULTLINE_STATE_DIR/runs" | head -1)"
	wait_for "ip netns exec fl-$id-sw tc filter show dev h-a ingress 2>/dev/null | grep -q netfault" 15
	hosts="$FAULTLINE_STATE_DIR/runs/$id/hosts"
	A="$(awk '$2 == "a" {print $1}' "$hosts")"
	B="$(awk '$2 == "b" {print $1}' "$hosts")"
	C="$(awk '$2 == "c" {print $1}' "$hosts")"
	# (`! cmd` would never fail a test: errexit ignores it)
	run ! udp_ok "fl-$id-b" "fl-$id-a" "$A"
	run ! udp_ok "fl-$id-a" "fl-$id-b" "$B"
	udp_ok "fl-$id-c" "fl-$id-a" "$A"
	udp_ok "fl-$id-a" "fl-$id-c" "$C"
	# after the fault (8 s), while the lab is still up
	wait_for '! ip netns exec fl-$id-sw tc filter show dev h-a ingress | grep -q netfault' 15
	udp_ok "fl-$id-b" "fl-$id-a" "$A"
	udp_ok "fl-$id-a" "fl-$id-b" "$B"
	kill -INT "$runpid"
	wait "$runpid" || true
}

@test "SIGKILL during the fault, then recover --all: no qdisc, filter, pin or program left" {
	make_pair
	"$FL" inject loss --netns "$NS_B" --dev vb --percent 100 --proto udp --for 60s &
	FL_PIDS+=($!)
	local pid=$!
	wait_for "filters $NS_B vb ingress | grep -q netfault_ingres" 10
	remember_ours
	kill -KILL "$pid"
	wait "$pid" || true
	# the filter outlives us (a cls_bpf filter holds the program)
	filters "$NS_B" vb ingress | grep -q netfault_ingres
	run "$FL" recover --all
	assert_success
	no_leftovers
}

@test "a clsact with someone else's filter survives the fault and its revert" {
	make_pair
	cat >pass.c <<'C'
#include <linux/bpf.h>
__attribute__((section("tc"), used)) int theirs(struct __sk_buff *s) { return -1; }
char _license[] __attribute__((section("license"), used)) = "GPL";
C
	clang -O2 -target bpf -I/usr/include/x86_64-linux-gnu -c pass.c -o pass.o
	ip netns exec "$NS_B" tc qdisc add dev vb clsact
	ip netns exec "$NS_B" tc filter add dev vb ingress pref 100 bpf da obj pass.o sec tc
	ip netns exec "$NS_B" tc filter add dev vb egress pref 100 bpf da obj pass.o sec tc
	before_in="$(filters "$NS_B" vb ingress)"
	before_eg="$(filters "$NS_B" vb egress)"
	run --separate-stderr "$FL" inject partition --netns "$NS_B" --dev vb --dst 10.250.0.0/24 \
		--for 1s --json
	assert_success
	[ "$(filters "$NS_B" vb ingress)" = "$before_in" ]
	[ "$(filters "$NS_B" vb egress)" = "$before_eg" ]
	ip netns exec "$NS_B" tc qdisc show dev vb | grep -q clsact
	remember_json <(printf '%s' "$output")
	ours_gone
}

@test "exclude and the SSH connection's ports pass even at 100% loss" {
	make_pair
	SSH_CONNECTION="10.9.9.9 9002 10.250.0.2 9003" \
		"$FL" inject loss --netns "$NS_B" --dev vb --percent 100 --proto udp \
		--exclude 9001 --for 30s &
	FL_PIDS+=($!)
	local pid=$!
	wait_for "filters $NS_B vb ingress | grep -q netfault_ingres" 10
	remember_ours
	read -r a b c d < <(send_count 9000,9001,9002,9003 200)
	[ "$a" -eq 0 ]
	[ "$b" -eq 200 ]
	[ "$c" -eq 200 ]
	[ "$d" -eq 200 ]
	kill -INT "$pid"
	wait "$pid" || true
	no_leftovers
}

@test "TTL: SIGKILL and no recover, traffic is back within for + 30 s + 1 s" {
	make_pair
	"$FL" inject loss --netns "$NS_B" --dev vb --percent 100 --proto udp --dport 9000 \
		--for 1s &
	FL_PIDS+=($!)
	local pid=$!
	wait_for "filters $NS_B vb ingress | grep -q netfault_ingres" 10
	local t0
	t0="$(date +%s.%N)"
	kill -KILL "$pid"
	wait "$pid" || true
	read -r got < <(send_count 9000 50)
	[ "$got" -eq 0 ]
	# the program steps aside at its expiry (apply + for + 30 s) though nobody reverted it
	ip netns exec "$NS_B" python3 "$BATS_TEST_TMPDIR/udp.py" first 9000 45 >first.txt &
	local rp=$!
	sleep 0.5
	ip netns exec "$NS_A" python3 "$BATS_TEST_TMPDIR/udp.py" send 10.250.0.2 9000 900 0.05 &
	local sp=$!
	wait "$rp"
	kill "$sp" 2>/dev/null || true
	python3 -c "
import sys
dt = $(cat first.txt) - $t0
print(f'traffic back {dt:.2f} s after the fault was applied')
sys.exit(0 if 30 <= dt <= 32 else 1)"
}

@test "loss: burst model (Gilbert-Elliott): the stationary loss, in bursts of mean length 1/r" {
	make_pair
	run "$FL" inject loss --dev eth0 --burst-p 5 --burst-r 30 --percent 10 --for 1s
	assert_failure 2
	assert_output --partial "--percent: 'percent' cannot be combined with a burst model"
	# seq_round FLAGS...: 5000 numbered packets through a loss fault of 9 s; the receiver's
	# "sent lost runs mean_run" in seq.out, the fault's result in fault.json
	seq_round() {
		"$FL" inject loss --netns "$NS_B" --dev vb --proto udp --dport 9000 "$@" --for 9s \
			--json >fault.json &
		FL_PIDS+=($!)
		local pid=$! rp
		wait_for "filters $NS_B vb ingress | grep -q netfault_ingres" 10
		rm -f seq.out seq.out.ready
		ip netns exec "$NS_B" python3 "$BATS_TEST_TMPDIR/udp.py" seqrecv 9000 6 seq.out 5000 &
		rp=$!
		wait_for "[ -e seq.out.ready ]" 10
		ip netns exec "$NS_A" python3 "$BATS_TEST_TMPDIR/udp.py" seqsend 10.250.0.2 9000 5000 \
			0.0005
		wait "$rp"
		wait "$pid"
	}
	# the same loss without bursts, measured: runs of mean about 1 / (1 - loss)
	seq_round --percent 14.2857
	read -r _ _ _ indep_mean <seq.out
	remember_json fault.json
	seq_round --burst-p 5% --burst-r 30%
	mv fault.json burst.json
	read -r n lost runs mean <seq.out
	# the receiver's numbers against the model, and the program's counters against both
	python3 - "$n" "$lost" "$runs" "$mean" burst.json "$indep_mean" <<'P'
import json, math, sys
n, lost, runs, mean = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
measured_indep = float(sys.argv[6])
p, r = 0.05, 0.30
pi = p / (p + r)                     # stationary share of the bad state = expected loss
lam = 1 - p - r                      # the chain's autocorrelation per packet
# binomial sd, inflated by the chain's correlation ((1 + lam) / (1 - lam)): 99.99% interval
sd = math.sqrt(pi * (1 - pi) / n * (1 + lam) / (1 - lam))
lo, hi = pi - 3.89 * sd, pi + 3.89 * sd
loss = lost / n
indep = 1 / (1 - pi)                 # mean loss run at the same loss without bursts
print(f"{n} sent, {lost} lost ({loss:.3%}, expected {pi:.3%}, 99.99% [{lo:.3%}, {hi:.3%}]); "
      f"{runs} loss runs of mean {mean:.2f} (1/r = {1 / r:.2f}; independent loss at the same "
      f"rate: {indep:.2f} expected, {measured_indep:.2f} measured)")
assert lo <= loss <= hi, (loss, lo, hi)
# the geometric run length's sd is sqrt(1 - r) / r; 99.99% over `runs` runs
se = math.sqrt(1 - r) / r / math.sqrt(runs)
assert abs(mean - 1 / r) <= 3.89 * se, (mean, 1 / r, se)
assert mean > 2 * indep and mean > 2 * measured_indep, (mean, indep, measured_indep)
assert abs(measured_indep - indep) < 0.2, (measured_indep, indep)
f = json.load(open(sys.argv[5]))
assert "burst loss (GE p=5% r=30% 1-h=100% 1-k=0%), expected 14.3%" in f["description"], f
inj = [e for e in f["events"] if e["event"] == "applied"][0]["injected"]
assert abs(inj["expected_loss_percent"] - 100 * pi) < 1e-9, inj
obs = [e for e in f["events"] if e["event"] == "observed"][0]["observed"]
assert abs(obs["expected_drop_ratio"] - pi) < 1e-9, obs
assert obs["packets_dropped"] == lost, (obs, lost)
# every bad-state sojourn is one run of losses (the packet entering it is judged good)
# (the last packet may open a burst that has no loss yet)
assert runs <= obs["bursts"] <= runs + 1, (obs, runs)
P
	remember_json burst.json
	no_leftovers
}

@test "corrupt (tc-bpf): one payload bit per damaged packet, checksum fixed, the application gets it" {
	make_pair
	cat >corr.py <<'PY'
import select, socket, struct, sys, time
PAY = bytes(range(64))
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
if sys.argv[1] == "recv":
    # recv PORT,PORT SECS OUT: per port "received damaged one_bit" against the pattern
    socks = {}
    for p in sys.argv[2].split(","):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        s.bind(("0.0.0.0", int(p))); s.setblocking(False); socks[s] = [0, 0, 0]
    open(sys.argv[4] + ".ready", "w").close()
    end = time.time() + float(sys.argv[3])
    while time.time() < end:
        for s in select.select(list(socks), [], [], 0.05)[0]:
            while True:
                try:
                    d = s.recv(2048)
                except BlockingIOError:
                    break
                bits = sum(bin(a ^ b).count("1") for a, b in zip(d, PAY)) + 8 * abs(len(d) - 64)
                c = socks[s]; c[0] += 1; c[1] += bits > 0; c[2] += bits == 1
    with open(sys.argv[4], "w") as f:
        f.write(" ".join(" ".join(map(str, c)) for c in socks.values()) + "\n")
else:
    # send SRC DST PORT N MODE: MODE udp (the stack's checksum), raw (ours, computed here:
    # nothing offloaded, so the receiver verifies it) or bad (raw with a wrong checksum)
    src, dst, port, n, mode = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
    if mode == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        pkt, to = PAY, (dst, port)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
        ph = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, 72)
        c = csum(ph + struct.pack("!HHHH", 40000, port, 72, 0) + PAY) or 0xffff
        pkt, to = struct.pack("!HHHH", 40000, port, 72, c ^ (mode == "bad")) + PAY, (dst, 0)
    for i in range(n):
        s.sendto(pkt, to)
        time.sleep(0.001)
PY
	# ICMP has no payload this backend damages
	run "$FL" inject corrupt --backend tc-bpf --dev eth0 --percent 5 --proto icmp --for 1s
	assert_failure 2
	assert_output --partial "--proto: a 'corrupt' fault (tc-bpf) damages TCP and UDP payloads"
	csum_errors() { ip netns exec "$NS_B" nstat -az UdpInCsumErrors | awk '$1 == "UdpInCsumErrors" {print $2}'; }
	corr_round() { # MODE: 300 packets to 9000 and 9001 each; prints the receiver's counts
		ip netns exec "$NS_B" python3 corr.py recv 9000,9001 2 corr.out &
		local rp=$!
		wait_for "[ -e corr.out.ready ]" 10
		for port in 9000 9001; do
			ip netns exec "$NS_A" python3 corr.py send 10.250.0.1 10.250.0.2 "$port" 300 "$1" &
		done
		wait "$rp"
		rm corr.out.ready
		cat corr.out
	}
	# the receiver does verify checksums on this path: a wrong one is dropped and counted
	local e0
	e0="$(csum_errors)"
	read -r got _ < <(corr_round bad)
	[ "$got" -eq 0 ]
	[ "$(csum_errors)" -eq $((e0 + 600)) ]

	"$FL" inject corrupt --backend tc-bpf --netns "$NS_B" --dev vb --percent 30 --proto udp \
		--dport 9000 --for 30s --json >corrupt.json &
	FL_PIDS+=($!)
	local pid=$!
	wait_for "filters $NS_B vb ingress | grep -q netfault_ingres" 10
	e0="$(csum_errors)"
	for mode in udp raw; do
		read -r got dmg one got1 dmg1 _ < <(corr_round "$mode")
		echo "$mode: 9000 received $got, $dmg damaged ($one by one bit); 9001 $got1, $dmg1"
		[ "$got" -eq 300 ] && [ "$got1" -eq 300 ]  # nothing lost: the checksums hold
		[ "$dmg" -eq "$one" ]                      # one bit, never more
		[ "$dmg1" -eq 0 ]                          # the other port is untouched
		python3 -c "
import math, sys
n, p, k = 300, 0.3, $dmg
sd = math.sqrt(n * p * (1 - p))
# 99.99% (3.89 sd): two draws per run, and a test must not fail one run in fifty by chance
sys.exit(0 if n * p - 3.89 * sd <= k <= n * p + 3.89 * sd else 1)"
		TOTAL=$((${TOTAL:-0} + dmg))
	done
	[ "$(csum_errors)" -eq "$e0" ]
	kill -INT "$pid"
	wait "$pid" || true
	python3 - corrupt.json "$TOTAL" <<'P'
import json, sys
f = json.load(open(sys.argv[1]))
assert f["backend"] == "tc-bpf" and "(one payload bit, checksum fixed)" in f["description"], f
obs = [e for e in f["events"] if e["event"] == "observed"][0]["observed"]
assert obs["packets_corrupted"] == int(sys.argv[2]), (obs, sys.argv[2])
assert obs["expected_corrupted_ratio"] == 0.3, obs
P
	remember_json corrupt.json
	no_leftovers
}

@test "corrupt (tc-bpf) on TCP: the stream arrives whole and damaged, one bit per hit" {
	make_pair
	cat >tcp.py <<'PY'
import socket, sys
if sys.argv[1] == "recv":
    # recv PORT OUT: the number of bytes and of set bits received (the sender sends zeros)
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(sys.argv[2]))); s.listen(1); s.settimeout(20)
    open(sys.argv[3] + ".ready", "w").close()
    c, _ = s.accept(); c.settimeout(20)
    n = ones = 0
    while True:
        d = c.recv(65536)
        if not d:
            break
        n += len(d); ones += sum(bin(b).count("1") for b in d if b)
    open(sys.argv[3], "w").write(f"{n} {ones}\n")
else:
    s = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=20)
    s.sendall(bytes(1 << 20)); s.close()
PY
	"$FL" inject corrupt --backend tc-bpf --netns "$NS_B" --dev vb --percent 50 --proto tcp \
		--dport 7000 --for 30s --json >corrupt.json &
	FL_PIDS+=($!)
	local pid=$!
	wait_for "filters $NS_B vb ingress | grep -q netfault_ingres" 10
	ip netns exec "$NS_B" python3 tcp.py recv 7000 tcp.out &
	local rp=$!
	wait_for "[ -e tcp.out.ready ]" 10
	ip netns exec "$NS_A" python3 tcp.py send 10.250.0.2 7000
	wait "$rp"
	read -r bytes ones <tcp.out
	kill -INT "$pid"
	wait "$pid" || true
	python3 - corrupt.json "$bytes" "$ones" <<'P'
import json, sys
f = json.load(open(sys.argv[1]))
n, ones = int(sys.argv[2]), int(sys.argv[3])
obs = [e for e in f["events"] if e["event"] == "observed"][0]["observed"]
print(f"{n} bytes received, {ones} bits set; {obs['packets_corrupted']} of "
      f"{obs['packets_matched']} segments damaged")
assert n == 1 << 20, n                   # TCP delivered everything: it saw nothing wrong
assert ones > 0                          # ...and the application got the damage
# each damaged segment set one bit of the zeros (fewer when one was a retransmit)
assert 0 < ones <= obs["packets_corrupted"], (ones, obs)
P
	remember_json corrupt.json
	no_leftovers
}

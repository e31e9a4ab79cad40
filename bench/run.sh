#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `make bench`: faultline's network faults measured on real traffic, each side by side with the
# command-line tool a user would otherwise reach for, in one run. Writes bench/results.json
# and regenerates bench/RESULTS.md (bench/report.py judges each row against the issue's bounds).
#
# Everything happens between two network namespaces of the bench's own (flbench-a-PID,
# flbench-b-PID, a veth pair: A 10.250.77.1 va <-> B 10.250.77.2 vb), in a mount namespace of
# its own (below), and under a state directory of its own, so `faultline recover --all` at
# exit touches only the bench's runs. The trap removes all of it on every exit path (end,
# error, Ctrl-C, SIGTERM).
#
# Environment: FAULTLINE, FLPERF, NETFAULT_OBJ (set by the Makefile), BENCH_RUNS (apply/revert
# iterations, default 30), BENCH_OUT (directory for results.json and RESULTS.md, default bench/).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
FL="${FAULTLINE:-$ROOT/faultline}"
FLPERF="${FLPERF:-$ROOT/build/bench/flperf}"
OBJ="${NETFAULT_OBJ:-$ROOT/build/bpf/netfault.bpf.o}"
RUNS="${BENCH_RUNS:-30}"
OUT="${BENCH_OUT:-$HERE}"

die() { echo "bench: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (namespaces, tc, BPF)"
for t in "$FL" "$FLPERF" "$OBJ"; do [ -e "$t" ] || die "missing $t (run 'make bench')"; done
for c in ip tc iptables jq python3 unshare; do command -v "$c" >/dev/null || die "needs $c"; done

# A mount namespace of the bench's own, with a bpffs instance of its own on /sys/fs/bpf:
# faultline's pins, what `tc ... bpf obj` leaves there, and the /run/netns entries of the
# bench's namespaces stay out of the host's mounts and vanish with the bench, even on SIGKILL.
if [ -z "${FLBENCH_PRIVATE:-}" ]; then
	FLBENCH_PRIVATE=1 exec unshare --mount --propagation private "$0" "$@"
fi
mount -t bpf -o mode=0700 bpf /sys/fs/bpf

TMP="$(mktemp -d /tmp/flbench.XXXXXX)"
export FAULTLINE_STATE_DIR="$TMP/state"
NS_A="flbench-a-$$"
NS_B="flbench-b-$$"
A_ADDR=10.250.77.1
B_ADDR=10.250.77.2
RAW="$TMP/raw.jsonl"
BG=()

cleanup() {
	local st=$?
	set +e
	for p in "${BG[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	# faults of ours still active (an error half-way): revert them faultline's way first
	[ -d "$FAULTLINE_STATE_DIR" ] && "$FL" recover --all --grace 5s >/dev/null 2>&1
	# the namespaces take their veth, qdiscs, filters and iptables rules with them
	ip netns del "$NS_A" 2>/dev/null
	ip netns del "$NS_B" 2>/dev/null
	rm -rf "$TMP"
	[ "$st" -eq 0 ] || echo "bench: failed (status $st); everything it made is removed" >&2
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log() { printf '  %-9s %s\n' "$1" "$2" >&2; }

# --- the namespaces --------------------------------------------------------------------------
ip netns add "$NS_A"
ip netns add "$NS_B"
ip link add "flbA$$" type veth peer name "flbB$$"
ip link set "flbA$$" netns "$NS_A" name va
ip link set "flbB$$" netns "$NS_B" name vb
ip -n "$NS_A" addr add "$A_ADDR/24" dev va
ip -n "$NS_B" addr add "$B_ADDR/24" dev vb
for n in "$NS_A" "$NS_B"; do ip -n "$n" link set lo up; done
ip -n "$NS_A" link set va up
ip -n "$NS_B" link set vb up

inA() { ip netns exec "$NS_A" "$@"; }
inB() { ip netns exec "$NS_B" "$@"; }

# wait_file FILE: until it exists (10 s at most)
wait_file() {
	local i
	for ((i = 0; i < 200; i++)); do [ -e "$1" ] && return 0; sleep 0.05; done
	die "timed out waiting for $1"
}

# udp_run COUNT PPS IDLE: UDP A -> B:9000; prints {"send": ..., "recv": ...}
udp_run() {
	local r="$TMP/recv.$RANDOM" s="$TMP/send.$RANDOM"
	inB "$FLPERF" udp-recv --port 9000 --ready "$r.ready" --idle "$3" --timeout 60 >"$r" &
	BG+=($!)
	wait_file "$r.ready"
	inA "$FLPERF" udp-send --dst "$B_ADDR" --port 9000 --count "$1" --pps "$2" >"$s"
	wait "${BG[-1]}"
	unset 'BG[-1]'
	jq -cn --slurpfile s "$s" --slurpfile r "$r" '{send: $s[0], recv: $r[0]}'
}

# tcp_run SECONDS [WRAP...]: TCP A -> B:9100 (the sender under WRAP); prints the receiver's JSON
tcp_run() {
	local secs="$1" r="$TMP/tcp.$RANDOM"
	shift
	inB "$FLPERF" tcp-recv --port 9100 --ready "$r.ready" --timeout 30 >"$r" &
	BG+=($!)
	wait_file "$r.ready"
	"$@" ip netns exec "$NS_A" "$FLPERF" tcp-send --dst "$B_ADDR" --port 9100 \
		--seconds "$secs" >/dev/null
	wait "${BG[-1]}"
	unset 'BG[-1]'
	cat "$r"
}

# record JSON...: merge objects into one line of the raw record
record() { jq -cn '[inputs] | add' <<<"$*" >>"$RAW"; }

# fl_start ARGS...: `faultline inject ARGS --detach`; prints the run id, or "!reason" when the
# fault could not be applied (an n/a row for a backend this build or host lacks)
fl_start() {
	local out err rc=0
	out="$("$FL" inject "$@" --detach --json 2>"$TMP/fl.err")" || rc=$?
	if [ "$rc" -eq 0 ]; then
		jq -r .run_id <<<"$out"
	else
		err="$(tr '\n' ' ' <"$TMP/fl.err")"
		echo "!${err:-faultline inject exited $rc} (exit $rc)"
	fi
}
fl_stop() { "$FL" recover "$1" >/dev/null; }

# fl_row META MEASURE FAULT_ARGS...: apply the fault, record META with the measurement (MEASURE
# is split into words and run), revert; when the fault cannot be applied, META with the error
fl_row() {
	local meta="$1" measure="$2" id
	shift 2
	id="$(fl_start "$@")"
	if [ "${id:0:1}" = "!" ]; then
		record "$meta" "$(jq -cn --arg r "${id:1}" '{error: $r}')"
		return
	fi
	# shellcheck disable=SC2086
	record "$meta" "$($measure)"
	fl_stop "$id"
}

# na META REASON: a row that cannot run here
na() { record "$1" "$(jq -cn --arg r "$2" '{na: $r}')"; }

# the fault's BPF program id (ingress), from `faultline status --json`
fl_prog_id() {
	"$FL" status --json | jq -r --arg id "$1" \
		'.runs[] | select(.id == $id) | .faults[0].injected.ingress_prog_id'
}

IPT_LOSS=(INPUT -p udp --dport 9000 -m statistic --mode random -m comment --comment flbench)
ipt() { inB iptables -w "$@"; }

echo "bench: namespaces $NS_A, $NS_B; state $FAULTLINE_STATE_DIR" >&2

# --- 1. loss fidelity ------------------------------------------------------------------------
N_LOSS=10000
log loss "control: $N_LOSS packets, no fault"
record '{"bench":"loss","tool":"none","asked_pct":0}' "$(udp_run $N_LOSS 10000 0.5)"
for p in 1 10 50; do
	log loss "faultline tc-bpf $p% (ingress, udp dport 9000)"
	fl_row "{\"bench\":\"loss\",\"tool\":\"faultline\",\"backend\":\"tc-bpf\",\"asked_pct\":$p}" \
		"udp_run $N_LOSS 10000 0.5" loss --netns "$NS_B" --dev vb --percent "$p" \
		--proto udp --dport 9000 --direction ingress --for 5m

	log loss "iptables -m statistic $p%"
	prob="$(python3 -c "print($p / 100)")"
	ipt -A "${IPT_LOSS[@]}" --probability "$prob" -j DROP
	record "{\"bench\":\"loss\",\"tool\":\"iptables\",\"asked_pct\":$p}" \
		"$(udp_run $N_LOSS 10000 0.5)"
	ipt -D "${IPT_LOSS[@]}" --probability "$prob" -j DROP
done

# --- 2. latency fidelity ---------------------------------------------------------------------
N_LAT=2000 # 2 s at 1000 pps per row
log latency "baseline one-way delay, no fault"
record '{"bench":"latency","tool":"none","delay_ms":0,"jitter_ms":0}' \
	"$(udp_run $N_LAT 1000 1.0)"
# which latency backend can run here (doctor's own probes)
nfq_status="$("$FL" doctor --json | jq -r '[.kinds[] | select(.kind == "latency") | .backends[] |
	select(.name == "nfqueue")][0] // {} | "\(.status // "absent")\t\(.detail // "")"')"
nfq_na=""
case "$nfq_status" in
available*) ;;
absent*) nfq_na="no nfqueue latency backend in this build (faultline doctor)" ;;
*) nfq_na="nfqueue latency backend ${nfq_status%%$'\t'*}: ${nfq_status#*$'\t'}" ;;
esac

# netem_row META MEASURE NETEM_ARGS...: the same row with `tc qdisc add dev va root netem
# NETEM_ARGS` on A (delays A -> B), what users of other tools get; n/a when the kernel lacks it
netem_row() {
	local meta="$1" measure="$2"
	shift 2
	if ! inA tc qdisc add dev va root netem "$@" 2>"$TMP/tc.err"; then
		na "$meta" "tc qdisc add ... netem: $(tr '\n' ' ' <"$TMP/tc.err")"
		return
	fi
	log netem "tc netem $* (A's egress): $measure"
	# shellcheck disable=SC2086
	record "$meta" "$($measure)"
	inA tc qdisc del dev va root
}

for d in 1 10 50 100; do
	for j in 0 $(python3 -c "print($d / 10)"); do
		jf=()
		[ "$j" = 0 ] || jf=(--jitter "$(python3 -c "print(int($j * 1000))")us")
		meta="\"bench\":\"latency\",\"delay_ms\":$d,\"jitter_ms\":$j"
		if [ -n "$nfq_na" ]; then
			na "{$meta,\"tool\":\"faultline\",\"backend\":\"nfqueue\"}" "$nfq_na"
		else
			log latency "faultline nfqueue ${d}ms jitter ${j}ms (ingress)"
			fl_row "{$meta,\"tool\":\"faultline\",\"backend\":\"nfqueue\"}" \
				"udp_run $N_LAT 1000 1.0" latency --netns "$NS_B" --dev vb \
				--delay "${d}ms" "${jf[@]}" --direction ingress --backend nfqueue --for 5m
		fi
		jt=()
		[ "$j" = 0 ] || jt=("${j}ms")
		netem_row "{$meta,\"tool\":\"tc-netem\"}" "udp_run $N_LAT 1000 1.0" \
			delay "${d}ms" "${jt[@]}"
	done
done

# --- 3. overhead on traffic the fault does not target ----------------------------------------
# The fault: 50% loss of UDP to port 9 at B's ingress; the traffic: TCP to 9100, UDP to 9000.
REPS=7
TCP_S=2
for ((i = 1; i <= REPS; i++)); do
	log overhead "TCP ${TCP_S}s, round $i/$REPS: no fault, faultline, iptables"
	record "{\"bench\":\"overhead_tcp\",\"tool\":\"none\",\"round\":$i}" "$(tcp_run $TCP_S)"
	id="$(fl_start loss --netns "$NS_B" --dev vb --percent 50 --proto udp --dport 9 \
		--direction ingress --for 5m)"
	[ "${id:0:1}" != "!" ] || die "overhead fault: ${id:1}"
	record "{\"bench\":\"overhead_tcp\",\"tool\":\"faultline\",\"round\":$i}" "$(tcp_run $TCP_S)"
	if [ "$i" -eq 1 ]; then
		prog="$(fl_prog_id "$id")"
		log overhead "BPF run time of program $prog: TCP (per skb), then 64-byte UDP"
		tcp_run $TCP_S "$FLPERF" bpfstats --prog-id "$prog" --out "$TMP/st.tcp" -- >/dev/null
		record '{"bench":"overhead_ns","traffic":"tcp"}' "$(cat "$TMP/st.tcp")"
		"$FLPERF" bpfstats --prog-id "$prog" --out "$TMP/st.udp" -- \
			ip netns exec "$NS_A" "$FLPERF" udp-send --dst "$B_ADDR" --port 9000 \
			--count 20000 --pps 20000 >/dev/null
		record '{"bench":"overhead_ns","traffic":"udp64"}' "$(cat "$TMP/st.udp")"
	fi
	fl_stop "$id"
	ipt -A INPUT -p udp --dport 9 -m statistic --mode random --probability 0.5 \
		-m comment --comment flbench -j DROP
	record "{\"bench\":\"overhead_tcp\",\"tool\":\"iptables\",\"round\":$i}" "$(tcp_run $TCP_S)"
	ipt -D INPUT -p udp --dport 9 -m statistic --mode random --probability 0.5 \
		-m comment --comment flbench -j DROP
done

# --- 4. apply + revert time --------------------------------------------------------------------
log apply "faultline backends in-process vs tc and iptables commands, $RUNS rounds each"
record '{"bench":"apply_revert"}' \
	"$("$FLPERF" applyrevert --netns "$NS_B" --dev vb --n "$RUNS" --obj "$OBJ")"

# --- 5. TCP through a 20 ms latency fault ------------------------------------------------------
TCP_LAT_S=5
meta='{"bench":"tcp_latency","tool":"faultline","backend":"nfqueue","delay_ms":20}'
if [ -n "$nfq_na" ]; then
	na "$meta" "$nfq_na"
else
	log tcp20 "faultline nfqueue 20ms (ingress), TCP ${TCP_LAT_S}s"
	fl_row "$meta" "tcp_run $TCP_LAT_S" latency --netns "$NS_B" --dev vb --delay 20ms \
		--direction ingress --backend nfqueue --for 5m
fi
netem_row '{"bench":"tcp_latency","tool":"tc-netem","delay_ms":20}' "tcp_run $TCP_LAT_S" \
	delay 20ms

# --- the machine, then the verdicts ------------------------------------------------------------
# the commit measured; "-dirty" when the tree differs from it (the bench's own output aside)
commit="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
[ -z "$(git -C "$ROOT" status --porcelain -- . ':!bench/results.json' ':!bench/RESULTS.md' \
	2>/dev/null)" ] || commit="$commit-dirty"
record "$(jq -cn --arg k "$(uname -r)" --arg cpu "$(awk -F': ' '/model name/ {print $2; exit}' \
	/proc/cpuinfo)" --argjson n "$(nproc)" --arg d "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	--arg v "$("$FL" version 2>/dev/null | head -1)" \
	--arg g "$commit" \
	'{bench: "machine", kernel: $k, cpu: $cpu, cpus: $n, date: $d, faultline: $v, commit: $g}')"
# --- syscall faults (issue 6): faultline exec, strace, fiu-run on a write loop -------------
log syscall "write loop: plain, seccomp errno, notify (sync/no sync), strace, fiu-run"
FAULTLINE="$FL" "$HERE/syscall.sh" >>"$RAW" || log syscall "failed (see above)"
# --- fleets (issue 7): apply/revert on 10, 50, 100 lab hosts via agents and ssh; agent RSS ----
log fleet "labs of 10, 50, 100 hosts, agents and sshd; RSS of an agent"
FAULTLINE="$FL" "$HERE/fleet.sh" --md "$TMP/fleet.md" >>"$RAW" || log fleet "failed (see above)"
python3 "$HERE/report.py" "$RAW" "$OUT/results.json" "$OUT/RESULTS.md"
[ ! -s "$TMP/fleet.md" ] || cat "$TMP/fleet.md" >>"$OUT/RESULTS.md"
sed -n '/^## Summary/,/^## Loss/{/^- /p}' "$OUT/RESULTS.md" >&2
echo "bench: wrote $OUT/results.json and $OUT/RESULTS.md" >&2

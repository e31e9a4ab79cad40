#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The fleet rows of `make bench` (issue 7): the time to apply and to revert one fault on 10, 50
# and 100 lab hosts, via agents (mutual TLS) and via ssh (Debian's sshd in every lab host,
# `faultline agent --stdio` as the key's forced command), and the RSS of an agent idle and
# holding 100 active faults.
#
# Each size is one `faultline run` of a lab of N hosts (tests/lib/ssh-helpers.bash makes the
# keys, certificates and configs) with one fault, UDP to port 9999 dropped on eth0 (tc-bpf), on
# every host of the group; the figures are the run's own: the wall time of the fan-out of the
# apply and of the revert (its `applied` and `reverted` events, `fanout_s`, connection set-up
# included) and the per-host times in result.json. RSS: `faultline agent --listen` on loopback
# in a network namespace of the bench's own, idle, then `faultline agent --stdio` in the same
# namespace driven over its pipes with 100 `apply`s (UDP ports 10000-10099 on lo).
#
# Prints one JSON line per measurement on stdout ({"bench": "fleet"...}, {"bench":
# "fleet_rss"...}); with --md FILE also writes the Markdown section (bench/run.sh appends it
# to RESULTS.md). Needs root. Environment: FAULTLINE, BENCH_FLEET_SIZES (default "10 50 100"),
# BENCH_FLEET_TRANSPORTS (default "agent ssh").
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
FL="${FAULTLINE:-$ROOT/faultline}"
SIZES="${BENCH_FLEET_SIZES:-10 50 100}"
TRANSPORTS="${BENCH_FLEET_TRANSPORTS:-agent ssh}"
MD=
[ "${1:-}" = --md ] && MD="$2"

die() { echo "bench/fleet: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (lab namespaces)"
[ -x "$FL" ] || die "missing $FL (run 'make')"
for c in jq python3 ssh ssh-keygen /usr/sbin/sshd; do
	command -v "$c" >/dev/null || die "needs $c (tests/lib/deps.sh)"
done

TMP="$(mktemp -d /tmp/flbench-fleet.XXXXXX)"
export FAULTLINE_STATE_DIR="$TMP/state"
NS="flbench-fleet-$$"
BG=()
cleanup() {
	local st=$? id
	set +e
	for p in "${BG[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	"$FL" recover --all --grace 5s >/dev/null 2>&1
	for id in $(ls "$FAULTLINE_STATE_DIR/runs" 2>/dev/null); do
		for n in $(ip netns list | awk '{print $1}' | grep "^fl-$id-"); do
			ip netns pids "$n" | xargs -r kill -KILL 2>/dev/null
			ip netns del "$n" 2>/dev/null
		done
	done
	ip netns del "$NS" 2>/dev/null
	[ -n "${BENCH_FLEET_KEEP:-}" ] || rm -rf "$TMP"
	[ "$st" -eq 0 ] || echo "bench/fleet: failed (status $st); everything it made is removed" >&2
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log() { printf '  %-9s %s\n' fleet "$*" >&2; }

# the helpers of tests/bats/fleet.bats write into BATS_TEST_TMPDIR
BATS_TEST_TMPDIR="$TMP"
# shellcheck source=../tests/lib/ssh-helpers.bash
. "$ROOT/tests/lib/ssh-helpers.bash"
ssh_material "$TMP/ssh"
max=0
for n in $SIZES; do [ "$n" -gt "$max" ] && max=$n; done
agent_material "$TMP/pki" "$max"

ROWS="$TMP/rows.jsonl"
: >"$ROWS"

for tr in $TRANSPORTS; do
	for n in $SIZES; do
		f="$TMP/fleet-$tr-$n.yaml"
		fleet_scenario "$f" "$tr" "$n" "" abort "{ group: web }"
		sed -i "s|^fanout: .*|fanout: { concurrency: 100, timeout: 60s, on_host_failure: abort }|" \
			"$f"
		sed -i 's|^    for: 4s|    for: 1s|' "$f"
		t0=$(date +%s.%N)
		if ! "$FL" run --out "$TMP/out-$tr-$n" "$f" >"$TMP/run.log" 2>&1; then
			log "$tr x$n: run failed: $(tail -3 "$TMP/run.log" | tr '\n' ' ')"
			jq -cn --arg t "$tr" --argjson n "$n" --arg e "$(tail -1 "$TMP/run.log")" \
				'{bench: "fleet", transport: $t, hosts: $n, error: $e}' | tee -a "$ROWS"
			continue
		fi
		wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
		jq -c --arg t "$tr" --argjson n "$n" --argjson wall "$wall" '
			.faults[0] as $f
			| ($f.hosts | map(.apply_s) | sort) as $a
			| ($f.hosts | map(.revert_s) | sort) as $r
			| {bench: "fleet", transport: $t, hosts: $n,
			   applied: ($f.hosts | map(select(.state == "reverted")) | length),
			   apply_s: ($f.events[] | select(.event == "applied") | .fanout_s),
			   revert_s: ($f.events[] | select(.event == "reverted") | .fanout_s),
			   host_apply_p50_s: $a[($a | length) / 2 | floor],
			   host_apply_max_s: $a[-1],
			   host_revert_p50_s: $r[($r | length) / 2 | floor],
			   host_revert_max_s: $r[-1],
			   run_wall_s: $wall}' "$TMP/out-$tr-$n/result.json" | tee -a "$ROWS"
		log "$tr x$n: $(tail -1 "$ROWS" | jq -r '"apply \(.apply_s)s revert \(.revert_s)s"')"
	done
done

# --- RSS of an agent: idle (listening, mutual TLS), and holding 100 faults (stdio) -------------
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
ip netns add "$NS"
ip -n "$NS" link set lo up
ip netns exec "$NS" "$FL" agent --listen 127.0.0.1:7443 --ca "$TMP/pki/ca.pem" \
	--cert "$TMP/pki/$(lab_addr 1).pem" --key "$TMP/pki/$(lab_addr 1).key" \
	2>"$TMP/agent-listen.log" &
BG+=($!)
apid=$!
for _ in $(seq 100); do
	ip netns exec "$NS" bash -c ': </dev/tcp/127.0.0.1/7443' 2>/dev/null && break
	sleep 0.05
done
sleep 0.5
idle=$(rss_kb "$apid")
kill "$apid"
wait "$apid" 2>/dev/null || true
jq -cn --argjson kb "$idle" '{bench: "fleet_rss", mode: "listen", faults: 0, rss_kb: $kb}' |
	tee -a "$ROWS"

# the stdio agent, driven by the protocol itself: hello, 100 applies, RSS, revert them all
FL="$FL" NS="$NS" LOG="$TMP/agent-stdio.log" python3 - <<'PY' | tee -a "$ROWS"
import json, os, struct, subprocess, sys

p = subprocess.Popen(["ip", "netns", "exec", os.environ["NS"], os.environ["FL"], "agent",
                      "--stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=open(os.environ["LOG"], "w"))
n = 0

def call(op, **args):
    global n
    n += 1
    msg = json.dumps(dict(v=1, id=n, op=op, **args)).encode()
    p.stdin.write(struct.pack(">I", len(msg)) + msg)
    p.stdin.flush()
    hdr = p.stdout.read(4)
    (ln,) = struct.unpack(">I", hdr)
    rep = json.loads(p.stdout.read(ln))
    if not rep.get("ok"):
        raise SystemExit(f"{op}: {rep}")
    return rep

def field(path, key):
    for line in open(path):
        if line.startswith(key):
            return int(line.split()[1])
    return 0

def rss(pid):
    # the agent is the child of `ip netns exec` (which execs it: same pid)
    return field(f"/proc/{pid}/status", "VmRSS:")

def tree(pid):
    """The agent and its workers (one per fault): their summed RSS and PSS in kB."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                st = open(f"/proc/{d}/stat").read()
                kids.setdefault(int(st[st.rindex(")") + 2:].split()[1]), []).append(int(d))
            except OSError:
                pass
    todo, r, pss, n = [pid], 0, 0, 0
    while todo:
        x = todo.pop()
        try:
            r += rss(x)
            pss += field(f"/proc/{x}/smaps_rollup", "Pss:")
            n += 1
        except OSError:
            pass
        todo += kids.get(x, [])
    return r, pss, n

call("hello", version=1)
idle = rss(p.pid)
print(json.dumps({"bench": "fleet_rss", "mode": "stdio", "faults": 0, "rss_kb": idle}))
ids = []
for i in range(100):
    r = call("apply", lease_ms=60000,
             fault={"name": f"f{i}", "kind": "loss", "backend": "tc-bpf", "dev": "lo",
                    "direction": "egress", "proto": "udp", "dport": str(10000 + i),
                    "percent": "100", "for": "60s"})
    ids.append(r["fault_id"])
busy = rss(p.pid)
t_rss, t_pss, procs = tree(p.pid)
st = call("status")
print(json.dumps({"bench": "fleet_rss", "mode": "stdio", "faults": len(st["faults"]),
                  "rss_kb": busy, "tree_rss_kb": t_rss, "tree_pss_kb": t_pss,
                  "processes": procs}))
for i in ids:
    call("revert", fault_id=i)
p.stdin.close()
p.wait(10)
PY

if [ -n "$MD" ]; then
	python3 - "$ROWS" "$MD" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
fl = [r for r in rows if r["bench"] == "fleet"]
rss = [r for r in rows if r["bench"] == "fleet_rss"]
md = ["## Fleets", "",
      "One fault (UDP to port 9999 dropped on eth0, tc-bpf) applied and reverted on every host "
      "of a lab of N hosts by `faultline run` (bench/fleet.sh): `agent` reaches `faultline agent "
      "--listen` in each lab host over mutual TLS, `ssh` reaches Debian's sshd in each lab host, "
      "which runs `faultline agent --stdio` (the key's forced command). Apply and revert are the "
      "wall time of the whole fan-out (concurrency 100), connection set-up included for the "
      "apply; per host: the p50 and the slowest. Target (issue 7): 100 hosts in under 5 s via "
      "agents.", "",
      "| transport | hosts | apply (s) | revert (s) | per host apply p50 / max (s) | "
      "per host revert p50 / max (s) | verdict |",
      "|---|---|---|---|---|---|---|"]
for r in fl:
    if "error" in r:
        md.append(f"| {r['transport']} | {r['hosts']} | - | - | - | - | FAIL: {r['error']} |")
        continue
    ok = r["applied"] == r["hosts"]
    if r["transport"] == "agent" and r["hosts"] == 100:
        ok = ok and r["apply_s"] < 5 and r["revert_s"] < 5
    md.append(f"| {r['transport']} | {r['hosts']} | {r['apply_s']:.3f} | {r['revert_s']:.3f} | "
              f"{r['host_apply_p50_s']:.3f} / {r['host_apply_max_s']:.3f} | "
              f"{r['host_revert_p50_s']:.3f} / {r['host_revert_max_s']:.3f} | "
              f"{'PASS' if ok else 'FAIL'} |")
md += ["", "RSS of an agent (target: under 10 MB idle). The agent runs each fault in a worker "
       "process of its own: with faults, the agent's own RSS and, for the agent with its "
       "workers, the summed RSS and PSS (PSS shares the pages they have in common).", "",
       "| agent | active faults | agent RSS (MB) | with workers: processes, RSS / PSS (MB) | "
       "verdict |", "|---|---|---|---|---|"]
for r in rss:
    v = ("PASS" if r["rss_kb"] < 10 * 1024 else "FAIL") if r["faults"] == 0 else "-"
    t = (f"{r['processes']}, {r['tree_rss_kb'] / 1024:.1f} / {r['tree_pss_kb'] / 1024:.1f}"
         if "processes" in r else "-")
    md.append(f"| `--{r['mode']}` | {r['faults']} | {r['rss_kb'] / 1024:.1f} | {t} | {v} |")
open(sys.argv[2], "w").write("\n".join(md) + "\n\n")
PY
fi

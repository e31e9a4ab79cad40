#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# faultline doctor: capabilities, backend per fault kind, JSON, usage errors, no leftovers.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

FL="$(cd "$(dirname "${BATS_TEST_FILENAME}")/../.." && pwd)/faultline"

# The JSON contract: capability ids in output order, and the kinds of the design.
CAPS="root cap-sys-admin cap-net-admin cap-bpf kernel-btf bpf-syscall netns tc-bpf tcx netem tbf
nfqueue iptables-nfqueue veth bridge bpf-trampoline bpf-lsm bpf-lsm-active fmod-ret-security
fmod-ret-syscall kprobe-override tp-btf-signal tracepoint-signal uprobe seccomp-filter
seccomp-notify seccomp-notify-sync-wakeup dev-fuse fusermount3 cgroup2 cgroup-kill pidfd"
KINDS="kill stop latency loss corrupt duplicate reorder partition bandwidth crash-point disk-error
io-latency syscall"

require_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
}

# KERNEL.md's facts were measured on the 6.18 development VM; other kernels differ by design.
require_dev_vm() {
	case "$(uname -r)" in
	6.18.*) ;;
	*) skip "facts measured on the 6.18 development VM, this kernel is $(uname -r)" ;;
	esac
}

# Check Python expressions over the JSON report in $json, in one interpreter: d is the report,
# caps and kinds index it, ok(id) / detail(id) / backend(kind) / status(kind, name) /
# bdetail(kind, name) read it.
json_check() {
	python3 -c 'import json, sys
d = json.loads(sys.argv[1])
caps = {c["id"]: c for c in d["capabilities"]}
kinds = {k["kind"]: k for k in d["kinds"]}
ok = lambda c: caps[c]["ok"]
detail = lambda c: caps[c]["detail"]
backend = lambda k: kinds[k]["backend"]
status = lambda k, n: [b["status"] for b in kinds[k]["backends"] if b["name"] == n][0]
bdetail = lambda k, n: [b["detail"] for b in kinds[k]["backends"] if b["name"] == n][0]
bad = [e for e in sys.argv[2:] if not eval(e)]
for e in bad:
    print("failed:", e)
if bad:
    print(json.dumps(d, indent=1))
sys.exit(1 if bad else 0)' "$json" "$@"
}

doctor_json() {
	run "$FL" doctor --json
	assert_success
	json="$output"
}

# Everything doctor could leave behind on the host.
host_state() {
	echo "== netns"; ip netns list
	echo "== qdisc"; tc qdisc show
	echo "== links"; ip -o link show | awk -F': ' '{print $2}'
	echo "== progs"; bpftool prog show | grep -c '^[0-9]*:' || true
	echo "== links"; bpftool link show | grep -c '^[0-9]*:' || true
	echo "== mounts"; cat /proc/mounts
	echo "== cgroups"; awk '$3 == "cgroup2" {print $2}' /proc/mounts | xargs -r ls
}

@test "doctor --help has usage, the JSON fields and examples" {
	run "$FL" doctor --help
	assert_success
	assert_output --partial "Usage: faultline doctor [--json]"
	assert_output --partial "\"capabilities\": [{\"id\", \"ok\", \"detail\"}]"
	assert_output --partial "Examples:"
	assert_output --partial "faultline doctor --json"
}

@test "an unknown flag or argument exits 2 with a clear message" {
	run "$FL" doctor --frobnicate
	assert_failure 2
	assert_output --partial "faultline doctor: unknown option '--frobnicate'"
	assert_output --partial "Try 'faultline doctor --help'."
	run "$FL" doctor extra
	assert_failure 2
	assert_output --partial "faultline doctor: unexpected argument 'extra'"
}

@test "--timeout takes a bounded duration" {
	for bad in 0 2m abc -1s; do
		run "$FL" doctor --timeout "$bad"
		assert_failure 2
		assert_output --partial "faultline doctor: invalid --timeout '$bad'"
	done
	run "$FL" doctor --timeout
	assert_failure 2
	assert_output --partial "--timeout needs a duration"
	run "$FL" doctor --timeout=5s
	assert_success
	assert_line "capabilities"
}

@test "text output lists every capability, then every fault kind" {
	run "$FL" doctor
	assert_success
	assert_line --index 0 --regexp '^kernel .+ \(.+\), probed in [0-9]+ ms$'
	assert_line "capabilities"
	assert_line "fault kinds"
	for c in $CAPS; do
		assert_line --regexp "^  $c +(ok|no)  +[^ ].*$"
	done
	for k in $KINDS; do
		assert_line --regexp "^  $k +[a-z-]+ +[^ ].*$"
	done
	# capabilities come before kinds
	caps_at=$(printf '%s\n' "${lines[@]}" | grep -n '^capabilities$' | cut -d: -f1)
	kinds_at=$(printf '%s\n' "${lines[@]}" | grep -n '^fault kinds$' | cut -d: -f1)
	[ "$caps_at" -lt "$kinds_at" ]
}

@test "--json is valid JSON with the documented fields" {
	doctor_json
	echo "$json" | python3 -c 'import json, sys; json.load(sys.stdin)'
	CAPS="$CAPS" KINDS="$KINDS" python3 -c '
import json, os, sys
d = json.loads(sys.argv[1])
assert isinstance(d["kernel"], str) and d["kernel"] == os.uname().release, d["kernel"]
assert [c["id"] for c in d["capabilities"]] == os.environ["CAPS"].split()
for c in d["capabilities"]:
    assert set(c) == {"id", "ok", "detail"}, c
    assert isinstance(c["ok"], bool) and isinstance(c["detail"], str) and c["detail"], c
    assert "\n" not in c["detail"], c
assert [k["kind"] for k in d["kinds"]] == os.environ["KINDS"].split()
for k in d["kinds"]:
    assert set(k) == {"kind", "backend", "reason", "backends"}, k
    assert k["reason"] and k["backends"], k
    for b in k["backends"]:
        assert set(b) == {"name", "status", "host_ok", "detail"}, b
        assert b["status"] in ("available", "missing", "not-implemented"), b
        assert isinstance(b["host_ok"], bool), b
        # available means implemented and the host has what it needs
        assert (b["status"] == "available") == (b["host_ok"] and b["status"] != "not-implemented"), b
    avail = [b["name"] for b in k["backends"] if b["status"] == "available"]
    # the backend used is the first available one, or none
    assert k["backend"] == (avail[0] if avail else None), k
' "$json"
}

@test "text and JSON name the same backend for every kind" {
	doctor_json
	run "$FL" doctor
	assert_success
	while read -r k b; do
		assert_line --regexp "^  $k +$b +"
	done < <(python3 -c 'import json, sys
for k in json.loads(sys.argv[1])["kinds"]:
    print(k["kind"], k["backend"] or "none")' "$json")
}

@test "kill and stop run through pidfd" {
	doctor_json
	json_check 'ok("pidfd")' 'backend("kill") == "pidfd"' 'backend("stop") == "pidfd"' 
}

@test "the netem and tbf verdicts agree with tc in a scratch netns" {
	require_root
	doctor_json
	for q in "netem delay 1ms" "tbf rate 1mbit burst 10k limit 10k"; do
		kind=${q%% *}
		if tc_out=$(unshare -n tc qdisc add dev lo root $q 2>&1); then
			json_check "ok('$kind')"
		else
			json_check "not ok('$kind')"
			# the kernel's own words reach the user, as tc shows them
			if [[ "$tc_out" == *"Specified qdisc kind is unknown"* ]]; then
				json_check "'Specified qdisc kind is unknown' in detail('$kind')"
			fi
		fi
	done
}

@test "measured facts of the development VM kernel" {
	require_root
	require_dev_vm
	doctor_json
	json_check \
		'not ok("netem")' \
		'detail("netem") == ("rtnl_qdisc_add netem on lo: kernel: "
		 "\"Specified qdisc kind is unknown\" (ENOENT): no sch_netem in this kernel")' \
		'not ok("bpf-trampoline")' \
		'detail("bpf-trampoline") == "fentry/vfs_read: BPF_PROG_LOAD EPERM, empty verifier log"' \
		'not ok("bpf-lsm")' 'not ok("fmod-ret-security")' 'not ok("fmod-ret-syscall")' \
		'not ok("kprobe-override")' '"bpf_override_return" in detail("kprobe-override")' \
		'all(ok(c) for c in "netns tc-bpf tcx tbf nfqueue iptables-nfqueue veth bridge".split())' \
		'all(ok(c) for c in "tp-btf-signal tracepoint-signal uprobe".split())' \
		'all(ok(c) for c in "seccomp-filter seccomp-notify seccomp-notify-sync-wakeup".split())' \
		'ok("cgroup2") and "/sys/fs/cgroup/unified" in detail("cgroup2")' \
		'ok("cgroup-kill") and ok("pidfd")' \
		'backend("kill") == "pidfd" and backend("stop") == "pidfd"' \
		'status("latency", "netem") == "missing"' \
		'"Specified qdisc kind is unknown" in bdetail("latency", "netem")' \
		'backend("latency") == "nfqueue"' \
		'backend("loss") == "tc-bpf" and backend("partition") == "tc-bpf"' \
		'backend("bandwidth") == "tbf"'
}

@test "without root doctor still runs and says what needs root" {
	if [ "$(id -u)" -eq 0 ]; then
		command -v setpriv >/dev/null || skip "no setpriv to drop root"
		run bash -c "cd / && setpriv --reuid=65534 --regid=65534 --clear-groups \
			--inh-caps=-all '$FL' doctor --json"
	else
		run "$FL" doctor --json
	fi
	assert_success
	json="$output"
	# privileged probes say so; what needs no privilege is still probed for real
	json_check 'not ok("root")' \
		'all(not ok(c) and detail(c).startswith("needs root") for c in
		     "netns tc-bpf netem bpf-syscall bpf-trampoline bpf-lsm uprobe".split())' \
		'ok("pidfd") and ok("seccomp-filter")' \
		'backend("kill") == "pidfd"'
}

@test "doctor leaves nothing behind" {
	require_root
	before=$(host_state)
	run "$FL" doctor
	assert_success
	run "$FL" doctor --json
	assert_success
	after=$(host_state)
	assert_equal "$after" "$before"
	# and no probe process outlives it
	run pgrep -f "^$FL doctor"
	assert_failure
}

@test "doctor finishes in under 2 seconds" {
	start=$(date +%s%N)
	run "$FL" doctor
	assert_success
	ms=$((($(date +%s%N) - start) / 1000000))
	echo "doctor took ${ms} ms"
	[ "$ms" -lt 2000 ]
}

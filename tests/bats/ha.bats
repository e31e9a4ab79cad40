#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# The HA example scenarios end to end (scenarios/examples/): Redis Sentinel, keepalived and
# haproxy from Debian in labs. Each asserts on the figures faultline measured, with bounds
# computed from the configuration the scenario gives the software (read from its files here),
# plus SLACK seconds for scheduling on a loaded 2-vCPU machine.

bats_require_minimum_version 1.5.0

load '../lib/common'
load '../lib/lab-helpers'

EX="$FL_ROOT/scenarios/examples"
SLACK=1.0

setup() {
	require_root
	lab_setup
}

teardown() { lab_teardown; }

# run_example NAME: the scenario in $EX, result in ./out; passes, and leaves nothing behind.
run_example() {
	run --separate-stderr "$FL" run --out out "$EX/$1.yaml"
	echo "$stderr" | tail -20
	echo "$output"
	[ "$status" -eq 0 ]
	R=out/result.json
	local id
	id="$(jq -r .run_id "$R")"
	[ -z "$(lab_leftovers "$id")" ]
}

# impact FAULT PROBE FIELD: faults[FAULT].impact[PROBE][FIELD], "null" when absent
impact() {
	jq -r --arg f "$1" --arg p "$2" --arg k "$3" \
		'.faults[] | select(.name == $f) | .impact[$p][$k]' "$R"
}

# check LO X HI (LO or HI may be "-"): LO <= X <= HI, printed either way
check() {
	echo "check: $1 <= $2 <= $3"
	python3 -c 'import sys
lo, x, hi = sys.argv[1:]
ok = x != "null" and (lo == "-" or float(lo) <= float(x)) and (hi == "-" or float(x) <= float(hi))
sys.exit(0 if ok else 1)' "$1" "$2" "$3"
}

calc() { python3 -c "print($1)"; }

@test "Redis Sentinel: failover time follows down-after-milliseconds, no acknowledged write lost" {
	command -v redis-sentinel >/dev/null || skip "needs redis-sentinel"
	# sentinel.sh PRIMARY DOWN_AFTER_MS FAILOVER_TIMEOUT_MS, as the scenario runs it
	read -r da ft < <(sed -n 's/.*sentinel\.sh, [0-9.]*, "\([0-9]*\)", "\([0-9]*\)".*/\1 \2/p' \
		"$EX/redis-sentinel-failover.yaml" | head -1)
	[ -n "$da" ] && [ -n "$ft" ]
	run_example redis-sentinel-failover
	# A failover cannot start before the primary has been silent for down-after-milliseconds
	# (less one probe interval, 0.1s, for the last write before the fault). It ends within
	# down-after + 1s (the quorum: Sentinels ask each other every second) + 2 x
	# failover-timeout (an attempt Sentinel aborts, for a replica whose INFO is stale, is
	# retried after that) + 1s (the promoted replica's INFO) + 2s (the other Sentinels learn
	# the new primary from hello messages) + the probe's timeout (1s) and interval (0.1s).
	lo=$(calc "$da / 1000 - 0.1")
	hi=$(calc "$da / 1000 + 1 + 2 * $ft / 1000 + 1 + 2 + 1 + 0.1 + $SLACK")
	for f in kill-primary partition-primary; do
		[ "$(impact $f writes failed)" -ge 1 ]
		check "$lo" "$(impact $f writes outage_s)" "$hi"
	done
	# 200ms toward the primary: no failover (below down-after), every write >= 2 delays
	# (the connection's SYN, then the command)
	check 0.4 "$(impact latency-primary writes latency_p50_s)" -
	# async replication loses at most the writes acknowledged in the instant before each of
	# the two failovers: one write per failover at 10 writes/s
	jq -e '.verify[0].ok and .verify[0].figures.acknowledged_writes > 100' "$R"
	check 0 "$(jq -r '.verify[0].figures.lost_writes' "$R")" 2
	jq -e '.verify[0].figures.primary == "r1"' "$R" # r1 -> r2 -> r1, as the priorities say
}

@test "keepalived: the VIP moves within the master down interval, the track script moves it" {
	command -v keepalived >/dev/null || skip "needs keepalived"
	# node.sh PRIORITY VIP ADVERT_INT RESTART: the backup's priority and advert_int
	read -r prio adv < <(sed -n 's/.*node\.sh, "\([0-9]*\)", [0-9.]*, "\([0-9.]*\)".*/\1 \2/p' \
		"$EX/keepalived-vip-failover.yaml" | tail -1)
	interval=$(sed -n 's/^\tinterval \([0-9.]*\)$/\1/p' "$EX/ha/keepalived/node.sh")
	curl_max=$(sed -n 's/.*script .*--max-time \([0-9.]*\) http:.*/\1/p' "$EX/ha/keepalived/node.sh")
	[ -n "$prio" ] && [ -n "$adv" ] && [ -n "$interval" ] && [ -n "$curl_max" ]
	run_example keepalived-vip-failover
	# VRRPv3: a backup takes over after 3 x advert_int + skew, skew = (256 - prio) / 256 x
	# advert_int, counted from the last advert it heard (up to advert_int before the fault)
	down=$(calc "3 * $adv + (256 - $prio) / 256 * $adv")
	lo=$(calc "$down - $adv")
	hi=$(calc "$down + 0.1 + $SLACK")
	for f in kill-keepalived drop-vrrp; do
		check "$lo" "$(impact $f on-master time_to_fail_s)" "$hi"
		# web1 keeps the VIP and serves until web2 takes it (and announces it with a
		# gratuitous ARP): no request fails
		[ "$(impact $f vip failed)" -eq 0 ]
	done
	# nginx stopped on the master: requests time out until the track script (every interval,
	# curl --max-time) drops web1 below web2 and web2 preempts at web1's next advert
	hi=$(calc "$interval + $curl_max + $adv + 0.5 + 0.1 + $SLACK")
	[ "$(impact stop-nginx vip failed)" -ge 1 ]
	moved=$(calc "$(impact stop-nginx vip time_to_fail_s) + $(impact stop-nginx vip outage_s)")
	check 0 "$moved" "$hi"
}

@test "haproxy: a bad backend leaves the rotation within fall x (inter + timeout check)" {
	command -v haproxy >/dev/null || skip "needs haproxy"
	cfg="$EX/ha/lb/haproxy.cfg"
	inter=$(sed -n 's/.*default-server inter \([0-9]*\)ms fall \([0-9]*\) rise.*/\1/p' "$cfg")
	fall=$(sed -n 's/.*default-server inter \([0-9]*\)ms fall \([0-9]*\) rise.*/\2/p' "$cfg")
	tcheck=$(sed -n 's/.*timeout check \([0-9]*\)ms.*/\1/p' "$cfg")
	[ -n "$inter" ] && [ -n "$fall" ] && [ -n "$tcheck" ]
	run_example lb-health-check
	i=$(calc "$inter / 1000")
	t=$(calc "$tcheck / 1000")
	# out of the rotation after `fall` failed checks in a row, each at most inter + timeout
	# check, the first up to one inter away; not before fall - 1 intervals
	lo=$(calc "($fall - 1) * $i")
	hi=$(calc "$i + $fall * ($i + $t) + 0.05 + $SLACK")
	for f in latency-web1 kill-web1; do
		check "$lo" "$(impact $f web1-in-rotation time_to_fail_s)" "$hi"
		# ... and it came back after the fault (rise): the outage ended
		[ "$(impact $f web1-in-rotation outage_s)" != null ]
		# option redispatch: a request haproxy could not connect to web1 for went elsewhere
		[ "$(impact $f clients failed)" -eq 0 ]
	done
	# 70% loss toward web1: a check fails with probability >= 1 - 0.3^2 = 0.91; two in a row
	# within the fault's 4s (8 checks) but with probability < 0.001
	check "$lo" "$(impact loss-web1 web1-in-rotation time_to_fail_s)" 4
}

@test "verify steps: figures in the result, a failing step fails the run; FAULTLINE_LAB_DIR goes" {
	# the service leaves a file in its scratch directory; the probe and the verify step read it
	cat >v.yaml <<'YAML'
version: 1
name: verify-steps
lab:
  hosts:
    a:
      run: [sh, -c, 'echo 7 >"$FAULTLINE_LAB_DIR/seven"; exec sleep 600']
    b: {}
steady_state:
  baseline: 300ms
  probes:
    - { name: scratch, exec: [sh, -c, 'test -s "$FAULTLINE_LAB_DIR/seven"'], from: b, every: 100ms }
faults:
  - { name: pause, kind: stop, on: a, target: { name: sleep }, at: 0s, for: 200ms }
recovery: { within: 2s, healthy_for: 300ms }
verify:
  - name: figures
    exec: [sh, -c, 'echo seven=$(cat "$FAULTLINE_LAB_DIR/seven"); echo host=$(hostname); echo "$FAULTLINE_LAB_DIR" >&2']
    from: b
  - name: fails
    exec: [sh, -c, 'echo half=0.5; exit 3']
YAML
	run --separate-stderr "$FL" run --out out v.yaml
	echo "$stderr" | tail -5
	[ "$status" -eq 1 ]
	R=out/result.json
	jq -e '.verdict == "failed" and .exit_code == 1' "$R"
	jq -e '.verify[0] | .ok and .from == "b" and .exit_status == 0 and
		.figures == {"seven": 7, "host": "b"}' "$R"
	jq -e '.verify[1] | (.ok | not) and .status == "exit status 3" and .figures.half == 0.5
		and (has("from") | not)' "$R"
	jq -e '[.expectations[] | select(.id == "verify.fails.exit_status")][0].ok == false' "$R"
	# the probe saw the service's file from another host; each fault has its impact
	jq -e '.faults[0].impact.scratch.samples > 0' "$R"
	scratch=$(grep -m1 "/lab$" <<<"$stderr")
	[ -n "$scratch" ]
	[ ! -e "$scratch" ]
	[ -z "$(lab_leftovers "$(jq -r .run_id "$R")")" ]
	# the reports show both
	grep -q "What each fault did" out/report.md
	grep -q "seven: 7" out/report.md
}

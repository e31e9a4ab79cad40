#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# netem and tbf faults for real on a stock kernel: latency fidelity, jitter, loss, corrupt,
# duplicate, reorder, bandwidth, a user's root qdisc restored exactly, recover after SIGKILL; the
# classful tree (prio fa17:, our classifier): filtered latency and loss (IPv4 and IPv6), exclude
# and the SSH connection at 100% loss, and the TTL with faultline and its guard SIGKILLed.
# Two namespaces joined by a veth pair: A (veth0, 10.77.0.1) and B (veth1, 10.77.0.2).

load guest
bats_require_minimum_version 1.5.0

# make_pair NS1 DEV1 ADDR1 NS2 DEV2 ADDR2: two namespaces joined by a veth pair, /24 addresses
make_pair() {
	ip netns add "$1"
	ip netns add "$4"
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
	ip -n "$1" addr add "$3/24" dev "$2"
	ip -n "$4" addr add "$6/24" dev "$5"
	ip -n "$1" link set "$2" up
	ip -n "$4" link set "$5" up
	ip -n "$1" link set lo up
	ip -n "$4" link set lo up
}

# The TTL runs beside the other tests (it takes for + 30 s): its own pair C (veth2, 10.78.0.1)
# and D (veth3, 10.78.0.2) and state dir; a latency fault there whose faultline and guard are
# SIGKILLed at once; a poller in C writes when a TCP connect to D is fast again. The last test
# reads it.
setup_file() {
	local dir="$BATS_FILE_TMPDIR" fpid guard
	# tcp_rtt HOST PORT COUNT: "min avg max" ms of TCP connects (refused or accepted: either way
	# the SYN went out and an answer came back); one bash, no process per probe
	cat >"$dir/tcp_rtt" <<'SH'
#!/bin/bash
min=999999 max=0 sum=0
for ((i = 0; i < $3; i++)); do
	t0=${EPOCHREALTIME/./}
	: 2>/dev/null <>"/dev/tcp/$1/$2"
	t1=${EPOCHREALTIME/./}
	d=$((t1 - t0))
	((d < min)) && min=$d
	((d > max)) && max=$d
	sum=$((sum + d))
done
printf '%d.%03d %d.%03d %d.%03d\n' $((min / 1000)) $((min % 1000)) $((sum / $3 / 1000)) \
	$((sum / $3 % 1000)) $((max / 1000)) $((max % 1000))
SH
	# udp_send HOST PORT COUNT: datagrams, back to back
	cat >"$dir/udp_send" <<'SH'
#!/bin/bash
for ((i = 0; i < $3; i++)); do echo x >"/dev/udp/$1/$2"; done 2>/dev/null
SH
	# ttl_poll HOST PORT: the first connect time (us), then the time (us) a connect took < 50 ms
	cat >"$dir/ttl_poll" <<'SH'
#!/bin/bash
for ((i = 0; i < 1000; i++)); do
	t0=${EPOCHREALTIME/./}
	: 2>/dev/null <>"/dev/tcp/$1/$2"
	t1=${EPOCHREALTIME/./}
	((i == 0)) && echo "first $((t1 - t0))"
	((t1 - t0 < 50000)) && { echo "back $t1"; exit 0; }
done
SH
	chmod +x "$dir/tcp_rtt" "$dir/udp_send" "$dir/ttl_poll"

	export TTL_C="fl-nm-c-$$" TTL_D="fl-nm-d-$$" TTL_STATE="$dir/ttl-state"
	mkdir -p "$TTL_STATE"
	make_pair "$TTL_C" veth2 10.78.0.1 "$TTL_D" veth3 10.78.0.2
	FAULTLINE_STATE_DIR="$TTL_STATE" "$FL" inject latency --netns "$TTL_C" --dev veth2 \
		--delay 100ms --for 2s >"$dir/ttl.log" 2>&1 3>&- &
	if ! wait_for 'tc -n "$TTL_C" filter show dev veth2 parent fa17: | grep -q netclass' 20; then
		{ cat "$dir/ttl.log"; ps -eo pid,ppid,stat,etime,args | grep '[f]aultline'; } |
			sed 's/^/# /' >&3
		return 1
	fi
	export TTL_T0="${EPOCHREALTIME/./}"
	# by name ($! may be a subshell of bats'): nothing else of faultline runs yet
	fpid="$(pgrep -x faultline)"
	guard="$(pgrep -x faultline-guard)"
	kill -KILL $fpid $guard
	# both gone: "guard PID faultline PID", then what is still alive of them (nothing)
	{
		echo "guard ${guard} faultline ${fpid}"
		for p in $guard $fpid; do
			wait_for "[ \"\$(proc_state $p)\" = gone ] || [ \"\$(proc_state $p)\" = Z ]" 5 ||
				echo "alive $p"
		done
	} >"$dir/ttl.guard"
	ip netns exec "$TTL_C" "$dir/ttl_poll" 10.78.0.2 9000 >"$dir/ttl.poll" 2>&1 3>&- &
	echo $! >"$dir/ttl.pid"
}

teardown_file() {
	kill -KILL "$(cat "$BATS_FILE_TMPDIR/ttl.pid")" 2>/dev/null || true
	FAULTLINE_STATE_DIR="$TTL_STATE" timeout 20 "$FL" recover --all >/dev/null 2>&1 || true
	ip netns delete "$TTL_C" 2>/dev/null || true
	ip netns delete "$TTL_D" 2>/dev/null || true
}

setup() {
	fl_setup
	A="fl-nm-a-$$"
	B="fl-nm-b-$$"
	make_pair "$A" veth0 10.77.0.1 "$B" veth1 10.77.0.2
}

teardown() {
	fl_teardown
	ip netns delete "$A" 2>/dev/null || true
	ip netns delete "$B" 2>/dev/null || true
}

# fault KIND ARGS...: start `faultline inject` on A's veth0 in the background, wait until our
# classifier is on our prio root (the fault is on from then). end_fault: Ctrl-C it (exit 4: ended
# early, reverted); its result is in fault.json.
fault() {
	"$FL" inject "$1" --netns "$A" --dev veth0 --for 60s --json "${@:2}" \
		>"$BATS_TEST_TMPDIR/fault.json" 2>"$BATS_TEST_TMPDIR/fault.log" &
	FPID=$!
	FL_PIDS+=("$FPID")
	if ! wait_for 'tc -n "$A" filter show dev veth0 parent fa17: | grep -q netclass' 20; then
		cat "$BATS_TEST_TMPDIR/fault.log" >&2
		return 1
	fi
}

end_fault() {
	local st=0
	kill -INT "$FPID"
	wait "$FPID" || st=$?
	[ "$st" -eq 4 ] || { cat "$BATS_TEST_TMPDIR/fault.log" >&2; return 1; }
}

# rtt COUNT INTERVAL: "min avg max" in ms of pings from A to B (busybox's summary line)
rtt() {
	ip netns exec "$A" ping -q -c "$1" -i "$2" -W 2 10.77.0.2 |
		awk -F' = ' '/min\/avg\/max/ { split($2, v, "/"); sub(/ ms/, "", v[3]);
			print v[1], v[2], v[3] }'
}

# tcp_rtt PORT COUNT [HOST]: TCP connect times from A to B ("min avg max" ms)
tcp_rtt() {
	ip netns exec "$A" "$BATS_FILE_TMPDIR/tcp_rtt" "${3:-10.77.0.2}" "$1" "$2"
}

# rx_of: packets B's veth1 has received
rx_of() {
	ip -n "$B" -s link show veth1 | awk '/RX:/ { getline; print $2; exit }'
}

# udp_got PORT COUNT: send COUNT datagrams from A to B's PORT, print how many reached B's veth1
udp_got() {
	local before after
	before="$(rx_of)"
	ip netns exec "$A" "$BATS_FILE_TMPDIR/udp_send" 10.77.0.2 "$1" "$2"
	sleep 0.1 # what is still queued arrives
	after="$(rx_of)"
	echo $((after - before))
}

# ok_ms VALUE LO HI: LO <= VALUE <= HI (decimals)
ok_ms() {
	awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }' ||
		{ echo "$1 not within [$2, $3]" >&2; return 1; }
}

@test "latency: the RTT grows by the delay asked (1, 10, 50, 100 ms), reverted after" {
	read -r _ base _ <<<"$(rtt 5 0.1)"
	for d in 1 10 50 100; do
		fault latency --delay "${d}ms"
		read -r mn avg mx <<<"$(rtt 6 0.1)"
		end_fault
		echo "# delay ${d}ms: rtt min/avg/max ${mn}/${avg}/${mx} ms (baseline avg ${base} ms)" >&3
		ok_ms "$mn" "$d" "$((d + 4))"
		ok_ms "$avg" "$d" "$((d + 10))" # the emulated guest's own RTT wanders by ms
	done
	read -r mn _ _ <<<"$(rtt 5 0.1)"
	ok_ms "$mn" 0 1
	run tc -n "$A" qdisc show dev veth0
	refute_output --partial "netem"
}

@test "latency with jitter: the kernel holds delay and jitter, RTTs spread" {
	fault latency --delay 20ms --jitter 10ms
	run tc -n "$A" qdisc show dev veth0
	assert_output --partial "delay 20ms  10ms"
	read -r mn avg mx <<<"$(rtt 20 0.1)"
	end_fault
	echo "# delay 20ms jitter 10ms: rtt min/avg/max ${mn}/${avg}/${mx} ms" >&3
	# some packets went out sooner than the delay, some later; the emulated guest adds outliers
	ok_ms "$mn" 9 19.5
	ok_ms "$mx" 20.5 80
	ok_ms "$avg" 15 30
}

@test "loss 20% (netem backend): lost pings within the binomial band" {
	fault loss --backend netem --percent 20
	run tc -n "$A" qdisc show dev veth0
	assert_output --partial "loss 20%"
	out="$(ip netns exec "$A" ping -q -c 200 -i 0.02 -W 2 10.77.0.2 || true)"
	stats="$(tc -n "$A" -s qdisc show dev veth0 handle fa19:)"
	end_fault
	sent="$(awk '/transmitted/ { print $1 }' <<<"$out")"
	got="$(awk '/transmitted/ { print $4 }' <<<"$out")"
	lost=$((sent - got))
	echo "# loss 20%: ${lost}/${sent} pings lost; netem: $(awk '/Sent/' <<<"$stats")" >&3
	# what netem dropped of what it saw: n ~ 200, p = 0.2: mean 40, sd 5.7; 99.9% band
	read -r pkts drops <<<"$(awk '/Sent/ { gsub(/,/, ""); print $4, $7 }' <<<"$stats")"
	total=$((pkts + drops))
	[ "$sent" -eq 200 ]
	# (busybox awk has no sqrt: the band for n = 200 is 21..59, i.e. 10.5%..29.5%)
	[ "$((drops * 1000 / total))" -ge 105 ]
	[ "$((drops * 1000 / total))" -le 295 ]
	# every request netem dropped is a lost ping (under TCG, more are lost at 50 pps in some
	# runs, so the ping count is only bounded below)
	[ "$lost" -ge $((drops - 5)) ]
}

@test "corrupt, duplicate, reorder: applied as asked and visible in tc, reverted after" {
	before="$(tc -n "$A" qdisc show dev veth0)"
	fault corrupt --percent 5
	run tc -n "$A" qdisc show dev veth0
	assert_output --partial "corrupt 5%"
	end_fault
	fault duplicate --percent 7
	run tc -n "$A" qdisc show dev veth0
	assert_output --partial "duplicate 7%"
	end_fault
	fault reorder --percent 25 --gap 5 --delay 10ms
	run tc -n "$A" qdisc show dev veth0
	assert_output --partial "delay 10ms reorder 25% gap 5"
	end_fault
	assert_equal "$(tc -n "$A" qdisc show dev veth0)" "$before"
}

@test "bandwidth: a tbf root with the rate asked, and --json shows what the kernel took" {
	run --separate-stderr "$FL" inject bandwidth --netns "$A" --dev veth0 --rate 8mbit \
		--burst 20kb --for 300ms --json
	assert_success
	assert_equal "$(jq -r '.. | .accepted? // empty | .rate_bytes_per_s' <<<"$output")" 1000000
	fault bandwidth --rate 8mbit --burst 20kb
	run tc -n "$A" qdisc show dev veth0
	assert_output --partial "prio fa17: root"
	assert_output --partial "tbf fa19: parent fa17:2 rate 8Mbit burst 20Kb"
	end_fault
}

@test "a user's tbf root survives a netem fault intact, and recover restores it after SIGKILL" {
	tc -n "$A" qdisc add dev veth0 root handle 1: tbf rate 3mbit burst 20kb latency 70ms \
		peakrate 4mbit mtu 1600
	before="$(tc -n "$A" -d qdisc show dev veth0)"
	fault latency --delay 30ms --jitter 1ms
	run tc -n "$A" qdisc show dev veth0
	assert_output --partial "prio fa17: root"
	assert_output --partial "netem fa19: parent fa17:2"
	end_fault
	assert_equal "$(tc -n "$A" -d qdisc show dev veth0)" "$before"

	fault latency --delay 30ms
	prog="$(tc -n "$A" filter show dev veth0 parent fa17: | awk '/netclass/ {
		for (i = 1; i < NF; i++) if ($i == "id") print $(i + 1) }')"
	kill -KILL "$FPID"
	wait "$FPID" || true
	run tc -n "$A" qdisc show dev veth0
	assert_output --partial "netem fa19: parent fa17:2"
	bpftool prog show id "$prog" | grep -q netclass
	run "$FL" recover --all
	assert_success
	assert_equal "$(tc -n "$A" -d qdisc show dev veth0)" "$before"
	run tc -n "$A" filter show dev veth0
	assert_output ""
	run bpftool prog show id "$prog"
	assert_failure # the filter held the program: gone with it
}

@test "the classful tree: prio root, pass-through pfifo, the fault's netem, our classifier" {
	before="$(tc -n "$A" qdisc show dev veth0)"
	run --separate-stderr "$FL" inject latency --netns "$A" --dev veth0 --delay 5ms \
		--for 300ms --json
	assert_success
	jq -e '.. | .injected? // empty | select(.mode == "classful" and .handle == "fa19:"
		and .accepted.delay_us == 5000 and .classifier_prog_id > 0)' <<<"$output" >/dev/null
	fault latency --delay 5ms
	run tc -n "$A" qdisc show dev veth0
	assert_line --regexp '^qdisc prio fa17: root .*bands 2 priomap( 0){16}'
	assert_line --regexp '^qdisc pfifo fa18: parent fa17:1 limit 1000p'
	assert_line --regexp '^qdisc netem fa19: parent fa17:2 .*delay 5ms'
	run tc -n "$A" filter show dev veth0 parent fa17:
	assert_output --regexp 'pref 64023 bpf .*handle 0x1 netclass .*direct-action'
	end_fault
	assert_equal "$(tc -n "$A" qdisc show dev veth0)" "$before"
}

@test "filtered latency: tcp dport 9000 is delayed, dport 9001 and ICMP are not" {
	read -r _ base _ <<<"$(tcp_rtt 9001 5)"
	fault latency --delay 50ms --proto tcp --dport 9000
	read -r amin aavg _ <<<"$(tcp_rtt 9000 5)"
	read -r bmin bavg _ <<<"$(tcp_rtt 9001 5)"
	read -r pmin _ _ <<<"$(rtt 3 0.1)"
	end_fault
	echo "# 50ms on dport 9000: connect min/avg ${amin}/${aavg} ms; dport 9001 ${bmin}/${bavg} ms; ping min ${pmin} ms (baseline ${base} ms)" >&3
	ok_ms "$amin" 50 60
	ok_ms "$aavg" 50 70
	ok_ms "$bmin" 0 10
	ok_ms "$pmin" 0 10
	# observed before the revert: the classifier matched the 5 SYNs to 9000 of all it saw
	# (10 SYNs, 3 pings, an ARP or so)
	run jq -c '.. | .observed? // empty' "$BATS_TEST_TMPDIR/fault.json"
	echo "# observed: $output" >&3
	jq -e '.. | .observed? // empty | select(.packets_matched == 5 and
		.packets_seen >= 13 and .packets_after_ttl == 0 and .qdisc.kind == "netem" and
		.qdisc.packets_sent == 5)' "$BATS_TEST_TMPDIR/fault.json" >/dev/null
}

@test "filtered loss: 50% on udp dport 9000 within the binomial band, dport 9001 untouched" {
	ip netns exec "$A" ping -q -c 1 -W 2 10.77.0.2 >/dev/null # resolve B's address first
	fault loss --backend netem --percent 50 --proto udp --dport 9000
	a="$(udp_got 9000 200)"
	b="$(udp_got 9001 200)"
	end_fault
	echo "# loss 50% on dport 9000: ${a}/200 arrived; dport 9001: ${b}/200" >&3
	# n = 200, p = 0.5: sd 7.1; 99.9% band 77..123
	[ "$a" -ge 77 ]
	[ "$a" -le 123 ]
	[ "$b" -ge 200 ]
	[ "$b" -le 205 ]
}

@test "exclude and the SSH connection's ports pass at 100% loss, everything else is lost" {
	ip netns exec "$A" ping -q -c 1 -W 2 10.77.0.2 >/dev/null
	SSH_CONNECTION="10.9.9.9 9002 10.77.0.2 9003" \
		fault loss --backend netem --percent 100 --exclude 9001
	a="$(udp_got 9000 100)"
	x="$(udp_got 9001 100)"
	c="$(udp_got 9002 100)"
	d="$(udp_got 9003 100)"
	run ip netns exec "$A" ping -q -c 2 -i 0.2 -W 1 10.77.0.2
	end_fault
	echo "# 100% loss: dport 9000 ${a}/100, excluded 9001 ${x}/100, ssh 9002 ${c}/100, 9003 ${d}/100" >&3
	assert_failure # ICMP is not excluded
	[ "$a" -le 2 ]
	[ "$x" -ge 100 ]
	[ "$c" -ge 100 ]
	[ "$d" -ge 100 ]
}

@test "IPv6: a fault on dst fd77::2 delays it, IPv4 to the same host is not" {
	ip -n "$A" addr add fd77::1/64 dev veth0 nodad
	ip -n "$B" addr add fd77::2/64 dev veth1 nodad
	fault latency --delay 40ms --dst fd77::2
	read -r v6min _ _ <<<"$(tcp_rtt 9000 4 fd77::2)"
	read -r v4min _ _ <<<"$(tcp_rtt 9000 4)"
	end_fault
	echo "# 40ms on dst fd77::2: v6 connect min ${v6min} ms, v4 ${v4min} ms" >&3
	ok_ms "$v6min" 40 50
	ok_ms "$v4min" 0 10
}

@test "TTL: faultline and its guard SIGKILLed, no recover: traffic normal by for + 30 s + 1 s" {
	# (the fault was applied and its processes killed in setup_file; this test is the last)
	run cat "$BATS_FILE_TMPDIR/ttl.guard"
	assert_output --regexp '^guard [0-9]+ faultline [0-9]+$' # both there, both killed
	wait_for 'grep -q "^back " "$BATS_FILE_TMPDIR/ttl.poll"' 45
	read -r _ first <"$BATS_FILE_TMPDIR/ttl.poll"
	back="$(awk '/^back / { print $2 }' "$BATS_FILE_TMPDIR/ttl.poll")"
	dt=$(((back - TTL_T0) / 1000))
	echo "# TTL: first connect $((first / 1000)) ms; normal again ${dt} ms after the fault was on (for 2 s + 30 s)" >&3
	[ "$dt" -ge 30500 ] || sed 's/^/# /' "$BATS_FILE_TMPDIR/ttl.log" >&3
	[ "$first" -ge 100000 ] # still on right after the SIGKILL
	# on until the TTL (apply + 32 s; the apply began before the filter was seen), off by +1 s
	[ "$dt" -ge 30500 ]
	[ "$dt" -le 33000 ]
	# nobody reverted: the classifier stepped aside, our qdiscs are still there; recover removes
	run tc -n "$TTL_C" qdisc show dev veth2
	assert_output --partial "netem fa19: parent fa17:2"
	FAULTLINE_STATE_DIR="$TTL_STATE" run "$FL" recover --all
	assert_success
	run tc -n "$TTL_C" qdisc show dev veth2
	assert_output --regexp '^qdisc noqueue 0: root'
	run tc -n "$TTL_C" filter show dev veth2
	assert_output ""
	run bpftool prog show name netclass
	assert_output ""
}

#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# `faultline agent`: protocol v1 over stdio and mutual TLS, refused clients, malformed messages,
# leases that revert when the controller is killed or cut off, the stop file, journal recovery.

load '../lib/common'
bats_require_minimum_version 1.5.0

# A raw protocol client: frames JSON messages by hand (and badly, when asked).
#   agentpy stdio CMD...           messages from $MSGS (one JSON per line) to CMD's stdin
#   agentpy tls HOST PORT CA CERT KEY   the same over TLS (CERT/KEY may be "-": none)
# Special lines: "RAW:<hex>" sends bytes as they are (no reply awaited), "REPLY" reads one,
# "CLOSE" hangs up. Each reply is printed (normalised JSON), "EOF" when the agent hung up.
AGENTPY='
import json, os, socket, ssl, struct, subprocess, sys
def frames(sock_send, sock_recv):  # sock_recv(n): n bytes, fewer at the end of the stream
    for line in os.environ["MSGS"].splitlines():
        if not line.strip():
            continue
        if line == "CLOSE":
            return
        try:
            if line.startswith("RAW:"):
                sock_send(bytes.fromhex(line[4:]))
                continue
            if line != "REPLY":
                b = line.encode()
                sock_send(struct.pack(">I", len(b)) + b)
            h = sock_recv(4)
        except (ssl.SSLError, ConnectionError, OSError):
            h = b""
        if len(h) < 4:
            print("EOF"); sys.stdout.flush(); return
        body = sock_recv(struct.unpack(">I", h)[0])
        try:
            print(json.dumps(json.loads(body)))
        except ValueError:
            print(body.decode())
        sys.stdout.flush()
def exact(read):
    def f(n):
        out = b""
        while len(out) < n:
            c = read(n - len(out))
            if not c:
                break
            out += c
        return out
    return f
if sys.argv[1] == "stdio":
    p = subprocess.Popen(sys.argv[2:], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    def send(b):
        p.stdin.write(b); p.stdin.flush()
    frames(send, exact(p.stdout.read))
    p.stdin.close(); p.wait()
else:
    host, port, ca, cert, key = sys.argv[2:7]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(ca)
    ctx.check_hostname = False
    if cert != "-":
        ctx.load_cert_chain(cert, key)
    s = ctx.wrap_socket(socket.create_connection((host, int(port)), timeout=10))
    try:
        frames(s.sendall, exact(s.recv))
    except (ssl.SSLError, ConnectionError, OSError) as e:
        print("REFUSED", e)
    s.close()
'

setup() {
	fl_setup
	CERTS="${BATS_TEST_TMPDIR}/certs"
	PORT=$((20000 + (RANDOM % 20000)))
	AGENT_PID=
	CTL_PIDS=()
	NS=
}

teardown() {
	local p
	# a failed test shows what the agent logged
	if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -s "${BATS_TEST_TMPDIR}/agent.log" ]; then
		sed 's/^/# agent: /' "${BATS_TEST_TMPDIR}/agent.log" | tail -40 >&3
	fi
	for p in "${CTL_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	if [ -n "$AGENT_PID" ]; then
		kill -TERM "$AGENT_PID" 2>/dev/null || true
		wait_for '! kill -0 '"$AGENT_PID"' 2>/dev/null' 10 || kill -KILL "$AGENT_PID" 2>/dev/null || true
	fi
	if [ -n "$NS" ]; then
		ip link delete "flagta$$" 2>/dev/null || true
		ip netns delete "$NS" 2>/dev/null || true
	fi
	fl_teardown
}

certs() {
	"$FL" agent certs --dir "$CERTS" --agent 127.0.0.1,10.231.7.2 --client ctl,other "$@"
}

# Start `faultline agent --listen` (in netns $1 when given) on $ADDR:$PORT; log in agent.log.
start_agent() {
	local ns="${1:-}" addr="${ADDR:-127.0.0.1}"
	shift || true
	rm -f "${BATS_TEST_TMPDIR}/agent.log"
	if [ -n "$ns" ]; then
		ip netns exec "$ns" "$FL" agent --listen "$addr:$PORT" --ca "$CERTS/ca.pem" \
			--cert "$CERTS/$addr.pem" --key "$CERTS/$addr.key" "$@" \
			2>"${BATS_TEST_TMPDIR}/agent.log" &
	else
		"$FL" agent --listen "$addr:$PORT" --ca "$CERTS/ca.pem" --cert "$CERTS/$addr.pem" \
			--key "$CERTS/$addr.key" "$@" 2>"${BATS_TEST_TMPDIR}/agent.log" &
	fi
	AGENT_PID=$!
	wait_for 'grep -q "listening on" "${BATS_TEST_TMPDIR}/agent.log"' 10
}

# `faultline agent call` as client NAME (ctl by default) to the agent.
call() {
	local who="${WHO:-ctl}"
	"$FL" agent call --connect "${ADDR:-127.0.0.1}:$PORT" --ca "$CERTS/ca.pem" \
		--cert "$CERTS/$who.pem" --key "$CERTS/$who.key" "$@"
}

stop_fault() {
	printf '{"fault": {"kind": "stop", "target": {"pid": %s}, "for": "%s"}, "lease_ms": %s}' \
		"$1" "$2" "$3"
}

# A controller that applies a stop fault and holds the session; its output in ctl.out.
hold_stop() {
	local target="$1" lease="$2"
	rm -f "${BATS_TEST_TMPDIR}/ctl.out"
	# not through call(): $! must be the controller itself, not a subshell
	"$FL" agent call --connect "${ADDR:-127.0.0.1}:$PORT" --ca "$CERTS/ca.pem" \
		--cert "$CERTS/ctl.pem" --key "$CERTS/ctl.key" --hold 120s \
		apply "$(stop_fault "$target" 60s "$lease")" >"${BATS_TEST_TMPDIR}/ctl.out" &
	CTL_PIDS+=($!)
	CTL=$!
	wait_for 'grep -q "\"injected\":true" "${BATS_TEST_TMPDIR}/ctl.out"' 10
	[ "$(proc_state "$target")" = T ]
}

# Seconds (3 decimals) until process $1 is no longer stopped.
time_until_continued() {
	local t0 t1
	t0=$(date +%s%N)
	wait_for '[ "$(proc_state '"$1"')" != T ]' 30 || return 1
	t1=$(date +%s%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }'
}

@test "agent --listen without the TLS files exits 2 naming the missing flag" {
	run -2 "$FL" agent --listen 127.0.0.1:7411
	assert_output --partial "--listen needs --ca"
	assert_output --partial "no plaintext mode"
	run -2 "$FL" agent --listen 127.0.0.1:7411 --ca /nonexistent/ca.pem --cert x
	assert_output --partial "needs --key"
	run -2 "$FL" agent --stdio --ca ca.pem
	assert_output --partial "belong to --listen"
	run -2 "$FL" agent
	assert_output --partial "--stdio"
}

@test "agent certs: a CA, agent and client certificates, 0600, SANs, reuse, expired on demand" {
	run certs --json
	assert_success
	assert_output --partial "\"cert\": \"$CERTS/ctl.pem\""
	for f in ca.pem ca.key 127.0.0.1.pem 127.0.0.1.key ctl.pem ctl.key; do
		[ "$(stat -c %a "$CERTS/$f")" = 600 ]
	done
	run openssl x509 -in "$CERTS/127.0.0.1.pem" -noout -ext subjectAltName,extendedKeyUsage
	assert_output --partial "IP Address:127.0.0.1"
	assert_output --partial "TLS Web Server Authentication"
	run openssl x509 -in "$CERTS/ctl.pem" -noout -ext extendedKeyUsage -text
	assert_output --partial "TLS Web Client Authentication"
	assert_output --partial "prime256v1"
	openssl verify -CAfile "$CERTS/ca.pem" "$CERTS/ctl.pem"
	# the CA is reused: an expired client of the same CA
	ca_before=$(sha256sum <"$CERTS/ca.pem")
	"$FL" agent certs --dir "$CERTS" --client old --days -1
	[ "$(sha256sum <"$CERTS/ca.pem")" = "$ca_before" ]
	run ! openssl x509 -in "$CERTS/old.pem" -noout -checkend 0
	run ! openssl verify -CAfile "$CERTS/ca.pem" "$CERTS/old.pem"
	assert_output --partial "expired"
	run -2 "$FL" agent certs --dir "$CERTS" --client 'a,b;rm'
	assert_output --partial "--client"
}

@test "--stdio round trip: hello, apply stop, status, probe, revert; bad requests named" {
	require_root
	start_target fl-agent-stdio
	python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(30)' >port.txt &
	FL_PIDS+=($!)
	wait_for '[ -s port.txt ]' 5
	MSGS="{\"v\":1,\"id\":1,\"op\":\"hello\",\"version\":1}
{\"v\":1,\"id\":2,\"op\":\"apply\",\"fault\":{\"kind\":\"stop\",\"target\":{\"pid\":$TARGET},\"for\":\"30s\"},\"lease_ms\":5000}
{\"v\":1,\"id\":3,\"op\":\"status\"}
{\"v\":1,\"id\":4,\"op\":\"probe\",\"probe\":{\"tcp\":\"127.0.0.1:$(cat port.txt)\"},\"timeout_ms\":1000}
{\"v\":1,\"id\":5,\"op\":\"apply\",\"fault\":{\"kind\":\"stop\",\"target\":{\"pid\":$TARGET},\"for\":\"1s\",\"bogus\":1}}
{\"v\":1,\"id\":6,\"op\":\"exec\",\"cmd\":\"id\"}
{\"v\":1,\"id\":7,\"op\":\"renew\",\"lease_ms\":1000}
" run --separate-stderr python3 -c "$AGENTPY" stdio "$FL" agent --stdio
	assert_success
	# the fault was applied for real while the session lasted, and reverted when asked
	assert_line --index 1 --partial '"injected": true'
	assert_line --index 1 --partial '"backend": "pidfd"'
	assert_line --index 2 --partial '"kind": "stop"'
	assert_line --index 2 --partial '"state": "active"'
	assert_line --index 3 --partial '"success": true'
	assert_line --index 4 --partial 'fault.bogus'
	assert_line --index 4 --partial '"exit": 2'
	assert_line --index 5 --partial 'unknown operation \"exec\"'
	assert_line --index 6 --partial '"faults": 1'
	# the session ended without a revert: the agent reverted at lease end (1 s), then exited
	[ "$(proc_state $TARGET)" = S ]
	run "$FL" status
	assert_output --partial "nothing active"
}

@test "--stdio: revert continues the process; a different protocol version is refused" {
	require_root
	start_target fl-agent-rev
	# one session that reverts by the fault id apply gave it
	cat >rev.py <<EOF
import json, struct, subprocess, sys, time
p = subprocess.Popen(["$FL", "agent", "--stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
def call(m):
    b = json.dumps(m).encode(); p.stdin.write(struct.pack(">I", len(b)) + b); p.stdin.flush()
    n = struct.unpack(">I", p.stdout.read(4))[0]; return json.loads(p.stdout.read(n))
print(json.dumps(call({"v": 1, "id": 1, "op": "hello", "version": 1})))
r = call({"v": 1, "id": 2, "op": "apply", "lease_ms": 20000,
          "fault": {"kind": "stop", "target": {"pid": $TARGET}, "for": "30s"}})
time.sleep(0.3)
print(open("/proc/$TARGET/stat").read().split()[2])
print(json.dumps(call({"v": 1, "id": 3, "op": "revert", "fault_id": r["fault_id"]})))
print(open("/proc/$TARGET/stat").read().split()[2])
print(json.dumps(call({"v": 1, "id": 4, "op": "revert", "fault_id": r["fault_id"]})))
p.stdin.close(); print(p.wait())
EOF
	run --separate-stderr python3 rev.py
	assert_success
	assert_line --index 1 "T"
	assert_line --index 2 --partial '"reverted": true'
	assert_line --index 2 --partial '"applications": 1'
	assert_line --index 3 "S"
	assert_line --index 4 --partial 'no fault'
	assert_line --index 5 "0"
	MSGS='{"v":1,"id":1,"op":"hello","version":2}
{"v":2,"id":2,"op":"status"}
{"v":1,"id":3,"op":"status"}' run --separate-stderr python3 -c "$AGENTPY" stdio "$FL" agent --stdio
	assert_line --index 0 --partial 'speaks protocol version 1'
	assert_line --index 1 --partial 'version 2 is not spoken here'
	assert_line --index 2 --partial 'say hello first'
}

@test "the client over ssh: the argv OpenSSH gets, the session on its pipes, heartbeats" {
	require_root
	start_target fl-agent-ssh
	# a stand-in for OpenSSH (the fleet suite runs a real sshd): records its arguments and runs
	# the remote command here, as sshd would on the host
	mkdir -p bin
	cat >bin/ssh <<EOF
#!/bin/sh
printf '%s\n' "\$@" >"$PWD/ssh.argv"
for last; do :; done
exec sh -c "\$last"
EOF
	chmod +x bin/ssh
	PATH="$PWD/bin:$PATH" "$FL" agent call --ssh fleet-host-1 --ssh-config "$PWD/ssh_config" \
		--port 2222 --agent-cmd "$FL agent --stdio" --hold 2s \
		apply "$(stop_fault "$TARGET" 30s 300)" >ctl.out 2>ctl.err &
	ctl=$!
	CTL_PIDS+=($ctl)
	wait_for 'grep -q "\"injected\":true" ctl.out' 10
	# four leases of 300 ms later the fault holds, on heartbeats alone
	sleep 1.2
	[ "$(proc_state "$TARGET")" = T ]
	wait "$ctl"
	# the session's end: the agent reverted at lease end, then exited
	wait_for '[ "$(proc_state '"$TARGET"')" = S ]' 3
	run cat ssh.argv
	assert_output "-F
$PWD/ssh_config
-p
2222
-T
-o
BatchMode=yes
--
fleet-host-1
$FL agent --stdio"
	run "$FL" status
	assert_output --partial "nothing active"
}

@test "TLS: no certificate, another CA, expired, wrong purpose, not allowed: refused, nothing applied" {
	require_root
	certs
	"$FL" agent certs --dir "$CERTS" --client old --days -1
	"$FL" agent certs --dir "${BATS_TEST_TMPDIR}/rogue" --client ctl
	start_target fl-agent-tls
	start_agent "" --allow ctl,old,127.0.0.1
	apply=$(stop_fault "$TARGET" 30s 5000)
	# the right client works
	run call status
	assert_success
	# no client certificate at all (a raw TLS client)
	MSGS='{"v":1,"id":1,"op":"hello","version":1}' run python3 -c "$AGENTPY" tls 127.0.0.1 "$PORT" "$CERTS/ca.pem" - -
	refute_output --partial '"ok": true'
	# a certificate from another CA, an expired one, the agent's own (serverAuth only)
	run -3 "$FL" agent call --connect "127.0.0.1:$PORT" --ca "$CERTS/ca.pem" \
		--cert "${BATS_TEST_TMPDIR}/rogue/ctl.pem" --key "${BATS_TEST_TMPDIR}/rogue/ctl.key" \
		apply "$apply"
	assert_output --partial "refuses this client's certificate"
	WHO=old run -3 call apply "$apply"
	WHO=127.0.0.1 run -3 call apply "$apply"
	# signed by the CA but not in --allow
	WHO=other run -3 call apply "$apply"
	[ "$(proc_state "$TARGET")" = S ]
	run call status --json
	assert_output --partial '"faults":[]'
	run "$FL" status
	assert_output --partial "nothing active"
	log="${BATS_TEST_TMPDIR}/agent.log"
	grep -q "certificate required\|peer did not return a certificate" "$log"
	grep -q "client certificate refused: unable to get local issuer certificate" "$log"
	grep -q "client certificate refused: certificate has expired" "$log"
	grep -q "client certificate refused: unsuitable certificate purpose" "$log"
	grep -q "peer=other .*not in --allow" "$log"
	# the agent restricted its own syscalls once set up
	grep -q '^Seccomp:[[:space:]]*2' "/proc/$AGENT_PID/status"
}

@test "TLS: oversized, non-JSON and truncated messages are rejected, the agent serves on" {
	require_root
	certs
	start_agent
	c=(tls 127.0.0.1 "$PORT" "$CERTS/ca.pem" "$CERTS/ctl.pem" "$CERTS/ctl.key")
	# a length of 2^31: an error reply, then the session is closed
	MSGS='RAW:80000000
REPLY
{"v":1,"id":2,"op":"hello","version":1}' run python3 -c "$AGENTPY" "${c[@]}"
	assert_line --index 0 --partial 'too large'
	assert_line --index 1 'EOF'
	# not JSON, then a JSON array: error replies, the same session goes on
	MSGS='this is not json
[1,2,3]
{"v":1,"id":3,"op":"hello","version":1}' run python3 -c "$AGENTPY" "${c[@]}"
	assert_line --index 0 --partial 'not a JSON object'
	assert_line --index 1 --partial 'another JSON value'
	assert_line --index 2 --partial '"ok": true'
	# a header announcing 100 bytes, 10 of them, then hanging up
	MSGS='RAW:000000647b2276223a312c226964
CLOSE' run python3 -c "$AGENTPY" "${c[@]}" || true
	wait_for 'grep -q "truncated" "${BATS_TEST_TMPDIR}/agent.log"' 5
	kill -0 "$AGENT_PID"
	# nor does it stop itself when asked to (the validator runs in the agent)
	run -2 call apply "$(stop_fault "$AGENT_PID" 1s 5000)"
	assert_output --partial "fault.target.pid: refusing to target faultline itself"
	run call status
	assert_success
	assert_output --partial '"faults":[]'
}

@test "SIGKILL of the controller: the fault is reverted at lease end" {
	require_root
	certs
	start_target fl-agent-kill
	start_agent
	hold_stop "$TARGET" 1500
	# heartbeats keep it past its lease while the controller lives
	sleep 2
	[ "$(proc_state "$TARGET")" = T ]
	kill -KILL "$CTL"
	t=$(time_until_continued "$TARGET")
	echo "reverted ${t}s after SIGKILL (lease 1.5s)" >&3
	awk -v t="$t" 'BEGIN { exit !(t >= 1.0 && t <= 2.5) }'
	grep -q "lease expired" "${BATS_TEST_TMPDIR}/agent.log"
}

# The agent's host: a namespace $NS at 10.231.7.2 over a veth from this one (10.231.7.1).
agent_netns() {
	NS="fl-agt-$$"
	ip netns add "$NS"
	ip link add "flagta$$" type veth peer name "flagtb$$"
	ip link set "flagtb$$" netns "$NS"
	ip addr add 10.231.7.1/30 dev "flagta$$"
	ip link set "flagta$$" up
	ip -n "$NS" addr add 10.231.7.2/30 dev "flagtb$$"
	ip -n "$NS" link set "flagtb$$" up
	ip -n "$NS" link set lo up
}

@test "a partition between controller and agent: the fault is reverted at lease end" {
	require_root
	certs
	agent_netns
	start_target fl-agent-part
	ADDR=10.231.7.2 start_agent "$NS"
	ADDR=10.231.7.2 hold_stop "$TARGET" 1500
	sleep 1
	[ "$(proc_state "$TARGET")" = T ]
	# the controller's packets no longer reach the agent (its heartbeats included)
	ip netns exec "$NS" nft -f - <<EOF
table inet fltestpart {
	chain in {
		type filter hook input priority 0; policy accept;
		ip saddr 10.231.7.1 drop
	}
}
EOF
	t=$(time_until_continued "$TARGET")
	echo "reverted ${t}s after the partition (lease 1.5s)" >&3
	awk -v t="$t" 'BEGIN { exit !(t <= 2.5) }'
	grep -q "lease expired: no message from the controller" "${BATS_TEST_TMPDIR}/agent.log"
}

@test "a network fault through the agent spares the agent's own connection (management plane)" {
	require_root
	certs
	agent_netns
	ADDR=10.231.7.2 start_agent "$NS"
	ip netns exec "$NS" python3 -c 'import socket,time; s=socket.socket(); s.bind(("0.0.0.0",9999)); s.listen(); time.sleep(60)' &
	FL_PIDS+=($!)
	wait_for 'timeout 1 bash -c "echo >/dev/tcp/10.231.7.2/9999"' 5
	# a partition from the controller's own address, applied by the controller
	"$FL" agent call --connect "10.231.7.2:$PORT" --ca "$CERTS/ca.pem" --cert "$CERTS/ctl.pem" \
		--key "$CERTS/ctl.key" --hold 30s \
		apply '{"fault": {"kind": "partition", "dev": "flagtb'$$'", "peer": "10.231.7.1",
			"for": "30s"}, "lease_ms": 1000}' >ctl.out &
	CTL=$!
	CTL_PIDS+=($CTL)
	wait_for 'grep -q "\"injected\":true" ctl.out' 10
	# other traffic from the controller's host is cut...
	run ! timeout 2 bash -c "echo >/dev/tcp/10.231.7.2/9999"
	# ...the agent's port is not: a new session works, the holding one keeps its lease
	sleep 1.5
	ADDR=10.231.7.2 run call status --json --timeout 3s
	assert_success
	assert_output --partial '"kind":"partition"'
	assert_output --partial '"state":"active"'
	# the client library can also dial from inside a namespace (a lab host's view)
	ADDR=10.231.7.2 run call --netns "$NS" status --timeout 3s
	assert_success
	assert_output --partial '"kind":"partition"'
	grep -q "session .* from 10.231.7.2:" "${BATS_TEST_TMPDIR}/agent.log"
	kill -TERM "$CTL"
	wait_for 'timeout 1 bash -c "echo >/dev/tcp/10.231.7.2/9999"' 5
}

@test "the stop file reverts every fault and refuses new ones until it is gone" {
	require_root
	certs
	start_target fl-agent-sf1
	t1=$TARGET
	start_target fl-agent-sf2
	t2=$TARGET
	start_agent "" --stop-file "${BATS_TEST_TMPDIR}/STOP"
	hold_stop "$t1" 60000
	hold_stop "$t2" 60000
	touch "${BATS_TEST_TMPDIR}/STOP"
	wait_for '[ "$(proc_state '"$t1"')" = S ] && [ "$(proc_state '"$t2"')" = S ]' 3
	run -4 call apply "$(stop_fault "$t1" 30s 5000)"
	assert_output --partial "stop file"
	rm "${BATS_TEST_TMPDIR}/STOP"
	sleep 0.3
	run call apply "$(stop_fault "$t1" 1s 5000)"
	assert_success
}

@test "a dead agent's faults: its workers revert; a new agent recovers what the journal holds" {
	require_root
	certs
	start_target fl-agent-dead
	start_agent
	hold_stop "$TARGET" 60000
	# the agent dies: its worker gets SIGTERM (PR_SET_PDEATHSIG) and reverts at once
	kill -KILL "$AGENT_PID"
	wait_for '[ "$(proc_state '"$TARGET"')" = S ]' 5
	kill -KILL "$CTL" 2>/dev/null || true
	start_agent
	# a worker SIGKILLed: the agent recovers its run from the journal at once
	hold_stop "$TARGET" 60000
	kill -KILL "$(pgrep -P "$AGENT_PID" | head -1)"
	wait_for '[ "$(proc_state '"$TARGET"')" = S ]' 5
	wait_for 'grep -q "worker killed by signal 9, recovered run" "${BATS_TEST_TMPDIR}/agent.log"' 5
	# agent and worker both killed: only the journal is left (and the run's guard, which
	# would wait for the fault's end); the next agent recovers it at start. The worker is
	# stopped first so that the agent's death (PR_SET_PDEATHSIG) cannot make it revert.
	hold_stop "$TARGET" 60000
	worker=$(pgrep -P "$AGENT_PID" | head -1)
	kill -STOP "$worker"
	kill -KILL "$AGENT_PID"
	kill -KILL "$worker"
	sleep 0.3
	[ "$(proc_state "$TARGET")" = T ]
	start_agent
	wait_for '[ "$(proc_state '"$TARGET"')" = S ]' 5
	grep -q "recovered run .* a previous agent left" "${BATS_TEST_TMPDIR}/agent.log"
}

@test "make install puts the systemd unit in place; it passes systemd-analyze verify" {
	command -v systemd-analyze >/dev/null || skip "no systemd-analyze"
	run make -C "$FL_ROOT" install DESTDIR="$PWD/root" PREFIX="$PWD/prefix"
	assert_success
	unit="$PWD/root$PWD/prefix/lib/systemd/system/faultline-agent.service"
	grep -q "^ExecStart=$PWD/prefix/bin/faultline agent --listen" "$unit"
	# the unit as installed, pointing at a binary that exists here
	mkdir -p "$PWD/prefix/bin" && ln -sf "$FL" "$PWD/prefix/bin/faultline"
	cp "$unit" faultline-agent.service
	# --man=no: the man page need not be installed here
	run systemd-analyze verify --man=no ./faultline-agent.service
	echo "$output"
	refute_output --partial "faultline-agent.service:"
}

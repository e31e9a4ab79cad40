#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Hermetic labs: `faultline lab up|down|status`, namespaces, names, services, supervision, cleanup.

bats_require_minimum_version 1.5.0

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '../lib/common'
load '../lib/lab-helpers'

setup() {
	command -v jq >/dev/null || skip "needs jq"
	fl_setup
}
teardown() { lab_teardown; }

# --- without root ---------------------------------------------------------------------------

@test "a scenario without a lab section: exit 2" {
	cat >nolab.yaml <<'Y'
version: 1
name: nolab
steady_state:
  probes:
    - { name: p, tcp: { host: 127.0.0.1, port: 9 } }
Y
	run "$FL" lab up nolab.yaml
	assert_failure 2
	assert_output --partial "'nolab.yaml' has no lab section"
}

@test "an invalid lab host name: exit 2 with file:line:col, nothing created" {
	write_scenario bad.yaml bad '    web: {}
    Web_1: { run: [sleep, "60"] }'
	run "$FL" lab up bad.yaml
	assert_failure 2
	assert_output --regexp "bad.yaml:6:5: invalid lab host name 'Web_1'"
	[ -z "$(ls "$FAULTLINE_STATE_DIR/runs" 2>/dev/null)" ]
}

@test "usage errors: no action, unknown action, missing file: exit 2" {
	run "$FL" lab
	assert_failure 2
	assert_output --partial "give an action: up, down or status"
	run "$FL" lab upp x.yaml
	assert_failure 2
	assert_output --partial "did you mean 'up'?"
	run "$FL" lab up
	assert_failure 2
	run "$FL" lab down not-a-file-nor-id
	assert_failure 2
	assert_output --partial "neither a scenario file nor a lab id"
	run "$FL" lab up nonexistent.yaml
	assert_failure 2
}

@test "lab up without root: exit 3 with the reason" {
	command -v setpriv >/dev/null || skip "needs setpriv"
	[ "$(id -u)" -eq 0 ] || skip "needs root to switch to an unprivileged user"
	dir="$(mktemp -d /tmp/fl-lab-nonroot.XXXXXX)"
	write_scenario "$dir/s.yaml" nonroot '    a: {}'
	chmod 755 "$dir"
	chmod 644 "$dir/s.yaml"
	run setpriv --reuid=65534 --regid=65534 --clear-groups env FAULTLINE_STATE_DIR="$dir/state" \
		"$FL" lab up "$dir/s.yaml"
	rm -rf "$dir"
	assert_failure 3
	assert_output --partial "a lab needs root"
}

# --- the whole life of a lab ----------------------------------------------------------------

@test "lab up: namespaces, names, hosts file, service in its netns and cgroup; down removes all" {
	require_root
	mkdir work
	write_scenario work/lab.yaml life '    web:
      run: [sh, -c, "echo ready-$FAULTLINE_HOST-$GREETING; pwd; exec sleep 600"]
      env: { GREETING: hello }
    cache:
      run: [redis-server, --port, "7379", --save, "", --appendonly, "no", --protected-mode, "no"]
      ready: { tcp: 7379, timeout: 10s }
    idle: {}'
	lab_up work/lab.yaml
	assert_success
	id="$LAB_ID"
	[[ "$id" =~ ^[0-9a-f]{12}$ ]]

	# namespaces, as `ip netns` sees them
	run ip netns list
	for ns in sw web cache idle; do
		assert_output --partial "fl-$id-$ns"
	done
	# addresses: switch .1, hosts .10 upwards in file order, shown by lab up
	assert_equal "$(jq -r '.lab.switch.address' <<<"$LAB_JSON")" 198.18.0.1
	assert_equal "$(jq -r '.lab.hosts[] | "\(.name)=\(.address)"' <<<"$LAB_JSON" | tr '\n' ' ')" \
		"web=198.18.0.10 cache=198.18.0.11 idle=198.18.0.12 "
	run ip -n "fl-$id-cache" -4 -br addr show eth0
	assert_output --partial "198.18.0.11/24"
	assert_output --partial "UP"

	# hosts reach each other by name, from a host and from the switch
	run ip netns exec "fl-$id-web" "${PING[@]}" -c1 -W1 cache
	assert_success
	run ip netns exec "fl-$id-idle" "${PING[@]}" -c1 -W1 web
	assert_success
	run ip netns exec "fl-$id-sw" "${PING[@]}" -c1 -W1 idle
	assert_success

	# the lab's /etc/hosts is not the host's
	inside="$(ip netns exec "fl-$id-web" cat /etc/hosts)"
	[ "$inside" != "$(cat /etc/hosts)" ]
	grep -q "^198.18.0.11[[:space:]]cache$" <<<"$inside"

	# the service: its netns, hostname, /etc/hosts, cgroup, cwd, env and log
	pid="$(host_pid web)"
	[ "$pid" -gt 1 ]
	[ "$(readlink /proc/$pid/ns/net)" = "$(ip netns exec "fl-$id-web" readlink /proc/self/ns/net)" ]
	[ "$(readlink /proc/$pid/ns/net)" != "$(readlink /proc/self/ns/net)" ]
	[ "$(nsenter -t "$pid" -u hostname)" = web ]
	nsenter -t "$pid" -m grep -q "^198.18.0.10[[:space:]]web$" /etc/hosts
	if [ -n "$CG2" ]; then
		grep -qx "0::/faultline/$id/web" /proc/$pid/cgroup
	fi
	log="$FAULTLINE_STATE_DIR/runs/$id/web.log"
	wait_for "grep -q ready-web-hello '$log'" 5
	grep -qx "$BATS_TEST_TMPDIR/work" "$log"
	redis="$(host_pid cache)"
	[ "$(readlink /proc/$redis/ns/net)" = "$(ip netns exec "fl-$id-cache" readlink /proc/self/ns/net)" ]
	# ready means accepting: reachable by name from another host
	run ip netns exec "fl-$id-web" bash -c 'exec 3<>/dev/tcp/cache/7379'
	assert_success

	# status: text and JSON
	run "$FL" lab status
	assert_success
	assert_output --partial "lab $id  life  alive"
	assert_output --partial "fl-$id-cache"
	assert_output --partial "198.18.0.11"
	assert_output --partial "$redis"
	assert_output --partial "ip netns exec fl-$id-web"
	run "$FL" lab status --json
	assert_success
	assert_equal "$(jq -r --arg id "$id" '.labs[] | select(.id == $id) | .alive' <<<"$output")" true
	assert_equal "$(jq -r --arg id "$id" '.labs[] | select(.id == $id) | .lab.hosts | length' \
		<<<"$output")" 3
	run "$FL" lab status work/lab.yaml
	assert_output --partial "lab $id"

	# down: nothing left, no process, the second down is a no-op
	run "$FL" lab down work/lab.yaml
	assert_success
	assert_output --partial "lab $id down"
	assert_equal "$(lab_leftovers "$id")" ""
	run kill -0 "$pid"
	assert_failure
	run kill -0 "$redis"
	assert_failure
	run "$FL" lab down work/lab.yaml
	assert_success
	assert_output --partial "nothing to do"
	run "$FL" lab down "$id"
	assert_success
	run "$FL" lab status
	assert_output --partial "no labs"
}

@test "lab up returns under command substitution (the keeper holds no inherited fd)" {
	require_root
	write_scenario s.yaml subst '    a: { run: [sleep, "600"] }'
	# bats's own fd 3 is open here: a keeper that kept it would hang the suite
	out="$(timeout 20 "$FL" lab up --json s.yaml)"
	LAB_ID="$(jq -r .id <<<"$out")"
	LAB_IDS+=("$LAB_ID")
	[[ "$LAB_ID" =~ ^[0-9a-f]{12}$ ]]
	keeper="$(jq -r .keeper_pid <<<"$out")"
	# the keeper: its own session, stdio on /dev/null or its log, nothing else inherited
	[ "$(ps -o sid= -p "$keeper" | tr -d ' ')" != "$(ps -o sid= -p $$ | tr -d ' ')" ]
	for fd in /proc/$keeper/fd/*; do
		t="$(readlink "$fd")"
		case "$t" in
		/dev/null | *keeper.log | *"/runs/$LAB_ID/lock" | /run/netns/* | anon_inode:*) ;;
		*) echo "unexpected fd $fd -> $t"; false ;;
		esac
	done
	run "$FL" lab down "$LAB_ID"
	assert_success
	assert_equal "$(lab_leftovers "$LAB_ID")" ""
}

# --- readiness and failures -----------------------------------------------------------------

@test "readiness timeout: non-zero, names host, port, error and log; leaves nothing" {
	require_root
	write_scenario r.yaml notready '    a: { run: [sleep, "6001"], ready: { tcp: 7001, timeout: 500ms } }
    b: {}'
	run --separate-stderr "$FL" lab up r.yaml
	assert_failure 1
	assert_equal "$output" ""
	[[ "$stderr" == *"host 'a': port 7001 did not accept connections within 500ms"* ]]
	[[ "$stderr" == *"Connection refused"* ]]
	[[ "$stderr" == *"see a.log ($FAULTLINE_STATE_DIR/lab-logs/"* ]]
	id="$(lab_id_from "$stderr")"
	[ -n "$id" ]
	LAB_IDS+=("$id")
	assert_equal "$(lab_leftovers "$id")" ""
	# the logs outlive the failed lab
	[ -f "$FAULTLINE_STATE_DIR/lab-logs/$id/a.log" ]
	run pgrep -fx "sleep 6001"
	assert_failure
}

@test "a service that exits before it is ready fails fast with its output" {
	require_root
	write_scenario e.yaml exits '    a: { run: [sh, -c, "echo boom-on-stderr >&2; exit 3"], ready: { tcp: 7002, timeout: 20s } }'
	SECONDS=0
	run --separate-stderr "$FL" lab up e.yaml
	assert_failure 1
	[ "$SECONDS" -lt 10 ]
	[[ "$stderr" == *"host 'a': the service exited (exit status 3) before port 7002"* ]]
	[[ "$stderr" == *"boom-on-stderr"* ]]
	id="$(lab_id_from "$stderr")"
	LAB_IDS+=("$id")
	assert_equal "$(lab_leftovers "$id")" ""
}

@test "a service that cannot be executed: clear message, nothing left" {
	require_root
	write_scenario x.yaml noexec '    a: { run: [/nonexistent/fl-no-such-binary] }
    b: {}'
	run --separate-stderr "$FL" lab up x.yaml
	assert_failure 1
	[[ "$stderr" == *"host 'a': cannot execute '/nonexistent/fl-no-such-binary': No such file or directory"* ]]
	[ -z "$(ls "$FAULTLINE_STATE_DIR/runs")" ]
}

# --- supervision ------------------------------------------------------------------------------

@test "restart policies: always and on-failure restart after SIGKILL, no does not" {
	require_root
	write_scenario p.yaml policy '    al: { run: [sleep, "600"], restart: always, restart_delay: 100ms }
    of: { run: [sleep, "600"], restart: on-failure, restart_delay: 100ms }
    no: { run: [sleep, "600"], restart: "no" }
    ok: { run: [sh, -c, "sleep 0.2; exit 0"], restart: on-failure, restart_delay: 100ms }'
	lab_up p.yaml
	assert_success
	al="$(host_pid al)" of="$(host_pid of)" no="$(host_pid no)"
	kill -KILL "$al" "$of" "$no"
	wait_for '[ "$(host_field al restarts)" = 1 ] && [ "$(host_field of restarts)" = 1 ]' 5
	new_al="$(host_pid al)"
	new_of="$(host_pid of)"
	[ "$new_al" -gt 0 ] && [ "$new_al" != "$al" ]
	[ "$new_of" -gt 0 ] && [ "$new_of" != "$of" ]
	# the new process lives in the same netns and cgroup as the old one did
	[ "$(readlink /proc/$new_al/ns/net)" = "$(ip netns exec "fl-$LAB_ID-al" readlink /proc/self/ns/net)" ]
	assert_equal "$(host_field al last_exit)" "killed by signal KILL"
	# restart: no stays down; a clean exit with on-failure stays down too
	wait_for '[ "$(host_field ok state)" = exited ]' 5
	assert_equal "$(host_field no pid)" 0
	assert_equal "$(host_field no state)" exited
	assert_equal "$(host_field ok restarts)" 0
	assert_equal "$(host_field ok last_exit)" "exit status 0"
	# the text status shows the count
	run "$FL" lab status
	assert_output --regexp "al +198\.18\.0\.10 +fl-$LAB_ID-al +$new_al +restarts 1"
	run "$FL" lab down "$LAB_ID"
	assert_success
	assert_equal "$(lab_leftovers "$LAB_ID")" ""
	run kill -0 "$new_al"
	assert_failure
}

@test "a stopped service and its children are removed by lab down" {
	require_root
	write_scenario st.yaml stopped '    a: { run: [sh, -c, "sleep 600 & sleep 600 & wait"] }'
	lab_up st.yaml
	assert_success
	pid="$(host_pid a)"
	wait_for '[ "$(pgrep -P '"$pid"' | wc -l)" = 2 ]' 5
	kids="$(pgrep -P "$pid" | tr '\n' ' ')"
	kill -STOP "$pid" $kids
	[ "$(proc_state "$pid")" = T ]
	run "$FL" lab down st.yaml
	assert_success
	# the service is reaped by its keeper; orphaned children by init, soon after
	[ "$(proc_state "$pid")" = gone ]
	for p in $kids; do
		wait_for "[ \"\$(proc_state $p)\" = gone ]" 5
	done
	assert_equal "$(lab_leftovers "$LAB_ID")" ""
}

@test "the keeper dies: status says DEAD, lab down tears down from the record alone" {
	require_root
	write_scenario k.yaml orphan '    a: { run: [sleep, "600"] }
    b: { run: [sh, -c, "sleep 6002 & exec sleep 6003"] }'
	lab_up k.yaml
	assert_success
	keeper="$(jq -r .keeper_pid <<<"$LAB_JSON")"
	a="$(host_pid a)"
	b="$(host_pid b)"
	kill -KILL "$keeper"
	wait_for '! kill -0 '"$keeper"' 2>/dev/null' 5
	run "$FL" lab status
	assert_output --partial "lab $LAB_ID  orphan  DEAD"
	assert_output --partial "faultline lab down $LAB_ID"
	# the services outlived their keeper
	kill -0 "$a"
	kill -0 "$b"
	run "$FL" lab down "$LAB_ID"
	assert_success
	assert_equal "$(lab_leftovers "$LAB_ID")" ""
	wait_for "[ \"\$(proc_state $a)\" = gone ] || [ \"\$(proc_state $a)\" = Z ]" 5
	wait_for '! pgrep -fx "sleep 600[23]" >/dev/null' 5
}

@test "recover --all removes a lab like lab down" {
	require_root
	write_scenario rc.yaml recovered '    a: { run: [sleep, "600"] }'
	lab_up rc.yaml
	assert_success
	run "$FL" recover --all --grace 5s
	assert_success
	assert_equal "$(lab_leftovers "$LAB_ID")" ""
}

@test "lab down with a run id of a different kind is refused" {
	require_root
	mkdir -p "$FAULTLINE_STATE_DIR/runs/0123456789ab"
	printf '{"id":"0123456789ab","kind":"run","owner":1}' >"$FAULTLINE_STATE_DIR/runs/0123456789ab/run.json"
	run "$FL" lab down 0123456789ab
	assert_failure 2
	assert_output --partial "not a lab; use \`faultline recover 0123456789ab\`"
	rm -rf "$FAULTLINE_STATE_DIR/runs/0123456789ab"
}

@test "without cgroups: pids and namespace scans still remove every process" {
	require_root
	write_scenario ng.yaml nocg '    a: { run: [sh, -c, "sleep 6004 & exec sleep 6005"] }
    b: { run: [sleep, "6006"] }'
	FAULTLINE_LAB_CGROUP=0 lab_up ng.yaml
	assert_success
	[ "$(jq -r .lab.cgroup <<<"$LAB_JSON")" = null ]
	a="$(host_pid a)"
	run grep -q "/faultline/$LAB_ID" /proc/$a/cgroup
	assert_failure
	wait_for 'pgrep -fx "sleep 6004" >/dev/null' 5
	# the keeper dies: recovery has only the record and the namespaces
	kill -KILL "$(jq -r .keeper_pid <<<"$LAB_JSON")"
	run "$FL" lab down "$LAB_ID"
	assert_success
	assert_equal "$(lab_leftovers "$LAB_ID")" ""
	wait_for '! pgrep -fx "sleep 600[456]" >/dev/null' 5
}

@test "processes started in the lab's namespaces by hand go with the lab" {
	require_root
	write_scenario h.yaml byhand '    a: {}'
	lab_up h.yaml
	assert_success
	ip netns exec "fl-$LAB_ID-a" sleep 6301 &
	ip netns exec "fl-$LAB_ID-sw" sleep 6302 &
	wait_for '[ "$(pgrep -fxc "sleep 630[12]")" = 2 ]' 5
	run "$FL" lab down "$LAB_ID"
	assert_success
	assert_equal "$(lab_leftovers "$LAB_ID")" ""
	wait_for '! pgrep -fx "sleep 630[12]" >/dev/null' 5
}

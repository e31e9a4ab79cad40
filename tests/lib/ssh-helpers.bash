# SPDX-License-Identifier: GPL-2.0-only
# Fleets in labs: an sshd (Debian's openssh-server) or a `faultline agent --listen` in each lab
# host, with keys and certificates the test generates, and an ssh_config of the test's own
# (never ~/.ssh). Load after common.bash. The lab starts and stops the daemons: they are the lab
# hosts' services (`run:`), so lab teardown ends them on every path.

SSHD=/usr/sbin/sshd
AGENT_PORT=7443

# ssh_material DIR: a host key, a client key, authorized_keys whose forced command is this
# build's `faultline agent --stdio` (the only thing the key may run), sshd_config, known_hosts
# for every lab address (198.18.0.0/24) and the client's ssh_config.
ssh_material() {
	local d
	mkdir -p "$1"
	d="$(cd "$1" && pwd)"
	ssh-keygen -q -t ed25519 -N '' -C fl-test-host -f "$d/host_ed25519"
	ssh-keygen -q -t ed25519 -N '' -C fl-test-client -f "$d/client_ed25519"
	# sshd refuses a privilege separation directory that is missing; Debian's unit creates it
	[ -d /run/sshd ] || install -d -m 0755 /run/sshd
	printf 'command="%s agent --stdio",restrict %s\n' "$FL" "$(cat "$d/client_ed25519.pub")" \
		>"$d/authorized_keys"
	cat >"$d/sshd_config" <<-CONF
	Port 22
	ListenAddress 0.0.0.0
	HostKey $d/host_ed25519
	AuthorizedKeysFile $d/authorized_keys
	PidFile none
	PermitRootLogin prohibit-password
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	PubkeyAuthentication yes
	UsePAM no
	StrictModes no
	PrintMotd no
	MaxStartups 200:30:400
	LogLevel ERROR
	CONF
	printf '198.18.0.* %s\n' "$(cut -d' ' -f1,2 "$d/host_ed25519.pub")" >"$d/known_hosts"
	cat >"$d/ssh_config" <<-CONF
	Host *
	  User root
	  IdentityFile $d/client_ed25519
	  IdentitiesOnly yes
	  IdentityAgent none
	  UserKnownHostsFile $d/known_hosts
	  GlobalKnownHostsFile /dev/null
	  StrictHostKeyChecking yes
	  BatchMode yes
	  ConnectTimeout 5
	  # OpenSSH 9.2's default key exchange (sntrup761x25519) costs ~0.3 s of CPU per
	  # connection on each side; fleets of lab hosts on 2 vCPUs connect with plain X25519
	  KexAlgorithms curve25519-sha256
	  LogLevel ERROR
	CONF
}

# The `run:` of a lab host that serves ssh.
sshd_run() {
	printf '[%s, -D, -e, -f, %s]' "$SSHD" "$1/sshd_config"
}

# The address of lab host hI (the lab numbers its hosts from 198.18.0.10, in file order).
lab_addr() {
	echo "198.18.0.$((9 + $1))"
}

# agent_material DIR N: a CA, a certificate for the agent of each of lab hosts h1..hN (its
# IP SAN is the host's lab address, which the controller verifies) and the client's (ctl).
agent_material() {
	local d n="$2" i names=()
	mkdir -p "$1"
	d="$(cd "$1" && pwd)"
	for ((i = 1; i <= n; i++)); do names+=("$(lab_addr "$i")"); done
	"$FL" agent certs --dir "$d" --agent "$(IFS=,; echo "${names[*]}")" --client ctl >/dev/null
}

# The `run:` of lab host hI running an agent with its certificate.
agent_run() {
	local d="$1" a
	a="$(lab_addr "$2")"
	printf '[%s, agent, --listen, "0.0.0.0:%s", --ca, %s, --cert, %s, --key, %s]' "$FL" \
		"$AGENT_PORT" "$d/ca.pem" "$d/$a.pem" "$d/$a.key"
}

# fleet_scenario FILE TRANSPORT N [DOWN] [POLICY] [SELECTOR]: a lab of N hosts h1..hN, each a
# remote host of group web over TRANSPORT (ssh or agent), with a fault that drops UDP to port
# 9999 on eth0 of the chosen hosts for 4s. Host DOWN (a name) runs no daemon.
fleet_scenario() {
	local f="$1" tr="$2" n="$3" down="${4:-}" policy="${5:-abort}"
	local sel="${6:-}" dir="${BATS_TEST_TMPDIR}" i transport
	[ -n "$sel" ] || sel='{ group: web, percent: 30 }'
	{
		printf 'version: 1\nname: fleet-%s\nseed: 7\nlab:\n  hosts:\n' "$tr"
		for ((i = 1; i <= n; i++)); do
			if [ "h$i" = "$down" ]; then
				printf '    h%d: {}\n' "$i"
			elif [ "$tr" = ssh ]; then
				printf '    h%d: { run: %s, ready: { tcp: 22 } }\n' "$i" "$(sshd_run "$dir/ssh")"
			else
				printf '    h%d: { run: %s, ready: { tcp: %s } }\n' "$i" \
					"$(agent_run "$dir/pki" "$i")" "$AGENT_PORT"
			fi
		done
		printf 'hosts:\n'
		if [ "$tr" = ssh ]; then
			transport="{ ssh: { ssh_config: $dir/ssh/ssh_config } }"
		else
			transport="{ agent: { port: $AGENT_PORT, ca: $dir/pki/ca.pem, cert: $dir/pki/ctl.pem, key: $dir/pki/ctl.key } }"
		fi
		for ((i = 1; i <= n; i++)); do
			printf '  - { name: h%d, lab: h%d, groups: [web], transport: %s }\n' "$i" "$i" \
				"$transport"
		done
		printf 'fanout: { concurrency: 8, timeout: 5s, on_host_failure: %s }\n' "$policy"
		printf 'steady_state: { baseline: 200ms }\n'
		printf 'faults:\n  - name: drop-udp\n    kind: loss\n    backend: tc-bpf\n'
		printf '    dev: eth0\n    direction: egress\n    proto: udp\n    dport: 9999\n'
		printf '    percent: 100\n    on: %s\n    for: 4s\n' "$sel"
		printf 'recovery: { within: 1s, healthy_for: 100ms }\n'
	} >"$f"
}

# Hosts of a running lab whose eth0 has a faultline classifier right now (one name a line).
hosts_with_fault() {
	local id="$1" ns
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^fl-${id}-h[0-9]*$"); do
		tc -n "$ns" filter show dev eth0 egress 2>/dev/null | grep -q bpf &&
			echo "${ns##*-}"
	done | sort -V
	true
}

#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# faultline doctor on a stock kernel: what it finds must match the kernel, and so must the backends.

load guest

# TCG is slow: give the probes more time than on a host
DOCTOR=(doctor --timeout 10s)

setup_file() {
	export DOCTOR_JSON="${BATS_FILE_TMPDIR}/doctor.json"
	export DOCTOR_TEXT="${BATS_FILE_TMPDIR}/doctor.txt"
	export CAPS="${BATS_FILE_TMPDIR}/caps.tsv"
	export KINDS="${BATS_FILE_TMPDIR}/kinds.tsv"
	export STATE_BEFORE="${BATS_FILE_TMPDIR}/before.txt"
	guest_state >"$STATE_BEFORE"
	"$FL" "${DOCTOR[@]}" --json >"$DOCTOR_JSON"
	"$FL" "${DOCTOR[@]}" >"$DOCTOR_TEXT"
	# jq takes most of a second to start under TCG: flatten the report once, read it with awk
	jq -r '.capabilities[] | [.id, .ok, .detail] | @tsv' "$DOCTOR_JSON" >"$CAPS"
	jq -r '.kinds[] | [.kind, (.backend // "none"),
		([.backends[] | select(.status == "available") | .name] | first // "none"),
		([.backends[] | "\(.name)=\(.status)"] | join(",")),
		# backends this host could not run, implemented or not
		([.backends[] | select(.host_ok | not) | .name] | join(",") |
			if . == "" then "-" else . end)] | @tsv' "$DOCTOR_JSON" >"$KINDS"
}

# Everything doctor could leave behind: namespaces, qdiscs, links, BPF programs and links,
# mounts, cgroups, queues and rules. Reading /sys/kernel/debug/tracing makes the kernel automount
# tracefs there, as on any host with debugfs: that mount is the kernel's, not a leftover.
guest_state() {
	echo "== netns"; ip netns list
	echo "== qdisc"; tc qdisc show
	echo "== links"; ip -o link show | awk -F': ' '{ print $2 }'
	echo "== progs"; bpftool prog show | grep -c '^[0-9]*:' || true
	echo "== bpf links"; bpftool link show | grep -c '^[0-9]*:' || true
	echo "== mounts"; grep -v ' /sys/kernel/debug/tracing tracefs ' /proc/mounts
	echo "== cgroups"; find "$CG2" -mindepth 1 -type d
	echo "== nfqueue"; cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null || true
	echo "== iptables"; iptables-save 2>/dev/null | grep -v "^#" || true
}

# cap ID FIELD: a capability's field (ok: true or false; detail: text).
cap() {
	awk -F'\t' -v id="$1" -v f="$2" '$1 == id { print (f == "ok" ? $2 : $3) }' "$CAPS"
}

# expect_caps: read "ID true|false [TEXT]" lines; each capability must have that ok and a detail
# containing TEXT. Prints every mismatch, fails if there was one. (One awk: processes are slow
# to start under TCG.)
expect_caps() {
	awk -F'\t' 'NR == FNR { ok[$1] = $2; detail[$1] = $3; next }
		{ id = $0; sub(/ .*/, "", id); want = $0; sub(/^[^ ]* /, "", want)
		  text = want; sub(/^[^ ]* ?/, "", text); sub(/ .*/, "", want)
		  if (!(id in ok)) {
			print "capability \047" id "\047: not reported"
			bad = 1
			next
		  }
		  if (ok[id] != want || (text != "" && index(detail[id], text) == 0)) {
			print "capability \047" id "\047: expected ok=" want \
			      (text != "" ? " with \047" text "\047" : "") ", got ok=" ok[id] ": " \
			      detail[id]
			bad = 1
		  } }
		END { exit bad }' "$CAPS" -
}

# kind FIELD KIND: backend (chosen, or none), first (first available, or none), or backends
# (name=status,...).
kind() {
	awk -F'\t' -v k="$2" -v f="$1" '$1 == k {
		print (f == "backend" ? $2 : f == "first" ? $3 : $4) }' "$KINDS"
}

@test "doctor ran, for this kernel, within its timeout" {
	read -r kernel ms < <(jq -r '"\(.kernel) \(.elapsed_ms)"' "$DOCTOR_JSON")
	assert_equal "$kernel" "$(uname -r)"
	echo "doctor probed in ${ms} ms"
	[ "$ms" -lt 10000 ]
	first="$(head -1 "$DOCTOR_TEXT")"
	[[ "$first" == "kernel $(uname -r) (x86_64), probed in "+([0-9])" ms" ]] || {
		echo "first line: ${first}"
		false
	}
}

@test "the stock Debian kernel: netem, BPF LSM active, trampolines, no syscall fmod_ret" {
	[[ "$(uname -v)" == *Debian* ]] || skip "not a Debian kernel: $(uname -v)"
	expect_caps <<-'EOF'
		root true
		kernel-btf true
		netem true netem qdisc added
		tbf true
		tc-bpf true
		veth true
		bridge true
		nfqueue true
		iptables-nfqueue true (nf_tables)
		bpf-trampoline true fentry/vfs_read
		bpf-lsm true lsm/file_permission
		bpf-lsm-active true 'bpf' in active LSMs
		fmod-ret-security true fmod_ret/security_file_permission
		fmod-ret-syscall false is not modifiable
		kprobe-override false bpf_override_return
		tp-btf-signal true
		tracepoint-signal true
		uprobe true
		seccomp-filter true
		seccomp-notify true
		dev-fuse true
		fusermount3 true setuid root
		cgroup2 true /sys/fs/cgroup
		cgroup-kill true
		pidfd true
	EOF
}

@test "every kernel capability agrees with the kernel's build config" {
	[ -r "/boot/config-$(uname -r)" ] || skip "no config for this kernel (VM_KCONFIG)"
	# capability id, then the options it needs (all of them, y or m: modules are loaded)
	awk 'NR == FNR { if (sub(/^CONFIG_/, "") && split($0, kv, "=") == 2 && kv[2] ~ /^[ym]$/)
			set[kv[1]] = 1; next }
		{ want = "true"; for (i = 2; i <= NF; i++) if (!($i in set)) want = "false"
		  print $1, want }' "/boot/config-$(uname -r)" - >want <<-'EOF'
		kernel-btf DEBUG_INFO_BTF
		netem NET_SCH_NETEM
		tbf NET_SCH_TBF
		tc-bpf NET_CLS_BPF NET_SCH_INGRESS
		tcx NET_XGRESS
		nfqueue NETFILTER_NETLINK_QUEUE
		iptables-nfqueue NETFILTER_XT_TARGET_NFQUEUE NFT_COMPAT
		veth VETH
		bridge BRIDGE
		bpf-trampoline BPF_JIT DYNAMIC_FTRACE_WITH_DIRECT_CALLS
		bpf-lsm BPF_LSM BPF_JIT DYNAMIC_FTRACE_WITH_DIRECT_CALLS
		fmod-ret-security BPF_JIT DYNAMIC_FTRACE_WITH_DIRECT_CALLS
		fmod-ret-syscall FUNCTION_ERROR_INJECTION BPF_JIT DYNAMIC_FTRACE_WITH_DIRECT_CALLS
		kprobe-override BPF_KPROBE_OVERRIDE
		tp-btf-signal BPF_EVENTS
		tracepoint-signal BPF_EVENTS
		uprobe UPROBE_EVENTS
		seccomp-filter SECCOMP_FILTER
		dev-fuse FUSE_FS
	EOF
	# and the active LSMs, as the kernel lists them
	if grep -qw bpf /sys/kernel/security/lsm; then
		echo "bpf-lsm-active true" >>want
	else
		echo "bpf-lsm-active false" >>want
	fi
	expect_caps <want
}

@test "kill and stop run through pidfd" {
	assert_equal "$(kind backend kill)" pidfd
	assert_equal "$(kind backend stop)" pidfd
}

@test "each fault kind uses its first available backend, and none lacks what it needs" {
	bad=0
	while IFS=$'\t' read -r k chosen first statuses lacking; do
		echo "${k}: ${chosen} (${statuses})"
		if [ "$chosen" != "$first" ]; then
			echo "  expected the first available backend, '${first}'"
			bad=1
		fi
		# a stock kernel has everything every backend needs
		if [ "$lacking" != - ]; then
			echo "  doctor says this kernel cannot run: ${lacking}"
			bad=1
		fi
	done <"$KINDS"
	# the backends the network and disk work rely on are there to implement
	for kb in latency:netem loss:netem corrupt:netem bandwidth:tbf partition:tc-bpf \
		disk-error:bpf-lsm disk-error:fmod-ret crash-point:bpf-signal; do
		case ",$(kind backends "${kb%%:*}")," in
		*",${kb#*:}=available,"* | *",${kb#*:}=not-implemented,"*) ;;
		*) echo "${kb}: not available: $(kind backends "${kb%%:*}")"; bad=1 ;;
		esac
	done
	[ "$bad" -eq 0 ]
}

@test "text and JSON agree on every capability and backend" {
	# "  id  ok|no  detail" lines, then "  kind  backend  reason" lines, as the JSON has them
	assert_equal "$(awk '/^capabilities$/ { c = 1; next } /^fault kinds$/ { c = 0; k = 1; next }
		(c || k) && /^  [a-z]/ { print $1, $2 }' "$DOCTOR_TEXT")" \
		"$(awk -F'\t' '{ print $1, ($2 == "true" ? "ok" : "no") }' "$CAPS"
		   awk -F'\t' '{ print $1, $2 }' "$KINDS")"
}

@test "doctor leaves nothing behind" {
	run guest_state
	assert_output "$(cat "$STATE_BEFORE")"
	run pgrep -f "^${FL} doctor"
	assert_failure
}

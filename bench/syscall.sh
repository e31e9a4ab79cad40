#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The syscall rows of `make bench` (issue 6): ns per targeted and untargeted call of a loop of
# 16-byte write()s to a file (bench/wloop.c), plain, under `faultline exec` (seccomp errno
# filter; user notification with and without the sync wake-up flag), under
# `strace -e inject=write:error=EIO` (ptrace, what ChaosBlade runs) and under `fiu-run`
# (libfiu's LD_PRELOAD wrappers), through faultline's FUSE disk-error mount and its eBPF
# disk-error backends, bpf-lsm and fmod-ret (as root; where the kernel refuses them, a row with
# its reason instead of a number), and with a crash point armed (raw tracepoint sys_enter), all
# in one run. A targeted call is one the fault fails; an untargeted one is a write() while the
# same tool fails another syscall (fsync), or, for FUSE and eBPF, a write() of a process that is
# not the target, under the same path; crash-point rows are untargeted calls of the bench while
# the program waits for another process's Nth call (of getppid itself, or of fsync).
#
# Prints one JSON line per measurement ({"bench": "syscall", ...}) on stdout, the median of
# BENCH_SC_REPS runs (default 5); bench/run.sh appends them to its records, bench/report.py
# judges them. Needs no root. Environment: FAULTLINE, CC, BENCH_SC_N (calls per cheap run,
# default 1000000; notify runs do N/10, strace N/50).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
FL="${FAULTLINE:-$ROOT/faultline}"
REPS="${BENCH_SC_REPS:-5}"
N="${BENCH_SC_N:-1000000}"

die() { echo "bench/syscall: $*" >&2; exit 1; }
[ -x "$FL" ] || die "missing $FL (run 'make')"
for c in jq strace "${CC:-cc}"; do command -v "$c" >/dev/null || die "needs $c"; done

TMP="$(mktemp -d /tmp/flbench-sc.XXXXXX)"
FUSE_RUN=
ARMED=
CGDIR=
SLEEPER=
cleanup() {
	[ -z "$FUSE_RUN" ] || "$FL" recover "$FUSE_RUN" >/dev/null 2>&1 || true
	[ -z "$ARMED" ] || "$FL" recover "$ARMED" >/dev/null 2>&1 || true
	[ -z "$SLEEPER" ] || kill "$SLEEPER" 2>/dev/null || true
	[ -z "$CGDIR" ] || rmdir "$CGDIR" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
"${CC:-cc}" -O2 -Wall -Wextra -Werror -o "$TMP/wloop" "$HERE/wloop.c"
export WLOOP_OUT="$TMP/out.json"

# The cases: "tool|case|targeted|calls|command...". Runs are interleaved (every case once per
# round, REPS rounds) so that other load on the machine spreads over all of them alike.
W="$TMP/data"
NN=$((N / 10))
NS=$((N / 50))
WL="$TMP/wloop"
FE="--fault syscall=write,errno=EIO"
FO="--fault syscall=fsync,errno=EIO"
CASES=(
	"plain|write|false|$N|$WL write $N $W"
	"plain|getppid|false|$N|$WL getppid $N"
	"faultline-errno|write|true|$N|$FL exec $FE -- $WL write $N $W"
	"faultline-errno|write|false|$N|$FL exec $FO -- $WL write $N $W"
	"faultline-notify-sync|write|true|$NN|$FL exec $FE,notify=yes -- $WL write $NN $W"
	"faultline-notify-nosync|write|true|$NN|$FL exec --no-sync-wakeup $FE,notify=yes -- $WL write $NN $W"
	"faultline-notify-sync|write|false|$N|$FL exec $FO,notify=yes -- $WL write $N $W"
	# notified, path read, let through: what a path-scoped disk-error costs other files
	"faultline-notify-path|write-passthrough|false|$NN|$FL exec --fault kind=disk-error,ops=write,path=$TMP/elsewhere -- $WL write $NN $W"
	"strace|write|true|$NS|strace -f -o /dev/null -e trace=write -e inject=write:error=EIO $WL write $NS $W"
	"strace|write|false|$NS|strace -f -o /dev/null -e trace=fsync -e inject=fsync:error=EIO $WL write $NS $W"
	"strace-seccomp-bpf|write|false|$N|strace --seccomp-bpf -f -o /dev/null -e trace=fsync -e inject=fsync:error=EIO $WL write $N $W"
)
# FUSE (root): a disk-error fault on writes of processes named wloopt over $TMP/fz; wloopu
# writes through the same mount untargeted (every process using the directory pays the trip)
if [ "$(id -u)" -eq 0 ] && [ -e /dev/fuse ]; then
	mkdir -p "$TMP/fz"
	cp "$WL" "$TMP/wloopt"
	cp "$WL" "$TMP/wloopu"
	FUSE_RUN="$("$FL" inject disk-error --backend fuse --path "$TMP/fz" --name wloopt \
		--errno EIO --ops write --for 30m --detach --json 2>/dev/null | jq -r .run_id)" ||
		FUSE_RUN=
	if [ -n "$FUSE_RUN" ] && [ "$FUSE_RUN" != null ]; then
		CASES+=("faultline-fuse|write|true|$NS|$TMP/wloopt write $NS $TMP/fz/t"
			"faultline-fuse|write|false|$NS|$TMP/wloopu write $NS $TMP/fz/u")
	else
		FUSE_RUN=
		jq -cn '{bench: "syscall", tool: "faultline-fuse", case: "write",
			 na: "faultline inject disk-error --backend fuse did not start"}'
	fi
else
	jq -cn '{bench: "syscall", tool: "faultline-fuse", case: "write",
		 na: "needs root and /dev/fuse"}'
fi
# armed "INJECT ARGS" CMD...: CMD while `faultline inject INJECT ARGS` is in place (armed for
# each run of the case: the programs run for every write of every process, so they must not
# be there while the other cases run); the fault's reason on stderr when it cannot be.
armed() {
	local args="$1" out st=0
	shift
	# shellcheck disable=SC2086 # a list of arguments
	out="$("$FL" inject $args --for 10m --detach --json)" || return 1
	ARMED="$(jq -r .run_id <<<"$out")"
	"$@" || st=$?
	"$FL" recover "$ARMED" >/dev/null 2>&1 || st=1
	ARMED=
	return "$st"
}

# incg CMD...: CMD in the bench's cgroup, the target of the eBPF disk-error faults (checked in
# the kernel: processes started later are in)
incg() {
	(echo "$BASHPID" >"${CGDIR}/cgroup.procs" && exec "$@")
}

# eBPF (root, cgroup v2): disk-error EIO on writes under $TMP/eb by the bench's cgroup, through
# the BPF LSM (bpf-lsm) and fmod_ret on security_file_permission (fmod-ret); the untargeted
# writer is outside the cgroup. Then crash points on a sleeping process.
CG2="$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)"
if [ "$(id -u)" -eq 0 ] && [ -n "$CG2" ] && mkdir "${CG2}/flbench-sc-$$" 2>/dev/null; then
	CGDIR="${CG2}/flbench-sc-$$"
	mkdir -p "$TMP/eb"
	for b in bpf-lsm fmod-ret; do
		a="disk-error --backend $b --cgroup /flbench-sc-$$ --path $TMP/eb --errno EIO --ops write"
		if why="$(armed "$a" true 2>&1)"; then
			CASES+=("faultline-$b|write|true|$N|armed '$a' incg $WL write $N $TMP/eb/t"
				"faultline-$b|write|false|$N|armed '$a' $WL write $N $TMP/eb/u")
		else
			# the kernel's reason, as faultline gives it
			jq -cn --arg tool "faultline-$b" --arg why "${why##*cannot run here: }" \
				'{bench: "syscall", tool: $tool, case: "write", na: $why}'
		fi
	done
	sleep 1d &
	SLEEPER=$!
	c="crash-point --pid $SLEEPER --syscall"
	if why="$(armed "$c getppid" true 2>&1)"; then
		CASES+=("faultline-crash-point|getppid|false|$N|armed '$c getppid' $WL getppid $N"
			"faultline-crash-point|write|false|$N|armed '$c fsync' $WL write $N $W")
	else
		jq -cn --arg why "${why##*cannot run here: }" \
			'{bench: "syscall", tool: "faultline-crash-point", case: "getppid", na: $why}'
	fi
else
	jq -cn '{bench: "syscall", tool: "faultline-bpf-lsm", case: "write",
		 na: "needs root and cgroup v2"}'
fi
if command -v fiu-run >/dev/null; then
	CASES+=("fiu-run|write|true|$N|fiu-run -x -c enable\ name=posix/io/rw/write $WL write $N $W"
		"fiu-run|write|false|$N|fiu-run -x -c enable\ name=posix/io/sync/fsync $WL write $N $W")
else
	jq -cn '{bench: "syscall", tool: "fiu-run", case: "write",
		 na: "fiu-run is not installed (Debian fiu-utils)"}'
fi

declare -A VALS FAILED
for ((r = 0; r < REPS; r++)); do
	for c in "${CASES[@]}"; do
		IFS='|' read -r tool case targeted n cmd <<<"$c"
		rm -f "$WLOOP_OUT"
		eval "$cmd" >/dev/null 2>&1 || true
		if [ -s "$WLOOP_OUT" ]; then
			VALS[$tool/$case/$targeted]+="$(jq .ns_per_call "$WLOOP_OUT") "
			FAILED[$tool/$case/$targeted]=$(jq .failed "$WLOOP_OUT")
		fi
	done
done
for c in "${CASES[@]}"; do
	IFS='|' read -r tool case targeted n cmd <<<"$c"
	k="$tool/$case/$targeted"
	if [ -z "${VALS[$k]:-}" ]; then
		jq -cn --arg tool "$tool" --arg case "$case" --argjson t "$targeted" \
			'{bench: "syscall", tool: $tool, case: $case, targeted: $t, na: "no result"}'
		continue
	fi
	# shellcheck disable=SC2086
	printf '%s\n' ${VALS[$k]} | jq -sc --arg tool "$tool" --arg case "$case" \
		--argjson t "$targeted" --argjson n "$n" --argjson failed "${FAILED[$k]}" \
		'sort as $v | {bench: "syscall", tool: $tool, case: $case, targeted: $t, calls: $n,
		  failed_last: $failed, runs: $v, ns_per_call: $v[($v | length) / 2 | floor]}'
done

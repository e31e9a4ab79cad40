#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Install every Debian package faultline's build and tests need (idempotent).
set -eu

PKGS="
make gcc clang llvm pkg-config bpftool libbpf-dev libelf-dev zlib1g-dev
libnl-3-dev libnl-route-3-dev libnl-nf-3-dev libseccomp-dev libyaml-dev libjansson-dev
libcurl4-openssl-dev libfuse3-dev libssl-dev libcmocka-dev libclang-rt-14-dev
bats bats-assert bats-support iproute2 iptables procps psmisc util-linux
qemu-system-x86 busybox-static cpio xz-utils jq fuse3
nginx-light redis-server redis-tools
redis-sentinel keepalived haproxy
libxml2-utils chromium
prometheus curl openssl python3
sqlite3 strace fiu-utils
nftables systemd
openssh-server openssh-client
tzdata python3-icalendar
"
# libxml2-utils: xmllint checks junit.xml against the JUnit XSDs (tests/golden/junit*.xsd);
# chromium: report.bats opens report.html headless (screenshot, DOM, console errors).
# prometheus: the real server prometheus.bats starts in a lab host (nginx-light above serves
# http.bats); curl: that suite's readiness gate; openssl: http.bats' self-signed certificate.
# python3: the bats suites' UDP/TCP senders and receivers (socket scripts in the tests).
# sqlite3: exec.bats' and diskfuse.bats' real program under disk errors; strace and fiu-utils (fiu-run): the
# syscall rows of `make bench` compare faultline's seccomp faults with them.
# openssh-server, openssh-client: fleet.bats and bench/fleet.sh start an sshd in each lab host
# (keys and configs the test writes) and reach `faultline agent --stdio` over ssh.
# redis-sentinel, keepalived, haproxy: the HA example scenarios (scenarios/examples/, run by
# tests/bats/ha.bats) start them in lab hosts: Sentinel failover, a VRRP VIP, health checks.
# tzdata: named time zones of game-day windows and schedules (test_cron's DST cases);
# python3-icalendar: gameday.bats parses the .ics (plus its own CRLF/folding checks);
# systemd (also): systemd-analyze verifies `schedule install`'s units and their OnCalendar= elapses.
# xz-utils: tests/vm/kernel.sh decompresses Debian's vmlinuz; jq: the guest suites read JSON with
# it (no python3 in the guests); fuse3: fusermount3, which doctor probes and the guests carry.
# nftables: agent.bats cuts a controller off its agent with an nft rule in the test's namespace;
# systemd: systemd-analyze verify checks cmd/faultline-agent.service (agent.bats).

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done

if [ -z "$missing" ]; then
	echo "deps: all $(echo $PKGS | wc -w) packages present"
	exit 0
fi

echo "deps: installing:$missing"
$SUDO apt-get update -qq
# The services are started by faultline inside lab namespaces, never by the package scripts.
DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $SUDO apt-get install -y -qq --no-install-recommends $missing

#!/bin/sh
# A web node of keepalived-vip-failover.yaml: nginx (ha/nginx.sh) and keepalived holding the
# virtual IP VIP while it is the VRRP master. keepalived is started again RESTART seconds
# after it dies (as systemd's Restart= would); with --dont-respawn the parent exits when its
# VRRP process dies instead of starting another one at once. The track script asks the local
# nginx for a page: a node whose nginx does not answer loses 60 from its priority.
# The lab waits for port 81 (busybox httpd): it opens once nginx answers and, with WAIT_VIP=1,
# once the node holds the VIP, so the baseline starts with the master in place.
# Usage: node.sh PRIORITY VIP ADVERT_INT RESTART
set -eu
d="$FAULTLINE_LAB_DIR/$FAULTLINE_HOST"
mkdir -p "$d"
cat >"$d/keepalived.conf" <<CONF
global_defs {
	router_id $FAULTLINE_HOST
	vrrp_version 3
	process_names	# the VRRP process is keepalived_vrrp: a fault can crash it alone
}
vrrp_script nginx_up {
	script "/usr/bin/curl -fsS -o /dev/null --max-time 0.5 http://127.0.0.1/"
	interval 1
	timeout 1
	fall 1
	rise 1
	weight -60
}
vrrp_instance web {
	interface eth0
	virtual_router_id 51
	priority $1
	advert_int $3
	# a master that hears a lower priority (the end of a split brain) announces the VIP
	# again, or clients keep the backup's MAC for it until their ARP entry goes stale
	garp_lower_prio_repeat 1
	virtual_ipaddress {
		$2/24 dev eth0
	}
	track_script {
		nginx_up
	}
}
CONF
sh "$(dirname "$0")/../nginx.sh" &
until curl -fs -o /dev/null --max-time 0.5 http://127.0.0.1/; do
	sleep 0.1
done
while :; do
	keepalived --dont-fork --dont-respawn --log-console --vrrp --use-file "$d/keepalived.conf" \
		--pid "$d/keepalived.pid" --vrrp_pid "$d/vrrp.pid" || true
	sleep "$4"
done &
if [ "${WAIT_VIP:-0}" = 1 ]; then
	until ip -4 -o addr show dev eth0 | grep -q " $2/"; do
		sleep 0.1
	done
fi
exec busybox httpd -f -p 81 -h "$d"

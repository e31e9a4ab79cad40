#!/bin/sh
# nginx in the foreground on a lab host, answering every request with the host's name (so a
# probe can tell which host served it); its files in FAULTLINE_LAB_DIR/HOST.
# Used by keepalived-vip-failover.yaml and lb-health-check.yaml. Usage: nginx.sh [PORT]
set -eu
d="$FAULTLINE_LAB_DIR/$FAULTLINE_HOST"
mkdir -p "$d"
cat >"$d/nginx.conf" <<CONF
daemon off;
worker_processes 1;
error_log stderr;
pid $d/nginx.pid;
events {}
http {
	access_log off;
	client_body_temp_path $d/body;
	proxy_temp_path $d/proxy;
	fastcgi_temp_path $d/fastcgi;
	uwsgi_temp_path $d/uwsgi;
	scgi_temp_path $d/scgi;
	server {
		listen ${1:-80};
		location / { return 200 "$FAULTLINE_HOST\n"; }
	}
}
CONF
exec nginx -c "$d/nginx.conf" -p "$d/" -e stderr

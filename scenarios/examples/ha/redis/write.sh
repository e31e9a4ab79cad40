#!/bin/sh
# One write through whatever primary the Sentinels name now (the probe of
# redis-sentinel-failover.yaml). Each write adds a unique, increasing value to the set
# 'writes'; a write Redis acknowledged is logged in FAULTLINE_LAB_DIR/acked, so that
# lost-writes.sh can count the acknowledged writes missing after failovers.
set -u
addr=
for s in s1 s2 s3; do
	addr=$(redis-cli -h "$s" -p 26379 --raw SENTINEL get-master-addr-by-name mymaster \
		2>/dev/null) && [ -n "$addr" ] && break
done
set -- $addr
[ $# -eq 2 ] || { echo "no Sentinel named a primary"; exit 2; }
v=$(date +%s%N)
r=$(redis-cli -h "$1" -p "$2" --raw SADD writes "$v" 2>&1)
[ "$r" = 1 ] || { echo "$1: $r"; exit 1; }
echo "$v" >>"$FAULTLINE_LAB_DIR/acked"

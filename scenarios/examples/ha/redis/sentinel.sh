#!/bin/sh
# A Redis Sentinel for redis-sentinel-failover.yaml: Sentinel rewrites its configuration file,
# so each one gets its own copy in the lab's scratch directory (FAULTLINE_LAB_DIR, removed
# with the run). Usage: sentinel.sh PRIMARY_ADDR DOWN_AFTER_MS FAILOVER_TIMEOUT_MS
set -eu
conf="$FAULTLINE_LAB_DIR/sentinel-$FAULTLINE_HOST.conf"
cat >"$conf" <<CONF
port 26379
protected-mode no
daemonize no
dir $FAULTLINE_LAB_DIR
sentinel monitor mymaster $1 6379 2
sentinel down-after-milliseconds mymaster $2
sentinel failover-timeout mymaster $3
sentinel parallel-syncs mymaster 2
CONF
exec redis-sentinel "$conf"

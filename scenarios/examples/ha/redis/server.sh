#!/bin/sh
# A redis-server of redis-sentinel-failover.yaml, without persistence, its working directory
# in FAULTLINE_LAB_DIR/HOST: a replica saves the primary's snapshot in its directory and every
# server loads dump.rdb from there at start, so a shared directory would leak data between
# servers and runs. A new replica gets its snapshot at once (no diskless-sync delay): a
# replica promoted before its first sync completes has nothing.
# Usage: server.sh REPLICA_PRIORITY [PRIMARY_ADDR]
set -eu
d="$FAULTLINE_LAB_DIR/$FAULTLINE_HOST"
mkdir -p "$d"
exec redis-server --port 6379 --dir "$d" --save "" --appendonly no --protected-mode no \
	--repl-diskless-sync-delay 0 \
	--replica-priority "$1" ${2:+--replicaof "$2" 6379}

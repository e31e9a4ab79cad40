#!/bin/sh
# After the experiments: which acknowledged writes (FAULTLINE_LAB_DIR/acked, from write.sh)
# are missing from the primary the Sentinels name now? Prints key=value figures.
set -eu
d=$FAULTLINE_LAB_DIR
set -- $(redis-cli -h s1 -p 26379 --raw SENTINEL get-master-addr-by-name mymaster)
[ $# -eq 2 ] || { echo "no Sentinel named a primary" >&2; exit 1; }
redis-cli -h "$1" -p "$2" --raw SMEMBERS writes | sort >"$d/present"
sort "$d/acked" >"$d/acked.sorted"
echo "primary=$(getent hosts "$1" | awk '{print $2}')"
echo "acknowledged_writes=$(wc -l <"$d/acked.sorted")"
echo "writes_on_primary=$(wc -l <"$d/present")"
echo "lost_writes=$(comm -23 "$d/acked.sorted" "$d/present" | wc -l)"
echo "unacknowledged_writes_present=$(comm -13 "$d/acked.sorted" "$d/present" | wc -l)"

#!/usr/bin/env bash
# A flood of refused requests does not fill the disk: 10,000 requests without a key (AUTH=keys)
# write under 100 KB of log, summed up a line per reason and second, while a request let
# through keeps its own line.
#
#   bash .ci/probes/refusal-log.sh [BINARY]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
binary=$(realpath "${1:-$root/target/debug/connected}")
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

requests=${REFUSED_REQUESTS:-10000}
start_server AUTH=keys -- --demo

# One curl, four connections kept alive, each URL once.
for client in 1 2 3 4; do
    for _ in $(seq $((requests / 4))); do
        printf 'url = "http://%s/connected/register/alice/bob"\noutput = /dev/null\n' "$address"
    done >"$work/urls-$client"
done
before=$(wc -c <"$server_log")
started=$(date +%s%N)
clients=()
for client in 1 2 3 4; do
    curl -s -K "$work/urls-$client" -w '%{http_code}\n' >"$work/codes-$client" &
    clients+=("$!")
done
for pid in "${clients[@]}"; do wait "$pid"; done
took_ms=$((($(date +%s%N) - started) / 1000000))
refused=$(cat "$work"/codes-* | grep -c '^401$' || true)
[ "$refused" = "$requests" ] || fail "$refused of $requests requests were refused 401"
# A summary is written within about a second of its window's end.
sleep 2
written=$(($(wc -c <"$server_log") - before))
lines=$(tail -c +$((before + 1)) "$server_log" | wc -l)
echo "refusal-log: $requests refused requests in ${took_ms} ms wrote $written bytes of log in $lines lines"
[ "$written" -lt 100000 ] || fail "$written bytes of log for $requests refused requests (goal: under 100 KB)"

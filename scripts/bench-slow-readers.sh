#!/usr/bin/env bash
# /healthz latency and RSS while 10,000 zero-window HTTP/2 clients and 100 HTTP/1.1 clients
# that never read a 200,000-entry history are connected (default settings otherwise).
#   scripts/bench-slow-readers.sh target/release/connected      (from the project root)
#   HOLD=35 scripts/bench-slow-readers.sh ...   # also: how many are still open 35 s later
set -euo pipefail
ulimit -n "$(ulimit -Hn)"
binary=$(realpath "$1")
source .ci/probes/lib.sh
"$venv/bin/pip" install --quiet --disable-pip-version-check "h2==4.3.0"
database="$work/measure.db"
start_server DATABASE_URL="sqlite://$database" -- --demo
seed_history "$database" 200000
echo "rss_kb_before=$(grep VmRSS /proc/${servers[0]}/status | awk '{print $2}')"
"$venv/bin/python" .ci/probes/slow_readers.py "$address" --h2 10000 --h1 100 --pid "${servers[0]}" --hold "${HOLD:-0}"
grep -c "WARN\|ERROR" "$server_log" || true

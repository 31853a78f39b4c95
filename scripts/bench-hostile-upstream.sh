#!/usr/bin/env bash
# A hostile GitHub (the fakes' --hostile-orgs: huge, many, nul or control) and one realtime
# check against it: the status, the body's size, the service's peak memory, the largest
# register row and the write-ahead log's size.
#   cargo build --release --locked --workspace
#   scripts/bench-hostile-upstream.sh target/release/connected huge
set -euo pipefail
binary=$(realpath "$1"); kind=$2
fakes="$(dirname "$binary")/connected-fake-upstreams"
w=$(mktemp -d)
"$fakes" --team 2 --hostile-orgs "$kind" >"$w/fakes.log" 2>&1 & fp=$!
for _ in $(seq 100); do grep -q BLUESKY_API_URL "$w/fakes.log" && break; sleep 0.1; done
eval "$(grep '^export ' "$w/fakes.log")"
DATABASE_URL="sqlite://$w/m.db" LISTEN_ADDR=127.0.0.1:0 AUTH=open RUST_LOG=info NO_COLOR=1 "$binary" serve >"$w/s.log" 2>&1 & sp=$!
a=
for _ in $(seq 100); do a=$(grep -o 'address=127\.0\.0\.1:[0-9]*' "$w/s.log" | head -1 | cut -d= -f2) || true; [ -n "$a" ] && break; sleep 0.1; done
sleep 0.5
out=$(curl -s -o "$w/body" -w '%{http_code}' --max-time 300 "http://$a/connected/realtime/dev000/dev001")
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$sp/status")
row=$(python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute('select coalesce(max(length(organisations)),0), count(*) from checks').fetchone())" "$w/m.db")
wal=$(stat -c %s "$w/m.db-wal" 2>/dev/null || echo 0)
echo "$kind: status $out, body $(stat -c %s "$w/body") bytes, peak RSS $((hwm / 1024)) MB, register (largest organisations, rows) $row, WAL $wal bytes"
kill "$sp" "$fp"; wait "$sp" "$fp" 2>/dev/null || true; rm -rf "$w"

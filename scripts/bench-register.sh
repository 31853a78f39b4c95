#!/usr/bin/env bash
# Measures the register endpoint on the release binary with the demo graph:
#   1. a pair with 10 recorded checks, whole history, `wrk -t2 -c50`;
#   2. a pair with 100,000 recorded checks, newest page (`?limit=50`), `wrk -t2 -c50`.
# BACKEND=sqlite (default: a fresh file) or BACKEND=postgres (a fresh database on
# $TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres, dropped after).
# Needs wrk (Debian: apt-get install wrk) and, for PostgreSQL, psql.
set -euo pipefail
cd "$(dirname "$0")/.."

backend="${BACKEND:-sqlite}"
duration="${DURATION:-10s}"
port="${PORT:-5099}"
admin="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
cargo build --release --locked --quiet

work=$(mktemp -d)
db_name="connected_bench_$$"
server=""
cleanup() {
    [ -n "$server" ] && { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
    [ "$backend" = postgres ] && psql "$admin" -qc "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

case "$backend" in
    sqlite) database="sqlite://$work/bench.db" ;;
    postgres)
        psql "$admin" -qc "CREATE DATABASE $db_name" >/dev/null
        database="${admin%/*}/$db_name" ;;
    *) echo "BACKEND is sqlite or postgres" >&2; exit 2 ;;
esac

DATABASE_URL="$database" RUST_LOG=warn \
    ./target/release/connected serve --demo --listen-addr "127.0.0.1:$port" &
server=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done

for _ in $(seq 10); do curl -fs "http://127.0.0.1:$port/connected/realtime/alice/bob" >/dev/null; done

# 100,000 checks of one pair, written straight into the table the service reads.
if [ "$backend" = sqlite ]; then
    python3 - "$work/bench.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executemany(
    "INSERT INTO checks (developer_a, developer_b, registered_at_ms, connected, organisations) VALUES ('alice','erin',?,1,'[\"acme\"]')",
    ((1_600_000_000_000 + i,) for i in range(100_000)))
db.commit()
PY
else
    psql "$database" -qc "INSERT INTO checks (developer_a, developer_b, registered_at, connected, organisations)
        SELECT 'alice', 'erin', timestamptz '2020-09-13 12:26:40+00' + i * interval '1 millisecond', true, '{acme}'
        FROM generate_series(1, 100000) AS i" >/dev/null
fi

echo "== $backend: GET /connected/register/alice/bob (10 entries), wrk -t2 -c50 -d$duration"
wrk -t2 -c50 -d"$duration" --latency "http://127.0.0.1:$port/connected/register/alice/bob"
echo
echo "== $backend: GET /connected/register/alice/erin?limit=50 (newest page of 100,000), wrk -t2 -c50 -d$duration"
wrk -t2 -c50 -d"$duration" --latency "http://127.0.0.1:$port/connected/register/alice/erin?limit=50"
echo
echo "== $backend: peak resident memory of the server: $(grep VmHWM /proc/$server/status | awk '{print $2, $3}')"

#!/usr/bin/env bash
# Measures the register endpoint on the release binary with the demo graph:
#   0. /healthz, `wrk -t2 -c50`, for scale: the same run, the same machine load;
#   1. a pair with 20 recorded checks, whole history, `wrk -t2 -c50`;
#   2. a pair with 300,000 recorded checks, newest page (`?limit=50`), `wrk -t2 -c50`;
#   3. eight clients reading that whole history at once (curl): each answer's count, the time
#      and the server's peak resident memory (VmHWM) before and after;
#   4. the page a client asks for (`?limit=20` of the 20 entries) against /healthz and, on
#      PostgreSQL, against `pgbench -S -M prepared` with the same clients (-c50 -j2) on the
#      same server, back to back, $RUNS rounds (default 3), each ratio's median set against
#      its goal: a page at least 1/3 of /healthz on SQLite, 0.3 of pgbench on PostgreSQL.
# BACKEND=sqlite (default: a fresh file) or BACKEND=postgres (a fresh database on
# $TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres, dropped after).
# Needs wrk (Debian: apt-get install wrk), curl, python3 and, for PostgreSQL, psql and pgbench.
set -euo pipefail
cd "$(dirname "$0")/.."

backend="${BACKEND:-sqlite}"
duration="${DURATION:-10s}"
runs="${RUNS:-3}"
port="${PORT:-5099}"
admin="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
# BINARY=path measures another build (an older one, say) instead of building this tree's.
binary="${BINARY:-./target/release/connected}"
[ -n "${BINARY:-}" ] || cargo build --release --locked --quiet

work=$(mktemp -d)
db_name="connected_bench_$$"
server=""
cleanup() {
    [ -n "$server" ] && { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
    if [ "$backend" = postgres ]; then
        psql "$admin" -qc "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" >/dev/null 2>&1
        psql "$admin" -qc "DROP DATABASE IF EXISTS ${db_name}_pgbench WITH (FORCE)" >/dev/null 2>&1
    fi
    rm -rf "$work"
}
trap cleanup EXIT

case "$backend" in
    sqlite) database="sqlite://$work/bench.db" ;;
    postgres)
        command -v pgbench >/dev/null || { echo "pgbench is not installed" >&2; exit 1; }
        psql "$admin" -qc "CREATE DATABASE $db_name" >/dev/null
        psql "$admin" -qc "CREATE DATABASE ${db_name}_pgbench" >/dev/null
        pgbench -i -q "${admin%/*}/${db_name}_pgbench" >/dev/null 2>&1
        database="${admin%/*}/$db_name" ;;
    *) echo "BACKEND is sqlite or postgres" >&2; exit 2 ;;
esac

DATABASE_URL="$database" RUST_LOG=warn \
    "$binary" serve --demo --listen-addr "127.0.0.1:$port" &
server=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done

for _ in $(seq 20); do curl -fs "http://127.0.0.1:$port/connected/realtime/alice/bob" >/dev/null; done

# 300,000 checks of one pair, written straight into the table the service reads.
if [ "$backend" = sqlite ]; then
    python3 - "$work/bench.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executemany(
    "INSERT INTO checks (developer_a, developer_b, registered_at_ms, connected, organisations) VALUES ('alice','erin',?,1,'[\"acme\"]')",
    ((1_600_000_000_000 + i,) for i in range(300_000)))
db.commit()
PY
else
    psql "$database" -qc "INSERT INTO checks (developer_a, developer_b, registered_at, connected, organisations)
        SELECT 'alice', 'erin', timestamptz '2020-09-13 12:26:40+00' + i * interval '1 millisecond', true, '{acme}'
        FROM generate_series(1, 300000) AS i" >/dev/null
fi

rate() { awk '/^Requests\/sec/ {printf "%.0f", $2}' "$1"; }
echo "== $backend: GET /healthz, wrk -t2 -c50 -d$duration"
wrk -t2 -c50 -d"$duration" --latency "http://127.0.0.1:$port/healthz" | tee "$work/healthz.txt"
echo
echo "== $backend: GET /connected/register/alice/bob (20 entries), wrk -t2 -c50 -d$duration"
wrk -t2 -c50 -d"$duration" --latency "http://127.0.0.1:$port/connected/register/alice/bob" | tee "$work/register.txt"
echo
echo "== $backend: register $(rate "$work/register.txt") requests/s, /healthz $(rate "$work/healthz.txt"): $(awk -v r="$(rate "$work/register.txt")" -v h="$(rate "$work/healthz.txt")" 'BEGIN {printf "%.2f", r / h}') of /healthz"
echo
echo "== $backend: GET /connected/register/alice/erin?limit=50 (newest page of 300,000), wrk -t2 -c50 -d$duration"
wrk -t2 -c50 -d"$duration" --latency "http://127.0.0.1:$port/connected/register/alice/erin?limit=50"
echo
peak() { grep VmHWM "/proc/$server/status" | awk '{print $2, $3}'; }
echo "== $backend: peak resident memory of the server before the whole reads: $(peak)"
echo "== $backend: 8 clients at once, GET /connected/register/alice/erin (the whole 300,000)"
started=$(date +%s.%N)
readers=()
for i in $(seq 8); do
    curl -fsS -o "$work/whole.$i.json" "http://127.0.0.1:$port/connected/register/alice/erin" &
    readers+=($!)
done
wait "${readers[@]}"
finished=$(date +%s.%N)
for i in $(seq 8); do
    python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))), end=" ")' "$work/whole.$i.json"
    rm -f "$work/whole.$i.json"
done
echo "entries in each answer; all 8 in $(awk -v a="$started" -v b="$finished" 'BEGIN {printf "%.1f", b - a}') s"
echo "== $backend: peak resident memory of the server after them: $(peak)"

# 4. The page a client asks for, against what the machine (and, on PostgreSQL, the database
# itself) serves in the same minute.
page="http://127.0.0.1:$port/connected/register/alice/bob?limit=20"
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
for run in $(seq "$runs"); do
    wrk -t2 -c50 -d"$duration" "http://127.0.0.1:$port/healthz" >"$work/h.txt"
    wrk -t2 -c50 -d"$duration" "$page" >"$work/p.txt"
    healthz=$(rate "$work/h.txt") paged=$(rate "$work/p.txt")
    line="healthz $healthz, ?limit=20 $paged ($(ratio "$paged" "$healthz") of /healthz)"
    ratio "$paged" "$healthz" >>"$work/of-healthz"; echo >>"$work/of-healthz"
    if [ "$backend" = postgres ]; then
        tps=$(pgbench -S -M prepared -c50 -j2 -T"${duration%s}" "${admin%/*}/${db_name}_pgbench" 2>/dev/null |
            awk '/^tps/ {printf "%.0f", $3}')
        line="$line, pgbench -S -M prepared -c50 -j2 $tps tps ($(ratio "$paged" "$tps") of pgbench)"
        ratio "$paged" "$tps" >>"$work/of-pgbench"; echo >>"$work/of-pgbench"
    fi
    echo "== $backend: round $run: $line"
done
goal() { awk -v r="$1" -v g="$2" 'BEGIN {print (r >= g ? "met" : "NOT met")}'; }
of_healthz=$(median <"$work/of-healthz")
if [ "$backend" = sqlite ]; then
    echo "== $backend: ?limit=20, median of $runs: $of_healthz of /healthz (goal: 0.33, $(goal "$of_healthz" 0.33))"
else
    echo "== $backend: ?limit=20, median of $runs: $of_healthz of /healthz"
    of_pgbench=$(median <"$work/of-pgbench")
    echo "== $backend: ?limit=20, median of $runs: $of_pgbench of pgbench -S -M prepared (goal: 0.30, $(goal "$of_pgbench" 0.3))"
fi

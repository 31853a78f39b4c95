#!/usr/bin/env bash
# Measures the register endpoint: the release binary on the demo graph and a fresh SQLite
# file, a pair with a few recorded checks, then `wrk -t2 -c50` for DURATION (default 10s).
# Needs wrk (Debian: apt-get install wrk). Prints wrk's report.
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${DURATION:-10s}"
port="${PORT:-5099}"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
cargo build --release --locked --quiet

work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
DATABASE_URL="sqlite://$work/bench.db" RUST_LOG=warn \
    ./target/release/connected serve --demo --listen-addr "127.0.0.1:$port" &
server=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

# Ten recorded checks for the pair, so each answer carries a real history.
for _ in $(seq 10); do curl -fs "http://127.0.0.1:$port/connected/realtime/alice/bob" >/dev/null; done

echo "== GET /connected/register/alice/bob (10 entries), wrk -t2 -c50 -d$duration"
wrk -t2 -c50 -d"$duration" --latency "http://127.0.0.1:$port/connected/register/alice/bob"
echo "== peak resident memory of the server: $(grep VmHWM /proc/$server/status | awk '{print $2, $3}')"

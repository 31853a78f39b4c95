# Shared by .ci/probe and the scripted cases in .ci/probes/: a venv, and a server on a free
# port. Source it, then call `start_server ENV=VALUE... -- ARGS...`; it sets $address and
# $server_log, and the server is stopped on exit.
venv="${TMPDIR:-/tmp}/connected-ci-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"

work=$(mktemp -d "${TMPDIR:-/tmp}/connected-probe.XXXXXX")
servers=()
cleanup() {
    local pid
    for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# start_server [NAME=VALUE ...] -- [ARGS ...]: `$binary serve ARGS` with the environment
# given (DATABASE_URL defaults to a scratch SQLite file), on port 0.
start_server() {
    local env=()
    while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do env+=("$1"); shift; done
    [ "$#" -gt 0 ] && shift
    server_log="$work/server-${#servers[@]}.log"
    env DATABASE_URL="sqlite://$work/probe-${#servers[@]}.db" LISTEN_ADDR=127.0.0.1:0 RUST_LOG=info NO_COLOR=1 \
        "${env[@]}" "$binary" serve "$@" >"$server_log" 2>&1 &
    local pid=$!
    servers+=("$pid")
    address=
    for _ in $(seq 300); do
        address=$(grep -o 'address=127\.0\.0\.1:[0-9]*' "$server_log" | head -n 1 | cut -d= -f2) || true
        [ -n "$address" ] && break
        kill -0 "$pid" 2>/dev/null || { cat "$server_log"; echo "probe: the server did not start" >&2; exit 1; }
        sleep 0.1
    done
    [ -n "$address" ] || { cat "$server_log"; echo "probe: the server did not say where it listens" >&2; exit 1; }
    for _ in $(seq 100); do ready && break; sleep 0.1; done
    ready || { cat "$server_log"; echo "probe: /readyz did not answer 200" >&2; exit 1; }
}

ready() { "$venv/bin/python" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" "http://$address/readyz" 2>/dev/null; }

# The HTTP status of `curl ARGS`.
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

# fail MESSAGE: says which case failed and why, with the end of the last server's log.
fail() { echo "$(basename "$0" .sh): $*" >&2; tail -n 20 "$server_log" >&2; exit 1; }

# seed_history DATABASE N: N answers for alice/erin in a SQLite register, oldest first,
# alternately connected (["acme"]) and not: a history longer than any socket's buffers.
seed_history() {
    "$venv/bin/python" - "$1" "$2" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("""WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
    INSERT INTO checks (developer_a, developer_b, registered_at_ms, connected, organisations, social_graph)
    SELECT 'alice', 'erin', 1600000000000 + i, i % 2,
           CASE i % 2 WHEN 1 THEN '["acme"]' ELSE '[]' END, 'x' FROM n""", (int(sys.argv[2]),))
db.commit()
PY
}

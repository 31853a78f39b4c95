#!/usr/bin/env bash
# Clients that do not read do not hold the service: HTTP/2 clients that open no window and
# HTTP/1.1 clients that never read a long history fill the connection cap and every
# long-read turn; a new /healthz still answers within a second, a reading client still gets
# the whole history, and every one of them is closed once SEND_TIMEOUT has passed.
#
#   bash .ci/probes/slow-readers.sh target/debug/connected
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
binary=$(realpath "${1:-$here/../../target/debug/connected}")
# shellcheck source=lib.sh
source "$here/lib.sh"
"$venv/bin/pip" install --quiet --disable-pip-version-check "h2==4.3.0"

send_timeout=3
cap=40
database="$work/slow-readers.db"
start_server DATABASE_URL="sqlite://$database" SEND_TIMEOUT="${send_timeout}s" \
    MAX_CONNECTIONS=$cap IDLE_TIMEOUT=60s -- --demo

# A history of 200,000 checks (about 20 MB of JSON), longer than any socket's buffers.
seed_history "$database" 200000

# Every long-read turn (two per core) taken by a client that does not read, and the rest of
# the cap filled with HTTP/2 clients that cannot be sent anything.
turns=$(( $(nproc) * 2 ))
measured=$("$venv/bin/python" "$here/slow_readers.py" "$address" --h2 $(( cap - turns )) --h1 "$turns" \
    --pid "${servers[0]}" --hold $(( send_timeout + 2 )))
echo "$measured" | sed 's/^/slow-readers: /'
value() { echo "$measured" | grep "^$1=" | cut -d= -f2; }

[ "$(value h1_answered)" = "$turns" ] || fail "not every long read began"
[ "$(value h2_connected)" = $(( cap - turns )) ] || fail "not every HTTP/2 client was answered"
[ "$(value healthz_answered)" = "5/5" ] || fail "/healthz did not answer"
[ "$(value healthz_max_ms)" -lt 1000 ] || fail "/healthz took $(value healthz_max_ms) ms"
[ "$(value h2_still_open)" = 0 ] || fail "HTTP/2 clients still open after SEND_TIMEOUT"
[ "$(value h1_still_open)" = 0 ] || fail "HTTP/1.1 clients still open after SEND_TIMEOUT"
# Their turns were given back: a client that reads gets the whole history.
started=$(date +%s%N)
code=$(curl -s -o "$work/history.json" -w '%{http_code}' --max-time 30 \
    "http://$address/connected/register/alice/erin")
[ "$code" = 200 ] || fail "a whole history read answered $code after the non-readers went"
entries=$("$venv/bin/python" -c "import json, sys; print(len(json.load(open(sys.argv[1]))))" "$work/history.json")
[ "$entries" = 200000 ] || fail "the history read had $entries entries"
echo "slow-readers: a reading client then got the whole history (200000 entries) in $(( ($(date +%s%N) - started) / 1000000 )) ms"

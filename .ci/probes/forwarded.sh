#!/usr/bin/env bash
# A service of AUTH=auto on loopback is open to this host's own clients only: a request
# through a proxy (it carries Forwarded, Via, X-Forwarded-*, X-Real-IP or a CDN's client
# header) is answered 401 on every guarded route, one straight from the client 200; start-up says
# which mode is in effect and why; the refusals are summed up in the log.
#
#   bash .ci/probes/forwarded.sh [BINARY]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
binary=$(realpath "${1:-$root/target/debug/connected}")
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

start_server -- --demo

grep -q 'api_keys="not required (listening on loopback; requests through a proxy need one)"' "$server_log" \
    || fail "no start-up line saying keys are off and why"

refused=0
for header in 'Forwarded: for=203.0.113.7' 'X-Forwarded-For: 203.0.113.7' \
              'X-Forwarded-Host: connected.example' 'X-Real-IP: 203.0.113.7'; do
    for path in /connected/realtime/alice/bob /connected/register/alice/bob /metrics; do
        got=$(status -H "$header" "http://$address$path")
        [ "$got" = 401 ] || fail "$path with $header answered $got, not 401"
        refused=$((refused + 1))
    done
    got=$(status -H "$header" -H 'Content-Type: application/json' \
        -d '{"developers":["alice","bob"]}' "http://$address/connected/network")
    [ "$got" = 401 ] || fail "POST /connected/network with $header answered $got, not 401"
    refused=$((refused + 1))
done
got=$(status "http://$address/connected/register/alice/bob")
[ "$got" = 404 ] || fail "the register answered $got after the refusals: something was recorded"
got=$(status "http://$address/connected/realtime/alice/bob")
[ "$got" = 200 ] || fail "a request straight from this host answered $got, not 200"

# The refusals' summary is written within a second or so.
for _ in $(seq 30); do
    counted=$(grep 'reason="no key"' "$server_log" | grep -o 'count=[0-9]*' | cut -d= -f2 | awk '{ n += $1 } END { print n + 0 }' || true)
    [ "${counted:-0}" -ge "$refused" ] && break
    sleep 0.1
done
[ "${counted:-0}" = "$refused" ] || fail "the log summed up ${counted:-0} refusals, not $refused"
echo "forwarded: $refused requests through a proxy answered 401, one straight from the client 200; the log summed them up in $(grep -c 'reason="no key"' "$server_log") line(s)"

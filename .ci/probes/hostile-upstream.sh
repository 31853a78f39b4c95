#!/usr/bin/env bash
# A hostile GitHub: the fake upstreams answer every organisation list with what no GitHub
# sends (ten pages of a 7 MiB name, a million names, a name with U+0001), and a realtime
# check against them must be a 502 that records nothing, with the server's peak memory
# under a bound.
#
#   bash .ci/probes/hostile-upstream.sh target/debug/connected
set -euo pipefail
binary=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
limit_kb=$((100 * 1024))

# The fakes' binary beside the service's, else built.
fakes="$(dirname "$binary")/connected-fake-upstreams"
if [ ! -x "$fakes" ]; then
    (cd "$root" && cargo build --quiet -p connected-fakes --bin connected-fake-upstreams)
    fakes="${CARGO_TARGET_DIR:-$root/target}/debug/connected-fake-upstreams"
fi

# GET URL: prints the status and the body's size, then the body's first 200 bytes.
get() {
    "$venv/bin/python" - "$1" <<'PY'
import sys, urllib.request, urllib.error
try:
    answer = urllib.request.urlopen(sys.argv[1], timeout=60)
    status, body = answer.status, answer.read()
except urllib.error.HTTPError as e:
    status, body = e.code, e.read()
print(status, len(body), body[:200].decode("utf-8", "replace"))
PY
}

failed=0
for kind in huge many control; do
    fakes_log="$work/fakes-$kind.log"
    "$fakes" --team 2 --hostile-orgs "$kind" >"$fakes_log" 2>&1 &
    servers+=("$!")
    for _ in $(seq 100); do grep -q BLUESKY_API_URL "$fakes_log" && break; sleep 0.1; done
    grep -q BLUESKY_API_URL "$fakes_log" || { cat "$fakes_log"; echo "probe: the fake upstreams did not start" >&2; exit 1; }
    env_vars=()
    while read -r line; do env_vars+=("${line#export }"); done < <(grep '^export ' "$fakes_log")
    start_server "${env_vars[@]}" AUTH=open -- 
    pid=${servers[-1]}
    read -r status size message < <(get "http://$address/connected/realtime/dev000/dev001")
    read -r rstatus _ rbody < <(get "http://$address/connected/register/dev000/dev001")
    peak_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
    echo "probe: hostile-upstream $kind: $status, $size bytes ($message); register $rstatus $rbody; peak RSS $((peak_kb / 1024)) MB"
    if [ "$status" != 502 ] || [ "$rstatus" != 404 ] || [ "$rbody" != "[]" ] || [ "$peak_kb" -ge "$limit_kb" ]; then
        echo "probe: hostile-upstream $kind: wanted 502, nothing recorded and a peak under $((limit_kb / 1024)) MB" >&2
        failed=1
    fi
    kill "$pid" "${servers[-2]}" 2>/dev/null || true
done
exit "$failed"

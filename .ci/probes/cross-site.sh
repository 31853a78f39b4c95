#!/usr/bin/env bash
# Another site's page cannot drive the service: a check the browser marks as sent from
# another site is refused and records nothing; an open service answers 421 to a host it is
# not known by (DNS rebinding), over HTTP/1.1 (Host) and HTTP/2 (:authority); its own page's
# requests are served.
#
#   bash .ci/probes/cross-site.sh [BINARY]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
binary=$(realpath "${1:-$root/target/debug/connected}")
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

start_server -- --demo
port=${address##*:}

for site in cross-site same-site; do
    got=$(status -H "Sec-Fetch-Site: $site" "http://$address/connected/realtime/alice/bob")
    [ "$got" = 403 ] || fail "a realtime check marked $site answered $got, not 403"
    got=$(status -H "Sec-Fetch-Site: $site" -H 'Content-Type: application/json' \
        -d '{"developers":["alice","bob"]}' "http://$address/connected/network")
    [ "$got" = 403 ] || fail "a team marked $site answered $got, not 403"
done
history=$(curl -s "http://$address/connected/register/alice/bob")
[ "$history" = '[]' ] || fail "the register holds $history after refused checks"

for host in attacker.example attacker.example:$port; do
    got=$(status -H "Host: $host" "http://$address/connected/realtime/alice/bob")
    [ "$got" = 421 ] || fail "Host: $host answered $got, not 421"
done
got=$(status --http2-prior-knowledge --resolve "attacker.example:$port:127.0.0.1" \
    "http://attacker.example:$port/connected/realtime/alice/bob")
[ "$got" = 421 ] || fail "HTTP/2 with :authority attacker.example answered $got, not 421"
history=$(curl -s "http://$address/connected/register/alice/bob")
[ "$history" = '[]' ] || fail "the register holds $history after misdirected checks"

got=$(status -H 'Sec-Fetch-Site: same-origin' -H "Host: localhost:$port" \
    "http://$address/connected/realtime/alice/bob")
[ "$got" = 200 ] || fail "the page's own check answered $got, not 200"
got=$(status --http2-prior-knowledge "http://localhost:$port/connected/realtime/alice/bob")
[ "$got" = 200 ] || fail "HTTP/2 to localhost answered $got, not 200"
echo "cross-site: another site's checks and teams 403, a foreign host 421 (HTTP/1.1 and HTTP/2), nothing recorded; the page's own check 200"

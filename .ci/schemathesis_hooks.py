"""What the OpenAPI document cannot state, told to schemathesis for the CI probe (.ci/probe).

A check needs two *different* developers, and a team 2 to 100 different ones, where handles
that differ only in ASCII case name the same developer. No JSON Schema keyword says "these
two strings differ ignoring case", so a schema-valid request can name the same developer
twice and be refused (400) by design. Rather than accept any 400 for a valid request, these
hooks make every positive case name different developers; every other check stays as strict
as schemathesis makes it. Negative cases are left as generated: they must be refused anyway.

Who exists is the other fact no schema can state: a realtime check of a developer missing on
a network is a 400 ("... is not a valid user in github"), as the API promises. So a positive
realtime case names two developers of the demo graph that `serve --demo` answers from
(present on both networks, not protected), chosen and letter-cased from the generated
values; and
half the register's positive cases do too, so that recorded entries are read back and their
schema checked. Arbitrary handles stay in the register's other half, in every team and in
every negative case. Nor is a body's size a schema keyword: a positive team is kept under the
endpoint's documented 64 KiB (its 413).

Loaded with SCHEMATHESIS_HOOKS=.ci/schemathesis_hooks.py (schemathesis 4's documented way);
`map_case` runs in the coverage and fuzzing phases alike.
"""

import hashlib
import json
import os
from urllib.parse import quote, unquote

import schemathesis

GRAPH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "demo", "graph.json")


def everywhere() -> list:
    """The demo graph's developers on GitHub and the social graph whose follows can be read."""
    with open(GRAPH, encoding="utf-8") as f:
        graph = json.load(f)
    github = graph["github"]["users"]
    social = graph["twitter"]["users"]
    return sorted(n for n in github if n in social and not social[n].get("protected"))


KNOWN = everywhere()

PAIR_PATHS = ("/connected/realtime/{dev1}/{dev2}", "/connected/register/{dev1}/{dev2}")
# The team routes: the network and its estimate take the same body.
TEAM_PATHS = ("/connected/network", "/connected/network/estimate")
MAX_LEN = 100  # Handle::MAX_LEN, the schema's maxLength
MOST_DEVELOPERS = 100  # TEAM_SIZE's end: different developers a team may have
# The team endpoint's body limit (TEAM_BODY_LIMIT, documented as its 413); a body size is
# not a schema keyword either. Kept under it with room for the JSON around the list.
BODY_LIMIT = 64 * 1024 - 64


def fold(handle: str) -> str:
    """The developer a handle names: ASCII letters folded, as the server folds them."""
    return "".join(c.lower() if "A" <= c <= "Z" else c for c in handle)


def another(handle: str, taken: set) -> str:
    """A schema-valid handle close to `handle` that names none of the developers `taken`."""
    for suffix in "xyz0123456789":
        candidate = (handle if len(handle) < MAX_LEN else handle[:-1]) + suffix
        if fold(candidate) not in taken:
            return candidate
    i = 0
    while fold(f"d{i}") in taken:
        i += 1
    return f"d{i}"


def positive(case) -> bool:
    meta = case.meta
    return meta is None or meta.generation.mode.is_positive


@schemathesis.hook
def map_case(context, case):
    if not positive(case):
        return case
    path = case.operation.path
    if path in PAIR_PATHS:
        params = case.path_parameters or {}
        dev1, dev2 = params.get("dev1"), params.get("dev2")
        if not (isinstance(dev1, str) and isinstance(dev2, str)):
            return case
        # Path parameters reach hooks percent-encoded, as they will be sent.
        dev1, dev2 = unquote(dev1), unquote(dev2)
        if path == PAIR_PATHS[0] or digest(dev1 + dev2)[0] % 2 == 0:
            dev1, dev2 = known_pair(dev1, dev2)
        if fold(dev1) == fold(dev2):
            dev2 = another(dev2, {fold(dev1)})
        params["dev1"], params["dev2"] = segment(dev1), segment(dev2)
    elif path in TEAM_PATHS and isinstance(case.body, dict):
        developers = case.body.get("developers")
        if isinstance(developers, list) and all(isinstance(d, str) for d in developers):
            case.body["developers"] = fit_team(developers)
    return case


def segment(handle: str) -> str:
    """A handle as a path segment, as schemathesis encodes one: "." and ".." escaped too, or
    the URL would be normalised to another path."""
    if handle in (".", ".."):
        return handle.replace(".", "%2E")
    return quote(handle, safe="")


def digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def known_pair(dev1: str, dev2: str) -> tuple:
    """Two different known developers, chosen and letter-cased by what was generated."""
    h = digest(dev1 + "\0" + dev2)
    first = h[0] % len(KNOWN)
    second = (first + 1 + h[1] % (len(KNOWN) - 1)) % len(KNOWN)

    def spelt(name: str, bits: bytes) -> str:
        return "".join(c.upper() if bits[i % len(bits)] & 1 else c for i, c in enumerate(name))

    return spelt(KNOWN[first], h[2:10]), spelt(KNOWN[second], h[10:18])


def fit_team(developers: list) -> list:
    """The list with 2 to 100 different developers, and small enough for the body limit."""
    kept, seen = [], set()
    for handle in developers:
        key = fold(handle)
        if key not in seen and len(seen) >= MOST_DEVELOPERS:
            handle, key = kept[0], fold(kept[0])  # a repeat of one already in
        kept.append(handle)
        seen.add(key)
    while len(json.dumps({"developers": kept})) > BODY_LIMIT and len(kept) > 2:
        kept.pop()
    seen = {fold(h) for h in kept}
    while len(seen) < 2:
        extra = another(kept[-1] if kept else "d", seen)
        if len(kept) >= 2:
            kept[-1] = extra
        else:
            kept.append(extra)
        seen = {fold(h) for h in kept}
    return kept

// The page's logic on its own, in node: reading the team's box and the API's answers, and
// laying a team out so that no two labels overlap.
import { test } from "node:test";
import assert from "node:assert/strict";
import { handles, labelBox, largestName, layout, missing, networkName, nextLink, order, overlap, xmlText } from "../../assets/page/network.mjs";

test("handles are split on lines, commas and spaces, and each is kept once", () => {
  assert.deepEqual(handles("alice\nbob, carol  dave,,\n\tErin\r\n"), ["alice", "bob", "carol", "dave", "Erin"]);
  assert.deepEqual(handles("alice Alice ALICE bob"), ["alice", "bob"]);
  assert.deepEqual(handles(" \n , "), []);
});

test("the next page is read from a Link header, only rel=next, and only on this origin", () => {
  const here = "http://127.0.0.1:5000/";
  const link = '</connected/register/a/b?limit=20&before=2026-01-01T00%3A00%3A00Z>; rel="next"';
  assert.equal(nextLink(link, here), "http://127.0.0.1:5000/connected/register/a/b?limit=20&before=2026-01-01T00%3A00%3A00Z");
  assert.equal(nextLink('</x>; rel="prev", </y>; rel=next', here), "http://127.0.0.1:5000/y");
  assert.equal(nextLink('</a,b>; rel="next"', here), "http://127.0.0.1:5000/a,b", "a comma in the address");
  assert.equal(nextLink('</x>; rel="prev"', here), null);
  assert.equal(nextLink("</x>; rel=next-archive", here), null);
  assert.equal(nextLink('<https://elsewhere.example/x>; rel="next"', here), null, "never off the origin");
  assert.equal(nextLink('<//elsewhere.example/x>; rel="next"', here), null);
  assert.equal(nextLink(null, here), null);
});

test("the missing are the developers the messages begin with, and no one they merely name", () => {
  const answer = {
    developers: ["ann", "ann-b", "bob", "zed"],
    errors: ["ann-b is not a valid user in github", "zed is not a valid user in twitter"],
  };
  assert.deepEqual([...missing(answer)], ["ann-b", "zed"]);
  assert.deepEqual([...missing({ developers: ["a"], errors: [] })], []);
});

const pairs = (...list) => list.map(([a, b]) => ({ developers: [a, b], organisations: ["o"] }));

test("the largest group comes first, then whoever is connected to the last placed", () => {
  const people = ["a", "b", "c", "d", "e", "f"];
  const connections = pairs(["E", "c"], ["a", "c"], ["d", "f"], ["b", "f"]);
  assert.deepEqual(order(people, [["E", "c"], ["a", "c"], ["d", "f"], ["b", "f"]], connections),
    ["e", "c", "a", "b", "f", "d"]);
  assert.deepEqual(order(people, [["ghost", "b"]], []), ["b", "a", "c", "d", "e", "f"], "names not drawn are skipped");
  assert.deepEqual(order([], [], []), []);
});

test("two interleaved teams, each connected within, sit in two unbroken arcs", () => {
  const people = Array.from({ length: 20 }, (_, i) => `${i % 2 ? "odd" : "even"}${i}`);
  const team = (parity) => people.filter((p) => p.startsWith(parity));
  const connections = ["odd", "even"].flatMap((parity) =>
    team(parity).flatMap((a, i, t) => t.slice(i + 1).map((b) => ({ developers: [a, b], organisations: ["o"] }))));
  const ordered = order(people, [], connections);
  const changes = ordered.filter((p, i) => i > 0 && p.slice(0, 3) !== ordered[i - 1].slice(0, 3)).length;
  assert.equal(changes, 1, ordered.join(" "));
});

/** Whether any two labels of a layout overlap, or any label crosses the picture's edge. */
function problems(labels) {
  const { points, size } = layout(labels);
  const boxes = points.map((p) => labelBox(p));
  const found = [];
  boxes.forEach((box, i) => {
    if (box.some((c) => c.x < 0 || c.y < 0 || c.x > size || c.y > size)) found.push(`${labels[i]} leaves the picture`);
    for (let j = i + 1; j < boxes.length; j++) {
      if (overlap(box, boxes[j])) found.push(`${labels[i]} overlaps ${labels[j]}`);
    }
  });
  return found;
}

test("no two labels overlap, nor leave the picture, from 2 to 100 developers", () => {
  for (const n of [2, 3, 9, 20, 50, 100]) {
    const labels = Array.from({ length: n }, (_, i) => `developer-${i}`);
    assert.deepEqual(problems(labels), [], `${n} developers`);
  }
  const long = Array.from({ length: 20 }, (_, i) => `a-much-longer-handle-of-39-characters${i}`.slice(0, 39));
  assert.deepEqual(problems(long), []);
});

test("the margin fits the widest label as measured", () => {
  const wide = (label) => (label === "WWWWWWWWWWWWWWW" ? 200 : 50);
  const { points, size } = layout(["a", "WWWWWWWWWWWWWWW", "b", "c"], wide);
  assert.equal(points[1].width, 200);
  for (const p of points) {
    for (const corner of labelBox(p)) {
      assert.ok(corner.x >= 0 && corner.y >= 0 && corner.x <= size && corner.y <= size, `${p.label} leaves the picture`);
    }
  }
  assert.ok(size < layout(["a", "b", "c", "d"], () => 50).size + 2 * 150 + 1);
});

test("100 developers fit a picture a screen can show", () => {
  const { points, size } = layout(Array.from({ length: 100 }, (_, i) => `developer-${i}`));
  assert.equal(points.length, 100);
  assert.ok(size < 1000, `${size} px`);
  const [a, b] = points;
  assert.ok(Math.hypot(a.x - b.x, a.y - b.y) >= 18, "neighbours are apart");
});

test("overlap tells crossing boxes from boxes apart, turned or not", () => {
  const square = (x, y, s = 1) => [{ x, y }, { x: x + s, y }, { x: x + s, y: y + s }, { x, y: y + s }];
  assert.ok(overlap(square(0, 0), square(0.5, 0.5)));
  assert.ok(!overlap(square(0, 0), square(2, 0)));
  assert.ok(!overlap(square(0, 0), square(1, 0)), "touching is not overlapping");
  const diamond = [{ x: 1.6, y: 0.5 }, { x: 2.1, y: 1 }, { x: 1.6, y: 1.5 }, { x: 1.1, y: 1 }];
  assert.ok(!overlap(square(0, 0), diamond), "apart along the diamond's own side");
  assert.ok(overlap(square(0, 0, 1.2), diamond));
});

test("text put in the SVG holds only characters XML allows, whatever a name holds", () => {
  assert.equal(xmlText("acme, Zeta-Org"), "acme, Zeta-Org");
  assert.equal(xmlText("ac\u0001me"), "ac\uFFFDme");
  assert.equal(xmlText("a\u0000b\u001Fc\uFFFEd\uFFFF"), "a\uFFFDb\uFFFDc\uFFFDd\uFFFD");
  assert.equal(xmlText("lone \uD800 surrogate"), "lone \uFFFD surrogate");
  // What XML allows stays as it is: tabs, line ends, accents, emoji (a surrogate pair).
  assert.equal(xmlText("t\tn\nr\r é 😀 \u00A0"), "t\tn\nr\r é 😀 \u00A0");
  assert.equal(xmlText(42), "42");
  // Every character XML 1.0 forbids below U+0020 but tab and line ends.
  for (let c = 0; c < 0x20; c++) {
    const allowed = c === 9 || c === 10 || c === 13;
    assert.equal(xmlText(String.fromCharCode(c)) === "\uFFFD", !allowed, `U+${c.toString(16)}`);
  }
});

test("networks are named as people know them, whatever id the API gives", () => {
  assert.deepEqual(["x", "twitter", "github", "bluesky"].map(networkName), ["X", "X", "GitHub", "Bluesky"]);
  assert.equal(networkName("mastodon"), "mastodon");
});

test("the group drawn in green is the largest, or one of those as large", () => {
  assert.equal(largestName([["a", "b", "c"], ["c", "d"]]), "the largest group");
  assert.equal(largestName([["a", "b"], ["c", "d"], ["e", "f"], ["g"]]), "one of 3 largest groups");
  assert.equal(largestName([["a", "b"], ["c", "d"]], true), "one of the largest groups listed");
  assert.equal(largestName([]), "the largest group");
});

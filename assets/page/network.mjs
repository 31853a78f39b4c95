// What the page reads and draws, without the page: the handles typed for a team, the API's
// answers, and where a team's developers and their labels go in the picture. No DOM here,
// so that node's test runner can check it on its own.

/** The handles written in the team's box: one a line, or separated by commas or spaces;
 * the same handle twice (ignoring case) once, as the API counts them. */
export function handles(text) {
  const seen = new Set();
  return text.split(/[\s,]+/).filter((handle) => {
    const key = handle.toLowerCase();
    if (!handle || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The `rel="next"` target of a `Link` header, as an address on the origin of `here`; none
 * when there is none, or when it would lead elsewhere (where the key would follow it). */
export function nextLink(link, here) {
  const match = (link ?? "").match(/<([^>]*)>\s*;\s*rel="?next"?(?=[\s;,]|$)/);
  if (!match) return null;
  const next = new URL(match[1], here);
  return next.origin === new URL(here).origin ? next.href : null;
}

/** The networks by the API's ids (`twitter` is X's id in the register), and their names. */
const NETWORKS = { github: "GitHub", x: "X", twitter: "X", bluesky: "Bluesky" };

/** A network's name for people; the id itself for one the page does not know. */
export function networkName(id) {
  return Object.hasOwn(NETWORKS, id) ? NETWORKS[id] : String(id);
}

/** What the green group, `groups[0]`, is: "the largest group", or "one of 2 largest
 * groups" when another is as large (`truncated`: the API listed only some). */
export function largestName(groups, truncated = false) {
  if (truncated) return "one of the largest groups listed";
  const ties = groups.filter((group) => group.length === groups[0]?.length).length;
  return ties > 1 ? `one of ${ties} largest groups` : "the largest group";
}

/** The developers of a team's answer that a network does not know: each of the API's
 * messages about them begins with the handle and a space. */
export function missing(answer) {
  return new Set(answer.developers.filter((developer) =>
    answer.errors.some((message) => message.startsWith(developer + " "))));
}

/** How many of the last placed a newcomer's connections are counted against. */
const RECENT = 8;

/** `people` in the order they go round the circle, so that the people who are connected
 * sit together and their edges stay short: the largest group first, then, one at a time,
 * whoever has the most connections to the last few placed (then to all placed, then the
 * team's order), so that a cluster is finished before the next begins. */
export function order(people, groups, connections) {
  const key = (name) => name.toLowerCase();
  const links = new Map(people.map((person) => [key(person), new Set()]));
  for (const { developers: [a, b] } of connections) {
    links.get(key(a))?.add(key(b));
    links.get(key(b))?.add(key(a));
  }
  const left = new Map(people.map((person) => [key(person), person]));
  const ordered = [];
  const place = (name) => {
    if (!left.has(key(name))) return;
    ordered.push(left.get(key(name)));
    left.delete(key(name));
  };
  (groups[0] ?? []).forEach(place);
  const placed = new Set(ordered.map(key));
  while (left.size) {
    const recent = ordered.slice(-RECENT).map(key);
    let best = null, bestScore = [-1, -1];
    for (const [name, person] of left) {
      const mine = links.get(name);
      const score = [recent.filter((r) => mine.has(r)).length, [...mine].filter((m) => placed.has(m)).length];
      if (score[0] > bestScore[0] || (score[0] === bestScore[0] && score[1] > bestScore[1])) {
        best = person;
        bestScore = score;
      }
    }
    place(best);
    placed.add(key(best));
  }
  return ordered;
}

/** The labels' font size, and the width a character of it takes on average: the page
 * measures its labels as the browser draws them, this estimate serves elsewhere. */
export const FONT = 12;
const CHARACTER = 0.62 * FONT;
const estimate = (label) => label.length * CHARACTER;
/** Space between the centres of two neighbours on the circle, and the smallest circle. */
const SPACING = 1.7 * FONT;
const SMALLEST = 140;
const GAP = 10;

/** Where each of `labels` goes on a circle, its label outside it along the radius: the
 * points (centre, angle, the label's anchor and `width`) and the picture's size. The circle
 * is as large as `labels.length` neighbours need to stay `SPACING` apart; the margin fits
 * the widest label. */
export function layout(labels, width = estimate) {
  const n = labels.length;
  const radius = Math.max(SMALLEST, (SPACING * n) / (2 * Math.PI));
  const widths = labels.map((label) => width(label));
  const centre = radius + GAP + Math.max(0, ...widths) + GAP;
  const points = labels.map((label, i) => {
    const angle = (2 * Math.PI * i) / Math.max(n, 1) - Math.PI / 2;
    const [cos, sin] = [Math.cos(angle), Math.sin(angle)];
    return {
      label, angle, width: widths[i],
      x: centre + radius * cos, y: centre + radius * sin,
      labelX: centre + (radius + GAP) * cos, labelY: centre + (radius + GAP) * sin,
      // Labels on the left half are turned half a circle more, so that none is upside down.
      right: cos >= -1e-9,
    };
  });
  return { points, size: 2 * centre };
}

/** The corners of a label's box as drawn: a rectangle along the radius from the label's
 * anchor, as wide as the label and `FONT` high. */
export function labelBox(point) {
  const [cos, sin] = [Math.cos(point.angle), Math.sin(point.angle)];
  const half = FONT / 2;
  const along = (d, across) => ({
    x: point.labelX + d * cos - across * sin,
    y: point.labelY + d * sin + across * cos,
  });
  return [along(0, -half), along(point.width, -half), along(point.width, half), along(0, half)];
}

/** Whether two convex polygons (their corners in order) overlap: they do unless an axis
 * normal to one of their sides separates them. */
export function overlap(a, b) {
  for (const polygon of [a, b]) {
    for (let i = 0; i < polygon.length; i++) {
      const p = polygon[i], q = polygon[(i + 1) % polygon.length];
      const axis = { x: q.y - p.y, y: p.x - q.x };
      const project = (corners) => corners.map((c) => c.x * axis.x + c.y * axis.y);
      const [pa, pb] = [project(a), project(b)];
      if (Math.max(...pa) <= Math.min(...pb) || Math.max(...pb) <= Math.min(...pa)) return false;
    }
  }
  return true;
}

/** Characters XML 1.0 cannot hold (most control characters, lone surrogates, U+FFFE/U+FFFF). */
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** `text` fit for the SVG: every character XML cannot hold shown as U+FFFD, so that a name
 * from an upstream never stops the picture from being saved (the serializer refuses it). */
export function xmlText(text) {
  return String(text).replace(NOT_XML, "\uFFFD");
}

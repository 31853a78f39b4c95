// A team's network: quoted first (and confirmed when large or costly), asked of the API,
// drawn as an SVG, listed as a table, saved as a file.
import { row, show } from "./service.mjs";
import { FONT, largestName, layout, missing, order, xmlText } from "./network.mjs";

const SVG = "http://www.w3.org/2000/svg";

function element(name, attributes, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (parent) parent.append(node);
  return node;
}

/** How wide each label is drawn, in the picture's font, measured by the browser. */
function measure(container) {
  const context = document.createElement("canvas").getContext("2d");
  context.font = `${FONT}px ${getComputedStyle(container).fontFamily}`;
  return (label) => context.measureText(label).width;
}

/** A line between two developers of `at`, with `title` for its title, and a wider one that
 * cannot be seen under it for the pointer to find; none when either is not drawn. */
function edge(svg, at, developers, kind, title) {
  const [from, to] = developers.map((d) => at.get(d.toLowerCase()));
  if (!from || !to) return;
  const ends = { x1: from.x, y1: from.y, x2: to.x, y2: to.y };
  const pair = element("g", { class: "pair" }, svg);
  element("title", {}, pair).textContent = xmlText(title);
  element("line", { class: "hit", ...ends }, pair);
  element("line", { class: kind, ...ends }, pair);
}

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

/** The answer of `POST /connected/network` as an SVG: developers as nodes on a circle, the
 * members of a group side by side; fully connected pairs as edges (their organisations in
 * the edge's title), the largest group highlighted and drawn on top; pairs without an
 * answer dashed. */
function picture(body, container) {
  const gone = missing(body);
  const people = order(body.developers.filter((d) => !gone.has(d)), body.groups, body.connections);
  const { points, size } = layout(people, measure(container));
  const at = new Map(points.map((p) => [p.label.toLowerCase(), p]));
  const largest = new Set((body.groups[0] || []).map((d) => d.toLowerCase()));
  const svg = element("svg", {
    xmlns: SVG, viewBox: `0 0 ${size} ${size}`, width: size, height: size, role: "img",
    "aria-labelledby": "picture-title",
  });
  // Wide enough for the labels to stay legible: a phone scrolls the picture instead.
  svg.style.minWidth = `${Math.round(size * 0.7)}px`;
  element("title", { id: "picture-title" }, svg).textContent = xmlText(
    `The network of ${plural(people.length, "developer", "developers")}: ` +
    plural(body.connections.length, "fully connected pair", "fully connected pairs"));
  for (const { developers, error } of body.undecided || []) {
    edge(svg, at, developers, "undecided", `${developers[0]} and ${developers[1]}: no answer, ${error}`);
  }
  const inGroup = ({ developers }) => developers.every((d) => largest.has(d.toLowerCase()));
  const connections = [...body.connections.filter((c) => !inGroup(c)), ...body.connections.filter(inGroup)];
  for (const connection of connections) {
    const { developers, organisations } = connection;
    edge(svg, at, developers, "edge" + (inGroup(connection) ? " group" : ""),
      `${developers[0]} and ${developers[1]}: ${organisations.join(", ")}`);
  }
  for (const p of points) {
    const node = element("g", {}, svg);
    element("title", {}, node).textContent = xmlText(p.label);
    element("circle", {
      class: "node" + (largest.has(p.label.toLowerCase()) ? " group" : ""), cx: p.x, cy: p.y, r: 6,
    }, node);
    const degrees = (p.angle * 180) / Math.PI + (p.right ? 0 : 180);
    element("text", {
      x: p.labelX, y: p.labelY, "text-anchor": p.right ? "start" : "end",
      "dominant-baseline": "middle", transform: `rotate(${degrees} ${p.labelX} ${p.labelY})`,
    }, node).textContent = xmlText(p.label);
  }
  return svg;
}

/** The fully connected pairs as a table, for those who would rather read than look. */
function table(body) {
  document.getElementById("pair-rows").replaceChildren(...body.connections.map(({ developers, organisations }) =>
    row([developers[0], developers[1], organisations.join(", ")])));
}

/** The colours the page's style sheet gives the picture, for the picture on its own. */
const STANDALONE = `svg { background: #fff; font-family: system-ui, sans-serif; }
.hit { stroke: transparent; stroke-width: 10; }
.edge { stroke: #57606a; stroke-width: 1.5; } .edge.group { stroke: #1a7f37; stroke-width: 3; }
.undecided { stroke: #9a6700; stroke-width: 1.5; stroke-dasharray: 6 4; }
.node { fill: #0969da; } .node.group { fill: #1a7f37; } text { fill: #1b1f24; font-size: ${FONT}px; }`;

/** Saves a copy of the picture that carries its own style as `network.svg`. */
function download(svg) {
  const copy = svg.cloneNode(true);
  copy.removeAttribute("style");
  const style = document.createElementNS(SVG, "style");
  style.textContent = STANDALONE;
  copy.insertBefore(style, copy.firstChild);
  const text = new XMLSerializer().serializeToString(copy);
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([text], { type: "image/svg+xml" }));
  link.download = "network.svg";
  link.click();
  // Some browsers read the address after the click returns.
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

const $ = (id) => document.getElementById(id);

/** Shows `body`, the network, with `quote` (what it was quoted) under its summary, and
 * `legend` under its picture. */
function render(body, quote, status, legend) {
  const container = $("picture");
  $("network").hidden = false;
  const svg = picture(body, container);
  container.replaceChildren(svg);
  table(body);
  const largest = largestName(body.groups, body.groups_truncated);
  legend($("legend"), body, largest);
  const summary = [plural(body.connections.length, "fully connected pair", "fully connected pairs")];
  if (body.groups.length) summary.push(`${largest}: ${body.groups[0].join(", ")}`);
  if (body.errors.length) summary.push(`${plural(missing(body).size, "developer", "developers")} missing, listed below`);
  if (body.undecided?.length) summary.push(`${plural(body.undecided.length, "pair", "pairs")} without an answer`);
  show(status, [summary.join("; "), quote], "");
  const unanswered = (body.undecided || []).map((u) => `${u.developers.join(" and ")}: ${u.error}`);
  show($("missing"), [...body.errors, ...unanswered], "error");
  $("download").onclick = () => download(svg);
}

/** A module; if it fails to load, once more (a failed address is remembered). */
const load = (path) => import(path).catch(() => import(`${path}?again`));

/** Quotes `team`'s network, then draws it, asking first when it is large or costly (the
 * asking and the legend are loaded on first use); `again` is this, for when a key is given. */
export async function draw(team, status, again) {
  const [{ quoteThenDraw }, { legend }] = await Promise.all([load("./asking.mjs"), load("./legend.mjs")]);
  await quoteThenDraw(team, status, again, (body, quote, where) => render(body, quote, where, legend));
}

// The page's behaviour: a pair's check and its history, through the API, with the API key
// (when the service asks for one) kept for this browser session only.
import { handles, layout, missing, nextLink, order } from "./network.mjs";

const KEY = "connected-api-key";
const HISTORY_PAGE = 20;
let retry = null;

/** `fetch` with the session's key, if any, as the bearer token. */
async function api(url, options = {}) {
  const headers = new Headers(options.headers || {});
  const key = sessionStorage.getItem(KEY);
  if (key) headers.set("Authorization", "Bearer " + key);
  return fetch(url, { ...options, headers });
}

/** The API's messages in an error answer, or its status when it has none. */
async function messages(response) {
  try {
    const body = await response.json();
    if (Array.isArray(body.errors) && body.errors.length) return body.errors;
  } catch (_) { /* not JSON */ }
  return [`the service answered ${response.status} ${response.statusText}`.trim()];
}

/** When to try again, by the clock, if the answer says to wait (`Retry-After`, in seconds). */
function whenToRetry(response) {
  const wait = Number(response.headers.get("Retry-After"));
  if (!Number.isFinite(wait) || wait <= 0) return [];
  const at = new Date(Date.now() + wait * 1000);
  return [`You can try again at ${at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}.`];
}

/** Says in `where` when `task` could not reach the service at all (it is down, or the
 * network is): the browser's own words, as no answer came. */
function unless(task, where) {
  task.catch((error) => show(document.getElementById(where),
    [`The service cannot be reached: ${error.message}`], "error"));
}

/** Says why a key is needed, and runs `again` once one is given. */
function askForKey(why, again) {
  retry = again;
  const section = document.getElementById("key-section");
  document.getElementById("key-why").textContent = why;
  section.hidden = false;
  document.getElementById("key").focus();
}

/** Shows `lines` in `element`, each a paragraph of class `kind`. */
function show(element, lines, kind) {
  element.replaceChildren(...lines.map((line) => {
    const p = document.createElement("p");
    p.className = kind;
    p.textContent = line;
    return p;
  }));
}

/** Handles an answer that is a refusal of the key; says whether it was one. */
async function refusedKey(response, again, where) {
  if (response.status === 401) {
    const [why] = await messages(response);
    askForKey(sessionStorage.getItem(KEY) ? `The key was refused: ${why}.` : "This service needs an API key.", again);
    show(where, [why], "error");
    return true;
  }
  if (response.status === 403 || response.status === 429) {
    show(where, [...await messages(response), ...whenToRetry(response)], "error");
    return true;
  }
  return false;
}

const path = (...parts) => parts.map(encodeURIComponent).join("/");

async function check(dev1, dev2) {
  const answer = document.getElementById("answer");
  show(answer, ["Checking…"], "");
  const response = await api("/connected/realtime/" + path(dev1, dev2));
  if (await refusedKey(response, () => unless(check(dev1, dev2), "answer"), answer)) return;
  if (response.status === 200 || response.status === 404) {
    const body = await response.json();
    const verdict = document.createElement("p");
    verdict.className = "verdict " + (body.connected ? "connected" : "not-connected");
    verdict.textContent = body.connected
      ? `${dev1} and ${dev2} are fully connected`
      : `${dev1} and ${dev2} are not fully connected`;
    const lines = [verdict];
    if (body.connected) {
      const orgs = document.createElement("p");
      orgs.textContent = "Shared organisations: " + body.organisations.join(", ");
      lines.push(orgs);
    }
    answer.replaceChildren(...lines);
  } else {
    show(answer, [...await messages(response), ...whenToRetry(response)], "error");
  }
  await history("/connected/register/" + path(dev1, dev2) + `?limit=${HISTORY_PAGE}`, true);
}

/** One page of the pair's register, newest first, under the answer. */
async function history(url, first) {
  const section = document.getElementById("history");
  const rows = document.getElementById("history-rows");
  const older = document.getElementById("older");
  const why = document.getElementById("history-error");
  const response = await api(url);
  if (first) rows.replaceChildren();
  older.hidden = true;
  section.hidden = false;
  if (response.status !== 200) {
    show(why, ["The history cannot be read:", ...await messages(response), ...whenToRetry(response)], "error");
    return;
  }
  why.replaceChildren();
  const entries = (await response.json()).slice().reverse();
  for (const entry of entries) {
    const row = document.createElement("tr");
    const cells = [
      entry.registered_at.replace("T", " ").replace(/(\.\d+)?Z$/, ""),
      entry.connected ? "connected" : "not connected",
      (entry.organisations || []).join(", "),
      entry.social_graph,
    ];
    for (const text of cells) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    rows.append(row);
  }
  const next = nextLink(response.headers.get("Link"));
  older.hidden = !next;
  older.onclick = next ? () => unless(history(next, false), "history-error") : null;
}

document.getElementById("check-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const dev1 = document.getElementById("dev1").value.trim();
  const dev2 = document.getElementById("dev2").value.trim();
  if (dev1 && dev2) unless(check(dev1, dev2), "answer");
});

document.getElementById("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = document.getElementById("key");
  sessionStorage.setItem(KEY, input.value.trim());
  input.value = "";
  document.getElementById("key-section").hidden = true;
  const again = retry;
  retry = null;
  if (again) again();
});

const SVG = "http://www.w3.org/2000/svg";

function element(name, attributes, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (parent) parent.append(node);
  return node;
}

/** A line between two developers of `at`, with `title` for its title; none when either is
 * not drawn. */
function edge(svg, at, developers, kind, title) {
  const [from, to] = developers.map((d) => at.get(d.toLowerCase()));
  if (!from || !to) return;
  const line = element("line", { class: kind, x1: from.x, y1: from.y, x2: to.x, y2: to.y }, svg);
  element("title", {}, line).textContent = title;
}

/** The answer of `POST /connected/network` as an SVG: developers as nodes on a circle, the
 * members of a group side by side; fully connected pairs as edges (their organisations in
 * the edge's title), the largest group highlighted; pairs without an answer dashed. */
function picture(body) {
  const gone = missing(body);
  const people = order(body.developers.filter((d) => !gone.has(d)), body.groups, body.connections);
  const { points, size } = layout(people);
  const at = new Map(points.map((p) => [p.label.toLowerCase(), p]));
  const largest = new Set((body.groups[0] || []).map((d) => d.toLowerCase()));
  const svg = element("svg", {
    xmlns: SVG, viewBox: `0 0 ${size} ${size}`, width: size, height: size, role: "img",
    "aria-labelledby": "picture-title",
  });
  // Wide enough for the labels to stay legible: a phone scrolls the picture instead.
  svg.style.minWidth = `${Math.round(size * 0.7)}px`;
  const title = element("title", { id: "picture-title" }, svg);
  title.textContent = `The network of ${people.length} developers: ${body.connections.length} fully connected pairs`;
  for (const { developers, error } of body.undecided || []) {
    edge(svg, at, developers, "undecided", `${developers[0]} and ${developers[1]}: no answer, ${error}`);
  }
  for (const { developers, organisations } of body.connections) {
    const inGroup = developers.every((d) => largest.has(d.toLowerCase()));
    edge(svg, at, developers, "edge" + (inGroup ? " group" : ""),
      `${developers[0]} and ${developers[1]}: ${organisations.join(", ")}`);
  }
  for (const p of points) {
    const group = element("g", {}, svg);
    element("title", {}, group).textContent = p.label;
    element("circle", {
      class: "node" + (largest.has(p.label.toLowerCase()) ? " group" : ""), cx: p.x, cy: p.y, r: 6,
    }, group);
    const degrees = (p.angle * 180) / Math.PI + (p.right ? 0 : 180);
    element("text", {
      x: p.labelX, y: p.labelY, "text-anchor": p.right ? "start" : "end",
      "dominant-baseline": "middle", transform: `rotate(${degrees} ${p.labelX} ${p.labelY})`,
    }, group).textContent = p.label;
  }
  return svg;
}

/** The fully connected pairs as a table, for those who would rather read than look. */
function pairs(body) {
  const rows = body.connections.map(({ developers, organisations }) => {
    const row = document.createElement("tr");
    for (const text of [developers[0], developers[1], organisations.join(", ")]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    return row;
  });
  document.getElementById("pair-rows").replaceChildren(...rows);
}

/** The colours the page's style sheet gives the picture, for the picture on its own. */
const STANDALONE = `svg { background: #fff; font-family: system-ui, sans-serif; }
.edge { stroke: #57606a; stroke-width: 1.5; } .edge.group { stroke: #1a7f37; stroke-width: 3; }
.undecided { stroke: #9a6700; stroke-width: 1.5; stroke-dasharray: 6 4; }
.node { fill: #0969da; } .node.group { fill: #1a7f37; } text { fill: #1b1f24; font-size: 12px; }`;

/** A copy of the picture that carries its own style, to be saved as a file. */
function standalone(svg) {
  const copy = svg.cloneNode(true);
  copy.removeAttribute("style");
  const style = document.createElementNS(SVG, "style");
  style.textContent = STANDALONE;
  copy.insertBefore(style, copy.firstChild);
  return copy;
}

async function draw(team) {
  const status = document.getElementById("network-status");
  const section = document.getElementById("network");
  show(status, ["Drawing…"], "");
  const response = await api("/connected/network", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ developers: team }),
  });
  if (await refusedKey(response, () => unless(draw(team), "network-status"), status)) return;
  if (response.status !== 200) {
    show(status, await messages(response), "error");
    section.hidden = true;
    return;
  }
  const body = await response.json();
  const svg = picture(body);
  document.getElementById("picture").replaceChildren(svg);
  pairs(body);
  const groups = body.groups.length ? `; the largest group: ${body.groups[0].join(", ")}` : "";
  show(status, [`${body.connections.length} fully connected pairs${groups}`], "");
  const unanswered = (body.undecided || []).map((u) => `${u.developers.join(" and ")}: ${u.error}`);
  show(document.getElementById("missing"), [...body.errors, ...unanswered], "error");
  section.hidden = false;
  document.getElementById("download").onclick = () => {
    const text = new XMLSerializer().serializeToString(standalone(svg));
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "image/svg+xml" }));
    link.download = "network.svg";
    link.click();
    URL.revokeObjectURL(link.href);
  };
}

document.getElementById("network-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const team = handles(document.getElementById("team").value);
  if (team.length) unless(draw(team), "network-status");
});

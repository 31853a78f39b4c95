// The page's behaviour: a pair's check and its history, through the API, with the API key
// (when the service asks for one) kept for this browser session only.
"use strict";

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
    const lines = await messages(response);
    const wait = response.headers.get("Retry-After");
    if (wait && response.status === 429) lines.push(`Try again in ${wait} s.`);
    show(where, lines, "error");
    return true;
  }
  return false;
}

const path = (...parts) => parts.map(encodeURIComponent).join("/");

async function check(dev1, dev2) {
  const answer = document.getElementById("answer");
  show(answer, ["Checking…"], "");
  const response = await api("/connected/realtime/" + path(dev1, dev2));
  if (await refusedKey(response, () => check(dev1, dev2), answer)) return;
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
    const lines = await messages(response);
    const wait = response.headers.get("Retry-After");
    if (wait) lines.push(`Try again in ${wait} s.`);
    show(answer, lines, "error");
  }
  await history("/connected/register/" + path(dev1, dev2) + `?limit=${HISTORY_PAGE}`, true);
}

/** One page of the pair's register, newest first, under the answer. */
async function history(url, first) {
  const section = document.getElementById("history");
  const rows = document.getElementById("history-rows");
  const older = document.getElementById("older");
  const response = await api(url);
  if (first) rows.replaceChildren();
  if (response.status !== 200) {
    older.hidden = true;
    section.hidden = rows.children.length === 0;
    return;
  }
  const entries = (await response.json()).slice().reverse();
  for (const entry of entries) {
    const row = document.createElement("tr");
    const cells = [
      entry.registered_at.replace("T", " ").replace("Z", ""),
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
  section.hidden = false;
  const next = nextLink(response.headers.get("Link"));
  older.hidden = !next;
  older.onclick = next ? () => history(next, false) : null;
}

/** The `rel="next"` target of a `Link` header, if any. */
function nextLink(link) {
  if (!link) return null;
  for (const part of link.split(",")) {
    const match = part.match(/<([^>]*)>\s*;\s*rel="?next"?/);
    if (match) return match[1];
  }
  return null;
}

document.getElementById("check-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const dev1 = document.getElementById("dev1").value.trim();
  const dev2 = document.getElementById("dev2").value.trim();
  if (dev1 && dev2) check(dev1, dev2);
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

/** The handles written in the team's box: one a line, or separated by commas or spaces. */
function handles(text) {
  return text.split(/[\s,]+/).map((h) => h.trim()).filter((h) => h.length > 0);
}

/** A circle of `n` points, with room for labels outside it: their coordinates, and the
 * picture's size. */
function circle(n) {
  const radius = Math.max(120, n * 9);
  const size = 2 * (radius + 110);
  const points = Array.from({ length: n }, (_, i) => {
    const angle = (2 * Math.PI * i) / n - Math.PI / 2;
    return { x: size / 2 + radius * Math.cos(angle), y: size / 2 + radius * Math.sin(angle), angle };
  });
  return { points, size };
}

function element(name, attributes, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (parent) parent.append(node);
  return node;
}

/** The answer of `POST /connected/network` as an SVG: developers as nodes on a circle,
 * fully connected pairs as edges (their organisations in the edge's title), the largest
 * group highlighted. */
function picture(body) {
  const missing = new Set(body.errors.map((e) => e.split(" ")[0]));
  const people = body.developers.filter((d) => !missing.has(d));
  const { points, size } = circle(people.length);
  const at = new Map(people.map((d, i) => [d.toLowerCase(), points[i]]));
  const largest = new Set((body.groups[0] || []).map((d) => d.toLowerCase()));
  const svg = element("svg", {
    xmlns: SVG, viewBox: `0 0 ${size} ${size}`, role: "img",
    "aria-labelledby": "picture-title",
  });
  const title = element("title", { id: "picture-title" }, svg);
  title.textContent = `The network of ${people.length} developers: ${body.connections.length} fully connected pairs`;
  for (const connection of body.connections) {
    const [a, b] = connection.developers.map((d) => d.toLowerCase());
    const from = at.get(a), to = at.get(b);
    if (!from || !to) continue;
    const inGroup = largest.has(a) && largest.has(b);
    const line = element("line", {
      class: "edge" + (inGroup ? " group" : ""), x1: from.x, y1: from.y, x2: to.x, y2: to.y,
    }, svg);
    element("title", {}, line).textContent =
      `${connection.developers[0]} and ${connection.developers[1]}: ${connection.organisations.join(", ")}`;
  }
  people.forEach((developer, i) => {
    const p = points[i];
    const group = element("g", {}, svg);
    element("title", {}, group).textContent = developer;
    element("circle", {
      class: "node" + (largest.has(developer.toLowerCase()) ? " group" : ""), cx: p.x, cy: p.y, r: 6,
    }, group);
    const right = Math.cos(p.angle) >= 0;
    const label = element("text", {
      x: p.x + 10 * Math.cos(p.angle), y: p.y + 10 * Math.sin(p.angle),
      "text-anchor": right ? "start" : "end", "dominant-baseline": "middle",
      transform: `rotate(${(p.angle * 180) / Math.PI + (right ? 0 : 180)} ${p.x} ${p.y})`,
    }, group);
    label.textContent = developer;
  });
  return svg;
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
  if (await refusedKey(response, () => draw(team), status)) return;
  if (response.status !== 200) {
    show(status, await messages(response), "error");
    section.hidden = true;
    return;
  }
  const body = await response.json();
  const svg = picture(body);
  document.getElementById("picture").replaceChildren(svg);
  const groups = body.groups.length ? `; the largest group: ${body.groups[0].join(", ")}` : "";
  show(status, [`${body.connections.length} fully connected pairs${groups}`], "");
  show(document.getElementById("missing"), body.errors, "error");
  section.hidden = false;
  document.getElementById("download").onclick = () => {
    const text = new XMLSerializer().serializeToString(svg);
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
  if (team.length) draw(team);
});

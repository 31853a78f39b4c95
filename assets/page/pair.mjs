// A pair: its realtime check, and its history newest first, page by page.
import { api, failure, once, refusedKey, row, show } from "./service.mjs";
import { networkName, nextLink } from "./network.mjs";

const HISTORY_PAGE = 20;
/** Which check the history on show belongs to: a page that arrives for an older one is
 * dropped. */
let shown = 0;

const path = (...parts) => parts.map(encodeURIComponent).join("/");

/** What cannot be sent as a handle in a URL's path: `.` and `..` are read as "this
 * directory" and "the one above" by every URL parser, the browser's included. */
function unsendable(handles) {
  return handles.filter((h) => h === "." || h === "..").map((h) => `"${h}" cannot be a developer's handle`);
}

/** The verdict of a 200 or 404 answer of the realtime check, or null when the answer is no
 * verdict (a 404 of something else than the check). */
function verdict(body, dev1, dev2) {
  if (typeof body?.connected !== "boolean") return null;
  const line = document.createElement("p");
  line.className = "verdict " + (body.connected ? "connected" : "not-connected");
  line.textContent = `${dev1} and ${dev2} are ${body.connected ? "" : "not "}fully connected`;
  if (!body.connected) return [line];
  const orgs = document.createElement("p");
  orgs.textContent = "Shared organisations: " + body.organisations.join(", ");
  return [line, orgs];
}

/** Checks `dev1` and `dev2` now, shows the answer in `answer`, then the pair's history;
 * `again` is this check, for when a key is given. */
export async function check(dev1, dev2, answer, again) {
  const refused = unsendable([dev1, dev2]);
  if (refused.length) return show(answer, refused, "error");
  show(answer, ["Checking…"], "");
  const response = await api("/connected/realtime/" + path(dev1, dev2));
  if (await refusedKey(response, again, answer)) return;
  const lines = response.status === 200 || response.status === 404
    ? verdict(await response.clone().json().catch(() => null), dev1, dev2)
    : null;
  if (lines) answer.replaceChildren(...lines);
  else show(answer, await failure(response), "error");
  // A question the API refused (400) has no history; any other answer may have one.
  if (response.status !== 400) {
    shown += 1;
    await history(`/connected/register/${path(dev1, dev2)}?limit=${HISTORY_PAGE}`, shown);
  } else {
    document.getElementById("history").hidden = true;
  }
}

/** One page of the history of check number `which`, newest first, under the answer: the
 * first replaces what was there, the next ones are added below. */
async function history(url, which, older = null) {
  const section = document.getElementById("history");
  const rows = document.getElementById("history-rows");
  const why = document.getElementById("history-error");
  const more = document.getElementById("older");
  if (!older) more.hidden = true;
  const response = await api(url);
  if (which !== shown) return;
  if (!older) rows.replaceChildren();
  section.hidden = false;
  rows.closest("table").hidden = rows.children.length === 0 && response.status !== 200;
  if (response.status === 404) return show(why, ["No answer is recorded for this pair yet."], "");
  if (response.status !== 200) return show(why, ["The history cannot be read:", ...await failure(response)], "error");
  why.replaceChildren();
  const added = (await response.json()).slice().reverse().map(entryRow);
  rows.append(...added);
  const next = nextLink(response.headers.get("Link"), location.href);
  more.hidden = !next;
  more.onclick = next ? () => once(more, why, () => history(next, which, more)) : null;
  // The button that was pressed is gone on the last page: the first new row takes the focus.
  if (older && !next && added.length) added[0].focus();
}

/** A row of the history table for one recorded answer, focusable for the keyboard. */
function entryRow(entry) {
  const tr = row([
    entry.registered_at.replace("T", " ").replace(/(\.\d+)?Z$/, ""),
    entry.connected ? "connected" : "not connected",
    (entry.organisations || []).join(", "),
    networkName(entry.social_graph),
  ]);
  tr.tabIndex = -1;
  return tr;
}

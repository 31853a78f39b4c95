// Talking to the service and showing what it says: requests with the session's API key, the
// API's messages, what a refusal of the key means to the person, one request at a time per
// form, and the lines and table rows answers are shown in.

const KEY = "connected-api-key";
/** What to do again once a key is given: the request that was refused, and where its
 * answer goes (focused afterwards). */
let pending = null;

/** `fetch` with the session's key, if any, as the bearer token. */
export async function api(url, options = {}) {
  const headers = new Headers(options.headers || {});
  const key = sessionStorage.getItem(KEY);
  if (key) headers.set("Authorization", "Bearer " + key);
  return fetch(url, { ...options, headers });
}

/** The API's messages in an error answer, or its status when it has none. */
export async function messages(response) {
  try {
    const body = await response.json();
    if (Array.isArray(body.errors) && body.errors.length) return body.errors;
  } catch (_) { /* not JSON */ }
  return [`the service answered ${response.status} ${response.statusText}`.trim()];
}

/** When to try again, by the clock, if the answer says to wait (`Retry-After`, in seconds). */
export function whenToRetry(response) {
  const wait = Number(response.headers.get("Retry-After"));
  if (!Number.isFinite(wait) || wait <= 0) return [];
  const at = new Date(Date.now() + wait * 1000);
  return [`You can try again at ${at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}.`];
}

/** The messages of an error answer, with when to try again if it says. */
export async function failure(response) {
  return [...await messages(response), ...whenToRetry(response)];
}

/** Shows `lines` in `element`, each a paragraph of class `kind`. */
export function show(element, lines, kind) {
  element.replaceChildren(...lines.map((line) => {
    const p = document.createElement("p");
    p.className = kind;
    p.textContent = line;
    return p;
  }));
}

/** A table row of `cells`, each a text. */
export function row(cells) {
  const tr = document.createElement("tr");
  for (const text of cells) {
    const cell = document.createElement("td");
    cell.textContent = text;
    tr.append(cell);
  }
  return tr;
}

/** Says why a key is needed, or another one, and keeps `again` for when it is given. */
function askForKey(why, again, where) {
  pending = { again, where };
  document.getElementById("key-why").textContent = why;
  document.getElementById("key-section").hidden = false;
  document.getElementById("key").focus();
}

/** Handles an answer refusing the key (401: none or a bad one; 403: not allowed this;
 * 429: its rate or budget is spent): says so in `where`, offers to take another key and
 * then run `again`. Says whether it was such a refusal. */
export async function refusedKey(response, again, where) {
  if (![401, 403, 429].includes(response.status)) return false;
  const lines = await failure(response);
  show(where, lines, "error");
  const why = response.status === 401 && !sessionStorage.getItem(KEY)
    ? "This service needs an API key."
    : `The key was refused: ${lines[0]}. You can use another key.`;
  askForKey(why, again, where);
  return true;
}

/** Keeps the key given for this browser session only, and does again what was refused. */
export function useKey(key) {
  sessionStorage.setItem(KEY, key);
  document.getElementById("key-section").hidden = true;
  const then = pending;
  pending = null;
  if (then) {
    then.where.focus();
    then.again();
  }
}

/** What a person is told when no answer came, by what went wrong. */
function unanswered(error) {
  if (error instanceof TypeError) return `The service cannot be reached: ${error.message}`;
  if (error instanceof SyntaxError) return `The service's answer cannot be read: ${error.message}`;
  return `Something went wrong in the page: ${error.message}`;
}

/** Runs `task` for `form` unless one is already running for it (a second click sends
 * nothing), with `where` marked busy meanwhile and told if no answer came. */
export async function once(form, where, task) {
  if (form.dataset.busy) return;
  form.dataset.busy = "1";
  where.setAttribute("aria-busy", "true");
  try {
    await task();
  } catch (error) {
    show(where, [unanswered(error)], "error");
  } finally {
    delete form.dataset.busy;
    where.removeAttribute("aria-busy");
  }
}

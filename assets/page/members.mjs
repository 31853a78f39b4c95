// The members' panel: sign in with GitHub or X, what is linked, the consent to hidden
// organisations, sign out, forget me. The member is known by a cookie the page cannot read
// (HttpOnly): it asks `/members/me`. Hidden where sign-in is not offered (404).
import { failure, once, show } from "./service.mjs";
import { accountLine, connectPath, consentLine, forgottenLines, networkName, panelState, signInError } from "./member.mjs";

const $ = (id) => document.getElementById(id);
const JSON_BODY = { "Content-Type": "application/json" };

/** A link that begins signing in with `network`, its text `label`. */
function signInLink(network, label) {
  const a = document.createElement("a");
  a.href = connectPath(network);
  a.textContent = `${label} ${networkName(network)}`;
  return a;
}

/** The panel for nobody signed in: a link for each network offered. */
function signedOut(state) {
  $("member-out").hidden = false;
  $("member-in").hidden = true;
  $("member-sign-in").replaceChildren(...state.offered.map((n) => signInLink(n, "Sign in with")));
}

/** The panel for a member: who, what is linked, what may be added, their consent. */
function signedIn(state) {
  $("member-out").hidden = true;
  $("member-in").hidden = false;
  $("member-who").textContent = `Signed in as ${state.handle}`;
  $("member-accounts").replaceChildren(...state.accounts.map((a) => {
    const li = document.createElement("li");
    li.textContent = accountLine(a);
    return li;
  }));
  $("member-add").replaceChildren(...state.addable.map((n) => signInLink(n, "Link your account on")));
  $("member-add").hidden = state.addable.length === 0;
  $("consent").hidden = !state.github;
  $("hidden-orgs").checked = state.hiddenOrganisations;
  $("forget-confirm").hidden = true;
}

/** Shows `state` (from `panelState`) in the panel. */
function render(state) {
  $("member").hidden = false;
  if (state.state === "in") signedIn(state);
  else signedOut(state);
}

/** Shows who is signed in, from `answer` (of `/members/me`) or by asking; hides the panel
 * where sign-in is off. */
async function load(answer = null) {
  const response = answer ?? await fetch("/members/me", { cache: "no-store" });
  const state = panelState(response.status, await response.clone().json().catch(() => null));
  if (state?.state === "off") {
    $("member").hidden = true;
    return;
  }
  if (!state) {
    $("member").hidden = false;
    return show($("member-status"), ["Who is signed in cannot be read:", ...await failure(response)], "error");
  }
  render(state);
  // Back from a provider with a failure: said once, and the address made clean again.
  const failed = signInError(location.search);
  if (failed) {
    show($("member-status"), [failed], "error");
    history.replaceState(null, "", location.pathname + location.hash);
  }
  // Back from a provider (`/#member`): the panel says who is signed in, and takes the focus.
  if (location.hash === "#member") {
    $(state.state === "in" ? "member-who" : "member-heading").focus();
  }
}

/** Saves the consent as the box now says; shows what was saved, or why nothing was. */
async function saveConsent() {
  const box = $("hidden-orgs");
  const wanted = box.checked;
  box.disabled = true;
  try {
    const response = await fetch("/members/me/hidden-organisations", {
      method: "PUT", headers: JSON_BODY, body: JSON.stringify({ count: wanted }),
    });
    const state = response.status === 200 ? panelState(200, await response.json()) : null;
    if (state?.state === "in") {
      box.checked = state.hiddenOrganisations;
      show($("consent-status"), [consentLine(state.hiddenOrganisations)], "");
    } else {
      box.checked = !wanted;
      show($("consent-status"), ["Not saved:", ...await failure(response)], "error");
    }
  } catch (error) {
    box.checked = !wanted;
    throw error;
  } finally {
    box.disabled = false;
  }
}

/** Signs this browser out. */
async function signOut() {
  const response = await fetch("/members/sign-out", { method: "POST" });
  if (response.status !== 204) return show($("member-status"), await failure(response), "error");
  show($("member-status"), ["Signed out."], "");
  await load();
  $("member-status").focus();
}

/** Forgets the member: their tokens revoked, their sign-in deleted; says what was done. */
async function forget() {
  const response = await fetch("/members/me", { method: "DELETE" });
  if (response.status !== 200) return show($("member-status"), await failure(response), "error");
  show($("member-status"), forgottenLines(await response.json()), "");
  await load();
  $("member-status").focus();
}

/** Wires the panel's controls, each one request at a time, and shows `answer`, the first
 * of `/members/me`. */
export function start(answer) {
  const status = $("member-status");
  $("hidden-orgs").addEventListener("change", () => once($("consent"), $("consent-status"), saveConsent));
  $("sign-out").addEventListener("click", () => once($("member-in"), status, signOut));
  $("forget").addEventListener("click", () => {
    $("forget-confirm").hidden = false;
    $("forget-no").focus();
  });
  $("forget-no").addEventListener("click", () => {
    $("forget-confirm").hidden = true;
    $("forget").focus();
  });
  $("forget-yes").addEventListener("click", () => once($("member-in"), status, forget));
  return once($("member"), status, () => load(answer));
}

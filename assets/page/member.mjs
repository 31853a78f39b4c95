// What the members' panel shows, without the page: who is signed in, which accounts are
// linked and which may be added, and what "forget me" did. No DOM here, so that node's test
// runner can check it on its own.

import { networkName } from "./network.mjs";

export { networkName };

/** The networks a member may sign in with, by the API's id. */
const SIGN_INS = ["github", "x"];

/** Where signing in with `network` begins (a navigation, not a fetch: the provider's page
 * is shown); none for a network the page does not know. */
export function connectPath(network) {
  return SIGN_INS.includes(network) ? `/members/connect/${network}` : null;
}

/** What `/members/me` said, for the panel: `off` (sign-in is not offered here: the panel
 * is not shown), `out` (nobody is signed in: the networks to sign in with), or `in` (the
 * member, each network's linked account or null, and the networks that may still be
 * linked); null when the answer is none of these. */
export function panelState(status, body) {
  if (status === 404) return { state: "off" };
  if (status !== 200 || !Array.isArray(body?.sign_in)) return null;
  const offered = body.sign_in.filter((network) => connectPath(network));
  const member = body.member;
  if (!member) return { state: "out", offered };
  const accounts = SIGN_INS.map((network) => ({
    network, name: networkName(network), account: member[network] ?? null,
  }));
  return {
    state: "in",
    handle: member.handle,
    accounts: accounts.filter((a) => a.account),
    addable: offered.filter((network) => !member[network]),
    hiddenOrganisations: member.hidden_organisations === true,
    github: Boolean(member.github),
  };
}

/** A linked account as a line: "GitHub: alice". */
export function accountLine({ name, account }) {
  return `${name}: ${account.handle}`;
}

/** What the consent to hidden organisations now is, as saved. */
export function consentLine(count) {
  return count
    ? "Saved: your hidden GitHub organisations count, and are shown, in answers about you."
    : "Saved: your hidden GitHub organisations do not count in answers about you.";
}

/** What "forget me" did, as lines: who was forgotten, the networks whose tokens were
 * revoked, and those whose tokens could not be (deleted here all the same). */
export function forgottenLines(body) {
  const names = (list) => (Array.isArray(list) ? list : []).map(networkName).join(" and ");
  const lines = [`${body?.forgotten ?? "The member"} is forgotten: your sign-in and its tokens are deleted here.`];
  if (body?.revoked?.length) lines.push(`Your token was revoked at ${names(body.revoked)}.`);
  if (body?.not_revoked?.length) {
    lines.push(`Your token could not be revoked at ${names(body.not_revoked)} now; it is deleted here, ` +
      "and you can revoke this service's access in your settings there.");
  }
  return lines;
}

/** Why a sign-in failed, from the code the service sent the browser back with
 * (`?sign_in_error=`); null without one. Only the service's own codes are told: the address
 * is anyone's to write. */
export function signInError(search) {
  const code = new URLSearchParams(search).get("sign_in_error");
  if (code === null) return null;
  const why = {
    expired: "this sign-in expired or was already used. Start again.",
    other_browser: "it was begun in another browser. Start again here.",
    declined: "the provider did not approve it (you declined, or the code was refused). Start again.",
    handle_mismatch: "that account's handle is not the one you are signed in as here: one handle is one person on GitHub and X.",
    provider: "the provider could not be reached or refused the service. Try again later.",
  };
  return `Not signed in: ${Object.hasOwn(why, code) ? why[code] : "the sign-in failed. Try again later."}`;
}

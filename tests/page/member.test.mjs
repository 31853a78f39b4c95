// The members' panel's logic on its own, in node: what `/members/me` means for the panel,
// which networks may be signed in with or linked, and what "forget me" says it did.
import { test } from "node:test";
import assert from "node:assert/strict";
import { accountLine, connectPath, consentLine, forgottenLines, networkName, panelState, signInError } from "../../assets/page/member.mjs";

test("sign-in off hides the panel; an answer that is no member body is none", () => {
  assert.deepEqual(panelState(404, { errors: ["member sign-in is not offered here"] }), { state: "off" });
  assert.equal(panelState(503, { errors: ["the members' store is unavailable"] }), null);
  assert.equal(panelState(200, null), null);
  assert.equal(panelState(200, { member: null }), null, "no list of networks");
});

test("nobody signed in: the networks offered, and only those the page knows", () => {
  assert.deepEqual(panelState(200, { member: null, sign_in: ["github", "x"] }), { state: "out", offered: ["github", "x"] });
  assert.deepEqual(panelState(200, { member: null, sign_in: ["x"] }), { state: "out", offered: ["x"] });
  assert.deepEqual(panelState(200, { member: null, sign_in: ["bluesky", "github", "__proto__"] }).offered, ["github"]);
});

test("a member: the accounts linked, the networks that may still be linked, their consent", () => {
  const body = {
    member: { handle: "alice", github: { handle: "alice", id: "583231" }, x: null, hidden_organisations: false },
    sign_in: ["github", "x"],
  };
  const state = panelState(200, body);
  assert.equal(state.state, "in");
  assert.equal(state.handle, "alice");
  assert.deepEqual(state.accounts.map(accountLine), ["GitHub: alice"]);
  assert.deepEqual(state.addable, ["x"]);
  assert.equal(state.hiddenOrganisations, false);
  assert.equal(state.github, true);

  const both = panelState(200, {
    member: { ...body.member, x: { handle: "alice_x", id: "12" }, hidden_organisations: true },
    sign_in: ["github", "x"],
  });
  assert.deepEqual(both.accounts.map(accountLine), ["GitHub: alice", "X: alice_x"]);
  assert.deepEqual(both.addable, [], "nothing left to link");
  assert.equal(both.hiddenOrganisations, true);

  const onlyX = panelState(200, { member: { handle: "bob", github: null, x: { handle: "bob", id: "7" } }, sign_in: ["x"] });
  assert.deepEqual(onlyX.addable, [], "GitHub is not offered here");
  assert.equal(onlyX.github, false);
  assert.equal(onlyX.hiddenOrganisations, false, "absent is no consent");
});

test("sign-in begins at the service's own path, for known networks only", () => {
  assert.equal(connectPath("github"), "/members/connect/github");
  assert.equal(connectPath("x"), "/members/connect/x");
  assert.equal(connectPath("../../elsewhere"), null);
  assert.equal(connectPath("toString"), null);
  assert.equal(networkName("x"), "X");
  assert.equal(networkName("mastodon"), "mastodon");
});

test("the consent saved is said as it now is", () => {
  assert.match(consentLine(true), /count, and are shown/);
  assert.match(consentLine(false), /do not count/);
});

test("forget me says who is forgotten, what was revoked and what could not be", () => {
  assert.deepEqual(forgottenLines({ forgotten: "alice", revoked: ["github", "x"], not_revoked: [] }), [
    "alice is forgotten: your sign-in and its tokens are deleted here.",
    "Your token was revoked at GitHub and X.",
  ]);
  const partly = forgottenLines({ forgotten: "bob", revoked: ["github"], not_revoked: ["x"] });
  assert.equal(partly.length, 3);
  assert.equal(partly[1], "Your token was revoked at GitHub.");
  assert.match(partly[2], /^Your token could not be revoked at X now; it is deleted here/);
  assert.deepEqual(forgottenLines({ forgotten: "carol", revoked: [], not_revoked: [] }).length, 1);
});

test("a failed sign-in is told by the service's own codes only", () => {
  assert.equal(signInError(""), null);
  assert.equal(signInError("?team=a"), null);
  assert.match(signInError("?sign_in_error=expired"), /^Not signed in: this sign-in expired/);
  assert.match(signInError("?sign_in_error=handle_mismatch"), /one handle is one person/);
  const forged = signInError("?sign_in_error=Call%20this%20number");
  assert.equal(forged, "Not signed in: the sign-in failed. Try again later.");
  assert.ok(!forged.includes("Call"), "words from the address are never shown");
});

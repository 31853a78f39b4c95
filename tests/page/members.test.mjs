// The members' panel in headless Chromium, against `connected serve` with sign-in on and
// `connected-fake-upstreams` as GitHub and X: a member signs in with GitHub through the
// fake's authorise page and back, sees what is linked, has a failed save said, consents to
// hidden organisations (kept across a reload and a new sign-in), signs out, links X, and is
// forgotten. Without sign-in settings there is no panel: page.test.mjs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { fakeUpstreams, freePort, launch, openPage, serve } from "./browser.mjs";

const SHOTS = process.env.SHOTS ?? "target/browser";
mkdirSync(SHOTS, { recursive: true });

let browser;
before(async () => { browser = await launch(); });
after(async () => browser?.close());

/** Signs in with `network` from the panel: through the fake's authorise page (which
 * approves as the fakes' first developer) and back to the page, which then says who. */
async function signIn(page, origin, name) {
  await page.click(`#member-sign-in a:text-is("Sign in with ${name}")`);
  await page.waitForURL(`${origin}/#member`);
  await page.waitForSelector("#member-in:not([hidden])");
}

test("a member signs in with GitHub, consents, signs out, and is forgotten", async () => {
  const fakes = await fakeUpstreams();
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const service = await serve({
    ...fakes.env, PUBLIC_URL: origin, TOKEN_KEY: randomBytes(32).toString("base64"),
  }, null, false, `127.0.0.1:${port}`);
  try {
    const elsewhere = [fakes.env.GITHUB_WEB_URL, fakes.env.X_WEB_URL];
    const { page, problems } = await openPage(browser, origin, elsewhere);
    await page.waitForSelector("#member-out:not([hidden])");
    assert.deepEqual(await page.locator("#member-sign-in a").allTextContents(), ["Sign in with GitHub", "Sign in with X"]);
    assert.ok(await page.isHidden("#member-in"));
    await page.locator("#member").screenshot({ path: join(SHOTS, "member-signed-out.png") });

    // A sign-in that fails (a state no one began) comes back to the page, which says why.
    await page.goto(`${origin}/members/connect/github/callback?state=nobody-began-this&code=x`);
    await page.waitForURL(`${origin}/#member`);
    await page.waitForSelector("#member-status .error");
    assert.match(await page.textContent("#member-status"), /Not signed in: this sign-in expired or was already used/);

    await signIn(page, origin, "GitHub");
    assert.equal(await page.textContent("#member-who"), "Signed in as dev000");
    assert.equal(await page.evaluate(() => document.activeElement.id), "member-who", "back from the provider, the panel has the focus");
    assert.deepEqual(await page.locator("#member-accounts li").allTextContents(), ["GitHub: dev000"]);
    assert.deepEqual(await page.locator("#member-add a").allTextContents(), ["Link your account on X"]);
    assert.equal(await page.getAttribute("#member-add a", "href"), "/members/connect/x");
    const box = page.locator("#hidden-orgs");
    assert.equal(await box.isChecked(), false, "hidden organisations count only once the member says so");
    await page.locator("#member").screenshot({ path: join(SHOTS, "member-signed-in.png") });

    // A save that fails is said, and the box shows what is still saved.
    await page.route("**/members/me/hidden-organisations", (route) => route.fulfill({
      status: 503, contentType: "application/json",
      body: JSON.stringify({ errors: ["the members' store is unavailable; try again later"] }),
    }));
    await box.click();
    await page.waitForSelector("#consent-status .error");
    assert.deepEqual(await page.locator("#consent-status p").allTextContents(),
      ["Not saved:", "the members' store is unavailable; try again later"]);
    assert.equal(await box.isChecked(), false);
    await page.unroute("**/members/me/hidden-organisations");

    await box.check();
    await page.waitForFunction(() => document.getElementById("consent-status").textContent.startsWith("Saved"));
    assert.match(await page.textContent("#consent-status"), /count, and are shown/);
    assert.equal(await box.isChecked(), true);
    await page.reload({ waitUntil: "networkidle" });
    await page.waitForSelector("#member-in:not([hidden])");
    assert.equal(await page.locator("#hidden-orgs").isChecked(), true, "the consent is kept");

    await page.click("#sign-out");
    await page.waitForSelector("#member-out:not([hidden])");
    assert.equal(await page.textContent("#member-status"), "Signed out.");
    const me = await page.evaluate(async () => (await fetch("/members/me")).json());
    assert.equal(me.member, null, "the service too says nobody is signed in");

    await signIn(page, origin, "GitHub");
    assert.equal(await page.locator("#hidden-orgs").isChecked(), true, "the consent outlives a session");
    // The other network is linked the same way, through X's authorise page.
    await page.click('#member-add a:text-is("Link your account on X")');
    await page.waitForURL(`${origin}/#member`);
    await page.waitForFunction(() => document.querySelectorAll("#member-accounts li").length === 2);
    assert.deepEqual(await page.locator("#member-accounts li").allTextContents(), ["GitHub: dev000", "X: dev000"]);
    assert.ok(await page.isHidden("#member-add"), "nothing is left to link");
    await page.click("#forget");
    assert.ok(await page.isVisible("#forget-confirm"), "forget me is asked again first");
    await page.click("#forget-no");
    assert.ok(await page.isHidden("#forget-confirm"));
    assert.ok(await page.isVisible("#member-in"), "kept when the member changes their mind");
    await page.click("#forget");
    await page.locator("#member").screenshot({ path: join(SHOTS, "member-forget.png") });
    await page.click("#forget-yes");
    await page.waitForSelector("#member-out:not([hidden])");
    assert.deepEqual(await page.locator("#member-status p").allTextContents(), [
      "dev000 is forgotten: your sign-in and its tokens are deleted here.",
      "Your token was revoked at GitHub and X.",
    ]);
    assert.equal(await page.evaluate(() => document.activeElement.id), "member-status");
    await page.locator("#member").screenshot({ path: join(SHOTS, "member-forgotten.png") });

    // Forgotten means forgotten: signing in again starts afresh, with no consent.
    await signIn(page, origin, "GitHub");
    assert.equal(await page.locator("#hidden-orgs").isChecked(), false);
    assert.deepEqual(problems, []);
  } finally {
    service.child.kill();
    fakes.child.kill();
  }
});

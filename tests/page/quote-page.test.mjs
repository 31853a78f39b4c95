// A team's quote on the page, in headless Chromium against `connected serve --demo`: a team
// of more than 20 is quoted and drawn only after "Draw it", for no more than the quote;
// "Cancel" draws nothing. (A small team, drawn without asking, is in page.test.mjs.) The
// demo graph bills no X user, so its quotes are 0: the team's size is what asks here.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { launch, openPage, serve } from "./browser.mjs";

const SHOTS = process.env.SHOTS ?? "target/browser";
mkdirSync(SHOTS, { recursive: true });

let browser;
before(async () => { browser = await launch(); });
after(async () => browser?.close());

const status = (page) => page.textContent("#network-status");

test("a team of 21 is quoted, drawn only once confirmed, and nothing is drawn on Cancel", async () => {
  const service = await serve();
  try {
    const { page, problems } = await open(service.origin);
    const posts = [];
    page.on("request", (r) => {
      if (r.method() === "POST") posts.push({ path: new URL(r.url()).pathname, body: r.postDataJSON() });
    });
    // A picture of another team first, which must not pass for this one's.
    await page.fill("#team", "alice bob");
    await page.click("#network-form button");
    await page.waitForSelector("#picture svg");

    // Nine of the demo graph's developers and twelve it does not know (listed as missing).
    const known = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan"];
    const large = [...known, ...Array.from({ length: 12 }, (_, i) => `nobody${i + 1}`)];
    posts.length = 0;
    await page.fill("#team", large.join(" "));
    await page.click("#network-form button");
    await page.waitForSelector("#quote:not([hidden])");
    assert.match(await status(page), /^Up to 0 X users \(about \$0\.00 at \$0\.010 each\) in 0 calls, reading 0 follow lists\..*21 developers/s);
    assert.equal(await page.evaluate(() => document.activeElement.id), "quote", "the question takes the focus");
    assert.ok(await page.isHidden("#network"), "the last picture is not taken for this team's");
    await page.screenshot({ path: join(SHOTS, "quote.png"), fullPage: true });
    await page.click("#quote-no");
    await page.waitForFunction(() => document.getElementById("network-status").textContent.startsWith("Cancelled"));
    assert.ok(await page.isHidden("#quote"));
    assert.ok(await page.isHidden("#network"), "nothing drawn");
    assert.deepEqual(posts.map((p) => p.path), ["/connected/network/estimate"], "the network was never asked");
    assert.equal(await page.evaluate(() => document.activeElement.id), "team", "the team's box takes the focus back");

    posts.length = 0;
    await page.click("#network-form button");
    await page.waitForSelector("#quote:not([hidden])");
    await page.click("#quote-yes");
    await page.waitForFunction(() => document.getElementById("network-status").textContent.includes("pairs"));
    assert.ok(await page.isVisible("#picture svg"));
    assert.deepEqual(posts, [
      { path: "/connected/network/estimate", body: { developers: large } },
      { path: "/connected/network", body: { developers: large, max_x_users: 0 } },
    ], "drawn for no more than the quote");
    const api = await (await fetch(service.origin + "/connected/network", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ developers: large }),
    })).json();
    const missing = new Set(api.errors.map((e) => e.split(" ")[0]));
    assert.ok(large.slice(known.length).every((d) => missing.has(d)), [...missing].join(" "));
    assert.equal(await page.locator("#picture circle").count(), large.filter((d) => !missing.has(d)).length);
    const unanswered = (api.undecided ?? []).map((u) => `${u.developers.join(" and ")}: ${u.error}`);
    assert.deepEqual(await page.locator("#missing .error").allTextContents(), [...api.errors, ...unanswered]);
    assert.deepEqual(problems, []);
  } finally {
    service.child.kill();
  }
});

/** A page on `origin` that records console errors and requests leaving the origin. */
function open(origin) {
  return openPage(browser, origin);
}

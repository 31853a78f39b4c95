// What the page tells a person beside the answers, in headless Chromium: with a demo graph,
// developers of it to try (and none without one); the picture's legend, drawn in the
// picture's own colours; a tie for the largest group said as one; networks named as people
// know them. Screenshots of the legend on a desktop and a phone go to target/browser/.
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

const post = (origin, developers) => fetch(origin + "/connected/network", {
  method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ developers }),
}).then((r) => r.json());

/** Draws `team` on the page and waits for its picture. */
async function draw(page, team) {
  await page.fill("#team", team.join("\n"));
  await page.click("#network-form button");
  await page.waitForFunction(() => document.getElementById("network-status").textContent.includes("pairs"));
}

/** The fill or stroke the style sheet gives the first element of `selector`. */
const paint = (page, selector, property) =>
  page.$eval(selector, (e, p) => getComputedStyle(e).getPropertyValue(p), property);

test("the demo's developers are suggested, and the picture is explained by a legend in its colours", async () => {
  const service = await serve();
  try {
    const { page, problems } = await openPage(browser, service.origin);
    const pair = (await page.getAttribute('meta[name="demo-pair"]', "content")).split(" ");
    const team = (await page.getAttribute('meta[name="demo-team"]', "content")).split(" ");
    assert.equal(await page.textContent("#demo-pair"),
      `This service answers from a demo graph, not from GitHub and X: try ${pair[0]} and ${pair[1]}.`);
    assert.equal(await page.textContent("#demo-team"), `A team of the demo graph to paste: ${team.join(" ")}`);
    // Those named exist: the pair is answered, and no one of the team is missing.
    assert.equal((await fetch(`${service.origin}/connected/realtime/${pair[0]}/${pair[1]}`)).status, 200);
    const api = await post(service.origin, team);
    assert.deepEqual(api.errors, []);
    assert.ok(api.undecided?.length > 0, "the suggested team shows a pair without an answer too");
    assert.deepEqual(api.groups.slice(0, 2).map((g) => g.length), [2, 2], "two groups as large");

    assert.ok(await page.isHidden("#legend"), "no legend without a picture");
    await draw(page, team);
    assert.deepEqual(await page.locator("#legend li").allTextContents(), [
      "A developer of the group named above: one of 2 largest groups",
      "A developer outside it",
      "A fully connected pair within that group",
      "A fully connected pair: hover a line for the organisations they share",
      "A pair whose follows cannot be read: no answer",
    ]);
    for (const scheme of ["light", "dark"]) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const [kind, property] of [["circle.node.group", "fill"], ["circle.node:not(.group)", "fill"],
        ["line.edge.group", "stroke"], ["line.edge:not(.group)", "stroke"], ["line.undecided", "stroke"]]) {
        assert.equal(await paint(page, `#legend ${kind}`, property), await paint(page, `#picture ${kind}`, property),
          `${kind} in ${scheme}`);
      }
      assert.equal(await paint(page, "#legend line.undecided", "stroke-dasharray"), "6px, 4px");
    }
    await page.emulateMedia({ colorScheme: "light" });
    await page.setViewportSize({ width: 1100, height: 900 });
    await page.locator("section:has(#network)").screenshot({ path: join(SHOTS, "legend-desktop.png") });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator("section:has(#network)").screenshot({ path: join(SHOTS, "legend-phone.png") });
    await page.setViewportSize({ width: 1100, height: 900 });

    // A recorded answer names its network as people do: X, not its id in the register.
    await page.fill("#dev1", pair[0]);
    await page.fill("#dev2", pair[1]);
    await page.click("#check-form button");
    await page.waitForSelector("#history-rows tr");
    const recorded = await (await fetch(`${service.origin}/connected/register/${pair[0]}/${pair[1]}`)).json();
    assert.equal(recorded[0].social_graph, "x", "the API's value is kept");
    assert.equal(await page.textContent("#history-rows tr:first-child td:last-child"), "X");
    assert.deepEqual(problems, []);
  } finally {
    service.child.kill();
  }
});

test("a service on the real networks suggests no one", async () => {
  const nowhere = "http://127.0.0.1:9";
  const service = await serve({
    GITHUB_API_URL: nowhere, TWITTER_API_URL: nowhere, GITHUB_TOKEN: "unused", TWITTER_BEARER_TOKEN: "unused",
  }, null, false);
  try {
    const { page, problems } = await openPage(browser, service.origin);
    assert.equal(await page.locator('meta[name^="demo-"]').count(), 0);
    assert.ok(await page.isHidden("#demo-pair"));
    assert.ok(await page.isHidden("#demo-team"));
    assert.deepEqual(problems, []);
  } finally {
    service.child.kill();
  }
});

test("two groups as large are said to be, and the one in green is named", async () => {
  // ann-ben and cat-dan: two pairs, each fully connected, nobody across.
  const graph = {
    github: { users: { ann: { orgs: ["north"] }, ben: { orgs: ["north"] }, cat: { orgs: ["south"] }, dan: { orgs: ["south"] } } },
    twitter: { users: { ann: { following: ["ben"] }, ben: { following: ["ann"] }, cat: { following: ["dan"] }, dan: { following: ["cat"] } } },
  };
  const service = await serve({}, graph);
  try {
    const { page, problems } = await openPage(browser, service.origin);
    assert.equal(await page.getAttribute('meta[name="demo-pair"]', "content"), "ann ben", "from the file");
    const team = ["ann", "ben", "cat", "dan"];
    const api = await post(service.origin, team);
    assert.equal(api.groups.length, 2);
    await draw(page, team);
    const green = api.groups[0];
    assert.match(await page.textContent("#network-status"), new RegExp(`one of 2 largest groups: ${green.join(", ")}`));
    const items = await page.locator("#legend li").allTextContents();
    assert.equal(items[0], "A developer of the group named above: one of 2 largest groups");
    assert.deepEqual(await page.locator("#picture circle.group + text").allTextContents(), green);
    assert.equal(items.length, 4, "no dashed line, so none in the legend");
    assert.ok(!items.some((item) => /cannot be read/.test(item)));
    assert.deepEqual(problems, []);
  } finally {
    service.child.kill();
  }
});

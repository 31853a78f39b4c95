// The page at / in headless Chromium, against `connected serve --demo` on port 0: what a
// person sees for a connected pair, a pair that is not, a missing user, the history, a
// team's network (the bundled one, and a generated team of 100), and the key prompt when
// keys are required; and no members' panel where sign-in is off. Screenshots of each state
// go to target/browser/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { overlap } from "../../assets/page/network.mjs";
import { brokenCells, launch, openPage, serve } from "./browser.mjs";

const BINARY = process.env.BINARY ?? "target/debug/connected";
const SHOTS = process.env.SHOTS ?? "target/browser";
mkdirSync(SHOTS, { recursive: true });

let browser;
before(async () => { browser = await launch(); });
after(async () => browser?.close());

/** A page on `origin` that records console errors and requests leaving the origin. */
const open = (origin) => openPage(browser, origin);

async function check(page, dev1, dev2) {
  await page.fill("#dev1", dev1);
  await page.fill("#dev2", dev2);
  await page.click("#check-form button");
}

test("a pair is checked, its history read, a team drawn, all on this origin", async () => {
  const service = await serve();
  try {
    const { page, problems } = await open(service.origin);
    const load = await page.evaluate(() => {
      const entries = [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")];
      return { files: entries.map((e) => e.name), bytes: entries.reduce((n, e) => n + e.transferSize, 0) };
    });
    console.log(`the page's load: ${load.files.length} requests, ${load.bytes} bytes over the wire`);
    // The document, its style, its icon, five scripts, and the question who is signed in
    // (the members' scripts are loaded only where it is answered).
    assert.equal(load.files.length, 9, load.files.join(" "));
    // About 16,400 bytes with the demo's hints and the legend's style; the legend's script
    // and the quote's are loaded with the first picture.
    assert.ok(load.bytes < 17 * 1024, `the page stays small: ${load.bytes} bytes`);
    assert.ok(await page.isHidden("#member"), "no members' panel where sign-in is off");

    await check(page, "alice", "bob");
    await page.waitForSelector(".verdict.connected");
    assert.match(await page.textContent("#answer"), /alice and bob are fully connected.*acme, Zeta-Org/s);
    await page.waitForSelector("#history-rows tr");
    assert.equal(await page.locator("#history-rows tr").count(), 1);
    await page.screenshot({ path: join(SHOTS, "connected.png"), fullPage: true });

    // By keyboard alone: Tab to the first box, type, Tab, type, Enter.
    for (let i = 0; i < 5 && await page.evaluate(() => document.activeElement.id) !== "dev1"; i++) {
      await page.keyboard.press("Tab");
    }
    await page.keyboard.press("Control+A");
    await page.keyboard.type("alice");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Control+A");
    await page.keyboard.type("carol");
    await page.keyboard.press("Enter");
    await page.waitForSelector(".verdict.not-connected");
    await page.screenshot({ path: join(SHOTS, "not-connected.png"), fullPage: true });

    await check(page, "alice", "bob");
    await page.waitForFunction(() => document.querySelectorAll("#history-rows tr").length === 2);
    const newest = await page.textContent("#history-rows tr:first-child td:first-child");
    const oldest = await page.textContent("#history-rows tr:last-child td:first-child");
    assert.ok(newest >= oldest, "newest first");

    // A long history is paged: the newest 20 first, then the older ones on demand.
    for (let i = 0; i < 20; i++) await fetch(service.origin + "/connected/realtime/alice/carol");
    await check(page, "alice", "carol");
    await page.waitForFunction(() => document.querySelectorAll("#history-rows tr").length === 20);
    assert.ok(await page.isVisible("#older"), "older answers are offered");
    await page.click("#older");
    await page.waitForFunction(() => document.querySelectorAll("#history-rows tr").length === 22);
    assert.ok(!(await page.isVisible("#older")), "no older answers are left");
    assert.equal(await page.evaluate(() => document.activeElement.tagName), "TR", "the first older answer takes the focus");
    const times = await page.locator("#history-rows tr td:first-child").allTextContents();
    assert.deepEqual(times, [...times].sort().reverse(), "newest first across pages");

    // Asked twice at once (a double click), the page sends one check.
    await page.fill("#dev1", "dave");
    await page.fill("#dev2", "bob");
    await page.dblclick("#check-form button");
    await page.waitForSelector("#answer .verdict");
    await page.waitForFunction(() => !document.getElementById("answer").hasAttribute("aria-busy"));
    const recorded = await (await fetch(service.origin + "/connected/register/dave/bob")).json();
    assert.equal(recorded.length, 1, "one check recorded");

    // "." and ".." are no handles: a URL would read them as directories.
    await check(page, "..", "bob");
    await page.waitForSelector("#answer .error");
    assert.equal(await page.textContent("#answer"), `".." cannot be a developer's handle`);

    await check(page, "ghost", "bob");
    await page.waitForSelector("#answer .error");
    assert.deepEqual(await page.locator("#answer .error").allTextContents(), [
      "ghost is not a valid user in github",
      "ghost is not a valid user in twitter",
    ]);
    assert.ok(await page.isHidden("#history"), "a refused question has no history");
    await page.screenshot({ path: join(SHOTS, "missing.png"), fullPage: true });

    const team = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan"];
    const posts = [];
    page.on("request", (r) => {
      if (r.method() === "POST") posts.push({ path: new URL(r.url()).pathname, body: r.postDataJSON() });
    });
    await page.fill("#team", team.join("\n"));
    const started = Date.now();
    await page.click("#network-form button");
    await page.waitForSelector("#picture svg");
    const drawn = Date.now() - started;
    // A small team is quoted, then drawn without asking, for no more than the quote.
    const quote = await (await fetch(service.origin + "/connected/network/estimate", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ developers: team }),
    })).json();
    assert.deepEqual(posts, [
      { path: "/connected/network/estimate", body: { developers: team } },
      { path: "/connected/network", body: { developers: team, max_x_users: quote.x_users } },
    ]);
    assert.match(await page.textContent("#network-status"),
      new RegExp(`Up to ${quote.x_users} X users? \\(about \\$[\\d.,]+ at \\$0\\.010 each\\) in ${quote.x_calls} calls?, reading ${quote.lists.length} follow lists?\\.`));
    assert.ok(await page.isHidden("#quote"), "nothing asked");
    const api = await (await fetch(service.origin + "/connected/network", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ developers: team }),
    })).json();
    const missing = new Set(api.errors.map((e) => e.split(" ")[0]));
    assert.equal(await page.locator("#picture circle").count(), team.filter((d) => !missing.has(d)).length);
    assert.equal(await page.locator("#picture line.edge").count(), api.connections.length);
    assert.equal(await page.locator("#picture line.undecided").count(), (api.undecided ?? []).length);
    assert.equal(await page.getAttribute("#picture svg", "role"), "img");
    const titles = await page.locator("#picture g.pair > title").allTextContents();
    assert.ok(titles.every((t) => / and .*: /.test(t)), titles.join("; "));
    const unanswered = (api.undecided ?? []).map((u) => `${u.developers.join(" and ")}: ${u.error}`);
    assert.ok(unanswered.length > 0, "the bundled team has a pair whose follows cannot be read");
    assert.deepEqual(await page.locator("#missing .error").allTextContents(), [...api.errors, ...unanswered]);
    await page.screenshot({ path: join(SHOTS, "network.png"), fullPage: true });
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
    assert.equal(download.suggestedFilename(), "network.svg");
    const file = readFileSync(await download.path(), "utf8");
    assert.match(file, /^<svg [^>]*role="img"[^>]*>\s*<style>/, "the file carries its own style");
    assert.equal(file.match(/<circle /g).length, await page.locator("#picture circle").count());
    console.log(`drew a team of ${team.length} in ${drawn} ms`);
    // The service gone: the page says so, and stays usable.
    service.child.kill();
    await new Promise((resolve) => service.child.once("exit", resolve));
    await check(page, "alice", "bob");
    await page.waitForFunction(() => document.getElementById("answer").textContent.startsWith("The service cannot be reached"));
    assert.deepEqual(problems, []);
  } finally {
    service.child.kill();
  }
});

test("an upstream that cannot be reached is reported as such, never as a verdict", async () => {
  // The real adapters, pointed at a port where nothing listens.
  const nowhere = "http://127.0.0.1:9";
  const service = await serve({
    GITHUB_API_URL: nowhere, TWITTER_API_URL: nowhere, GITHUB_TOKEN: "unused", TWITTER_BEARER_TOKEN: "unused",
  }, null, false);
  try {
    const { page, problems } = await open(service.origin);
    await check(page, "alice", "bob");
    await page.waitForSelector("#answer .error");
    const api = await fetch(service.origin + "/connected/realtime/alice/bob");
    assert.equal(api.status, 502);
    assert.deepEqual(await page.locator("#answer .error").allTextContents(), (await api.json()).errors);
    assert.equal(await page.locator("#answer .verdict").count(), 0);
    await page.waitForSelector("#history:not([hidden])");
    assert.equal(await page.textContent("#history-error"), "No answer is recorded for this pair yet.");
    assert.ok(await page.isHidden("#history table"), "no empty table");
    await page.screenshot({ path: join(SHOTS, "upstream-down.png"), fullPage: true });

    await page.fill("#team", "alice bob carol");
    await page.click("#network-form button");
    await page.waitForSelector("#network-status .error");
    assert.match(await page.textContent("#network-status"), /unavailable/);
    assert.ok(await page.isHidden("#network"), "no picture of an answer that did not come");
    assert.deepEqual(problems, []);
  } finally {
    service.child.kill();
  }
});

test("the documentation pages render under their policy, asking nothing of another origin", async () => {
  const service = await serve();
  try {
    for (const [path, heading] of [["/docs/", "Connected Developers API"], ["/redoc", "Connected Developers API"]]) {
      const page = await browser.newPage();
      const problems = [];
      // Every console error counts here, a failed load (a missing icon, a refused script) too.
      page.on("console", (m) => { if (m.type() === "error") problems.push(m.text()); });
      page.on("pageerror", (e) => problems.push(String(e)));
      page.on("request", (r) => {
        if (!r.url().startsWith(service.origin + "/") && !/^(data|blob):/.test(r.url())) {
          problems.push(`a request left the origin: ${r.url()}`);
        }
      });
      const answer = await page.goto(service.origin + path, { waitUntil: "networkidle" });
      assert.match(answer.headers()["content-security-policy"], /frame-ancestors 'none'/);
      await page.waitForFunction((text) => document.body.innerText.includes(text), heading);
      // An operation of the API is listed, so the document was read and drawn.
      await page.waitForFunction(() => /realtime/.test(document.body.innerText));
      await page.screenshot({ path: join(SHOTS, `docs${path.replaceAll("/", "-")}.png`) });
      assert.deepEqual(problems, [], path);
      await page.close();
    }
  } finally {
    service.child.kill();
  }
});

/** A made-up company of 100 developers in five teams of 20 (handles that both GitHub and X
 * accept: letters only, at most 15; some of the widest there are): each team shares an
 * organisation, most of a team follow each other, a few follow across teams, and some
 * share a second organisation. Deterministic, so that every run draws the same. */
function company() {
  const teams = ["core", "pay", "app", "data", "ops"];
  const names = ["ada", "alan", "barbara", "brian", "claude", "dennis", "donald", "edsger",
    "frances", "grace", "guido", "hedy", "john", "ken", "linus", "margaret", "niklaus",
    "radia", "shafi", "WOLFGANGMW"];
  const developers = teams.flatMap((team) => names.map((name) => `${name}${team}`));
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const github = {}, twitter = {};
  developers.forEach((developer, i) => {
    const team = teams[Math.floor(i / names.length)];
    github[developer] = { orgs: random() < 0.2 ? [team, "rustaceans"] : [team] };
    twitter[developer] = {
      following: developers.filter((other, j) => other !== developer &&
        (Math.floor(j / names.length) === Math.floor(i / names.length) ? random() < 0.8 : random() < 0.02)),
    };
  });
  return { developers, graph: { github: { users: github }, twitter: { users: twitter } } };
}

/** The labels of the picture that overlap, or that the picture's edge cuts, from the boxes
 * the browser drew them in. */
async function overlappingLabels(page) {
  const { boxes, edge } = await page.$eval("#picture svg", (svg) => ({
    edge: JSON.parse(JSON.stringify(svg.getBoundingClientRect())),
    boxes: [...svg.querySelectorAll("text")].map((text) => {
      const box = text.getBBox();
      const matrix = text.getScreenCTM();
      const corners = [[box.x, box.y], [box.x + box.width, box.y], [box.x + box.width, box.y + box.height],
        [box.x, box.y + box.height]].map(([x, y]) => new DOMPoint(x, y).matrixTransform(matrix));
      return { label: text.textContent, corners: corners.map(({ x, y }) => ({ x, y })) };
    }),
  }));
  const found = boxes.filter(({ corners }) => corners.some(({ x, y }) =>
    x < edge.left || y < edge.top || x > edge.right || y > edge.bottom)).map((b) => `${b.label} is cut`);
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      if (overlap(boxes[i].corners, boxes[j].corners)) found.push(`${boxes[i].label} / ${boxes[j].label}`);
    }
  }
  return { count: boxes.length, found };
}

/** Draws `team` on the page (confirming its quote when it is over 20); the time from the
 * click to the picture, in ms. */
async function drawTeam(page, team) {
  await page.fill("#team", team.join("\n"));
  const started = performance.now();
  await page.click("#network-form button");
  if (team.length > 20) await page.click("#quote-yes");
  await page.waitForFunction((n) => document.querySelectorAll("#picture circle").length === n &&
    document.getElementById("network-status").textContent.includes("pairs"), team.length);
  return Math.round(performance.now() - started);
}

test("a team of 20 has no overlapping labels, and one of 100 is drawn whole", async () => {
  const { developers, graph } = company();
  const service = await serve({}, graph);
  try {
    const { page, problems } = await open(service.origin);
    await page.setViewportSize({ width: 1100, height: 1000 });

    // Twenty from three teams: 7, 7 and 6.
    const twenty = developers.filter((_, i) => i % 20 < 7 && i < 60).slice(0, 20);
    await drawTeam(page, twenty);
    const labels = await overlappingLabels(page);
    assert.equal(labels.count, 20);
    assert.deepEqual(labels.found, []);
    await page.locator("section:has(#network)").screenshot({ path: join(SHOTS, "team-of-20.png") });
    await page.emulateMedia({ colorScheme: "dark" });
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(background, "rgb(13, 17, 23)", "the system's dark preference is followed");
    await page.locator("section:has(#network)").screenshot({ path: join(SHOTS, "team-of-20-dark.png") });
    await page.emulateMedia({ colorScheme: "light" });

    const asked = performance.now();
    const api = await (await fetch(service.origin + "/connected/network", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ developers }),
    })).json();
    const answered = Math.round(performance.now() - asked);
    const drawn = await drawTeam(page, developers);
    assert.equal(await page.locator("#picture line.edge").count(), api.connections.length);
    assert.equal(await page.locator("#picture circle.group").count(), api.groups[0].length);
    assert.equal(await page.locator("#pair-rows tr").count(), api.connections.length);
    const hundred = await overlappingLabels(page);
    assert.equal(hundred.count, 100);
    assert.deepEqual(hundred.found, []);
    await page.screenshot({ path: join(SHOTS, "team-of-100.png"), fullPage: true });
    console.log(`drew a team of 100 (${api.connections.length} pairs) in ${drawn} ms from the click to the picture; ` +
      `the API alone answers it in ${answered} ms`);

    await check(page, "WOLFGANGMWcore", "radiacore");
    await page.waitForSelector("#history-rows tr");
    await page.setViewportSize({ width: 390, height: 844 });
    const scroll = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    assert.ok(scroll[0] <= scroll[1], `the page is no wider than a phone: ${scroll}`);
    assert.deepEqual(await brokenCells(page, "#history"), [], "no word of the history is broken");
    await page.locator("#history").screenshot({ path: join(SHOTS, "phone-history.png") });
    await page.click("#network summary");
    assert.deepEqual(await brokenCells(page, "#network"), [], "nor of the pairs");
    await page.screenshot({ path: join(SHOTS, "phone.png") });

    assert.deepEqual(problems, []);
  } finally {
    service.child.kill();
  }
});

test("with keys required the page asks for one, says when it is refused, then uses it", async () => {
  const service = await serve({ AUTH: "keys" });
  try {
    const key = execFileSync(BINARY, ["keys", "create", "page"], {
      env: { PATH: process.env.PATH, DATABASE_URL: service.database },
    }).toString().trim();
    const { page, problems } = await open(service.origin);
    await check(page, "alice", "bob");
    await page.waitForSelector("#key-section:not([hidden])");
    assert.equal(await page.textContent("#key-why"), "This service needs an API key.");
    await page.screenshot({ path: join(SHOTS, "key-asked.png"), fullPage: true });

    await page.fill("#key", "cdk_not_a_key");
    await page.click("#key-form button");
    await page.waitForFunction(() => document.getElementById("key-why").textContent.startsWith("The key was refused"));
    await page.screenshot({ path: join(SHOTS, "key-refused.png"), fullPage: true });

    await page.fill("#key", key);
    await page.click("#key-form button");
    await page.waitForSelector(".verdict.connected");
    const kept = await page.evaluate(() => [sessionStorage.length, localStorage.length, document.cookie]);
    assert.deepEqual(kept, [1, 0, ""], "the key is kept for the session only");

    // A key without the network scope is told so, and offered to change; a key past its
    // rate is told when to retry.
    const create = (...args) => execFileSync(BINARY, ["keys", "create", ...args], {
      env: { PATH: process.env.PATH, DATABASE_URL: service.database },
    }).toString().trim();
    const narrow = create("narrow", "--scopes", "check");
    await page.evaluate((k) => sessionStorage.setItem("connected-api-key", k), narrow);
    await page.fill("#team", "alice bob");
    await page.click("#network-form button");
    await page.waitForSelector("#network-status .error");
    assert.match(await page.textContent("#network-status"), /lacks the scope "network"/);
    assert.match(await page.textContent("#key-why"), /^The key was refused: .*network.*You can use another key\.$/);
    await check(page, "alice", "bob");
    await page.waitForSelector("#history-error .error");
    assert.match(await page.textContent("#history-error"), /The history cannot be read:.*history/s);

    // Two requests an hour: the team's quote, then its network.
    const slow = create("slow", "--rate", "2/h");
    await page.fill("#key", slow);
    await page.click("#key-form button");
    await page.waitForSelector("#picture svg");
    assert.equal(await page.evaluate(() => document.activeElement.id), "network-status", "the answer takes the focus");
    await check(page, "alice", "carol");
    await page.waitForFunction(() => /retry after \d+ s.*You can try again at \d/s.test(document.getElementById("answer").textContent));
    assert.ok(await page.isVisible("#key-section"), "another key is offered");
    await page.screenshot({ path: join(SHOTS, "key-rate.png"), fullPage: true });
    assert.deepEqual(problems, []);
  } finally {
    service.child.kill();
  }
});

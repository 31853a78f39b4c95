// The page at / in headless Chromium, against `connected serve --demo` on port 0: what a
// person sees for a connected pair, a pair that is not, a missing user, the history, a
// team's network, and the key prompt when keys are required. Screenshots of each state go
// to target/browser/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const BINARY = process.env.BINARY ?? "target/debug/connected";
const SHOTS = process.env.SHOTS ?? "target/browser";
mkdirSync(SHOTS, { recursive: true });

/** `connected serve --demo` on a free port, with a database of its own; its origin. */
async function serve(env = {}) {
  const dir = mkdtempSync(join(tmpdir(), "connected-page-"));
  const database = `sqlite://${join(dir, "page.db")}`;
  const child = spawn(BINARY, ["serve", "--demo", "--listen-addr", "127.0.0.1:0"], {
    env: { PATH: process.env.PATH, DATABASE_URL: database, RUST_LOG: "info", NO_COLOR: "1", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const origin = await new Promise((resolve, reject) => {
    let log = "";
    child.stderr.on("data", (chunk) => {
      log += chunk;
      const found = log.match(/listening address=(\S+)/);
      if (found) resolve(`http://${found[1]}`);
    });
    child.on("exit", () => reject(new Error(`the service stopped:\n${log}`)));
  });
  return { origin, child, database };
}

let browser;
before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update"],
  });
});
after(async () => browser?.close());

/** A page on `origin` that records console errors (but the browser's own line for every
 * 4xx a fetch gets, which the API answers on purpose) and requests leaving the origin. */
async function open(origin) {
  const page = await browser.newPage();
  const problems = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(String(e)));
  page.on("request", (r) => {
    if (!r.url().startsWith(origin + "/")) problems.push(`a request left the origin: ${r.url()}`);
  });
  await page.goto(origin + "/");
  return { page, problems };
}

async function check(page, dev1, dev2) {
  await page.fill("#dev1", dev1);
  await page.fill("#dev2", dev2);
  await page.click("#check-form button");
}

test("a pair is checked, its history read, a team drawn, all on this origin", async () => {
  const service = await serve();
  try {
    const { page, problems } = await open(service.origin);

    await check(page, "alice", "bob");
    await page.waitForSelector(".verdict.connected");
    assert.match(await page.textContent("#answer"), /alice and bob are fully connected.*acme, Zeta-Org/s);
    await page.waitForSelector("#history-rows tr");
    assert.equal(await page.locator("#history-rows tr").count(), 1);
    await page.screenshot({ path: join(SHOTS, "connected.png"), fullPage: true });

    await check(page, "alice", "carol");
    await page.waitForSelector(".verdict.not-connected");
    await page.screenshot({ path: join(SHOTS, "not-connected.png"), fullPage: true });

    await check(page, "alice", "bob");
    await page.waitForFunction(() => document.querySelectorAll("#history-rows tr").length === 2);
    const newest = await page.textContent("#history-rows tr:first-child td:first-child");
    const oldest = await page.textContent("#history-rows tr:last-child td:first-child");
    assert.ok(newest >= oldest, "newest first");

    await check(page, "ghost", "bob");
    await page.waitForSelector("#answer .error");
    assert.deepEqual(await page.locator("#answer .error").allTextContents(), [
      "ghost is not a valid user in github",
      "ghost is not a valid user in twitter",
    ]);
    await page.screenshot({ path: join(SHOTS, "missing.png"), fullPage: true });

    const team = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan"];
    await page.fill("#team", team.join("\n"));
    const started = Date.now();
    await page.click("#network-form button");
    await page.waitForSelector("#picture svg");
    const drawn = Date.now() - started;
    const api = await (await fetch(service.origin + "/connected/network", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ developers: team }),
    })).json();
    const missing = new Set(api.errors.map((e) => e.split(" ")[0]));
    assert.equal(await page.locator("#picture circle").count(), team.filter((d) => !missing.has(d)).length);
    assert.equal(await page.locator("#picture line").count(), api.connections.length);
    assert.equal(await page.getAttribute("#picture svg", "role"), "img");
    const titles = await page.locator("#picture line title").allTextContents();
    assert.ok(titles.every((t) => / and .*: /.test(t)), titles.join("; "));
    assert.equal(await page.locator("#missing .error").count(), api.errors.length);
    await page.screenshot({ path: join(SHOTS, "network.png"), fullPage: true });
    console.log(`drew a team of ${team.length} in ${drawn} ms`);

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
    assert.deepEqual(problems, []);
  } finally {
    service.child.kill();
  }
});

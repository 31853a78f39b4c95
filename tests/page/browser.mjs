// What the browser tests share: `connected serve` on a port, the fake GitHub and X it can be
// pointed at, headless Chromium, and a page that records what should never happen.
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const BINARY = process.env.BINARY ?? "target/debug/connected";
const FAKES = process.env.FAKES ?? "target/debug/connected-fake-upstreams";

/** `connected serve` (`--demo` unless `demo` is false, or the `graph` given) on `listen`
 * (a free port by default), with a database of its own; its origin. */
export async function serve(env = {}, graph = null, demo = true, listen = "127.0.0.1:0") {
  const dir = mkdtempSync(join(tmpdir(), "connected-page-"));
  const database = `sqlite://${join(dir, "page.db")}`;
  const args = ["serve", "--listen-addr", listen];
  if (graph) {
    args.push(`--demo=${join(dir, "graph.json")}`);
    writeFileSync(join(dir, "graph.json"), JSON.stringify(graph));
  } else if (demo) {
    args.push("--demo");
  }
  const child = spawn(BINARY, args, {
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

/** A port nobody listens on now, for a service whose public URL must be known first. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** `connected-fake-upstreams` started with `args`: the environment it prints (the fakes'
 * addresses and OAuth apps), and the process. */
export async function fakeUpstreams(args = []) {
  const child = spawn(FAKES, args, { stdio: ["ignore", "pipe", "inherit"] });
  const env = await new Promise((resolve, reject) => {
    let printed = "";
    child.stdout.on("data", (chunk) => {
      printed += chunk;
      if (!printed.includes("# serving until Ctrl-C")) return;
      resolve(Object.fromEntries([...printed.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1], m[2]])));
    });
    child.on("exit", () => reject(new Error(`the fakes stopped:\n${printed}`)));
  });
  return { env, child };
}

/** Headless Chromium, Debian's unless `CHROMIUM` names another. */
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update"],
  });
}

/** A page on `origin` that records console errors (but the browser's own line for every
 * 4xx a fetch gets, which the API answers on purpose) and requests leaving the origin for
 * any but the `elsewhere` origins allowed. */
export async function openPage(browser, origin, elsewhere = []) {
  const page = await browser.newPage();
  const problems = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(String(e)));
  page.on("request", (r) => {
    if (![origin, ...elsewhere].some((allowed) => r.url().startsWith(allowed + "/"))) {
      problems.push(`a request left the origin: ${r.url()}`);
    }
  });
  await page.goto(origin + "/", { waitUntil: "networkidle" });
  return { page, problems };
}

/** The cells of the tables under `selector` whose text is not on one line in full: broken
 * across lines, or cut by the cell. */
export function brokenCells(page, selector) {
  return page.$$eval(`${selector} td`, (cells) => cells.filter((cell) => {
    const range = document.createRange();
    range.selectNodeContents(cell);
    const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
    return lines.size > 1 || cell.scrollWidth > cell.clientWidth;
  }).map((cell) => cell.textContent));
}

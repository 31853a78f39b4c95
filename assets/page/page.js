// The page's forms: a pair to check, a team to draw, a key to use, and the members' panel;
// with a demo graph, developers of it to try. One request at a time per form; what each does is in pair.mjs, team.mjs, service.mjs and
// members.mjs.
import { handles } from "./network.mjs";
import { check } from "./pair.mjs";
import { draw } from "./team.mjs";
import { once, useKey } from "./service.mjs";

const $ = (id) => document.getElementById(id);

// A demo graph's developers, named by the service in <meta>s, to try.
const demo = (name) => document.querySelector(`meta[name="${name}"]`)?.content.split(" ").filter(Boolean) ?? [];
const [pair, team] = [demo("demo-pair"), demo("demo-team")];
if (pair.length === 2) {
  $("demo-pair").textContent = `This service answers from a demo graph, not from GitHub and X: try ${pair[0]} and ${pair[1]}.`;
  $("demo-pair").hidden = false;
}
if (team.length >= 2) {
  $("demo-team").textContent = `A team of the demo graph to paste: ${team.join(" ")}`;
  $("demo-team").hidden = false;
}

$("check-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const [dev1, dev2] = [$("dev1").value.trim(), $("dev2").value.trim()];
  const run = () => once($("check-form"), $("answer"), () => check(dev1, dev2, $("answer"), run));
  if (dev1 && dev2) run();
});

$("network-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const team = handles($("team").value);
  const run = () => once($("network-form"), $("network-status"), () => draw(team, $("network-status"), run));
  if (team.length) run();
});

$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const key = $("key").value.trim();
  $("key").value = "";
  if (key) useKey(key);
});

// The members' panel, its scripts loaded only where sign-in is offered (`/members/me` is
// there).
fetch("/members/me", { cache: "no-store" }).then(async (response) => {
  if (response.status === 404) return;
  const { start } = await import("./members.mjs");
  await start(response);
}, () => { /* the service cannot be reached: the forms above say so when used */ });

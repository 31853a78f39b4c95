// The page's forms: a pair to check, a team to draw, a key to use, and the members' panel.
// One request at a time per form; what each does is in pair.mjs, team.mjs, service.mjs and
// members.mjs.
import { handles } from "./network.mjs";
import { check } from "./pair.mjs";
import { draw } from "./team.mjs";
import { once, useKey } from "./service.mjs";

const $ = (id) => document.getElementById(id);

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

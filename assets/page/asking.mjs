// A team's quote on the page, loaded when a team is first drawn: the estimate asked, its
// quote shown, "Draw it" / "Cancel" when the team is large or costly, and the network asked
// for no more than the quote (`max_x_users`), asking again when the cost grew meanwhile.
import { api, failure, once, refusedKey, show } from "./service.mjs";
import { GREW, quoteLine, whyAsk } from "./quote.mjs";

const $ = (id) => document.getElementById(id);

/** `POST`s `body` as JSON to `url`, with the session's key. */
const post = (url, body) => api(url, {
  method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
});

/** Shows an answer that is not the one asked for, and no picture. */
async function failed(response, status) {
  show(status, await failure(response), "error");
  $("network").hidden = true;
}

/** Shows the quote of `estimate` with `why` it is asked, and "Draw it" / "Cancel", which
 * take the focus; "Draw it" draws it with `render`. */
function ask(team, estimate, why, status, render) {
  const box = $("quote");
  const quote = quoteLine(estimate);
  $("network").hidden = true;
  show(status, [quote, why], "");
  box.hidden = false;
  box.focus();
  const confirmed = () => once($("network-form"), status, () => drawQuoted(team, estimate, status, confirmed, render));
  $("quote-yes").onclick = () => {
    box.hidden = true;
    status.focus();
    confirmed();
  };
  $("quote-no").onclick = () => {
    box.hidden = true;
    show(status, ["Cancelled: nothing was drawn, and no follow list was read."], "");
    $("team").focus();
  };
}

/** Draws `team`'s network for no more than `estimate` said (`max_x_users`); when it now
 * costs more (`409`), shows the new quote and asks again. */
async function drawQuoted(team, estimate, status, again, render) {
  const quote = quoteLine(estimate);
  show(status, [quote, "Drawing…"], "");
  const response = await post("/connected/network", { developers: team, max_x_users: estimate.x_users });
  if (await refusedKey(response, again, status)) return;
  if (response.status === 409) {
    const grown = (await response.clone().json().catch(() => null))?.estimate;
    if (grown) return ask(team, grown, GREW, status, render);
  }
  if (response.status !== 200) return failed(response, status);
  render(await response.json(), quote, status);
}

/** Asks what `team`'s network would cost, shows the quote, then draws it with `render`
 * straight away when the team is small and the quote cheap, or asks first; `again` is
 * this, for when a key is given. */
export async function quoteThenDraw(team, status, again, render) {
  $("quote").hidden = true;
  show(status, ["Asking what it would cost…"], "");
  const response = await post("/connected/network/estimate", { developers: team });
  if (await refusedKey(response, again, status)) return;
  if (response.status !== 200) return failed(response, status);
  const estimate = await response.json();
  const why = whyAsk(team.length, estimate);
  if (why) return ask(team, estimate, why, status, render);
  await drawQuoted(team, estimate, status, again, render);
}

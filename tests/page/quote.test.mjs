// A team's quote on its own, in node: the estimate's answer in words, and when the person is
// asked before the network is drawn.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CENTS_A_USER, LARGEST_UNASKED, quoteLine, whyAsk } from "../../assets/page/quote.mjs";

/** An estimate's answer billing `users` over `lists` lists, with the service's threshold. */
const estimate = (users, calls, lists, confirmAbove = 1000) => ({
  x_users: users, x_calls: calls, members: { x_users: 0, x_calls: 0 },
  lists: Array.from({ length: lists }, (_, i) => ({ developer: `d${i}`, list: "following", size: 1, pages: 1, for: [] })),
  round_one: { github_calls: 0, x_calls: 0, x_users: 0 }, confirm_above: confirmAbove,
});

test("the quote says users, dollars, calls and lists in words, numbers grouped", () => {
  assert.equal(CENTS_A_USER, 1, "the price the quote says");
  assert.equal(quoteLine(estimate(1510, 3, 2)),
    "Up to 1,510 X users (about $15.10 at $0.010 each) in 3 calls, reading 2 follow lists.");
  assert.equal(quoteLine(estimate(1234567, 1240, 1000)),
    "Up to 1,234,567 X users (about $12,345.67 at $0.010 each) in 1,240 calls, reading 1,000 follow lists.");
  assert.equal(quoteLine(estimate(1, 1, 1)),
    "Up to 1 X user (about $0.01 at $0.010 each) in 1 call, reading 1 follow list.");
  assert.equal(quoteLine(estimate(0, 0, 0)),
    "Up to 0 X users (about $0.00 at $0.010 each) in 0 calls, reading 0 follow lists.");
});

test("a quote of an answer that is not an estimate says nothing it was not told", () => {
  for (const odd of [null, {}, { x_users: -3, x_calls: "7", lists: "none" }, { x_users: 1.5, x_calls: NaN }]) {
    assert.equal(quoteLine(odd), "Up to 0 X users (about $0.00 at $0.010 each) in 0 calls, reading 0 follow lists.",
      JSON.stringify(odd));
  }
});

test("a team of up to 20 at or under the threshold is drawn without asking", () => {
  assert.equal(LARGEST_UNASKED, 20);
  for (const size of [2, 9, LARGEST_UNASKED]) {
    assert.equal(whyAsk(size, estimate(0, 0, 0)), null, `${size}`);
    assert.equal(whyAsk(size, estimate(1000, 1, 1, 1000)), null, "at the threshold");
  }
});

test("more than 20 developers are asked about, whatever the price", () => {
  for (const size of [LARGEST_UNASKED + 1, 100, 1500]) {
    const why = whyAsk(size, estimate(0, 0, 0));
    assert.ok(why, `${size}`);
    assert.ok(why.includes(new Intl.NumberFormat("en-US").format(size)), why);
  }
});

test("a quote over the threshold is asked about, naming the threshold", () => {
  assert.equal(whyAsk(3, estimate(1001, 2, 1, 1000)),
    "That is over the 1,000 X users this service draws without asking.");
  assert.equal(whyAsk(3, estimate(1, 1, 1, 0)), "That is over the 0 X users this service draws without asking.");
  assert.equal(whyAsk(3, estimate(0, 0, 0, 0)), null, "nothing billed is never over");
});

test("a service that does not say its threshold has every quote confirmed", () => {
  const { confirm_above: _, ...untold } = estimate(0, 0, 0);
  assert.ok(whyAsk(3, untold), "no threshold given");
  for (const threshold of [null, "1000", -1, 2.5]) {
    assert.ok(whyAsk(3, estimate(0, 0, 0, threshold)), String(threshold));
  }
  assert.ok(whyAsk(3, null));
});

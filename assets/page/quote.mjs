// A team's quote on its own, with no page: what the estimate's answer says in plain words,
// and whether the person is asked before the network is drawn (and paid for).

/** What X bills a user read, in cents, as the quote says it. */
export const CENTS_A_USER = 1;
/** The largest team drawn without asking, whatever its quote. */
export const LARGEST_UNASKED = 20;
/** Said when the answer would now cost more than the quote the person accepted. */
export const GREW = "The cost grew since it was quoted: here is the new quote. Nothing was drawn or billed.";

const number = new Intl.NumberFormat("en-US");
const money = (cents, digits) => new Intl.NumberFormat("en-US", {
  style: "currency", currency: "USD", minimumFractionDigits: digits, maximumFractionDigits: digits,
}).format(cents / 100);
const plural = (n, one, many) => `${number.format(n)} ${n === 1 ? one : many}`;

/** A count the API gave, or 0 for anything that is not one. */
const count = (value) => (Number.isSafeInteger(value) && value >= 0 ? value : 0);

/** The quote of `estimate` (the answer of `POST /connected/network/estimate`): "Up to 1,510
 * X users (about $15.10 at $0.010 each) in 3 calls, reading 2 follow lists." */
export function quoteLine(estimate) {
  const users = count(estimate?.x_users);
  const calls = count(estimate?.x_calls);
  const lists = Array.isArray(estimate?.lists) ? estimate.lists.length : 0;
  return `Up to ${plural(users, "X user", "X users")} (about ${money(users * CENTS_A_USER, 2)} at ` +
    `${money(CENTS_A_USER, 3)} each) in ${plural(calls, "call", "calls")}, reading ` +
    `${plural(lists, "follow list", "follow lists")}.`;
}

/** Why the person is asked before a team of `size` developers quoted `estimate` is drawn,
 * or null when it is drawn straight away: more than 20 developers, or a quote over the
 * service's threshold (`confirm_above`; a service that does not say has every quote
 * confirmed). */
export function whyAsk(size, estimate) {
  if (size > LARGEST_UNASKED) {
    return `A team of ${number.format(size)} developers is drawn only once you confirm.`;
  }
  const threshold = estimate?.confirm_above;
  if (!Number.isSafeInteger(threshold) || threshold < 0) return "Draw it at this cost?";
  if (count(estimate.x_users) > threshold) {
    return `That is over the ${plural(threshold, "X user", "X users")} this service draws without asking.`;
  }
  return null;
}

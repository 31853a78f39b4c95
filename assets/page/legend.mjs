// The legend under a team's picture, loaded with the first picture: what each mark means,
// drawn with the picture's own classes, so that its colours (dark ones too) are the
// picture's. Only the marks the picture has are listed.

/** A mark of the picture, 28 by 14 pixels: a node or a line of `kind`. */
function swatch(kind) {
  const mark = kind.startsWith("node")
    ? `<circle class="${kind}" cx="14" cy="7" r="6"/>`
    : `<line class="${kind}" x1="2" y1="7" x2="26" y2="7"/>`;
  return `<svg width="28" height="14" aria-hidden="true">${mark}</svg>`;
}

/** Lists in `list` what the picture of `body` shows, the group drawn in green named as
 * the summary names it (`largest`, from `largestName`). */
export function legend(list, body, largest) {
  const grouped = body.groups.length > 0;
  const items = [
    [grouped, "node group", largest === "the largest group"
      ? "A developer of the largest group" : `A developer of the group named above: ${largest}`],
    [true, "node", grouped ? "A developer outside it" : "A developer"],
    [grouped, "edge group", "A fully connected pair within that group"],
    [true, "edge", "A fully connected pair: hover a line for the organisations they share"],
    [body.undecided?.length > 0, "undecided", "A pair whose follows cannot be read: no answer"],
  ];
  list.replaceChildren(...items.filter(([shown]) => shown).map(([, kind, text]) => {
    const item = document.createElement("li");
    item.innerHTML = swatch(kind);
    item.append(text);
    return item;
  }));
}

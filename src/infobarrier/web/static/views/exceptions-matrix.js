/* infobarrier web admin: the effect of active wall-crossing exceptions on the matrix: a cell
 * that an active exception of two segments opens is marked, and says which and until when.
 */

import { api, h } from "../kit.js";

/** The active segment exceptions by "A|B" (both orders), or an empty map. */
export async function openedCells() {
  const found = new Map();
  let all = [];
  try {
    all = await api("GET", "/exceptions", undefined, { state: "approved" });
  } catch {
    return found; // a role that may not read exceptions sees the matrix without them
  }
  for (const e of all) {
    if (!e.active || !e.segments) continue;
    const [a, b] = e.segments.map((s) => s.toLowerCase());
    for (const key of [`${a}|${b}`, `${b}|${a}`]) {
      if (!found.has(key)) found.set(key, []);
      found.get(key).push(e);
    }
  }
  return found;
}

/** Mark the grid's blocked cells that an exception opens. */
export function markOpened(grid, opened) {
  grid.querySelectorAll("button.cell-block").forEach((button) => {
    const key = `${button.dataset.a.toLowerCase()}|${button.dataset.b.toLowerCase()}`;
    const found = opened.get(key);
    if (!found) return;
    const text = found.map((e) => `exception ${e.id} (${e.actions.join(", ")}) until ${e.end}`).join("; ");
    button.classList.add("cell-opened");
    button.dataset.exceptions = found.map((e) => e.id).join(" ");
    button.title = `${button.title} Opened by ${text}.`;
    button.append(h("span.opened-mark", { "aria-hidden": "true", text: "⇄" }));
    button.setAttribute("aria-label", `${button.getAttribute("aria-label")}; opened by an exception`);
  });
}

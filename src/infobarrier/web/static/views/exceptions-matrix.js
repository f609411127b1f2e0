/* infobarrier web admin: the effect of active wall-crossing exceptions on the matrix: a cell
 * that an active exception of two segments opens is marked, and says which and until when.
 */

import { api } from "../kit.js";

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

/** The exceptions that open the blocked cell of segments a and b, or null:
 * {ids: "id id", text: "exception … until …"}. */
export function openedNote(opened, a, b) {
  const found = opened.get(`${a.toLowerCase()}|${b.toLowerCase()}`);
  if (!found) return null;
  return {
    ids: found.map((e) => e.id).join(" "),
    text: found.map((e) => `exception ${e.id} (${e.actions.join(", ")}) until ${e.end}`).join("; "),
  };
}

/* infobarrier web admin: the what-if draft as data: policy bodies, what changed, and the API
 * calls that save a draft and apply it.
 */

import { ApplicationState } from "../../codes.js";
import { api } from "../kit.js";

export const POLICY_FIELDS = [
  "name",
  "assigned_segment",
  "segments_allowed",
  "segments_blocked",
  "state",
  "moderation_allowed",
  "comment",
];

export function policyBody(p) {
  const body = {};
  for (const key of POLICY_FIELDS) body[key] = p[key] === undefined ? null : p[key];
  body.comment = body.comment || "";
  body.moderation_allowed = !!body.moderation_allowed;
  return body;
}

export const fold = (s) => String(s || "").toLowerCase();
export const sameList = (a, b) =>
  (a === null) === (b === null) &&
  JSON.stringify((a || []).map(fold).sort()) === JSON.stringify((b || []).map(fold).sort());

/** What differs between a saved policy and its draft: "" when nothing. */
export function changeOf(saved, draft) {
  if (!saved) return "new";
  if (fold(saved.assigned_segment) !== fold(draft.assigned_segment)) return "changed";
  const same =
    sameList(saved.segments_allowed, draft.segments_allowed) &&
    sameList(saved.segments_blocked, draft.segments_blocked) &&
    saved.state === draft.state &&
    !!saved.moderation_allowed === !!draft.moderation_allowed &&
    (saved.comment || "") === (draft.comment || "");
  return same ? "" : "changed";
}


/** The API calls that make the saved policies into the draft, in an order the rules allow:
 * removals first (and policies that move to another segment), then updates, then creations.
 * Each step is { label, run }.
 */
export function planSteps(saved, draft) {
  const byName = new Map(saved.map((p) => [fold(p.name), p]));
  const steps = [];
  const draftNames = new Set(draft.map((p) => fold(p.name)));
  for (const p of saved) {
    const mine = draft.find((d) => fold(d.name) === fold(p.name));
    if (!draftNames.has(fold(p.name)) || (mine && fold(mine.assigned_segment) !== fold(p.assigned_segment))) {
      steps.push({ label: `remove ${p.name}`, run: () => api("DELETE", `/policies/${encodeURIComponent(p.name)}`) });
    }
  }
  for (const p of draft) {
    const old = byName.get(fold(p.name));
    const change = changeOf(old, p);
    if (change === "changed" && fold(old.assigned_segment) === fold(p.assigned_segment)) {
      const patch = { state: p.state, moderation_allowed: !!p.moderation_allowed, comment: p.comment || "" };
      if (p.segments_allowed) patch.segments_allowed = p.segments_allowed;
      if (p.segments_blocked) patch.segments_blocked = p.segments_blocked;
      steps.push({ label: `update ${p.name}`, run: () => api("PATCH", `/policies/${encodeURIComponent(p.name)}`, patch) });
    }
  }
  for (const p of draft) {
    const old = byName.get(fold(p.name));
    if (!old || fold(old.assigned_segment) !== fold(p.assigned_segment)) {
      steps.push({ label: `create ${p.name}`, run: () => api("POST", "/policies", policyBody(p)) });
    }
  }
  return steps;
}

/** Run the steps, then start an application and follow it to its end, reporting through
 * progress(percent, text). Resolves with the completed application; throws when a step
 * fails or the application does not complete.
 */
export async function saveAndApply(steps, progress) {
  const count = steps.length;
  for (const [n, step] of steps.entries()) {
    progress(Math.round((15 * n) / Math.max(count, 1)), `Saving policies: ${step.label} (${n + 1}/${count})`);
    await step.run();
  }
  progress(15, "Starting the application…");
  let app = await api("POST", "/applications");
  while (app.status === ApplicationState.IN_PROGRESS) {
    progress(15 + Math.round((85 * app.percent) / 100), `Application #${app.number}: ${app.percent}%`);
    await new Promise((resolve) => setTimeout(resolve, 250));
    app = await api("GET", `/applications/${app.id}`);
  }
  if (app.status !== ApplicationState.COMPLETED) {
    throw new Error(`application #${app.number} ${app.status.toLowerCase()}${app.error ? ": " + app.error : ""}`);
  }
  progress(100, `Application #${app.number} completed`);
  return app;
}

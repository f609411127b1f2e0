/* infobarrier web admin: Exceptions: the form to request one (exceptions-request.js), the
 * queue of requests to approve (with what approving would change), the active exceptions with
 * their remaining time, and the closed ones. Requesting, approving, rejecting and revoking need
 * an admin or compliance token issued to a person (`tokens create --for NAME`): the API
 * refuses the requester's own approval (four eyes).
 */

import { $, api, badge, code, confirmDialog, errorText, fill, flash, h, muted, table, when } from "../kit.js";
import { requestForm } from "./exceptions-request.js";

const DECIDERS = new Set(["admin", "compliance"]);

/** "3d 4h", "2h 5m", "4m 10s": how long until ``iso`` (nothing once it has passed). */
export function remaining(seconds) {
  if (seconds <= 0) return "";
  const d = Math.floor(seconds / 86400);
  const hrs = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (d) return `${d}d ${hrs}h`;
  if (hrs) return `${hrs}h ${m}m`;
  return `${m}m ${s}s`;
}

function scope(e) {
  return e.upns ? `${e.upns[0]} ↔ ${e.upns[1]}` : `segments ${e.segments[0]} ↔ ${e.segments[1]}`;
}

function stateBadge(e) {
  if (e.active) return badge("active", "allow");
  const kind = { requested: "info", approved: "warn", rejected: "muted", revoked: "block", expired: "muted" }[e.state];
  return badge(e.state, kind);
}

async function act(path, body, done) {
  try {
    await api("POST", path, body);
    flash(done, "success");
  } catch (err) {
    flash(errorText(err), "error");
  }
  await load();
}

function whatIfCell(e) {
  const cell = h("span.exception-effect", { dataset: { exception: e.id } }, muted("…"));
  api("GET", `/exceptions/${encodeURIComponent(e.id)}/what-if`)
    .then((r) =>
      fill(
        cell,
        `${r.pairs_total} pair(s) flip to allowed; ${r.conversations_total} existing conversation(s) hold one`,
      ),
    )
    .catch((err) => fill(cell, muted(errorText(err))));
  return cell;
}

let ROLE = "auditor";
let timer = null;

async function load() {
  const all = await api("GET", "/exceptions");
  const can = DECIDERS.has(ROLE);
  const queue = all.filter((e) => e.state === "requested");
  const open = all.filter((e) => e.state === "approved");
  const closed = all.filter((e) => !["requested", "approved"].includes(e.state));
  fill(
    "#exceptions-queue",
    table(
      ["Scope", "Actions", "Window", "Justification", "Requested by", "If approved", ""],
      queue.map((e) => ({
        attrs: { dataset: { exception: e.id } },
        cells: [
          scope(e),
          e.actions.join(", "),
          `${when(e.start)} → ${when(e.end)}`,
          e.justification,
          e.requester,
          whatIfCell(e),
          can
            ? h(
                "span.row-actions",
                {},
                h("button.btn.btn-primary.exception-approve", {
                  type: "button",
                  text: "Approve",
                  onclick: () => act(`/exceptions/${encodeURIComponent(e.id)}/approve`, undefined, `Exception approved: ${scope(e)}`),
                }),
                h("button.btn.exception-reject", {
                  type: "button",
                  text: "Reject",
                  onclick: () => act(`/exceptions/${encodeURIComponent(e.id)}/reject`, { note: "" }, "Exception rejected"),
                }),
              )
            : muted("read only"),
        ],
      })),
      { id: "queue-table", caption: "Requests to approve", empty: "No request waits for approval." },
    ),
  );
  fill(
    "#exceptions-active",
    table(
      ["Scope", "Actions", "State", "Ends", "Remaining", "Approved by", ""],
      open.map((e) => ({
        attrs: { dataset: { exception: e.id } },
        cells: [
          scope(e),
          e.actions.join(", "),
          stateBadge(e),
          when(e.end),
          h("span.exception-remaining", { dataset: { end: e.end }, text: remaining(e.remaining_seconds) }),
          `${e.approver} (requested by ${e.requester})`,
          can
            ? h("button.btn.btn-danger.exception-revoke", {
                type: "button",
                text: "Revoke",
                onclick: async () => {
                  const ok = await confirmDialog(
                    "Revoke this exception?",
                    `${scope(e)} closes at once; conversations it opened are reconciled.`,
                    "Revoke",
                    true,
                  );
                  if (ok) await act(`/exceptions/${encodeURIComponent(e.id)}/revoke`, { note: "" }, "Exception revoked");
                },
              })
            : muted("read only"),
        ],
      })),
      { id: "active-table", caption: "Active and upcoming exceptions", empty: "No exception is approved." },
    ),
  );
  fill(
    "#exceptions-closed",
    table(
      ["Scope", "Actions", "State", "Ended", "By", "Id"],
      closed.map((e) => [
        scope(e),
        e.actions.join(", "),
        stateBadge(e),
        when(e.closed_at || e.end),
        e.closed_by || "—",
        code(e.id),
      ]),
      { id: "closed-table", caption: "Closed exceptions", empty: "None yet." },
    ),
  );
  fill("#exceptions-clock", `As of ${when(new Date().toISOString())}`);
}

/** Count the remaining time down every second (the list reloads when one ends). */
function tick() {
  let ended = false;
  document.querySelectorAll(".exception-remaining").forEach((el) => {
    const left = Math.round((new Date(el.dataset.end).getTime() - Date.now()) / 1000);
    el.textContent = remaining(left);
    if (left <= 0) ended = true;
  });
  if (ended) load().catch(() => {});
}

export async function initExceptions({ role }) {
  ROLE = role;
  fill(
    "#exceptions-person",
    DECIDERS.has(role)
      ? "Approving needs a token issued to a person other than the requester."
      : "This token may read exceptions but not decide them.",
  );
  fill(
    "#exceptions-request",
    DECIDERS.has(role) ? requestForm(() => load()) : muted("This token may read exceptions but not request them."),
  );
  await load();
  if (timer) clearInterval(timer);
  timer = setInterval(tick, 1000);
}

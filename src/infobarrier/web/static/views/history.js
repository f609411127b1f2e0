/* infobarrier web admin: Applications: the status history of policy applications. The audit
 * log (with each application's start and end) is the Audit page's (views/audit.js).
 */

import { ApplicationState } from "../../codes.js";
import { api, fill, h, muted, plural, statusBadge, table, total, when } from "../kit.js";

// -- applications --------------------------------------------------------------------------
export function changesText(report) {
  if (!report || !report.changes) return "";
  const c = report.changes;
  const parts = [];
  if (c.pairs_blocked && c.pairs_blocked.length) {
    parts.push(`${plural(total(c, "pairs_blocked"), "pair")} blocked`);
  }
  if (c.pairs_allowed && c.pairs_allowed.length) {
    parts.push(`${plural(total(c, "pairs_allowed"), "pair")} allowed`);
  }
  if (c.users_changed && c.users_changed.length) parts.push(plural(total(c, "users_changed"), "user") + " moved");
  const actions = report.reconciliation || [];
  if (actions.length) parts.push(plural(actions.length, "conversation change"));
  return parts.join(" · ") || "no change";
}

export async function initHistory() {
  const apps = await api("GET", "/applications", undefined, { brief: "true" });
  fill(
    "#applications",
    table(
      ["#", "Status", "Started", "Ended", "By", "Recipients", "Failed", "Epoch", "Changes"],
      apps.map((a) => ({
        attrs: { dataset: { application: a.number } },
        cells: [
          String(a.number),
          h("span", {}, statusBadge(a.status), a.status === ApplicationState.IN_PROGRESS ? ` ${a.percent}%` : ""),
          h("span.nowrap", { text: when(a.started) }),
          h("span.nowrap", { text: when(a.ended) }),
          h("code.nowrap", { text: a.actor }),
          String(a.total_recipients),
          String(a.failed_recipients),
          a.report && a.report.epoch ? `#${a.report.epoch}` : muted("—"),
          a.error ? h("span.bad", { text: a.error }) : changesText(a.report),
        ],
      })),
      { empty: "No application yet.", id: "applications-table" },
    ),
  );
}

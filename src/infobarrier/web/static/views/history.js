/* infobarrier web admin: Applications & audit: the status history, the audit log, the hash
 * chain check.
 */

import { ApplicationState } from "../../codes.js";
import {
  $,
  api,
  badge,
  errorText,
  fill,
  h,
  muted,
  plural,
  statusBadge,
  table,
  total,
  when,
} from "../kit.js";

// -- applications & audit ------------------------------------------------------------------
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

/** An entry's detail in a line: its reason if it has one, else its plain fields. */
export function detailText(detail) {
  const d = detail || {};
  const text =
    typeof d.reason === "string"
      ? d.reason
      : Object.entries(d)
          .filter(([, v]) => v !== null && v !== undefined && typeof v !== "object")
          .map(([k, v]) => `${k}=${v}`)
          .join("  ");
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
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

  const PAGE = 25;
  let entries = [];
  let shown = PAGE;
  const kinds = new Set();

  function toIso(local) {
    if (!local) return undefined;
    const date = new Date(local);
    return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
  }

  function render() {
    const newest = [...entries].reverse();
    const rows = newest.slice(0, shown).map((e) => ({
      attrs: { dataset: { seq: e.seq, kind: e.kind } },
      cells: [
        String(e.seq),
        h("span.nowrap", { text: when(e.at) }),
        h("code.nowrap", { text: e.actor }),
        badge(e.kind, e.kind.includes("refused") || e.kind.startsWith("reconciliation") ? "warn" : "muted"),
        h(
          "div.detail",
          {},
          h("span", { text: detailText(e.detail) }),
          h(
            "details",
            {},
            h("summary", { text: "JSON" }),
            h("pre", { text: JSON.stringify(e.detail, null, 2) }),
          ),
        ),
        h("code.hash", { title: e.hash, text: e.hash.slice(0, 12) }),
      ],
    }));
    fill(
      "#audit",
      h("p.muted#audit-count", {
        text: `${plural(entries.length, "entry", "entries")}, newest first`,
      }),
      table(["#", "At", "Actor", "Kind", "Detail", "Hash"], rows, {
        empty: "No entry matches.",
        id: "audit-table",
      }),
      newest.length > shown
        ? h("button.btn#audit-more", {
            type: "button",
            text: `Show ${Math.min(PAGE, newest.length - shown)} more`,
            onclick: () => {
              shown += PAGE;
              render();
            },
          })
        : null,
    );
  }

  async function load() {
    const kind = $("#audit-kind").value.trim();
    try {
      entries = await api("GET", "/audit", undefined, {
        kind: kind || undefined,
        actor: $("#audit-actor").value.trim() || undefined,
        since: toIso($("#audit-since").value),
        until: toIso($("#audit-until").value),
      });
      shown = PAGE;
      for (const e of entries) kinds.add(e.kind);
      fill(
        "#audit-kinds",
        [...kinds].sort().map((k) => h("option", { value: k })),
      );
      render();
    } catch (err) {
      fill("#audit", h("div.notice.notice-error", { text: errorText(err) }));
    }
  }

  $("#audit-filters").addEventListener("submit", (e) => {
    e.preventDefault();
    load();
  });
  $("#audit-filters").addEventListener("reset", () => setTimeout(load, 0));
  $("#audit-verify").addEventListener("click", async () => {
    try {
      const result = await api("GET", "/audit/verify");
      fill(
        "#chain-status",
        result.intact
          ? h("div.notice.notice-ok#chain-result", {
              text: `✓ The hash chain is intact: ${plural(result.entries, "entry", "entries")} checked.`,
            })
          : h("div.notice.notice-error#chain-result", {
              text: `✕ The chain is broken at entry #${result.first_broken}: ${result.reason}`,
            }),
      );
    } catch (err) {
      fill("#chain-status", h("div.notice.notice-error", { text: errorText(err) }));
    }
  });
  await load();
}

/* infobarrier web admin: Audit: the tamper-evident log (semantics §9) by page, newest first,
 * with the actor's name (the person a token was issued to), each change as a before/after
 * diff, a picker of kinds, a time range in the viewer's time zone, export to CSV and JSON
 * lines (written by the server, streamed), and the hash chain check.
 */

import { $, badge, errorText, fill, h, muted, plural, table, when } from "../kit.js";
import { download, getJson, latestOnly, pager } from "../fields.js";

const PAGE = 25;
const CREATES = /\.(created|added|saved|imported|assigned|assigned_many|purchased|requested|started|approved|loaded|joined|invited|shared)$/u;
const REMOVES = /\.(removed|deleted|revoked|unassigned|unassigned_many|expired|stopped|rejected)$/u;

function scalarsOnly(detail, drop = []) {
  const out = {};
  for (const [k, v] of Object.entries(detail || {})) {
    if (!drop.includes(k) && v !== null && v !== undefined) out[k] = v;
  }
  return out;
}

/**
 * An entry's change as {before, after} objects (null: the earlier state is not recorded):
 * updates record `before` (and `after` or `changes`), creations have no before, removals
 * no after.
 */
export function diffOf(kind, detail) {
  const d = detail || {};
  if ("before" in d) {
    const key = kind.split(".").pop();
    const wrap = (v) => (v !== null && typeof v === "object" && !Array.isArray(v) ? v : { [key]: v });
    if ("after" in d) return { before: wrap(d.before), after: wrap(d.after) };
    if (d.changes && typeof d.changes === "object") {
      return { before: wrap(d.before), after: d.changes };
    }
    const after = REMOVES.test(kind) ? {} : scalarsOnly(d, ["before"]);
    return { before: wrap(d.before), after };
  }
  if (CREATES.test(kind)) return { before: {}, after: scalarsOnly(d) };
  if (REMOVES.test(kind)) return { before: scalarsOnly(d), after: {} };
  return { before: null, after: scalarsOnly(d) };
}

function show(value) {
  if (value === undefined) return muted("—");
  if (value === null) return muted("null");
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function diffTable(kind, detail) {
  const { before, after } = diffOf(kind, detail);
  const keys = [...new Set([...Object.keys(before || {}), ...Object.keys(after)])];
  if (!keys.length) return muted("no detail");
  return h(
    "table.diff",
    {},
    h(
      "thead",
      {},
      h("tr", {}, h("th", { scope: "col", text: "Field" }), h("th", { scope: "col", text: "Before" }), h("th", { scope: "col", text: "After" })),
    ),
    h(
      "tbody",
      {},
      keys.map((k) => {
        const b = before ? before[k] : undefined;
        const a = after[k];
        const changed = JSON.stringify(b) !== JSON.stringify(a);
        return h(
          "tr",
          { dataset: { field: k, changed: String(changed) } },
          h("th", { scope: "row", text: k }),
          h("td.diff-before", {}, before === null ? muted("not recorded") : show(b)),
          h("td.diff-after", {}, show(a)),
        );
      }),
    ),
  );
}

/** A local "YYYY-MM-DDTHH:MM" (a datetime-local value, the viewer's zone) as ISO UTC. */
export function toIso(local) {
  if (!local) return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

export async function initAudit({ admin }) {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "local time";
  const latest = latestOnly();
  let offset = 0;
  const kinds = h("select#audit-kinds", { multiple: true, size: 6, "aria-describedby": "audit-kinds-hint" });
  const actorInput = h("input#audit-actor", { type: "text", placeholder: "a person or token:…" });
  const since = h("input#audit-since", { type: "datetime-local" });
  const until = h("input#audit-until", { type: "datetime-local" });
  const list = h("div#audit-list", { "aria-live": "polite" });
  const status = h("p.muted#audit-export-status", { role: "status" });
  const chain = h("div#chain-status", { "aria-live": "polite" });

  function filters() {
    return {
      kind: [...kinds.selectedOptions].map((o) => o.value),
      actor: actorInput.value.trim() || undefined,
      since: toIso(since.value),
      until: toIso(until.value),
    };
  }

  async function load() {
    try {
      const page = await latest((signal) =>
        getJson("/audit/page", { ...filters(), offset, limit: PAGE }, signal),
      );
      if (!page) return;
      fill(
        list,
        h("p.muted#audit-count", { text: `${plural(page.total, "entry", "entries")}, newest first` }),
        h(
          "div.table-scroll",
          {},
          table(
            ["#", `At (${zone})`, "Actor", "Kind", "Change"],
            page.items.map((e) => ({
              attrs: { dataset: { seq: e.seq, kind: e.kind } },
              cells: [
                String(e.seq),
                h("span.nowrap", { text: when(e.at) }),
                h(
                  "span.actor",
                  {},
                  e.actor_name ? h("strong", { text: e.actor_name }) : null,
                  e.actor_name ? h("br") : null,
                  muted(e.actor),
                ),
                badge(e.kind, e.kind.includes("refused") ? "warn" : "muted"),
                diffTable(e.kind, e.detail),
              ],
            })),
            { id: "audit-table", caption: "Audit entries", empty: "No entry matches." },
          ),
        ),
        pager("Audit", page.total, offset, PAGE, page.items.length, (next) => {
          offset = next;
          load();
        }),
      );
    } catch (err) {
      fill(list, h("div.notice.notice-error", { text: errorText(err) }));
    }
  }

  async function exportAs(format) {
    const tenant = $("#session-tenant").textContent;
    const name = `${tenant}-audit.${format}`;
    try {
      const size = await download("/audit/export", { ...filters(), format }, name);
      fill(status, `Downloaded ${name} (${size.toLocaleString("en-US")} bytes).`);
    } catch (err) {
      fill(status, h("span.bad", { text: errorText(err) }));
    }
  }

  const form = h(
    "form.filters#audit-filters",
    { novalidate: true, autocomplete: "off", "aria-label": "Filter the audit log" },
    h(
      "div.field",
      {},
      h("label", { for: "audit-kinds", text: "Kinds" }),
      kinds,
      h("p.field-hint#audit-kinds-hint", { text: "None selected: every kind. Ctrl/⌘-click picks several." }),
    ),
    h("div.field", {}, h("label", { for: "audit-actor", text: "Actor" }), actorInput),
    h("div.field", {}, h("label", { for: "audit-since", text: `Since (${zone})` }), since),
    h("div.field", {}, h("label", { for: "audit-until", text: `Until (${zone})` }), until),
    h(
      "div.field.field-submit",
      {},
      h("button.btn.btn-primary#audit-apply", { type: "submit", text: "Filter" }),
      h("button.btn#audit-reset", { type: "reset", text: "Reset" }),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    offset = 0;
    load();
  });
  form.addEventListener("reset", () =>
    setTimeout(() => {
      offset = 0;
      load();
    }, 0),
  );

  fill(
    "#audit-view",
    h(
      "section.panel",
      { "aria-labelledby": "audit-title" },
      h(
        "div.panel-head",
        {},
        h("h2#audit-title", { text: "Audit log" }),
        h(
          "div.toolbar",
          {},
          h("button.btn#audit-export-csv", { type: "button", text: "Export CSV", onclick: () => exportAs("csv") }),
          h("button.btn#audit-export-jsonl", {
            type: "button",
            text: "Export JSON lines",
            onclick: () => exportAs("jsonl"),
          }),
          h("button.btn#audit-verify-chain", {
            type: "button",
            text: "Verify chain",
            onclick: async () => {
              try {
                const r = await getJson("/audit/verify");
                fill(
                  chain,
                  r.intact
                    ? h("div.notice.notice-ok", { text: `✓ The hash chain is intact: ${plural(r.entries, "entry", "entries")} checked.` })
                    : h("div.notice.notice-error", { text: `✕ The chain is broken at entry #${r.first_broken}: ${r.reason}` }),
                );
              } catch (err) {
                fill(chain, h("div.notice.notice-error", { text: errorText(err) }));
              }
            },
          }),
        ),
      ),
      h(
        "p.panel-note",
        {},
        "Every change, who made it (the person a token was issued to) and what it was before and after. " +
          "Exports hold the entries that match the filter, oldest first.",
      ),
      chain,
      status,
      form,
      list,
    ),
  );
  const known = await getJson("/audit/kinds");
  fill(kinds, known.map((k) => h("option", { value: k, text: k })));
  await load();
  void admin;
}

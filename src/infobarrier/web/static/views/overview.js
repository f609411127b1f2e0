/* infobarrier web admin: Overview: mode, users, conflicts, the epoch in force, licensing
 * findings.
 */

import { $, api, code, fill, h, muted, plural, statusBadge, table, when } from "../kit.js";

// -- overview -----------------------------------------------------------------------------
export function card(label, value, sub, kind) {
  return h(
    `div.card${kind ? ".card-" + kind : ""}`,
    { dataset: { card: label } },
    h("div.card-label", { text: label }),
    h(`div.card-value${/^[#\d]/.test(value) ? "" : ".card-text"}`, { text: value }),
    sub ? h("div.card-sub", { text: sub }) : null,
  );
}

export async function initOverview() {
  const data = await api("GET", "/overview");
  const last = data.last_application;
  fill(
    "#overview-cards",
    card(
      "Mode",
      data.mode,
      `People search restriction ${data.people_search_restriction ? "Enabled" : "Disabled"}`,
    ),
    card(
      "Users",
      String(data.users.total),
      `${data.users.enabled} enabled · ${plural(data.users.service_accounts, "service account")}`,
    ),
    card(
      "Segmented",
      String(data.segmented),
      `in ${plural(data.applied.segments.length, "segment")}`,
    ),
    card("Unsegmented", String(data.unsegmented), "in no segment"),
    card(
      "Active policies",
      String(data.applied.active_policies),
      `in force · ${data.defined.policies} defined, ${data.defined.active_policies} Active`,
    ),
    card(
      "Conflicts",
      String(data.conflicts.length),
      data.conflicts.length ? "IBPolicyConflict: blocked until fixed" : "none",
      data.conflicts.length ? "bad" : "good",
    ),
    card(
      "Epoch in force",
      data.epoch ? `#${data.epoch}` : "none",
      last ? `application #${last.number} ${last.status.toLowerCase()}` : "never applied",
    ),
    card(
      "Licensing findings",
      String(data.findings.length),
      data.findings.length ? "need a license" : "all licensed",
      data.findings.length ? "warn" : "good",
    ),
  );
  $("#overview-pending").hidden = !data.pending_changes;
  if (last) {
    fill(
      "#overview-last-app",
      h(
        "dl.facts",
        {},
        h("dt", { text: "Application" }),
        h("dd", {}, `#${last.number} `, statusBadge(last.status)),
        h("dt", { text: "Started" }),
        h("dd", { text: when(last.started) }),
        h("dt", { text: "Ended" }),
        h("dd", { text: when(last.ended) }),
        h("dt", { text: "By" }),
        h("dd", {}, code(last.actor)),
        h("dt", { text: "Recipients" }),
        h("dd", { text: `${last.total_recipients} (${last.failed_recipients} failed)` }),
        last.error ? h("dt", { text: "Error" }) : null,
        last.error ? h("dd", { text: last.error }) : null,
      ),
    );
  } else {
    fill("#overview-last-app", h("p.empty", { text: "No application yet." }));
  }
  fill(
    "#overview-segments",
    table(
      ["Segment", "Users", "Policy"],
      data.applied.segments.map((s) => [s.name, String(s.users), s.policy || muted("none")]),
      { empty: "No segment is in force." },
    ),
  );
  fill(
    "#overview-findings",
    data.findings.length
      ? table(
          ["User", "Missing", "Finding"],
          data.findings.map((f) => [f.upn, code(f.plan), f.message]),
          { id: "findings-table" },
        )
      : h("p.ok", {
          text:
            "No findings: every segmented user holds INFORMATION_BARRIERS and Exchange, " +
            "and every service account Remote Assist.",
        }),
  );
  fill(
    "#overview-conflicts",
    data.conflicts.length
      ? table(
          ["User", "Matches segments"],
          data.conflicts.map((c) => [c.upn, c.segments.join(", ")]),
        )
      : h("p.ok", { text: "No user is in IBPolicyConflict." }),
  );
}

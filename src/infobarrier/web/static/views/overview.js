/* infobarrier web admin: Overview: mode, users, conflicts, the epoch in force, licensing
 * findings.
 */

import { $, aborted, api, code, fill, h, muted, plural, statusBadge, table, when } from "../kit.js";

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
      String(data.conflicts_total),
      data.conflicts_total ? "IBPolicyConflict: blocked until fixed" : "none",
      data.conflicts_total ? "bad" : "good",
    ),
    card(
      "Epoch in force",
      data.epoch ? `#${data.epoch}` : "none",
      last ? `application #${last.number} ${last.status.toLowerCase()}` : "never applied",
    ),
    card(
      "Licensing findings",
      String(data.findings_total),
      data.findings_total ? "need a license" : "all licensed",
      data.findings_total ? "warn" : "good",
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
  if (data.findings_total) {
    showFindings(data.findings, 0, data.findings_total);
  } else {
    fill(
      "#overview-findings",
      h("p.ok", {
        text:
          "No findings: every segmented user holds INFORMATION_BARRIERS and Exchange, " +
          "and every service account Remote Assist.",
      }),
    );
  }
  fill(
    "#overview-conflicts",
    data.conflicts_total
      ? [
          table(
            ["User", "Matches segments"],
            data.conflicts.map((c) => [c.upn, c.segments.join(", ")]),
          ),
          data.conflicts_total > data.conflicts.length
            ? h("p.muted", {
                text: `The first ${data.conflicts.length} of ${data.conflicts_total} users in conflict.`,
              })
            : null,
        ]
      : h("p.ok", { text: "No user is in IBPolicyConflict." }),
  );
}

const FINDINGS_PAGE = 100;
let findingsRequest = null;

/** One page of the licensing findings, and a pager: the server counts them all and sends
 * only the page shown (100,000 findings are never shipped to the page). */
function showFindings(findings, offset, total) {
  const go = async (next) => {
    if (findingsRequest) findingsRequest.abort();
    findingsRequest = new AbortController();
    try {
      const page = await api("GET", "/findings", undefined, { offset: next, limit: FINDINGS_PAGE }, {
        signal: findingsRequest.signal,
      });
      showFindings(page.findings, page.offset, page.total);
    } catch (err) {
      if (!aborted(err)) throw err;
    }
  };
  const last = offset + findings.length;
  fill(
    "#overview-findings",
    table(
      ["User", "Missing", "Finding", "Fix"],
      findings.map((f) => [
        f.upn,
        code(f.plan),
        f.message,
        // The fix: the Licensing page with this user and the license that holds the plan.
        h("a", {
          href: `/web/licensing?${new URLSearchParams({ upn: f.upn, plan: f.plan })}`,
          text: "Assign a license",
          "aria-label": `Assign ${f.upn} a license with ${f.plan}`,
        }),
      ]),
      { id: "findings-table" },
    ),
    total > findings.length
      ? h(
          "nav.pager",
          { "aria-label": "Licensing findings pages" },
          h("button.btn.btn-small", {
            type: "button",
            text: "Previous",
            disabled: offset === 0,
            onclick: () => go(Math.max(0, offset - FINDINGS_PAGE)),
          }),
          h("span#findings-range", { text: `${offset + 1}–${last} of ${total}` }),
          h("button.btn.btn-small", {
            type: "button",
            text: "Next",
            disabled: last >= total,
            onclick: () => go(last),
          }),
        )
      : null,
  );
}

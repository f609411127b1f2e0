/* infobarrier web admin: the what-if preview, rendered from POST /what-if's answer. */

import { capitalise, fill, h, muted, plural, table, total, verdictBadge } from "../kit.js";

function section(title, id, content, count) {
  return h(
    "section.preview-section",
    { id, "aria-label": title },
    h("h3", {}, title, count === undefined ? null : h("span.count", { text: String(count) })),
    content,
  );
}

const ACTION_TEXT = {
  chat_read_only: "becomes read-only",
  chat_participant_removed: "loses a participant",
  team_member_removed: "loses a member",
  team_owner_removed: "loses an owner",
  meeting_invitee_removed: "loses an invitee",
  meeting_organizer_removed: "loses its organizer",
  call_ended: "ends",
};

/** Licensing findings drawn in a preview: at 100,000 users without licenses every
 * segmented user is one, and a page holding tens of thousands of lines took seconds to
 * leave (the next page waited for it). */
export const FINDINGS_SHOWN = 100;

/** The preview of a what-if answer: summary chips, then each list that changes. */
export function renderPreview(p) {
  const conversations = p.reconciliation || [];
  const nothing =
    !p.pairs_blocked.length &&
    !p.pairs_allowed.length &&
    !p.users_changed.length &&
    !p.new_conflicts.length &&
    !p.resolved_conflicts.length &&
    !conversations.length;
  fill("#preview-status", `Compared with the epoch in force · ${p.total_recipients} users`);
  const chips = h(
    "ul.chips#preview-summary",
    { "aria-label": "Summary" },
    h("li.chip.chip-block", { text: `${plural(total(p, "pairs_blocked"), "pair")} blocked` }),
    h("li.chip.chip-allow", { text: `${plural(total(p, "pairs_allowed"), "pair")} allowed` }),
    h("li.chip", { text: plural(total(p, "users_changed"), "user") + " change segments" }),
    h("li.chip" + (p.new_conflicts.length ? ".chip-block" : ""), {
      text: plural(total(p, "new_conflicts"), "new conflict"),
    }),
    h("li.chip" + (conversations.length ? ".chip-warn" : ""), {
      text: plural(conversations.length, "conversation change"),
    }),
  );
  const pairRows = [
    ...p.pairs_blocked.map((x) => [x.a, x.b, verdictBadge(false), capitalise(x.reason)]),
    ...p.pairs_allowed.map((x) => [x.a, x.b, verdictBadge(true), capitalise(x.reason)]),
  ];
  const warnings =
    p.warnings && p.warnings.length
      ? h(
          "div.notice.notice-warn#preview-warnings",
          {},
          p.warnings.map((w) => h("div", { text: `⚠ ${w}` })),
        )
      : null;
  if (nothing) {
    fill(
      "#preview",
      chips,
      warnings,
      h("p.ok#preview-nothing", {
        text: "Applying the draft would change nothing that is in force.",
      }),
    );
    return;
  }
  fill(
    "#preview",
    chips,
    warnings,
    section(
      "Existing conversations affected",
      "preview-conversations",
      table(
        ["Conversation", "What happens", "User", "Why"],
        conversations.map((a) => [
          h("span.object", { text: a.object_label || a.object_id }),
          ACTION_TEXT[a.kind] || a.kind,
          a.upn || muted("—"),
          capitalise(a.reason),
        ]),
        { empty: "No existing chat, team, meeting or call would change." },
      ),
      conversations.length,
    ),
    section(
      "Segment pairs that change",
      "preview-pairs",
      table(["Segment", "Segment", "Becomes", "Why"], pairRows, {
        empty: "No pair of segments changes.",
      }),
      pairRows.length,
    ),
    section(
      "Users whose segments change",
      "preview-users",
      table(
        ["User", "Before", "After"],
        p.users_changed.map((u) => [
          u.upn,
          u.before.join(", ") || muted("(none)"),
          u.after.join(", ") || muted("(none)"),
        ]),
        { empty: "No user changes segments." },
      ),
      p.users_changed.length,
    ),
    section(
      "New conflicts",
      "preview-conflicts",
      table(
        ["User", "Matches segments"],
        p.new_conflicts.map((c) => [c.upn, c.segments.join(", ")]),
        {
          empty: p.resolved_conflicts.length
            ? `No new conflict; resolved: ${p.resolved_conflicts.join(", ")}`
            : "No new conflict.",
        },
      ),
      p.new_conflicts.length,
    ),
    p.findings.length
      ? section(
          "Licensing findings after apply",
          "preview-findings",
          [
            h(
              "ul.plain",
              {},
              p.findings.slice(0, FINDINGS_SHOWN).map((f) => h("li", { text: f })),
            ),
            total(p, "findings") > FINDINGS_SHOWN
              ? h(
                  "p.muted#preview-findings-more",
                  {},
                  `The first ${FINDINGS_SHOWN} of ${total(p, "findings").toLocaleString("en")}; `,
                  h("a", { href: "/web/licensing", text: "Licensing" }),
                  " lists the findings in force.",
                )
              : null,
          ],
          total(p, "findings"),
        )
      : null,
  );
}

/* infobarrier web admin: a segment's filter and members, paged on the server. */

import { $, api, badge, code, fill, h, muted, plural } from "../kit.js";

const PAGE = 50;

export async function initSegment() {
  const name = new URLSearchParams(location.hash.slice(1)).get("name") || "";
  let offset = 0;
  let sequence = 0;
  async function load() {
    const mine = ++sequence;
    const data = await api("GET", `/segments/${encodeURIComponent(name)}/members`, undefined, {
      offset,
      limit: PAGE,
    });
    if (mine !== sequence) return; // a newer page was asked for meanwhile
    fill("#segment-title", `Segment ${data.segment}`);
    fill(
      "#segment-facts",
      h(
        "dl.facts",
        {},
        h("dt", { text: "Filter" }),
        h("dd", {}, code(data.filter)),
        h("dt", { text: "Members from" }),
        h("dd", {
          text: data.applied
            ? "the epoch in force"
            : "its filter over today's directory (not applied yet)",
        }),
      ),
    );
    fill("#members-count", plural(data.total, "member"));
    fill(
      "#segment-members",
      data.members.length
        ? h(
            "table.data#members-table",
            {},
            h("caption.visually-hidden", { text: `Members of ${data.segment}` }),
            h(
              "thead",
              {},
              h("tr", {}, ["Name", "UPN", "Kind", "Account"].map((c) => h("th", { scope: "col", text: c }))),
            ),
            h(
              "tbody",
              {},
              data.members.map((u) =>
                h(
                  "tr",
                  { dataset: { upn: u.upn } },
                  h("td", { "data-label": "Name", text: u.display_name }),
                  h(
                    "td",
                    { "data-label": "UPN" },
                    h("a", { href: `/web/people#upn=${encodeURIComponent(u.upn)}`, text: u.upn }),
                  ),
                  h("td", { "data-label": "Kind", text: u.kind === "service_account" ? "service account" : "person" }),
                  h("td", { "data-label": "Account" }, u.account_enabled ? badge("enabled", "allow") : badge("disabled", "block")),
                ),
              ),
            ),
          )
        : muted("No member."),
    );
    const last = Math.min(data.total, offset + data.members.length);
    fill(
      "#members-pager",
      h("button.btn#members-prev", {
        type: "button",
        text: "Previous",
        disabled: offset === 0,
        onclick: () => {
          offset = Math.max(0, offset - PAGE);
          load();
        },
      }),
      h("span.muted", { text: ` ${data.total ? offset + 1 : 0}–${last} of ${data.total} ` }),
      h("button.btn#members-next", {
        type: "button",
        text: "Next",
        disabled: last >= data.total,
        onclick: () => {
          offset += PAGE;
          load();
        },
      }),
    );
  }
  if (!name) {
    fill("#segment-facts", muted("No segment named: open one from a person's page or the segments page."));
    return;
  }
  await load();
}

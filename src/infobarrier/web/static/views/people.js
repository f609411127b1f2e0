/* infobarrier web admin: a person's page: attributes, groups, segments and the filter
 * comparisons that put them there, policies, and whom they can and cannot reach (one row
 * per set of segments, paged on the server), with suggested fixes. */

import { $, api, badge, capitalise, code, errorText, fill, h, muted, plural } from "../kit.js";
import { userPicker } from "./explain.js";

const PAGE = 25;

function segmentLink(name) {
  if (name === "(none)") return muted("(no segment)");
  return h("a", { href: `/web/segment#name=${encodeURIComponent(name)}`, text: name });
}

/** What puts a user in a segment: each comparison that holds, with their values. */
export function causeText(c) {
  if (c.groups.length) return `member of group ${c.groups.join(", ")}`;
  if (c.values.length) return `${c.attribute} is ${c.values.join(", ")}`;
  return c.comparison;
}

export function segmentsTable(segments, caption) {
  if (!segments.length) return muted("In no segment.");
  return h(
    "table.data.segments-of",
    {},
    h("caption.visually-hidden", { text: caption }),
    h(
      "thead",
      {},
      h("tr", {}, ["Segment", "Filter", "Because", "Policy"].map((c) => h("th", { scope: "col", text: c }))),
    ),
    h(
      "tbody",
      {},
      segments.map((s) =>
        h(
          "tr",
          { dataset: { segment: s.name } },
          h("td", { "data-label": "Segment" }, segmentLink(s.name)),
          h("td", { "data-label": "Filter" }, code(s.filter)),
          h(
            "td.cause",
            { "data-label": "Because" },
            s.causes.length
              ? h("ul.plain", {}, s.causes.map((c) => h("li", {}, code(c.comparison), " — ", causeText(c))))
              : muted("—"),
          ),
          h(
            "td",
            { "data-label": "Policy" },
            s.policy
              ? [
                  h("strong", { text: s.policy.name }),
                  ` ${s.policy.kind === "allow" ? "allows only" : "blocks"}: ${s.policy.segments.join(", ")}`,
                ]
              : muted("no applied policy"),
          ),
        ),
      ),
    ),
  );
}

export async function initPeople() {
  const input = $("#person-q");
  userPicker(input, $("#person-q-list"));
  const error = $("#person-error");
  let sequence = 0;
  let offset = 0;

  async function reach(upn) {
    const mine = sequence;
    const data = await api("GET", `/people/${encodeURIComponent(upn)}/reach`, undefined, {
      offset,
      limit: PAGE,
    });
    if (mine !== sequence) return;
    const last = offset + data.rows.length;
    fill(
      "#person-reach",
      h(
        "table.data#reach-table",
        {},
        h("caption.visually-hidden", { text: `Whom ${upn} can and cannot reach` }),
        h(
          "thead",
          {},
          h("tr", {}, ["Users in", "Users", "Verdict", "Why"].map((c) => h("th", { scope: "col", text: c }))),
        ),
        h(
          "tbody",
          {},
          data.rows.map((r) =>
            h(
              "tr",
              { dataset: { allowed: String(r.allowed), segments: r.segments.join(",") } },
              h("td", { "data-label": "Users in" }, r.segments.map((s, k) => [k ? ", " : "", segmentLink(s)])),
              h("td", { "data-label": "Users", text: String(r.users) }),
              h("td", { "data-label": "Verdict" }, r.allowed ? badge("✓ can reach", "allow") : badge("✕ cannot reach", "block")),
              h("td", { "data-label": "Why", text: capitalise(r.reason) }),
            ),
          ),
        ),
      ),
      h(
        "div.pager",
        {},
        h("button.btn#reach-prev", {
          type: "button",
          text: "Previous",
          disabled: offset === 0,
          onclick: () => {
            offset = Math.max(0, offset - PAGE);
            reach(upn);
          },
        }),
        h("span.muted", { text: ` rows ${data.total ? offset + 1 : 0}–${last} of ${data.total} ` }),
        h("button.btn#reach-next", {
          type: "button",
          text: "Next",
          disabled: last >= data.total,
          onclick: () => {
            offset += PAGE;
            reach(upn);
          },
        }),
      ),
    );
  }

  async function load(upn) {
    error.textContent = "";
    const mine = ++sequence;
    offset = 0;
    try {
      const p = await api("GET", `/people/${encodeURIComponent(upn)}`);
      if (mine !== sequence) return;
      history.replaceState(null, "", `#${new URLSearchParams({ upn: p.upn })}`);
      const attrs = Object.entries(p.attributes);
      fill(
        "#person",
        h(
          "section.panel#person-card",
          { "aria-labelledby": "person-name" },
          h("h2#person-name", { text: p.display_name }),
          h(
            "dl.facts",
            {},
            h("dt", { text: "UPN" }),
            h("dd", {}, code(p.upn)),
            h("dt", { text: "Kind" }),
            h("dd", {
              text: p.kind === "service_account" ? `service account of ${p.company || "?"}` : "person",
            }),
            p.sponsor ? [h("dt", { text: "Sponsor" }), h("dd", {}, code(p.sponsor))] : null,
            h("dt", { text: "Account" }),
            h("dd", {}, p.account_enabled ? badge("enabled", "allow") : badge("disabled", "block")),
            h("dt", { text: "Groups" }),
            h("dd#person-groups", {}, p.groups.length ? p.groups.join(", ") : muted("none")),
            h("dt", { text: "Reach" }),
            h("dd#person-reach-summary", {
              text:
                `can reach ${plural(p.reach.reachable, "user")}, ` +
                `cannot reach ${plural(p.reach.unreachable, "user")}`,
            }),
          ),
          p.errors.length
            ? h("div.notice.notice-error#person-errors", { role: "status" }, p.errors.join("; "))
            : null,
          p.fixes.length
            ? h(
                "div.notice.notice-warn#person-fixes",
                {},
                h("strong", { text: "Suggested fix: " }),
                h("ul.plain", {}, p.fixes.map((f) => h("li", { text: capitalise(f) }))),
              )
            : null,
        ),
        h(
          "section.panel",
          { "aria-labelledby": "person-segments-title" },
          h("h2#person-segments-title", { text: "Segments, and which filter put them there" }),
          h("div.table-scroll#person-segments", {}, segmentsTable(p.segments, `Segments of ${p.upn}`)),
        ),
        h(
          "section.panel",
          { "aria-labelledby": "person-attrs-title" },
          h("h2#person-attrs-title", { text: "Attributes" }),
          attrs.length
            ? h(
                "dl.facts#person-attributes",
                {},
                attrs.map(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })]),
              )
            : muted("No attribute set."),
        ),
        h(
          "section.panel",
          { "aria-labelledby": "person-reach-title" },
          h("h2#person-reach-title", { text: "Whom they can and cannot reach" }),
          h("p.muted", {
            text:
              "One row per set of segments, blocked first, under the epoch in force; " +
              "wall-crossing exceptions between two people are not counted here (Explain shows them).",
          }),
          h("div.table-scroll#person-reach"),
        ),
      );
      await reach(p.upn);
    } catch (err) {
      if (mine === sequence) {
        fill("#person");
        error.textContent = errorText(err);
      }
    }
  }

  input.addEventListener("picked", (e) => load(e.detail.upn));
  $("#person-form").addEventListener("submit", (e) => {
    e.preventDefault();
    if (input.value.trim()) load(input.value.trim());
  });
  const upn = new URLSearchParams(location.hash.slice(1)).get("upn");
  if (upn) {
    input.value = upn;
    await load(upn);
  }
}

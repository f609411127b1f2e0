/* infobarrier web admin: Explain: two users and an action, the verdict and why. */

import {
  $,
  api,
  badge,
  capitalise,
  code,
  debounce,
  errorText,
  fill,
  h,
  muted,
  verdictBadge,
} from "../kit.js";
import { segmentsTable } from "./people.js";

// -- explain ------------------------------------------------------------------------------
export function userPicker(input, list) {
  let options = [];
  let active = -1;
  let sequence = 0;
  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const choose = (user) => {
    input.value = user.upn;
    close();
    input.dispatchEvent(new CustomEvent("picked", { detail: user }));
  };
  const mark = () => {
    [...list.children].forEach((li, k) => li.setAttribute("aria-selected", String(k === active)));
    if (active >= 0) input.setAttribute("aria-activedescendant", list.children[active].id);
  };
  const search = debounce(async () => {
    const q = input.value.trim();
    const mine = ++sequence;
    if (!q) {
      close();
      return;
    }
    try {
      const data = await api("GET", "/user-lookup", undefined, { q, limit: 8 });
      if (mine !== sequence) return;
      options = data.results;
      fill(
        list,
        options.length
          ? options.map((u, k) =>
              h(
                "li.picker-option",
                {
                  id: `${list.id}-${k}`,
                  role: "option",
                  "aria-selected": "false",
                  dataset: { upn: u.upn },
                  onmousedown: (e) => {
                    e.preventDefault();
                    choose(u);
                  },
                },
                h("span.picker-name", { text: u.display_name }),
                h("span.picker-upn", { text: u.upn }),
                u.kind === "service_account" ? badge("service account", "muted") : null,
                u.account_enabled ? null : badge("disabled", "block"),
              ),
            )
          : h("li.picker-empty", { text: "No user matches" }),
      );
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
    } catch {
      close();
    }
  }, 150);
  input.addEventListener("input", search);
  input.addEventListener("blur", () => setTimeout(close, 100));
  input.addEventListener("keydown", (e) => {
    if (list.hidden || !options.length) return;
    if (e.key === "ArrowDown") {
      active = Math.min(active + 1, options.length - 1);
      mark();
      e.preventDefault();
    } else if (e.key === "ArrowUp") {
      active = Math.max(active - 1, 0);
      mark();
      e.preventDefault();
    } else if (e.key === "Enter" && active >= 0) {
      choose(options[active]);
      e.preventDefault();
    } else if (e.key === "Escape") {
      close();
    }
  });
}

export function userCard(u, title) {
  return h(
    "section.panel.user-card",
    { "aria-label": `${title} user` },
    h("h3", {}, h("span.muted", { text: `${title} · ` }), u.display_name),
    h(
      "dl.facts",
      {},
      h("dt", { text: "UPN" }),
      h("dd", {}, code(u.upn)),
      h("dt", { text: "Kind" }),
      h("dd", { text: u.kind === "service_account" ? "service account" : "person" }),
      h("dt", { text: "Account" }),
      h("dd", {}, u.account_enabled ? badge("enabled", "allow") : badge("disabled", "block")),
      h("dt", { text: "Segments" }),
      h(
        "dd",
        {},
        u.segments.length
          ? u.segments.map((s) => [h("span.chip-inline", { text: s }), " "])
          : muted("(none)"),
      ),
      h("dt", { text: "Policies" }),
      h("dd", {}, u.policies.length ? u.policies.join(", ") : muted("none")),
      u.errors.length ? h("dt", { text: "Errors" }) : null,
      u.errors.length ? h("dd.bad", { text: u.errors.join("; ") }) : null,
      u.findings.length ? h("dt", { text: "Findings" }) : null,
      u.findings.length ? h("dd", { text: u.findings.join("; ") }) : null,
    ),
  );
}

export async function initExplain() {
  const from = $("#explain-from");
  const to = $("#explain-to");
  userPicker(from, $("#explain-from-list"));
  userPicker(to, $("#explain-to-list"));
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.get("from")) from.value = params.get("from");
  if (params.get("to")) to.value = params.get("to");
  if (params.get("action")) $("#explain-action").value = params.get("action");
  const error = $("#explain-error");

  async function run() {
    error.textContent = "";
    const action = $("#explain-action").value;
    if (!from.value.trim() || !to.value.trim()) {
      error.textContent = "Pick both users.";
      return;
    }
    const more = $("#explain-more")
      .value.split(",")
      .map((u) => u.trim())
      .filter(Boolean);
    if (more.length || action === "add-team-member") {
      await runMany(action, [to.value.trim(), ...more]);
      return;
    }
    try {
      const data = await api("GET", "/explain", undefined, {
        action,
        from: from.value.trim(),
        to: to.value.trim(),
      });
      const v = data.verdict;
      history.replaceState(
        null,
        "",
        `#${new URLSearchParams({ from: from.value.trim(), action, to: to.value.trim() })}`,
      );
      fill(
        "#explain-result",
        h(
          `section.panel.verdict.${v.allowed ? "verdict-allow" : "verdict-block"}#verdict`,
          { "aria-label": "Verdict" },
          h(
            "div.verdict-head",
            {},
            h("span.verdict-word", { text: v.allowed ? "ALLOWED" : "BLOCKED" }),
            h("span.verdict-q", {
              text: `${data.users[0].upn} → ${data.action} → ${data.users[1].upn}`,
            }),
          ),
          h("p.reason#verdict-reason", { text: capitalise(v.reason) }),
          h(
            "dl.facts.facts-inline",
            {},
            h("dt", { text: "Code" }),
            h("dd", {}, code(v.code)),
            h("dt", { text: "Decided by" }),
            h(
              "dd",
              {},
              v.policy ? `policy ${v.policy}` : muted("no policy"),
              v.segment ? ` (segment ${v.segment})` : "",
            ),
            v.pair ? h("dt", { text: "Pair" }) : null,
            v.pair ? h("dd", { text: v.pair.join(" ↔ ") }) : null,
          ),
          data.policy
            ? h(
                "p.policy-rule",
                {},
                `Policy ${data.policy.name} of segment ${data.policy.assigned_segment} `,
                data.policy.kind === "allow" ? "allows only: " : "blocks: ",
                data.policy.segments.map((s) => [h("span.chip-inline", { text: s }), " "]),
              )
            : null,
        ),
        h(
          "div.columns",
          {},
          userCard(data.users[0], "From"),
          userCard(data.users[1], "To"),
        ),
        h(
          "p.muted.relationship",
          {},
          "Pair relationship (semantics §6): ",
          verdictBadge(data.relationship.allowed),
          " ",
          capitalise(data.relationship.reason),
        ),
      );
      // The causes and fixes are an admin's (POST): other roles see the verdict alone.
      const why = await api("POST", "/explain", {
        action,
        from: from.value.trim(),
        to: [to.value.trim()],
      }).catch(() => null);
      if (why) $("#explain-result").append(whyPanel(why));
    } catch (err) {
      fill("#explain-result");
      error.textContent = errorText(err);
    }
  }

  /** Several recipients (or add-team-member): the verdict, each pair, causes, fixes. */
  async function runMany(action, recipients) {
    try {
      const data = await api("POST", "/explain", { action, from: from.value.trim(), to: recipients });
      const v = data.verdict;
      fill(
        "#explain-result",
        h(
          `section.panel.verdict.${v.allowed ? "verdict-allow" : "verdict-block"}#verdict`,
          { "aria-label": "Verdict" },
          h(
            "div.verdict-head",
            {},
            h("span.verdict-word", { text: v.allowed ? "ALLOWED" : "BLOCKED" }),
            h("span.verdict-q", {
              text: `${from.value.trim()} → ${data.action} → ${recipients.join(", ")}`,
            }),
          ),
          h("p.reason#verdict-reason", { text: capitalise(v.reason) }),
        ),
        h(
          "section.panel",
          { "aria-labelledby": "pairs-title" },
          h("h2#pairs-title", { text: "Each recipient" }),
          h(
            "div.table-scroll",
            {},
            h(
              "table.data#explain-pairs",
              {},
              h(
                "thead",
                {},
                h("tr", {}, ["Recipient", "Verdict", "Why", "Suggested fix"].map((c) =>
                  h("th", { scope: "col", text: c }),
                )),
              ),
              h(
                "tbody",
                {},
                data.pairs.map((p) =>
                  h(
                    "tr",
                    { dataset: { upn: p.upn, allowed: String(p.verdict.allowed) } },
                    h("td", { "data-label": "Recipient" }, code(p.upn)),
                    h("td", { "data-label": "Verdict" }, verdictBadge(p.verdict.allowed)),
                    h("td", { "data-label": "Why", text: capitalise(p.verdict.reason) }),
                    h("td", { "data-label": "Suggested fix" }, p.fixes.length ? p.fixes.map((f) => h("div", { text: capitalise(f) })) : muted("—")),
                  ),
                ),
              ),
            ),
          ),
        ),
        whyPanel(data),
      );
    } catch (err) {
      fill("#explain-result");
      error.textContent = errorText(err);
    }
  }
  $("#explain-form").addEventListener("submit", (e) => {
    e.preventDefault();
    run();
  });
  if (from.value && to.value) await run();
}

/** What put each user in their segments, and the suggested fix for the verdict. */
function whyPanel(data) {
  return h(
    "section.panel#explain-why",
    { "aria-labelledby": "why-title" },
    h("h2#why-title", { text: "Why, and how to change it" }),
    data.fixes.length
      ? h(
          "div.notice.notice-warn#explain-fixes",
          {},
          h("strong", { text: "Suggested fix: " }),
          h("ul.plain", {}, data.fixes.map((f) => h("li", { text: capitalise(f) }))),
        )
      : null,
    data.users.map((u) =>
      h(
        "div.table-scroll.why-user",
        { dataset: { upn: u.upn } },
        h("h3", {}, h("a", { href: `/web/people#upn=${encodeURIComponent(u.upn)}`, text: u.upn }), u.groups.length ? muted(` · groups ${u.groups.join(", ")}`) : null),
        segmentsTable(u.segments, `Segments of ${u.upn}`),
      ),
    ),
  );
}


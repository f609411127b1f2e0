/* infobarrier web admin: Licensing: SKUs with their seats and service plans, buying and
 * setting seats, assigning and removing licenses one by one or in bulk (UPNs or a group's
 * members), one user's licenses, and the licensing findings, each with its fix (semantics §2).
 */

import { Limits } from "../../codes.js";
import { api, badge, code, errorText, fill, flash, h, muted, plural, table } from "../kit.js";
import { check, clearErrors, field, getJson, pager, showApiError, upnProblem } from "../fields.js";

const FINDINGS_PAGE = 25;

/** UPNs from text: one per line, or separated by commas, semicolons or spaces. */
export function splitUpns(text) {
  return [...new Set(text.split(/[\s,;]+/u).map((s) => s.trim()).filter(Boolean))];
}

/** The SKU that fixes missing plans: one holding the most of them, with free seats if
 * any, the smallest. */
export function skuFor(skus, plans) {
  const wanted = [].concat(plans);
  const covers = (s) => wanted.filter((p) => s.service_plans.includes(p)).length;
  const holding = skus.filter((s) => covers(s) > 0);
  holding.sort(
    (a, b) =>
      covers(b) - covers(a) ||
      Number(b.seats > b.assigned) - Number(a.seats > a.assigned) ||
      a.service_plans.length - b.service_plans.length,
  );
  return holding[0] || null;
}

export async function initLicensing({ admin }) {
  let skus = [];
  const skuList = h("div#skus", { "aria-live": "polite" });
  const assignTitle = h("h2#assign-title", { text: "Assign or remove licenses" });

  // -- SKUs and seats ---------------------------------------------------------------------------
  function skuOptions(select, selected) {
    fill(
      select,
      skus.map((s) =>
        h("option", {
          value: s.part_number,
          text: `${s.name} (${s.part_number}) · ${s.seats - s.assigned} free`,
          selected: s.part_number === selected,
        }),
      ),
    );
  }

  function renderSkus() {
    fill(
      skuList,
      h(
        "div.table-scroll",
        {},
        table(
          ["SKU", "Service plans", "Seats", "Assigned", "Free"],
          skus.map((s) => ({
            attrs: { dataset: { sku: s.part_number } },
            cells: [
              h("span", {}, h("strong", { text: s.name }), h("br"), code(s.part_number)),
              h(
                "span.plans",
                {},
                s.service_plans.map((p) => badge(p, p === "INFORMATION_BARRIERS" ? "info" : "muted")),
              ),
              h("span.seats", { text: String(s.seats) }),
              String(s.assigned),
              s.seats - s.assigned > 0
                ? String(s.seats - s.assigned)
                : badge("0", s.seats ? "warn" : "muted"),
            ],
          })),
          { id: "skus-table", caption: "SKUs" },
        ),
      ),
    );
    for (const select of [seats.sku.input, bulk.sku.input, one.sku.input]) {
      skuOptions(select, select.value);
    }
  }

  async function loadSkus() {
    skus = await api("GET", "/skus");
    renderSkus();
  }

  // -- buy or set seats -------------------------------------------------------------------------
  const seats = {
    sku: field("sku", "SKU", { id: "seats-sku" }, { tag: "select" }),
    seats: field("seats", "Seats", { id: "seats-count", type: "number", min: 1, step: 1 }),
    how: field(
      "how",
      "Change",
      { id: "seats-how" },
      {
        tag: "select",
        choices: [
          ["buy", "Buy this many more"],
          ["set", "Set the total bought"],
        ],
      },
    ),
  };
  const seatsError = h("p.form-error", { role: "alert" });
  const seatsForm = h(
    "form.editor#seats-form",
    { novalidate: true, "aria-label": "Buy or adjust seats" },
    h("h3", { text: "Buy or adjust seats" }),
    h("div.form-grid", {}, seats.sku.el, seats.how.el, seats.seats.el),
    seatsError,
    h("div.form-actions", {}, h("button.btn.btn-primary#seats-submit", { type: "submit", text: "Save seats" })),
  );
  seatsForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(seats, seatsError);
    const n = Number(seats.seats.input.value);
    const buying = seats.how.input.value === "buy";
    const problem =
      !Number.isInteger(n) || n < (buying ? 1 : 0) || n > 1_000_000
        ? `Seats must be a whole number from ${buying ? 1 : 0} to 1,000,000`
        : null;
    if (!check([[seats.seats, problem]])) return;
    const part = seats.sku.input.value;
    try {
      skus = buying
        ? await api("POST", `/skus/${encodeURIComponent(part)}/purchase`, { seats: n })
        : await api("PUT", `/skus/${encodeURIComponent(part)}`, { seats: n });
      renderSkus();
      flash(`${part}: ${buying ? `bought ${plural(n, "seat")}` : `${plural(n, "seat")} in all`}.`, "ok");
    } catch (err) {
      showApiError(err, { seats: seats.seats }, seatsError, "seats");
    }
  });

  // -- bulk assign / remove -----------------------------------------------------------------------
  const bulk = {
    sku: field("sku", "SKU", { id: "bulk-sku" }, { tag: "select" }),
    upns: field(
      "upns",
      "Users (UPNs, one a line)",
      { id: "bulk-upns", rows: 4 },
      { tag: "textarea", hint: "Or separated by commas or spaces." },
    ),
    group: field("group", "And/or every member of group", { id: "bulk-group", maxlength: 256 }),
    how: field(
      "how",
      "Change",
      { id: "bulk-how" },
      {
        tag: "select",
        choices: [
          ["assign", "Assign"],
          ["remove", "Remove"],
        ],
      },
    ),
  };
  const bulkError = h("p.form-error", { role: "alert" });
  const bulkResult = h("p#bulk-result", { role: "status" });
  const bulkForm = h(
    "form.editor#bulk-form",
    { novalidate: true, "aria-labelledby": "assign-title" },
    assignTitle,
    h(
      "p.panel-note",
      {},
      "One user or many: all of them, or none (out of seats refuses the whole change).",
    ),
    h("div.form-grid", {}, bulk.sku.el, bulk.how.el, bulk.group.el),
    bulk.upns.el,
    bulkError,
    bulkResult,
    h("div.form-actions", {}, h("button.btn.btn-primary#bulk-submit", { type: "submit", text: "Apply" })),
  );
  bulkForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(bulk, bulkError);
    bulkResult.replaceChildren();
    const upns = splitUpns(bulk.upns.input.value);
    const group = bulk.group.input.value.trim();
    const bad = upns.map((u) => upnProblem(u)).find(Boolean) || null;
    const rules = [[bulk.upns, bad]];
    if (!upns.length && !group) rules.push([bulk.upns, "Name at least one user, or a group"]);
    if (!check(rules)) return;
    const remove = bulk.how.input.value === "remove";
    const part = bulk.sku.input.value;
    try {
      const r = await api("POST", `/skus/${encodeURIComponent(part)}/assignments`, {
        upns,
        group: group || undefined,
        remove,
      });
      skus = r.skus;
      renderSkus();
      fill(
        bulkResult,
        h("span.ok-text", {
          text: `${part}: ${remove ? "removed from" : "assigned to"} ${plural(r.changed, "user")} (${r.named} named).`,
        }),
      );
      loadFindings();
    } catch (err) {
      showApiError(err, { upns: bulk.upns, group: bulk.group }, bulkError, "upns");
    }
  });

  // -- one user ---------------------------------------------------------------------------------------
  const one = {
    upn: field("upn", "User (UPN)", { id: "one-upn", maxlength: Limits.MAX_UPN }),
    sku: field("sku", "SKU to assign", { id: "one-sku" }, { tag: "select" }),
  };
  const oneError = h("p.form-error", { role: "alert" });
  const oneView = h("div#user-licenses", { "aria-live": "polite" });

  async function showUser(upn) {
    try {
      const held = await api("GET", `/users/${encodeURIComponent(upn)}/licenses`);
      fill(
        oneView,
        h("p", {}, h("strong", { text: held.upn }), " holds ", held.skus.length ? "" : muted("no license")),
        held.skus.length
          ? table(
              ["SKU", "Actions"],
              held.skus.map((part) => ({
                attrs: { dataset: { held: part } },
                cells: [
                  code(part),
                  admin
                    ? h("button.btn.btn-small.btn-danger-ghost", {
                        type: "button",
                        text: "Remove",
                        "aria-label": `Remove ${part} from ${held.upn}`,
                        onclick: async () => {
                          try {
                            await api(
                              "DELETE",
                              `/users/${encodeURIComponent(held.upn)}/licenses/${encodeURIComponent(part)}`,
                            );
                            await Promise.all([loadSkus(), showUser(held.upn)]);
                            loadFindings();
                          } catch (err) {
                            flash(errorText(err), "error");
                          }
                        },
                      })
                    : null,
                ],
              })),
              { id: "held-table", caption: `Licenses of ${held.upn}` },
            )
          : null,
        h("p.muted", {}, "Service plans: ", held.service_plans.join(", ") || "none"),
      );
    } catch (err) {
      showApiError(err, { upn: one.upn }, oneError);
    }
  }

  const oneForm = h(
    "form.editor#one-form",
    { novalidate: true, "aria-label": "One user's licenses" },
    h("h3", { text: "One user's licenses" }),
    h("div.form-grid", {}, one.upn.el, one.sku.el),
    oneError,
    h(
      "div.form-actions",
      {},
      h("button.btn#one-show", {
        type: "button",
        text: "Show",
        onclick: () => {
          clearErrors(one, oneError);
          if (check([[one.upn, upnProblem(one.upn.input.value)]])) showUser(one.upn.input.value.trim());
        },
      }),
      admin ? h("button.btn.btn-primary#one-assign", { type: "submit", text: "Assign" }) : null,
    ),
    oneView,
  );
  oneForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(one, oneError);
    if (!check([[one.upn, upnProblem(one.upn.input.value)]])) return;
    const upn = one.upn.input.value.trim();
    try {
      await api("POST", `/users/${encodeURIComponent(upn)}/licenses`, { sku: one.sku.input.value });
      flash(`Assigned ${one.sku.input.value} to ${upn}.`, "ok");
      await Promise.all([loadSkus(), showUser(upn)]);
      loadFindings();
    } catch (err) {
      showApiError(err, { upn: one.upn, sku: one.sku }, oneError);
    }
  });

  // -- findings, each with its fix ------------------------------------------------------------------
  const findingsList = h("div#findings", { "aria-live": "polite" });
  let findingsOffset = 0;

  let missing = new Map();

  function fix(finding) {
    const sku = skuFor(skus, missing.get(finding.upn) || [finding.plan]);
    one.upn.input.value = finding.upn;
    if (sku) one.sku.input.value = sku.part_number;
    clearErrors(one, oneError);
    showUser(finding.upn);
    one.upn.input.scrollIntoView({ block: "center" });
    one.sku.input.focus();
  }

  async function loadFindings() {
    try {
      const page = await getJson("/findings", { offset: findingsOffset, limit: FINDINGS_PAGE });
      missing = new Map();
      for (const f of page.findings) {
        missing.set(f.upn, [...(missing.get(f.upn) || []), f.plan]);
      }
      fill(
        findingsList,
        page.total
          ? [
              h(
                "div.table-scroll",
                {},
                table(
                  ["User", "Missing", "Finding", "Fix"],
                  page.findings.map((f) => {
                    const sku = skuFor(skus, missing.get(f.upn));
                    return {
                      attrs: { dataset: { finding: f.upn, plan: f.plan } },
                      cells: [
                        code(f.upn),
                        badge(f.plan, "warn"),
                        f.message,
                        admin && sku
                          ? h("button.btn.btn-small", {
                              type: "button",
                              text: `Assign ${sku.part_number}`,
                              "aria-label": `Fix: assign ${sku.part_number} to ${f.upn}`,
                              onclick: () => fix(f),
                            })
                          : muted(sku ? sku.part_number : "no SKU has this plan"),
                      ],
                    };
                  }),
                  { id: "findings-table", caption: "Licensing findings" },
                ),
              ),
              pager("Findings", page.total, findingsOffset, FINDINGS_PAGE, page.findings.length, (next) => {
                findingsOffset = next;
                loadFindings();
              }),
            ]
          : h("p.ok", { text: "Every segmented user holds INFORMATION_BARRIERS and Exchange." }),
      );
    } catch (err) {
      fill(findingsList, h("div.notice.notice-error", { text: errorText(err) }));
    }
  }

  fill(
    "#licensing",
    h(
      "section.panel",
      { "aria-labelledby": "skus-title" },
      h("h2#skus-title", { text: "SKUs and seats" }),
      skuList,
      admin ? seatsForm : null,
    ),
    admin ? h("section.panel", { "aria-labelledby": "assign-title" }, bulkForm) : null,
    h("section.panel", { "aria-labelledby": "one-title" }, h("h2#one-title.visually-hidden", { text: "One user" }), oneForm),
    h(
      "section.panel",
      { "aria-labelledby": "findings-title" },
      h("h2#findings-title", { text: "Licensing findings" }),
      h(
        "p.panel-note",
        {},
        "Segmented users need INFORMATION_BARRIERS and Exchange; service accounts need Remote Assist. " +
          "Each finding's button fills in the license that fixes it.",
      ),
      findingsList,
    ),
  );
  await loadSkus();
  // The findings are computed over every user: they follow, the page is usable at once.
  fill(findingsList, muted("Looking for findings…"));
  const findingsLoaded = loadFindings();
  const params = new URLSearchParams(location.search);
  if (params.get("upn")) {
    await findingsLoaded;
    fix({ upn: params.get("upn"), plan: params.get("plan") || "INFORMATION_BARRIERS" });
  }
}

/* infobarrier web admin: a vendor's onboarding and offboarding as one guided task.
 *
 * The server works the proposal out (segments, both directions of the policies, licenses,
 * accounts to create); this page only gathers the names, shows the proposal and its
 * what-if, and applies it with the proposal it showed, so a proposal that changed since is
 * refused rather than applied unseen. Any edit to the form drops the proposal.
 */

import {
  $,
  ApiError,
  api,
  badge,
  code,
  confirmDialog,
  errorText,
  fill,
  flash,
  h,
  muted,
  plural,
  total,
} from "../kit.js";
import { FINDINGS_SHOWN } from "./whatif-preview.js";

function list(title, items, render, id) {
  if (!items.length) return null;
  return h(
    "div.proposal-part",
    id ? { id } : {},
    h("h3", { text: title }),
    h("ul.plain", {}, items.map((item) => h("li", {}, render(item)))),
  );
}

function chips(names) {
  return names.map((s) => [h("span.chip-inline", { text: s }), " "]);
}

/** The proposal, part by part, in plain words. */
function renderProposal(p) {
  const policy = (x) => [
    h("strong", { text: x.name }),
    ` (segment ${x.assigned_segment}) ${x.kind === "allow" ? "allows only" : "blocks"}: `,
    chips(x.segments),
    x.before
      ? muted(` — was ${x.before.join(", ")}`)
      : null,
  ];
  return h(
    "div.proposal",
    { dataset: { kind: p.kind } },
    p.warnings.length
      ? h(
          "div.notice.notice-warn#" + p.kind + "-warnings",
          { role: "status" },
          h("ul.plain", {}, p.warnings.map((w) => h("li", { text: w }))),
        )
      : null,
    list("Service accounts to create", p.accounts_to_create, (a) => [
      code(a.upn),
      ` ${a.display_name} — vendor company ${p.vendor}, sponsor ${p.sponsor}`,
    ]),
    list("Groups", p.groups, (g) => [h("strong", { text: g.name }), ": ", g.members.join(", ")]),
    list("Segments", p.segments, (s) => [h("strong", { text: s.name }), " ", code(s.filter)]),
    list("New policies (Active)", p.policies, policy, `${p.kind}-policies`),
    list("Policies made mutual", p.policies_changed, policy, `${p.kind}-changed`),
    list("Policies removed", p.policies_removed, (n) => n),
    list("Segments removed", p.segments_removed, (n) => n),
    list("Groups removed", p.groups_removed, (n) => n),
    list("Seats to buy", p.seats, (s) => `${s.sku}: up to ${s.seats} seats`),
    list("Licenses to assign", p.assign, (a) => [code(a.upn), ` ${a.sku}`], `${p.kind}-licenses`),
    list("Licenses to take back", p.unassign, (a) => [code(a.upn), ` ${a.sku}`]),
    list("Service accounts to disable", p.disable, (u) => [
      code(u),
      muted(" (left unsegmented, they would reach everyone open to them)"),
    ]),
  );
}

/** The what-if: pairs that flip, users who move, conversations affected. */
function renderPreview(w) {
  const pairs = (r) => [h("strong", { text: `${r.a} ↔ ${r.b}` }), ": ", r.reason];
  return h(
    "div.preview#" + "vendor-whatif",
    {},
    h(
      "p.preview-totals",
      {},
      badge(plural(total(w, "pairs_blocked"), "pair") + " blocked", "block"),
      " ",
      badge(plural(total(w, "pairs_allowed"), "pair") + " allowed", "allow"),
      " ",
      badge(plural(total(w, "users_changed"), "user") + " change segment", "info"),
      " ",
      badge(plural(w.reconciliation.length, "conversation change"), "warn"),
      w.conflicts.length ? [" ", badge(plural(w.conflicts.length, "conflict"), "block")] : null,
    ),
    list("Segment pairs that become blocked", w.pairs_blocked, pairs),
    list("Segment pairs that become allowed", w.pairs_allowed, pairs),
    list("Users whose segments change", w.users_changed, (c) => [
      code(c.upn),
      `: ${c.before.join(", ") || "(none)"} → ${c.after.join(", ") || "(none)"}`,
    ]),
    list("Existing conversations affected", w.reconciliation, (a) => [
      h("strong", { text: a.object_label || a.object_kind }),
      ": ",
      a.reason,
    ]),
    list("Conflicts", w.conflicts, (c) => [code(c.upn), `: ${c.segments.join(", ")}`]),
    list("Licensing findings", w.findings.slice(0, FINDINGS_SHOWN), (f) => f),
    total(w, "findings") > FINDINGS_SHOWN
      ? h("p.muted", {
          text: `The first ${FINDINGS_SHOWN} of ${total(w, "findings").toLocaleString("en")} findings.`,
        })
      : null,
  );
}

/** Shows each field error next to its field; the rest in the section's first error. */
function showErrors(prefix, errors, fields) {
  for (const el of document.querySelectorAll(`#${prefix}-form .field-error`)) {
    el.textContent = "";
  }
  for (const el of document.querySelectorAll(`#${prefix}-form [aria-invalid]`)) {
    el.removeAttribute("aria-invalid");
  }
  for (const e of errors) {
    const target = fields(e.field);
    if (target && target.error) {
      target.error.textContent = target.error.textContent
        ? `${target.error.textContent}; ${e.message}`
        : e.message;
      if (target.input) target.input.setAttribute("aria-invalid", "true");
    }
  }
}

/** One guided task: propose, preview, apply (onboard or offboard). */
function task(prefix, path, body, fields, after) {
  let shown = null;
  const previewBtn = $(`#${prefix}-preview-btn`);
  const applyBtn = $(`#${prefix}-apply`);
  const reset = () => {
    shown = null;
    fill(`#${prefix}-proposal`);
    fill(`#${prefix}-preview`);
    previewBtn.disabled = true;
    applyBtn.disabled = true;
  };
  $(`#${prefix}-form`).addEventListener("input", reset);
  $(`#${prefix}-form`).addEventListener("submit", async (event) => {
    event.preventDefault();
    reset();
    try {
      const p = await api("POST", `${path}/proposal`, body());
      showErrors(prefix, p.errors, fields);
      if (p.errors.length) return;
      shown = p;
      fill(`#${prefix}-proposal`, renderProposal(p));
      previewBtn.disabled = false;
    } catch (err) {
      flash(errorText(err), "error");
    }
  });
  previewBtn.addEventListener("click", async () => {
    if (!shown) return;
    fill(`#${prefix}-preview`, muted("Computing the preview…"));
    try {
      const data = await api("POST", `${path}/what-if`, body());
      if (JSON.stringify(data.proposal) !== JSON.stringify(shown)) {
        shown = data.proposal;
        fill(`#${prefix}-proposal`, renderProposal(shown));
      }
      if (!data.what_if) {
        showErrors(prefix, data.proposal.errors, fields);
        fill(`#${prefix}-preview`);
        return;
      }
      fill(`#${prefix}-preview`, renderPreview(data.what_if));
      applyBtn.disabled = false;
    } catch (err) {
      fill(`#${prefix}-preview`, h("p.form-error", { role: "alert", text: errorText(err) }));
    }
  });
  applyBtn.addEventListener("click", async () => {
    if (!shown) return;
    const ok = await confirmDialog(
      prefix === "onboard" ? `Onboard ${shown.vendor}?` : `Offboard ${shown.vendor}?`,
      "Every change of the proposal is saved and applied at once (or none is).",
      "Apply",
      prefix === "offboard",
    );
    if (!ok) return;
    applyBtn.disabled = true;
    try {
      const done = await api("POST", path, { ...body(), expected: shown });
      flash(
        `${shown.vendor}: ${prefix === "onboard" ? "onboarded" : "offboarded"} and applied ` +
          `(application ${done.application.number}, ${done.application.status}).`,
        "ok",
      );
      after(done);
      previewBtn.disabled = true;
      shown = null;
    } catch (err) {
      applyBtn.disabled = false;
      flash(errorText(err), err instanceof ApiError && err.status === 409 ? "warn" : "error");
    }
  });
}

/** A growing list of rows of inputs (accounts: UPN and display name; engineers: UPN). */
function rows(container, label, withName) {
  const added = [];
  const add = (value = "") => {
    const n = added.length + 1;
    const id = `${container.id}-${n}`;
    const upn = h(`input#${id}-upn`, {
      type: "text",
      value,
      spellcheck: "false",
      "aria-describedby": `${id}-error`,
      placeholder: "name@domain",
    });
    const name = withName
      ? h(`input#${id}-name`, { type: "text", maxlength: 256, placeholder: "Display name" })
      : null;
    const error = h(`p.form-error.field-error#${id}-error`, { role: "alert" });
    container.append(
      h(
        "div.row-fields",
        {},
        h("label", { for: `${id}-upn`, text: `${label} ${n} UPN` }),
        upn,
        name ? h("label", { for: `${id}-name`, text: `${label} ${n} display name` }) : null,
        name,
        error,
      ),
    );
    added.push({ upn, name, error });
    return upn;
  };
  return { add, added };
}

export async function initVendors({ admin }) {
  $("#vendors-readonly").hidden = admin;
  if (!admin) return;
  const accounts = rows($("#onboard-accounts"), "Service account", true);
  const engineers = rows($("#onboard-engineers"), "Engineer", false);
  accounts.add();
  engineers.add();
  $("#onboard-add-account").addEventListener("click", () => accounts.add().focus());
  $("#onboard-add-engineer").addEventListener("click", () => engineers.add().focus());
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.get("vendor")) $("#offboard-vendor").value = params.get("vendor");

  // The request the server works on: empty rows are left out, and each error names the
  // index of the non-empty row it concerns.
  const filled = (items) => items.filter((r) => r.upn.value.trim());
  const onboardBody = () => ({
    vendor: $("#onboard-vendor").value,
    accounts: filled(accounts.added).map((r) => ({
      upn: r.upn.value.trim(),
      display_name: r.name.value.trim(),
    })),
    engineers: filled(engineers.added).map((r) => r.upn.value.trim()),
  });
  const onboardFields = (field) => {
    const [name, index] = field.split(".");
    if (name === "vendor") return { error: $("#onboard-vendor-error"), input: $("#onboard-vendor") };
    const group = name === "accounts" ? accounts : engineers;
    if (index === undefined) return { error: $(`#onboard-${name}-error`) };
    const row = filled(group.added)[Number(index)];
    return row ? { error: row.error, input: row.upn } : { error: $(`#onboard-${name}-error`) };
  };
  task("onboard", "/vendor-onboarding", onboardBody, onboardFields, (done) => {
    const first = done.proposal.groups[0];
    const who = first && first.members[0];
    if (who) {
      fill(
        "#onboard-preview",
        h(
          "p.notice.notice-ok#onboard-verify",
          {},
          "Check it: ",
          h("a", { href: `/web/people#upn=${encodeURIComponent(who)}`, text: `${who}'s page` }),
          " lists whom the vendor's account can and cannot reach.",
        ),
      );
    }
  });
  task(
    "offboard",
    "/vendor-offboarding",
    () => ({ vendor: $("#offboard-vendor").value }),
    () => ({ error: $("#offboard-vendor-error"), input: $("#offboard-vendor") }),
    () => {},
  );
}

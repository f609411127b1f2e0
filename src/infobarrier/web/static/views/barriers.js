/* infobarrier web admin: Segments & policies: list, create, edit, remove. */

import { $, api, code, confirmDialog, errorText, fill, flash, h, muted, table } from "../kit.js";
import { filterPreview, listOf, policyForm, stateBadge } from "../forms.js";

// -- segments & policies ------------------------------------------------------------------
export async function initBarriers(ctx) {
  const settings = await api("GET", "/settings");
  let segments = [];
  let policyList = [];

  async function reload() {
    const [segs, policies] = await Promise.all([
      api("GET", "/segments"),
      api("GET", "/policies"),
    ]);
    segments = segs;
    policyList = policies;
    fill(
      "#segments-list",
      table(
        ["Name", "Filter", "Users now", "Policy", ""],
        segs.map((s) => ({
          attrs: { dataset: { segment: s.name } },
          cells: [
            h(
              "strong",
              {},
              h("a", { href: `/web/segment#name=${encodeURIComponent(s.name)}`, text: s.name }),
            ),
            code(s.filter),
            String(s.users),
            s.policy || muted("none"),
            ctx.admin
              ? h(
                  "div.row-actions",
                  {},
                  h("button.btn.btn-small", {
                    type: "button",
                    text: "Edit filter",
                    "aria-label": `Edit filter of ${s.name}`,
                    onclick: () => editSegment(s),
                  }),
                  h("button.btn.btn-small.btn-danger-ghost", {
                    type: "button",
                    text: "Remove",
                    "aria-label": `Remove segment ${s.name}`,
                    onclick: () => removeSegment(s),
                  }),
                )
              : "",
          ],
        })),
        { empty: "No segment yet.", id: "segments-table" },
      ),
    );
    fill(
      "#policies-list",
      table(
        ["Name", "Segment", "List", "State", "Comment", ""],
        policies.map((p) => ({
          attrs: { dataset: { policy: p.name } },
          cells: [
            h("strong", { text: p.name }),
            p.assigned_segment,
            listOf(p),
            stateBadge(p.state),
            h(
              "div",
              {},
              p.comment || "",
              p.warnings.map((w) => h("div.warning", { text: `⚠ ${w}` })),
            ),
            ctx.admin
              ? h(
                  "div.row-actions",
                  {},
                  h("button.btn.btn-small", {
                    type: "button",
                    text: "Edit",
                    "aria-label": `Edit policy ${p.name}`,
                    onclick: () => editPolicy(p),
                  }),
                  h("button.btn.btn-small.btn-danger-ghost", {
                    type: "button",
                    text: "Remove",
                    "aria-label": `Remove policy ${p.name}`,
                    onclick: () => removePolicy(p),
                  }),
                )
              : "",
          ],
        })),
        { empty: "No policy yet.", id: "policies-table" },
      ),
    );
  }

  // Segments.
  const segmentEditor = $("#segment-editor");
  function segmentForm(existing) {
    const name = h("input#segment-name", {
      type: "text",
      maxlength: 64,
      required: true,
      value: existing ? existing.name : "",
      readonly: !!existing,
    });
    const filter = h("input#segment-filter.mono", {
      type: "text",
      spellcheck: "false",
      autocomplete: "off",
      value: existing ? existing.filter : "",
      placeholder: "Department -eq 'Sales' -or MemberOf -eq 'Sales team'",
      "aria-describedby": "filter-status",
    });
    const status = h("div.filter-status#filter-status", { "aria-live": "polite" });
    const error = h("p.form-error#segment-error", { role: "alert" });
    const form = h(
      "form#segment-form",
      { novalidate: true, autocomplete: "off" },
      h("h3", { text: existing ? `Edit the filter of ${existing.name}` : "New segment" }),
      h(
        "div.field",
        {},
        h("label", { for: "segment-name", text: "Name (never renamed)" }),
        name,
      ),
      h(
        "div.field",
        {},
        h("label", { for: "segment-filter", text: "Filter (UserGroupFilter)" }),
        filter,
        status,
      ),
      error,
      h(
        "div.form-actions",
        {},
        h("button.btn.btn-primary#segment-submit", {
          type: "submit",
          text: existing ? "Save filter" : "Create segment",
        }),
        h("button.btn", {
          type: "button",
          text: "Cancel",
          onclick: () => {
            segmentEditor.hidden = true;
          },
        }),
      ),
    );
    const recheck = filterPreview(filter, status);
    if (existing) recheck();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      try {
        if (existing) {
          await api("PATCH", `/segments/${encodeURIComponent(existing.name)}`, {
            filter: filter.value,
          });
          flash(`Segment ${existing.name} saved.`, "ok");
        } else {
          await api("POST", "/segments", { name: name.value.trim(), filter: filter.value });
          flash(`Segment ${name.value.trim()} created.`, "ok");
        }
        segmentEditor.hidden = true;
        await reload();
      } catch (err) {
        error.textContent = errorText(err);
      }
    });
    fill(segmentEditor, form);
    segmentEditor.hidden = false;
    (existing ? filter : name).focus();
  }
  function editSegment(s) {
    segmentForm(s);
  }
  async function removeSegment(s) {
    const ok = await confirmDialog(
      `Remove segment ${s.name}?`,
      "Refused while a policy references it.",
      "Remove",
      true,
    );
    if (!ok) return;
    try {
      await api("DELETE", `/segments/${encodeURIComponent(s.name)}`);
      flash(`Segment ${s.name} removed.`, "ok");
      await reload();
    } catch (err) {
      flash(errorText(err), "error");
    }
  }
  $("#segment-new").addEventListener("click", () => segmentForm(null));

  // Policies.
  const policyEditor = $("#policy-editor");
  function openPolicyForm(existing) {
    if (!segments.length) {
      flash("Create a segment first: a policy is assigned to one.", "warn");
      return;
    }
    const form = policyForm({
      segments,
      policies: policyList,
      mode: settings.mode,
      initial: existing,
      lockName: !!existing,
      submitLabel: existing ? "Save policy" : "Create policy",
      onCancel: () => {
        policyEditor.hidden = true;
      },
      onSubmit: async (body) => {
        if (existing) {
          const patch = {
            state: body.state,
            moderation_allowed: body.moderation_allowed,
            comment: body.comment,
          };
          if (body.segments_allowed) patch.segments_allowed = body.segments_allowed;
          if (body.segments_blocked) patch.segments_blocked = body.segments_blocked;
          await api("PATCH", `/policies/${encodeURIComponent(existing.name)}`, patch);
          flash(`Policy ${existing.name} saved.`, "ok");
        } else {
          await api("POST", "/policies", body);
          flash(`Policy ${body.name} created.`, "ok");
        }
        policyEditor.hidden = true;
        await reload();
      },
    });
    fill(policyEditor, form);
    policyEditor.hidden = false;
  }
  function editPolicy(p) {
    openPolicyForm(p);
  }
  async function removePolicy(p) {
    const ok = await confirmDialog(
      `Remove policy ${p.name}?`,
      "The epoch in force keeps its own copy until the next apply.",
      "Remove",
      true,
    );
    if (!ok) return;
    try {
      await api("DELETE", `/policies/${encodeURIComponent(p.name)}`);
      flash(`Policy ${p.name} removed.`, "ok");
      await reload();
    } catch (err) {
      flash(errorText(err), "error");
    }
  }
  $("#policy-new").addEventListener("click", () => openPolicyForm(null));
  await reload();
}

/* infobarrier web admin: forms shared by the segments & policies page and the what-if draft:
 * the live filter check and the policy form.
 */

import { $, api, badge, debounce, errorText, fill, h, muted, plural } from "./kit.js";

// -- filters ------------------------------------------------------------------------------
/** Live "does it parse, where not, how many users" under a filter input. */
export function filterPreview(input, status) {
  let sequence = 0;
  const check = debounce(async () => {
    const text = input.value;
    const mine = ++sequence;
    if (!text.trim()) {
      fill(status);
      input.removeAttribute("aria-invalid");
      return;
    }
    try {
      const result = await api("POST", "/segments/preview", { filter: text });
      if (mine !== sequence) return;
      if (result.valid) {
        input.setAttribute("aria-invalid", "false");
        fill(
          status,
          h(
            "span.filter-ok",
            { dataset: { valid: "true" } },
            `✓ Parses · matches ${plural(result.matches, "user")}`,
          ),
        );
      } else {
        input.setAttribute("aria-invalid", "true");
        const position = Math.max(1, result.position || 1);
        fill(
          status,
          h("span.filter-bad", { dataset: { valid: "false", position } }, `✕ ${result.error}`),
          h(
            "pre.filter-caret",
            { "aria-hidden": "true" },
            text,
            "\n",
            " ".repeat(position - 1),
            h("span.caret", { text: "^" }),
          ),
        );
      }
    } catch (err) {
      if (mine === sequence) fill(status, h("span.filter-bad", { text: errorText(err) }));
    }
  }, 180);
  input.addEventListener("input", check);
  return check;
}

// -- policy form (barriers page and the what-if draft) -------------------------------------
/**
 * A form for a policy. `initial` (a PolicyOut-like object) edits one; `lockName` keeps the
 * name and segment fixed (an existing policy: only the list, state and comment change).
 * `onSubmit(body)` returns a promise; a rejection's message is shown in the form.
 */
export function policyForm({
  segments,
  mode,
  initial,
  lockName,
  submitLabel,
  onSubmit,
  onCancel,
  defaultState = "Inactive",
}) {
  const allowOnly = mode === "MultiSegment";
  const kind = initial && initial.segments_blocked ? "block" : "allow";
  const listed = new Set(
    ((initial && (initial.segments_allowed || initial.segments_blocked)) || []).map((s) =>
      s.toLowerCase(),
    ),
  );
  const name = h("input#policy-name", {
    type: "text",
    maxlength: 64,
    required: true,
    value: initial ? initial.name : "",
    readonly: lockName,
  });
  const segment = h(
    "select#policy-segment",
    { disabled: lockName },
    segments.map((s) =>
      h("option", {
        value: s.name,
        text: s.name,
        selected: initial && initial.assigned_segment.toLowerCase() === s.name.toLowerCase(),
      }),
    ),
  );
  const kindAllow = h("input#policy-kind-allow", {
    type: "radio",
    name: "policy-kind",
    value: "allow",
    checked: kind === "allow",
  });
  const kindBlock = h("input#policy-kind-block", {
    type: "radio",
    name: "policy-kind",
    value: "block",
    checked: kind === "block",
    disabled: allowOnly,
  });
  const boxes = segments.map((s) =>
    h(
      "label.check",
      {},
      h("input", {
        type: "checkbox",
        value: s.name,
        checked: listed.has(s.name.toLowerCase()),
        dataset: { segment: s.name },
      }),
      s.name,
    ),
  );
  const state = h(
    "select#policy-state",
    {},
    ["Inactive", "Active"].map((v) =>
      h("option", {
        value: v,
        text: v,
        selected: (initial ? initial.state : defaultState) === v,
      }),
    ),
  );
  const moderation = h("input#policy-moderation", {
    type: "checkbox",
    checked: initial && initial.moderation_allowed,
  });
  const comment = h("input#policy-comment", {
    type: "text",
    maxlength: 1024,
    value: initial ? initial.comment : "",
  });
  const error = h("p.form-error#policy-error", { role: "alert" });
  const form = h(
    "form.policy-form#policy-form",
    { novalidate: true, autocomplete: "off" },
    h("h3", { text: initial ? `Edit policy ${initial.name}` : "New policy" }),
    h(
      "div.form-grid",
      {},
      h("div.field", {}, h("label", { for: "policy-name", text: "Name" }), name),
      h(
        "div.field",
        {},
        h("label", { for: "policy-segment", text: "Assigned segment" }),
        segment,
      ),
      h("div.field", {}, h("label", { for: "policy-state", text: "State" }), state),
      h("div.field", {}, h("label", { for: "policy-comment", text: "Comment" }), comment),
    ),
    h(
      "fieldset.field",
      {},
      h("legend", { text: "The segment may communicate with" }),
      h(
        "div.radios",
        {},
        h("label.check", {}, kindAllow, "only the segments listed (SegmentsAllowed)"),
        h(
          "label.check",
          {},
          kindBlock,
          "every segment but those listed (SegmentsBlocked)",
          allowOnly ? muted(" — not in MultiSegment mode") : null,
        ),
      ),
      h("div.checks#policy-segments", { role: "group", "aria-label": "Segments listed" }, boxes),
    ),
    h("label.check", {}, moderation, "Moderation allowed"),
    error,
    h(
      "div.form-actions",
      {},
      h("button.btn.btn-primary#policy-submit", { type: "submit", text: submitLabel }),
      h("button.btn#policy-cancel", { type: "button", text: "Cancel", onclick: onCancel }),
    ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const chosen = boxes
      .map((b) => b.querySelector("input"))
      .filter((i) => i.checked)
      .map((i) => i.value);
    const body = {
      name: name.value.trim(),
      assigned_segment: segment.value,
      segments_allowed: kindAllow.checked ? chosen : null,
      segments_blocked: kindBlock.checked ? chosen : null,
      state: state.value,
      moderation_allowed: moderation.checked,
      comment: comment.value,
    };
    const submit = form.querySelector("#policy-submit");
    submit.disabled = true;
    try {
      await onSubmit(body);
    } catch (err) {
      error.textContent = errorText(err);
    } finally {
      submit.disabled = false;
    }
  });
  setTimeout(() => (lockName ? state : name).focus(), 0);
  return form;
}

export function listOf(policy) {
  const allow = policy.segments_allowed;
  const names = allow || policy.segments_blocked || [];
  return h(
    "span.list",
    {},
    badge(allow ? "allows" : "blocks", allow ? "allow" : "block"),
    " ",
    names.join(", "),
  );
}

export function stateBadge(state) {
  return badge(state, state === "Active" ? "info" : "muted");
}

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
  policies = [],
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
  // Errors next to the field they concern (the API's rule decides which), and warnings
  // about a valid but surprising list (semantics §4, §6).
  const fieldError = (id) => h(`p.form-error.field-error#${id}`, { role: "alert" });
  const nameError = fieldError("policy-name-error");
  const segmentError = fieldError("policy-segment-error");
  const commentError = fieldError("policy-comment-error");
  const listError = fieldError("policy-list-error");
  const warning = h("div.field-warning#policy-warning", { role: "status" });
  name.setAttribute("aria-describedby", "policy-name-error");
  comment.setAttribute("aria-describedby", "policy-comment-error");
  const form = h(
    "form.policy-form#policy-form",
    { novalidate: true, autocomplete: "off" },
    h("h3", { text: initial ? `Edit policy ${initial.name}` : "New policy" }),
    h(
      "div.form-grid",
      {},
      h("div.field", {}, h("label", { for: "policy-name", text: "Name" }), name, nameError),
      h(
        "div.field",
        {},
        h("label", { for: "policy-segment", text: "Assigned segment" }),
        segment,
        segmentError,
      ),
      h("div.field", {}, h("label", { for: "policy-state", text: "State" }), state),
      h(
        "div.field",
        {},
        h("label", { for: "policy-comment", text: "Comment" }),
        comment,
        commentError,
      ),
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
      listError,
      warning,
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
    clearErrors();
    const problem = nameProblem(name.value);
    if (problem) {
      showAt(nameError, name, problem);
      return;
    }
    const body = current();
    const submit = form.querySelector("#policy-submit");
    submit.disabled = true;
    try {
      await onSubmit(body);
    } catch (err) {
      const target = fieldOf(err);
      if (target) showAt(target[0], target[1], errorText(err));
      else error.textContent = errorText(err);
    } finally {
      submit.disabled = unchanged();
    }
  });
  function current() {
    const chosen = boxes
      .map((b) => b.querySelector("input"))
      .filter((i) => i.checked)
      .map((i) => i.value);
    return {
      name: name.value.trim(),
      assigned_segment: segment.value,
      segments_allowed: kindAllow.checked ? chosen : null,
      segments_blocked: kindBlock.checked ? chosen : null,
      state: state.value,
      moderation_allowed: moderation.checked,
      comment: comment.value,
    };
  }
  function clearErrors() {
    for (const el of [error, nameError, segmentError, commentError, listError]) {
      el.textContent = "";
    }
    for (const el of [name, segment, comment]) el.removeAttribute("aria-invalid");
  }
  function showAt(where, input, text) {
    where.textContent = text;
    if (input) input.setAttribute("aria-invalid", "true");
  }
  /** Which field an API error concerns, by its rule (semantics §10) or its wording. */
  function fieldOf(err) {
    const rule = (err && err.body && err.body.rule) || "";
    const message = errorText(err);
    if (rule.startsWith("policy.name") || /policy name/.test(message)) return [nameError, name];
    if (rule === "policy.segment_exists" || rule === "policy.one_per_segment") {
      return [segmentError, segment];
    }
    if (/^policy\.(list|listed|one_list|multisegment)/.test(rule)) return [listError, null];
    if (/comment/.test(message)) return [commentError, comment];
    return null;
  }
  const initialBody = initial ? JSON.stringify(current()) : null;
  /** An edit that changes nothing has nothing to submit. */
  function unchanged() {
    return initialBody !== null && JSON.stringify(current()) === initialBody;
  }
  function review() {
    const body = current();
    const own = body.assigned_segment;
    const listed = body.segments_allowed || [];
    const notes = [];
    if (body.segments_allowed && !listed.some((n) => fold(n) === fold(own))) {
      notes.push(
        `The allow list leaves out its own segment ${own}: its members will not reach one another.`,
      );
    }
    for (const other of body.segments_allowed ? listed : []) {
      if (fold(other) === fold(own)) continue;
      const back = policies.find(
        (p) => fold(p.assigned_segment) === fold(other) && fold(p.name) !== fold(body.name),
      );
      const backList = back && back.segments_allowed;
      if (backList && !backList.some((n) => fold(n) === fold(own))) {
        notes.push(
          `One-sided: ${other}'s policy ${back.name} does not allow ${own}, so they still ` +
            `cannot reach each other (a barrier works both ways). Add ${own} to it too.`,
        );
      }
    }
    fill(warning, notes.length ? h("ul.plain", {}, notes.map((n) => h("li", { text: n }))) : null);
    const problem = nameProblem(name.value);
    nameError.textContent = name.value && problem ? problem : "";
    if (name.value && problem) name.setAttribute("aria-invalid", "true");
    else name.removeAttribute("aria-invalid");
    form.querySelector("#policy-submit").disabled = unchanged();
  }
  form.addEventListener("input", review);
  form.addEventListener("change", review);
  review();
  setTimeout(() => (lockName ? state : name).focus(), 0);
  return form;
}

const fold = (text) => String(text).trim().normalize("NFKC").toLowerCase();

/** A policy or segment name as core/limits.py checks it: 1-64 characters once trimmed,
 * no control or invisible character (Unicode categories Cc, Cf, Cs, Co, Cn, Zl, Zp). */
export function nameProblem(text) {
  const name = text.trim();
  if (!name) return "a policy name must not be empty";
  const length = [...name].length; // code points, as Python counts
  if (length > 64) return `a policy name is too long: ${length} characters, at most 64`;
  const bad = name.search(/[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u);
  if (bad >= 0) {
    return `invalid policy name: character ${bad + 1} is a control or invisible character`;
  }
  return null;
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

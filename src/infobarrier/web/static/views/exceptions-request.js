/* infobarrier web admin: Exceptions: the form to request one (semantics §11). Two users (picked
 * as on Explain) or two segments, the actions, a window typed in the viewer's own time zone and
 * sent in UTC, and a justification. The API checks everything (its clock, the tenant's longest
 * window, the directory); each of its refusals is shown next to the field it is about.
 */

import { ApiError, api, errorText, fill, flash, h } from "../kit.js";
import { clearErrors, field, fieldError } from "../fields.js";
import { userPicker } from "./explain.js";

/** The actions of §7 an exception may name, as the API spells them. */
export const ACTIONS = [
  ["chat", "chat (1:1)"],
  ["group-chat", "group-chat"],
  ["call", "call"],
  ["meeting-invite", "meeting-invite"],
  ["share-screen", "share-screen"],
  ["share-file", "share-file"],
  ["search", "search"],
  ["add-team-member", "add-team-member"],
];

/** The viewer's time zone, as the browser knows it ("Europe/Paris"). */
export function viewerZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "local time";
}

/** A datetime-local value ("2026-12-01T10:30") read in the viewer's time zone, as UTC ISO
 * 8601 ("2026-12-01T09:30:00Z"); "" stays "" and a value the browser cannot read is null. */
export function localToUtc(value) {
  if (!value) return "";
  const date = new Date(value); // a date-time without an offset is local time
  if (Number.isNaN(date.getTime())) return null;
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * Which field an API refusal of a request is about (the API's own words, core/exceptions.py
 * and service/exceptions.py), or null for the form as a whole.
 */
export function fieldOf(err, values) {
  const message = errorText(err);
  const lower = message.toLowerCase();
  const code = err instanceof ApiError ? err.body && err.body.code : null;
  const loc = /^body\.([a-z_]+)/.exec(message);
  if (loc) return { users: "user1", segments: "segment1", why: "why" }[loc[1]] || loc[1];
  const quoted = (name) => lower.includes(`'${(values[name] || "").trim().toLowerCase()}'`);
  if (code === "unknown_user") return ["user1", "user2"].find(quoted) || "user1";
  if (code === "unknown_segment") return ["segment1", "segment2"].find(quoted) || "segment1";
  if (/two different users/.test(lower)) return "user2";
  if (/two different segments/.test(lower)) return "segment2";
  if (/action/.test(lower)) return "actions";
  if (/justification/.test(lower)) return "why";
  if (/^start /.test(lower)) return "start";
  if (/window|^end /.test(lower)) return "end";
  return null;
}

function picker(name, label) {
  const f = field(name, label, {
    role: "combobox",
    "aria-autocomplete": "list",
    "aria-expanded": "false",
    "aria-controls": `exception-${name}-list`,
    spellcheck: "false",
    placeholder: "Type a name, UPN or mail",
    id: `exception-${name}`,
  });
  const list = h(`ul.picker-list#exception-${name}-list`, { role: "listbox", hidden: true });
  f.el.classList.add("picker");
  f.input.after(list);
  userPicker(f.input, list);
  return f;
}

/** The request form; ``onDone(exception)`` after the API accepted a request. */
export function requestForm(onDone) {
  const zone = viewerZone();
  const fields = {
    user1: picker("user1", "First user"),
    user2: picker("user2", "Second user"),
    segment1: field("segment1", "First segment", { list: "exception-segment-names", id: "exception-segment1" }),
    segment2: field("segment2", "Second segment", { list: "exception-segment-names", id: "exception-segment2" }),
    start: field("start", "Start", { type: "datetime-local", step: "60", id: "exception-start" }, {
      hint: `In your time zone (${zone}); empty: now.`,
    }),
    end: field("end", "End", { type: "datetime-local", step: "60", id: "exception-end" }, {
      hint: `In your time zone (${zone}).`,
    }),
    why: field("why", "Justification", { rows: 3, id: "exception-why" }, { tag: "textarea" }),
  };
  const boxes = ACTIONS.map(([value, text]) =>
    h("label.check", {}, h("input", { type: "checkbox", name: "actions", value }), text),
  );
  const actionsError = h("p.field-error#exception-actions-error", { "aria-live": "polite", dataset: { for: "actions" } });
  const actionsGroup = h(
    "div.checks#exception-actions",
    { role: "group", "aria-labelledby": "exception-actions-legend", "aria-describedby": "exception-actions-error" },
    boxes,
  );
  // clearErrors and fieldError work on {input, error}: the group stands for the boxes.
  fields.actions = { el: null, input: actionsGroup, error: actionsError, name: "actions" };
  const scopeUsers = h("input#exception-scope-users", { type: "radio", name: "scope", value: "users", checked: true });
  const scopeSegments = h("input#exception-scope-segments", { type: "radio", name: "scope", value: "segments" });
  const userFields = h("div.form-grid#exception-user-fields", {}, fields.user1.el, fields.user2.el);
  const segmentFields = h(
    "div.form-grid#exception-segment-fields",
    { hidden: true },
    fields.segment1.el,
    fields.segment2.el,
    h("datalist#exception-segment-names"),
  );
  const showScope = () => {
    userFields.hidden = !scopeUsers.checked;
    segmentFields.hidden = scopeUsers.checked;
  };
  scopeUsers.addEventListener("change", showScope);
  scopeSegments.addEventListener("change", showScope);
  const formError = h("p.form-error#exception-form-error", { role: "alert" });
  const submit = h("button.btn.btn-primary#exception-submit", { type: "submit", text: "Request exception" });
  const form = h(
    "form#exception-form",
    { noValidate: true, autocomplete: "off" },
    h(
      "fieldset.field",
      {},
      h("legend", { text: "Between" }),
      h(
        "div.radios",
        {},
        h("label.check", {}, scopeUsers, "two users"),
        h("label.check", {}, scopeSegments, "every member of two segments"),
      ),
      userFields,
      segmentFields,
    ),
    h(
      "fieldset.field",
      {},
      h("legend#exception-actions-legend", { text: "Actions it allows" }),
      actionsGroup,
      actionsError,
    ),
    h("div.form-grid", {}, fields.start.el, fields.end.el),
    fields.why.el,
    formError,
    h("div.form-actions", {}, submit),
  );
  api("GET", "/segments")
    .then((found) =>
      fill("#exception-segment-names", ...found.map((s) => h("option", { value: s.name }))),
    )
    .catch(() => {}); // a compliance token may not list segments: names are typed

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(fields, formError);
    actionsGroup.removeAttribute("aria-invalid");
    const values = Object.fromEntries(
      Object.entries(fields).map(([name, f]) => [name, f.input.value || ""]),
    );
    const body = {
      actions: boxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => i.value),
      why: values.why,
    };
    if (scopeUsers.checked) body.users = [values.user1.trim(), values.user2.trim()];
    else body.segments = [values.segment1.trim(), values.segment2.trim()];
    const start = localToUtc(values.start);
    const end = localToUtc(values.end);
    if (start === null || end === null) {
      const f = start === null ? fields.start : fields.end;
      fieldError(f, "not a date and time");
      f.input.focus();
      return;
    }
    if (start) body.start = start;
    if (end) body.end = end;
    submit.disabled = true;
    try {
      const created = await api("POST", "/exceptions", body);
      form.reset();
      showScope();
      flash(`Exception requested (${created.id}): another person approves it`, "success");
      await onDone(created);
    } catch (err) {
      const name = fieldOf(err, values);
      const f = name && fields[name];
      if (f) {
        fieldError(f, errorText(err));
        (name === "actions" ? boxes[0].querySelector("input") : f.input).focus();
      } else {
        fill(formError, errorText(err));
      }
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

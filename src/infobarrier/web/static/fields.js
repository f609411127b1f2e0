/* infobarrier web admin: what the directory, licensing, settings and audit views share:
 * labelled fields with their own error line, the API's name rules checked before sending,
 * an API error placed next to the field it concerns, a pager, file upload and download.
 */

import { Limits } from "../codes.js";
import { ApiError, errorText, fill, h, session, signOut } from "./kit.js";

// -- fields ---------------------------------------------------------------------------------
let counter = 0;

/** A labelled input with an error line under it (aria-describedby), as {el, input, error}. */
export function field(name, label, props = {}, options = {}) {
  const id = props.id || `f-${name}-${++counter}`;
  const errorId = `${id}-error`;
  const tag = options.tag || "input";
  const input = h(tag, {
    type: tag === "input" ? props.type || "text" : undefined,
    name,
    autocomplete: "off",
    "aria-describedby": errorId,
    ...props,
    id,
  });
  for (const [value, text] of options.choices || []) {
    input.append(h("option", { value, text }));
  }
  const error = h("p.field-error", { id: errorId, "aria-live": "polite", dataset: { for: name } });
  const hint = options.hint ? h("p.field-hint", { text: options.hint }) : null;
  const el = h("div.field", {}, h("label", { for: id, text: label }), input, hint, error);
  return { el, input, error, name };
}

/** Clear every field's error in `fields` (an object of field()s) and the form's. */
export function clearErrors(fields, formError) {
  for (const f of Object.values(fields)) {
    f.input.removeAttribute("aria-invalid");
    f.error.replaceChildren();
  }
  if (formError) formError.replaceChildren();
}

/** Show `message` at field `f` (focus it the first time). */
export function fieldError(f, message) {
  f.input.setAttribute("aria-invalid", "true");
  fill(f.error, message);
}

// -- the API's rules, before sending (core/limits.py) ------------------------------------------
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]/u;

/** The API's UPN rule (core.limits.check_upn): name@domain, no spaces, at most 320. */
export function upnProblem(text, what = "UserPrincipalName") {
  const upn = text.trim();
  if (!upn) return `${what} is required`;
  if (upn.length > Limits.MAX_UPN) return `${what} is longer than ${Limits.MAX_UPN} characters`;
  const at = upn.lastIndexOf("@");
  if (at <= 0 || at === upn.length - 1 || /\s/u.test(upn)) {
    return `invalid ${what} '${upn}': expected name@domain`;
  }
  if (INVISIBLE.test(upn)) return `${what} contains an invisible or control character`;
  return null;
}

/** A display name or other text: at most `max` characters, printable. */
export function textProblem(text, what, max, required = false) {
  const value = text.trim();
  if (required && !value) return `${what} is required`;
  if (value.length > max) return `${what} is longer than ${max} characters`;
  if (INVISIBLE.test(value)) return `${what} contains an invisible or control character`;
  return null;
}

/** Check `rules` ([field, problem-or-null]); show each problem; true when all pass. */
export function check(rules) {
  let okay = true;
  for (const [f, problem] of rules) {
    if (problem) {
      if (okay) f.input.focus();
      fieldError(f, problem);
      okay = false;
    }
  }
  return okay;
}

/**
 * Place an API error next to the field it concerns: a 422 names it (`body.upn: …`), a
 * core error by the value it quotes or by its code; else at `fallback` (a field name) if
 * given, else under the form.
 */
export function showApiError(err, fields, formError, fallback) {
  const message = errorText(err);
  const names = Object.keys(fields);
  let target = null;
  if (err instanceof ApiError) {
    const loc = /^(?:body|query)\.([a-z_]+)/.exec(message);
    if (loc) target = names.find((n) => n === loc[1]);
    const code = err.body && err.body.code;
    if (!target) {
      // The field whose value the message quotes ("no user 'x@y'"), the most precise.
      const lower = message.toLowerCase();
      target = names.find((n) => {
        const value = (fields[n].input.value || "").trim().toLowerCase();
        return value && !value.includes("\n") && lower.includes(`'${value}'`);
      });
    }
    if (!target && code === "invalid_upn") {
      target = /Mail/.test(message) && fields.mail ? "mail" : names.find((n) => /upn/.test(n));
    }
    if (!target && (code === "user_exists" || code === "group_exists")) target = names[0];
    if (!target) {
      target = names.find((n) => message.toLowerCase().includes(fields[n].name.replace("_", " ")));
    }
  }
  if (!target && fallback) target = fallback;
  if (target && fields[target]) {
    fieldError(fields[target], message);
    fields[target].input.focus();
  } else if (formError) {
    fill(formError, message);
  }
}

// -- paging -----------------------------------------------------------------------------------
/** "1–50 of 100,000" with Previous / Next buttons; onPage(newOffset). */
export function pager(label, total, offset, limit, shown, onPage) {
  const fmt = (n) => n.toLocaleString("en-US");
  const text = total
    ? `${fmt(offset + 1)}–${fmt(offset + shown)} of ${fmt(total)}`
    : "none";
  return h(
    "div.pager",
    { role: "group", "aria-label": `${label} pages` },
    h("span.pager-text", { text }),
    h("button.btn.btn-small", {
      type: "button",
      text: "Previous",
      disabled: offset <= 0,
      onclick: () => onPage(Math.max(0, offset - limit)),
    }),
    h("button.btn.btn-small", {
      type: "button",
      text: "Next",
      disabled: offset + shown >= total,
      onclick: () => onPage(offset + limit),
    }),
  );
}

/**
 * Run loaders so that only the answer to the newest request is shown: `latest(fn)`
 * calls fn(signal) and resolves to its value, or to undefined when a newer call started
 * (the older request is aborted).
 */
export function latestOnly() {
  let controller = null;
  return async (fn) => {
    if (controller) controller.abort();
    const mine = new AbortController();
    controller = mine;
    try {
      const value = await fn(mine.signal);
      return controller === mine ? value : undefined;
    } catch (err) {
      if (mine.signal.aborted) return undefined;
      throw err;
    }
  };
}

// -- raw bodies and downloads -------------------------------------------------------------------
function tenantUrl(path, query) {
  const s = session.get();
  if (!s) {
    signOut();
    throw new ApiError(401, { message: "signed out" });
  }
  let url = `/v1/tenants/${encodeURIComponent(s.tenant)}${path}`;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query || {})) {
    for (const v of [].concat(value)) {
      if (v !== undefined && v !== null && v !== "") params.append(key, v);
    }
  }
  if (params.toString()) url += `?${params}`;
  return { url, token: s.token };
}

async function call(method, path, { query, body, contentType, signal, accept } = {}) {
  const { url, token } = tenantUrl(path, query);
  const headers = { Authorization: `Bearer ${token}`, Accept: accept || "application/json" };
  if (contentType) headers["Content-Type"] = contentType;
  const response = await fetch(url, {
    method,
    headers,
    body,
    signal,
    credentials: "omit",
    cache: "no-store",
  });
  if (!response.ok) {
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (response.status === 401) signOut("expired");
    throw new ApiError(response.status, data);
  }
  return response;
}

/** GET a JSON answer, abortable (the kit's api() cannot be cancelled). */
export async function getJson(path, query, signal) {
  return (await call("GET", path, { query, signal })).json();
}

/** POST a file's text as it is (a CSV or a script); the JSON answer. */
export async function sendText(path, text, contentType) {
  return (await call("POST", path, { body: text, contentType })).json();
}

/** Download an API answer as a file named `filename` (the token stays in the header). */
export async function download(path, query, filename) {
  const response = await call("GET", path, { query, accept: "*/*" });
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return blob.size;
}

/** A file input and an "Import" button: reads the chosen file and calls onFile(text, name). */
export function uploader(name, label, accept, onFile) {
  const f = field(name, label, { type: "file", accept });
  const status = h("p.upload-status", { role: "status" });
  const button = h("button.btn", {
    type: "button",
    text: "Import",
    onclick: async () => {
      const file = f.input.files && f.input.files[0];
      f.error.replaceChildren();
      if (!file) {
        fieldError(f, "Choose a file first");
        return;
      }
      button.disabled = true;
      fill(status, `Importing ${file.name}…`);
      try {
        fill(status, await onFile(await file.text(), file.name));
        f.input.removeAttribute("aria-invalid");
      } catch (err) {
        fill(status);
        fieldError(f, errorText(err));
      } finally {
        button.disabled = false;
      }
    },
  });
  return h("div.uploader", {}, f.el, button, status);
}


/* infobarrier web admin: the shared kit: the session, DOM helpers, badges and tables, the API
 * client.
 */

import { ApplicationState } from "../codes.js";

export const SESSION_KEY = "infobarrier.session";
export const DRAFT_KEY = "infobarrier.draft";

// -- session ------------------------------------------------------------------------------
export const session = {
  get() {
    try {
      const value = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
      return value && value.tenant && value.token ? value : null;
    } catch {
      return null;
    }
  },
  set(value) {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(value));
  },
  clear() {
    sessionStorage.clear();
  },
};

export function signOut(reason) {
  session.clear();
  location.replace(reason ? `/?${reason}=1` : "/");
}

// -- DOM helpers --------------------------------------------------------------------------
/** h("tag.class#id", {attr: value, onclick: fn}, ...children): an element, safely. */
export function h(spec, props, ...children) {
  const tag = spec.match(/^[a-z0-9]*/i)[0] || "div";
  const el = document.createElement(tag);
  for (const [, kind, name] of spec.slice(tag.length).matchAll(/([.#])([^.#]+)/g)) {
    if (kind === "#") el.id = name;
    else el.classList.add(name);
  }
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key === "text") {
      el.textContent = value;
    } else if (value === true) {
      el.setAttribute(key, "");
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function $(selector) {
  return document.querySelector(selector);
}

/** How many entries a what-if list has in full (the server lists the first 1,000). */
export function total(changes, name) {
  return changes.totals && name in changes.totals ? changes.totals[name] : changes[name].length;
}

export function fill(target, ...children) {
  const el = typeof target === "string" ? $(target) : target;
  el.replaceChildren();
  return append(el, children);
}

export function badge(text, kind) {
  return h(`span.badge${kind ? ".badge-" + kind : ""}`, { text });
}

export function code(text) {
  return h("code", { text });
}

export function muted(text) {
  return h("span.muted", { text });
}

export function verdictBadge(allowed) {
  return allowed ? badge("✓ Allowed", "allow") : badge("✕ Blocked", "block");
}

export function statusBadge(status) {
  const kind = {
    [ApplicationState.COMPLETED]: "allow",
    [ApplicationState.FAILED]: "block",
    [ApplicationState.STOPPED]: "warn",
    [ApplicationState.IN_PROGRESS]: "info",
    [ApplicationState.NOT_STARTED]: "muted",
  }[status];
  return badge(status, kind);
}

/** A table from column headers and rows of cells (nodes or text). */
export function table(columns, rows, options = {}) {
  if (!rows.length) return h("p.empty", { text: options.empty || "Nothing to show." });
  return h(
    `table.data${options.className ? "." + options.className : ""}`,
    options.id ? { id: options.id } : {},
    options.caption ? h("caption.visually-hidden", { text: options.caption }) : null,
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", text: c })))),
    h(
      "tbody",
      {},
      rows.map((row) =>
        h(
          "tr",
          row.attrs || {},
          // data-label: a narrow screen shows each row as a card, the label before each cell.
          (row.cells || row).map((cell, k) => h("td", { "data-label": columns[k] || "" }, cell)),
        ),
      ),
    ),
  );
}

/** A timestamp as local "YYYY-MM-DD HH:MM:SS" (the browser's time zone). */
export function when(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const two = (n) => String(n).padStart(2, "0");
  return (
    `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ` +
    `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`
  );
}

export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many || one + "s"}`;
}

export function flash(message, kind = "info") {
  const el = $("#flash");
  if (!el) return;
  fill(el, h(`div.notice.notice-${kind}`, { text: message }));
}

export function clearFlash() {
  const el = $("#flash");
  if (el) el.replaceChildren();
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** A modal confirmation; resolves true when confirmed. */
export function confirmDialog(title, body, okLabel = "OK", danger = false) {
  const dialog = $("#confirm-dialog");
  fill("#confirm-title", title);
  fill("#confirm-text", body);
  const ok = $("#confirm-ok");
  ok.textContent = okLabel;
  ok.classList.toggle("btn-danger", danger);
  ok.classList.toggle("btn-primary", !danger);
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), {
      once: true,
    });
    dialog.returnValue = "cancel";
    dialog.showModal();
    ok.focus();
  });
}

// -- API ----------------------------------------------------------------------------------
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

/** ``options.signal``: an AbortSignal, so a view can cancel a request a newer one replaces
 * (the fetch then rejects with an AbortError, which the view ignores). */
export async function request(tenant, token, method, path, body, query, options = {}) {
  let url = `/v1/tenants/${encodeURIComponent(tenant)}${path}`;
  if (query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      for (const v of [].concat(value)) {
        if (v !== undefined && v !== null && v !== "") params.append(key, v);
      }
    }
    const text = params.toString();
    if (text) url += `?${text}`;
  }
  const headers = { Authorization: `Bearer ${token}`, Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
    signal: options.signal,
  });
  let data = null;
  if (response.status !== 204) {
    try {
      data = await response.json();
    } catch (err) {
      // A request cancelled while its body was read is cancelled, not an empty answer.
      if (aborted(err) || (options.signal && options.signal.aborted)) throw err;
      data = null;
    }
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export async function api(method, path, body, query, options) {
  const s = session.get();
  if (!s) {
    signOut();
    throw new ApiError(401, { message: "signed out" });
  }
  try {
    return await request(s.tenant, s.token, method, path, body, query, options);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) signOut("expired");
    throw err;
  }
}

/** True for the error of a request cancelled by its AbortController. */
export function aborted(err) {
  return !!err && err.name === "AbortError";
}

/** The message of an API error as the API words it, with its rule or position. */
export function errorText(err) {
  if (!(err instanceof ApiError)) return String(err && err.message ? err.message : err);
  return err.message;
}


/** A reason as a sentence: capitalised, unless it starts with a UPN. */
export function capitalise(text) {
  if (!text || text.split(" ", 1)[0].includes("@")) return text;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

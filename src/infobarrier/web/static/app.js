/* infobarrier web admin: a thin adapter over the JSON API.
 *
 * The bearer token lives in sessionStorage only (this tab, until sign-out or close): it is
 * sent in the Authorization header, never in a cookie, a URL or localStorage. Every DOM
 * node is built with textContent (no innerHTML), so no data is ever parsed as HTML.
 */
"use strict";

(() => {
  const SESSION_KEY = "infobarrier.session";
  const DRAFT_KEY = "infobarrier.draft";

  // -- session ------------------------------------------------------------------------------
  const session = {
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

  function signOut(reason) {
    session.clear();
    location.replace(reason ? `/?${reason}=1` : "/");
  }

  // -- DOM helpers --------------------------------------------------------------------------
  /** h("tag.class#id", {attr: value, onclick: fn}, ...children): an element, safely. */
  function h(spec, props, ...children) {
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

  function append(el, children) {
    for (const child of children.flat(Infinity)) {
      if (child === undefined || child === null || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function $(selector) {
    return document.querySelector(selector);
  }

  /** How many entries a what-if list has in full (the server lists the first 1,000). */
  function total(changes, name) {
    return changes.totals && name in changes.totals ? changes.totals[name] : changes[name].length;
  }

  function fill(target, ...children) {
    const el = typeof target === "string" ? $(target) : target;
    el.replaceChildren();
    return append(el, children);
  }

  function badge(text, kind) {
    return h(`span.badge${kind ? ".badge-" + kind : ""}`, { text });
  }

  function code(text) {
    return h("code", { text });
  }

  function muted(text) {
    return h("span.muted", { text });
  }

  function verdictBadge(allowed) {
    return allowed ? badge("✓ Allowed", "allow") : badge("✕ Blocked", "block");
  }

  function statusBadge(status) {
    const kind = {
      Completed: "allow",
      Failed: "block",
      Stopped: "warn",
      InProgress: "info",
      NotStarted: "muted",
    }[status];
    return badge(status, kind);
  }

  /** A table from column headers and rows of cells (nodes or text). */
  function table(columns, rows, options = {}) {
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
            (row.cells || row).map((cell) => h("td", {}, cell)),
          ),
        ),
      ),
    );
  }

  /** A timestamp as local "YYYY-MM-DD HH:MM:SS" (the browser's time zone). */
  function when(iso) {
    if (!iso) return "—";
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return iso;
    const two = (n) => String(n).padStart(2, "0");
    return (
      `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ` +
      `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`
    );
  }

  function plural(n, one, many) {
    return `${n} ${n === 1 ? one : many || one + "s"}`;
  }

  function flash(message, kind = "info") {
    const el = $("#flash");
    if (!el) return;
    fill(el, h(`div.notice.notice-${kind}`, { text: message }));
  }

  function clearFlash() {
    const el = $("#flash");
    if (el) el.replaceChildren();
  }

  function debounce(fn, ms) {
    let timer = null;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
  }

  /** A modal confirmation; resolves true when confirmed. */
  function confirmDialog(title, body, okLabel = "OK", danger = false) {
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
  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.message) || `HTTP ${status}`);
      this.status = status;
      this.body = body || {};
    }
  }

  async function request(tenant, token, method, path, body, query) {
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
    });
    let data = null;
    if (response.status !== 204) {
      try {
        data = await response.json();
      } catch {
        data = null;
      }
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  async function api(method, path, body, query) {
    const s = session.get();
    if (!s) {
      signOut();
      throw new ApiError(401, { message: "signed out" });
    }
    try {
      return await request(s.tenant, s.token, method, path, body, query);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) signOut("expired");
      throw err;
    }
  }

  /** The message of an API error as the API words it, with its rule or position. */
  function errorText(err) {
    if (!(err instanceof ApiError)) return String(err && err.message ? err.message : err);
    return err.message;
  }

  // -- sign-in ------------------------------------------------------------------------------
  function initSignIn() {
    if (session.get()) {
      location.replace("/web/overview");
      return;
    }
    const params = new URLSearchParams(location.search);
    const notice = $("#signin-notice");
    if (params.has("expired")) {
      notice.textContent = "Your token is no longer valid: sign in again.";
      notice.hidden = false;
    } else if (params.has("signedout")) {
      notice.textContent = "You have signed out.";
      notice.hidden = false;
    }
    const form = $("#signin-form");
    const error = $("#signin-error");
    $("#signin-tenant").focus();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      const tenant = $("#signin-tenant").value.trim().toLowerCase();
      const token = $("#signin-token").value.trim();
      if (!tenant || !token) {
        error.textContent = "Give both the tenant and a token.";
        return;
      }
      const button = $("#signin-submit");
      button.disabled = true;
      try {
        const overview = await request(tenant, token, "GET", "/overview");
        session.set({ tenant, token, role: overview.role });
        location.assign("/web/overview");
      } catch (err) {
        const status = err instanceof ApiError ? err.status : 0;
        error.textContent =
          status === 401
            ? "This token is unknown or revoked."
            : status === 404
              ? `The token does not belong to tenant "${tenant}" (or there is no such tenant).`
              : status === 403
                ? "This token's role cannot use the admin page: use an admin or auditor token."
                : `Sign-in failed: ${errorText(err)}`;
        $("#signin-token").select();
      } finally {
        button.disabled = false;
      }
    });
  }

  // -- overview -----------------------------------------------------------------------------
  function card(label, value, sub, kind) {
    return h(
      `div.card${kind ? ".card-" + kind : ""}`,
      { dataset: { card: label } },
      h("div.card-label", { text: label }),
      h(`div.card-value${/^[#\d]/.test(value) ? "" : ".card-text"}`, { text: value }),
      sub ? h("div.card-sub", { text: sub }) : null,
    );
  }

  async function initOverview() {
    const data = await api("GET", "/overview");
    const last = data.last_application;
    fill(
      "#overview-cards",
      card(
        "Mode",
        data.mode,
        `People search restriction ${data.people_search_restriction ? "Enabled" : "Disabled"}`,
      ),
      card(
        "Users",
        String(data.users.total),
        `${data.users.enabled} enabled · ${plural(data.users.service_accounts, "service account")}`,
      ),
      card(
        "Segmented",
        String(data.segmented),
        `in ${plural(data.applied.segments.length, "segment")}`,
      ),
      card("Unsegmented", String(data.unsegmented), "in no segment"),
      card(
        "Active policies",
        String(data.applied.active_policies),
        `in force · ${data.defined.policies} defined, ${data.defined.active_policies} Active`,
      ),
      card(
        "Conflicts",
        String(data.conflicts.length),
        data.conflicts.length ? "IBPolicyConflict: blocked until fixed" : "none",
        data.conflicts.length ? "bad" : "good",
      ),
      card(
        "Epoch in force",
        data.epoch ? `#${data.epoch}` : "none",
        last ? `application #${last.number} ${last.status.toLowerCase()}` : "never applied",
      ),
      card(
        "Licensing findings",
        String(data.findings.length),
        data.findings.length ? "need a license" : "all licensed",
        data.findings.length ? "warn" : "good",
      ),
    );
    $("#overview-pending").hidden = !data.pending_changes;
    if (last) {
      fill(
        "#overview-last-app",
        h(
          "dl.facts",
          {},
          h("dt", { text: "Application" }),
          h("dd", {}, `#${last.number} `, statusBadge(last.status)),
          h("dt", { text: "Started" }),
          h("dd", { text: when(last.started) }),
          h("dt", { text: "Ended" }),
          h("dd", { text: when(last.ended) }),
          h("dt", { text: "By" }),
          h("dd", {}, code(last.actor)),
          h("dt", { text: "Recipients" }),
          h("dd", { text: `${last.total_recipients} (${last.failed_recipients} failed)` }),
          last.error ? h("dt", { text: "Error" }) : null,
          last.error ? h("dd", { text: last.error }) : null,
        ),
      );
    } else {
      fill("#overview-last-app", h("p.empty", { text: "No application yet." }));
    }
    fill(
      "#overview-segments",
      table(
        ["Segment", "Users", "Policy"],
        data.applied.segments.map((s) => [s.name, String(s.users), s.policy || muted("none")]),
        { empty: "No segment is in force." },
      ),
    );
    fill(
      "#overview-findings",
      data.findings.length
        ? table(
            ["User", "Missing", "Finding"],
            data.findings.map((f) => [f.upn, code(f.plan), f.message]),
            { id: "findings-table" },
          )
        : h("p.ok", {
            text:
              "No findings: every segmented user holds INFORMATION_BARRIERS and Exchange, " +
              "and every service account Remote Assist.",
          }),
    );
    fill(
      "#overview-conflicts",
      data.conflicts.length
        ? table(
            ["User", "Matches segments"],
            data.conflicts.map((c) => [c.upn, c.segments.join(", ")]),
          )
        : h("p.ok", { text: "No user is in IBPolicyConflict." }),
    );
  }

  // -- matrix -------------------------------------------------------------------------------
  async function initMatrix() {
    const data = await api("GET", "/matrix");
    fill(
      "#matrix-epoch",
      data.epoch ? `Epoch #${data.epoch} · ${data.mode} mode` : `Never applied · ${data.mode} mode`,
    );
    const names = data.rows.map((r) => r.name);
    const detail = $("#cell-detail");
    let pinned = null;

    function show(i, j) {
      const row = data.rows[i];
      const cell = row.cells[j];
      fill(
        detail,
        h("h2.cell-title", {}, names[i], h("span.arrow", { text: " ↔ " }), names[j]),
        h(`p.verdict-line`, {}, verdictBadge(cell.allowed)),
        h("p.reason", { text: capitalise(cell.reason) }),
        h(
          "dl.facts",
          {},
          h("dt", { text: "Policy" }),
          h("dd", {}, cell.policy ? cell.policy : muted("none")),
          h("dt", { text: "Code" }),
          h("dd", {}, code(cell.code)),
          h("dt", { text: "Users" }),
          h("dd", { text: `${row.users} × ${data.rows[j].users}` }),
        ),
      );
    }

    const head = h(
      "tr",
      {},
      h("th.corner", { scope: "col" }, h("span", { text: "Segment (users)" })),
      names.map((name, j) =>
        h("th.col-head", { scope: "col", dataset: { col: j } }, h("span", { text: name })),
      ),
    );
    const body = data.rows.map((row, i) =>
      h(
        "tr",
        { dataset: { row: i } },
        h(
          "th.row-head",
          { scope: "row" },
          h("span.row-name", { text: row.name }),
          h("span.row-count", { text: String(row.users) }),
          row.policy
            ? h("span.row-policy", { text: row.policy })
            : h("span.row-policy", {
                text: i === data.rows.length - 1 ? "users in no segment" : "no policy",
              }),
        ),
        row.cells.map((cell, j) => {
          const label = `${row.name} and ${names[j]}: ${cell.allowed ? "allowed" : "blocked"}${
            cell.policy ? ` (policy ${cell.policy})` : ""
          }`;
          const button = h(
            `button.cell.${cell.allowed ? "cell-allow" : "cell-block"}`,
            {
              type: "button",
              title: `${label}. ${capitalise(cell.reason)}`,
              "aria-label": label,
              dataset: { row: i, col: j, a: row.name, b: names[j] },
            },
            cell.allowed ? "✓" : "✕",
          );
          const focus = () => {
            highlight(i, j);
            if (pinned === null) show(i, j);
          };
          button.addEventListener("mouseenter", focus);
          button.addEventListener("focus", focus);
          button.addEventListener("click", () => {
            pinned = [i, j];
            document.querySelectorAll(".cell.pinned").forEach((c) => c.classList.remove("pinned"));
            button.classList.add("pinned");
            highlight(i, j);
            show(i, j);
          });
          return h("td", {}, button);
        }),
      ),
    );
    const grid = h(
      "table.matrix#matrix",
      { "aria-describedby": "cell-detail" },
      h("caption.visually-hidden", { text: "Segment by segment verdicts" }),
      h("thead", {}, head),
      h("tbody", {}, body),
    );
    grid.addEventListener("mouseleave", () => {
      highlight(null, null);
      if (pinned) show(...pinned);
    });
    fill("#matrix-grid", grid);

    function highlight(i, j) {
      grid.querySelectorAll(".hl").forEach((el) => el.classList.remove("hl"));
      if (i === null) return;
      grid.querySelector(`tr[data-row="${i}"] .row-head`)?.classList.add("hl");
      grid.querySelector(`th[data-col="${j}"]`)?.classList.add("hl");
    }
  }

  /** A reason as a sentence: capitalised, unless it starts with a UPN. */
  function capitalise(text) {
    if (!text || text.split(" ", 1)[0].includes("@")) return text;
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  // -- filters ------------------------------------------------------------------------------
  /** Live "does it parse, where not, how many users" under a filter input. */
  function filterPreview(input, status) {
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
  function policyForm({
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

  function listOf(policy) {
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

  function stateBadge(state) {
    return badge(state, state === "Active" ? "info" : "muted");
  }

  // -- segments & policies ------------------------------------------------------------------
  async function initBarriers(ctx) {
    const settings = await api("GET", "/settings");
    let segments = [];

    async function reload() {
      const [segs, policies] = await Promise.all([
        api("GET", "/segments"),
        api("GET", "/policies"),
      ]);
      segments = segs;
      fill(
        "#segments-list",
        table(
          ["Name", "Filter", "Users now", "Policy", ""],
          segs.map((s) => ({
            attrs: { dataset: { segment: s.name } },
            cells: [
              h("strong", { text: s.name }),
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
                      "aria-label": `Edit the filter of ${s.name}`,
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

  // -- what-if ------------------------------------------------------------------------------
  const POLICY_FIELDS = [
    "name",
    "assigned_segment",
    "segments_allowed",
    "segments_blocked",
    "state",
    "moderation_allowed",
    "comment",
  ];

  function policyBody(p) {
    const body = {};
    for (const key of POLICY_FIELDS) body[key] = p[key] === undefined ? null : p[key];
    body.comment = body.comment || "";
    body.moderation_allowed = !!body.moderation_allowed;
    return body;
  }

  const fold = (s) => String(s || "").toLowerCase();
  const sameList = (a, b) =>
    (a === null) === (b === null) &&
    JSON.stringify((a || []).map(fold).sort()) === JSON.stringify((b || []).map(fold).sort());

  /** What differs between a saved policy and its draft: "" when nothing. */
  function changeOf(saved, draft) {
    if (!saved) return "new";
    if (fold(saved.assigned_segment) !== fold(draft.assigned_segment)) return "changed";
    const same =
      sameList(saved.segments_allowed, draft.segments_allowed) &&
      sameList(saved.segments_blocked, draft.segments_blocked) &&
      saved.state === draft.state &&
      !!saved.moderation_allowed === !!draft.moderation_allowed &&
      (saved.comment || "") === (draft.comment || "");
    return same ? "" : "changed";
  }

  async function initWhatIf(ctx) {
    if (!ctx.admin) {
      $("#whatif-readonly").hidden = false;
      return;
    }
    const s = session.get();
    const key = `${DRAFT_KEY}.${s.tenant}`;
    const settings = await api("GET", "/settings");
    let segments = await api("GET", "/segments");
    let saved = await api("GET", "/policies");
    let draft = loadDraft();

    function loadDraft() {
      try {
        const stored = JSON.parse(sessionStorage.getItem(key) || "null");
        if (stored && Array.isArray(stored.policies)) return stored.policies;
      } catch {
        /* a broken draft is dropped */
      }
      return saved.map(policyBody);
    }
    function saveDraft() {
      sessionStorage.setItem(key, JSON.stringify({ policies: draft }));
    }
    function savedByName() {
      return new Map(saved.map((p) => [fold(p.name), p]));
    }
    function removedPolicies() {
      const names = new Set(draft.map((p) => fold(p.name)));
      return saved.filter((p) => !names.has(fold(p.name)));
    }
    function counts() {
      const byName = savedByName();
      let created = 0;
      let changed = 0;
      for (const p of draft) {
        const change = changeOf(byName.get(fold(p.name)), p);
        if (change === "new") created += 1;
        else if (change === "changed") changed += 1;
      }
      return { created, changed, removed: removedPolicies().length };
    }

    const editor = $("#draft-editor");
    function openForm(existing) {
      const form = policyForm({
        segments,
        mode: settings.mode,
        initial: existing,
        lockName: !!existing,
        submitLabel: existing ? "Update draft" : "Add to draft",
        defaultState: "Active",
        onCancel: () => {
          editor.hidden = true;
        },
        onSubmit: async (body) => {
          const next = existing
            ? draft.map((p) => (fold(p.name) === fold(existing.name) ? body : p))
            : [...draft, body];
          // The same rules as the API: the server checks the whole draft, saving nothing.
          const preview = await api("POST", "/what-if", { policies: next.map(policyBody) });
          draft = next;
          saveDraft();
          editor.hidden = true;
          renderDraft();
          renderPreview(preview);
        },
      });
      fill(editor, form);
      editor.hidden = false;
      editor.scrollIntoView({ block: "nearest" });
    }

    function renderDraft() {
      const byName = savedByName();
      const rows = draft.map((p) => {
        const change = changeOf(byName.get(fold(p.name)), p);
        return {
          attrs: { dataset: { policy: p.name, change: change || "same" } },
          cells: [
            h("strong", { text: p.name }),
            p.assigned_segment,
            listOf(p),
            stateBadge(p.state),
            change ? badge(change, change === "new" ? "info" : "warn") : muted("unchanged"),
            h(
              "div.row-actions",
              {},
              h("button.btn.btn-small", {
                type: "button",
                text: "Edit",
                "aria-label": `Edit draft policy ${p.name}`,
                onclick: () => openForm(p),
              }),
              h("button.btn.btn-small.btn-danger-ghost", {
                type: "button",
                text: "Remove",
                "aria-label": `Remove draft policy ${p.name}`,
                onclick: () => {
                  draft = draft.filter((d) => d !== p);
                  saveDraft();
                  renderDraft();
                  refresh();
                },
              }),
            ),
          ],
        };
      });
      for (const p of removedPolicies()) {
        rows.push({
          attrs: { class: "row-removed", dataset: { policy: p.name, change: "removed" } },
          cells: [
            h("s", { text: p.name }),
            p.assigned_segment,
            listOf(p),
            stateBadge(p.state),
            badge("removed", "block"),
            h(
              "div.row-actions",
              {},
              h("button.btn.btn-small", {
                type: "button",
                text: "Restore",
                "aria-label": `Restore policy ${p.name}`,
                onclick: () => {
                  draft = [...draft, policyBody(p)];
                  saveDraft();
                  renderDraft();
                  refresh();
                },
              }),
            ),
          ],
        });
      }
      fill(
        "#draft-list",
        table(["Name", "Segment", "List", "State", "Draft", ""], rows, {
          empty: "No policy in the draft.",
          id: "draft-table",
        }),
      );
      const c = counts();
      const dirty = c.created + c.changed + c.removed;
      fill(
        "#draft-summary",
        dirty
          ? `${c.created} new · ${c.changed} changed · ${c.removed} removed`
          : "Same as the saved definitions",
      );
    }

    function section(title, id, content, count) {
      return h(
        "section.preview-section",
        { id, "aria-label": title },
        h("h3", {}, title, count === undefined ? null : h("span.count", { text: String(count) })),
        content,
      );
    }

    const ACTION_TEXT = {
      chat_read_only: "becomes read-only",
      chat_participant_removed: "loses a participant",
      team_member_removed: "loses a member",
      team_owner_removed: "loses an owner",
      meeting_invitee_removed: "loses an invitee",
      meeting_organizer_removed: "loses its organizer",
      call_ended: "ends",
    };

    function renderPreview(p) {
      const conversations = p.reconciliation || [];
      const nothing =
        !p.pairs_blocked.length &&
        !p.pairs_allowed.length &&
        !p.users_changed.length &&
        !p.new_conflicts.length &&
        !p.resolved_conflicts.length &&
        !conversations.length;
      fill("#preview-status", `Compared with the epoch in force · ${p.total_recipients} users`);
      const chips = h(
        "ul.chips#preview-summary",
        { "aria-label": "Summary" },
        h("li.chip.chip-block", { text: `${plural(total(p, "pairs_blocked"), "pair")} blocked` }),
        h("li.chip.chip-allow", { text: `${plural(total(p, "pairs_allowed"), "pair")} allowed` }),
        h("li.chip", { text: plural(total(p, "users_changed"), "user") + " change segments" }),
        h("li.chip" + (p.new_conflicts.length ? ".chip-block" : ""), {
          text: plural(total(p, "new_conflicts"), "new conflict"),
        }),
        h("li.chip" + (conversations.length ? ".chip-warn" : ""), {
          text: plural(conversations.length, "conversation change"),
        }),
      );
      const pairRows = [
        ...p.pairs_blocked.map((x) => [x.a, x.b, verdictBadge(false), capitalise(x.reason)]),
        ...p.pairs_allowed.map((x) => [x.a, x.b, verdictBadge(true), capitalise(x.reason)]),
      ];
      const warnings =
        p.warnings && p.warnings.length
          ? h(
              "div.notice.notice-warn#preview-warnings",
              {},
              p.warnings.map((w) => h("div", { text: `⚠ ${w}` })),
            )
          : null;
      if (nothing) {
        fill(
          "#preview",
          chips,
          warnings,
          h("p.ok#preview-nothing", {
            text: "Applying the draft would change nothing that is in force.",
          }),
        );
        return;
      }
      fill(
        "#preview",
        chips,
        warnings,
        section(
          "Existing conversations affected",
          "preview-conversations",
          table(
            ["Conversation", "What happens", "User", "Why"],
            conversations.map((a) => [
              h("span.object", { text: a.object_label || a.object_id }),
              ACTION_TEXT[a.kind] || a.kind,
              a.upn || muted("—"),
              capitalise(a.reason),
            ]),
            { empty: "No existing chat, team, meeting or call would change." },
          ),
          conversations.length,
        ),
        section(
          "Segment pairs that change",
          "preview-pairs",
          table(["Segment", "Segment", "Becomes", "Why"], pairRows, {
            empty: "No pair of segments changes.",
          }),
          pairRows.length,
        ),
        section(
          "Users whose segments change",
          "preview-users",
          table(
            ["User", "Before", "After"],
            p.users_changed.map((u) => [
              u.upn,
              u.before.join(", ") || muted("(none)"),
              u.after.join(", ") || muted("(none)"),
            ]),
            { empty: "No user changes segments." },
          ),
          p.users_changed.length,
        ),
        section(
          "New conflicts",
          "preview-conflicts",
          table(
            ["User", "Matches segments"],
            p.new_conflicts.map((c) => [c.upn, c.segments.join(", ")]),
            {
              empty: p.resolved_conflicts.length
                ? `No new conflict; resolved: ${p.resolved_conflicts.join(", ")}`
                : "No new conflict.",
            },
          ),
          p.new_conflicts.length,
        ),
        p.findings.length
          ? section(
              "Licensing findings after apply",
              "preview-findings",
              h(
                "ul.plain",
                {},
                p.findings.map((f) => h("li", { text: f })),
              ),
              p.findings.length,
            )
          : null,
      );
    }

    let sequence = 0;
    async function refresh() {
      const mine = ++sequence;
      fill("#preview-status", "Computing…");
      try {
        const preview = await api("POST", "/what-if", { policies: draft.map(policyBody) });
        if (mine === sequence) renderPreview(preview);
      } catch (err) {
        if (mine !== sequence) return;
        fill("#preview-status", "");
        fill(
          "#preview",
          h("div.notice.notice-error#preview-error", {
            text: `The draft cannot be applied: ${errorText(err)}`,
          }),
        );
      }
    }

    async function reloadSaved() {
      [segments, saved] = await Promise.all([api("GET", "/segments"), api("GET", "/policies")]);
    }

    $("#draft-add").addEventListener("click", () => openForm(null));
    $("#preview-refresh").addEventListener("click", refresh);
    $("#draft-discard").addEventListener("click", async () => {
      const c = counts();
      if (c.created + c.changed + c.removed) {
        const ok = await confirmDialog(
          "Discard the draft?",
          "The draft's changes are dropped; nothing was saved.",
          "Discard",
          true,
        );
        if (!ok) return;
      }
      sessionStorage.removeItem(key);
      await reloadSaved();
      draft = saved.map(policyBody);
      editor.hidden = true;
      renderDraft();
      flash("Draft discarded.", "info");
      await refresh();
    });
    $("#draft-apply").addEventListener("click", applyDraft);

    async function applyDraft() {
      clearFlash();
      await reloadSaved();
      const byName = savedByName();
      const steps = [];
      const draftNames = new Set(draft.map((p) => fold(p.name)));
      for (const p of saved) {
        const mine = draft.find((d) => fold(d.name) === fold(p.name));
        if (!draftNames.has(fold(p.name)) || (mine && fold(mine.assigned_segment) !== fold(p.assigned_segment))) {
          steps.push({ label: `remove ${p.name}`, run: () => api("DELETE", `/policies/${encodeURIComponent(p.name)}`) });
        }
      }
      for (const p of draft) {
        const old = byName.get(fold(p.name));
        const change = changeOf(old, p);
        if (change === "changed" && fold(old.assigned_segment) === fold(p.assigned_segment)) {
          const patch = { state: p.state, moderation_allowed: !!p.moderation_allowed, comment: p.comment || "" };
          if (p.segments_allowed) patch.segments_allowed = p.segments_allowed;
          if (p.segments_blocked) patch.segments_blocked = p.segments_blocked;
          steps.push({ label: `update ${p.name}`, run: () => api("PATCH", `/policies/${encodeURIComponent(p.name)}`, patch) });
        }
      }
      for (const p of draft) {
        const old = byName.get(fold(p.name));
        if (!old || fold(old.assigned_segment) !== fold(p.assigned_segment)) {
          steps.push({ label: `create ${p.name}`, run: () => api("POST", "/policies", policyBody(p)) });
        }
      }
      const ok = await confirmDialog(
        "Apply the draft?",
        h(
          "div",
          {},
          h("p", {
            text: steps.length
              ? `Save ${plural(steps.length, "policy change")}, then start an application:`
              : "The draft matches the saved definitions: start an application.",
          }),
          steps.length ? h("ul.plain", {}, steps.map((st) => h("li", { text: st.label }))) : null,
          h("p.muted", {
            text: "Existing chats, teams, meetings and calls are reconciled as the preview shows.",
          }),
        ),
        "Apply",
      );
      if (!ok) return;
      const progress = $("#apply-progress");
      const bar = $("#apply-bar");
      const label = $("#apply-label");
      const buttons = ["#draft-apply", "#draft-discard", "#draft-add"].map((sel) => $(sel));
      buttons.forEach((b) => (b.disabled = true));
      progress.hidden = false;
      progress.classList.remove("failed", "done");
      const total = steps.length;
      const set = (value, text) => {
        bar.value = value;
        bar.textContent = `${value}%`;
        label.textContent = text;
      };
      try {
        for (const [n, step] of steps.entries()) {
          set(Math.round((15 * n) / Math.max(total, 1)), `Saving policies: ${step.label} (${n + 1}/${total})`);
          await step.run();
        }
        set(15, "Starting the application…");
        let app = await api("POST", "/applications");
        while (app.status === "InProgress") {
          set(15 + Math.round((85 * app.percent) / 100), `Application #${app.number}: ${app.percent}%`);
          await new Promise((resolve) => setTimeout(resolve, 250));
          app = await api("GET", `/applications/${app.id}`);
        }
        if (app.status !== "Completed") {
          throw new Error(`application #${app.number} ${app.status.toLowerCase()}${app.error ? ": " + app.error : ""}`);
        }
        set(100, `Application #${app.number} completed`);
        progress.classList.add("done");
        const actions = (app.report && app.report.reconciliation) || [];
        flash(
          `Applied: application #${app.number} completed for ${plural(app.total_recipients, "recipient")} ` +
            `(${app.failed_recipients} failed); ${plural(actions.length, "conversation change")}.`,
          "ok",
        );
        sessionStorage.removeItem(key);
        await reloadSaved();
        draft = saved.map(policyBody);
        renderDraft();
        await refresh();
      } catch (err) {
        progress.classList.add("failed");
        label.textContent = `Stopped: ${errorText(err)}`;
        flash(`The draft was not fully applied: ${errorText(err)}`, "error");
        await reloadSaved();
        renderDraft();
      } finally {
        buttons.forEach((b) => (b.disabled = false));
      }
    }

    renderDraft();
    await refresh();
  }

  // -- explain ------------------------------------------------------------------------------
  function userPicker(input, list) {
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

  function userCard(u, title) {
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

  async function initExplain() {
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

  // -- applications & audit ------------------------------------------------------------------
  function changesText(report) {
    if (!report || !report.changes) return "";
    const c = report.changes;
    const parts = [];
    if (c.pairs_blocked && c.pairs_blocked.length) {
      parts.push(`${plural(total(c, "pairs_blocked"), "pair")} blocked`);
    }
    if (c.pairs_allowed && c.pairs_allowed.length) {
      parts.push(`${plural(total(c, "pairs_allowed"), "pair")} allowed`);
    }
    if (c.users_changed && c.users_changed.length) parts.push(plural(total(c, "users_changed"), "user") + " moved");
    const actions = report.reconciliation || [];
    if (actions.length) parts.push(plural(actions.length, "conversation change"));
    return parts.join(" · ") || "no change";
  }

  /** An entry's detail in a line: its reason if it has one, else its plain fields. */
  function detailText(detail) {
    const d = detail || {};
    const text =
      typeof d.reason === "string"
        ? d.reason
        : Object.entries(d)
            .filter(([, v]) => v !== null && v !== undefined && typeof v !== "object")
            .map(([k, v]) => `${k}=${v}`)
            .join("  ");
    return text.length > 160 ? `${text.slice(0, 157)}…` : text;
  }

  async function initHistory() {
    const apps = await api("GET", "/applications");
    fill(
      "#applications",
      table(
        ["#", "Status", "Started", "Ended", "By", "Recipients", "Failed", "Epoch", "Changes"],
        apps.map((a) => ({
          attrs: { dataset: { application: a.number } },
          cells: [
            String(a.number),
            h("span", {}, statusBadge(a.status), a.status === "InProgress" ? ` ${a.percent}%` : ""),
            h("span.nowrap", { text: when(a.started) }),
            h("span.nowrap", { text: when(a.ended) }),
            h("code.nowrap", { text: a.actor }),
            String(a.total_recipients),
            String(a.failed_recipients),
            a.report && a.report.epoch ? `#${a.report.epoch}` : muted("—"),
            a.error ? h("span.bad", { text: a.error }) : changesText(a.report),
          ],
        })),
        { empty: "No application yet.", id: "applications-table" },
      ),
    );

    const PAGE = 25;
    let entries = [];
    let shown = PAGE;
    const kinds = new Set();

    function toIso(local) {
      if (!local) return undefined;
      const date = new Date(local);
      return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
    }

    function render() {
      const newest = [...entries].reverse();
      const rows = newest.slice(0, shown).map((e) => ({
        attrs: { dataset: { seq: e.seq, kind: e.kind } },
        cells: [
          String(e.seq),
          h("span.nowrap", { text: when(e.at) }),
          h("code.nowrap", { text: e.actor }),
          badge(e.kind, e.kind.includes("refused") || e.kind.startsWith("reconciliation") ? "warn" : "muted"),
          h(
            "div.detail",
            {},
            h("span", { text: detailText(e.detail) }),
            h(
              "details",
              {},
              h("summary", { text: "JSON" }),
              h("pre", { text: JSON.stringify(e.detail, null, 2) }),
            ),
          ),
          h("code.hash", { title: e.hash, text: e.hash.slice(0, 12) }),
        ],
      }));
      fill(
        "#audit",
        h("p.muted#audit-count", {
          text: `${plural(entries.length, "entry", "entries")}, newest first`,
        }),
        table(["#", "At", "Actor", "Kind", "Detail", "Hash"], rows, {
          empty: "No entry matches.",
          id: "audit-table",
        }),
        newest.length > shown
          ? h("button.btn#audit-more", {
              type: "button",
              text: `Show ${Math.min(PAGE, newest.length - shown)} more`,
              onclick: () => {
                shown += PAGE;
                render();
              },
            })
          : null,
      );
    }

    async function load() {
      const kind = $("#audit-kind").value.trim();
      try {
        entries = await api("GET", "/audit", undefined, {
          kind: kind || undefined,
          actor: $("#audit-actor").value.trim() || undefined,
          since: toIso($("#audit-since").value),
          until: toIso($("#audit-until").value),
        });
        shown = PAGE;
        for (const e of entries) kinds.add(e.kind);
        fill(
          "#audit-kinds",
          [...kinds].sort().map((k) => h("option", { value: k })),
        );
        render();
      } catch (err) {
        fill("#audit", h("div.notice.notice-error", { text: errorText(err) }));
      }
    }

    $("#audit-filters").addEventListener("submit", (e) => {
      e.preventDefault();
      load();
    });
    $("#audit-filters").addEventListener("reset", () => setTimeout(load, 0));
    $("#audit-verify").addEventListener("click", async () => {
      try {
        const result = await api("GET", "/audit/verify");
        fill(
          "#chain-status",
          result.intact
            ? h("div.notice.notice-ok#chain-result", {
                text: `✓ The hash chain is intact: ${plural(result.entries, "entry", "entries")} checked.`,
              })
            : h("div.notice.notice-error#chain-result", {
                text: `✕ The chain is broken at entry #${result.first_broken}: ${result.reason}`,
              }),
        );
      } catch (err) {
        fill("#chain-status", h("div.notice.notice-error", { text: errorText(err) }));
      }
    });
    await load();
  }

  // -- start --------------------------------------------------------------------------------
  const PAGES = {
    overview: initOverview,
    matrix: initMatrix,
    barriers: initBarriers,
    "what-if": initWhatIf,
    explain: initExplain,
    history: initHistory,
  };

  async function start() {
    const page = document.body.dataset.page;
    if (page === "signin") {
      initSignIn();
      return;
    }
    const s = session.get();
    if (!s) {
      location.replace("/");
      return;
    }
    const admin = s.role === "admin";
    document.body.classList.toggle("read-only", !admin);
    $("#session-tenant").textContent = s.tenant;
    $("#session-role").textContent = s.role;
    $("#session-info").hidden = false;
    $("#sign-out").addEventListener("click", () => signOut("signedout"));
    const init = PAGES[page];
    if (!init) return;
    document.body.classList.add("loading");
    try {
      await init({ admin, tenant: s.tenant, role: s.role });
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) {
        flash(`Could not load this page: ${errorText(err)}`, "error");
      }
    } finally {
      document.body.classList.remove("loading");
      document.body.dataset.ready = "true";
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

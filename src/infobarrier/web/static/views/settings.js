/* infobarrier web admin: Settings & tokens: the tenant's mode and people-search restriction
 * (semantics §1), and the API tokens: create one for a person with a role and an expiry,
 * see when each was last used, revoke.
 */

import { api, badge, confirmDialog, errorText, fill, flash, h, muted, table, when } from "../kit.js";
import { check, clearErrors, field, showApiError, textProblem } from "../fields.js";

const MODES = [
  ["Legacy", "Legacy: no segments are enforced"],
  ["SingleSegment", "SingleSegment: each user in at most one segment"],
  ["MultiSegment", "MultiSegment: users may be in several segments (allow lists only)"],
];

const ROLES = [
  ["admin", "admin: everything in this tenant"],
  ["auditor", "auditor: reads everything"],
  ["compliance", "compliance: approves and revokes exceptions, reads everything"],
  ["enforcer", "enforcer: decisions, for an enforcement point"],
  ["provisioner", "provisioner: SCIM provisioning only"],
];

function settingsPanel(admin) {
  const f = {
    mode: field("mode", "Mode", { id: "settings-mode", disabled: !admin }, { tag: "select", choices: MODES }),
  };
  const search = h("input#settings-search", { type: "checkbox", disabled: !admin });
  const error = h("p.form-error", { role: "alert" });
  let saved = null;
  const save = h("button.btn.btn-primary#settings-save", { type: "submit", text: "Save settings", disabled: true });

  function changed() {
    return saved && (f.mode.input.value !== saved.mode || search.checked !== saved.people_search_restriction);
  }
  function show(settings) {
    saved = settings;
    f.mode.input.value = settings.mode;
    search.checked = settings.people_search_restriction;
    save.disabled = true;
  }
  const form = h(
    "form#settings-form",
    { novalidate: true, "aria-labelledby": "settings-title" },
    h("h2#settings-title", { text: "Tenant settings" }),
    h(
      "p.panel-note",
      {},
      "The walls protect conversations: who may chat, call, meet, share or find whom. " +
        "The mode says how many segments a user may be in; the restriction hides people " +
        "from the search of those they may not reach.",
    ),
    f.mode.el,
    h(
      "div.field",
      {},
      h("label.check", { for: "settings-search" }, search, "Restrict people search to reachable users"),
    ),
    error,
    admin ? h("div.form-actions", {}, save) : null,
  );
  form.addEventListener("input", () => {
    save.disabled = !changed();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(f, error);
    const body = {};
    if (f.mode.input.value !== saved.mode) body.mode = f.mode.input.value;
    if (search.checked !== saved.people_search_restriction) {
      body.people_search_restriction = search.checked;
    }
    try {
      show(await api("PATCH", "/settings", body));
      flash("Settings saved.", "ok");
    } catch (err) {
      showApiError(err, f, error);
    }
  });
  async function load() {
    show(await api("GET", "/settings"));
  }
  return { panel: h("section.panel", {}, form), load };
}

function tokensPanel(admin) {
  const list = h("div#tokens-list", { "aria-live": "polite" });
  const secret = h("div#token-secret", { "aria-live": "polite" });
  const f = {
    person: field("person", "Issued to (a person's name)", { id: "token-person", maxlength: 256 }),
    role: field("role", "Role", { id: "token-role" }, { tag: "select", choices: ROLES }),
    expires_at: field(
      "expires_at",
      "Expires (your time zone; empty: never)",
      { id: "token-expires", type: "datetime-local" },
    ),
    label: field("label", "Label (optional)", { id: "token-label", maxlength: 256 }),
  };
  const error = h("p.form-error", { role: "alert" });

  async function revoke(t) {
    const sure = await confirmDialog(
      `Revoke the token of ${t.person || t.label || t.id}?`,
      "It stops working at once; this cannot be undone.",
      "Revoke",
      true,
    );
    if (!sure) return;
    try {
      await api("DELETE", `/tokens/${encodeURIComponent(t.id)}`);
      flash(`Revoked token ${t.id}.`, "ok");
      load();
    } catch (err) {
      flash(errorText(err), "error");
    }
  }

  async function load() {
    const tokens = await api("GET", "/tokens");
    const now = Date.now();
    fill(
      list,
      h(
        "div.table-scroll",
        {},
        table(
          ["Issued to", "Role", "Created", "Expires", "Last used", "State", admin ? "Actions" : ""],
          tokens.map((t) => {
            const expired = t.expires_at && new Date(t.expires_at).getTime() <= now;
            return {
              attrs: { dataset: { token: t.id, person: t.person || "" } },
              cells: [
                h("span", {}, t.person || muted("—"), h("br"), muted(`${t.label ? t.label + " · " : ""}${t.id}`)),
                badge(t.role, t.role === "admin" ? "warn" : "muted"),
                h("span.nowrap", { text: when(t.created_at) }),
                h("span.nowrap", { text: t.expires_at ? when(t.expires_at) : "never" }),
                h("span.nowrap", { text: t.last_used_at ? when(t.last_used_at) : "never" }),
                t.revoked_at
                  ? badge("revoked", "block")
                  : expired
                    ? badge("expired", "warn")
                    : badge("active", "allow"),
                admin && !t.revoked_at
                  ? h("button.btn.btn-small.btn-danger-ghost", {
                      type: "button",
                      text: "Revoke",
                      "aria-label": `Revoke the token of ${t.person || t.label || t.id}`,
                      onclick: () => revoke(t),
                    })
                  : null,
              ],
            };
          }),
          { id: "tokens-table", caption: "Tokens", empty: "No token." },
        ),
      ),
    );
  }

  const form = h(
    "form.editor#token-form",
    { novalidate: true, "aria-label": "New token" },
    h("h3", { text: "New token" }),
    h("div.form-grid", {}, f.person.el, f.role.el, f.expires_at.el, f.label.el),
    error,
    h("div.form-actions", {}, h("button.btn.btn-primary#token-create", { type: "submit", text: "Create token" })),
    secret,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(f, error);
    secret.replaceChildren();
    const expires = f.expires_at.input.value;
    const at = expires ? new Date(expires) : null;
    const rules = [
      [f.person, textProblem(f.person.input.value, "The person's name", 256, true)],
      [f.label, textProblem(f.label.input.value, "The label", 256)],
      [
        f.expires_at,
        at && (Number.isNaN(at.getTime()) || at.getTime() <= Date.now())
          ? "The expiry must be in the future"
          : null,
      ],
    ];
    if (!check(rules)) return;
    try {
      const created = await api("POST", "/tokens", {
        person: f.person.input.value.trim(),
        role: f.role.input.value,
        label: f.label.input.value.trim(),
        expires_at: at ? at.toISOString() : undefined,
      });
      fill(
        secret,
        h(
          "div.notice.notice-ok",
          {},
          h("p", { text: `Token for ${created.person} (${created.role}), shown once: copy it now.` }),
          h("input#token-value", {
            type: "text",
            readonly: true,
            value: created.token,
            "aria-label": "The new token",
          }),
        ),
      );
      f.person.input.value = "";
      f.label.input.value = "";
      f.expires_at.input.value = "";
      load();
    } catch (err) {
      showApiError(err, f, error);
    }
  });
  return {
    panel: h(
      "section.panel",
      { "aria-labelledby": "tokens-title" },
      h("h2#tokens-title", { text: "API tokens" }),
      h(
        "p.panel-note",
        {},
        "Each token acts for one tenant with one role; the audit log names the person it was issued to.",
      ),
      admin ? form : null,
      list,
    ),
    load,
  };
}

export async function initSettings({ admin }) {
  const settings = settingsPanel(admin);
  const tokens = tokensPanel(admin);
  fill("#settings", settings.panel, tokens.panel);
  await Promise.all([settings.load(), tokens.load()]);
}

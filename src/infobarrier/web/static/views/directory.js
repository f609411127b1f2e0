/* infobarrier web admin: Directory: users and vendor service accounts (search, pages,
 * create, edit attributes, disable, delete), groups and their members, imports and exports
 * (Entra ID CSV, PowerShell).
 *
 * Lists are paged on the server (GET .../directory/users, /directory/groups): at 100,000
 * users the page receives one page of 50, never the directory. A newer search aborts the
 * older request, so a slow answer never replaces a newer one.
 */

import { Limits } from "../../codes.js";
import {
  $,
  api,
  badge,
  confirmDialog,
  debounce,
  errorText,
  fill,
  flash,
  h,
  muted,
  plural,
  table,
} from "../kit.js";
import {
  check,
  clearErrors,
  download,
  field,
  getJson,
  latestOnly,
  pager,
  sendText,
  showApiError,
  textProblem,
  upnProblem,
  uploader,
} from "../fields.js";

const PAGE = 50;

/** "Key=Value" lines as an attributes object; a problem names the line. */
export function parseAttributes(text) {
  const attributes = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) return { problem: `line ${i + 1}: expected Name=Value, e.g. Department=Sales` };
    const name = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (name.length > Limits.MAX_NAME) {
      return { problem: `line ${i + 1}: the attribute name is longer than ${Limits.MAX_NAME}` };
    }
    attributes[name] = value;
  }
  return { attributes };
}

function attributesText(attributes) {
  return Object.entries(attributes || {})
    .map(([k, v]) => `${k}=${v}`)
    .join("\n");
}

// -- users -------------------------------------------------------------------------------------
function userForm(admin, kind, initial, done) {
  const editing = Boolean(initial);
  const f = {};
  f.upn = field("upn", "UserPrincipalName", {
    value: initial ? initial.upn : "",
    readonly: editing,
    maxlength: Limits.MAX_UPN,
    placeholder: "name@domain",
  });
  f.display_name = field("display_name", "Display name", {
    value: initial ? initial.display_name : "",
    maxlength: Limits.MAX_DISPLAY_NAME,
  });
  if (kind === "service_account" && !editing) {
    f.vendor = field("vendor", "Vendor company", { maxlength: Limits.MAX_DISPLAY_NAME });
    f.sponsor = field("sponsor", "Sponsor (an internal user's UPN)", {
      maxlength: Limits.MAX_UPN,
      placeholder: "name@domain",
    });
  }
  if (kind === "person" && !editing) {
    f.mail = field("mail", "Mail", { maxlength: Limits.MAX_UPN });
  }
  f.attributes = field(
    "attributes",
    "Attributes (one Name=Value a line)",
    { rows: 4, value: initial ? attributesText(initial.attributes) : "" },
    {
      tag: "textarea",
      hint: "Segmentable attributes, e.g. Department=Sales. Clear a value to remove it.",
    },
  );
  const error = h("p.form-error", { role: "alert" });
  const title = editing
    ? `Edit ${initial.upn}`
    : kind === "service_account"
      ? "New service account"
      : "New user";
  const form = h(
    "form.editor#user-form",
    { novalidate: true, autocomplete: "off", "aria-label": title },
    h("h3", { text: title }),
    h(
      "div.form-grid",
      {},
      Object.values(f)
        .filter((x) => x.name !== "attributes")
        .map((x) => x.el),
    ),
    f.attributes.el,
    error,
    h(
      "div.form-actions",
      {},
      h("button.btn.btn-primary", { type: "submit", text: editing ? "Save" : "Create" }),
      h("button.btn", { type: "button", text: "Cancel", onclick: () => done(false) }),
    ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(f, error);
    const parsed = parseAttributes(f.attributes.input.value);
    const rules = [
      [f.upn, editing ? null : upnProblem(f.upn.input.value)],
      [
        f.display_name,
        textProblem(f.display_name.input.value, "Display name", Limits.MAX_DISPLAY_NAME),
      ],
      [f.attributes, parsed.problem || null],
    ];
    if (f.vendor) {
      rules.push([
        f.vendor,
        textProblem(f.vendor.input.value, "Vendor company", Limits.MAX_DISPLAY_NAME, true),
      ]);
      rules.push([f.sponsor, upnProblem(f.sponsor.input.value, "Sponsor")]);
    }
    if (f.mail && f.mail.input.value.trim()) {
      rules.push([f.mail, upnProblem(f.mail.input.value, "Mail")]);
    }
    if (!check(rules)) return;
    const displayName = f.display_name.input.value.trim();
    try {
      let saved;
      if (editing) {
        const attributes = { ...parsed.attributes };
        for (const key of Object.keys(initial.attributes || {})) {
          if (!(key in attributes)) attributes[key] = "";
        }
        saved = await api("PATCH", `/users/${encodeURIComponent(initial.upn)}`, {
          display_name: displayName || undefined,
          attributes,
        });
      } else if (kind === "service_account") {
        saved = await api("POST", "/service-accounts", {
          upn: f.upn.input.value.trim(),
          display_name: displayName || undefined,
          vendor: f.vendor.input.value.trim(),
          sponsor: f.sponsor.input.value.trim(),
          attributes: parsed.attributes,
        });
      } else {
        saved = await api("POST", "/users", {
          upn: f.upn.input.value.trim(),
          display_name: displayName || undefined,
          mail: f.mail.input.value.trim(),
          attributes: parsed.attributes,
        });
      }
      flash(`${editing ? "Saved" : "Created"} ${saved.upn}.`, "ok");
      done(true);
    } catch (err) {
      showApiError(err, f, error);
    }
  });
  setTimeout(() => (editing ? f.display_name : f.upn).input.focus(), 0);
  return form;
}

function usersPanel(admin) {
  const latest = latestOnly();
  let offset = 0;
  const search = h("input#user-search", {
    type: "search",
    placeholder: "UPN, name or mail",
    autocomplete: "off",
  });
  const kind = h(
    "select#user-kind",
    {},
    h("option", { value: "", text: "Everyone" }),
    h("option", { value: "person", text: "People" }),
    h("option", { value: "service_account", text: "Service accounts" }),
  );
  const editor = h("div#user-editor");
  const list = h("div#users-list", { "aria-live": "polite", "aria-busy": "false" });

  function openForm(formKind, initial) {
    fill(
      editor,
      userForm(admin, formKind, initial, (changed) => {
        editor.replaceChildren();
        if (changed) load();
      }),
    );
  }

  async function toggle(user) {
    try {
      await api("PATCH", `/users/${encodeURIComponent(user.upn)}`, {
        account_enabled: !user.account_enabled,
      });
      flash(`${user.upn} is ${user.account_enabled ? "disabled" : "enabled"}.`, "ok");
      load();
    } catch (err) {
      flash(errorText(err), "error");
    }
  }

  async function remove(user) {
    const sure = await confirmDialog(
      `Delete ${user.upn}?`,
      "The user leaves every group and segment at once; this cannot be undone.",
      "Delete",
      true,
    );
    if (!sure) return;
    try {
      await api("DELETE", `/users/${encodeURIComponent(user.upn)}`);
      flash(`Deleted ${user.upn}.`, "ok");
      load();
    } catch (err) {
      flash(errorText(err), "error");
    }
  }

  function row(u) {
    const vendor = u.kind === "service_account" ? u.attributes.Company || "" : "";
    return {
      attrs: { dataset: { upn: u.upn } },
      cells: [
        h("span.cell-upn", {}, h("code", { text: u.upn }), h("br"), muted(u.display_name || "")),
        u.kind === "service_account" ? badge("service account", "info") : badge("person", "muted"),
        u.kind === "service_account"
          ? h("span", {}, vendor, h("br"), muted(u.sponsor ? `sponsor ${u.sponsor}` : ""))
          : muted(u.attributes.Department || "—"),
        u.account_enabled ? badge("enabled", "allow") : badge("disabled", "block"),
        muted(u.groups.length ? u.groups.join(", ") : "—"),
        admin
          ? h(
              "div.row-actions",
              {},
              h("button.btn.btn-small", {
                type: "button",
                text: "Edit",
                "aria-label": `Edit ${u.upn}`,
                onclick: () => openForm(u.kind, u),
              }),
              h("button.btn.btn-small", {
                type: "button",
                text: u.account_enabled ? "Disable" : "Enable",
                "aria-label": `${u.account_enabled ? "Disable" : "Enable"} ${u.upn}`,
                onclick: () => toggle(u),
              }),
              h("button.btn.btn-small.btn-danger-ghost", {
                type: "button",
                text: "Delete",
                "aria-label": `Delete ${u.upn}`,
                onclick: () => remove(u),
              }),
            )
          : null,
      ],
    };
  }

  async function load() {
    list.setAttribute("aria-busy", "true");
    try {
      const page = await latest((signal) =>
        getJson(
          "/directory/users",
          { q: search.value.trim(), kind: kind.value, offset, limit: PAGE },
          signal,
        ),
      );
      if (!page) return;
      fill(
        list,
        h(
          "div.table-scroll",
          {},
          table(
            ["User", "Kind", "Vendor / department", "Account", "Groups", admin ? "Actions" : ""],
            page.items.map(row),
            { id: "users-table", caption: "Users", empty: "No user matches." },
          ),
        ),
        pager("Users", page.total, offset, PAGE, page.items.length, (next) => {
          offset = next;
          load();
        }),
      );
      list.dataset.total = page.total;
    } catch (err) {
      fill(list, h("div.notice.notice-error", { text: errorText(err) }));
    } finally {
      list.setAttribute("aria-busy", "false");
    }
  }

  const reload = debounce(() => {
    offset = 0;
    load();
  }, 200);
  search.addEventListener("input", reload);
  kind.addEventListener("change", reload);

  const panel = h(
    "section.panel",
    { "aria-labelledby": "users-title" },
    h(
      "div.panel-head",
      {},
      h("h2#users-title", { text: "Users and service accounts" }),
      admin
        ? h(
            "div.toolbar",
            {},
            h("button.btn.btn-primary#user-new", {
              type: "button",
              text: "New user",
              onclick: () => openForm("person"),
            }),
            h("button.btn.btn-primary#service-account-new", {
              type: "button",
              text: "New service account",
              onclick: () => openForm("service_account"),
            }),
          )
        : null,
    ),
    h(
      "div.admin-filters",
      { role: "search" },
      h("div.field", {}, h("label", { for: "user-search", text: "Search" }), search),
      h("div.field", {}, h("label", { for: "user-kind", text: "Kind" }), kind),
    ),
    editor,
    list,
  );
  return { panel, load };
}

// -- groups ------------------------------------------------------------------------------------
function groupsPanel(admin) {
  const latest = latestOnly();
  let offset = 0;
  const search = h("input#group-search", { type: "search", placeholder: "Group name or mail" });
  const editor = h("div#group-editor");
  const list = h("div#groups-list", { "aria-live": "polite" });
  const members = h("div#group-members");

  function newGroupForm() {
    const f = {
      display_name: field("display_name", "Group name", { maxlength: Limits.MAX_DISPLAY_NAME }),
      mail: field("mail", "Mail (optional)", { maxlength: Limits.MAX_UPN }),
    };
    const error = h("p.form-error", { role: "alert" });
    const form = h(
      "form.editor#group-form",
      { novalidate: true, "aria-label": "New group" },
      h("h3", { text: "New group" }),
      h("div.form-grid", {}, f.display_name.el, f.mail.el),
      error,
      h(
        "div.form-actions",
        {},
        h("button.btn.btn-primary", { type: "submit", text: "Create" }),
        h("button.btn", { type: "button", text: "Cancel", onclick: () => editor.replaceChildren() }),
      ),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(f, error);
      const mail = f.mail.input.value.trim();
      const ok = check([
        [
          f.display_name,
          textProblem(f.display_name.input.value, "Group name", Limits.MAX_DISPLAY_NAME, true),
        ],
        [f.mail, mail ? upnProblem(mail, "Mail") : null],
      ]);
      if (!ok) return;
      try {
        const group = await api("POST", "/groups", {
          display_name: f.display_name.input.value.trim(),
          mail,
        });
        flash(`Created group ${group.display_name}.`, "ok");
        editor.replaceChildren();
        load();
      } catch (err) {
        showApiError(err, f, error);
      }
    });
    fill(editor, form);
    f.display_name.input.focus();
  }

  async function showMembers(name, at = 0) {
    try {
      const page = await getJson(`/directory/groups/${encodeURIComponent(name)}/members`, {
        offset: at,
        limit: PAGE,
      });
      const add = field("member", "Add a member (UPN)", { maxlength: Limits.MAX_UPN });
      const error = h("p.form-error", { role: "alert" });
      const addForm = admin
        ? h(
            "form.inline-form",
            {
              novalidate: true,
              onsubmit: async (event) => {
                event.preventDefault();
                clearErrors({ add }, error);
                if (!check([[add, upnProblem(add.input.value)]])) return;
                try {
                  await api(
                    "PUT",
                    `/groups/${encodeURIComponent(name)}/members/${encodeURIComponent(add.input.value.trim())}`,
                  );
                  flash(`Added ${add.input.value.trim()} to ${name}.`, "ok");
                  showMembers(name, at);
                  load();
                } catch (err) {
                  showApiError(err, { member: add }, error);
                }
              },
            },
            add.el,
            h("button.btn", { type: "submit", text: "Add" }),
            error,
          )
        : null;
      fill(
        members,
        h(
          "section.subpanel",
          { "aria-labelledby": "members-title" },
          h("h3#members-title", { text: `Members of ${page.group.display_name}` }),
          addForm,
          table(
            ["Member", "Kind", admin ? "Actions" : ""],
            page.items.map((m) => ({
              attrs: { dataset: { member: m.upn } },
              cells: [
                h("span", {}, h("code", { text: m.upn }), " ", muted(m.display_name)),
                m.kind === "service_account" ? badge("service account", "info") : "person",
                admin
                  ? h("button.btn.btn-small.btn-danger-ghost", {
                      type: "button",
                      text: "Remove",
                      "aria-label": `Remove ${m.upn} from ${name}`,
                      onclick: async () => {
                        try {
                          await api(
                            "DELETE",
                            `/groups/${encodeURIComponent(name)}/members/${encodeURIComponent(m.upn)}`,
                          );
                          showMembers(name, at);
                          load();
                        } catch (err) {
                          flash(errorText(err), "error");
                        }
                      },
                    })
                  : null,
              ],
            })),
            { id: "members-table", caption: `Members of ${name}`, empty: "No member." },
          ),
          pager("Members", page.total, at, PAGE, page.items.length, (next) =>
            showMembers(name, next),
          ),
        ),
      );
    } catch (err) {
      fill(members, h("div.notice.notice-error", { text: errorText(err) }));
    }
  }

  async function removeGroup(g) {
    const sure = await confirmDialog(
      `Delete group ${g.display_name}?`,
      "Its members stay in the directory; segments filtering on this group lose them.",
      "Delete",
      true,
    );
    if (!sure) return;
    try {
      await api("DELETE", `/groups/${encodeURIComponent(g.display_name)}`);
      flash(`Deleted group ${g.display_name}.`, "ok");
      members.replaceChildren();
      load();
    } catch (err) {
      flash(errorText(err), "error");
    }
  }

  async function load() {
    try {
      const page = await latest((signal) =>
        getJson("/directory/groups", { q: search.value.trim(), offset, limit: PAGE }, signal),
      );
      if (!page) return;
      fill(
        list,
        h(
          "div.table-scroll",
          {},
          table(
            ["Group", "Mail", "Members", "Actions"],
            page.items.map((g) => ({
              attrs: { dataset: { group: g.display_name } },
              cells: [
                g.display_name,
                muted(g.mail || "—"),
                String(g.members),
                h(
                  "div.row-actions",
                  {},
                  h("button.btn.btn-small", {
                    type: "button",
                    text: "Members",
                    "aria-label": `Members of ${g.display_name}`,
                    onclick: () => showMembers(g.display_name),
                  }),
                  admin
                    ? h("button.btn.btn-small.btn-danger-ghost", {
                        type: "button",
                        text: "Delete",
                        "aria-label": `Delete group ${g.display_name}`,
                        onclick: () => removeGroup(g),
                      })
                    : null,
                ),
              ],
            })),
            { id: "groups-table", caption: "Groups", empty: "No group matches." },
          ),
        ),
        pager("Groups", page.total, offset, PAGE, page.items.length, (next) => {
          offset = next;
          load();
        }),
      );
    } catch (err) {
      fill(list, h("div.notice.notice-error", { text: errorText(err) }));
    }
  }

  search.addEventListener(
    "input",
    debounce(() => {
      offset = 0;
      load();
    }, 200),
  );
  const panel = h(
    "section.panel",
    { "aria-labelledby": "groups-title" },
    h(
      "div.panel-head",
      {},
      h("h2#groups-title", { text: "Groups" }),
      admin
        ? h("button.btn.btn-primary#group-new", {
            type: "button",
            text: "New group",
            onclick: newGroupForm,
          })
        : null,
    ),
    h(
      "div.admin-filters",
      { role: "search" },
      h("div.field", {}, h("label", { for: "group-search", text: "Search groups" }), search),
    ),
    editor,
    list,
    members,
  );
  return { panel, load };
}

// -- import and export ---------------------------------------------------------------------------
function transferPanel(admin, reload) {
  const imports = admin
    ? h(
        "div.columns-tight",
        {},
        uploader("users-csv", "Entra ID users CSV", ".csv,text/csv", async (text) => {
          const r = await sendText("/directory/users.csv", text, "text/csv");
          reload();
          return `Imported ${plural(r.rows, "row")}: ${r.created} created, ${r.updated} updated, ${plural(r.groups_changed, "group")} changed.`;
        }),
        uploader("groups-csv", "Groups CSV", ".csv,text/csv", async (text) => {
          const r = await sendText("/directory/groups.csv", text, "text/csv");
          reload();
          return `Imported ${plural(r.rows, "row")}: ${plural(r.groups_changed, "group")} changed.`;
        }),
        uploader("script", "PowerShell script (IB cmdlets)", ".ps1,text/plain", async (text) => {
          const r = await sendText("/powershell", text, "text/plain; charset=utf-8");
          const applied = r.applications.length
            ? `, started ${plural(r.applications.length, "application")}`
            : "";
          return `Ran ${plural(r.commands, "command")} (${r.skipped_what_if} -WhatIf skipped)${applied}.`;
        }),
      )
    : null;
  const status = h("p.muted#export-status", { role: "status" });
  const exportButton = (label, path, query, name) =>
    h("button.btn", {
      type: "button",
      text: label,
      onclick: async () => {
        try {
          const size = await download(path, query, name);
          fill(status, `Downloaded ${name} (${size.toLocaleString("en-US")} bytes).`);
        } catch (err) {
          fill(status, h("span.bad", { text: errorText(err) }));
        }
      },
    });
  const tenant = $("#session-tenant").textContent;
  return h(
    "section.panel",
    { "aria-labelledby": "transfer-title" },
    h("h2#transfer-title", { text: "Import and export" }),
    h(
      "p.panel-note",
      {},
      "An import is all or nothing: an error names the line and column, and nothing changes. ",
      "The users CSV is Entra ID's “Download users” file; the script runs IB cmdlets " +
        "(New-OrganizationSegment, New-InformationBarrierPolicy, Start-InformationBarrierPoliciesApplication…).",
    ),
    imports,
    h(
      "div.toolbar.export-buttons",
      {},
      exportButton("Export users CSV", "/directory/users.csv", {}, `${tenant}-users.csv`),
      exportButton("Export groups CSV", "/directory/groups.csv", {}, `${tenant}-groups.csv`),
      exportButton("Export script (in force)", "/powershell", {}, `${tenant}-barriers.ps1`),
      exportButton(
        "Export script (definitions)",
        "/powershell",
        { definitions: "true" },
        `${tenant}-definitions.ps1`,
      ),
    ),
    status,
  );
}

export async function initDirectory({ admin }) {
  const users = usersPanel(admin);
  const groups = groupsPanel(admin);
  fill(
    "#directory",
    users.panel,
    groups.panel,
    transferPanel(admin, () => {
      users.load();
      groups.load();
    }),
  );
  await Promise.all([users.load(), groups.load()]);
}

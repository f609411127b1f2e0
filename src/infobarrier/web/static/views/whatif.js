/* infobarrier web admin: What-if: edit the policies as a draft, preview what applying it would
 * change, apply.
 */

import {
  $,
  api,
  badge,
  capitalise,
  clearFlash,
  confirmDialog,
  DRAFT_KEY,
  errorText,
  fill,
  flash,
  h,
  muted,
  plural,
  session,
  table,
  total,
  verdictBadge,
  when,
} from "../kit.js";
import { listOf, policyForm, stateBadge } from "../forms.js";

// -- what-if ------------------------------------------------------------------------------
export const POLICY_FIELDS = [
  "name",
  "assigned_segment",
  "segments_allowed",
  "segments_blocked",
  "state",
  "moderation_allowed",
  "comment",
];

export function policyBody(p) {
  const body = {};
  for (const key of POLICY_FIELDS) body[key] = p[key] === undefined ? null : p[key];
  body.comment = body.comment || "";
  body.moderation_allowed = !!body.moderation_allowed;
  return body;
}

export const fold = (s) => String(s || "").toLowerCase();
export const sameList = (a, b) =>
  (a === null) === (b === null) &&
  JSON.stringify((a || []).map(fold).sort()) === JSON.stringify((b || []).map(fold).sort());

/** What differs between a saved policy and its draft: "" when nothing. */
export function changeOf(saved, draft) {
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

export async function initWhatIf(ctx) {
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

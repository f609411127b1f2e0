/* infobarrier web admin: What-if: edit the policies as a draft, preview what applying it would
 * change, apply. The draft lives in this tab's sessionStorage until applied or discarded;
 * whatif-plan.js turns it into API calls, whatif-preview.js renders the server's preview.
 */

import {
  $,
  api,
  badge,
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
} from "../kit.js";
import { listOf, policyForm, stateBadge } from "../forms.js";
import { changeOf, fold, planSteps, policyBody, saveAndApply } from "./whatif-plan.js";
import { renderPreview } from "./whatif-preview.js";

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
    const steps = planSteps(saved, draft);
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
    try {
      const app = await saveAndApply(steps, (value, text) => {
        bar.value = value;
        bar.textContent = `${value}%`;
        label.textContent = text;
      });
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

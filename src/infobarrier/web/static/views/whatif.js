/* infobarrier web admin: What-if: edit the policies as a draft, preview what applying it would
 * change, apply. The draft lives in this tab's sessionStorage until applied or discarded;
 * whatif-plan.js turns it into API calls, whatif-preview.js renders the server's preview.
 */

import {
  $,
  aborted,
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
  // Every change of the draft bumps its version. An answer computed for an older version
  // never replaces the draft nor is shown as its preview: at 100,000 users a preview takes
  // seconds, and edits made meanwhile must survive it.
  let version = 0;

  /** The draft becomes `next`: saved in the tab, redrawn, a new version. */
  function setDraft(next) {
    draft = next;
    version += 1;
    saveDraft();
    renderDraft();
  }

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
      policies: draft,
      mode: settings.mode,
      initial: existing,
      lockName: !!existing,
      submitLabel: existing ? "Update draft" : "Add to draft",
      defaultState: "Active",
      onCancel: () => {
        editor.hidden = true;
      },
      onSubmit: async (body) => {
        const edit = (policies) =>
          existing && policies.some((p) => fold(p.name) === fold(existing.name))
            ? policies.map((p) => (fold(p.name) === fold(existing.name) ? body : p))
            : [...policies.filter((p) => fold(p.name) !== fold(body.name)), body];
        const asked = version;
        // The same rules as the API: the server checks the whole draft, saving nothing.
        const preview = await api("POST", "/what-if", { policies: edit(draft).map(policyBody) });
        // The edit goes into the draft as it is now, not as it was when asked: removals
        // and other edits made while the server computed are kept.
        setDraft(edit(draft));
        editor.hidden = true;
        if (asked + 1 === version) {
          cancelPreview();
          renderPreview(preview);
        } else {
          refresh();
        }
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
                setDraft(draft.filter((d) => fold(d.name) !== fold(p.name)));
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
                setDraft([...draft, policyBody(p)]);
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
    const apply = $("#draft-apply");
    apply.disabled = !dirty;
    apply.title = dirty ? "" : "The draft matches the saved definitions: nothing to apply";
    fill(
      "#draft-summary",
      dirty
        ? `${c.created} new · ${c.changed} changed · ${c.removed} removed`
        : "Same as the saved definitions",
    );
  }

  // The preview in flight: a newer draft cancels it (AbortController), and an answer for an
  // older version is dropped even when it arrives first.
  let inFlight = null;
  function cancelPreview() {
    if (inFlight) inFlight.abort();
    inFlight = null;
  }
  async function refresh() {
    cancelPreview();
    const controller = new AbortController();
    inFlight = controller;
    const mine = version;
    document.body.dataset.preview = "computing";
    fill("#preview-status", "Computing…");
    try {
      const preview = await api(
        "POST",
        "/what-if",
        { policies: draft.map(policyBody) },
        undefined,
        { signal: controller.signal },
      );
      if (mine !== version || controller.signal.aborted) return;
      renderPreview(preview);
      document.body.dataset.preview = "ready";
    } catch (err) {
      if (aborted(err) || mine !== version) return;
      document.body.dataset.preview = "ready";
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
    await reloadSaved();
    setDraft(saved.map(policyBody));
    sessionStorage.removeItem(key);
    editor.hidden = true;
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
      await reloadSaved();
      setDraft(saved.map(policyBody));
      sessionStorage.removeItem(key);
      await refresh();
    } catch (err) {
      progress.classList.add("failed");
      label.textContent = `Stopped: ${errorText(err)}`;
      flash(`The draft was not fully applied: ${errorText(err)}`, "error");
      await reloadSaved();
      renderDraft();
    } finally {
      buttons.forEach((b) => (b.disabled = false));
      renderDraft(); // "Apply" again only for a draft that differs
    }
  }

  renderDraft();
  // Interactive at once: the preview (seconds at 100,000 users) arrives when computed.
  refresh();
}

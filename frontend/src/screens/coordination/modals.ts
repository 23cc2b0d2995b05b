// The task board's modals: a keyboard-accessible <dialog>, Edit Task and Complete Task (with
// the result, Notify all and an optional follow-up task).

import * as api from "../../api";
import type { CoordTask } from "../../api";
import { h, replace } from "../../dom";
import { busy, errorBox, toast } from "../../ui";
import { field, markField, taskFields, type FormCtx } from "./forms";

let modalSeq = 0;

/**
 * openModal shows a keyboard-accessible modal <dialog>: focus moves into it and is trapped
 * (Tab cycles), Esc, ✕ and a backdrop click close it, and focus returns to where it was.
 */
function openModal(title: string, body: HTMLElement, cls: string): { dlg: HTMLDialogElement; close: () => void } {
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const titleId = `coord-dlg-${++modalSeq}`;
  const close = () => {
    if (dlg.open) dlg.close();
  };
  const dlg = h(
    "dialog",
    { class: `coord-modal ${cls}`, "aria-labelledby": titleId },
    h(
      "div",
      { class: "coord-modal-inner" },
      h("header", { class: "coord-modal-head" }, h("h2", { id: titleId }, title), h("button", { type: "button", class: "btn btn-icon", "aria-label": "Close", onclick: close }, "✕")),
      body,
    ),
  );
  dlg.addEventListener("close", () => {
    dlg.remove();
    if (opener && opener.isConnected) opener.focus();
  });
  dlg.addEventListener("click", (e) => {
    if (e.target === dlg) close(); // the backdrop (the inner box covers the dialog itself)
  });
  dlg.addEventListener("keydown", (e) => {
    if (e.key !== "Tab") return;
    const f = Array.from(dlg.querySelectorAll<HTMLElement>("button, input, select, textarea, [href], [tabindex]:not([tabindex='-1'])")).filter(
      (el) => !(el as HTMLButtonElement).disabled && el.offsetParent !== null,
    );
    if (f.length === 0) return;
    const first = f[0];
    const last = f[f.length - 1];
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  });
  document.body.appendChild(dlg);
  dlg.showModal();
  (dlg.querySelector<HTMLElement>("input, textarea, select") ?? dlg.querySelector<HTMLElement>("button"))?.focus();
  return { dlg, close };
}

/** editModal edits a task's fields (PATCH /api/coord/tasks/{id}). */
export function editModal(ctx: FormCtx, t: CoordTask): void {
  const fields = taskFields(ctx, "", t, { predecessors: true, depType: true });
  const errSlot = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "coord-modal-form", "aria-label": `Edit ${t.id}` },
    fields.el,
    errSlot,
    h("div", { class: "actions modal-actions" }, h("button", { type: "button", class: "btn", onclick: () => m.close() }, "Cancel"), h("button", { type: "submit", class: "btn btn-primary" }, "Save")),
  );
  const m = openModal(`Edit Task — ${t.id}`, form, "coord-edit");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const btn = form.querySelector<HTMLButtonElement>('button[type="submit"]')!;
    await busy(btn, "Saving…", async () => {
      try {
        await api.coordUpdateTask(t.id, fields.read());
        toast(`${t.id} saved`, "ok");
        m.close();
        ctx.reload("tasks");
      } catch (err) {
        replace(errSlot, errorBox(err, "Not saved"));
        markField(form, err);
      }
    });
  });
}

/** completeModal completes a task, optionally notifying all and creating a follow-up. */
export function completeModal(ctx: FormCtx, t: CoordTask): void {
  const summary = h("textarea", { name: "summary", "data-field": "summary", rows: "3", placeholder: "What was done, where to look" });
  const notify = h("input", { type: "checkbox", name: "notify", checked: true });
  const wantFollow = h("input", { type: "checkbox", name: "follow-up", "aria-controls": "coord-followup" });
  const fu = taskFields(ctx, "follow_up.", { owner: "any", section: t.section, location: t.location, dep_type: "FS", priority: "P1" }, { predecessors: false, depType: true });
  const fuSet = h("fieldset", { id: "coord-followup", class: "coord-followup", hidden: true }, h("legend", null, `Follow-up task (depends on ${t.id})`), fu.el);
  const errSlot = h("div", { "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Mark Complete + Notify All");
  notify.addEventListener("change", () => (submit.textContent = notify.checked ? "Mark Complete + Notify All" : "Mark Complete"));
  // The follow-up's fields take part in the form only when asked for: disabled controls are not
  // validated, so its required title does not block "Mark Complete" while it is hidden.
  const followUpOn = (on: boolean) => {
    fuSet.hidden = !on;
    for (const c of Array.from(fuSet.querySelectorAll<HTMLInputElement>("input, select, textarea"))) c.disabled = !on;
  };
  followUpOn(false);
  wantFollow.addEventListener("change", () => {
    followUpOn(wantFollow.checked);
    if (wantFollow.checked) fuSet.querySelector<HTMLInputElement>("input")?.focus();
  });
  const form = h(
    "form",
    { class: "coord-modal-form", "aria-label": `Complete ${t.id}` },
    h("p", { class: "strong" }, `[${t.id}] ${t.title}`),
    field("Result / Notes", summary),
    h("label", { class: "check" }, notify, " Notify all (post the result as a message)"),
    h("label", { class: "check" }, wantFollow, " Create a follow-up task"),
    fuSet,
    errSlot,
    h("div", { class: "actions modal-actions" }, h("button", { type: "button", class: "btn", onclick: () => m.close() }, "Cancel"), submit),
  );
  const m = openModal(`Complete Task — ${t.id}`, form, "coord-complete");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    await busy(submit, "Completing…", async () => {
      try {
        const r = await api.coordCompleteTask(t.id, { summary: summary.value, notify: notify.checked, follow_up: wantFollow.checked ? fu.read() : undefined });
        toast(r.follow_up ? `${t.id} completed; follow-up ${r.follow_up.id} created` : `${t.id} completed`, "ok");
        m.close();
        ctx.reload("tasks");
      } catch (err) {
        replace(errSlot, errorBox(err, "Not completed"));
        markField(form, err);
      }
    });
  });
}

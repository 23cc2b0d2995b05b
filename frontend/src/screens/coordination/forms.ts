// The task board's forms: a labelled field, a select, the editable fields of a task (for New
// Task, Edit and a follow-up), marking the field the Hall's error names, the New Task form and
// the message bar.

import * as api from "../../api";
import type { CoordTask, DepType, Priority, TaskFields } from "../../api";
import { parseIds } from "../../coordgraph";
import { h, replace } from "../../dom";
import { formatTime } from "../../time";
import { busy, errorBox, toast } from "../../ui";
import type { BoardCtx } from "./board";

/** FormCtx is what the forms call of the Coordination screen. */
export type FormCtx = Pick<BoardCtx, "ownerOptions" | "reload">;

const PRIORITIES: [Priority, string][] = [
  ["P0", "P0 Urgent"],
  ["P1", "P1 Normal"],
  ["P2", "P2 Low"],
];
const AGENT_TYPES: [string, string][] = [
  ["any", "Any"],
  ["llm", "LLM"],
  ["code", "Code agent"],
  ["gpu", "GPU"],
  ["human", "Human"],
];
const DEP_TYPES: [DepType, string][] = [
  ["FS", "FS — start after it finishes"],
  ["SS", "SS — start once it started"],
  ["FF", "FF — finish after it finishes"],
  ["SF", "SF — finish once it started"],
];

/** markField flags the control named by the server's error field (predecessors[1] → predecessors). */
export function markField(form: ParentNode, e: unknown): void {
  for (const el of Array.from(form.querySelectorAll("[aria-invalid]"))) el.removeAttribute("aria-invalid");
  if (!(e instanceof api.ApiError) || !e.field) return;
  const key = e.field.replace(/\[\d+\]/g, "");
  const ctl = form.querySelector<HTMLElement>(`[data-field="${CSS.escape(key)}"]`);
  if (!ctl) return;
  ctl.setAttribute("aria-invalid", "true");
  ctl.focus();
}

let fieldSeq = 0;

/** field is a labelled control with an optional hint. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  const id = control.id || `coord-f-${++fieldSeq}`;
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hint ? h("p", { class: "hint" }, hint) : null);
}

/** select is a <select> named name (and data-field) showing value, else the first option. */
export function select(name: string, options: [string, string][], value: string, attrs: Record<string, string> = {}): HTMLSelectElement {
  const sel = h("select", { name, "data-field": name, ...attrs }, options.map(([v, l]) => h("option", { value: v }, l)));
  sel.value = options.some(([v]) => v === value) ? value : options[0]?.[0] ?? "";
  return sel;
}

/** taskFields builds the editable fields of a task, each with data-field for error marking. */
export function taskFields(ctx: FormCtx, prefix: string, t: Partial<CoordTask>, opts: { predecessors: boolean; depType: boolean; placeholders?: boolean }): { el: HTMLElement[]; read: () => TaskFields } {
  const f = (name: string) => prefix + name;
  const title = h("input", { name: f("title"), "data-field": f("title"), value: t.title ?? "", required: true, maxlength: "200", placeholder: "What needs to be done?", autocomplete: "off" });
  const details = h("textarea", { name: f("details"), "data-field": f("details"), rows: "3" }, t.details ?? "");
  const owner = select(f("owner"), ctx.ownerOptions(t.owner), t.owner ?? "any");
  const priority = select(f("priority"), PRIORITIES, t.priority ?? "P1");
  const agentType = select(f("agent_type"), AGENT_TYPES, t.agent_type ?? "any");
  const section = h("input", { name: f("section"), "data-field": f("section"), value: t.section ?? "Ad Hoc", placeholder: "Registry, Security, CI/CD…", maxlength: "80" });
  const location = h("input", { name: f("location"), "data-field": f("location"), value: t.location ?? "", placeholder: "path/to/file or directory", maxlength: "1024" });
  const preds = h("input", { name: f("predecessors"), "data-field": f("predecessors"), value: (t.predecessors ?? []).join(", "), placeholder: "C1, R3 — comma separated", autocomplete: "off" });
  const dep = select(f("dep_type"), DEP_TYPES, t.dep_type ?? "FS");
  const el = [
    field("Title *", title),
    field("Details", details),
    h("div", { class: "field-row" }, field("Assign to", owner), field("Priority", priority), field("Agent type", agentType)),
    h("div", { class: "field-row" }, field("Section", section), field("Location / File", location)),
    opts.predecessors || opts.depType
      ? h("div", { class: "field-row" }, opts.predecessors ? field("Depends on (task ids)", preds) : null, opts.depType ? field("Dependency type", dep) : null)
      : null,
  ].filter((x): x is HTMLElement => !!x);
  return {
    el,
    read: () => {
      const out: TaskFields = {
        title: title.value,
        details: details.value,
        owner: owner.value,
        priority: priority.value as Priority,
        agent_type: agentType.value,
        section: section.value,
        location: location.value,
      };
      if (opts.predecessors) out.predecessors = parseIds(preds.value);
      if (opts.depType) out.dep_type = dep.value as DepType;
      return out;
    },
  };
}

/** newTaskForm is the + New Task button and its form (hidden until opened). */
export function newTaskForm(ctx: FormCtx): { el: HTMLElement; form: HTMLFormElement } {
  const toggle = h("button", { type: "button", class: "btn btn-primary", "aria-expanded": "false", "aria-controls": "coord-new-form", "data-action": "new-task" }, "+ New Task");
  const errSlot = h("div", { "aria-live": "polite" });
  const form = h("form", { id: "coord-new-form", class: "coord-new-form panel-lite", "aria-label": "New task", hidden: true });
  let fields: ReturnType<typeof taskFields>;
  const fill = () => {
    fields = taskFields(ctx, "", {}, { predecessors: true, depType: true });
    replace(
      form,
      fields.el,
      errSlot,
      h("div", { class: "actions" }, h("button", { type: "button", class: "btn", "data-action": "cancel-new", onclick: () => show(false) }, "Cancel"), h("button", { type: "submit", class: "btn btn-primary" }, "Create Task")),
    );
  };
  const show = (on: boolean) => {
    form.hidden = !on;
    toggle.setAttribute("aria-expanded", String(on));
    if (on) {
      fill();
      replace(errSlot);
      form.querySelector<HTMLInputElement>('input[name="title"]')?.focus();
    } else toggle.focus();
  };
  toggle.addEventListener("click", () => show(form.hidden));
  form.addEventListener("keydown", (e) => {
    if (e.key === "Escape") show(false);
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const btn = form.querySelector<HTMLButtonElement>('button[type="submit"]')!;
    await busy(btn, "Creating…", async () => {
      try {
        const r = await api.coordCreateTask(fields.read());
        toast(`Created ${r.task.id}: ${r.task.title}`, "ok");
        show(false);
        ctx.reload("tasks");
      } catch (err) {
        replace(errSlot, errorBox(err, "Task not created"));
        markField(form, err);
      }
    });
  });
  fill();
  return { el: h("div", null, h("div", { class: "actions" }, toggle), form), form };
}

/** sendBar is the message bar: a recipient, the text, and the status of the last send. */
export function sendBar(): { el: HTMLElement; to: HTMLSelectElement } {
  const sendTo = h("select", { name: "to", "aria-label": "To", "data-field": "to" });
  const text = h("input", { name: "message", "data-field": "message", placeholder: "Send a message to an agent…", "aria-label": "Message", autocomplete: "off", maxlength: "4000" });
  const sendStatus = h("div", { class: "send-status small", role: "status", "aria-live": "polite" });
  const btn = h("button", { type: "submit", class: "btn btn-primary" }, "Send");
  const form = h("form", { class: "coord-send", "aria-label": "Send a message" }, sendTo, text, btn);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const to = sendTo.value || "all";
    await busy(btn, "Sending…", async () => {
      try {
        const r = await api.coordPostMessage({ to, message: text.value });
        text.value = "";
        markField(form, null);
        replace(sendStatus, h("span", { class: "ok-text" }, `✓ Sent to ${r.message.to} at ${formatTime(r.message.created_at)}`));
      } catch (err) {
        replace(sendStatus, errorBox(err, "Not sent"));
        markField(form, err);
      }
    });
    text.focus();
  });
  return { el: h("div", null, form, sendStatus), to: sendTo };
}

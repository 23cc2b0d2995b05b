// The task board's shared parts: the state the four views read (BoardCtx), a task's badges,
// its action buttons (start, complete, reassign, edit), its card, and the Kanban view.

import * as api from "../../api";
import type { CoordMe, CoordTask } from "../../api";
import { ownerClass, waitingFor, type Overrides } from "../../coordgraph";
import { h, type Child } from "../../dom";
import { badge, busy, errorText, toast } from "../../ui";
import { completeModal, editModal } from "./modals";

export const STATUS_ICON: Record<string, string> = { pending: "○", in_progress: "◑", done: "●" };
export const STATUS_LABEL: Record<string, string> = { pending: "Pending", in_progress: "In Progress", done: "Done" };

/** BoardCtx is what the board's views read and call of the Coordination screen. */
export interface BoardCtx {
  readonly tasks: CoordTask[];
  /** task id → status, for what a task waits for */
  readonly statusOf: Map<string, string>;
  readonly me: CoordMe | null;
  /** Order of Operations moves made by hand (kept in this browser) */
  readonly overrides: Overrides;
  /** tree nodes the user opened or closed (else open to depth 2) */
  readonly treeOpen: Map<string, boolean>;
  readonly boardEl: HTMLElement;
  readonly toggleEl: HTMLElement;
  /** ownerOptions: any, you, then the roster (and the current value if it is none of those). */
  ownerOptions(current?: string): [string, string][];
  /** reload refreshes one part shortly after a burst of changes. */
  reload(part: "agents" | "tasks" | "locks"): void;
  saveOverrides(o: Overrides): void;
  renderBoard(): void;
}

export function ownerBadge(owner: string): HTMLElement {
  return h("span", { class: `owner-badge ${ownerClass(owner)}`, title: `owner: ${owner}` }, owner);
}

export function idChip(t: CoordTask): HTMLElement {
  return h("span", { class: `task-id mono ${ownerClass(t.owner)}` }, t.id);
}

export function priorityBadge(t: CoordTask): HTMLElement | null {
  if (t.priority === "P0") return badge("P0", "bad", "P0 Urgent");
  if (t.priority === "P2") return badge("P2", "muted", "P2 Low");
  return null;
}

export function taskActions(ctx: BoardCtx, t: CoordTask): HTMLElement {
  const acts = h("div", { class: "actions task-actions" }, h("button", { type: "button", class: "btn btn-small", "data-action": "edit", "aria-label": `Edit ${t.id}`, onclick: () => editModal(ctx, t) }, "Edit"));
  if (t.status === "pending") {
    const blocked = waitingFor(t, ctx.statusOf, "start");
    const start = h(
      "button",
      {
        type: "button",
        class: "btn btn-small",
        "data-action": "claim",
        "aria-label": `Start ${t.id} (claim it)`,
        disabled: blocked.length > 0,
        title: blocked.length ? `${t.dep_type}: waits for ${blocked.join(", ")} to ${t.dep_type[0] === "F" ? "finish" : "start"}` : null,
      },
      "Start",
    );
    start.addEventListener("click", () =>
      busy(start, "Starting…", async () => {
        try {
          await api.coordClaimTask(t.id);
          toast(`${t.id} started`, "ok");
          ctx.reload("tasks");
        } catch (e) {
          toast(`Cannot start ${t.id}: ${errorText(e)}`, "error");
        }
      }),
    );
    acts.append(start);
  }
  if (t.status !== "done") {
    acts.append(h("button", { type: "button", class: "btn btn-small btn-primary", "data-action": "complete", "aria-label": `Mark ${t.id} complete`, onclick: () => completeModal(ctx, t) }, "Mark Complete"));
    const sel = h(
      "select",
      { class: "reassign", "aria-label": `Reassign ${t.id}`, "data-action": "reassign" },
      h("option", { value: "" }, "reassign…"),
      ctx.ownerOptions(t.owner)
        .filter(([v]) => v !== t.owner)
        .map(([v, l]) => h("option", { value: v }, l)),
    );
    sel.addEventListener("change", async () => {
      const owner = sel.value;
      if (!owner) return;
      sel.disabled = true;
      try {
        await api.coordReassign(t.id, owner);
        toast(`${t.id} reassigned to ${owner}`, "ok");
        ctx.reload("tasks");
      } catch (e) {
        toast(`Reassign failed: ${errorText(e)}`, "error");
        sel.value = "";
        sel.disabled = false;
      }
    });
    acts.append(sel);
  }
  return acts;
}

export function card(ctx: BoardCtx, t: CoordTask, extra?: Child): HTMLElement {
  const waiting = waitingFor(t, ctx.statusOf, "finish");
  return h(
    "article",
    { class: `coord-card status-${t.status}`, "data-id": t.id, "aria-label": `${t.id}: ${t.title}` },
    h("div", { class: "coord-card-head" }, idChip(t), ownerBadge(t.owner), priorityBadge(t)),
    h("div", { class: "coord-card-title" }, t.title),
    t.claimed_by ? h("div", { class: "small muted" }, `claimed: ${t.claimed_by}`) : null,
    waiting.length ? h("div", { class: "small warn-text" }, `waits for ${waiting.join(", ")} (${t.dep_type})`) : null,
    t.status === "done" && t.result ? h("div", { class: "small coord-result" }, t.result) : null,
    extra,
    taskActions(ctx, t),
  );
}

export function kanban(ctx: BoardCtx): HTMLElement {
  return h(
    "div",
    { class: "coord-kanban" },
    (["pending", "in_progress", "done"] as const).map((s) => {
      const col = ctx.tasks.filter((t) => t.status === s);
      return h(
        "section",
        { class: `coord-col col-${s}`, "data-status": s, "aria-label": STATUS_LABEL[s] },
        h("h3", null, STATUS_LABEL[s], " ", h("span", { class: "count muted" }, `(${col.length})`)),
        col.length ? col.map((t) => card(ctx, t)) : h("p", { class: "muted small" }, "—"),
      );
    }),
  );
}

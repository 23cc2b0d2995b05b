// The Order of Operations view: the open tasks in phases (waves of the dependency graph), yours
// first in each phase; a task can be moved a phase later or back by hand (kept in this browser).

import type { CoordTask } from "../../api";
import { moveEarlier, moveLater, waves, type Wave } from "../../coordgraph";
import { h } from "../../dom";
import { idChip, ownerBadge, priorityBadge, STATUS_ICON, STATUS_LABEL, taskActions, type BoardCtx } from "./board";

export function phases(ctx: BoardCtx): HTMLElement {
  const w = waves(ctx.tasks, ctx.overrides);
  const open = ctx.tasks.filter((t) => t.status !== "done");
  const done = ctx.tasks.filter((t) => t.status === "done");
  const byWave = new Map<number, CoordTask[]>();
  for (const t of open) {
    const n = w.get(t.id)!.wave;
    if (!byWave.has(n)) byWave.set(n, []);
    byWave.get(n)!.push(t);
  }
  const move = (t: CoordTask, cur: Wave, dir: "earlier" | "later") => {
    ctx.saveOverrides(dir === "later" ? moveLater(ctx.overrides, t.id, cur) : moveEarlier(ctx.overrides, t.id, cur));
    ctx.renderBoard();
    const again = ctx.boardEl.querySelector<HTMLButtonElement>(`[data-move="${dir}"][data-id="${CSS.escape(t.id)}"]`);
    (again && !again.disabled ? again : ctx.boardEl.querySelector<HTMLButtonElement>(`[data-move="later"][data-id="${CSS.escape(t.id)}"]`))?.focus();
  };
  const row = (t: CoordTask) => {
    const cur = w.get(t.id);
    return h(
      "li",
      { class: `phase-row status-${t.status}`, "data-id": t.id },
      h("span", { class: `status-dot st-${t.status}`, "aria-label": STATUS_LABEL[t.status] }, STATUS_ICON[t.status]),
      cur
        ? h(
            "span",
            { class: "phase-move" },
            h("button", { type: "button", class: "btn btn-icon btn-small", "data-move": "earlier", "data-id": t.id, "aria-label": `Move ${t.id} one phase earlier`, disabled: !cur.overridden, onclick: () => move(t, cur, "earlier") }, "▲"),
            h("button", { type: "button", class: "btn btn-icon btn-small", "data-move": "later", "data-id": t.id, "aria-label": `Move ${t.id} one phase later`, onclick: () => move(t, cur, "later") }, "▼"),
          )
        : null,
      idChip(t),
      h("span", { class: "phase-title" }, t.title),
      cur?.overridden ? h("span", { class: "overridden", title: "moved by hand (stored in this browser)", "aria-label": "moved by hand" }, "✎") : null,
      ownerBadge(t.owner),
      priorityBadge(t),
      cur && cur.blockedBy.length ? h("span", { class: "small warn-text" }, `blocked by: ${cur.blockedBy.join(", ")}`) : null,
      taskActions(ctx, t),
    );
  };
  const hasOverrides = Object.keys(ctx.overrides).length > 0;
  return h(
    "div",
    { class: "coord-phases" },
    hasOverrides
      ? h(
          "div",
          { class: "actions phase-toolbar" },
          h("span", { class: "muted small" }, "Some tasks were moved by hand (kept in this browser)."),
          h(
            "button",
            {
              type: "button",
              class: "btn btn-small",
              "data-action": "reset-order",
              onclick: () => {
                ctx.saveOverrides({});
                ctx.renderBoard();
                ctx.toggleEl.querySelector<HTMLElement>('[data-view="phases"]')?.focus();
              },
            },
            "Reset order",
          ),
        )
      : null,
    [...byWave.keys()]
      .sort((a, b) => a - b)
      .map((n) => {
        const ts = byWave.get(n)!;
        const mine = ctx.me ? ts.filter((t) => t.owner === ctx.me!.id) : [];
        const rest = ts.filter((t) => !mine.includes(t));
        return h(
          "section",
          { class: "phase-block", "data-phase": n + 1 },
          h("h3", null, `Phase ${n + 1}`, n === 0 ? " — DO NOW" : "", " ", h("span", { class: "muted small" }, `(${ts.length})`)),
          mine.length ? [h("h4", null, `Yours (${ctx.me!.id})`), h("ul", { class: "phase-list" }, mine.map(row))] : null,
          rest.length ? [mine.length ? h("h4", null, "Agents and others") : null, h("ul", { class: "phase-list" }, rest.map(row))] : null,
        );
      }),
    done.length ? h("details", { class: "phase-done" }, h("summary", null, `Completed (${done.length})`), h("ul", { class: "phase-list" }, done.map(row))) : null,
  );
}

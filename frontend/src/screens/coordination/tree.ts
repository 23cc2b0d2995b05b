// The Dependency Tree view: each root task with its successors nested under it (open to depth
// 2 unless the user opened or closed a node), and the tasks no root reaches (a cycle).

import type { CoordTask } from "../../api";
import { countDescendants, dependencyTree, type TreeNode } from "../../coordgraph";
import { h } from "../../dom";
import { idChip, ownerBadge, priorityBadge, STATUS_ICON, STATUS_LABEL, taskActions, type BoardCtx } from "./board";

function treeRow(t: CoordTask, n?: number): HTMLElement {
  return h(
    "span",
    { class: "tree-row" },
    h("span", { class: `status-dot st-${t.status}`, title: STATUS_LABEL[t.status], "aria-label": STATUS_LABEL[t.status] }, STATUS_ICON[t.status]),
    idChip(t),
    h("span", { class: "tree-title" }, t.title),
    ownerBadge(t.owner),
    priorityBadge(t),
    n ? h("span", { class: "muted small" }, `→ ${n} task${n === 1 ? "" : "s"}`) : null,
  );
}

function treeNode(ctx: BoardCtx, n: TreeNode): HTMLElement {
  const body = h("div", { class: "tree-node", "data-id": n.task.id });
  if (n.children.length === 0) {
    body.append(h("div", { class: "tree-leaf" }, treeRow(n.task)), taskActions(ctx, n.task));
    return h("li", null, body);
  }
  const det = h(
    "details",
    { open: ctx.treeOpen.get(n.task.id) ?? n.depth < 2 },
    h("summary", null, treeRow(n.task, countDescendants(n))),
    taskActions(ctx, n.task),
    h("ul", { class: "tree" }, n.children.map((c) => treeNode(ctx, c))),
  );
  det.addEventListener("toggle", () => ctx.treeOpen.set(n.task.id, det.open));
  body.append(det);
  return h("li", null, body);
}

export function tree(ctx: BoardCtx): HTMLElement {
  const { roots, orphans } = dependencyTree(ctx.tasks);
  return h(
    "div",
    { class: "coord-tree" },
    h("ul", { class: "tree tree-root" }, roots.map((n) => treeNode(ctx, n))),
    orphans.length
      ? h(
          "section",
          { class: "tree-orphans" },
          h("h3", null, `Not reached from a root (${orphans.length}) — a dependency cycle`),
          h("ul", { class: "tree" }, orphans.map((t) => h("li", null, h("div", { class: "tree-node", "data-id": t.id }, h("div", { class: "tree-leaf" }, treeRow(t)), taskActions(ctx, t))))),
        )
      : null,
  );
}

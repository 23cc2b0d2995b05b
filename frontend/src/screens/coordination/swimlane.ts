// The CPM Swimlanes view: one lane per section, each card with its topological depth and its
// links; hovering or focusing a card highlights its predecessors and successors.

import type { CoordTask } from "../../api";
import { buildGraph, swimlanes, topoDepth } from "../../coordgraph";
import { h } from "../../dom";
import { card, type BoardCtx } from "./board";

export function lanes(ctx: BoardCtx): HTMLElement {
  const g = buildGraph(ctx.tasks);
  const depth = topoDepth(ctx.tasks);
  const wrap = h("div", { class: "coord-lanes" });
  const clear = () => {
    wrap.classList.remove("hl-on");
    for (const el of Array.from(wrap.querySelectorAll(".hl-self, .hl-pred, .hl-succ"))) el.classList.remove("hl-self", "hl-pred", "hl-succ");
  };
  const highlight = (t: CoordTask) => {
    clear();
    wrap.classList.add("hl-on");
    const mark = (id: string, cls: string) => {
      for (const el of Array.from(wrap.querySelectorAll(`.coord-card[data-id="${CSS.escape(id)}"]`))) el.classList.add(cls);
    };
    mark(t.id, "hl-self");
    for (const p of g.preds.get(t.id) || []) mark(p.id, "hl-pred");
    for (const s of g.succs.get(t.id) || []) mark(s.id, "hl-succ");
  };
  for (const lane of swimlanes(ctx.tasks)) {
    wrap.append(
      h(
        "section",
        { class: "coord-lane", "data-section": lane.section, "aria-label": `Section ${lane.section}` },
        h("h3", null, lane.section, " ", h("span", { class: "muted small" }, `(${lane.tasks.length})`)),
        h(
          "div",
          { class: "lane-cards" },
          lane.tasks.map((t) => {
            const preds = (g.preds.get(t.id) || []).map((p) => p.id);
            const succs = (g.succs.get(t.id) || []).map((s) => s.id);
            const c = card(
              ctx,
              t,
              h(
                "div",
                { class: "small muted lane-links" },
                h("span", { class: "lane-depth", title: "topological depth" }, `depth ${depth.get(t.id)}`),
                preds.length ? h("span", { class: "preds" }, ` · ← ${preds.join(", ")}`) : null,
                succs.length ? h("span", { class: "succs" }, ` · → ${succs.join(", ")}`) : null,
              ),
            );
            c.tabIndex = 0;
            c.addEventListener("mouseenter", () => highlight(t));
            c.addEventListener("mouseleave", clear);
            c.addEventListener("focusin", () => highlight(t));
            c.addEventListener("focusout", clear);
            return c;
          }),
        ),
      ),
    );
  }
  return wrap;
}

// Active dispatches with live (ticking) durations, plus the recent dispatch history.

import * as api from "../api";
import type { Dispatch } from "../api";
import { app, type Screen } from "../app";
import { h, replace } from "../dom";
import { formatDateTime, formatDuration, formatTime } from "../time";
import { badge, emptyState, errorBox } from "../ui";

export function createDispatchesScreen(): Screen {
  let root: HTMLElement;
  let active: Dispatch[] = [];
  let recent: Dispatch[] = [];
  let error: unknown = null;
  let tick: number | undefined;
  let off: () => void = () => {};
  let reloadTimer: number | undefined;

  async function load(): Promise<void> {
    try {
      const [a, r] = await Promise.all([api.activeDispatches(), api.listDispatches({ limit: 50 })]);
      active = a.active ?? [];
      recent = (r.dispatches ?? []).filter((d) => d.finished_at);
      error = null;
    } catch (e) {
      error = e;
    }
    render();
  }

  function elapsed(d: Dispatch): number {
    return Date.now() - Date.parse(d.started_at);
  }

  function render(): void {
    replace(
      root,
      h("div", { class: "screen-head" }, h("h1", null, "Active Dispatches"), h("div", { class: "actions" }, h("button", { type: "button", class: "btn", onclick: () => void load() }, "Refresh"))),
      error ? errorBox(error, "Cannot load dispatches") : null,
      h(
        "section",
        { class: "panel" },
        h("h2", null, `Running now (${active.length})`),
        active.length === 0
          ? emptyState("No active dispatches.", "A dispatch starts when an allowed decision is handed to its worker (POST /api/dispatches).")
          : h(
              "table",
              { class: "grid", "aria-label": "Active dispatches" },
              h("thead", null, h("tr", null, ...["Started", "Running for", "Capability", "Worker", "Tenant", "Dispatch id", "Decision"].map((t) => h("th", { scope: "col" }, t)))),
              h(
                "tbody",
                null,
                active.map((d) =>
                  h(
                    "tr",
                    { "data-id": d.dispatch_id },
                    h("td", { class: "mono", title: formatDateTime(d.started_at) }, formatTime(d.started_at)),
                    h("td", { class: "mono live-duration", "data-started": d.started_at }, formatDuration(elapsed(d))),
                    h("td", { class: "mono" }, d.capability_id),
                    h("td", { class: "mono" }, d.worker_species_id || d.worker_id),
                    h("td", null, d.tenant_id),
                    h("td", { class: "mono" }, d.dispatch_id),
                    h("td", { class: "mono" }, d.decision_id),
                  ),
                ),
              ),
            ),
      ),
      h(
        "section",
        { class: "panel" },
        h("h2", null, "Recently finished"),
        recent.length === 0
          ? emptyState("No finished dispatches yet.")
          : h(
              "table",
              { class: "grid", "aria-label": "Finished dispatches" },
              h("thead", null, h("tr", null, ...["Finished", "Outcome", "Duration", "Capability", "Worker", "Error"].map((t) => h("th", { scope: "col" }, t)))),
              h(
                "tbody",
                null,
                recent.map((d) =>
                  h(
                    "tr",
                    null,
                    h("td", { class: "mono", title: formatDateTime(d.finished_at) }, formatTime(d.finished_at)),
                    h("td", null, badge(d.outcome || "—", d.outcome === "succeeded" ? "ok" : d.outcome === "failed" ? "bad" : "warn")),
                    h("td", { class: "mono" }, formatDuration(d.duration_ms)),
                    h("td", { class: "mono" }, d.capability_id),
                    h("td", { class: "mono" }, d.worker_species_id || d.worker_id),
                    h("td", null, d.error || "—"),
                  ),
                ),
              ),
            ),
      ),
    );
  }

  return {
    id: "dispatches",
    title: "Active Dispatches",
    mount(el) {
      root = el;
      render();
      void load();
      tick = window.setInterval(() => {
        for (const td of Array.from(root.querySelectorAll<HTMLElement>(".live-duration"))) {
          td.textContent = formatDuration(Date.now() - Date.parse(td.dataset.started || ""));
        }
      }, 1000);
      off = app.on((ev) => {
        if (ev.type === "dispatch.started" || ev.type === "dispatch.finished") {
          window.clearTimeout(reloadTimer);
          reloadTimer = window.setTimeout(() => void load(), 150);
        }
      });
    },
    unmount() {
      window.clearInterval(tick);
      window.clearTimeout(reloadTimer);
      off();
    },
  };
}

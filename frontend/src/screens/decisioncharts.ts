// The Status screen's "Decisions" panel (uPlot charts kept live from the events).

import * as api from "../api";
import { app } from "../app";
import { h } from "../dom";
import { perMinuteChart, topChart, type LiveChart } from "../charts";
import { applyDecision, rollTo, startOfToday } from "../stats";
import { errorText } from "../ui";

/**
 * decisionCharts is the Status screen's "Decisions" panel: decisions per minute for the last hour and the
 * day's top deny codes and capabilities, from GET /api/stats/decisions, then kept live from the events
 * (and fetched again every minute, which also rolls the window forward).
 */
export function decisionCharts(): { el: HTMLElement; start(): void; stop(): void } {
  let stats: api.DecisionStats | null = null;
  let charts: LiveChart[] = [];
  let off: () => void = () => {};
  let offSettings: () => void = () => {};
  let timer: number | undefined;
  let ro: ResizeObserver | null = null;
  const note = h("p", { class: "muted small", "data-field": "stats-note" }, "Loading…");
  const slots = {
    minutes: h("div", { class: "chart-slot" }),
    deny: h("div", { class: "chart-slot" }),
    caps: h("div", { class: "chart-slot" }),
  };
  const el = h(
    "section",
    { class: "panel decision-charts", "aria-labelledby": "charts-h" },
    h("h2", { id: "charts-h" }, "Decisions"),
    note,
    h("h3", null, "Per minute, last hour"),
    slots.minutes,
    h(
      "div",
      { class: "chart-pair" },
      h("div", null, h("h3", null, "Top deny codes today"), slots.deny),
      h("div", null, h("h3", null, "Top capabilities today"), slots.caps),
    ),
  );
  const empties = {
    deny: h("p", { class: "muted small" }, "No denials today."),
    caps: h("p", { class: "muted small" }, "No decisions today."),
  };

  function build(): void {
    for (const c of charts) c.destroy();
    const m = perMinuteChart(stats!);
    const d = topChart("Top deny codes today", (st) => st.top_deny_codes, "--bad");
    const c = topChart("Top capabilities today", (st) => st.top_capabilities, "--accent");
    charts = [m, d, c];
    slots.minutes.replaceChildren(m.el);
    slots.deny.replaceChildren(d.el, empties.deny);
    slots.caps.replaceChildren(c.el, empties.caps);
  }

  function draw(): void {
    if (!stats) return;
    if (charts.length === 0) build();
    const [m, d, c] = charts;
    m.update(stats);
    d.el.hidden = stats.top_deny_codes.length === 0;
    empties.deny.hidden = !d.el.hidden;
    c.el.hidden = stats.top_capabilities.length === 0;
    empties.caps.hidden = !c.el.hidden;
    if (!d.el.hidden) d.update(stats);
    if (!c.el.hidden) c.update(stats);
    const total = stats.per_minute.reduce((n, x) => n + x.allowed + x.denied + x.pending, 0);
    note.textContent = `${total} in the last hour · ${stats.day_total} today · live`;
  }

  async function fetchStats(): Promise<void> {
    try {
      stats = await api.decisionStats({ window: "1h", day_start: startOfToday(Date.now()) });
      draw();
    } catch (e) {
      note.textContent = `Cannot load the decision statistics: ${errorText(e)}`;
    }
  }

  return {
    el,
    start() {
      void fetchStats();
      timer = window.setInterval(() => void fetchStats(), 60_000);
      off = app.on((ev) => {
        if (ev.type !== "decision.recorded" || !stats) return;
        stats = applyDecision(stats, ev.data, Date.now());
        draw();
      });
      // Colours follow the theme: a theme change draws the charts again.
      offSettings = app.onSettings(() => {
        if (!stats) return;
        for (const c of charts) c.destroy();
        charts = [];
        stats = rollTo(stats, Date.now());
        draw();
      });
      ro = new ResizeObserver(() => {
        for (const c of charts) c.resize();
      });
      ro.observe(el);
    },
    stop() {
      off();
      offSettings();
      window.clearInterval(timer);
      ro?.disconnect();
      for (const c of charts) c.destroy();
      charts = [];
    },
  };
}


// Charts of the Status screen, drawn with uPlot (a small canvas charting library; it sets element styles
// through the CSSOM, which the strict CSP allows, and never inline style attributes or eval). Colours come
// from the theme's CSS variables, so the charts follow light and dark.

import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { DecisionStats } from "./api";
import { h } from "./dom";
import { minuteSeries } from "./stats";
import { effectiveTimeZone } from "./time";

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

/** COUNT_STEPS keeps count axes on whole numbers. */
const COUNT_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];

function axis(): uPlot.Axis {
  const fg = cssVar("--fg-muted", "#5b6470");
  return { stroke: fg, grid: { stroke: cssVar("--border", "#d6dae0"), width: 1 }, ticks: { stroke: cssVar("--border", "#d6dae0"), width: 1 } };
}

/** chartWidth is the width a chart gets inside its host (the host's content box, at least 200 px). */
function chartWidth(host: HTMLElement): number {
  return Math.max(200, Math.floor(host.clientWidth || 300));
}

/** A live chart: update() replaces its data; destroy() frees it. */
export interface LiveChart {
  el: HTMLElement;
  update(st: DecisionStats): void;
  resize(): void;
  destroy(): void;
}

/** perMinuteChart draws decisions per minute (allowed, denied, pending) over the window, as lines. */
export function perMinuteChart(st: DecisionStats): LiveChart {
  const el = h("div", { class: "chart chart-minutes", role: "img", "aria-label": "Decisions per minute, last hour: allowed, denied, pending" });
  let plot: uPlot | null = null;
  const series = (label: string, color: string): uPlot.Series => ({ label, stroke: color, width: 2, points: { show: false }, value: (_u, v) => (v == null ? "—" : String(v)) });
  const make = () => {
    plot?.destroy();
    plot = new uPlot(
      {
        width: chartWidth(el),
        height: 180,
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(4, max)] } },
        // minutes in the app's time zone (Settings), like every other time in the window
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), effectiveTimeZone()),
        axes: [{ ...axis(), space: 70 }, { ...axis(), size: 44, incrs: COUNT_STEPS }],
        legend: { show: true, live: false },
        cursor: { show: true, drag: { x: false, y: false } },
        series: [{ label: "minute" }, series("allowed", cssVar("--ok", "#17803d")), series("denied", cssVar("--bad", "#c42b1c")), series("pending", cssVar("--warn", "#a15c00"))],
      },
      minuteSeries(st),
      el,
    );
  };
  return {
    el,
    update(next) {
      if (!plot) make();
      plot?.setData(minuteSeries(next));
    },
    resize() {
      plot?.setSize({ width: chartWidth(el), height: 180 });
    },
    destroy() {
      plot?.destroy();
      plot = null;
    },
  };
}

/** topChart draws a top list (deny codes or capabilities) as horizontal bars, the largest first. */
export function topChart(label: string, pick: (st: DecisionStats) => { name: string; count: number }[], colorVar: string): LiveChart {
  const el = h("div", { class: "chart chart-top", role: "img", "aria-label": label });
  let plot: uPlot | null = null;
  let names: string[] = [];
  const data = (st: DecisionStats): uPlot.AlignedData => {
    const list = pick(st);
    names = list.map((x) => x.name || "(none)");
    return [list.map((_, i) => i), list.map((x) => x.count)];
  };
  const height = (n: number) => 40 + Math.max(3, n) * 26;
  const make = (st: DecisionStats) => {
    plot?.destroy();
    const d = data(st);
    const color = cssVar(colorVar, "#0050d4");
    plot = new uPlot(
      {
        width: chartWidth(el),
        height: height(names.length),
        padding: [8, 16, 0, 0],
        scales: { x: { time: false, ori: 1, dir: -1, range: (_u, _min, _max) => [-0.5, Math.max(2, names.length) - 0.5] }, y: { ori: 0, range: (_u, _min, max) => [0, Math.max(4, max)] } },
        axes: [
          { ...axis(), font: AXIS_FONT, side: 3, grid: { show: false }, size: labelWidth(names, chartWidth(el)), splits: () => names.map((_, i) => i), values: (_u, splits) => splits.map((i) => shorten(names[i] ?? "", LABEL_CHARS)) },
          { ...axis(), side: 2, size: 30, incrs: COUNT_STEPS },
        ],
        legend: { show: false },
        cursor: { show: false },
        series: [{}, { label: "decisions", fill: color, stroke: color, width: 0, paths: uPlot.paths.bars?.({ size: [0.6, 24] }), points: { show: false } }],
      },
      d,
      el,
    );
  };
  return {
    el,
    update(st) {
      const before = names.length;
      const d = data(st);
      if (!plot || names.length !== before) make(st);
      else {
        plot.setData(d);
        plot.redraw(false, true);
      }
    },
    resize() {
      plot?.setSize({ width: chartWidth(el), height: height(names.length) });
    },
    destroy() {
      plot?.destroy();
      plot = null;
    },
  };
}

/** LABEL_CHARS is the most characters a bar label shows (the full name is in the Live Feed's filters). */
const LABEL_CHARS = 30;

/** AXIS_FONT is uPlot's axis font (its default). */
const AXIS_FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif';

/** labelWidth is the room for the bar labels: the widest label as drawn, plus the tick, at most half the chart. */
function labelWidth(names: string[], width: number): number {
  const ctx = document.createElement("canvas").getContext("2d");
  let widest = 40;
  if (ctx) {
    ctx.font = AXIS_FONT;
    for (const n of names) widest = Math.max(widest, ctx.measureText(shorten(n, LABEL_CHARS)).width);
  }
  return Math.min(Math.round(width / 2), Math.ceil(widest) + 20);
}

function shorten(s: string, n: number): string {
  return s.length <= n ? s : s.slice(0, n - 1) + "…";
}

// The Status screen's decision statistics, kept live between fetches of GET /api/stats/decisions: each
// decision.recorded event is counted into its minute and the day's top lists, and the minute window rolls
// forward with the clock. Pure functions over plain data (the charts draw what they return).

import type { DecisionStats } from "./api";

/** TOP is how many entries a top list keeps (the server's StatsTop). */
export const TOP = 6;

/** DecisionLike is the part of a decision.recorded event's data the statistics read. */
export interface DecisionLike {
  timestamp?: unknown;
  outcome?: unknown;
  deny_code?: unknown;
  capability_id?: unknown;
}

/** rollTo moves the per-minute window so that its last minute is the one holding nowMs (zeros for new minutes). */
export function rollTo(st: DecisionStats, nowMs: number): DecisionStats {
  const pm = st.per_minute;
  if (pm.length === 0) return st;
  const cur = Math.floor(nowMs / 60_000) * 60;
  const last = pm[pm.length - 1].minute;
  if (cur <= last) return st;
  const first = cur - (pm.length - 1) * 60;
  const byMinute = new Map(pm.map((m) => [m.minute, m]));
  const next = pm.map((_, i) => {
    const minute = first + i * 60;
    return byMinute.get(minute) ?? { minute, allowed: 0, denied: 0, pending: 0 };
  });
  return { ...st, per_minute: next, window_start: new Date(first * 1000).toISOString() };
}

/** bump counts one more for name and keeps the list ordered as the server does (count, then name). A name
 * outside a full list enters with 1, so it can be missing a few older counts until the next fetch. */
function bump(list: { name: string; count: number }[], name: string): { name: string; count: number }[] {
  const out = list.map((x) => ({ ...x }));
  const hit = out.find((x) => x.name === name);
  if (hit) hit.count++;
  else out.push({ name, count: 1 });
  out.sort((a, b) => b.count - a.count || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out.slice(0, TOP);
}

/** applyDecision counts one recorded decision into the statistics (rolled forward to nowMs first). */
export function applyDecision(st: DecisionStats, d: DecisionLike, nowMs: number): DecisionStats {
  const next = rollTo(st, nowMs);
  const ts = typeof d.timestamp === "string" ? Date.parse(d.timestamp) : NaN;
  const at = Number.isFinite(ts) ? ts : nowMs;
  const outcome = d.outcome === "allowed" || d.outcome === "denied" || d.outcome === "pending" ? d.outcome : null;
  if (!outcome) return next;
  const minute = Math.floor(at / 60_000) * 60;
  const per_minute = next.per_minute.map((m) => (m.minute === minute ? { ...m, [outcome]: m[outcome] + 1 } : m));
  if (at < Date.parse(next.day_start)) return { ...next, per_minute };
  const cap = typeof d.capability_id === "string" ? d.capability_id : "";
  const code = typeof d.deny_code === "string" ? d.deny_code : "";
  return {
    ...next,
    per_minute,
    day_total: next.day_total + 1,
    top_capabilities: bump(next.top_capabilities, cap),
    top_deny_codes: outcome === "denied" ? bump(next.top_deny_codes, code) : next.top_deny_codes,
  };
}

/** minuteSeries is the per-minute chart's data: x (Unix seconds), allowed, denied, pending. */
export function minuteSeries(st: DecisionStats): [number[], number[], number[], number[]] {
  const pm = st.per_minute;
  return [pm.map((m) => m.minute), pm.map((m) => m.allowed), pm.map((m) => m.denied), pm.map((m) => m.pending)];
}

/** startOfToday is local midnight of the day holding nowMs, as RFC 3339 (the "today" of the top lists). */
export function startOfToday(nowMs: number): string {
  const d = new Date(nowMs);
  d.setHours(0, 0, 0, 0);
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

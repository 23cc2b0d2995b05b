// Decision filters: the same filter is sent to GET /api/decisions (stored history) and applied
// locally to decisions that arrive live on the event stream.

import type { DecisionFilter, DecisionSummary } from "./api";

export function isEmptyFilter(f: DecisionFilter): boolean {
  return !f.outcome && !f.agent && !f.worker && !f.capability && !f.tenant && !f.q && !f.from && !f.to;
}

function contains(hay: string | null | undefined, needle: string): boolean {
  return (hay ?? "").toLowerCase().includes(needle.toLowerCase());
}

/** matches says whether a live decision passes the filter (mirrors the server's query semantics). */
export function matches(d: DecisionSummary, f: DecisionFilter): boolean {
  if (f.outcome && d.outcome !== f.outcome) return false;
  // the server matches an agent's name exactly
  if (f.agent && (d.agent ?? "") !== f.agent) return false;
  if (f.worker && !contains(d.selected_worker_species_id, f.worker)) return false;
  if (f.capability && !contains(d.capability_id, f.capability)) return false;
  if (f.tenant && !contains(d.tenant_id, f.tenant)) return false;
  if (f.from && Date.parse(d.timestamp) < Date.parse(f.from)) return false;
  if (f.to && Date.parse(d.timestamp) > Date.parse(f.to)) return false;
  if (f.q) {
    const fields = [
      d.decision_id,
      d.correlation_id,
      d.deny_code,
      d.deny_message,
      d.capability_id,
      d.matched_rule_id,
      d.selected_worker_species_id,
      d.tenant_id,
    ];
    if (!fields.some((x) => contains(x, f.q as string))) return false;
  }
  return true;
}

/** normalizeFilter trims values and drops empty ones, so the query string stays clean. */
export function normalizeFilter(f: DecisionFilter): DecisionFilter {
  const out: DecisionFilter = {};
  for (const [k, v] of Object.entries(f) as [keyof DecisionFilter, string | undefined][]) {
    const t = (v ?? "").trim();
    if (t) (out as Record<string, string>)[k] = t;
  }
  return out;
}

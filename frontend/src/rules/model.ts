// The Rules screen's logic without the DOM: a rule as a form (comma lists for the match conditions,
// ranked workers, controls, escalation switches) and back, templates, reordering, the first rule of
// the setup wizard, and what a dry-run test route says about a new worker.

import type { Rule } from "../api";

/** MATCH_FIELDS are the five keys the engine matches on, in form order. */
export const MATCH_FIELDS = [
  ["capability_id", "Capability"],
  ["env", "Environment"],
  ["data_label", "Data label"],
  ["tenant_risk", "Tenant risk"],
  ["qos_class", "QoS class"],
] as const;
export type MatchKey = (typeof MATCH_FIELDS)[number][0];

export interface RuleForm {
  rule_id: string;
  match: Record<MatchKey, string>;
  workers: string; // ranked species, comma separated
  controls: string;
  policy_gate: boolean;
  human_required_default: boolean;
  rationale: string;
}

const list = (s: string): string[] =>
  s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);

/** conditionText shows a match condition: "" (any), "dev" or "dev, stage"; {"any":true} is "*". */
export function conditionText(c: unknown): string {
  if (c === null || c === undefined) return "";
  if (typeof c === "string") return c;
  if (typeof c === "object" && c !== null) {
    const o = c as Record<string, unknown>;
    if (o.any === true) return "*";
    if (Array.isArray(o.in)) return o.in.join(", ");
  }
  return JSON.stringify(c);
}

/** conditionOf is the engine's form of a condition text: undefined (any), a string, or {"in": [...]}. */
export function conditionOf(text: string): string | { in: string[] } | { any: true } | undefined {
  const t = text.trim();
  if (t === "") return undefined;
  if (t === "*") return { any: true };
  const l = list(t);
  return l.length === 1 ? l[0] : { in: l };
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function ruleToForm(r: Rule): RuleForm {
  const m = obj(r.match);
  const d = obj(r.decision);
  const e = obj(d.escalation);
  const ranked = Array.isArray(d.candidate_workers_ranked) ? d.candidate_workers_ranked : [];
  const match = {} as Record<MatchKey, string>;
  for (const [k] of MATCH_FIELDS) match[k] = conditionText(m[k]);
  return {
    rule_id: typeof r.rule_id === "string" ? r.rule_id : "",
    match,
    workers: ranked.map((c) => String(obj(c).worker_species_id ?? "")).join(", "),
    controls: (Array.isArray(d.required_controls_suggested) ? d.required_controls_suggested : []).join(", "),
    policy_gate: e.policy_gate === true,
    human_required_default: e.human_required_default === true,
    rationale: typeof e.rationale === "string" ? e.rationale : "",
  };
}

/**
 * formToRule writes the form into a copy of base (the rule as loaded), so what the form does not
 * show (preconditions, recommended profiles, score hints of kept workers, human_required_if) is kept.
 */
export function formToRule(f: RuleForm, base: Rule = {}): Rule {
  const r: Rule = JSON.parse(JSON.stringify(base));
  r.rule_id = f.rule_id.trim();
  const match: Record<string, unknown> = {};
  for (const [k] of MATCH_FIELDS) {
    const c = conditionOf(f.match[k]);
    if (c !== undefined) match[k] = c;
  }
  r.match = match;
  const d = obj(r.decision);
  const old = new Map<string, unknown>();
  for (const c of Array.isArray(d.candidate_workers_ranked) ? d.candidate_workers_ranked : []) old.set(String(obj(c).worker_species_id), obj(c).score_hint ?? null);
  d.candidate_workers_ranked = list(f.workers).map((w) => ({ worker_species_id: w, score_hint: old.get(w) ?? null }));
  d.required_controls_suggested = list(f.controls);
  const e = obj(d.escalation);
  e.policy_gate = f.policy_gate;
  e.human_required_default = f.human_required_default;
  e.rationale = f.rationale.trim() || null;
  d.escalation = e;
  r.decision = d;
  return r;
}

export function emptyForm(): RuleForm {
  return {
    rule_id: "",
    match: { capability_id: "", env: "", data_label: "", tenant_risk: "", qos_class: "" },
    workers: "",
    controls: "",
    policy_gate: false,
    human_required_default: false,
    rationale: "",
  };
}

const slug = (s: string) => s.replace(/^cap\./, "").replace(/[^a-z0-9]+/gi, "_").replace(/^_|_$/g, "").toLowerCase();

/** uniqueId returns id, or id_2, id_3… when another rule has it. */
export function uniqueId(id: string, rules: Rule[], except = -1): string {
  const taken = new Set(rules.filter((_, i) => i !== except).map((r) => r.rule_id));
  let out = id;
  for (let n = 2; taken.has(out); n++) out = `${id}_${n}`;
  return out;
}

export type TemplateId = "allow-dev" | "prod-approval";
export const TEMPLATES: [TemplateId, string][] = [
  ["allow-dev", "Allow capability X in dev"],
  ["prod-approval", "Prod needs a person's approval"],
];

/** template fills a form for capability cap routed to worker species; ids stay unique among rules. */
export function template(t: TemplateId, cap: string, worker: string, rules: Rule[]): RuleForm {
  const f = emptyForm();
  f.match.capability_id = cap;
  f.workers = worker;
  if (t === "allow-dev") {
    f.rule_id = uniqueId(`allow_${slug(cap) || "cap"}_dev`, rules);
    f.match.env = "dev";
  } else {
    f.rule_id = uniqueId(`prod_${slug(cap) || "cap"}_approval`, rules);
    f.match.env = "prod";
    f.policy_gate = true;
    f.human_required_default = true;
    f.rationale = "prod needs a person's approval";
  }
  return f;
}

/** move returns rules with rule i moved by delta (-1 up, +1 down); out of range changes nothing. */
export function move<T>(rules: T[], i: number, delta: number): T[] {
  const j = i + delta;
  if (i < 0 || i >= rules.length || j < 0 || j >= rules.length) return rules.slice();
  const out = rules.slice();
  [out[i], out[j]] = [out[j], out[i]];
  return out;
}

/** firstRule is the wizard's rule for the first worker: its first capability, allowed in dev. */
export function firstRule(species: string, capability: string, rules: Rule[]): Rule {
  return formToRule(template("allow-dev", capability, species, rules));
}

/** testInput is the dry-run request the Enroll screen routes to check a new worker is reachable. */
export function testInput(capability: string, env = "dev"): Record<string, unknown> {
  return {
    capability_id: capability,
    env,
    data_label: "PUBLIC",
    tenant_risk: "low",
    qos_class: "P2",
    tenant_id: "hall-monitor-enroll-check",
    correlation_id: `enroll-check-${Date.now().toString(36)}`,
    request: {},
  };
}

/**
 * routeVerdict says whether a dry-run decision routes capability cap to species, and otherwise exactly
 * what is missing ("" when it is routed there).
 */
export function routeVerdict(decision: Record<string, unknown>, cap: string, species: string): string {
  const deny = obj(decision.deny_reason_if_denied);
  const code = typeof deny.code === "string" ? deny.code : "";
  const selected = typeof decision.selected_worker_species_id === "string" ? decision.selected_worker_species_id : "";
  const rule = typeof decision.matched_rule_id === "string" ? decision.matched_rule_id : "";
  if (decision.denied !== true && selected === species) return "";
  switch (code) {
    case "DENY_NO_MATCHING_RULE":
      return `no rule routes ${cap} to this worker: add one on the Rules screen`;
    case "DENY_WORKER_ATTESTATION_MISSING":
    case "DENY_WORKER_TAMPERED":
    case "DENY_ATTESTATION_UNCONFIGURED":
      return `the package does not attest (${code}): sign it and enroll it with its namespace key`;
    case "DENY_MISSING_REQUIRED_CONTROLS":
      return `rule ${rule} requires controls this Hall's workers do not declare: ${String(deny.message ?? "")}`;
  }
  if (decision.denied !== true && selected && selected !== species)
    return `rule ${rule || "(first match)"} routes ${cap} to ${selected}, not to this worker: list ${species} first on the Rules screen`;
  if (decision.denied !== true) return `rule ${rule} holds ${cap} for a person's approval`;
  return `${code || "denied"}: ${String(deny.message ?? "the Hall denies this request")}`;
}

/** ruleField splits a server field such as rules[2].match.env into the rule index and the editor's field (match.env). */
export function ruleField(field: string): { index: number; path: string } | null {
  const m = /^rules\[(\d+)\](?:\.(.*))?$/.exec(field);
  if (!m) return null;
  return { index: Number(m[1]), path: (m[2] ?? "").replace(/\[\d+\].*$/, "") };
}

/** matchSummary is a rule's match block in one line: "capability_id=cap.x · env=dev" ("everything" when empty). */
export function matchSummary(r: Rule): string {
  const m = obj(r.match);
  const parts = MATCH_FIELDS.filter(([k]) => m[k] !== undefined && m[k] !== null).map(([k]) => `${k}=${conditionText(m[k])}`);
  return parts.length ? parts.join(" · ") : "every request";
}

/** workersOf lists a rule's ranked worker species. */
export function workersOf(r: Rule): string[] {
  const d = obj(r.decision);
  return (Array.isArray(d.candidate_workers_ranked) ? d.candidate_workers_ranked : []).map((c) => String(obj(c).worker_species_id ?? ""));
}

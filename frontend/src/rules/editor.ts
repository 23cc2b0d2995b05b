// The form for one rule: the five match conditions, ranked workers, required controls and the
// escalation switches. Values are plain text (comma lists); model.ts turns them into the engine's rule.

import { h } from "../dom";
import { MATCH_FIELDS, type RuleForm } from "./model";

const HINTS: Record<string, string> = {
  capability_id: "e.g. cap.example.echo",
  env: "dev, stage, prod, edge",
  data_label: "PUBLIC, INTERNAL, RESTRICTED",
  tenant_risk: "low, medium, high",
  qos_class: "P0, P1, P2, P3",
};

function field(id: string, label: string, input: HTMLElement, hint: string): HTMLElement {
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    input,
    hint ? h("p", { class: "hint" }, hint) : null,
    h("p", { class: "field-error", "data-error-for": id.replace(/^rf-/, "") }),
  );
}

function text(id: string, value: string, onInput: (v: string) => void, placeholder = ""): HTMLInputElement {
  const el = h("input", { id, type: "text", value, placeholder, autocomplete: "off", spellcheck: "false", "data-field": id.replace(/^rf-/, "") });
  el.addEventListener("input", () => onInput(el.value));
  return el;
}

function check(id: string, label: string, value: boolean, onChange: (v: boolean) => void): HTMLElement {
  const el = h("input", { id, type: "checkbox", checked: value, "data-field": id.replace(/^rf-/, "") });
  el.addEventListener("change", () => onChange(el.checked));
  return h("label", { class: "check-line", for: id }, el, " ", label);
}

/** ruleEditor renders a form bound to f (edited in place); onDone(true) applies, onDone(false) cancels. */
export function ruleEditor(f: RuleForm, title: string, onDone: (apply: boolean) => void): HTMLElement {
  const conds = MATCH_FIELDS.map(([k, label]) =>
    field(`rf-match.${k}`, label, text(`rf-match.${k}`, f.match[k], (v) => (f.match[k] = v), HINTS[k]), ""),
  );
  const apply = h("button", { type: "button", class: "btn btn-primary", "data-action": "apply-rule" }, "Apply to draft");
  apply.addEventListener("click", () => onDone(true));
  const cancel = h("button", { type: "button", class: "btn" }, "Cancel");
  cancel.addEventListener("click", () => onDone(false));
  return h(
    "form",
    { class: "panel rule-editor", "aria-label": title, onsubmit: (e: Event) => e.preventDefault() },
    h("h2", null, title),
    field("rf-rule_id", "Rule id", text("rf-rule_id", f.rule_id, (v) => (f.rule_id = v)), "Unique; decisions name the rule that matched."),
    h("h3", null, "Match (empty = any; several values separated by commas; * = any value present)"),
    h("div", { class: "field-row" }, conds),
    h("h3", null, "Decision"),
    field(
      "rf-decision.candidate_workers_ranked",
      "Ranked workers",
      text("rf-decision.candidate_workers_ranked", f.workers, (v) => (f.workers = v), "wrk.example.echo, wrk.example.backup"),
      "Worker species in order of preference; the first available one is chosen.",
    ),
    field(
      "rf-decision.required_controls_suggested",
      "Required controls",
      text("rf-decision.required_controls_suggested", f.controls, (v) => (f.controls = v), "ctrl.obs.audit_log_append_only"),
      "Controls the Hall's workers must declare (currently_implements) or the request is denied.",
    ),
    h(
      "div",
      { class: "field" },
      check("rf-decision.escalation.policy_gate", "Policy gate (hall.policy.v1: prod/edge requests on RESTRICTED data or from high-risk tenants wait for a person's approval)", f.policy_gate, (v) => (f.policy_gate = v)),
      check("rf-decision.escalation.human_required_default", "Mark as needing a person (recorded in the decision's escalation)", f.human_required_default, (v) => (f.human_required_default = v)),
      h("p", { class: "field-error", "data-error-for": "decision.escalation" }),
    ),
    field("rf-decision.escalation.rationale", "Escalation rationale", text("rf-decision.escalation.rationale", f.rationale, (v) => (f.rationale = v)), ""),
    h("div", { class: "actions" }, apply, cancel),
  );
}

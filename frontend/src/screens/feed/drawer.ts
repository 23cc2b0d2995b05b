// The detail drawer of the live feed: a decision's sections (the decision, its denial, approval
// and dispatch, telemetry, the redacted input and the receipt with copy buttons).

import type { DecisionDetail, DecisionSummary } from "../../api";
import { copyText, h } from "../../dom";
import { formatDateTime } from "../../time";
import { blastChip, kv, outcomeBadge, pre, toast } from "../../ui";

/** decisionDetail is the drawer's sections for decision d (s: its feed row, when loaded). */
export function decisionDetail(d: DecisionDetail, s: DecisionSummary | undefined): HTMLElement[] {
  const dec = d.decision || {};
  const g = (k: string) => (dec as Record<string, unknown>)[k];
  const str = (v: unknown) => (v === null || v === undefined || v === "" ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v));
  const denied = g("denied") === true || s?.outcome === "denied";
  const receiptJson = JSON.stringify(d.receipt, null, 2);
  const tel = g("telemetry_envelopes") ?? g("telemetry") ?? null;
  const telemetry = Array.isArray(tel) && tel.length === 0 ? null : tel;
  const list = (v: unknown) => (Array.isArray(v) && v.length ? v.map((x) => (typeof x === "object" && x ? String((x as Record<string, unknown>).worker_species_id ?? JSON.stringify(x)) : String(x))).join(", ") : "—");
  const reason = (g("deny_reason_if_denied") ?? {}) as Record<string, unknown>;
  const copyBtn = h("button", { type: "button", class: "btn", "data-action": "copy-receipt" }, "Copy receipt JSON");
  copyBtn.addEventListener("click", async () => toast((await copyText(receiptJson)) ? "Receipt JSON copied" : "Copy failed: select the text instead", "ok"));
  const copyAll = h("button", { type: "button", class: "btn" }, "Copy decision JSON");
  copyAll.addEventListener("click", async () => toast((await copyText(JSON.stringify(d, null, 2))) ? "Decision JSON copied" : "Copy failed", "ok"));
  return [
    h(
      "section",
      { class: "drawer-section" },
      h("h3", null, "Decision"),
      kv([
        ["Outcome", s ? outcomeBadge(s.outcome, s.dry_run) : str(g("outcome") ?? (denied ? "denied" : "allowed"))],
        ["Time", formatDateTime((g("timestamp") as string) ?? s?.timestamp)],
        ["Capability", h("span", { class: "mono" }, str(g("capability_id") ?? s?.capability_id))],
        ["Tenant", str(g("tenant_id") ?? s?.tenant_id)],
        ["Env / data label", `${str(s?.env ?? g("env"))} / ${str(s?.data_label ?? g("data_label"))}`],
        ["Worker", h("span", { class: "mono" }, str(g("selected_worker_species_id") ?? s?.selected_worker_species_id))],
        ["Matched rule", h("span", { class: "mono" }, str(g("matched_rule_id") ?? s?.matched_rule_id))],
        ["Blast score", blastChip((g("blast_score") as number | null) ?? s?.blast_score)],
        ["Supervisor required", str(g("supervisor_required") ?? s?.supervisor_required)],
        ["Candidates", h("span", { class: "mono" }, list(g("candidate_workers_ranked")))],
        ["Required controls", h("span", { class: "mono" }, list(g("required_controls_effective")))],
        ["Attestation checked", str(g("worker_attestation_checked"))],
        ["Correlation id", h("span", { class: "mono" }, str(g("correlation_id") ?? s?.correlation_id))],
        ["Agent", h("span", { class: "mono", "data-field": "agent" }, str(s?.agent ?? d.summary?.agent))],
        ["Source", str(s?.source)],
      ]),
    ),
    denied
      ? h(
          "section",
          { class: "drawer-section" },
          h("h3", null, "Denial"),
          kv([
            ["Code", h("span", { class: "mono" }, str(reason.code ?? s?.deny_code))],
            ["Message", str(reason.message ?? s?.deny_message)],
            ...(Object.keys(reason).filter((k) => k !== "code" && k !== "message").length
              ? ([["Details", pre(Object.fromEntries(Object.entries(reason).filter(([k]) => k !== "code" && k !== "message")))]] as [string, HTMLElement][])
              : []),
          ]),
        )
      : null,
    d.approval
      ? h(
          "section",
          { class: "drawer-section" },
          h("h3", null, "Approval"),
          kv([
            ["Status", d.approval.status],
            ["Reason", d.approval.reason],
            ["Resolved by", d.approval.resolved_by],
            ["Resolved", formatDateTime(d.approval.resolved_at)],
          ]),
          h("a", { href: "#/approvals" }, "Open approvals"),
        )
      : null,
    d.dispatch
      ? h(
          "section",
          { class: "drawer-section" },
          h("h3", null, "Dispatch"),
          kv([
            ["Dispatch id", h("span", { class: "mono" }, d.dispatch.dispatch_id)],
            ["Started", formatDateTime(d.dispatch.started_at)],
            ["Finished", formatDateTime(d.dispatch.finished_at)],
            ["Outcome", d.dispatch.outcome || "running"],
          ]),
        )
      : null,
    h("section", { class: "drawer-section" }, h("h3", null, "Telemetry"), telemetry ? pre(telemetry) : h("p", { class: "muted" }, "No telemetry recorded.")),
    h("section", { class: "drawer-section" }, h("h3", null, "Input (redacted)"), pre(d.input)),
    h("section", { class: "drawer-section" }, h("h3", null, "Receipt"), h("div", { class: "actions" }, copyBtn, copyAll), pre(d.receipt)),
    h("details", { class: "drawer-section" }, h("summary", null, "Full decision JSON"), pre(dec)),
  ].filter((x): x is HTMLElement => x !== null);
}

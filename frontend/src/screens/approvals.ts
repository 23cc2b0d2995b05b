// Approvals: REQUIRE_HUMAN decisions waiting for a person (approve / deny / escalate with a note).

import * as api from "../api";
import type { Approval, ApprovalStatus } from "../api";
import { app, type Screen } from "../app";
import { h, replace } from "../dom";
import { formatDateTime } from "../time";
import { badge, blastChip, breakable, emptyState, errorBox, errorText, newestOnly, toast } from "../ui";

const STATUSES: (ApprovalStatus | "")[] = ["pending", "approved", "denied", "escalated", "expired", ""];

/** runState: what an approved row shows about its decision's run, and whether "Run" is offered (never run,
 * or the last run failed and may be retried; a running or succeeded run is not started again). */
export function runState(d: api.DispatchBrief | string | null): { text: string; canRun: boolean } {
  if (d === null) return { text: "", canRun: true };
  if (typeof d === "string") return { text: d, canRun: true };
  if (!d.outcome) return { text: `Running (${d.dispatch_id})`, canRun: false };
  if (d.outcome === "succeeded") return { text: `Succeeded in ${d.duration_ms ?? 0} ms (${d.dispatch_id})`, canRun: false };
  // An approval grants one run of exactly the approved call: after a failed run the agent routes again.
  return { text: `${d.outcome}: ${d.error || "no reason given"} (${d.dispatch_id}); the approval's one run is used: route the request again`, canRun: false };
}

/** countdownText is the Expires cell of a waiting approval: "in 12:03", or "expired". */
function countdownText(expiresAt: string | null | undefined, now: number): string {
  const t = expiresIn(expiresAt, now);
  return /^\d/.test(t) ? `in ${t}` : t;
}

/** expiresIn: "12:03" (mm:ss) or "1:02:03" until the expiry, "expired" after it, "—" without one. */
export function expiresIn(expiresAt: string | null | undefined, now: number): string {
  if (!expiresAt) return "—";
  const t = Date.parse(expiresAt);
  if (!Number.isFinite(t)) return "—";
  const s = Math.floor((t - now) / 1000);
  if (s <= 0) return "expired";
  const hh = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(hh ? 2 : 1, "0");
  const ss = String(s % 60).padStart(2, "0");
  return hh ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
}

export function createApprovalsScreen(): Screen {
  let root: HTMLElement;
  let status: ApprovalStatus | "" = "pending";
  let items: Approval[] = [];
  let error: unknown = null;
  let off: () => void = () => {};
  let reloadTimer: number | undefined;
  let tick: number | undefined;

  const load = newestOnly(
    () => api.listApprovals(status),
    (r, err) => {
      if (r) items = r.approvals ?? [];
      error = err;
      render();
    },
  );

  function actions(a: Approval): HTMLElement {
    const note = h("input", { type: "text", name: "note", placeholder: "Note (optional)", "aria-label": `Note for approval ${a.approval_id}`, "data-field": "note" });
    const wrap = h("div", { class: "approval-actions" }, note);
    const mk = (action: "approve" | "deny" | "escalate", label: string, cls: string) => {
      const b = h("button", { type: "button", class: `btn ${cls}`, "data-action": action }, label);
      b.addEventListener("click", async () => {
        for (const x of Array.from(wrap.querySelectorAll("button"))) x.disabled = true;
        try {
          await api.resolveApproval(a.approval_id, action, note.value.trim() || undefined);
          toast(`Approval ${action === "approve" ? "approved" : action === "deny" ? "denied" : "escalated"}`, "ok");
          await load();
          void app.refreshStatus();
        } catch (e) {
          toast(`${label} failed: ${errorText(e)}`, "error");
          for (const x of Array.from(wrap.querySelectorAll("button"))) x.disabled = false;
        }
      });
      return b;
    };
    wrap.append(mk("approve", "Approve", "btn-primary"), mk("deny", "Deny", "btn-danger"), mk("escalate", "Escalate", ""));
    return wrap;
  }

  // An approved decision can be run from here once: the Hall starts the worker (POST /wcp/dispatch); runs keeps
  // what a run started here answered (the list's own last_dispatch says it after a reload).
  const runs = new Map<string, api.DispatchBrief | string>();
  // The run's result (often a long error) is a line of the wide "What is approved" cell; the Action column shows
  // the button, or the outcome in one word.
  function runParts(a: Approval): { result: HTMLElement; action: HTMLElement } {
    const known = runs.get(a.approval_id) ?? a.last_dispatch ?? null;
    const r = runState(known);
    const result = h("div", { class: "small run-result", "data-field": "run-result", role: "status" }, r.text);
    if (!r.canRun) {
      const outcome = typeof known === "object" && known ? known.outcome : "";
      return { result, action: badge(outcome ? outcome.toUpperCase() : "RUNNING", outcome === "succeeded" ? "ok" : outcome ? "bad" : "info") };
    }
    const b = h("button", { type: "button", class: "btn btn-primary", "data-action": "run" }, "Run now");
    b.addEventListener("click", async () => {
      b.disabled = true;
      result.textContent = "Running…";
      try {
        const res = await api.runDecision(a.decision_id);
        const d = res.dispatch;
        runs.set(a.approval_id, { dispatch_id: d.dispatch_id, outcome: d.outcome, error: d.error, duration_ms: d.duration_ms ?? null, finished_at: d.finished_at ?? "" });
        toast(d.outcome === "succeeded" ? "Dispatch succeeded" : `Dispatch ${d.outcome}`, d.outcome === "succeeded" ? "ok" : "error");
      } catch (e) {
        runs.set(a.approval_id, errorText(e));
      }
      render();
    });
    return { result, action: h("div", { class: "approval-actions" }, b) };
  }

  function whatCell(a: Approval, runResult: HTMLElement | null): HTMLElement {
    return h(
      "div",
      { class: "approval-what" },
      h("div", { class: "mono strong" }, ...breakable(a.capability_id)),
      h(
        "div",
        { class: "small" },
        h("span", { class: "muted" }, "agent "),
        h("span", { "data-field": "agent" }, a.agent || "not named"),
        h("span", { class: "muted" }, " · worker "),
        h("span", { class: "mono", "data-field": "worker" }, ...(a.worker_species_id ? breakable(a.worker_species_id) : ["none selected"])),
        h("span", { class: "muted" }, " · tenant "),
        a.tenant_id,
      ),
      a.request_summary ? h("div", { class: "mono small request-summary", "data-field": "request", title: a.request_summary }, a.request_summary) : null,
      h("div", { class: "muted small" }, a.reason || "", a.matched_rule_id ? ` (rule ${a.matched_rule_id})` : ""),
      runResult,
    );
  }

  function expiresCell(a: Approval): HTMLElement {
    if (a.status !== "pending" && a.status !== "escalated") return h("span", { class: "muted small" }, formatDateTime(a.expires_at));
    return h("span", { class: "mono countdown", "data-expires": a.expires_at ?? "", title: formatDateTime(a.expires_at) }, countdownText(a.expires_at, Date.now()));
  }

  function render(): void {
    replace(
      root,
      h("div", { class: "screen-head" }, h("h1", null, "Approvals"), h("div", { class: "actions" }, h("button", { type: "button", class: "btn", onclick: () => void load() }, "Refresh"))),
      h(
        "div",
        { class: "chips", role: "group", "aria-label": "Approval status" },
        STATUSES.map((s) =>
          h(
            "button",
            {
              type: "button",
              class: `chip${s === status ? " active" : ""}`,
              "aria-pressed": s === status ? "true" : "false",
              onclick: () => {
                status = s;
                void load();
              },
            },
            s ? s[0].toUpperCase() + s.slice(1) : "All",
          ),
        ),
      ),
      error ? errorBox(error, "Cannot load approvals") : null,
      items.length === 0
        ? emptyState(
            status === "pending" ? "No pending approvals." : "No approvals with this status.",
            "Decisions whose rule requires a human (REQUIRE_HUMAN) wait here until you approve, deny or escalate them.",
          )
        : h(
            "table",
            { class: "grid", "aria-label": "Approvals" },
            h("thead", null, h("tr", null, ...["Created", "What is approved", "Blast", "Expires", "Status", "Action"].map((t) => h("th", { scope: "col" }, t)))),
            h(
              "tbody",
              null,
              items.map((a) => {
                const run = a.status === "approved" ? runParts(a) : null;
                return h(
                  "tr",
                  { "data-id": a.approval_id },
                  h("td", { class: "mono small" }, formatDateTime(a.created_at)),
                  h("td", { class: "cell-wide" }, whatCell(a, run?.result ?? null)),
                  h("td", null, blastChip(a.blast_score)),
                  h("td", null, expiresCell(a)),
                  h(
                    "td",
                    null,
                    badge(a.status.toUpperCase(), a.status === "approved" ? "ok" : a.status === "pending" ? "warn" : a.status === "escalated" ? "info" : "bad"),
                    a.resolved_by ? h("div", { class: "muted small", "data-field": "resolved-by" }, "by ", h("span", { class: "mono" }, a.resolved_by), a.note ? ": " + a.note : "") : null,
                  ),
                  h(
                    "td",
                    null,
                    a.status === "pending" ? actions(a) : run ? run.action : h("span", { class: "muted" }, formatDateTime(a.resolved_at)),
                  ),
                );
              }),
            ),
          ),
    );
  }

  return {
    id: "approvals",
    title: "Approvals",
    mount(el) {
      root = el;
      render();
      void load();
      tick = window.setInterval(() => {
        for (const el of Array.from(root.querySelectorAll<HTMLElement>(".countdown[data-expires]"))) el.textContent = countdownText(el.dataset.expires, Date.now());
      }, 1000);
      off = app.on((ev) => {
        if (ev.type.startsWith("approval.") || ev.type.startsWith("dispatch.")) {
          window.clearTimeout(reloadTimer);
          reloadTimer = window.setTimeout(() => void load(), 150);
        }
      });
    },
    unmount() {
      off();
      window.clearTimeout(reloadTimer);
      window.clearInterval(tick);
    },
  };
}

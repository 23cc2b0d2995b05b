// Approvals: REQUIRE_HUMAN decisions waiting for a person (approve / deny / escalate with a note).

import * as api from "../api";
import type { Approval, ApprovalStatus } from "../api";
import { app, type Screen } from "../app";
import { h, replace } from "../dom";
import { formatDateTime } from "../time";
import { badge, emptyState, errorBox, errorText, newestOnly, toast } from "../ui";

const STATUSES: (ApprovalStatus | "")[] = ["pending", "approved", "denied", "escalated", "expired", ""];

export function createApprovalsScreen(): Screen {
  let root: HTMLElement;
  let status: ApprovalStatus | "" = "pending";
  let items: Approval[] = [];
  let error: unknown = null;
  let off: () => void = () => {};
  let reloadTimer: number | undefined;

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

  // An approved decision can be run from here: the Hall starts the worker
  // (POST /wcp/dispatch) and the run shows under Active Dispatches.
  // The last run's outcome per approval survives the list's re-renders.
  const runs = new Map<string, string>();
  function runButton(a: Approval): HTMLElement {
    const b = h("button", { type: "button", class: "btn btn-primary", "data-action": "run" }, "Run now");
    const out = h("div", { class: "muted small", "data-field": "run-result", role: "status" }, runs.get(a.approval_id) ?? "");
    const show = (text: string) => {
      runs.set(a.approval_id, text);
      for (const el of Array.from(root.querySelectorAll<HTMLElement>(`tr[data-id="${CSS.escape(a.approval_id)}"] [data-field="run-result"]`))) el.textContent = text;
      out.textContent = text;
    };
    b.addEventListener("click", async () => {
      b.disabled = true;
      show("Running…");
      try {
        const r = await api.runDecision(a.decision_id);
        const d = r.dispatch;
        show(d.outcome === "succeeded" ? `Succeeded in ${d.duration_ms ?? 0} ms (${d.dispatch_id})` : `${d.outcome}: ${d.error || "no reason given"}`);
        toast(d.outcome === "succeeded" ? "Dispatch succeeded" : `Dispatch ${d.outcome}`, d.outcome === "succeeded" ? "ok" : "error");
      } catch (e) {
        show(errorText(e));
        b.disabled = false;
      }
    });
    return h("div", { class: "approval-actions" }, b, out);
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
            h("thead", null, h("tr", null, ...["Created", "Capability", "Tenant", "Rule", "Reason", "Expires", "Status", "Action"].map((t) => h("th", { scope: "col" }, t)))),
            h(
              "tbody",
              null,
              items.map((a) =>
                h(
                  "tr",
                  { "data-id": a.approval_id },
                  h("td", { class: "mono" }, formatDateTime(a.created_at)),
                  h("td", { class: "mono" }, a.capability_id),
                  h("td", null, a.tenant_id),
                  h("td", { class: "mono" }, a.matched_rule_id || "—"),
                  h("td", null, a.reason || "—"),
                  h("td", { class: "mono" }, formatDateTime(a.expires_at)),
                  h(
                    "td",
                    null,
                    badge(a.status.toUpperCase(), a.status === "approved" ? "ok" : a.status === "pending" ? "warn" : a.status === "escalated" ? "info" : "bad"),
                    a.resolved_by ? h("div", { class: "muted small" }, `by ${a.resolved_by}${a.note ? ": " + a.note : ""}`) : null,
                  ),
                  h(
                    "td",
                    null,
                    a.status === "pending" ? actions(a) : a.status === "approved" ? runButton(a) : h("span", { class: "muted" }, formatDateTime(a.resolved_at)),
                  ),
                ),
              ),
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
      off = app.on((ev) => {
        if (ev.type.startsWith("approval.")) {
          window.clearTimeout(reloadTimer);
          reloadTimer = window.setTimeout(() => void load(), 150);
        }
      });
    },
    unmount() {
      off();
      window.clearTimeout(reloadTimer);
    },
  };
}

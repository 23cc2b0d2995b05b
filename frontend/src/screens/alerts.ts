// Alerts: severity filter, open vs acknowledged, persistent acknowledge (POST /api/alerts/{id}/ack).

import * as api from "../api";
import type { Alert, Severity } from "../api";
import { app, type Screen } from "../app";
import { h, replace } from "../dom";
import { formatDateTime } from "../time";
import { badge, busy, emptyState, errorBox, errorText, newestOnly, toast } from "../ui";

const SEVERITIES: (Severity | "")[] = ["", "critical", "error", "warning", "info"];
const ICON: Record<string, string> = { critical: "✖", error: "✗", warning: "⚠", info: "ℹ" };

export function createAlertsScreen(): Screen {
  let root: HTMLElement;
  let severity: Severity | "" = "";
  let showAcked = false;
  let alerts: Alert[] = [];
  let error: unknown = null;
  let off: () => void = () => {};
  let reloadTimer: number | undefined;

  const load = newestOnly(
    () => api.listAlerts({ severity, acknowledged: showAcked ? undefined : false, limit: 200 }),
    (r, err) => {
      if (r) alerts = r.alerts ?? [];
      error = err;
      render();
    },
  );

  function card(a: Alert): HTMLElement {
    const ack = h("button", { type: "button", class: "btn", "data-action": "ack" }, "Acknowledge");
    ack.addEventListener("click", () =>
      busy(ack, "Acknowledging…", async () => {
        try {
          await api.ackAlert(a.alert_id);
          toast("Alert acknowledged", "ok");
          await load();
          void app.refreshStatus();
        } catch (e) {
          toast(`Acknowledge failed: ${errorText(e)}`, "error");
        }
      }),
    );
    return h(
      "article",
      { class: `alert-card sev-${a.severity}${a.acknowledged ? " acked" : ""}`, "data-id": a.alert_id, "aria-labelledby": `al-${a.alert_id}` },
      h(
        "header",
        null,
        h("span", { class: "sev-icon", "aria-hidden": "true" }, ICON[a.severity] || "•"),
        h("h3", { id: `al-${a.alert_id}` }, a.title),
        badge(a.severity.toUpperCase(), a.severity === "critical" || a.severity === "error" ? "bad" : a.severity === "warning" ? "warn" : "info"),
        h("span", { class: "mono muted" }, a.type),
        a.count > 1 ? badge(`×${a.count}`, "muted") : null,
      ),
      h("p", { class: "alert-body" }, a.body),
      h(
        "p",
        { class: "muted small" },
        `Raised ${formatDateTime(a.created_at)} · last event ${formatDateTime(a.last_event_at)}`,
        a.acknowledged ? ` · acknowledged ${formatDateTime(a.acknowledged_at)}` : "",
      ),
      h(
        "div",
        { class: "actions" },
        a.acknowledged ? badge("ACKNOWLEDGED", "muted") : ack,
        a.decision_id ? h("a", { class: "btn", href: `#/feed?q=${encodeURIComponent(a.decision_id)}` }, "View decision") : null,
        a.worker_id ? h("a", { class: "btn", href: `#/workers?focus=${encodeURIComponent(a.worker_id)}` }, "View worker") : null,
      ),
    );
  }

  function render(): void {
    const open = alerts.filter((a) => !a.acknowledged).length;
    replace(
      root,
      h("div", { class: "screen-head" }, h("h1", null, "Alerts ", h("span", { class: "muted small" }, `${open} open`)), h("div", { class: "actions" }, h("button", { type: "button", class: "btn", onclick: () => void load() }, "Refresh"))),
      h(
        "div",
        { class: "chips", role: "group", "aria-label": "Severity" },
        SEVERITIES.map((s) =>
          h(
            "button",
            {
              type: "button",
              class: `chip${s === severity ? " active" : ""}`,
              "aria-pressed": s === severity ? "true" : "false",
              "data-severity": s || "all",
              onclick: () => {
                severity = s;
                void load();
              },
            },
            s ? s[0].toUpperCase() + s.slice(1) : "All",
          ),
        ),
        h(
          "label",
          { class: "check" },
          h("input", {
            type: "checkbox",
            checked: showAcked,
            name: "show-acked",
            onchange: (e: Event) => {
              showAcked = (e.target as HTMLInputElement).checked;
              void load();
            },
          }),
          " Show acknowledged",
        ),
      ),
      error ? errorBox(error, "Cannot load alerts") : null,
      alerts.length === 0
        ? emptyState("No open alerts.", severity ? `Nothing with severity ${severity}.` : "Tampered workers, blast-radius breaches, failed decision writes and registry problems appear here live.")
        : h("div", { class: "alert-list" }, alerts.map(card)),
    );
  }

  return {
    id: "alerts",
    title: "Alerts",
    mount(el) {
      root = el;
      render();
      void load();
      off = app.on((ev) => {
        if (ev.type.startsWith("alert.")) {
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

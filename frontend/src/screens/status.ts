// Status dashboard: Hall state and standing (grace countdown), counters, recent refusals, server info.

import * as api from "../api";
import { app, type Screen } from "../app";
import { copyText, h, replace } from "../dom";
import { formatCountdown, formatDateTime, formatTime, formatUptime } from "../time";
import { exportSummary } from "../telemetry";
import { badge, blastChip, breakable, breakableOrDash, busy, emptyState, errorBox, kv, outcomeBadge, toast } from "../ui";
import { decisionCharts } from "./decisioncharts";

/**
 * stateLabel names the Hall's state. The Hall routes locally in every state ("offline" and "ready" in the
 * API); "online" only adds the registry connection, so the words are "Local" and "Connected to registry".
 */
export function stateLabel(s: api.Status | null): { label: string; kind: string } {
  if (!s) return { label: "Unreachable", kind: "bad" };
  if (s.state === "online") return { label: "Connected to registry", kind: "ok" };
  return { label: "Local", kind: "info" };
}

/** goOnlineNeeds lists what Go Online still needs (empty when only the registry's answer is left to learn). */
export function goOnlineNeeds(s: api.Status | null): string[] {
  if (!s) return ["the Hall API to answer"];
  const out: string[] = [];
  if (!s.logged_in) out.push("you signed in with GitHub (My Profile)");
  if (s.logged_in && s.account_standing && s.account_standing !== "ok" && s.account_standing !== "grace") out.push(`your account in good standing (it is "${s.account_standing}")`);
  return out;
}

/** goOnlineHint explains Go Online next to the button: what it does and what it needs. */
export function goOnlineHint(s: api.Status | null): HTMLElement | null {
  if (!s || s.state === "online") return null;
  const needs = goOnlineNeeds(s);
  return h(
    "p",
    { class: "muted small go-online-hint", "data-field": "go-online-needs" },
    "Go Online connects this Hall to the registry (standing checks, worker verification, ban list); routing already runs locally. It needs ",
    needs.length ? needs.join(" and ") + ", and " : "",
    "the registry reachable from this computer.",
  );
}

/** goOnlineButtons: Go Online / Go Offline, shared by the header and the dashboard. */
export function onlineButton(): HTMLButtonElement {
  const s = app.status;
  const online = s?.state === "online";
  const btn = h(
    "button",
    { type: "button", class: online ? "btn" : "btn btn-primary", "data-action": online ? "go-offline" : "go-online" },
    online ? "Go Offline" : "Go Online",
  );
  if (!s) btn.disabled = true;
  if (!online) btn.title = goOnlineNeeds(s).length ? `Needs ${goOnlineNeeds(s).join(" and ")}, and the registry reachable` : "Connect to the registry (it must be reachable)";
  btn.addEventListener("click", () =>
    busy(btn, online ? "Going offline…" : "Activating…", async () => {
      try {
        if (online) await api.goOffline();
        else {
          const needs = goOnlineNeeds(s);
          if (needs.length) {
            toast(`Go Online needs ${needs.join(" and ")}.`, "error");
            return;
          }
          const r = await api.goOnline();
          toast(`Hall is online (standing: ${r.account_standing}, tier: ${r.tier})`, "ok");
        }
      } catch (e) {
        toast(`${online ? "Go Offline" : "Go Online"} failed: ${e instanceof Error ? e.message : String(e)}`, "error");
      }
      await app.refreshStatus();
    }),
  );
  return btn;
}

export function standingBanner(s: api.Status | null, graceLeft: number | null): HTMLElement | null {
  if (!s || !s.logged_in || !s.account_standing || s.account_standing === "ok") return null;
  if (s.account_standing === "grace" && graceLeft !== null && graceLeft > 0) {
    return h(
      "div",
      { class: "banner banner-bad", role: "alert" },
      "Account verification failed. The Hall goes offline in ",
      h("strong", { class: "grace-countdown" }, formatCountdown(graceLeft)),
      ". Resolve your account in the registry, then use Go Online again.",
    );
  }
  return h(
    "div",
    { class: "banner banner-bad", role: "alert" },
    `Account standing is "${s.account_standing}": the Hall cannot go online with the registry. Resolve your account there (see My Profile).`,
  );
}

/** problemWorkersBanner names the enrolled workers the Hall refuses to route to because they are tampered or banned. */
export function problemWorkersBanner(ws: api.Worker[]): HTMLElement | null {
  if (ws.length === 0) return null;
  return h(
    "div",
    { class: "banner banner-bad", role: "alert", "data-field": "problem-workers" },
    `${ws.length === 1 ? "1 worker is" : `${ws.length} workers are`} refused: `,
    ...ws.flatMap((w, i) => [i ? ", " : "", h("a", { class: "mono", href: `#/workers?focus=${encodeURIComponent(w.worker_id)}` }, w.worker_id), ` (${w.status})`]),
    ". Requests for them are denied until the package verifies again (or the registry lifts the ban), acknowledged alert or not.",
  );
}

export function createStatusScreen(): Screen {
  let root: HTMLElement;
  const charts = decisionCharts();
  let offStatus: () => void = () => {};
  let tick: number | undefined;
  let graceBase: { at: number; secs: number } | null = null;
  let rulesError = "";
  let problemWorkers: api.Worker[] = [];
  let offEvents: () => void = () => {};
  let workersTimer: number | undefined;

  // A tampered or banned worker stays a problem after its alert is acknowledged: the banner follows the
  // workers' own state (the package's attestation, the registry's ban), not the open alerts.
  async function loadWorkers(): Promise<void> {
    try {
      problemWorkers = (await api.listWorkers()).workers.filter((w) => w.status === "tampered" || w.status === "banned");
    } catch {
      problemWorkers = [];
    }
    render();
  }

  function graceLeft(): number | null {
    if (!graceBase) return null;
    return graceBase.secs - (Date.now() - graceBase.at) / 1000;
  }

  function render(): void {
    const s = app.status;
    graceBase = s && s.grace_seconds_remaining !== null && s.grace_seconds_remaining !== undefined ? { at: Date.now(), secs: s.grace_seconds_remaining } : null;
    const st = stateLabel(s);
    const counts = s?.counts;
    const card = (label: string, value: number | undefined, screen: string, detail: string) =>
      h(
        "a",
        { class: "stat", href: `#/${screen}`, "data-count": label },
        h("span", { class: "stat-value" }, value === undefined ? "—" : String(value)),
        h("span", { class: "stat-label" }, label),
        h("span", { class: "stat-detail" }, detail),
      );
    replace(
      root,
      h(
        "div",
        { class: "screen-head" },
        h("h1", null, "Hall Status"),
        h(
          "div",
          { class: "actions" },
          onlineButton(),
          h("button", { type: "button", class: "btn", onclick: () => void app.refreshStatus() }, "Refresh"),
          h("a", { class: "btn", href: "#/feed" }, "View live feed"),
        ),
      ),
      app.statusError ? errorBox(app.statusError, "Cannot load the Hall status") : null,
      rulesError ? h("div", { class: "banner banner-bad", role: "alert" }, "No routing rules are in force, so every request is denied (fail-closed): ", h("span", { class: "mono" }, rulesError)) : null,
      h("div", { class: "standing-slot" }, standingBanner(s, graceLeft())),
      problemWorkersBanner(problemWorkers),
      h(
        "section",
        { class: "panel hall-card", "aria-labelledby": "hall-state-h" },
        h("h2", { id: "hall-state-h" }, "Hall"),
        h(
          "div",
          { class: "hall-state-line" },
          h("span", { class: `dot dot-${st.kind}`, "aria-hidden": "true" }),
          h("strong", { class: "hall-state-label", "data-state": s?.state ?? "unreachable" }, st.label),
          h(
            "span",
            { class: "muted" },
            !s
              ? " — the Hall API does not answer"
              : s.state === "online"
                ? " — routing here, with the registry's standing checks, verification and ban list"
                : s.logged_in
                  ? " — routing on this computer; signed in, not connected to the registry"
                  : " — routing on this computer; not signed in, not connected to the registry",
          ),
        ),
        goOnlineHint(s),
        s
          ? kv([
              ["Signed in as", s.logged_in ? h("a", { href: "#/profile" }, "@" + s.github_login) : h("a", { href: "#/profile" }, "not signed in — sign in")],
              ["Account standing", s.account_standing || "—"],
              ["Tier", s.tier || "—"],
              ["Standing checked", formatDateTime(s.standing_checked_at)],
            ])
          : null,
      ),
      h(
        "div",
        { class: "stats", role: "group", "aria-label": "Counters" },
        card("Workers", counts?.workers, "workers", "enrolled"),
        card("Decisions today", counts?.decisions_today, "feed", "all outcomes"),
        card("Denials today", counts?.denials_today, "feed", "refused requests"),
        card("Active dispatches", counts?.active_dispatches, "dispatches", "running now"),
        card("Open alerts", counts?.open_alerts, "alerts", "not acknowledged"),
        card("Pending approvals", counts?.pending_approvals, "approvals", "need a human"),
      ),
      charts.el,
      refusals(s),
      serverInfo(s),
    );
  }

  function refusals(s: api.Status | null): HTMLElement {
    const list = s?.recent_refusals ?? [];
    return h(
      "section",
      { class: "panel" },
      h("h2", null, "Recent refusals"),
      list.length === 0
        ? emptyState("No refusals recorded.", "Denied decisions appear here as agents post to /wcp/route.")
        : h(
            "table",
            { class: "grid" },
            h("thead", null, h("tr", null, ...["Time", "Outcome", "Capability", "Tenant", "Deny code", "Reason", "Blast"].map((t) => h("th", { scope: "col" }, t)))),
            h(
              "tbody",
              null,
              list.map((d) =>
                h(
                  "tr",
                  null,
                  h("td", { class: "mono" }, formatTime(d.timestamp)),
                  h("td", null, outcomeBadge(d.outcome, d.dry_run)),
                  h("td", { class: "mono" }, ...breakable(d.capability_id)),
                  h("td", null, d.tenant_id),
                  h("td", { class: "mono" }, ...breakableOrDash(d.deny_code)),
                  h("td", null, d.deny_message || "—"),
                  h("td", null, blastChip(d.blast_score)),
                ),
              ),
            ),
          ),
    );
  }

  function logPath(p: string): HTMLElement {
    const copy = h("button", { type: "button", class: "btn btn-small" }, "Copy path");
    copy.addEventListener("click", async () => toast((await copyText(p)) ? "Log path copied" : "Copy failed: select the path", "ok"));
    return h("span", null, h("span", { class: "mono" }, p), " ", copy);
  }

  function serverInfo(s: api.Status | null): HTMLElement {
    const sv = s?.server;
    return h(
      "section",
      { class: "panel" },
      h("h2", null, "Hall server"),
      sv
        ? kv([
            ["Version", sv.version],
            ["Listening on", sv.listen],
            ["Database", h("span", { class: "mono" }, sv.db_path)],
            ["Started", formatDateTime(sv.started_at)],
            ["Uptime", h("span", { class: "uptime" }, formatUptime(sv.uptime_seconds))],
            ["Rules loaded", typeof sv.rules_loaded === "boolean" ? (sv.rules_loaded ? "yes" : "no — see the rules file") : String(sv.rules_loaded)],
            ["Rules hash", h("span", { class: "mono" }, sv.rules_hash || "—")],
            ["Rules file", h("span", { class: "mono" }, sv.rules_path || "—")],
            ["Last event id", String(sv.last_event_id)],
            ["Log file", sv.log_path ? logPath(sv.log_path) : "—"],
            ...exportSummary(s?.export),
          ])
        : emptyState("No server information", "The Hall API is not reachable."),
      s ? h("p", null, badge("WCP", "info"), " ", "Governance through core.Decide; every decision is stored with a receipt.") : null,
    );
  }

  return {
    id: "status",
    title: "Hall Status",
    mount(el) {
      root = el;
      render();
      charts.start();
      offStatus = app.onStatus(render);
      void app.refreshStatus();
      void loadWorkers();
      offEvents = app.on((ev) => {
        if (ev.type.startsWith("worker.") || ev.type === "alert.raised") {
          window.clearTimeout(workersTimer);
          workersTimer = window.setTimeout(() => void loadWorkers(), 300);
        }
      });
      void api.getRules().then(
        (r) => {
          rulesError = r.error || "";
          render();
        },
        () => undefined,
      );
      tick = window.setInterval(() => {
        const left = graceLeft();
        const c = root.querySelector(".grace-countdown");
        if (c && left !== null) c.textContent = formatCountdown(left);
      }, 1000);
    },
    unmount() {
      offStatus();
      charts.stop();
      offEvents();
      window.clearTimeout(workersTimer);
      window.clearInterval(tick);
    },
  };
}

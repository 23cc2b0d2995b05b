// Status dashboard: Hall state and standing (grace countdown), counters, recent refusals, server info.

import * as api from "../api";
import { app, type Screen } from "../app";
import { copyText, h, replace } from "../dom";
import { formatCountdown, formatDateTime, formatTime, formatUptime } from "../time";
import { exportSummary } from "../telemetry";
import { badge, blastChip, busy, emptyState, errorBox, kv, outcomeBadge, toast } from "../ui";

export function stateLabel(s: api.Status | null): { label: string; kind: string } {
  if (!s) return { label: "UNREACHABLE", kind: "bad" };
  if (s.state === "online") return { label: "ONLINE", kind: "ok" };
  if (s.state === "ready") return { label: "READY", kind: "warn" };
  return { label: "OFFLINE", kind: "muted" };
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
  btn.addEventListener("click", () =>
    busy(btn, online ? "Going offline…" : "Activating…", async () => {
      try {
        if (online) await api.goOffline();
        else {
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

export function createStatusScreen(): Screen {
  let root: HTMLElement;
  let offStatus: () => void = () => {};
  let tick: number | undefined;
  let graceBase: { at: number; secs: number } | null = null;
  let rulesError = "";

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
                ? " — online with the registry (standing verified); local routing runs in every state"
                : s.state === "ready"
                  ? " — signed in; Go Online to appear online with the registry (local routing runs already)"
                  : s.logged_in
                    ? " — Go Online to appear online with the registry (local routing runs already)"
                    : " — routing locally; sign in (My Profile) and Go Online to connect to the registry",
          ),
        ),
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
                  h("td", { class: "mono" }, d.capability_id),
                  h("td", null, d.tenant_id),
                  h("td", { class: "mono" }, d.deny_code || "—"),
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
      offStatus = app.onStatus(render);
      void app.refreshStatus();
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
      window.clearInterval(tick);
    },
  };
}

// Entry point: trades the admin credential from #token= for a browser session (signin.ts), checks setup (wizard until completed), builds the
// shell (header with Hall state, left nav, main, status bar), routes #/screen, follows the events.

import "./localeguard"; // first: before uPlot reads navigator.language
import "./style.css";
import * as api from "./api";
import { app, applyRememberedTheme, notify, type Screen } from "./app";
import { bridge, onTrayNavigate } from "./desktop";
import { h, replace } from "./dom";
import { showLockScreen } from "./lock";
import { installSignIn, signIn } from "./signin";
import { createAlertsScreen } from "./screens/alerts";
import { createApprovalsScreen } from "./screens/approvals";
import { createCoordinationScreen } from "./screens/coordination";
import { createDispatchesScreen } from "./screens/dispatches";
import { createEnrollScreen } from "./screens/enroll";
import { createFeedScreen } from "./screens/feed";
import { createProfileScreen } from "./screens/profile";
import { createSettingsScreen } from "./screens/settings";
import { createStatusScreen, onlineButton, stateLabel } from "./screens/status";
import { createRulesScreen } from "./screens/rules";
import { createWorkersScreen } from "./screens/workers";
import { EventFollower, type StreamState } from "./sse";
import { effectiveTimeZone, formatClock } from "./time";
import { errorBox } from "./ui";
import { showWizard } from "./wizard";

const appRoot = document.getElementById("app")!;

interface NavItem {
  id: string;
  label: string;
  icon: string;
  badge?: keyof api.Counts;
  group: "top" | "bottom";
}

const NAV: NavItem[] = [
  { id: "status", label: "Hall Status", icon: "≡", group: "top" },
  { id: "feed", label: "Live Feed", icon: "⚡", group: "top" },
  { id: "dispatches", label: "Active Dispatches", icon: "▶", badge: "active_dispatches", group: "top" },
  { id: "alerts", label: "Alerts", icon: "⚠", badge: "open_alerts", group: "top" },
  { id: "approvals", label: "Approvals", icon: "✓", badge: "pending_approvals", group: "top" },
  { id: "workers", label: "Workers", icon: "☷", group: "top" },
  { id: "rules", label: "Rules", icon: "⚖", group: "top" },
  { id: "coordination", label: "Coordination", icon: "⇄", group: "top" },
  { id: "enroll", label: "Enroll Worker", icon: "+", group: "top" },
  { id: "profile", label: "My Profile", icon: "◉", group: "bottom" },
  { id: "settings", label: "Settings", icon: "⚙", group: "bottom" },
];

const screens: Record<string, () => Screen> = {
  status: createStatusScreen,
  feed: createFeedScreen,
  dispatches: createDispatchesScreen,
  alerts: createAlertsScreen,
  approvals: createApprovalsScreen,
  workers: createWorkersScreen,
  rules: createRulesScreen,
  coordination: createCoordinationScreen,
  enroll: createEnrollScreen,
  profile: createProfileScreen,
  settings: createSettingsScreen,
};
const instances = new Map<string, Screen>();

let current: Screen | null = null;
let mainEl: HTMLElement;
let follower: EventFollower | null = null;
let shellBuilt = false;

function parseRoute(): { id: string; params: URLSearchParams } {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, qs] = raw.split("?");
  const id = screens[path] ? path : "status";
  return { id, params: new URLSearchParams(qs || "") };
}

function route(): void {
  if (!shellBuilt) return;
  const { id, params } = parseRoute();
  current?.unmount?.();
  let s = instances.get(id);
  if (!s) {
    s = screens[id]();
    instances.set(id, s);
  }
  current = s;
  replace(mainEl);
  mainEl.dataset.screen = id;
  s.mount(mainEl, params);
  document.title = `${s.title} — Hall Monitor`;
  // move keyboard and screen-reader focus to the new screen unless the user is typing in the header
  if (!(document.activeElement instanceof HTMLInputElement)) mainEl.focus({ preventScroll: true });
  for (const a of Array.from(document.querySelectorAll<HTMLAnchorElement>("nav.sidebar a"))) {
    if (a.dataset.screen === id) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

app.navigate = (id, params) => {
  const qs = params ? "?" + new URLSearchParams(params).toString() : "";
  location.hash = `#/${id}${qs}`;
};

function buildShell(): void {
  const navLink = (n: NavItem) =>
    h(
      "li",
      null,
      h(
        "a",
        { href: `#/${n.id}`, "data-screen": n.id },
        h("span", { class: "nav-icon", "aria-hidden": "true" }, n.icon),
        h("span", { class: "nav-label" }, n.label),
        n.badge ? h("span", { class: "nav-badge", "data-badge": n.badge, hidden: true }) : null,
      ),
    );
  mainEl = h("main", { id: "main", tabindex: "-1" });
  replace(
    appRoot,
    h("a", { class: "skip-link", href: "#main", onclick: (e: Event) => (e.preventDefault(), mainEl.focus()) }, "Skip to content"),
    h(
      "header",
      { class: "topbar" },
      h("div", { class: "brand" }, h("span", { class: "logo", "aria-hidden": "true" }, "◆"), h("span", null, "Hall Monitor"), h("span", { class: "tagline" }, "every worker, every job, every decision")),
      h("div", { class: "header-status", "aria-live": "polite" }),
    ),
    h(
      "nav",
      { class: "sidebar", "aria-label": "Main" },
      h("ul", null, NAV.filter((n) => n.group === "top").map(navLink)),
      h("ul", { class: "nav-bottom" }, NAV.filter((n) => n.group === "bottom").map(navLink)),
    ),
    mainEl,
    h("footer", { class: "statusbar" }, h("span", { class: "sb-state" }), h("span", { class: "sb-counts" }), h("span", { class: "sb-stream" }), h("span", { class: "sb-clock" })),
  );
  appRoot.className = "shell";
  shellBuilt = true;
  renderHeader();
  tickClock();
}

function renderHeader(): void {
  const hs = document.querySelector(".header-status");
  if (!hs) return;
  const s = app.status;
  const st = stateLabel(s);
  const pill = h(
    "span",
    { class: `pill pill-${st.kind}`, "data-state": s?.state ?? "unreachable", title: s ? `Hall is ${s.state}` : "The Hall API does not answer" },
    h("span", { class: `dot dot-${st.kind}`, "aria-hidden": "true" }),
    "Hall: ",
    st.label,
  );
  replace(
    hs,
    pill,
    s?.logged_in ? h("a", { class: "who", href: "#/profile" }, "@" + s.github_login) : h("a", { class: "who muted", href: "#/profile" }, "not signed in"),
    s && s.account_standing && s.account_standing !== "ok" && s.logged_in ? h("span", { class: "pill pill-bad" }, `standing: ${s.account_standing}`) : null,
    onlineButton(),
  );
  for (const b of Array.from(document.querySelectorAll<HTMLElement>(".nav-badge"))) {
    const n = s ? s.counts[b.dataset.badge as keyof api.Counts] : 0;
    b.textContent = n ? String(n) : "";
    b.hidden = !n;
    b.setAttribute("aria-label", `${n} ${b.dataset.badge?.replace(/_/g, " ")}`);
  }
  const sbState = document.querySelector(".sb-state");
  if (sbState) replace(sbState, "Hall: ", h("strong", { class: `text-${st.kind}` }, st.label));
  const sbCounts = document.querySelector(".sb-counts");
  if (sbCounts) sbCounts.textContent = s ? `${s.counts.workers} workers · ${s.counts.decisions_today} decisions today · ${s.counts.denials_today} denied` : "—";
}

function renderStream(state: StreamState, detail?: string): void {
  app.streamState = state;
  const el = document.querySelector(".sb-stream");
  if (!el) return;
  const label = state === "live" ? "● events live" : state === "connecting" ? "◌ connecting…" : state === "reconnecting" ? "◌ reconnecting…" : "○ stopped";
  el.textContent = label;
  el.className = `sb-stream stream-${state}`;
  el.setAttribute("title", detail || label);
}

function tickClock(): void {
  const el = document.querySelector(".sb-clock");
  if (el) {
    el.textContent = formatClock(new Date());
    el.setAttribute("title", `Time zone: ${effectiveTimeZone()}`);
  }
}

let statusTimer: number | undefined;
function scheduleStatusRefresh(): void {
  window.clearTimeout(statusTimer);
  statusTimer = window.setTimeout(() => void app.refreshStatus(), 250);
}

function startStream(): void {
  follower?.stop();
  follower = new EventFollower({
    onEvent: (ev) => {
      app.emit(ev);
      notify(ev);
      if (ev.type === "settings.changed") {
        app.loadSettings().catch((e) => console.warn("settings reload failed", e));
        return;
      }
      scheduleStatusRefresh();
    },
    onState: renderStream,
    minSince: app.status?.server?.last_event_id ?? 0,
    // SSE does not get through the desktop window's in-process handler (WebKitGTK: the stream stays
    // silent until the fallback kicks in), so the window long-polls the same endpoint from the start.
    poll: bridge() !== null,
  });
  void follower.start();
}

async function boot(credential: string | null = null): Promise<void> {
  if (credential && !(await signIn(credential, () => void boot()))) return;
  let setup: api.SetupState;
  try {
    setup = await api.getSetup();
    app.whoami = await api.whoami();
  } catch (e) {
    // the token, person-only or lock screen is shown by its handler
    if (e instanceof api.ApiError && (e.status === 401 || e.status === 423 || e.code === "forbidden_scope")) return;
    replace(
      appRoot,
      h(
        "div",
        { class: "boot-error" },
        h("h1", null, "Cannot reach the Hall API"),
        errorBox(e, "Error"),
        h("button", { type: "button", class: "btn btn-primary", onclick: () => void boot() }, "Retry"),
      ),
    );
    return;
  }
  try {
    await app.loadSettings();
  } catch (e) {
    console.warn("settings not loaded; using defaults", e);
  }
  if (!setup.completed) {
    replace(appRoot);
    appRoot.className = "wizard-only";
    showWizard(appRoot, setup, () => void boot());
    return;
  }
  if (!shellBuilt) {
    buildShell();
    window.addEventListener("hashchange", route);
    window.setInterval(tickClock, 10_000);
    window.setInterval(() => void app.refreshStatus(), 15_000);
    app.onStatus(renderHeader);
    app.onSettings(tickClock);
  }
  route();
  await app.refreshStatus();
  startStream();
}

app.rerunWizard = async () => {
  try {
    const setup = await api.getSetup();
    showWizard(document.body, setup, () => void app.refreshStatus(), { rerun: true });
  } catch (e) {
    document.body.appendChild(errorBox(e, "Cannot open the setup wizard"));
  }
};

applyRememberedTheme();
installSignIn(() => void boot(), () => follower?.stop());
api.onLocked(() => showLockScreen());
// "Lock now" elsewhere (the window or another tab) locks this page too, not only at its next request.
app.on((ev) => {
  if (ev.type === "ui.lock" && (ev.data as { change?: string } | null)?.change === "locked") showLockScreen();
});
onTrayNavigate((id) => app.navigate(id));
const credential = api.takeTokenFromLocation();
if (!location.hash || location.hash === "#") history.replaceState(null, "", location.pathname + location.search + "#/status");
void boot(credential);

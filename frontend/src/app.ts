// Application state shared by the screens: Hall status, settings (with ETag), the event bus fed
// by the live stream, navigation and desktop notifications.

import * as api from "./api";
import type { HallEvent, Settings, Status } from "./api";
import { bridge } from "./desktop";
import { setTimePrefs } from "./time";

export interface Screen {
  id: string;
  title: string;
  mount(root: HTMLElement, params: URLSearchParams): void;
  unmount?(): void;
}

type Listener = (ev: HallEvent) => void;

export const DEFAULT_SETTINGS: Settings = {
  timezone: "",
  locale: "",
  feed_max_rows: 500,
  notify_on: ["alert.raised", "approval.created"],
  notify_every_denial: false,
  default_profile: "prof.dev.permissive",
  theme: "system",
  close_to_tray: true,
};

class AppState {
  status: Status | null = null;
  statusError: unknown = null;
  settings: Settings = { ...DEFAULT_SETTINGS };
  settingsEtag = "";
  streamState = "connecting";
  /** who this page acts as (GET /api/whoami at start): the person, via the window or a browser session. */
  whoami: api.WhoAmI | null = null;
  private listeners = new Set<Listener>();
  private statusListeners = new Set<() => void>();
  private settingsListeners = new Set<() => void>();
  navigate: (id: string, params?: Record<string, string>) => void = () => {};
  rerunWizard: () => void = () => {};

  /** subscribe to live events; returns the unsubscribe function. */
  on(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  emit(ev: HallEvent): void {
    for (const fn of this.listeners) {
      try {
        fn(ev);
      } catch (e) {
        console.error("event listener failed", e);
      }
    }
  }
  onStatus(fn: () => void): () => void {
    this.statusListeners.add(fn);
    return () => this.statusListeners.delete(fn);
  }
  onSettings(fn: () => void): () => void {
    this.settingsListeners.add(fn);
    return () => this.settingsListeners.delete(fn);
  }

  async refreshStatus(): Promise<void> {
    try {
      this.status = await api.getStatus();
      this.statusError = null;
    } catch (e) {
      this.statusError = e;
    }
    for (const fn of this.statusListeners) fn();
  }

  async loadSettings(): Promise<void> {
    const r = await api.getSettings();
    this.applySettings(r.settings, r.etag);
  }

  applySettings(s: Settings, etag: string): void {
    this.settings = { ...DEFAULT_SETTINGS, ...s };
    this.settingsEtag = etag;
    setTimePrefs({ timezone: this.settings.timezone, locale: this.settings.locale });
    applyTheme(this.settings.theme);
    for (const fn of this.settingsListeners) fn();
  }
}

export const app = new AppState();

/** THEME_KEY keeps the chosen theme in this browser, so the start and lock screens (shown before the
 * settings can be read) already have it. */
export const THEME_KEY = "hallmonitor.theme";

export function applyTheme(theme: string): void {
  const root = document.documentElement;
  if (theme === "light" || theme === "dark") root.dataset.theme = theme;
  else delete root.dataset.theme;
  try {
    localStorage.setItem(THEME_KEY, theme);
  } catch {
    // storage off (private mode): the theme applies once the settings are read
  }
}

/** applyRememberedTheme applies the theme last chosen in this browser (at start, before the settings load). */
export function applyRememberedTheme(): void {
  try {
    const t = localStorage.getItem(THEME_KEY);
    if (t) applyTheme(t);
  } catch {
    // no storage: the system theme until the settings load
  }
}

/** notificationFor says whether an event raises a desktop notification under the settings, and its text. */
export function notificationFor(ev: HallEvent, s: Settings): { title: string; body: string } | null {
  const d = ev.data as Record<string, unknown>;
  const str = (k: string) => (typeof d[k] === "string" ? (d[k] as string) : "");
  const wanted = s.notify_on.includes(ev.type);
  if (ev.type === "decision.recorded") {
    const denied = d.outcome === "denied" || d.denied === true;
    if (!wanted && !(s.notify_every_denial && denied)) return null;
    return {
      title: denied ? `Denied: ${str("capability_id")}` : `Decision: ${str("capability_id")} ${str("outcome")}`,
      body: [str("deny_code"), str("deny_message") || str("selected_worker_species_id")].filter(Boolean).join(" — "),
    };
  }
  if (!wanted) return null;
  switch (ev.type) {
    case "alert.raised":
      return { title: `Alert (${str("severity")}): ${str("title")}`, body: str("body") };
    case "approval.created":
      return { title: `Approval needed: ${str("capability_id")}`, body: str("reason") || `tenant ${str("tenant_id")}` };
    case "dispatch.finished":
      return { title: `Dispatch ${str("outcome")}: ${str("capability_id")}`, body: str("worker_species_id") };
    case "worker.attestation":
      return { title: `Worker attestation: ${str("worker_id")}`, body: str("status") };
    case "standing.changed":
      return { title: "Account standing changed", body: JSON.stringify(d) };
    default:
      return { title: `Hall event: ${ev.type}`, body: "" };
  }
}

export function notify(ev: HallEvent): void {
  if (bridge()) return; // the desktop shell raises native notifications for the same events
  const n = notificationFor(ev, app.settings);
  if (!n) return;
  if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
  try {
    new Notification(n.title, { body: n.body, tag: `hall-${ev.type}-${ev.id}` });
  } catch (e) {
    console.warn("notification failed", e);
  }
}

/** NOTIFIABLE lists the event types offered in Settings → notifications. */
export const NOTIFIABLE: [string, string][] = [
  ["alert.raised", "An alert is raised"],
  ["approval.created", "A decision needs human approval"],
  ["decision.recorded", "Every decision (noisy)"],
  ["dispatch.finished", "A dispatch finishes"],
  ["worker.attestation", "A worker's attestation changes"],
  ["standing.changed", "Account standing changes"],
];

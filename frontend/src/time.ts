// Time formatting with the user's chosen time zone and locale (Settings; "" = the system's).

export interface TimePrefs {
  timezone: string;
  locale: string;
}

let prefs: TimePrefs = { timezone: "", locale: "" };

export function setTimePrefs(p: TimePrefs): void {
  prefs = { timezone: p.timezone || "", locale: p.locale || "" };
}

export function getTimePrefs(): TimePrefs {
  return prefs;
}

export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

export function effectiveTimeZone(p: TimePrefs = prefs): string {
  return p.timezone || systemTimeZone();
}

/** isValidTimeZone checks an IANA zone name with Intl (empty = system, valid). */
export function isValidTimeZone(tz: string): boolean {
  if (!tz) return true;
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function isValidLocale(loc: string): boolean {
  if (!loc) return true;
  try {
    return Intl.DateTimeFormat.supportedLocalesOf([loc]).length > 0;
  } catch {
    return false;
  }
}

function fmt(opts: Intl.DateTimeFormatOptions, p: TimePrefs): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat(p.locale || undefined, { ...opts, timeZone: p.timezone || undefined });
}

function parse(v: string | number | Date | null | undefined): Date | null {
  if (v === null || v === undefined || v === "") return null;
  const d = v instanceof Date ? v : new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** formatDateTime: full date and time with seconds and the zone's short name. */
export function formatDateTime(v: string | number | Date | null | undefined, p: TimePrefs = prefs): string {
  const d = parse(v);
  if (!d) return "—";
  return fmt(
    { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short" },
    p,
  ).format(d);
}

/** formatTime: time of day with seconds (feed rows). */
export function formatTime(v: string | number | Date | null | undefined, p: TimePrefs = prefs): string {
  const d = parse(v);
  if (!d) return "—";
  return fmt({ hour: "2-digit", minute: "2-digit", second: "2-digit" }, p).format(d);
}

/** formatClock: the status-bar clock, with the zone name. */
export function formatClock(v: Date, p: TimePrefs = prefs): string {
  return fmt({ weekday: "short", hour: "2-digit", minute: "2-digit", timeZoneName: "short" }, p).format(v);
}

/** formatDuration: 850 ms, 12.3 s, 4m 05s, 2h 03m. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const total = Math.floor(s);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, "0")}m`;
  return `${m}m ${String(sec).padStart(2, "0")}s`;
}

/** formatCountdown: HH:MM:SS for the grace banner. */
export function formatCountdown(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

/** formatUptime: 3d 4h, 5h 12m, 7m. */
export function formatUptime(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  return `${m}m ${s % 60}s`;
}

/** timeZones lists IANA zones known to the browser (for the Settings picker). */
export function timeZones(): string[] {
  const f = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf;
  try {
    return f ? f("timeZone") : [];
  } catch {
    return [];
  }
}

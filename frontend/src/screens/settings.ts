// Settings (GET/PUT /api/settings with ETag / If-Match): time zone, locale, feed max rows,
// notifications, default profile, theme, close to tray — each one used by the UI, the server or the desktop shell. 412 is explained.
// About shows the running Hall's version (from GET /api/status, the same as `hallmonitor version`).

import * as api from "../api";
import type { Settings } from "../api";
import { app, NOTIFIABLE, type Screen } from "../app";
import { autostartToggle, bridge, trayNote } from "../desktop";
import { h, replace } from "../dom";
import { formatDateTime, isValidLocale, isValidTimeZone, systemTimeZone, timeZones } from "../time";
import { busy, errorBox, kv, showFieldError, toast } from "../ui";
import { agentsSection } from "./agents";
import { mcpSection } from "./mcpservers";
import { securitySection } from "./security";
import { telemetrySection } from "../telemetry";

export const PROFILES = ["prof.dev.permissive", "prof.prod.strict", "prof.edge.isolated"];

/** readSettingsForm validates the form and returns Settings, or throws an ApiError-like field error. */
export function validateSettings(s: Settings): void {
  if (!isValidTimeZone(s.timezone)) throw new api.ApiError(0, "invalid_field", `Unknown time zone "${s.timezone}": use an IANA name such as Europe/Berlin, or leave empty for the system's.`, "timezone");
  if (!isValidLocale(s.locale)) throw new api.ApiError(0, "invalid_field", `Unknown locale "${s.locale}": use a BCP 47 tag such as en-GB, or leave empty for the system's.`, "locale");
  if (!Number.isInteger(s.feed_max_rows) || s.feed_max_rows < 10 || s.feed_max_rows > 10000)
    throw new api.ApiError(0, "invalid_field", "Feed max rows must be a whole number between 10 and 10000.", "feed_max_rows");
}

/** aboutSection is Settings › About: the running Hall's version (as `hallmonitor version` prints it) and files. */
function aboutSection(): HTMLElement {
  const body = h("div", null, h("p", { class: "muted" }, "Loading…"));
  const show = (st: api.Status) =>
    replace(
      body,
      kv([
        ["Hall Monitor version", h("span", { class: "mono", "data-field": "version" }, st.server.version)],
        ["Database", h("span", { class: "mono" }, st.server.db_path)],
        ["Log file", h("span", { class: "mono" }, st.server.log_path)],
      ]),
    );
  // The shell keeps the last GET /api/status; ask only when it has none yet.
  if (app.status) show(app.status);
  else void api.getStatus().then(show, (e) => replace(body, errorBox(e, "Cannot read the Hall's version")));
  return h(
    "section",
    { class: "panel", "aria-label": "About" },
    h("h2", null, "About"),
    body,
    h("p", { class: "hint" }, "The command line prints it with ", h("code", null, "hallmonitor version"), "; ", h("code", null, "man hallmonitor"), " describes every command."),
  );
}

export function createSettingsScreen(): Screen {
  let root: HTMLElement;
  let config: api.Config | null = null;
  // About is its own panel, filled when GET /api/status answers, so a late answer never redraws the form
  let about: HTMLElement | null = null;
  let formEtag = "";
  let off: () => void = () => {};
  let mcp: ReturnType<typeof mcpSection> | null = null;
  let security: ReturnType<typeof securitySection> | null = null;
  let agents: ReturnType<typeof agentsSection> | null = null;
  let telemetry: ReturnType<typeof telemetrySection> | null = null;

  function render(): void {
    const s = app.settings;
    // the version of the settings this form shows; saving sends it as If-Match, so a change made
    // elsewhere in between is refused (412) instead of being overwritten
    formEtag = app.settingsEtag;
    const field = (id: string, label: string, control: HTMLElement, hint?: string) =>
      h("div", { class: "field" }, h("label", { for: id }, label), control, hint ? h("p", { class: "hint" }, hint) : null, h("p", { class: "field-error", "data-error-for": control.dataset.field || "" }));
    const tz = h("input", { id: "set-tz", name: "timezone", "data-field": "timezone", value: s.timezone, list: "tz-list", placeholder: `System (${systemTimeZone()})`, autocomplete: "off" });
    const tzList = h("datalist", { id: "tz-list" }, timeZones().map((z) => h("option", { value: z })));
    const locale = h("input", { id: "set-locale", name: "locale", "data-field": "locale", value: s.locale, placeholder: `System (${navigator.language})`, autocomplete: "off" });
    const rows = h("input", { id: "set-rows", name: "feed_max_rows", "data-field": "feed_max_rows", type: "number", min: "10", max: "10000", step: "1", value: String(s.feed_max_rows) });
    const profile = h("select", { id: "set-profile", name: "default_profile", "data-field": "default_profile" }, PROFILES.map((p) => h("option", { value: p }, p)));
    if (!PROFILES.includes(s.default_profile)) profile.appendChild(h("option", { value: s.default_profile }, s.default_profile));
    profile.value = s.default_profile;
    const theme = h("select", { id: "set-theme", name: "theme", "data-field": "theme" }, h("option", { value: "system" }, "System"), h("option", { value: "light" }, "Light"), h("option", { value: "dark" }, "Dark"));
    theme.value = s.theme;
    const notifyBoxes = NOTIFIABLE.map(([type, label]) =>
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "notify_on", value: type, checked: s.notify_on.includes(type) }), " ", label),
    );
    const closeToTray = h("input", { type: "checkbox", name: "close_to_tray", "data-field": "close_to_tray", checked: s.close_to_tray });
    const everyDenial = h("input", { type: "checkbox", name: "notify_every_denial", "data-field": "notify_every_denial", checked: s.notify_every_denial });
    const perm = typeof Notification === "undefined" ? "unsupported" : Notification.permission;
    const permBtn = h("button", { type: "button", class: "btn", disabled: perm === "granted" || perm === "unsupported" }, perm === "granted" ? "Notifications allowed" : "Allow desktop notifications");
    permBtn.addEventListener("click", async () => {
      const r = await Notification.requestPermission();
      toast(r === "granted" ? "Desktop notifications allowed" : `Notifications ${r}: change it in the browser's site settings`, r === "granted" ? "ok" : "error");
      render();
    });
    const preview = h("p", { class: "muted small" }, `Times look like: ${formatDateTime(new Date())}`);
    const status = h("div", { "aria-live": "polite" });
    const save = h("button", { type: "submit", class: "btn btn-primary" }, "Save settings");
    const form = h(
      "form",
      { class: "settings-form", "aria-label": "Settings" },
      h(
        "section",
        { class: "panel" },
        h("h2", null, "Time and language"),
        field("set-tz", "Time zone", tz, "All times in the app use this zone. Empty = the system's."),
        tzList,
        field("set-locale", "Locale", locale, "Date and number format, e.g. en-GB or de-DE. Empty = the system's."),
        preview,
      ),
      h(
        "section",
        { class: "panel" },
        h("h2", null, "Display"),
        field("set-rows", "Live feed max rows", rows, "Rows kept in the live feed table (older history: filters or export)."),
        field("set-theme", "Theme", theme),
        autostartToggle(),
        h("label", { class: "check" }, closeToTray, " Keep running in the system tray when the window is closed"),
        trayNote() ?? h("p", { class: "hint" }, "Applies to the desktop app, when the desktop has a system tray."),
      ),
      h(
        "section",
        { class: "panel" },
        h("h2", null, "Desktop notifications"),
        h("fieldset", null, h("legend", null, "Notify me when"), ...notifyBoxes, h("label", { class: "check" }, everyDenial, " Every denied decision (noisy)")),
        bridge()
          ? h("p", { class: "muted small" }, "The desktop app shows these as system notifications.")
          : h("p", null, permBtn, " ", h("span", { class: "muted small" }, `Browser permission: ${perm}`)),
      ),
      h(
        "section",
        { class: "panel" },
        h("h2", null, "Routing"),
        field("set-profile", "Default policy profile", profile, "MCP tool calls that name no env are routed in this profile's environment (prof.dev.* → dev, prof.prod.* → prod, prof.edge.* → edge), so the matching rules apply."),
        h("p", { class: "hint" }, "Calls held for a person are approved only by you (here, in a browser session you opened, or your CLI): no agent can approve a call, its own or another's."),
      ),
      h("div", { class: "sticky-actions" }, status, h("div", { class: "actions" }, save)),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const next: Settings = {
        timezone: tz.value.trim(),
        locale: locale.value.trim(),
        feed_max_rows: Number(rows.value),
        notify_on: Array.from(form.querySelectorAll<HTMLInputElement>("input[name=notify_on]:checked")).map((x) => x.value),
        notify_every_denial: everyDenial.checked,
        default_profile: profile.value,
        theme: theme.value as Settings["theme"],
        close_to_tray: closeToTray.checked,
      };
      status.replaceChildren();
      try {
        validateSettings(next);
      } catch (err) {
        showFieldError(form, err);
        status.appendChild(errorBox(err, "Check the settings"));
        return;
      }
      void busy(save, "Saving…", async () => {
        try {
          const r = await api.putSettings(next, formEtag);
          app.applySettings(r.settings, r.etag);
          toast("Settings saved", "ok");
          render();
        } catch (err) {
          if (err instanceof api.ApiError && (err.status === 412 || err.code === "precondition_failed")) {
            const reload = h("button", { type: "button", class: "btn", "data-action": "reload-settings" }, "Reload current settings");
            reload.addEventListener("click", async () => {
              await app.loadSettings();
              render();
            });
            replace(
              status,
              h(
                "div",
                { class: "error-box", role: "alert", "data-code": "precondition_failed" },
                h("strong", null, "Not saved: "),
                "the settings were changed elsewhere (another window, the CLI or another browser tab) since you opened them. Reload to see the current values, then apply your change again. ",
                h("span", { class: "muted" }, `(${err.message})`),
                " ",
                reload,
              ),
            );
            toast("Settings not saved: they were changed elsewhere", "error");
          } else {
            showFieldError(form, err);
            status.appendChild(errorBox(err, "Settings not saved"));
          }
        }
      });
    });
    replace(
      root,
      h("div", { class: "screen-head" }, h("h1", null, "Settings")),
      form,
      h(
        "section",
        { class: "panel" },
        h("h2", null, "Hall configuration"),
        config
          ? kv([
              ["Data directory", h("span", { class: "mono" }, config.data_dir)],
              ["API port", String(config.port)],
              ["Registry URL", h("span", { class: "mono" }, config.registry_url)],
              ["Workers directory", h("span", { class: "mono" }, config.workers_dir)],
              ["Rules file", h("span", { class: "mono" }, config.rules_path)],
              ["Setup completed", formatDateTime(config.setup_completed_at)],
            ])
          : null,
        h("p", null, "Change the data directory, port, registry, workers directory or API token with the setup wizard."),
        h("button", { type: "button", class: "btn", "data-action": "rerun-wizard", onclick: () => app.rerunWizard() }, "Re-run setup wizard"),
      ),
      security?.el,
      agents?.el,
      telemetry?.el,
      mcp?.el,
      about,
    );
  }

  return {
    id: "settings",
    title: "Settings",
    mount(el) {
      root = el;
      // Connected MCPs keeps its own state across redraws of the form; its list reloads on every visit
      mcp = mcpSection();
      void mcp.reload();
      security = securitySection();
      void security.reload();
      agents = agentsSection();
      void agents.reload();
      telemetry = telemetrySection();
      void telemetry.reload();
      // The form is drawn once the current settings are here, so nothing typed into it is replaced
      // by a late load.
      replace(root, h("div", { class: "screen-head" }, h("h1", null, "Settings")), h("p", { class: "muted", role: "status" }, "Loading settings…"));
      void (async () => {
        let failed: unknown = null;
        try {
          await app.loadSettings();
          config = (await api.getSetup()).config;
        } catch (e) {
          failed = e;
        }
        render();
        if (failed) root.prepend(errorBox(failed, "Cannot load settings"));
      })();
      about = aboutSection();
      off = app.on((ev) => {
        mcp?.onEvent(ev);
        security?.onEvent(ev);
        if (ev.type !== "settings.changed") return;
        void api.getSettings().then((r) => {
          if (r.etag === formEtag) return; // our own save
          const note = root.querySelector(".sticky-actions > div[aria-live]");
          if (note && !note.hasChildNodes()) note.appendChild(h("p", { class: "muted", role: "status" }, "Settings were changed elsewhere; saving now will ask you to reload first."));
        });
      });
    },
    unmount() {
      off();
    },
  };
}

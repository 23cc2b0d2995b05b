// First-time setup wizard (shown until GET /api/setup says completed; re-runnable from Settings):
// data directory and port, API token, registry URL and optional GitHub sign-in, workers directory,
// optional first worker, default profile; then POST /api/setup writes config.json.

import * as api from "./api";
import type { Config } from "./api";
import { browseButton } from "./desktop";
import { copyText, h, replace } from "./dom";
import { loginWidget } from "./login";
import { firstRule } from "./rules/model";
import { enrollPanel } from "./screens/enroll";
import { PROFILES } from "./screens/settings";
import { busy, errorBox, showFieldError, toast } from "./ui";

const STEPS = ["Storage", "Agent token", "Registry & sign-in", "Workers", "First rule", "Default profile", "Review"];

const STEP_FIELDS: Record<number, (keyof Config)[]> = { 0: ["data_dir", "port"], 2: ["registry_url"], 3: ["workers_dir"] };

/** validateConfig checks the given fields (all by default) and throws an ApiError naming the first bad one. */
export function validateConfig(c: Config, fields: (keyof Config)[] = ["data_dir", "port", "registry_url", "workers_dir"]): void {
  const bad = (field: string, msg: string) => {
    throw new api.ApiError(0, "invalid_field", msg, field);
  };
  const want = new Set(fields);
  if (want.has("data_dir") && !c.data_dir.trim()) bad("data_dir", "Data directory is required: the folder that will hold hall.db.");
  if (want.has("port") && (!Number.isInteger(c.port) || c.port < 1 || c.port > 65535)) bad("port", "Port must be a whole number from 1 to 65535 (default 8765).");
  if (want.has("registry_url")) {
    let ok = false;
    try {
      const u = new URL(c.registry_url);
      ok = u.protocol === "https:" || u.protocol === "http:";
    } catch {
      ok = false;
    }
    if (!ok) bad("registry_url", "Registry URL must be an http(s) address, e.g. https://api.pyhall.dev.");
  }
  if (want.has("workers_dir") && !c.workers_dir.trim()) bad("workers_dir", "Workers directory is required: where worker packages live.");
}

export function showWizard(host: HTMLElement, setup: api.SetupState, onFinish: () => void, opts: { rerun?: boolean } = {}): void {
  const base = setup.completed ? setup.config : { ...setup.defaults, ...stripEmpty(setup.config) };
  const cfg: Config = {
    data_dir: base.data_dir ?? "",
    port: base.port ?? 8765,
    registry_url: base.registry_url ?? "",
    workers_dir: base.workers_dir ?? "",
    rules_path: base.rules_path ?? "",
    default_profile: base.default_profile || "prof.dev.permissive",
  };
  let step = 0;
  let tokenShown = false;
  let signedIn = false;
  let enrolled = "";
  let firstWorker: api.Worker | null = null;
  let ruleWritten = "";

  const overlay = h("div", { class: "wizard-overlay", role: "dialog", "aria-modal": "true", "aria-labelledby": "wizard-title" });
  const body = h("div", { class: "wizard-body" });
  const card = h("div", { class: "wizard-card" });
  overlay.appendChild(card);
  host.appendChild(overlay);
  if (opts.rerun) {
    overlay.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        close();
      }
    });
  }

  function input(field: keyof Config, label: string, hint: string, type = "text"): HTMLElement {
    const id = `wz-${field}`;
    const el = h("input", { id, name: field, "data-field": field, type, value: String(cfg[field] ?? ""), autocomplete: "off", spellcheck: "false" });
    el.addEventListener("input", () => {
      (cfg as unknown as Record<string, unknown>)[field] = type === "number" ? Number(el.value) : el.value;
    });
    const browse = field === "data_dir" || field === "workers_dir" ? browseButton(el, label) : null;
    return h(
      "div",
      { class: "field" },
      h("label", { for: id }, label),
      h("div", { class: "input-row" }, el, browse),
      h("p", { class: "hint" }, hint),
      h("p", { class: "field-error", "data-error-for": field }),
    );
  }

  function stepContent(): HTMLElement[] {
    switch (step) {
      case 0:
        return [
          h("p", null, "Where the Hall keeps its database and which local port its API listens on (127.0.0.1 only)."),
          input("data_dir", "Data directory", "Holds hall.db (decisions, receipts, events). Created if missing."),
          input("port", "Hall API port", "Agents and the browser UI talk to http://127.0.0.1:<port>. Default 8765.", "number"),
        ];
      case 1: {
        const out = h("div", { class: "token-slot" });
        const gen = h("button", { type: "button", class: "btn btn-primary", "data-action": "generate-token" }, tokenShown ? "Generate another token" : "Generate agent token");
        gen.addEventListener("click", () =>
          busy(gen, "Generating…", async () => {
            try {
              // agent "default"'s token (the api-token file): the old one stops working at once. This page is
              // the person's and keeps its own session: an agent token would not govern the Hall.
              const r = await api.rotateToken();
              tokenShown = true;
              const field = h("input", { type: "text", readonly: true, class: "mono token-value", value: r.token, "aria-label": "New agent token" });
              const copy = h("button", { type: "button", class: "btn", "data-action": "copy-token" }, "Copy");
              copy.addEventListener("click", async () => toast((await copyText(r.token)) ? "Token copied" : "Copy failed: select the field and copy", "ok"));
              replace(
                out,
                h("div", { class: "token-row" }, field, copy),
                h("p", { class: "warn-text" }, "Shown only this once. Give it to your first agent: it sends Authorization: Bearer <token>. The previous token of agent \"default\" no longer works. More agents, each with its own token: Settings › Agents."),
              );
              field.select();
            } catch (e) {
              replace(out, errorBox(e, "Cannot generate a token"));
            }
          }),
        );
        return [
          h("p", null, "Agents ask the Hall with their own token; they can route and run what the Hall decided for them, never govern it. This generates a new token for agent \"default\" (the api-token file), replacing its current one."),
          h("div", { class: "actions" }, gen),
          out,
          h("p", { class: "muted small" }, "Optional: skip to keep agent \"default\"'s current token."),
        ];
      }
      case 2:
        return [
          input("registry_url", "Registry URL", "The WCP registry used for sign-in, worker verification, ban lists and account standing."),
          h("h3", null, "GitHub sign-in (optional)"),
          h("p", null, "Signing in lets the Hall check your account standing and go online. You can do it later from My Profile."),
          signedIn ? h("p", { class: "ok-text" }, "✓ Signed in.") : loginWidget(() => (signedIn = true)),
          h("p", { class: "muted small" }, "Note: sign-in uses the registry the running server was started with; a changed URL applies after a restart."),
        ];
      case 3:
        return [
          input("workers_dir", "Workers directory", "Where your worker packages live: at enrollment a package folder given by name (my-worker) is looked up here. Enrolled packages are watched for changes."),
          h("details", { class: "panel-lite", open: !!enrolled }, h("summary", null, enrolled ? `✓ Enrolled ${enrolled}` : "Enroll a first worker now (optional)"), enrollPanel({ compact: true, workersDir: () => cfg.workers_dir, onEnrolled: (w) => ((enrolled = w.worker_id), (firstWorker = w)) })),
        ];
      case 4:
        return firstRuleStep();
      case 5: {
        const sel = h("select", { id: "wz-profile", name: "default_profile", "data-field": "default_profile" }, PROFILES.map((p) => h("option", { value: p }, p)));
        if (!PROFILES.includes(cfg.default_profile)) sel.appendChild(h("option", { value: cfg.default_profile }, cfg.default_profile));
        sel.value = cfg.default_profile;
        sel.addEventListener("change", () => (cfg.default_profile = sel.value));
        return [
          h("p", null, "The environment MCP tool calls are routed in when they do not name one (HTTP agents always name theirs)."),
          h(
            "div",
            { class: "field" },
            h("label", { for: "wz-profile" }, "Default profile"),
            sel,
            h("p", { class: "hint" }, "dev.permissive: dev rules; prod.strict: prod rules and the policy gate; edge.isolated: edge rules. Changeable later in Settings."),
            h("p", { class: "field-error", "data-error-for": "default_profile" }),
          ),
        ];
      }
      default:
        return [
          h("p", null, "This is written to config.json:"),
          h(
            "dl",
            { class: "kv" },
            ([
              ["Data directory", cfg.data_dir],
              ["API port", String(cfg.port)],
              ["Registry URL", cfg.registry_url],
              ["Workers directory", cfg.workers_dir],
              ["Rules file", cfg.rules_path || "(default)"],
              ["Default profile", cfg.default_profile],
              ["Agent token", tokenShown ? "new token for agent default" : "unchanged"],
              ["GitHub", signedIn ? "signed in" : "not signed in (optional)"],
              ["First worker", enrolled || "none (optional)"],
              ["First rule", ruleWritten || "none (optional; the Rules screen adds rules later)"],
            ] as [string, string][]).flatMap(([k, v]) => [h("dt", null, k), h("dd", { class: "mono" }, v)]),
          ),
        ];
    }
  }

  /** firstRuleStep writes a rule for the first worker through the rules API (GET, then PUT with If-Match). */
  function firstRuleStep(): HTMLElement[] {
    const intro = h("p", null, "With no rules the Hall denies every request. Write a first rule that sends the first worker's capability to it in dev; the Rules screen edits rules later.");
    if (ruleWritten) return [intro, h("p", { class: "ok-text", "data-testid": "first-rule-written" }, `✓ Rule ${ruleWritten} written.`)];
    const w = firstWorker;
    if (!w) return [intro, h("p", { class: "muted" }, "No worker was enrolled in the previous step: go back to enroll one, or add rules later on the Rules screen.")];
    const cap = h("select", { id: "wz-rule-cap", "data-field": "capability_id" }, (w.capabilities ?? []).map((c) => h("option", { value: c }, c)));
    const out = h("div");
    const write = h("button", { type: "button", class: "btn btn-primary", "data-action": "write-first-rule" }, "Write this rule");
    write.addEventListener("click", () =>
      busy(write, "Writing…", async () => {
        try {
          const doc = await api.getRules();
          const rule = firstRule(w.worker_species_id, cap.value, doc.rules);
          await api.putRules([...doc.rules, rule], doc.etag);
          ruleWritten = String(rule.rule_id);
          render();
        } catch (e) {
          replace(out, errorBox(e, "Rule not written"));
        }
      }),
    );
    return [
      intro,
      h("div", { class: "field" }, h("label", { for: "wz-rule-cap" }, "Capability"), cap, h("p", { class: "hint" }, `Requests for it in env dev go to ${w.worker_species_id}.`)),
      h("div", { class: "actions" }, write),
      out,
      h("p", { class: "muted small" }, "Optional: Next skips it."),
    ];
  }

  function render(): void {
    const errSlot = h("div", { class: "wizard-error" });
    const back = h("button", { type: "button", class: "btn", disabled: step === 0 }, "← Back");
    back.addEventListener("click", () => {
      step--;
      render();
    });
    const next = h("button", { type: "button", class: "btn btn-primary", "data-action": step === STEPS.length - 1 ? "finish" : "next" }, step === STEPS.length - 1 ? "Write configuration" : "Next →");
    next.addEventListener("click", () => void advance(next, errSlot));
    replace(body, ...stepContent());
    replace(
      card,
      h(
        "header",
        null,
        h("h1", { id: "wizard-title" }, opts.rerun ? "Setup wizard" : "Welcome to Hall Monitor"),
        h("p", { class: "muted" }, `Step ${step + 1} of ${STEPS.length}: ${STEPS[step]}`),
        h(
          "ol",
          { class: "steps", "aria-label": "Setup steps" },
          STEPS.map((s, i) => h("li", { class: i === step ? "current" : i < step ? "done" : "", "aria-current": i === step ? "step" : null }, s)),
        ),
      ),
      body,
      errSlot,
      h(
        "footer",
        { class: "actions" },
        back,
        opts.rerun ? h("button", { type: "button", class: "btn", onclick: () => close() }, "Cancel") : null,
        next,
      ),
    );
    (card.querySelector("input, select, button.btn-primary") as HTMLElement | null)?.focus();
  }

  function close(): void {
    overlay.remove();
    onFinish();
  }

  async function advance(btn: HTMLButtonElement, errSlot: HTMLElement): Promise<void> {
    errSlot.replaceChildren();
    showFieldError(card, null);
    if (step < STEPS.length - 1) {
      try {
        const fields = STEP_FIELDS[step];
        if (fields) validateConfig(cfg, fields);
      } catch (e) {
        showFieldError(card, e);
        errSlot.appendChild(errorBox(e, "Check this step"));
        return;
      }
      step++;
      render();
      return;
    }
    try {
      validateConfig(cfg);
    } catch (e) {
      errSlot.appendChild(errorBox(e, "Check the configuration"));
      return;
    }
    await busy(btn, "Writing…", async () => {
      try {
        const r = await api.postSetup(cfg);
        replace(
          card,
          h("header", null, h("h1", { id: "wizard-title" }, "✓ Setup complete")),
          h(
            "div",
            { class: "wizard-body" },
            h("p", null, "The configuration was written."),
            r.restart_required
              ? h("p", { class: "warn-text", role: "status" }, "Some changes (data directory, port or registry URL) take effect after restarting hallmonitor.")
              : null,
            h("p", null, "Next: enroll workers, sign in, and press Go Online on the Status screen."),
          ),
          h("footer", { class: "actions" }, h("button", { type: "button", class: "btn btn-primary", "data-action": "open-hall", onclick: () => close() }, "Open the Hall →")),
        );
        (card.querySelector("button") as HTMLElement | null)?.focus();
      } catch (e) {
        // jump to the step that owns the failing field
        if (e instanceof api.ApiError && e.field) {
          const f = e.field.split(".").pop();
          const owner: Record<string, number> = { data_dir: 0, port: 0, registry_url: 2, workers_dir: 3, default_profile: 5 };
          if (f && f in owner) {
            step = owner[f];
            render();
            showFieldError(card, e);
            card.querySelector(".wizard-error")?.appendChild(errorBox(e, "Setup not saved"));
            return;
          }
        }
        errSlot.appendChild(errorBox(e, "Setup not saved"));
      }
    });
  }

  render();
}

function stripEmpty(c: Partial<Config>): Partial<Config> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c)) if (v !== "" && v !== null && v !== undefined && v !== 0) out[k] = v;
  return out as Partial<Config>;
}

// Enrollment: drop or pick a registry_record.json (or paste it), type the worker package folder,
// see the server's validation checklist, enroll only when valid; re-enroll updates in place.

import * as api from "../api";
import type { ValidationResult } from "../api";
import { app, type Screen } from "../app";
import { browseButton } from "../desktop";
import { h, replace } from "../dom";
import { keyPicker } from "../keypicker";
import { routeVerdict, testInput } from "../rules/model";
import { busy, errorBox, errorText, kv, showFieldError } from "../ui";

export interface EnrollPanelOptions {
  /** called after a successful enrollment */
  onEnrolled?: (w: api.Worker, updated: boolean) => void;
  compact?: boolean;
  /** a package from the workers folder: its record and folder are filled in and validated */
  preset?: { record: Record<string, unknown>; name: string; path: string };
  /** the workers folder the setup wizard is choosing (packages must be in it) */
  workersDir?: () => string;
}

/** parseRecord parses the record text and reports a clear error naming the file. */
export function parseRecord(textValue: string, name = "registry_record.json"): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(textValue);
  } catch (e) {
    throw new api.ApiError(0, "bad_json", `${name} is not valid JSON (${e instanceof Error ? e.message : String(e)}). Fix the file and drop it again.`, "record");
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new api.ApiError(0, "invalid_field", `${name} must contain one JSON object (the worker's registry record).`, "record");
  }
  return v as Record<string, unknown>;
}

export function enrollPanel(opts: EnrollPanelOptions = {}): HTMLElement {
  let record: Record<string, unknown> | null = null;
  let fileName = "";
  let result: ValidationResult | null = null;
  let validating = 0;

  const fileInput = h("input", { type: "file", accept: ".json,.JSON,application/json", id: "enroll-file", class: "offscreen", "data-field": "record" });
  const drop = h(
    "label",
    { class: "dropzone", for: "enroll-file", tabindex: "0", "data-testid": "dropzone" },
    h("span", { class: "drop-icon", "aria-hidden": "true" }, "⇪"),
    h("strong", null, "Drop a registry_record.json here, or click to choose a file"),
    h("span", { class: "muted small drop-name" }, "No file chosen"),
  );
  const pathInput = h("input", { type: "text", name: "package_path", id: "enroll-path", placeholder: "/home/you/hallmonitor-workers/my-worker", "data-field": "package_path", autocomplete: "off" });
  const paste = h("textarea", { name: "record_json", rows: "6", class: "mono", placeholder: '{"worker_species_id": "wrk.…", …}', "aria-label": "Registry record JSON" });
  const str = (k: string) => (record && typeof record[k] === "string" ? (record[k] as string) : "");
  const key = keyPicker({ workerId: () => str("worker_id"), speciesId: () => str("worker_species_id") || str("species_id"), packagePath: () => pathInput.value.trim(), onChange: () => void validate() });
  const checklist = h("div", { class: "checklist", "aria-live": "polite" });
  const errorSlot = h("div");
  const enrollBtn = h("button", { type: "button", class: "btn btn-primary", disabled: true, "data-action": "enroll" }, "Enroll worker");
  const form = h(
    "div",
    { class: "enroll-form" },
    fileInput,
    drop,
    h("details", { class: "paste" }, h("summary", null, "…or paste the record JSON"), paste),
    h(
      "div",
      { class: "field" },
      h("label", { for: "enroll-path" }, "Worker package folder"),
      h("div", { class: "input-row" }, pathInput, browseButton(pathInput, "Worker package folder")),
      h("p", { class: "hint" }, "The directory holding the worker's package and signed manifest (a name alone is looked up in the workers directory from Setup); the Hall hashes it and watches it for changes."),
      h("p", { class: "field-error", "data-error-for": "package_path" }),
    ),
    key.el,
    h("p", { class: "field-error", "data-error-for": "record" }),
    errorSlot,
    checklist,
    h("div", { class: "actions" }, enrollBtn, h("button", { type: "button", class: "btn", onclick: () => reset() }, "Start over")),
  );
  const panel = h("div", { class: "enroll-panel" }, form);

  function reset(): void {
    record = null;
    result = null;
    fileName = "";
    fileInput.value = "";
    paste.value = "";
    key.clear();
    drop.classList.remove("bad", "ok");
    replace(drop.querySelector(".drop-name")!, "No file chosen");
    checklist.replaceChildren();
    errorSlot.replaceChildren();
    showFieldError(form, null);
    enrollBtn.disabled = true;
    replace(panel, form);
  }

  async function validate(): Promise<void> {
    errorSlot.replaceChildren();
    showFieldError(form, null);
    enrollBtn.disabled = true;
    if (!record) return;
    const my = ++validating;
    replace(checklist, h("p", { class: "muted" }, "Validating…"));
    try {
      const r = await api.validateWorker(record, pathInput.value.trim() || undefined, key.value() || undefined, opts.workersDir?.());
      if (my !== validating) return;
      result = r;
      renderChecks();
    } catch (e) {
      if (my !== validating) return;
      result = null;
      checklist.replaceChildren();
      showFieldError(form, e);
      errorSlot.appendChild(errorBox(e, "Validation failed"));
    }
  }

  function renderChecks(): void {
    if (!result) return;
    const checks = result.checks ?? [];
    replace(
      checklist,
      h("h3", null, "Validation ", result.valid ? h("span", { class: "badge badge-ok" }, "VALID") : h("span", { class: "badge badge-bad" }, "NOT VALID")),
      checks.length === 0
        ? h("p", null, result.valid ? "✓ All checks passed." : "The server found the record invalid but returned no checks.")
        : h(
            "ul",
            { class: "checks" },
            checks.map((c) =>
              h(
                "li",
                { class: c.ok ? (c.warning ? "check-warn" : "check-ok") : "check-bad", "data-field": c.field },
                h("span", { class: "check-icon", "aria-hidden": "true" }, c.ok ? (c.warning ? "⚠" : "✓") : "✗"),
                h("span", { class: "sr-only" }, c.ok ? (c.warning ? "Warning: " : "Passed: ") : "Failed: "),
                h("code", null, c.field || "record"),
                " — ",
                c.message,
              ),
            ),
          ),
      result.valid ? null : h("p", { class: "hint" }, "Fix the failing fields in the record (or the package folder) and drop it again; enrollment stays disabled until every check passes."),
    );
    enrollBtn.disabled = !result.valid;
    drop.classList.toggle("ok", result.valid);
    drop.classList.toggle("bad", !result.valid);
  }

  function load(textValue: string, name: string): void {
    fileName = name;
    replace(drop.querySelector(".drop-name")!, name);
    try {
      record = parseRecord(textValue, name);
      void key.refresh(str("worker_id"));
    } catch (e) {
      record = null;
      result = null;
      checklist.replaceChildren();
      drop.classList.add("bad");
      errorSlot.replaceChildren(errorBox(e, "Cannot read the record"));
      enrollBtn.disabled = true;
      return;
    }
    void validate();
  }

  async function readFile(f: File): Promise<void> {
    if (!/\.json$/i.test(f.name) && f.type !== "application/json") {
      drop.classList.add("bad");
      errorSlot.replaceChildren(errorBox(new Error(`"${f.name}" is not a .json file: choose the worker's registry_record.json.`), "Wrong file"));
      return;
    }
    load(await f.text(), f.name);
  }

  fileInput.addEventListener("change", () => {
    const f = fileInput.files?.[0];
    if (f) void readFile(f);
  });
  drop.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      fileInput.click();
    }
  });
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const f = e.dataTransfer?.files?.[0];
    if (f) void readFile(f);
  });
  let pasteTimer: number | undefined;
  paste.addEventListener("input", () => {
    window.clearTimeout(pasteTimer);
    pasteTimer = window.setTimeout(() => {
      if (paste.value.trim()) load(paste.value, "pasted record");
    }, 400);
  });
  let pathTimer: number | undefined;
  pathInput.addEventListener("input", () => {
    window.clearTimeout(pathTimer);
    pathTimer = window.setTimeout(() => void validate(), 400);
  });

  enrollBtn.addEventListener("click", () =>
    busy(enrollBtn, "Enrolling…", async () => {
      if (!record || !result?.valid) return;
      errorSlot.replaceChildren();
      try {
        const r = await api.enrollWorker(record, pathInput.value.trim() || undefined, key.value() || undefined, opts.workersDir?.());
        success(r.worker, !!r.updated, await reachable(r.worker));
        opts.onEnrolled?.(r.worker, !!r.updated);
        void app.refreshStatus();
      } catch (e) {
        showFieldError(form, e);
        errorSlot.appendChild(errorBox(e, "Enrollment failed"));
      }
    }).then(() => {
      if (!result?.valid) enrollBtn.disabled = true;
    }),
  );

  /** reachable routes a dry-run test request per capability; it returns what is missing per capability (empty: all routed to w). */
  async function reachable(w: api.Worker): Promise<[string, string][]> {
    const out: [string, string][] = [];
    for (const cap of w.capabilities ?? []) {
      try {
        const r = await api.route(testInput(cap), true);
        const why = routeVerdict(r.decision, cap, w.worker_species_id);
        if (why) out.push([cap, why]);
      } catch (e) {
        out.push([cap, `the test route failed: ${errorText(e)}`]);
      }
    }
    return out;
  }

  function success(w: api.Worker, updated: boolean, missing: [string, string][]): void {
    const routed = missing.length === 0;
    replace(
      panel,
      h(
        "div",
        { class: routed ? "success" : "panel-lite", role: "status", "data-testid": routed ? "enroll-routed" : "enroll-not-routed" },
        h("h3", null, routed ? (updated ? "✓ Worker re-enrolled, and requests reach it." : "✓ Worker enrolled, and requests reach it.") : updated ? "Worker re-enrolled, but requests do not reach it yet" : "Worker enrolled, but requests do not reach it yet"),
        routed
          ? h("p", null, "A test request (dry run, env dev) for ", h("code", null, (w.capabilities ?? []).join(", ")), " is routed to ", h("code", null, w.worker_species_id), ".")
          : h(
              "ul",
              { class: "checks" },
              missing.map(([cap, why]) => h("li", { class: "check-bad", "data-capability": cap }, h("code", null, cap), " — ", why)),
            ),
        routed ? null : h("p", null, h("a", { href: "#/rules", class: "btn btn-primary", "data-action": "open-rules" }, "Open Rules")),
        kv([
          ["Worker id", h("span", { class: "mono" }, w.worker_id)],
          ["Species", h("span", { class: "mono" }, w.worker_species_id)],
          ["Capabilities", (w.capabilities ?? []).join(", ")],
          ["Attestation", w.attestation?.state ?? "unknown"],
          ["Package", h("span", { class: "mono" }, w.package_path || "—")],
          ["From file", fileName],
        ]),
        h(
          "div",
          { class: "actions" },
          opts.compact ? null : h("a", { class: "btn btn-primary", href: "#/workers" }, "View in Workers"),
          h("button", { type: "button", class: "btn", onclick: () => reset() }, "Enroll another"),
        ),
      ),
    );
  }

  if (opts.preset) {
    pathInput.value = opts.preset.path;
    load(JSON.stringify(opts.preset.record, null, 2), opts.preset.name);
  }
  return panel;
}

/** availablePackage finds a package of the workers folder (GET /api/workers/available) by folder name. */
async function availablePackage(folder: string): Promise<api.AvailablePackage> {
  const r = await api.listAvailableWorkers();
  const p = r.packages.find((x) => x.folder === folder);
  if (!p) throw new Error(r.error || `No package "${folder}" waits in the workers folder ${r.workers_dir}: it may be enrolled already, or was moved.`);
  if (!p.record) throw new Error(`${p.path}/registry_record.json cannot be used: ${p.problem}`);
  return p;
}

export function createEnrollScreen(): Screen {
  return {
    id: "enroll",
    title: "Enroll Worker",
    mount(root, params) {
      const folder = params.get("package");
      const slot = h("div", null, folder ? h("p", { class: "muted" }, `Reading ${folder} from the workers folder…`) : enrollPanel());
      if (folder) {
        availablePackage(folder).then(
          (p) => replace(slot, enrollPanel({ preset: { record: p.record!, name: `${p.folder}/registry_record.json`, path: p.path } })),
          (e) => replace(slot, errorBox(e, "Cannot open the package"), enrollPanel()),
        );
      }
      replace(
        root,
        h("div", { class: "screen-head" }, h("h1", null, "Enroll a Worker")),
        h(
          "section",
          { class: "panel" },
          h("p", null, "Register a worker with this Hall from its registry record. The server validates the record, hashes the package and checks its signature before anything is stored."),
          slot,
        ),
        h(
          "section",
          { class: "panel" },
          h("h2", null, "From the command line"),
          h("pre", { class: "json" }, "hallmonitor enroll --record path/to/registry_record.json --package path/to/worker --public-key path/to/<namespace>.pub"),
          h("p", { class: "muted small" }, "Same checks, same result; the worker appears here live."),
        ),
      );
    },
  };
}

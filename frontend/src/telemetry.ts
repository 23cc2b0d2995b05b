// OpenTelemetry export and evidence bundles: the Settings section that edits the otlp_* keys
// (PUT /api/telemetry/otlp, applied at once), the Status panel that shows the export's queue and
// drops (GET /api/status "export"), and the Feed's "Export evidence" button (GET /api/evidence).

import * as api from "./api";
import type { DecisionFilter } from "./api";
import { download, h, replace } from "./dom";
import { formatDateTime } from "./time";
import { busy, errorBox, errorText, kv, showFieldError, toast } from "./ui";

/** ExportStatus is the "export" object of GET /api/status. */
export interface ExportStatus {
  enabled: boolean;
  endpoint: string;
  protocol: string;
  include_inputs: boolean;
  queued: number;
  queue_capacity: number;
  exported_spans: number;
  exported_logs: number;
  dropped: number;
  last_error: string;
  last_error_at: string;
  last_export_at: string;
}

export interface OtlpSettings {
  otlp_endpoint: string;
  otlp_protocol: "" | "http" | "grpc";
  otlp_include_inputs: boolean;
}


/** validateEndpoint mirrors the server's check, so a typo is named before saving. */
export function validateEndpoint(s: string): string | null {
  if (s === "") return null;
  try {
    const u = new URL(s);
    if ((u.protocol === "http:" || u.protocol === "https:") && u.hostname && !u.username && !u.search && !u.hash) return null;
  } catch {
    /* not a URL */
  }
  return "Use the collector's URL, e.g. http://127.0.0.1:4318 (HTTP) or http://127.0.0.1:4317 (gRPC), or leave it empty to export nothing.";
}

/** exportSummary is one line about the export for the Status screen. */
export function exportSummary(e: ExportStatus | undefined): [string, HTMLElement | string][] {
  if (!e || !e.enabled) return [["OpenTelemetry export", "off (set a collector in Settings)"]];
  return [
    ["OpenTelemetry export", h("span", { class: "mono" }, `${e.endpoint} (${e.protocol === "grpc" ? "gRPC" : "HTTP"})`)],
    ["Exported", `${e.exported_spans} spans, ${e.exported_logs} logs${e.last_export_at ? `, last ${formatDateTime(e.last_export_at)}` : ""}`],
    ["Export queue", `${e.queued} of ${e.queue_capacity}`],
    ["Dropped", h("span", { class: e.dropped > 0 ? "export-dropped bad" : "export-dropped", "data-dropped": String(e.dropped) }, String(e.dropped))],
    ...(e.last_error ? ([["Last export error", `${e.last_error} (${formatDateTime(e.last_error_at)})`]] as [string, string][]) : []),
  ];
}

/** telemetrySection is the Settings screen's "Telemetry export" panel. */
export function telemetrySection(): { el: HTMLElement; reload: () => Promise<void> } {
  const el = h("section", { class: "panel", "aria-labelledby": "otlp-h" });
  let status: ExportStatus | null = null;
  let loadError: unknown = null;

  function render(): void {
    const endpoint = h("input", { id: "set-otlp-endpoint", name: "otlp_endpoint", "data-field": "otlp_endpoint", value: status?.endpoint ?? "", placeholder: "off — e.g. http://127.0.0.1:4318", autocomplete: "off" });
    const protocol = h("select", { id: "set-otlp-protocol", name: "otlp_protocol", "data-field": "otlp_protocol" }, h("option", { value: "http" }, "HTTP/protobuf (port 4318)"), h("option", { value: "grpc" }, "gRPC (port 4317)"));
    protocol.value = status?.protocol === "grpc" ? "grpc" : "http";
    const inputs = h("input", { type: "checkbox", name: "otlp_include_inputs", "data-field": "otlp_include_inputs", checked: status?.include_inputs ?? false });
    const save = h("button", { type: "submit", class: "btn" }, "Save export settings");
    const note = h("div", { "aria-live": "polite" });
    const form = h(
      "form",
      { class: "otlp-form", "aria-label": "Telemetry export" },
      h("div", { class: "field" }, h("label", { for: "set-otlp-endpoint" }, "OpenTelemetry collector"), endpoint, h("p", { class: "hint" }, "Decisions, approvals and dispatches are sent as traces, alerts as logs. Empty: nothing leaves this machine."), h("p", { class: "field-error", "data-error-for": "otlp_endpoint" })),
      h("div", { class: "field" }, h("label", { for: "set-otlp-protocol" }, "Protocol"), protocol, h("p", { class: "field-error", "data-error-for": "otlp_protocol" })),
      h("label", { class: "check" }, inputs, " Include request inputs in the spans (off: request bodies never leave the machine)"),
      note,
      h("div", { class: "actions" }, save),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      note.replaceChildren();
      const problem = validateEndpoint(endpoint.value.trim());
      if (problem) {
        const err = new api.ApiError(0, "invalid_field", problem, "otlp_endpoint");
        showFieldError(form, err);
        note.appendChild(errorBox(err, "Not saved"));
        return;
      }
      void busy(save, "Saving…", async () => {
        try {
          const r = await api.putOtlp({ otlp_endpoint: endpoint.value.trim(), otlp_protocol: protocol.value as "http" | "grpc", otlp_include_inputs: inputs.checked });
          status = r.export;
          toast(status.enabled ? `Exporting to ${status.endpoint}` : "OpenTelemetry export off", "ok");
          render();
        } catch (err) {
          showFieldError(form, err);
          note.appendChild(errorBox(err, "Export settings not saved"));
        }
      });
    });
    replace(
      el,
      h("h2", { id: "otlp-h" }, "Telemetry export"),
      loadError ? errorBox(loadError, "Cannot load the export settings") : null,
      form,
      status ? kv(exportSummary(status)) : null,
      h("p", { class: "hint" }, "Prometheus can scrape GET /metrics with the API token (see docs/scale.md)."),
    );
  }

  async function reload(): Promise<void> {
    try {
      status = (await api.getOtlp()).export;
      loadError = null;
    } catch (e) {
      loadError = e;
    }
    render();
  }
  render();
  return { el, reload };
}

/** evidenceRange is the feed filter's time range, or the last 24 hours when it has none. */
export function evidenceRange(f: DecisionFilter, now = new Date()): { from: string; to: string; tenant?: string } {
  const to = f.to ? new Date(f.to) : now;
  const from = f.from ? new Date(f.from) : new Date(to.getTime() - 24 * 3600 * 1000);
  return { from: from.toISOString(), to: to.toISOString(), ...(f.tenant ? { tenant: f.tenant } : {}) };
}

/** evidenceButton downloads the signed evidence bundle of the feed filter's time range (and tenant). */
export function evidenceButton(filter: () => DecisionFilter): HTMLButtonElement {
  const btn = h("button", { type: "button", class: "btn", "data-action": "export-evidence", title: "Signed receipts of the filter's time range (last 24 hours without one); check it with hallmonitor verify --bundle FILE" }, "Export evidence");
  btn.addEventListener("click", () =>
    busy(btn, "Signing…", async () => {
      try {
        const { blob, filename, receipts } = await api.exportEvidence(evidenceRange(filter()));
        download(blob, filename);
        toast(`Exported ${filename}: ${receipts} receipts`, "ok");
      } catch (e) {
        toast(`Evidence export failed: ${errorText(e)}`, "error");
      }
    }),
  );
  return btn;
}

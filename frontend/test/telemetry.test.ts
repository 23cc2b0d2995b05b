import { afterEach, describe, expect, it, vi } from "vitest";
import * as api from "../src/api";
import { evidenceButton, evidenceRange, exportSummary, validateEndpoint, type ExportStatus } from "../src/telemetry";

const on: ExportStatus = {
  enabled: true, endpoint: "http://127.0.0.1:4318", protocol: "http", include_inputs: false, queued: 3, queue_capacity: 2048,
  exported_spans: 10, exported_logs: 2, dropped: 7, last_error: "", last_error_at: "", last_export_at: "",
};

describe("telemetry", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("checks the collector URL as the server does", () => {
    for (const ok of ["", "http://127.0.0.1:4318", "https://collector.example:4317", "http://[::1]:4318/base"]) expect(validateEndpoint(ok)).toBeNull();
    for (const bad of ["127.0.0.1:4318", "ftp://x", "http://user@x:1", "http://x:1/?a=1", "not a url"]) expect(validateEndpoint(bad)).toMatch(/collector's URL/);
  });

  it("summarises the export for the Status screen, drops first-class", () => {
    expect(exportSummary(undefined)[0][1]).toMatch(/^off/);
    expect(exportSummary({ ...on, enabled: false })[0][1]).toMatch(/^off/);
    const rows = Object.fromEntries(exportSummary(on));
    expect(rows["Export queue"]).toBe("3 of 2048");
    expect((rows["Dropped"] as HTMLElement).dataset.dropped).toBe("7");
    expect((rows["Dropped"] as HTMLElement).className).toContain("bad");
  });

  it("takes the feed filter's range, or the last 24 hours", () => {
    const now = new Date("2026-12-04T12:00:00Z");
    expect(evidenceRange({}, now)).toEqual({ from: "2026-12-03T12:00:00.000Z", to: "2026-12-04T12:00:00.000Z" });
    expect(evidenceRange({ from: "2026-12-01T00:00:00Z", to: "2026-12-02T00:00:00Z", tenant: "acme" }, now)).toEqual({
      from: "2026-12-01T00:00:00.000Z", to: "2026-12-02T00:00:00.000Z", tenant: "acme",
    });
  });

  it("PUTs the three otlp keys and downloads the bundle of the range", async () => {
    api.configure({ base: "", token: "tok" });
    const calls: string[] = [];
    vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
      calls.push(`${init.method} ${url} ${init.body ?? ""}`);
      if (url.startsWith("/api/evidence"))
        return new Response("{}\n", { status: 200, headers: { "Content-Disposition": 'attachment; filename="hall-evidence-x.dsse.json"', "X-Evidence-Receipts": "4" } });
      return new Response(JSON.stringify({ export: on }), { status: 200, headers: { "Content-Type": "application/json" } });
    });
    const r = await api.putOtlp({ otlp_endpoint: "http://127.0.0.1:4318", otlp_protocol: "http", otlp_include_inputs: false });
    expect(r.export.exported_spans).toBe(10);
    expect(calls[0]).toBe('PUT /api/telemetry/otlp {"otlp_endpoint":"http://127.0.0.1:4318","otlp_protocol":"http","otlp_include_inputs":false}');
    const created: string[] = [];
    vi.stubGlobal("URL", Object.assign(URL, { createObjectURL: () => (created.push("blob"), "blob:x"), revokeObjectURL: () => undefined }));
    const btn = evidenceButton(() => ({ from: "2026-12-01T00:00:00Z", to: "2026-12-02T00:00:00Z", tenant: "acme" }));
    btn.click();
    await vi.waitFor(() => expect(created.length).toBe(1));
    expect(calls[1]).toContain("GET /api/evidence?from=2026-12-01T00%3A00%3A00.000Z&to=2026-12-02T00%3A00%3A00.000Z&tenant=acme");
  });
});

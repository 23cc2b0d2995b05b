import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import * as api from "../src/api";

function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
}

describe("api module", () => {
  let calls: { url: string; init: RequestInit }[];
  beforeEach(() => {
    calls = [];
    api.configure({ base: "", token: null });
    sessionStorage.clear();
    api.onUnauthorized(null);
  });
  afterEach(() => vi.unstubAllGlobals());

  function stub(fn: (url: string, init: RequestInit) => Response) {
    vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return fn(url, init);
    });
  }

  it("sends the bearer token and builds queries without empty values", async () => {
    api.setToken("tok123");
    stub(() => jsonResponse(200, { decisions: [], next_cursor: null }));
    await api.listDecisions({ outcome: "denied", worker: "", q: "abc", limit: 50 });
    expect(calls[0].url).toBe("/api/decisions?outcome=denied&q=abc&limit=50");
    expect((calls[0].init.headers as Record<string, string>).Authorization).toBe("Bearer tok123");
    expect(sessionStorage.getItem("hallmonitor.session")).toBe("tok123");
  });

  it("omits Authorization when there is no token (trusted desktop session)", async () => {
    stub(() => jsonResponse(200, { rules: [] }));
    await api.getRules();
    expect((calls[0].init.headers as Record<string, string>).Authorization).toBeUndefined();
  });

  it("turns a JSON error into ApiError with code, message and field", async () => {
    stub(() => jsonResponse(400, { error: { code: "invalid_field", message: "port must be 1..65535", field: "port" } }));
    const err = await api.postSetup({ data_dir: "/d", port: 0, registry_url: "", workers_dir: "", rules_path: "", default_profile: "" }).catch((e) => e);
    expect(err).toBeInstanceOf(api.ApiError);
    expect(err.code).toBe("invalid_field");
    expect(err.field).toBe("port");
    expect(err.message).toBe("port must be 1..65535");
    expect(err.status).toBe(400);
    expect(JSON.parse(calls[0].init.body as string).port).toBe(0);
    expect((calls[0].init.headers as Record<string, string>)["Content-Type"]).toBe("application/json");
  });

  it("keeps the status line when the error body is not JSON", async () => {
    stub(() => new Response("oops", { status: 502, statusText: "Bad Gateway" }));
    const err = await api.getStatus().catch((e) => e);
    expect(err.code).toBe("http_502");
    expect(err.message).toContain("502");
  });

  it("reports a network failure as ApiError code network", async () => {
    vi.stubGlobal("fetch", async () => {
      throw new TypeError("Failed to fetch");
    });
    const err = await api.getStatus().catch((e) => e);
    expect(err.code).toBe("network");
    expect(err.message).toContain("/api/status");
  });

  it("calls the unauthorized handler on 401", async () => {
    const seen: api.ApiError[] = [];
    api.onUnauthorized((e) => seen.push(e));
    stub(() => jsonResponse(401, { error: { code: "unauthorized", message: "token missing", field: "" } }));
    await expect(api.listWorkers()).rejects.toThrow("token missing");
    expect(seen).toHaveLength(1);
    expect(seen[0].code).toBe("unauthorized");
  });

  it("sends If-Match on PUT /api/settings and returns the new ETag", async () => {
    stub((_u, init) => {
      expect((init.headers as Record<string, string>)["If-Match"]).toBe('"v1"');
      return jsonResponse(200, { settings: { theme: "dark" } }, { ETag: '"v2"' });
    });
    const r = await api.putSettings({ theme: "dark" } as api.Settings, '"v1"');
    expect(r.etag).toBe('"v2"');
    expect(calls[0].init.method).toBe("PUT");
  });

  it("surfaces 412 precondition_failed", async () => {
    stub(() => jsonResponse(412, { error: { code: "precondition_failed", message: "settings changed", field: "If-Match" } }));
    const err = await api.putSettings({} as api.Settings, '"old"').catch((e) => e);
    expect(err.status).toBe(412);
    expect(err.code).toBe("precondition_failed");
  });

  it("encodes path ids", async () => {
    stub(() => jsonResponse(200, {}));
    await api.ackAlert("a/b c");
    expect(calls[0].url).toBe("/api/alerts/a%2Fb%20c/ack");
    expect(calls[0].init.method).toBe("POST");
  });

  it("reads the export file name from Content-Disposition", async () => {
    stub(() => new Response("a,b\n", { status: 200, headers: { "Content-Disposition": 'attachment; filename="decisions-2026.csv"' } }));
    const r = await api.exportDecisions({ outcome: "denied" }, "csv");
    expect(r.filename).toBe("decisions-2026.csv");
    expect(calls[0].url).toBe("/api/decisions/export?outcome=denied&format=csv");
    expect(await r.blob.text()).toBe("a,b\n");
  });
});

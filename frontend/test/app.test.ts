import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS, notificationFor } from "../src/app";
import type { HallEvent } from "../src/api";
import { groupNamespaces } from "../src/screens/profile";
import { parseRecord } from "../src/screens/enroll";
import { validateConfig } from "../src/wizard";
import { validateSettings } from "../src/screens/settings";

const ev = (type: string, data: Record<string, unknown>): HallEvent => ({ id: 1, type, time: "", data });

describe("notifications follow the settings", () => {
  it("raises alerts and approvals by default, not decisions", () => {
    expect(notificationFor(ev("alert.raised", { severity: "critical", title: "Tampered", body: "b" }), DEFAULT_SETTINGS)?.title).toBe("Alert (critical): Tampered");
    expect(notificationFor(ev("approval.created", { capability_id: "cap.x" }), DEFAULT_SETTINGS)?.title).toContain("cap.x");
    expect(notificationFor(ev("decision.recorded", { outcome: "denied" }), DEFAULT_SETTINGS)).toBeNull();
  });
  it("notify_every_denial adds denied decisions only", () => {
    const s = { ...DEFAULT_SETTINGS, notify_every_denial: true };
    expect(notificationFor(ev("decision.recorded", { outcome: "denied", capability_id: "cap.y", deny_code: "D" }), s)?.title).toBe("Denied: cap.y");
    expect(notificationFor(ev("decision.recorded", { outcome: "allowed" }), s)).toBeNull();
  });
  it("an unchecked type is silent", () => {
    expect(notificationFor(ev("alert.raised", {}), { ...DEFAULT_SETTINGS, notify_on: [] })).toBeNull();
  });
});

describe("validation helpers", () => {
  it("groups namespaces x / org / other", () => {
    const g = groupNamespaces([
      { prefix: "x.alice", kind: "x", worker_count: 1, public: true },
      { prefix: "org.acme", kind: "org", worker_count: 2, public: false },
      { prefix: "misc", kind: "other", worker_count: null, public: false },
    ]);
    expect(g.get("x")?.map((n) => n.prefix)).toEqual(["x.alice"]);
    expect(g.get("org")?.map((n) => n.prefix)).toEqual(["org.acme"]);
    expect(g.get("other")?.map((n) => n.prefix)).toEqual(["misc"]);
  });
  it("parseRecord names the file and field on bad JSON", () => {
    expect(() => parseRecord("{oops", "r.json")).toThrow(/r.json is not valid JSON/);
    expect(() => parseRecord("[1]", "r.json")).toThrow(/one JSON object/);
    expect(parseRecord('{"a":1}')).toEqual({ a: 1 });
  });
  it("validateConfig names the failing field", () => {
    const ok = { data_dir: "/d", port: 8765, registry_url: "https://api.pyhall.dev", workers_dir: "/w", rules_path: "", default_profile: "p" };
    expect(() => validateConfig(ok)).not.toThrow();
    expect(() => validateConfig({ ...ok, port: 70000 })).toThrow(expect.objectContaining({ field: "port" }));
    expect(() => validateConfig({ ...ok, registry_url: "ftp://x" })).toThrow(expect.objectContaining({ field: "registry_url" }));
    expect(() => validateConfig({ ...ok, data_dir: " " }, ["data_dir"])).toThrow(expect.objectContaining({ field: "data_dir" }));
    expect(() => validateConfig({ ...ok, workers_dir: "" }, ["data_dir", "port"])).not.toThrow();
  });
  it("validateSettings rejects unknown zones and bad row counts", () => {
    expect(() => validateSettings({ ...DEFAULT_SETTINGS, timezone: "Nowhere/City" })).toThrow(expect.objectContaining({ field: "timezone" }));
    expect(() => validateSettings({ ...DEFAULT_SETTINGS, feed_max_rows: 5 })).toThrow(expect.objectContaining({ field: "feed_max_rows" }));
    expect(() => validateSettings(DEFAULT_SETTINGS)).not.toThrow();
  });
});

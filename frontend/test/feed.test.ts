import { describe, expect, it } from "vitest";
import type { DecisionSummary } from "../src/api";
import { FeedModel } from "../src/feed";
import { matches, normalizeFilter } from "../src/filters";

let seq = 0;
function d(over: Partial<DecisionSummary> = {}): DecisionSummary {
  seq++;
  return {
    decision_id: `dec-${seq}`,
    timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
    outcome: "allowed",
    denied: false,
    deny_code: "",
    deny_message: "",
    capability_id: "cap.doc.summarize",
    tenant_id: "acme",
    env: "dev",
    data_label: "PUBLIC",
    correlation_id: `corr-${seq}`,
    matched_rule_id: "rule.allow",
    selected_worker_species_id: "wrk.doc.summarizer",
    blast_score: 10,
    supervisor_required: false,
    pending_approval_id: "",
    dry_run: false,
    source: "route",
    ...over,
  };
}

describe("FeedModel", () => {
  it("shows live rows newest first", () => {
    const m = new FeedModel(10);
    const a = d(), b = d();
    m.addLive(a);
    m.addLive(b);
    expect(m.rows.map((r) => r.decision_id)).toEqual([b.decision_id, a.decision_id]);
  });

  it("buffers while paused and flushes on resume in order", () => {
    const m = new FeedModel(10);
    const a = d();
    m.addLive(a);
    m.pause();
    const b = d(), c = d();
    expect(m.addLive(b)).toBe("buffered");
    expect(m.addLive(c)).toBe("buffered");
    expect(m.rows).toHaveLength(1);
    expect(m.buffer).toHaveLength(2);
    expect(m.resume()).toBe(2);
    expect(m.rows.map((r) => r.decision_id)).toEqual([c.decision_id, b.decision_id, a.decision_id]);
    expect(m.buffer).toHaveLength(0);
    expect(m.paused).toBe(false);
  });

  it("drops duplicates (same decision via history and stream)", () => {
    const m = new FeedModel(10);
    const a = d();
    m.appendHistory([a], null);
    expect(m.addLive(a)).toBe("ignored");
    expect(m.rows).toHaveLength(1);
  });

  it("caps rows at feed_max_rows and stops older paging once capped", () => {
    const m = new FeedModel(3);
    m.appendHistory([d(), d()], "cur1");
    expect(m.canLoadMore()).toBe(true);
    m.addLive(d());
    m.addLive(d());
    expect(m.rows).toHaveLength(3);
    expect(m.capped).toBe(true);
    expect(m.canLoadMore()).toBe(false);
  });

  it("applies the filter to live rows", () => {
    const m = new FeedModel(10);
    m.reset({ outcome: "denied" });
    expect(m.addLive(d())).toBe("ignored");
    expect(m.addLive(d({ outcome: "denied", denied: true }))).toBe("shown");
  });

  it("setMaxRows trims existing rows", () => {
    const m = new FeedModel(10);
    for (let i = 0; i < 5; i++) m.addLive(d());
    m.setMaxRows(2);
    expect(m.rows).toHaveLength(2);
  });
});

describe("filters", () => {
  it("matches outcome, worker, capability, tenant (substring, case-insensitive) and text", () => {
    const x = d({ outcome: "denied", deny_code: "DENY_NO_MATCHING_RULE", tenant_id: "Acme-Prod" });
    expect(matches(x, { outcome: "denied" })).toBe(true);
    expect(matches(x, { outcome: "allowed" })).toBe(false);
    expect(matches(x, { worker: "SUMMARIZER" })).toBe(true);
    expect(matches(x, { capability: "cap.web" })).toBe(false);
    expect(matches(x, { tenant: "acme" })).toBe(true);
    expect(matches(x, { q: "no_matching" })).toBe(true);
    expect(matches(x, { q: "nothing-like-this" })).toBe(false);
  });

  it("normalizeFilter drops blanks and trims", () => {
    expect(normalizeFilter({ outcome: "", worker: "  wrk ", q: " " })).toEqual({ worker: "wrk" });
  });
});

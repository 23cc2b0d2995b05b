import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import * as api from "../src/api";
import { namespaceOf, readPub } from "../src/keypicker";
import { conditionOf, conditionText, firstRule, formToRule, matchSummary, move, routeVerdict, ruleField, ruleToForm, template, uniqueId } from "../src/rules/model";
import { flipSummary, previewView } from "../src/rules/preview";
import { createRulesScreen } from "../src/screens/rules";

describe("rule form", () => {
  it("round-trips a hand-written rule and keeps what the form does not show", () => {
    const rule = {
      rule_id: "r1",
      match: { capability_id: "cap.a", env: { in: ["dev", "stage"] }, qos_class: { any: true } },
      decision: {
        candidate_workers_ranked: [{ worker_species_id: "wrk.a", score_hint: 0.5 }, { worker_species_id: "wrk.b" }],
        preconditions: { must_have_correlation_id: false },
        escalation: { policy_gate: true, human_required_if: [{ env: "prod" }] },
      },
    };
    const f = ruleToForm(rule);
    expect(f.match.env).toBe("dev, stage");
    expect(f.match.qos_class).toBe("*");
    expect(f.workers).toBe("wrk.a, wrk.b");
    expect(f.policy_gate).toBe(true);
    f.workers = "wrk.b, wrk.a";
    f.match.env = "prod";
    const back = formToRule(f, rule) as any;
    expect(back.match).toEqual({ capability_id: "cap.a", env: "prod", qos_class: { any: true } });
    expect(back.decision.candidate_workers_ranked).toEqual([
      { worker_species_id: "wrk.b", score_hint: null },
      { worker_species_id: "wrk.a", score_hint: 0.5 },
    ]);
    expect(back.decision.preconditions).toEqual({ must_have_correlation_id: false });
    expect(back.decision.escalation.human_required_if).toEqual([{ env: "prod" }]);
    expect(rule.match.env).toEqual({ in: ["dev", "stage"] }); // the base is not changed
  });

  it.each([
    ["", undefined],
    ["dev", "dev"],
    [" dev , stage ", { in: ["dev", "stage"] }],
    ["*", { any: true }],
  ])("condition %j", (text, cond) => {
    expect(conditionOf(text)).toEqual(cond);
    if (cond !== undefined) expect(conditionOf(conditionText(cond))).toEqual(cond);
  });

  it("templates make unique ids and the right match", () => {
    const dev = template("allow-dev", "cap.example.echo", "wrk.example.echo", [{ rule_id: "allow_example_echo_dev" }]);
    expect(dev.rule_id).toBe("allow_example_echo_dev_2");
    expect(dev.match.env).toBe("dev");
    const prod = formToRule(template("prod-approval", "cap.x", "wrk.x", [])) as any;
    expect(prod.match).toEqual({ capability_id: "cap.x", env: "prod" });
    expect(prod.decision.escalation.policy_gate).toBe(true);
    expect(uniqueId("r", [{ rule_id: "r" }, { rule_id: "r_2" }])).toBe("r_3");
    expect(firstRule("wrk.e", "cap.e", [])).toMatchObject({ match: { capability_id: "cap.e", env: "dev" } });
  });

  it("moves rules within bounds", () => {
    expect(move([1, 2, 3], 0, 1)).toEqual([2, 1, 3]);
    expect(move([1, 2, 3], 0, -1)).toEqual([1, 2, 3]);
    expect(move([1, 2, 3], 2, 1)).toEqual([1, 2, 3]);
  });

  it("maps server fields to the rule and the form field", () => {
    expect(ruleField("rules[2].match.env")).toEqual({ index: 2, path: "match.env" });
    expect(ruleField("rules[0].decision.candidate_workers_ranked[1].score_hint")).toEqual({ index: 0, path: "decision.candidate_workers_ranked" });
    expect(ruleField("rules")).toBeNull();
    expect(matchSummary({ match: {} })).toBe("every request");
  });
});

describe("enroll check", () => {
  const allowed = { denied: false, selected_worker_species_id: "wrk.e", matched_rule_id: "r" };
  it.each([
    [allowed, ""],
    [{ denied: true, deny_reason_if_denied: { code: "DENY_NO_MATCHING_RULE" } }, "no rule routes cap.e to this worker: add one on the Rules screen"],
    [{ denied: false, selected_worker_species_id: "wrk.other", matched_rule_id: "r9" }, "rule r9 routes cap.e to wrk.other, not to this worker"],
    [{ denied: true, deny_reason_if_denied: { code: "DENY_WORKER_ATTESTATION_MISSING" } }, "the package does not attest"],
  ])("verdict %#", (decision, want) => {
    const got = routeVerdict(decision as Record<string, unknown>, "cap.e", "wrk.e");
    if (want === "") expect(got).toBe("");
    else expect(got).toContain(want);
  });
  it("reads namespaces and .pub files", () => {
    expect(namespaceOf("x.example.echo")).toBe("x.example");
    expect(readPub("\nabcdef\n")).toBe("abcdef");
  });
});

describe("preview", () => {
  const p = {
    preview: {
      replayed: 10,
      skipped: 0,
      unchanged: 7,
      flipped: 3,
      counts: { "allowed→denied": 2, "worker changed": 1 },
      flips: [
        { decision_id: "d1", capability_id: "cap.e", env: "dev", tenant_id: "t", kind: "allowed→denied", before: { outcome: "allowed", worker: "wrk.e", deny_code: "", rule_id: "r" }, after: { outcome: "denied", worker: "", deny_code: "DENY_NO_MATCHING_RULE", rule_id: "" } },
      ],
      truncated: false,
    },
    limit: 1000,
    rules_hash: "h",
    in_force_hash: "g",
    shadow_warnings: [],
  } as api.RulesPreview;
  it("counts and lists the flips", () => {
    expect(flipSummary(p.preview)).toBe("3 of the last 10 recorded requests would flip: 2 allowed→denied, 1 worker changed.");
    const el = previewView(p);
    expect(el.querySelector('tr[data-kind="allowed→denied"]')?.textContent).toContain("DENY_NO_MATCHING_RULE");
    expect(flipSummary({ ...p.preview, replayed: 0 })).toContain("No recorded requests");
  });
});

describe("rules screen", () => {
  let calls: { method: string; url: string; body: unknown; ifMatch: string | null }[];
  let replies: Response[];
  const respond = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
  const flush = () => new Promise((r) => setTimeout(r, 20));
  beforeEach(() => {
    api.configure({ base: "", token: "t" });
    calls = [];
    replies = [];
    vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
      const hd = new Headers(init.headers);
      calls.push({ method: init.method ?? "GET", url, body: init.body ? JSON.parse(String(init.body)) : null, ifMatch: hd.get("If-Match") });
      return replies.shift() ?? respond(500, {});
    });
  });
  afterEach(() => vi.unstubAllGlobals());

  const doc = { rules: [{ rule_id: "r1", match: { env: "dev" }, decision: {} }, { rule_id: "r2", match: {}, decision: {} }], rules_hash: "abc", path: "/x/rules.json", error: "", shadow_warnings: [], etag: '"e1"' };

  it("saves the reordered draft with If-Match and shows a 412 as a conflict", async () => {
    const root = document.createElement("div");
    document.body.appendChild(root);
    replies.push(respond(200, doc), respond(200, { capabilities: [] }));
    createRulesScreen().mount(root, new URLSearchParams());
    await flush();
    expect(root.querySelectorAll("tbody tr").length).toBe(2);
    root.querySelector<HTMLButtonElement>('tr[data-rule="r1"] [data-action="down"]')!.click();
    expect(Array.from(root.querySelectorAll("tbody tr")).map((r) => r.getAttribute("data-rule"))).toEqual(["r2", "r1"]);
    replies.push(respond(412, { error: { code: "precondition_failed", message: "changed", field: "If-Match" } }));
    root.querySelector<HTMLButtonElement>('[data-action="save-rules"]')!.click();
    await flush();
    const put = calls.find((c) => c.method === "PUT")!;
    expect(put.ifMatch).toBe('"e1"');
    expect((put.body as any).rules.map((r: any) => r.rule_id)).toEqual(["r2", "r1"]);
    expect(root.textContent).toContain("The rules file changed since you opened it");
    root.remove();
  });

  it("opens the failing rule's form at the field the engine names", async () => {
    const root = document.createElement("div");
    document.body.appendChild(root);
    replies.push(respond(200, doc), respond(200, { capabilities: [] }));
    createRulesScreen().mount(root, new URLSearchParams());
    await flush();
    replies.push(respond(400, { error: { code: "invalid_field", message: "rules[1].match.env: a bare list is not a condition", field: "rules[1].match.env" } }));
    root.querySelector<HTMLButtonElement>('[data-action="try-rules"]')!.click();
    await flush();
    const env = root.querySelector<HTMLInputElement>('.rule-editor [data-field="match.env"]')!;
    expect(env.getAttribute("aria-invalid")).toBe("true");
    expect(root.querySelector('[data-error-for="match.env"]')?.textContent).toContain("bare list");
    root.remove();
  });
});

import { describe, expect, it } from "vitest";
import type { DecisionStats, Status, Worker } from "../src/api";
import { THEME_KEY, applyRememberedTheme, applyTheme } from "../src/app";
import { signInTimeoutReason } from "../src/login";
import { expiresIn, runState } from "../src/screens/approvals";
import { goOnlineNeeds, problemWorkersBanner, stateLabel } from "../src/screens/status";
import { banBadge } from "../src/screens/workers";
import { TOP, applyDecision, minuteSeries, rollTo, startOfToday } from "../src/stats";
import { breakable } from "../src/ui";

const T0 = Date.UTC(2026, 2, 1, 12, 30, 20); // 12:30:20 UTC
const minute = (m: number) => (Math.floor(T0 / 60_000) + m) * 60; // Unix seconds of a minute relative to now's

function stats(): DecisionStats {
  return {
    window_start: "",
    day_start: "2026-03-01T00:00:00Z",
    per_minute: [-2, -1, 0].map((m) => ({ minute: minute(m), allowed: 1, denied: 0, pending: 0 })),
    top_deny_codes: [{ name: "DENY_A", count: 2 }],
    top_capabilities: [{ name: "cap.a", count: 3 }],
    day_total: 3,
  };
}

describe("decision statistics stay live between fetches", () => {
  it("counts a decision into its minute, the day total and the top lists", () => {
    const st = applyDecision(stats(), { timestamp: new Date(T0).toISOString(), outcome: "denied", deny_code: "DENY_B", capability_id: "cap.b" }, T0);
    expect(st.per_minute[2]).toEqual({ minute: minute(0), allowed: 1, denied: 1, pending: 0 });
    expect(st.day_total).toBe(4);
    expect(st.top_deny_codes).toEqual([{ name: "DENY_A", count: 2 }, { name: "DENY_B", count: 1 }]);
    expect(st.top_capabilities).toEqual([{ name: "cap.a", count: 3 }, { name: "cap.b", count: 1 }]);
  });

  it.each([
    ["an allowed decision leaves the deny codes alone", { outcome: "allowed", capability_id: "cap.a" }, 1, 0, [{ name: "DENY_A", count: 2 }], 4],
    ["a pending decision counts as pending", { outcome: "pending", capability_id: "cap.a" }, 0, 1, [{ name: "DENY_A", count: 2 }], 4],
    ["an unknown outcome is not counted", { outcome: "maybe", capability_id: "cap.a" }, 0, 0, [{ name: "DENY_A", count: 2 }], 3],
  ])("%s", (_name, d, allowedMore, pendingMore, deny, total) => {
    const st = applyDecision(stats(), { timestamp: new Date(T0).toISOString(), ...d }, T0);
    expect(st.per_minute[2].allowed).toBe(1 + allowedMore);
    expect(st.per_minute[2].pending).toBe(pendingMore);
    expect(st.top_deny_codes).toEqual(deny);
    expect(st.day_total).toBe(total);
  });

  it("rolls the window forward with the clock, keeping the minutes still in it", () => {
    const st = rollTo(stats(), T0 + 2 * 60_000);
    expect(st.per_minute.map((m) => m.minute)).toEqual([minute(0), minute(1), minute(2)]);
    expect(st.per_minute.map((m) => m.allowed)).toEqual([1, 0, 0]);
    expect(rollTo(st, T0)).toBe(st); // the clock going back changes nothing
  });

  it("a decision from before today counts in its minute but not in today's lists", () => {
    const s = { ...stats(), day_start: new Date(T0).toISOString() };
    const st = applyDecision(s, { timestamp: new Date(T0 - 30_000).toISOString(), outcome: "denied", deny_code: "DENY_OLD", capability_id: "cap.old" }, T0);
    expect(st.per_minute[1].denied).toBe(1);
    expect(st.day_total).toBe(3);
    expect(st.top_deny_codes.map((x) => x.name)).toEqual(["DENY_A"]);
  });

  it("keeps at most TOP entries, ordered by count then name like the server", () => {
    let st = stats();
    for (let i = 0; i < TOP + 3; i++) st = applyDecision(st, { outcome: "allowed", capability_id: `cap.z${i}` }, T0);
    expect(st.top_capabilities).toHaveLength(TOP);
    expect(st.top_capabilities[0]).toEqual({ name: "cap.a", count: 3 });
    expect(st.top_capabilities.slice(1).map((x) => x.name)).toEqual(["cap.z0", "cap.z1", "cap.z2", "cap.z3", "cap.z4"]);
  });

  it("gives the chart its columns and today's start as RFC 3339", () => {
    expect(minuteSeries(stats())).toEqual([[minute(-2), minute(-1), minute(0)], [1, 1, 1], [0, 0, 0], [0, 0, 0]]);
    const start = startOfToday(T0);
    expect(start).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(Date.parse(start)).toBeLessThanOrEqual(T0);
    expect(T0 - Date.parse(start)).toBeLessThan(24 * 3600_000);
  });
});

describe("approvals say what is approved and what the run did", () => {
  it.each([
    ["never run", null, "", true],
    ["running", { dispatch_id: "dsp_1", outcome: "", error: "", duration_ms: null, finished_at: "" }, "Running (dsp_1)", false],
    ["succeeded", { dispatch_id: "dsp_1", outcome: "succeeded", error: "", duration_ms: 51, finished_at: "x" }, "Succeeded in 51 ms (dsp_1)", false],
    ["failed: the approval's one run is used", { dispatch_id: "dsp_1", outcome: "failed", error: "exit 1", duration_ms: 3, finished_at: "x" }, "failed: exit 1 (dsp_1); the approval's one run is used: route the request again", false],
    ["the run could not start", "decision was denied", "decision was denied", true],
  ] as const)("%s", (_n, d, text, canRun) => {
    expect(runState(d)).toEqual({ text, canRun });
  });

  it.each([
    [null, "—"],
    ["not a time", "—"],
    [new Date(T0 + 125_000).toISOString(), "2:05"],
    [new Date(T0 + 3_725_000).toISOString(), "1:02:05"],
    [new Date(T0).toISOString(), "expired"],
  ])("expires %s → %s", (at, want) => {
    expect(expiresIn(at, T0)).toBe(want);
  });
});

describe("honest states", () => {
  const status = (over: Partial<Status>): Status => ({ state: "offline", logged_in: false, account_standing: "", ...over }) as Status;

  it("names the Hall Local until it is connected to the registry", () => {
    expect(stateLabel(status({ state: "offline" })).label).toBe("Local");
    expect(stateLabel(status({ state: "ready", logged_in: true })).label).toBe("Local");
    expect(stateLabel(status({ state: "online", logged_in: true })).label).toBe("Connected to registry");
    expect(stateLabel(null).label).toBe("Unreachable");
  });

  it("Go Online lists what it still needs", () => {
    expect(goOnlineNeeds(status({}))).toEqual(["you signed in with GitHub (My Profile)"]);
    expect(goOnlineNeeds(status({ logged_in: true, account_standing: "ok" }))).toEqual([]);
    expect(goOnlineNeeds(status({ logged_in: true, account_standing: "suspended" }))[0]).toContain("suspended");
  });

  it("says 'not banned' only after the registry answered", () => {
    const reg = { status: "active", banned: false, ban_reason: "", current_hash: "", checked_at: "2026-03-01T00:00:00Z", age_seconds: 1, error: "" };
    expect(banBadge(null).textContent).toBe("unknown");
    expect(banBadge({ ...reg, checked_at: null }).textContent).toBe("unknown");
    expect(banBadge({ ...reg, error: "connection refused" }).textContent).toBe("unknown");
    expect(banBadge(reg).textContent).toBe("not banned");
    expect(banBadge({ ...reg, banned: true }).textContent).toBe("BANNED");
  });

  it("keeps naming tampered and banned workers (their alert acknowledged or not)", () => {
    expect(problemWorkersBanner([])).toBeNull();
    const w = (id: string, status: string) => ({ worker_id: id, status }) as Worker;
    const el = problemWorkersBanner([w("x.a", "tampered"), w("x.<b>", "banned")])!;
    expect(el.textContent).toContain("2 workers are refused: x.a (tampered), x.<b> (banned)");
    expect(el.querySelector("b")).toBeNull(); // ids are text, never HTML
  });

  it("a sign-in that times out says why", () => {
    expect(signInTimeoutReason("xdg-open not found", "", 3)).toContain("The browser could not be opened (xdg-open not found)");
    expect(signInTimeoutReason("", "dial tcp: connection refused", 3)).toContain("The registry does not answer (dial tcp: connection refused)");
    expect(signInTimeoutReason("", "", 3)).toContain("The registry answers");
  });
});

describe("layout helpers", () => {
  it("breakable lets ids wrap after dots and underscores only", () => {
    const p = document.createElement("p");
    p.append(...breakable("cap.example.echo_v2"));
    expect(p.innerHTML).toBe("cap.<wbr>example.<wbr>echo_<wbr>v2");
    expect(p.textContent).toBe("cap.example.echo_v2");
  });

  it("the theme chosen in Settings is remembered for the start and lock screens", () => {
    applyTheme("dark");
    expect(localStorage.getItem(THEME_KEY)).toBe("dark");
    delete document.documentElement.dataset.theme;
    applyRememberedTheme();
    expect(document.documentElement.dataset.theme).toBe("dark");
    applyTheme("system");
    expect(document.documentElement.dataset.theme).toBeUndefined();
  });
});

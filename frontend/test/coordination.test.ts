import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import * as api from "../src/api";
import { app } from "../src/app";
import { createCoordinationScreen, feedSummary, feedTag } from "../src/screens/coordination";

const EVIL = '<img src=x onerror="alert(1)"><script>alert(2)</script>';

function task(id: string, over: Record<string, unknown> = {}) {
  return {
    id,
    title: `${EVIL} ${id}`,
    details: EVIL,
    owner: EVIL,
    priority: "P1",
    agent_type: "any",
    section: EVIL,
    location: EVIL,
    predecessors: [],
    dep_type: "FS",
    status: "pending",
    claimed_by: EVIL,
    result: EVIL,
    created_by: EVIL,
    updated_by: EVIL,
    completed_by: "",
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    claimed_at: "",
    completed_at: "",
    ...over,
  };
}

const ev = (id: number, type: string, data: Record<string, unknown>): api.HallEvent => ({ id, type, time: "2026-01-01T00:00:00Z", data });

function respond(url: string): unknown {
  if (url.startsWith("/api/coord/agents"))
    return { agents: [{ id: "a1", name: EVIL, type: "llm", status: "active", active_tasks: 1, registered_at: "", last_seen: "2026-01-01T00:00:00Z" }], me: { id: "person", source: "os" } };
  if (url.startsWith("/api/coord/tasks")) return { tasks: [task("T1"), task("T2", { predecessors: ["T1"], status: "in_progress" }), task("T3", { status: "done" })] };
  if (url.startsWith("/api/coord/locks")) return { locks: [{ path: EVIL, holder: EVIL, acquired_at: "", expires_at: "2026-01-01T00:10:00Z", released_at: "", released_by: "" }] };
  if (url.startsWith("/api/events")) return { events: [ev(1, "coord.message", { from: EVIL, to: "all", message: EVIL, msg_type: "message" })], last_id: 1 };
  throw new Error(`unexpected ${url}`);
}

const tick = () => new Promise((r) => setTimeout(r, 200));

describe("coordination screen", () => {
  let root: HTMLElement;
  let urls: string[];
  beforeEach(() => {
    urls = [];
    api.configure({ base: "", token: null });
    localStorage.clear();
    vi.stubGlobal("fetch", async (url: string) => {
      urls.push(url);
      return new Response(JSON.stringify(respond(url)), { status: 200, headers: { "Content-Type": "application/json" } });
    });
    root = document.createElement("main");
    document.body.appendChild(root);
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    root.remove();
  });

  it("renders server data as text in every view, never as markup", async () => {
    const s = createCoordinationScreen();
    s.mount(root, new URLSearchParams());
    await tick();
    expect(urls.some((u) => u.startsWith("/api/events?") && u.includes("limit=200") && u.includes("coord.task.created"))).toBe(true);
    for (const view of ["kanban", "tree", "swimlane", "phases"]) {
      root.querySelector<HTMLButtonElement>(`button[data-view="${view}"]`)!.click();
      expect(localStorage.getItem("coord-view")).toBe(view);
      expect(root.querySelectorAll("img, script").length).toBe(0);
      expect(root.textContent).toContain(EVIL);
    }
    expect(root.querySelector('.coord-agent[data-agent="a1"]')?.textContent).toContain(EVIL);
    expect(root.querySelector(".feed-row")?.textContent).toContain(EVIL);
    s.unmount?.();
  });

  it("follows live events after the history, without duplicates, and keeps the view", async () => {
    localStorage.setItem("coord-view", "tree");
    const s = createCoordinationScreen();
    s.mount(root, new URLSearchParams());
    await tick();
    expect(root.querySelector('button[data-view="tree"]')?.getAttribute("aria-pressed")).toBe("true");
    app.emit(ev(1, "coord.message", { from: "x", to: "all", message: "dup" }));
    app.emit(ev(2, "coord.task.completed", { id: "T9", completed_by: "a1", result: "" }));
    app.emit(ev(3, "decision.recorded", { capability_id: "cap.x" }));
    const rows = Array.from(root.querySelectorAll(".feed-row")).map((r) => r.getAttribute("data-event-id"));
    expect(rows).toEqual(["2", "1"]);
    await tick();
    expect(urls.filter((u) => u.startsWith("/api/coord/tasks")).length).toBe(2); // the completion reloaded the tasks
    s.unmount?.();
  });
});

describe("feed rows", () => {
  it("tags and summarises coordination and dispatch events", () => {
    expect(feedTag(ev(1, "coord.task.created", {}))).toBe("NEW");
    expect(feedTag(ev(1, "coord.message", { msg_type: "alert" }))).toBe("ALERT");
    expect(feedTag(ev(1, "dispatch.finished", {}))).toBe("RUN ✓");
    expect(feedSummary(ev(1, "coord.message", { from: "a", to: "all", message: "hi" }))).toBe("a → all: hi");
    expect(feedSummary(ev(1, "coord.task.completed", { id: "T1", completed_by: "bob", result: "ok" }))).toBe("task T1 completed by bob — ok");
    expect(feedSummary(ev(1, "dispatch.started", { capability_id: "cap.x", worker_species_id: "wrk.y" }))).toBe("cap.x → wrk.y started");
  });
});

describe("complete modal", () => {
  let root: HTMLElement;
  let calls: { url: string; method: string; body: unknown }[];
  beforeEach(() => {
    calls = [];
    api.configure({ base: "", token: null });
    localStorage.clear();
    vi.stubGlobal("fetch", async (url: string, init?: RequestInit) => {
      const method = init?.method ?? "GET";
      calls.push({ url, method, body: init?.body ? JSON.parse(String(init.body)) : undefined });
      const body = method === "POST" && url.endsWith("/complete") ? { task: task("T1", { status: "done" }), follow_up: null, messages: [] } : respond(url);
      return new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
    });
    root = document.createElement("main");
    document.body.appendChild(root);
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    root.remove();
  });

  // Bug: the hidden follow-up fieldset held a required title, so the browser refused the
  // form and "Mark Complete" without a follow-up did nothing.
  it("completes a task without a follow-up: the hidden follow-up fields do not block the form", async () => {
    const s = createCoordinationScreen();
    s.mount(root, new URLSearchParams());
    await tick();
    root.querySelector<HTMLButtonElement>('[data-id="T1"] [data-action="complete"]')!.click();
    const dlg = document.querySelector<HTMLDialogElement>("dialog.coord-complete")!;
    const form = dlg.querySelector<HTMLFormElement>("form")!;
    dlg.querySelector<HTMLTextAreaElement>('textarea[name="summary"]')!.value = "shipped";
    expect(form.checkValidity()).toBe(true);
    dlg.querySelector<HTMLButtonElement>('button[type="submit"]')!.click();
    await tick();
    const done = calls.find((c) => c.method === "POST");
    expect(done?.url).toBe("/api/coord/tasks/T1/complete");
    expect(done?.body).toEqual({ summary: "shipped", notify: true });

    // With the follow-up asked for, its title is required again.
    root.querySelector<HTMLButtonElement>('[data-id="T1"] [data-action="complete"]')!.click();
    const dlg2 = document.querySelector<HTMLDialogElement>("dialog.coord-complete")!;
    const follow = dlg2.querySelector<HTMLInputElement>('input[name="follow-up"]')!;
    follow.checked = true;
    follow.dispatchEvent(new Event("change"));
    expect(dlg2.querySelector<HTMLFormElement>("form")!.checkValidity()).toBe(false);
    dlg2.querySelector<HTMLInputElement>('input[name="follow_up.title"]')!.value = "docs";
    expect(dlg2.querySelector<HTMLFormElement>("form")!.checkValidity()).toBe(true);
    s.unmount?.();
  });
});

import { describe, expect, it } from "vitest";
import type { CoordTask } from "../src/api";
import {
  countDescendants,
  dependencyTree,
  moveEarlier,
  moveLater,
  ownerClass,
  parseIds,
  phaseFloor,
  pruneOverrides,
  swimlanes,
  topoDepth,
  waitingFor,
  waves,
} from "../src/coordgraph";

function t(id: string, over: Partial<CoordTask> = {}): CoordTask {
  return {
    id,
    title: `task ${id}`,
    details: "",
    owner: "any",
    priority: "P1",
    agent_type: "any",
    section: "Ad Hoc",
    location: "",
    predecessors: [],
    dep_type: "FS",
    status: "pending",
    claimed_by: "",
    result: "",
    created_by: "me",
    updated_by: "me",
    completed_by: "",
    created_at: "",
    updated_at: "",
    claimed_at: "",
    completed_at: "",
    ...over,
  };
}

describe("dependency tree", () => {
  it("roots are tasks without open predecessors, sorted by priority then section", () => {
    const tasks = [
      t("A", { section: "Zeta" }),
      t("B", { priority: "P0", section: "Zeta" }),
      t("C", { section: "Alpha" }),
      t("D", { predecessors: ["A"] }),
      t("E", { predecessors: ["F"], status: "pending" }),
      t("F", { status: "done" }),
      t("G", { predecessors: ["GONE"] }),
    ];
    const { roots, orphans } = dependencyTree(tasks);
    // E's only predecessor is done and G's is missing: both are roots too.
    expect(roots.map((n) => n.task.id)).toEqual(["B", "E", "F", "G", "C", "A"]);
    expect(orphans).toEqual([]);
    const a = roots.find((n) => n.task.id === "A")!;
    expect(a.children.map((c) => c.task.id)).toEqual(["D"]);
    expect(a.children[0].depth).toBe(1);
  });

  it("nests each task once (under the first path that reaches it) and counts descendants", () => {
    const tasks = [t("A"), t("B", { predecessors: ["A"] }), t("C", { predecessors: ["A", "B"] }), t("D", { predecessors: ["C"] }), t("E", { predecessors: ["A"] })];
    const { roots } = dependencyTree(tasks);
    expect(roots).toHaveLength(1);
    const a = roots[0];
    expect(a.children.map((c) => c.task.id)).toEqual(["B", "E"]);
    expect(a.children[0].children.map((c) => c.task.id)).toEqual(["C"]);
    expect(a.children[0].children[0].children[0]).toMatchObject({ task: { id: "D" }, depth: 3 });
    expect(countDescendants(a)).toBe(4);
  });

  it("tasks in a cycle are orphans", () => {
    const tasks = [t("A"), t("X", { predecessors: ["Y"] }), t("Y", { predecessors: ["X"] }), t("Z", { predecessors: ["Y"] })];
    const { roots, orphans } = dependencyTree(tasks);
    expect(roots.map((n) => n.task.id)).toEqual(["A"]);
    expect(orphans.map((o) => o.id)).toEqual(["X", "Y", "Z"]);
  });
});

describe("topological depth and swimlanes", () => {
  it("depth is one more than the deepest predecessor; cycles do not loop", () => {
    const d = topoDepth([t("A"), t("B", { predecessors: ["A"] }), t("C", { predecessors: ["B", "A"] }), t("X", { predecessors: ["Y"] }), t("Y", { predecessors: ["X"] })]);
    expect(d.get("A")).toBe(0);
    expect(d.get("B")).toBe(1);
    expect(d.get("C")).toBe(2);
    expect(Number.isFinite(d.get("X")!) && Number.isFinite(d.get("Y")!)).toBe(true);
  });

  it("one lane per section, Other for none, cards by depth", () => {
    const lanes = swimlanes([t("C", { section: "Core", predecessors: ["A"] }), t("A", { section: "Core" }), t("U", { section: " " })]);
    expect(lanes.map((l) => l.section)).toEqual(["Core", "Other"]);
    expect(lanes[0].tasks.map((x) => x.id)).toEqual(["A", "C"]);
  });
});

describe("order of operations", () => {
  const tasks = [
    t("A"),
    t("B", { predecessors: ["A"] }),
    t("C", { predecessors: ["B"] }),
    t("D", { predecessors: ["DONE"] }),
    t("DONE", { status: "done" }),
    t("P", { section: "PHASE 3" }),
    t("Q", { section: "Phase 2 cleanup", predecessors: ["P"] }),
  ];

  it("a wave is the longest chain of incomplete predecessors", () => {
    const w = waves(tasks);
    expect(w.get("A")!.wave).toBe(0);
    expect(w.get("B")!.wave).toBe(1);
    expect(w.get("C")!.wave).toBe(2);
    expect(w.get("C")!.blockedBy).toEqual(["B"]);
    expect(w.get("D")!.wave).toBe(0); // its predecessor is done
    expect(w.has("DONE")).toBe(false);
  });

  it("a PHASE n section forces at least wave n-1, and successors follow", () => {
    expect(phaseFloor("PHASE 3")).toBe(2);
    expect(phaseFloor("phase1")).toBe(0);
    expect(phaseFloor("Registry")).toBe(0);
    const w = waves(tasks);
    expect(w.get("P")!.wave).toBe(2);
    expect(w.get("Q")!.wave).toBe(3); // its floor is 1, but P is in wave 2
  });

  it("overrides push later, move successors with them, and undo back to the computed wave", () => {
    let o = moveLater({}, "A", waves(tasks).get("A")!);
    expect(o).toEqual({ A: 1 });
    let w = waves(tasks, o);
    expect(w.get("A")).toMatchObject({ wave: 1, base: 0, overridden: true });
    expect(w.get("B")!.wave).toBe(2);
    o = moveLater(o, "A", w.get("A")!);
    expect(waves(tasks, o).get("A")!.wave).toBe(2);
    o = moveEarlier(o, "A", waves(tasks, o).get("A")!);
    expect(o).toEqual({ A: 1 });
    o = moveEarlier(o, "A", waves(tasks, o).get("A")!);
    expect(o).toEqual({});
    // An override at or below the computed wave changes nothing.
    w = waves(tasks, { C: 1 });
    expect(w.get("C")).toMatchObject({ wave: 2, overridden: false });
  });

  it("prunes overrides of done or deleted tasks", () => {
    expect(pruneOverrides({ A: 2, DONE: 3, GONE: 1, B: 1.5 }, tasks)).toEqual({ A: 2 });
  });
});

describe("helpers", () => {
  it("parses id lists and colours owners consistently", () => {
    expect(parseIds(" C1, R3 T4,,")).toEqual(["C1", "R3", "T4"]);
    expect(parseIds("")).toEqual([]);
    expect(ownerClass("claude")).toBe(ownerClass("Claude"));
    expect(ownerClass("any")).toBe("owner-any");
    expect(ownerClass("codex")).toMatch(/^owner-c[0-7]$/);
  });
});

describe("waiting for predecessors (the Hall's claim/complete rule)", () => {
  const status = new Map([
    ["P", "pending"],
    ["R", "in_progress"],
    ["D", "done"],
  ]);
  const preds = ["P", "R", "D", "GONE"];
  it("FS waits for unfinished predecessors to start and to finish", () => {
    expect(waitingFor(t("X", { predecessors: preds, dep_type: "FS" }), status, "start")).toEqual(["P", "R"]);
    expect(waitingFor(t("X", { predecessors: preds, dep_type: "FS" }), status, "finish")).toEqual(["P", "R"]);
  });
  it("SS and SF only wait for predecessors that have not started", () => {
    expect(waitingFor(t("X", { predecessors: preds, dep_type: "SS" }), status, "start")).toEqual(["P"]);
    expect(waitingFor(t("X", { predecessors: preds, dep_type: "SF" }), status, "start")).toEqual([]);
    expect(waitingFor(t("X", { predecessors: preds, dep_type: "SF" }), status, "finish")).toEqual(["P"]);
  });
  it("FF may start at once but finishes after its predecessors", () => {
    expect(waitingFor(t("X", { predecessors: preds, dep_type: "FF" }), status, "start")).toEqual([]);
    expect(waitingFor(t("X", { predecessors: preds, dep_type: "FF" }), status, "finish")).toEqual(["P", "R"]);
    expect(waitingFor(t("X", { predecessors: preds, status: "done" }), status, "finish")).toEqual([]);
  });
});

// Graph logic of the Coordination board, pure (no DOM): dependency-tree roots and orphans,
// topological depth for the swimlanes, and waves for the Order of Operations with the
// "PHASE n" section floor and manual overrides. Tasks are linked by `predecessors`; ids that
// name no task are ignored (the Hall refuses them, but an old board may still hold one).

import type { CoordTask, Priority } from "./api";

const PRIORITY_RANK: Record<Priority, number> = { P0: 0, P1: 1, P2: 2 };

/** byPriority orders tasks by priority, then section, then creation order (stable). */
export function byPriority(a: CoordTask, b: CoordTask): number {
  return (PRIORITY_RANK[a.priority] ?? 1) - (PRIORITY_RANK[b.priority] ?? 1) || a.section.localeCompare(b.section);
}

export interface Graph {
  byId: Map<string, CoordTask>;
  /** existing predecessors of each task */
  preds: Map<string, CoordTask[]>;
  /** tasks that list each task as a predecessor, in board order */
  succs: Map<string, CoordTask[]>;
}

export function buildGraph(tasks: CoordTask[]): Graph {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const preds = new Map<string, CoordTask[]>();
  const succs = new Map<string, CoordTask[]>(tasks.map((t) => [t.id, []]));
  for (const t of tasks) {
    const ps = (t.predecessors || []).map((p) => byId.get(p)).filter((p): p is CoordTask => !!p);
    preds.set(t.id, ps);
    for (const p of ps) succs.get(p.id)!.push(t);
  }
  return { byId, preds, succs };
}

/** isRoot: no predecessors, or all of them done or missing. */
export function isRoot(g: Graph, t: CoordTask): boolean {
  return (g.preds.get(t.id) || []).every((p) => p.status === "done");
}

export interface TreeNode {
  task: CoordTask;
  depth: number;
  children: TreeNode[];
}

/**
 * dependencyTree nests each task under the first predecessor that reaches it, starting from the
 * roots (sorted by priority, then section). Every task appears once; the ones no root reaches
 * (a dependency cycle) are returned as orphans.
 */
export function dependencyTree(tasks: CoordTask[]): { roots: TreeNode[]; orphans: CoordTask[] } {
  const g = buildGraph(tasks);
  const rootTasks = tasks.filter((t) => isRoot(g, t)).sort(byPriority);
  const rootIds = new Set(rootTasks.map((t) => t.id));
  const placed = new Set<string>(rootIds);
  const grow = (t: CoordTask, depth: number): TreeNode => {
    const node: TreeNode = { task: t, depth, children: [] };
    for (const s of g.succs.get(t.id) || []) {
      if (placed.has(s.id)) continue;
      placed.add(s.id);
      node.children.push(grow(s, depth + 1));
    }
    return node;
  };
  const roots = rootTasks.map((t) => grow(t, 0));
  return { roots, orphans: tasks.filter((t) => !placed.has(t.id)) };
}

/** countDescendants is the number of tasks nested under a tree node. */
export function countDescendants(n: TreeNode): number {
  return n.children.reduce((sum, c) => sum + 1 + countDescendants(c), 0);
}

/** topoDepth: 0 without predecessors, else one more than the deepest predecessor (cycles cut). */
export function topoDepth(tasks: CoordTask[]): Map<string, number> {
  const g = buildGraph(tasks);
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (t: CoordTask): number => {
    const known = depth.get(t.id);
    if (known !== undefined) return known;
    if (visiting.has(t.id)) return -1; // a back edge of a cycle adds nothing
    visiting.add(t.id);
    let d = 0;
    for (const p of g.preds.get(t.id) || []) d = Math.max(d, visit(p) + 1);
    visiting.delete(t.id);
    depth.set(t.id, d);
    return d;
  };
  for (const t of tasks) visit(t);
  return depth;
}

export interface Lane {
  section: string;
  tasks: CoordTask[];
}

/** swimlanes: one lane per section ("Other" when empty), cards by topological depth then priority. */
export function swimlanes(tasks: CoordTask[]): Lane[] {
  const depth = topoDepth(tasks);
  const lanes = new Map<string, CoordTask[]>();
  for (const t of tasks) {
    const s = t.section.trim() || "Other";
    if (!lanes.has(s)) lanes.set(s, []);
    lanes.get(s)!.push(t);
  }
  return [...lanes.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([section, ts]) => ({ section, tasks: ts.sort((a, b) => depth.get(a.id)! - depth.get(b.id)! || byPriority(a, b)) }));
}

/** phaseFloor: a section named "PHASE n" puts its tasks in wave n-1 at the earliest. */
export function phaseFloor(section: string): number {
  const m = /^\s*phase\s*(\d+)\b/i.exec(section);
  return m ? Math.max(0, Number(m[1]) - 1) : 0;
}

export type Overrides = Record<string, number>;

export interface Wave {
  /** the effective wave (0 = Phase 1, "do now") */
  wave: number;
  /** the wave without this task's own override */
  base: number;
  overridden: boolean;
  /** incomplete predecessors */
  blockedBy: string[];
}

/**
 * waves gives every open task its wave: the longest chain of incomplete predecessors (a task
 * after an incomplete one comes at least one wave after it), at least its PHASE floor, and at
 * least its override. Overrides only push a task later. Done tasks get no wave.
 */
export function waves(tasks: CoordTask[], overrides: Overrides = {}): Map<string, Wave> {
  const g = buildGraph(tasks);
  const out = new Map<string, Wave>();
  const visiting = new Set<string>();
  const visit = (t: CoordTask): number => {
    const known = out.get(t.id);
    if (known) return known.wave;
    if (visiting.has(t.id)) return -1;
    visiting.add(t.id);
    const open = (g.preds.get(t.id) || []).filter((p) => p.status !== "done");
    let base = phaseFloor(t.section);
    for (const p of open) base = Math.max(base, visit(p) + 1);
    visiting.delete(t.id);
    const o = overrides[t.id];
    const overridden = Number.isInteger(o) && o > base;
    const w: Wave = { wave: overridden ? o : base, base, overridden, blockedBy: open.map((p) => p.id) };
    out.set(t.id, w);
    return w.wave;
  };
  for (const t of tasks) if (t.status !== "done") visit(t);
  return out;
}

/** moveLater pushes a task one wave after its current one. */
export function moveLater(overrides: Overrides, id: string, current: Wave): Overrides {
  return { ...overrides, [id]: current.wave + 1 };
}

/** moveEarlier undoes one step of moveLater; back at the computed wave the override is dropped. */
export function moveEarlier(overrides: Overrides, id: string, current: Wave): Overrides {
  const next = { ...overrides };
  if (current.wave - 1 <= current.base) delete next[id];
  else next[id] = current.wave - 1;
  return next;
}

/** pruneOverrides drops overrides of tasks that are gone or done. */
export function pruneOverrides(overrides: Overrides, tasks: CoordTask[]): Overrides {
  const open = new Set(tasks.filter((t) => t.status !== "done").map((t) => t.id));
  return Object.fromEntries(Object.entries(overrides).filter(([id, v]) => open.has(id) && Number.isInteger(v)));
}

/** parseIds reads "C1, R3 T4" into ["C1","R3","T4"] (commas or spaces). */
export function parseIds(s: string): string[] {
  return s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);
}

/** ownerClass maps an owner to one of 8 colour classes, the same owner always the same one. */
export function ownerClass(owner: string): string {
  if (!owner || owner === "any") return "owner-any";
  let h = 0;
  for (const c of owner.toLowerCase()) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return `owner-c${h % 8}`;
}

/**
 * waitingFor lists the predecessors that keep a task from starting (start) or finishing
 * (finish) under its dependency type, as the Hall checks on claim and complete: FS needs them
 * done to start, SS started; to finish, FS and FF need them done, SS and SF started.
 */
export function waitingFor(t: CoordTask, statusOf: Map<string, string>, step: "start" | "finish"): string[] {
  if (t.status === "done") return [];
  if (step === "start" && (t.dep_type === "FF" || t.dep_type === "SF")) return [];
  const needDone = t.dep_type === "FS" || t.dep_type === "FF";
  return t.predecessors.filter((p) => {
    const s = statusOf.get(p);
    return s !== undefined && s !== "done" && (needDone || s === "pending");
  });
}

// Coordination: the multi-agent task board (GET/POST /api/coord/*). Roster, active file locks,
// New Task, the board in four views (Kanban, Dependency Tree, CPM Swimlanes, Order of
// Operations), Edit and Complete modals, a message bar and a live feed of coordination and
// dispatch events that starts from the Hall's event history. Every action is attributed by the
// Hall to the person using it (GitHub login, else OS user) — the UI never sends a name.

import * as api from "../api";
import type { CoordAgent, CoordLock, CoordMe, CoordTask, DepType, HallEvent, Priority, TaskFields } from "../api";
import { app, type Screen } from "../app";
import {
  buildGraph,
  countDescendants,
  dependencyTree,
  moveEarlier,
  moveLater,
  ownerClass,
  parseIds,
  pruneOverrides,
  swimlanes,
  topoDepth,
  waitingFor,
  waves,
  type Overrides,
  type TreeNode,
  type Wave,
} from "../coordgraph";
import { h, replace, type Child } from "../dom";
import { formatDateTime, formatTime } from "../time";
import { badge, busy, emptyState, errorBox, errorText, toast } from "../ui";

type View = "kanban" | "tree" | "swimlane" | "phases";
const VIEWS: [View, string][] = [
  ["kanban", "Kanban"],
  ["tree", "Dependency Tree"],
  ["swimlane", "CPM Swimlanes"],
  ["phases", "Order of Operations"],
];
const VIEW_KEY = "coord-view";
const OVERRIDES_KEY = "coord-phase-overrides";

/** The event types of the feed: coordination and dispatches. */
export const FEED_TYPES = [
  "coord.task.created",
  "coord.task.updated",
  "coord.task.completed",
  "coord.message",
  "coord.agent",
  "coord.lock.acquired",
  "coord.lock.released",
  "dispatch.started",
  "dispatch.finished",
];
const FEED_MAX = 200;

const STATUS_ICON: Record<string, string> = { pending: "○", in_progress: "◑", done: "●" };
const STATUS_LABEL: Record<string, string> = { pending: "Pending", in_progress: "In Progress", done: "Done" };
const PRIORITIES: [Priority, string][] = [
  ["P0", "P0 Urgent"],
  ["P1", "P1 Normal"],
  ["P2", "P2 Low"],
];
const AGENT_TYPES: [string, string][] = [
  ["any", "Any"],
  ["llm", "LLM"],
  ["code", "Code agent"],
  ["gpu", "GPU"],
  ["human", "Human"],
];
const DEP_TYPES: [DepType, string][] = [
  ["FS", "FS — start after it finishes"],
  ["SS", "SS — start once it started"],
  ["FF", "FF — finish after it finishes"],
  ["SF", "SF — finish once it started"],
];

function loadView(): View {
  const v = localStorage.getItem(VIEW_KEY);
  return VIEWS.some(([id]) => id === v) ? (v as View) : "kanban";
}

function loadOverrides(): Overrides {
  try {
    const o = JSON.parse(localStorage.getItem(OVERRIDES_KEY) || "{}");
    return o && typeof o === "object" && !Array.isArray(o) ? (o as Overrides) : {};
  } catch {
    return {};
  }
}

/** feedTag is the short type label of a feed row. */
export function feedTag(ev: HallEvent): string {
  const d = ev.data;
  switch (ev.type) {
    case "coord.task.created":
      return "NEW";
    case "coord.task.completed":
      return "DONE";
    case "coord.task.updated":
      return "TASK";
    case "coord.message":
      return d.msg_type === "alert" ? "ALERT" : d.msg_type === "result" ? "RESULT" : "MSG";
    case "coord.agent":
      return "AGENT";
    case "coord.lock.acquired":
      return "LOCK";
    case "coord.lock.released":
      return "UNLOCK";
    case "dispatch.started":
      return "RUN";
    case "dispatch.finished":
      return "RUN ✓";
  }
  return ev.type.split(".").pop()!.slice(0, 6).toUpperCase();
}

/** feedSummary is the one-line text of a feed row. */
export function feedSummary(ev: HallEvent): string {
  const d = ev.data;
  const s = (k: string) => (typeof d[k] === "string" ? (d[k] as string) : "");
  switch (ev.type) {
    case "coord.task.created":
      return `new task ${s("id")}: ${s("title")} (by ${s("created_by")}, owner ${s("owner")})`;
    case "coord.task.completed":
      return `task ${s("id")} completed by ${s("completed_by")}${s("result") ? ` — ${s("result")}` : ""}`;
    case "coord.task.updated":
      return `${s("id")} ${(STATUS_LABEL[s("status")] || s("status")).toLowerCase()}${s("claimed_by") ? `, claimed by ${s("claimed_by")}` : ""}, owner ${s("owner")} (by ${s("updated_by")})`;
    case "coord.message":
      return `${s("from")} → ${s("to")}: ${s("message")}`;
    case "coord.agent":
      return `agent ${s("id")} (${s("type")}) is ${s("status")}`;
    case "coord.lock.acquired":
      return `${s("holder")} locked ${s("path")} until ${formatTime(s("expires_at"))}`;
    case "coord.lock.released":
      return `${s("released_by")} released ${s("path")}`;
    case "dispatch.started":
      return `${s("capability_id")} → ${s("worker_species_id")} started`;
    case "dispatch.finished":
      return `${s("capability_id")} → ${s("worker_species_id")} ${s("outcome")}${s("error") ? `: ${s("error")}` : ""}`;
  }
  return JSON.stringify(d).slice(0, 80);
}

let modalSeq = 0;

/**
 * openModal shows a keyboard-accessible modal <dialog>: focus moves into it and is trapped
 * (Tab cycles), Esc, ✕ and a backdrop click close it, and focus returns to where it was.
 */
function openModal(title: string, body: HTMLElement, cls: string): { dlg: HTMLDialogElement; close: () => void } {
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const titleId = `coord-dlg-${++modalSeq}`;
  const close = () => {
    if (dlg.open) dlg.close();
  };
  const dlg = h(
    "dialog",
    { class: `coord-modal ${cls}`, "aria-labelledby": titleId },
    h(
      "div",
      { class: "coord-modal-inner" },
      h("header", { class: "coord-modal-head" }, h("h2", { id: titleId }, title), h("button", { type: "button", class: "btn btn-icon", "aria-label": "Close", onclick: close }, "✕")),
      body,
    ),
  );
  dlg.addEventListener("close", () => {
    dlg.remove();
    if (opener && opener.isConnected) opener.focus();
  });
  dlg.addEventListener("click", (e) => {
    if (e.target === dlg) close(); // the backdrop (the inner box covers the dialog itself)
  });
  dlg.addEventListener("keydown", (e) => {
    if (e.key !== "Tab") return;
    const f = Array.from(dlg.querySelectorAll<HTMLElement>("button, input, select, textarea, [href], [tabindex]:not([tabindex='-1'])")).filter(
      (el) => !(el as HTMLButtonElement).disabled && el.offsetParent !== null,
    );
    if (f.length === 0) return;
    const first = f[0];
    const last = f[f.length - 1];
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  });
  document.body.appendChild(dlg);
  dlg.showModal();
  (dlg.querySelector<HTMLElement>("input, textarea, select") ?? dlg.querySelector<HTMLElement>("button"))?.focus();
  return { dlg, close };
}

/** markField flags the control named by the server's error field (predecessors[1] → predecessors). */
function markField(form: ParentNode, e: unknown): void {
  for (const el of Array.from(form.querySelectorAll("[aria-invalid]"))) el.removeAttribute("aria-invalid");
  if (!(e instanceof api.ApiError) || !e.field) return;
  const key = e.field.replace(/\[\d+\]/g, "");
  const ctl = form.querySelector<HTMLElement>(`[data-field="${CSS.escape(key)}"]`);
  if (!ctl) return;
  ctl.setAttribute("aria-invalid", "true");
  ctl.focus();
}

let fieldSeq = 0;
function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  const id = control.id || `coord-f-${++fieldSeq}`;
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hint ? h("p", { class: "hint" }, hint) : null);
}

function select(name: string, options: [string, string][], value: string, attrs: Record<string, string> = {}): HTMLSelectElement {
  const sel = h("select", { name, "data-field": name, ...attrs }, options.map(([v, l]) => h("option", { value: v }, l)));
  sel.value = options.some(([v]) => v === value) ? value : options[0]?.[0] ?? "";
  return sel;
}

export function createCoordinationScreen(): Screen {
  let root: HTMLElement;
  let agents: CoordAgent[] = [];
  let me: CoordMe | null = null;
  let tasks: CoordTask[] = [];
  let locks: CoordLock[] = [];
  let loadError: unknown = null;
  let view: View = loadView();
  let overrides: Overrides = loadOverrides();
  const feed = new Map<number, HallEvent>();
  let feedError: unknown = null;
  let feedLoaded = false;
  let off: () => void = () => {};
  let timer: number | undefined;
  const reloadTimers: Record<string, number | undefined> = {};

  // regions
  let bannerEl: HTMLElement;
  let meEl: HTMLElement;
  let rosterEl: HTMLElement;
  let locksEl: HTMLElement;
  let newTaskEl: HTMLElement;
  let boardEl: HTMLElement;
  let toggleEl: HTMLElement;
  let feedEl: HTMLElement;
  let sendTo: HTMLSelectElement;
  let sendStatus: HTMLElement;
  let newForm: HTMLFormElement | null = null;
  let statusOf = new Map<string, string>();
  /** tree nodes the user opened or closed (else open to depth 2) */
  const treeOpen = new Map<string, boolean>();

  /** ownerOptions: any, you, then the roster (and the current value if it is none of those). */
  function ownerOptions(current = ""): [string, string][] {
    const opts: [string, string][] = [["any", "Any"]];
    if (me) opts.push([me.id, `${me.id} (you)`]);
    for (const a of agents) if (!opts.some(([v]) => v === a.id)) opts.push([a.id, a.name && a.name !== a.id ? `${a.name} (${a.id})` : a.id]);
    if (current && !opts.some(([v]) => v === current)) opts.push([current, current]);
    return opts;
  }

  async function loadAgents(): Promise<void> {
    const r = await api.coordAgents();
    agents = r.agents ?? [];
    me = r.me;
  }
  async function loadTasks(): Promise<void> {
    tasks = (await api.coordTasks()).tasks ?? [];
    const pruned = pruneOverrides(overrides, tasks);
    if (Object.keys(pruned).length !== Object.keys(overrides).length) saveOverrides(pruned);
  }
  async function loadLocks(): Promise<void> {
    locks = (await api.coordLocks()).locks ?? [];
  }

  async function loadAll(): Promise<void> {
    try {
      await Promise.all([loadAgents(), loadTasks(), loadLocks()]);
      loadError = null;
    } catch (e) {
      loadError = e;
    }
    renderAll();
  }

  /** reload refreshes one part shortly after a burst of live events. */
  function reload(part: "agents" | "tasks" | "locks"): void {
    window.clearTimeout(reloadTimers[part]);
    reloadTimers[part] = window.setTimeout(async () => {
      try {
        if (part === "agents") await loadAgents();
        else if (part === "tasks") await loadTasks();
        else await loadLocks();
        loadError = null;
      } catch (e) {
        loadError = e;
      }
      renderAll();
    }, 120);
  }

  async function loadFeed(): Promise<void> {
    try {
      const r = await api.getEvents({ limit: FEED_MAX, timeout: 0, types: FEED_TYPES.join(",") });
      for (const ev of r.events) feed.set(ev.id, ev);
      feedError = null;
    } catch (e) {
      feedError = e;
    }
    feedLoaded = true;
    renderFeed();
  }

  function saveOverrides(o: Overrides): void {
    overrides = o;
    if (Object.keys(o).length) localStorage.setItem(OVERRIDES_KEY, JSON.stringify(o));
    else localStorage.removeItem(OVERRIDES_KEY);
  }

  // ---- rendering

  function renderAll(): void {
    replace(bannerEl, loadError ? errorBox(loadError, "Hall API unreachable — connect to see live coordination data") : null);
    replace(
      meEl,
      me
        ? [
            "Acting as ",
            h("strong", { "data-me": me.id }, me.id),
            me.source === "github" ? " (GitHub login)" : h("span", null, " (OS user · ", h("a", { href: "#/profile" }, "sign in"), " to act as your GitHub login)"),
          ]
        : null,
    );
    renderRoster();
    renderLocks();
    renderSendTo();
    renderNewTaskOwners();
    renderBoard();
  }

  function renderRoster(): void {
    replace(
      rosterEl,
      agents.length === 0
        ? emptyState("No agents yet.", "Agents join with POST /api/coord/agents/heartbeat, or the wcp_coord_heartbeat tool of `hallmonitor mcp`.")
        : h(
            "ul",
            { class: "coord-roster" },
            agents.map((a) =>
              h(
                "li",
                { class: `coord-agent agent-${a.status}`, "data-agent": a.id },
                h("div", { class: "coord-agent-name" }, a.name || a.id, " ", badge(a.status.toUpperCase(), a.status === "active" ? "ok" : a.status === "idle" ? "warn" : "muted")),
                h("div", { class: "mono small muted" }, a.id, " · ", a.type),
                h("div", { class: "small" }, `${a.active_tasks} active`),
                h("div", { class: "small muted", title: formatDateTime(a.last_seen) }, "last seen ", formatTime(a.last_seen)),
              ),
            ),
          ),
    );
  }

  function renderLocks(): void {
    locksEl.hidden = locks.length === 0;
    replace(
      locksEl,
      h("h2", null, `Active File Locks (${locks.length})`),
      h(
        "ul",
        { class: "coord-locks" },
        locks.map((l) =>
          h("li", { "data-lock": l.path }, h("span", { class: "mono" }, l.path), h("span", { class: "muted" }, ` held by ${l.holder}`), h("span", { class: "muted small", title: formatDateTime(l.expires_at) }, ` · exp ${formatTime(l.expires_at)}`)),
        ),
      ),
    );
  }

  function renderSendTo(): void {
    const cur = sendTo.value || "all";
    const opts: [string, string][] = [["all", "→ All"], ...agents.map((a): [string, string] => [a.id, `→ ${a.name && a.name !== a.id ? `${a.name} (${a.id})` : a.id}`])];
    replace(sendTo, opts.map(([v, l]) => h("option", { value: v }, l)));
    sendTo.value = opts.some(([v]) => v === cur) ? cur : "all";
  }

  function renderNewTaskOwners(): void {
    const sel = newForm?.querySelector<HTMLSelectElement>('select[name="owner"]');
    if (!sel) return;
    const cur = sel.value || "any";
    replace(sel, ownerOptions().map(([v, l]) => h("option", { value: v }, l)));
    sel.value = ownerOptions().some(([v]) => v === cur) ? cur : "any";
  }

  function ownerBadge(owner: string): HTMLElement {
    return h("span", { class: `owner-badge ${ownerClass(owner)}`, title: `owner: ${owner}` }, owner);
  }

  function idChip(t: CoordTask): HTMLElement {
    return h("span", { class: `task-id mono ${ownerClass(t.owner)}` }, t.id);
  }

  function priorityBadge(t: CoordTask): HTMLElement | null {
    if (t.priority === "P0") return badge("P0", "bad", "P0 Urgent");
    if (t.priority === "P2") return badge("P2", "muted", "P2 Low");
    return null;
  }

  function taskActions(t: CoordTask): HTMLElement {
    const acts = h("div", { class: "actions task-actions" }, h("button", { type: "button", class: "btn btn-small", "data-action": "edit", "aria-label": `Edit ${t.id}`, onclick: () => editModal(t) }, "Edit"));
    if (t.status === "pending") {
      const blocked = waitingFor(t, statusOf, "start");
      const start = h(
        "button",
        {
          type: "button",
          class: "btn btn-small",
          "data-action": "claim",
          "aria-label": `Start ${t.id} (claim it)`,
          disabled: blocked.length > 0,
          title: blocked.length ? `${t.dep_type}: waits for ${blocked.join(", ")} to ${t.dep_type[0] === "F" ? "finish" : "start"}` : null,
        },
        "Start",
      );
      start.addEventListener("click", () =>
        busy(start, "Starting…", async () => {
          try {
            await api.coordClaimTask(t.id);
            toast(`${t.id} started`, "ok");
            reload("tasks");
          } catch (e) {
            toast(`Cannot start ${t.id}: ${errorText(e)}`, "error");
          }
        }),
      );
      acts.append(start);
    }
    if (t.status !== "done") {
      acts.append(h("button", { type: "button", class: "btn btn-small btn-primary", "data-action": "complete", "aria-label": `Mark ${t.id} complete`, onclick: () => completeModal(t) }, "Mark Complete"));
      const sel = h(
        "select",
        { class: "reassign", "aria-label": `Reassign ${t.id}`, "data-action": "reassign" },
        h("option", { value: "" }, "reassign…"),
        ownerOptions(t.owner)
          .filter(([v]) => v !== t.owner)
          .map(([v, l]) => h("option", { value: v }, l)),
      );
      sel.addEventListener("change", async () => {
        const owner = sel.value;
        if (!owner) return;
        sel.disabled = true;
        try {
          await api.coordReassign(t.id, owner);
          toast(`${t.id} reassigned to ${owner}`, "ok");
          reload("tasks");
        } catch (e) {
          toast(`Reassign failed: ${errorText(e)}`, "error");
          sel.value = "";
          sel.disabled = false;
        }
      });
      acts.append(sel);
    }
    return acts;
  }

  function card(t: CoordTask, extra?: Child): HTMLElement {
    const waiting = waitingFor(t, statusOf, "finish");
    return h(
      "article",
      { class: `coord-card status-${t.status}`, "data-id": t.id, "aria-label": `${t.id}: ${t.title}` },
      h("div", { class: "coord-card-head" }, idChip(t), ownerBadge(t.owner), priorityBadge(t)),
      h("div", { class: "coord-card-title" }, t.title),
      t.claimed_by ? h("div", { class: "small muted" }, `claimed: ${t.claimed_by}`) : null,
      waiting.length ? h("div", { class: "small warn-text" }, `waits for ${waiting.join(", ")} (${t.dep_type})`) : null,
      t.status === "done" && t.result ? h("div", { class: "small coord-result" }, t.result) : null,
      extra,
      taskActions(t),
    );
  }

  function renderToggle(): void {
    replace(
      toggleEl,
      VIEWS.map(([id, label]) =>
        h(
          "button",
          {
            type: "button",
            class: `chip${id === view ? " active" : ""}`,
            "aria-pressed": id === view ? "true" : "false",
            "data-view": id,
            onclick: () => {
              view = id;
              localStorage.setItem(VIEW_KEY, id);
              renderBoard();
              toggleEl.querySelector<HTMLElement>(`[data-view="${id}"]`)?.focus();
            },
          },
          label,
        ),
      ),
    );
  }

  /** focusKey remembers which control of which task has the focus, to give it back after a re-render. */
  function focusKey(): string | null {
    const a = document.activeElement;
    if (!(a instanceof HTMLElement) || !boardEl.contains(a)) return null;
    const id = a.closest<HTMLElement>("[data-id]")?.dataset.id;
    if (!id) return null;
    const q = `[data-id="${CSS.escape(id)}"]`;
    if (a.dataset.move) return `[data-move="${a.dataset.move}"]${q}`;
    if (a.dataset.action) return `${q} [data-action="${a.dataset.action}"]`;
    if (a.tagName === "SUMMARY") return `.tree-node${q} > details > summary`;
    return a.matches(".coord-card") ? `.coord-card${q}` : null;
  }

  function renderBoard(): void {
    const refocus = focusKey();
    statusOf = new Map(tasks.map((t) => [t.id, t.status]));
    renderToggle();
    boardEl.dataset.boardView = view;
    if (view !== "kanban" && tasks.length === 0) {
      replace(boardEl, emptyState("No tasks.", "Create one with + New Task, or let an agent add one."));
      return;
    }
    drawBoard();
    if (refocus) boardEl.querySelector<HTMLElement>(refocus)?.focus();
  }

  function drawBoard(): void {
    switch (view) {
      case "kanban":
        replace(boardEl, kanban());
        break;
      case "tree":
        replace(boardEl, tree());
        break;
      case "swimlane":
        replace(boardEl, lanes());
        break;
      case "phases":
        replace(boardEl, phases());
        break;
    }
  }

  function kanban(): HTMLElement {
    return h(
      "div",
      { class: "coord-kanban" },
      (["pending", "in_progress", "done"] as const).map((s) => {
        const col = tasks.filter((t) => t.status === s);
        return h(
          "section",
          { class: `coord-col col-${s}`, "data-status": s, "aria-label": STATUS_LABEL[s] },
          h("h3", null, STATUS_LABEL[s], " ", h("span", { class: "count muted" }, `(${col.length})`)),
          col.length ? col.map((t) => card(t)) : h("p", { class: "muted small" }, "—"),
        );
      }),
    );
  }

  function treeRow(t: CoordTask, n?: number): HTMLElement {
    return h(
      "span",
      { class: "tree-row" },
      h("span", { class: `status-dot st-${t.status}`, title: STATUS_LABEL[t.status], "aria-label": STATUS_LABEL[t.status] }, STATUS_ICON[t.status]),
      idChip(t),
      h("span", { class: "tree-title" }, t.title),
      ownerBadge(t.owner),
      priorityBadge(t),
      n ? h("span", { class: "muted small" }, `→ ${n} task${n === 1 ? "" : "s"}`) : null,
    );
  }

  function treeNode(n: TreeNode): HTMLElement {
    const body = h("div", { class: "tree-node", "data-id": n.task.id });
    if (n.children.length === 0) {
      body.append(h("div", { class: "tree-leaf" }, treeRow(n.task)), taskActions(n.task));
      return h("li", null, body);
    }
    const det = h(
      "details",
      { open: treeOpen.get(n.task.id) ?? n.depth < 2 },
      h("summary", null, treeRow(n.task, countDescendants(n))),
      taskActions(n.task),
      h("ul", { class: "tree" }, n.children.map(treeNode)),
    );
    det.addEventListener("toggle", () => treeOpen.set(n.task.id, det.open));
    body.append(det);
    return h("li", null, body);
  }

  function tree(): HTMLElement {
    const { roots, orphans } = dependencyTree(tasks);
    return h(
      "div",
      { class: "coord-tree" },
      h("ul", { class: "tree tree-root" }, roots.map(treeNode)),
      orphans.length
        ? h(
            "section",
            { class: "tree-orphans" },
            h("h3", null, `Not reached from a root (${orphans.length}) — a dependency cycle`),
            h("ul", { class: "tree" }, orphans.map((t) => h("li", null, h("div", { class: "tree-node", "data-id": t.id }, h("div", { class: "tree-leaf" }, treeRow(t)), taskActions(t))))),
          )
        : null,
    );
  }

  function lanes(): HTMLElement {
    const g = buildGraph(tasks);
    const depth = topoDepth(tasks);
    const wrap = h("div", { class: "coord-lanes" });
    const clear = () => {
      wrap.classList.remove("hl-on");
      for (const el of Array.from(wrap.querySelectorAll(".hl-self, .hl-pred, .hl-succ"))) el.classList.remove("hl-self", "hl-pred", "hl-succ");
    };
    const highlight = (t: CoordTask) => {
      clear();
      wrap.classList.add("hl-on");
      const mark = (id: string, cls: string) => {
        for (const el of Array.from(wrap.querySelectorAll(`.coord-card[data-id="${CSS.escape(id)}"]`))) el.classList.add(cls);
      };
      mark(t.id, "hl-self");
      for (const p of g.preds.get(t.id) || []) mark(p.id, "hl-pred");
      for (const s of g.succs.get(t.id) || []) mark(s.id, "hl-succ");
    };
    for (const lane of swimlanes(tasks)) {
      wrap.append(
        h(
          "section",
          { class: "coord-lane", "data-section": lane.section, "aria-label": `Section ${lane.section}` },
          h("h3", null, lane.section, " ", h("span", { class: "muted small" }, `(${lane.tasks.length})`)),
          h(
            "div",
            { class: "lane-cards" },
            lane.tasks.map((t) => {
              const preds = (g.preds.get(t.id) || []).map((p) => p.id);
              const succs = (g.succs.get(t.id) || []).map((s) => s.id);
              const c = card(
                t,
                h(
                  "div",
                  { class: "small muted lane-links" },
                  h("span", { class: "lane-depth", title: "topological depth" }, `depth ${depth.get(t.id)}`),
                  preds.length ? h("span", { class: "preds" }, ` · ← ${preds.join(", ")}`) : null,
                  succs.length ? h("span", { class: "succs" }, ` · → ${succs.join(", ")}`) : null,
                ),
              );
              c.tabIndex = 0;
              c.addEventListener("mouseenter", () => highlight(t));
              c.addEventListener("mouseleave", clear);
              c.addEventListener("focusin", () => highlight(t));
              c.addEventListener("focusout", clear);
              return c;
            }),
          ),
        ),
      );
    }
    return wrap;
  }

  function phases(): HTMLElement {
    const w = waves(tasks, overrides);
    const open = tasks.filter((t) => t.status !== "done");
    const done = tasks.filter((t) => t.status === "done");
    const byWave = new Map<number, CoordTask[]>();
    for (const t of open) {
      const n = w.get(t.id)!.wave;
      if (!byWave.has(n)) byWave.set(n, []);
      byWave.get(n)!.push(t);
    }
    const move = (t: CoordTask, cur: Wave, dir: "earlier" | "later") => {
      saveOverrides(dir === "later" ? moveLater(overrides, t.id, cur) : moveEarlier(overrides, t.id, cur));
      renderBoard();
      const again = boardEl.querySelector<HTMLButtonElement>(`[data-move="${dir}"][data-id="${CSS.escape(t.id)}"]`);
      (again && !again.disabled ? again : boardEl.querySelector<HTMLButtonElement>(`[data-move="later"][data-id="${CSS.escape(t.id)}"]`))?.focus();
    };
    const row = (t: CoordTask) => {
      const cur = w.get(t.id);
      return h(
        "li",
        { class: `phase-row status-${t.status}`, "data-id": t.id },
        h("span", { class: `status-dot st-${t.status}`, "aria-label": STATUS_LABEL[t.status] }, STATUS_ICON[t.status]),
        cur
          ? h(
              "span",
              { class: "phase-move" },
              h("button", { type: "button", class: "btn btn-icon btn-small", "data-move": "earlier", "data-id": t.id, "aria-label": `Move ${t.id} one phase earlier`, disabled: !cur.overridden, onclick: () => move(t, cur, "earlier") }, "▲"),
              h("button", { type: "button", class: "btn btn-icon btn-small", "data-move": "later", "data-id": t.id, "aria-label": `Move ${t.id} one phase later`, onclick: () => move(t, cur, "later") }, "▼"),
            )
          : null,
        idChip(t),
        h("span", { class: "phase-title" }, t.title),
        cur?.overridden ? h("span", { class: "overridden", title: "moved by hand (stored in this browser)", "aria-label": "moved by hand" }, "✎") : null,
        ownerBadge(t.owner),
        priorityBadge(t),
        cur && cur.blockedBy.length ? h("span", { class: "small warn-text" }, `blocked by: ${cur.blockedBy.join(", ")}`) : null,
        taskActions(t),
      );
    };
    const hasOverrides = Object.keys(overrides).length > 0;
    return h(
      "div",
      { class: "coord-phases" },
      hasOverrides
        ? h(
            "div",
            { class: "actions phase-toolbar" },
            h("span", { class: "muted small" }, "Some tasks were moved by hand (kept in this browser)."),
            h(
              "button",
              {
                type: "button",
                class: "btn btn-small",
                "data-action": "reset-order",
                onclick: () => {
                  saveOverrides({});
                  renderBoard();
                  toggleEl.querySelector<HTMLElement>('[data-view="phases"]')?.focus();
                },
              },
              "Reset order",
            ),
          )
        : null,
      [...byWave.keys()]
        .sort((a, b) => a - b)
        .map((n) => {
          const ts = byWave.get(n)!;
          const mine = me ? ts.filter((t) => t.owner === me!.id) : [];
          const rest = ts.filter((t) => !mine.includes(t));
          return h(
            "section",
            { class: "phase-block", "data-phase": n + 1 },
            h("h3", null, `Phase ${n + 1}`, n === 0 ? " — DO NOW" : "", " ", h("span", { class: "muted small" }, `(${ts.length})`)),
            mine.length ? [h("h4", null, `Yours (${me!.id})`), h("ul", { class: "phase-list" }, mine.map(row))] : null,
            rest.length ? [mine.length ? h("h4", null, "Agents and others") : null, h("ul", { class: "phase-list" }, rest.map(row))] : null,
          );
        }),
      done.length ? h("details", { class: "phase-done" }, h("summary", null, `Completed (${done.length})`), h("ul", { class: "phase-list" }, done.map(row))) : null,
    );
  }

  function renderFeed(): void {
    const evs = [...feed.values()].sort((a, b) => b.id - a.id).slice(0, FEED_MAX);
    replace(
      feedEl,
      feedError ? errorBox(feedError, "Cannot load the event history") : null,
      evs.length === 0
        ? h("p", { class: "muted" }, feedLoaded ? "No events yet." : "Loading…")
        : h(
            "ol",
            { class: "coord-feed", "aria-label": "Coordination events, newest first" },
            evs.map((ev) =>
              h(
                "li",
                { class: `feed-row${ev.type === "coord.message" ? " feed-ping" : ""}`, "data-event-id": ev.id, "data-type": ev.type },
                h("time", { class: "mono small muted", datetime: ev.time, title: formatDateTime(ev.time) }, formatTime(ev.time)),
                h("span", { class: "feed-tag" }, feedTag(ev)),
                h("span", { class: "feed-summary" }, feedSummary(ev)),
              ),
            ),
          ),
    );
  }

  // ---- forms and modals

  /** taskFields builds the editable fields of a task, each with data-field for error marking. */
  function taskFields(prefix: string, t: Partial<CoordTask>, opts: { predecessors: boolean; depType: boolean; placeholders?: boolean }): { el: HTMLElement[]; read: () => TaskFields } {
    const f = (name: string) => prefix + name;
    const title = h("input", { name: f("title"), "data-field": f("title"), value: t.title ?? "", required: true, maxlength: "200", placeholder: "What needs to be done?", autocomplete: "off" });
    const details = h("textarea", { name: f("details"), "data-field": f("details"), rows: "3" }, t.details ?? "");
    const owner = select(f("owner"), ownerOptions(t.owner), t.owner ?? "any");
    const priority = select(f("priority"), PRIORITIES, t.priority ?? "P1");
    const agentType = select(f("agent_type"), AGENT_TYPES, t.agent_type ?? "any");
    const section = h("input", { name: f("section"), "data-field": f("section"), value: t.section ?? "Ad Hoc", placeholder: "Registry, Security, CI/CD…", maxlength: "80" });
    const location = h("input", { name: f("location"), "data-field": f("location"), value: t.location ?? "", placeholder: "path/to/file or directory", maxlength: "1024" });
    const preds = h("input", { name: f("predecessors"), "data-field": f("predecessors"), value: (t.predecessors ?? []).join(", "), placeholder: "C1, R3 — comma separated", autocomplete: "off" });
    const dep = select(f("dep_type"), DEP_TYPES, t.dep_type ?? "FS");
    const el = [
      field("Title *", title),
      field("Details", details),
      h("div", { class: "field-row" }, field("Assign to", owner), field("Priority", priority), field("Agent type", agentType)),
      h("div", { class: "field-row" }, field("Section", section), field("Location / File", location)),
      opts.predecessors || opts.depType
        ? h("div", { class: "field-row" }, opts.predecessors ? field("Depends on (task ids)", preds) : null, opts.depType ? field("Dependency type", dep) : null)
        : null,
    ].filter((x): x is HTMLElement => !!x);
    return {
      el,
      read: () => {
        const out: TaskFields = {
          title: title.value,
          details: details.value,
          owner: owner.value,
          priority: priority.value as Priority,
          agent_type: agentType.value,
          section: section.value,
          location: location.value,
        };
        if (opts.predecessors) out.predecessors = parseIds(preds.value);
        if (opts.depType) out.dep_type = dep.value as DepType;
        return out;
      },
    };
  }

  function buildNewTask(): void {
    const toggle = h("button", { type: "button", class: "btn btn-primary", "aria-expanded": "false", "aria-controls": "coord-new-form", "data-action": "new-task" }, "+ New Task");
    const errSlot = h("div", { "aria-live": "polite" });
    const form = h("form", { id: "coord-new-form", class: "coord-new-form panel-lite", "aria-label": "New task", hidden: true });
    let fields: ReturnType<typeof taskFields>;
    const fill = () => {
      fields = taskFields("", {}, { predecessors: true, depType: true });
      replace(
        form,
        fields.el,
        errSlot,
        h("div", { class: "actions" }, h("button", { type: "button", class: "btn", "data-action": "cancel-new", onclick: () => show(false) }, "Cancel"), h("button", { type: "submit", class: "btn btn-primary" }, "Create Task")),
      );
    };
    const show = (on: boolean) => {
      form.hidden = !on;
      toggle.setAttribute("aria-expanded", String(on));
      if (on) {
        fill();
        replace(errSlot);
        form.querySelector<HTMLInputElement>('input[name="title"]')?.focus();
      } else toggle.focus();
    };
    toggle.addEventListener("click", () => show(form.hidden));
    form.addEventListener("keydown", (e) => {
      if (e.key === "Escape") show(false);
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const btn = form.querySelector<HTMLButtonElement>('button[type="submit"]')!;
      await busy(btn, "Creating…", async () => {
        try {
          const r = await api.coordCreateTask(fields.read());
          toast(`Created ${r.task.id}: ${r.task.title}`, "ok");
          show(false);
          reload("tasks");
        } catch (err) {
          replace(errSlot, errorBox(err, "Task not created"));
          markField(form, err);
        }
      });
    });
    newForm = form;
    fill();
    replace(newTaskEl, h("div", { class: "actions" }, toggle), form);
  }

  function editModal(t: CoordTask): void {
    const fields = taskFields("", t, { predecessors: true, depType: true });
    const errSlot = h("div", { "aria-live": "polite" });
    const form = h(
      "form",
      { class: "coord-modal-form", "aria-label": `Edit ${t.id}` },
      fields.el,
      errSlot,
      h("div", { class: "actions modal-actions" }, h("button", { type: "button", class: "btn", onclick: () => m.close() }, "Cancel"), h("button", { type: "submit", class: "btn btn-primary" }, "Save")),
    );
    const m = openModal(`Edit Task — ${t.id}`, form, "coord-edit");
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const btn = form.querySelector<HTMLButtonElement>('button[type="submit"]')!;
      await busy(btn, "Saving…", async () => {
        try {
          await api.coordUpdateTask(t.id, fields.read());
          toast(`${t.id} saved`, "ok");
          m.close();
          reload("tasks");
        } catch (err) {
          replace(errSlot, errorBox(err, "Not saved"));
          markField(form, err);
        }
      });
    });
  }

  function completeModal(t: CoordTask): void {
    const summary = h("textarea", { name: "summary", "data-field": "summary", rows: "3", placeholder: "What was done, where to look" });
    const notify = h("input", { type: "checkbox", name: "notify", checked: true });
    const wantFollow = h("input", { type: "checkbox", name: "follow-up", "aria-controls": "coord-followup" });
    const fu = taskFields("follow_up.", { owner: "any", section: t.section, location: t.location, dep_type: "FS", priority: "P1" }, { predecessors: false, depType: true });
    const fuSet = h("fieldset", { id: "coord-followup", class: "coord-followup", hidden: true }, h("legend", null, `Follow-up task (depends on ${t.id})`), fu.el);
    const errSlot = h("div", { "aria-live": "polite" });
    const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Mark Complete + Notify All");
    notify.addEventListener("change", () => (submit.textContent = notify.checked ? "Mark Complete + Notify All" : "Mark Complete"));
    wantFollow.addEventListener("change", () => {
      fuSet.hidden = !wantFollow.checked;
      if (wantFollow.checked) fuSet.querySelector<HTMLInputElement>("input")?.focus();
    });
    const form = h(
      "form",
      { class: "coord-modal-form", "aria-label": `Complete ${t.id}` },
      h("p", { class: "strong" }, `[${t.id}] ${t.title}`),
      field("Result / Notes", summary),
      h("label", { class: "check" }, notify, " Notify all (post the result as a message)"),
      h("label", { class: "check" }, wantFollow, " Create a follow-up task"),
      fuSet,
      errSlot,
      h("div", { class: "actions modal-actions" }, h("button", { type: "button", class: "btn", onclick: () => m.close() }, "Cancel"), submit),
    );
    const m = openModal(`Complete Task — ${t.id}`, form, "coord-complete");
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      await busy(submit, "Completing…", async () => {
        try {
          const r = await api.coordCompleteTask(t.id, { summary: summary.value, notify: notify.checked, follow_up: wantFollow.checked ? fu.read() : undefined });
          toast(r.follow_up ? `${t.id} completed; follow-up ${r.follow_up.id} created` : `${t.id} completed`, "ok");
          m.close();
          reload("tasks");
        } catch (err) {
          replace(errSlot, errorBox(err, "Not completed"));
          markField(form, err);
        }
      });
    });
  }

  function buildSendBar(): HTMLElement {
    sendTo = h("select", { name: "to", "aria-label": "To", "data-field": "to" });
    const text = h("input", { name: "message", "data-field": "message", placeholder: "Send a message to an agent…", "aria-label": "Message", autocomplete: "off", maxlength: "4000" });
    sendStatus = h("div", { class: "send-status small", role: "status", "aria-live": "polite" });
    const btn = h("button", { type: "submit", class: "btn btn-primary" }, "Send");
    const form = h("form", { class: "coord-send", "aria-label": "Send a message" }, sendTo, text, btn);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const to = sendTo.value || "all";
      await busy(btn, "Sending…", async () => {
        try {
          const r = await api.coordPostMessage({ to, message: text.value });
          text.value = "";
          markField(form, null);
          replace(sendStatus, h("span", { class: "ok-text" }, `✓ Sent to ${r.message.to} at ${formatTime(r.message.created_at)}`));
        } catch (err) {
          replace(sendStatus, errorBox(err, "Not sent"));
          markField(form, err);
        }
      });
      text.focus();
    });
    return h("div", null, form, sendStatus);
  }

  function onEvent(ev: HallEvent): void {
    if (!FEED_TYPES.includes(ev.type)) return;
    feed.set(ev.id, ev);
    if (feed.size > FEED_MAX * 2) {
      for (const id of [...feed.keys()].sort((a, b) => a - b).slice(0, feed.size - FEED_MAX)) feed.delete(id);
    }
    renderFeed();
    if (ev.type.startsWith("coord.task.")) reload("tasks");
    else if (ev.type === "coord.agent") reload("agents");
    else if (ev.type.startsWith("coord.lock.")) reload("locks");
    if (ev.type.startsWith("coord.task.") || ev.type.startsWith("coord.lock.")) reload("agents"); // active_tasks, last_seen
  }

  return {
    id: "coordination",
    title: "Coordination",
    mount(el) {
      root = el;
      bannerEl = h("div", { "aria-live": "polite" });
      meEl = h("p", { class: "muted small coord-me" });
      rosterEl = h("div");
      locksEl = h("section", { class: "panel coord-locks-panel", hidden: true, "aria-label": "Active file locks" });
      newTaskEl = h("div", { class: "coord-new" });
      toggleEl = h("div", { class: "chips", role: "group", "aria-label": "Board view" });
      boardEl = h("div", { class: "coord-board" });
      feedEl = h("div", { class: "coord-feed-wrap" });
      replace(
        root,
        h(
          "div",
          { class: "screen-head" },
          h("div", null, h("h1", null, "Coordination"), h("p", { class: "muted small subtitle" }, "Multi-agent · WCP governed"), meEl),
          h("div", { class: "actions" }, h("button", { type: "button", class: "btn", "data-action": "refresh", onclick: () => void loadAll() }, "Refresh")),
        ),
        bannerEl,
        h("section", { class: "panel", "aria-label": "Agent roster" }, h("h2", null, "Agent Roster"), rosterEl),
        locksEl,
        h("section", { class: "panel", "aria-label": "Task board" }, h("div", { class: "board-head" }, h("h2", null, "Task Board"), toggleEl), newTaskEl, boardEl),
        h("section", { class: "panel", "aria-label": "Agent messages and live feed" }, h("h2", null, "Agent Messages & Live Feed"), buildSendBar(), feedEl),
      );
      buildNewTask();
      feed.clear();
      feedLoaded = false;
      renderAll();
      renderFeed();
      off = app.on(onEvent);
      void loadAll();
      void loadFeed();
      // Agent status (active → idle → offline) and lock expiry follow the clock, not events.
      timer = window.setInterval(() => {
        reload("agents");
        reload("locks");
      }, 30_000);
    },
    unmount() {
      off();
      window.clearInterval(timer);
      for (const k of Object.keys(reloadTimers)) window.clearTimeout(reloadTimers[k]);
      for (const d of Array.from(document.querySelectorAll("dialog.coord-modal"))) (d as HTMLDialogElement).close();
    },
  };
}

// Coordination: the multi-agent task board (GET/POST /api/coord/*). Roster, active file locks,
// New Task, the board in four views (Kanban, Dependency Tree, CPM Swimlanes, Order of
// Operations), Edit and Complete modals, a message bar and a live feed of coordination and
// dispatch events that starts from the Hall's event history. Every action is attributed by the
// Hall to the person using it (GitHub login, else OS user) — the UI never sends a name.

import * as api from "../api";
import type { CoordAgent, CoordLock, CoordMe, CoordTask, HallEvent } from "../api";
import { app, type Screen } from "../app";
import { pruneOverrides, type Overrides } from "../coordgraph";
import { h, replace } from "../dom";
import { formatDateTime, formatTime } from "../time";
import { badge, emptyState, errorBox } from "../ui";
import { kanban, type BoardCtx } from "./coordination/board";
import { FEED_MAX, FEED_TYPES, feedList } from "./coordination/feed";
import { newTaskForm, sendBar } from "./coordination/forms";
import { phases } from "./coordination/order";
import { lanes } from "./coordination/swimlane";
import { tree } from "./coordination/tree";

export { FEED_TYPES, feedSummary, feedTag } from "./coordination/feed";

type View = "kanban" | "tree" | "swimlane" | "phases";
const VIEWS: [View, string][] = [
  ["kanban", "Kanban"],
  ["tree", "Dependency Tree"],
  ["swimlane", "CPM Swimlanes"],
  ["phases", "Order of Operations"],
];
const VIEW_KEY = "coord-view";
const OVERRIDES_KEY = "coord-phase-overrides";

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
  let newForm: HTMLFormElement | null = null;
  let statusOf = new Map<string, string>();
  /** tree nodes the user opened or closed (else open to depth 2) */
  const treeOpen = new Map<string, boolean>();

  const ctx: BoardCtx = {
    get tasks() {
      return tasks;
    },
    get statusOf() {
      return statusOf;
    },
    get me() {
      return me;
    },
    get overrides() {
      return overrides;
    },
    treeOpen,
    get boardEl() {
      return boardEl;
    },
    get toggleEl() {
      return toggleEl;
    },
    ownerOptions,
    reload,
    saveOverrides,
    renderBoard,
  };

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
        replace(boardEl, kanban(ctx));
        break;
      case "tree":
        replace(boardEl, tree(ctx));
        break;
      case "swimlane":
        replace(boardEl, lanes(ctx));
        break;
      case "phases":
        replace(boardEl, phases(ctx));
        break;
    }
  }

  function renderFeed(): void {
    replace(feedEl, ...feedList(feed, feedError, feedLoaded));
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
      const bar = sendBar();
      sendTo = bar.to;
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
        h("section", { class: "panel", "aria-label": "Agent messages and live feed" }, h("h2", null, "Agent Messages & Live Feed"), bar.el, feedEl),
      );
      const nt = newTaskForm(ctx);
      newForm = nt.form;
      replace(newTaskEl, nt.el);
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

// Live dispatch feed: decisions pushed over the event stream, Live/Paused with a real buffer,
// server-side filters (mirrored locally for live rows), infinite scroll over stored history,
// a keyboard-driven detail drawer (J/K/Esc) and JSONL/CSV export.

import * as api from "../api";
import type { DecisionFilter, DecisionSummary } from "../api";
import { app, type Screen } from "../app";
import { download, h, replace } from "../dom";
import { FeedModel } from "../feed";
import { evidenceButton } from "../telemetry";
import { isEmptyFilter, normalizeFilter } from "../filters";
import { formatDateTime, formatTime } from "../time";
import { blastChip, breakableOrDash, busy, emptyState, errorBox, errorText, outcomeBadge, toast } from "../ui";
import { agentFilter } from "./agents";
import { decisionDetail } from "./feed/drawer";

const PAGE = 100;

function isTyping(t: EventTarget | null): boolean {
  return t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement || (t instanceof HTMLElement && t.isContentEditable);
}

export function createFeedScreen(): Screen {
  const model = new FeedModel(app.settings.feed_max_rows);
  let root: HTMLElement;
  let tbody: HTMLTableSectionElement;
  let info: HTMLElement;
  let pauseBtn: HTMLButtonElement;
  let bufferedLabel: HTMLElement;
  let moreBtn: HTMLButtonElement;
  let errorSlot: HTMLElement;
  let drawer: HTMLElement;
  let selectedId: string | null = null;
  let loading = false;
  let generation = 0;
  let renderQueued = false;
  let observer: IntersectionObserver | null = null;
  const offs: (() => void)[] = [];

  function queueRender(): void {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(() => {
      renderQueued = false;
      renderRows();
    });
  }

  function row(d: DecisionSummary): HTMLTableRowElement {
    const tr = h(
      "tr",
      {
        tabindex: "-1",
        "data-id": d.decision_id,
        "data-outcome": d.outcome,
        class: `row-${d.outcome}${d.decision_id === selectedId ? " selected" : ""}`,
        "aria-selected": d.decision_id === selectedId ? "true" : "false",
      },
      h("td", { class: "mono", title: formatDateTime(d.timestamp) }, formatTime(d.timestamp)),
      h("td", null, outcomeBadge(d.outcome, d.dry_run)),
      h("td", { class: "mono feed-agent" }, ...breakableOrDash(d.agent)),
      h("td", { class: "mono" }, ...breakableOrDash(d.capability_id)),
      h("td", { class: "mono" }, ...breakableOrDash(d.selected_worker_species_id)),
      h("td", null, ...breakableOrDash(d.tenant_id)),
      h("td", null, blastChip(d.blast_score)),
      h("td", { class: "mono" }, ...breakableOrDash(d.denied ? d.deny_code : d.matched_rule_id)),
      h("td", { class: "muted" }, d.source),
    );
    tr.addEventListener("click", () => void open(d.decision_id));
    tr.addEventListener("keydown", (e) => {
      if (e.key === "Enter") void open(d.decision_id);
    });
    return tr;
  }

  function renderRows(): void {
    if (!tbody?.isConnected) return; // a render queued before the screen was left
    if (model.rows.length === 0) {
      replace(
        tbody,
        h(
          "tr",
          { class: "empty-row" },
          h(
            "td",
            { colspan: "9" },
            loading
              ? emptyState("Loading decisions…")
              : isEmptyFilter(model.filter)
                ? emptyState("No decisions yet — agents post to /wcp/route", "Every routing decision (allowed, denied or pending approval) appears here the moment it is recorded.")
                : emptyState("No decisions match these filters.", "Clear the filters to see everything."),
          ),
        ),
      );
    } else {
      replace(tbody, model.rows.map(row));
      // one tab stop for the table (roving tabindex): the selected row, else the newest
      const stop = (selectedId && tbody.querySelector<HTMLElement>(`tr[data-id="${CSS.escape(selectedId)}"]`)) || tbody.querySelector<HTMLElement>("tr[data-id]");
      stop?.setAttribute("tabindex", "0");
    }
    renderInfo();
  }

  function renderInfo(): void {
    pauseBtn.textContent = model.paused ? "▶ Resume" : "Pause";
    pauseBtn.setAttribute("aria-pressed", model.paused ? "true" : "false");
    root.querySelector(".live-state")!.textContent = model.paused ? "Paused" : "Live";
    root.querySelector(".live-state")!.className = `live-state ${model.paused ? "paused" : "live"}`;
    bufferedLabel.textContent = model.paused ? `${model.buffer.length} new while paused` : "";
    bufferedLabel.hidden = !model.paused;
    const cap = model.capped || model.rows.length >= model.maxRows;
    info.textContent = `${model.rows.length} decision${model.rows.length === 1 ? "" : "s"} shown${cap ? ` (feed limit ${model.maxRows} rows — change it in Settings, narrow the filters, or export)` : ""}`;
    moreBtn.hidden = !model.canLoadMore();
  }

  async function loadPage(first: boolean): Promise<void> {
    if (loading) return;
    if (!first && !model.canLoadMore()) return;
    loading = true;
    const gen = generation;
    errorSlot.replaceChildren();
    try {
      // A search or a combination of filters scans a bounded window per request; an empty window with
      // a next cursor continues at once (up to a few windows), so "no matches" means none were found.
      let cursor = first ? undefined : model.nextCursor || undefined;
      for (let windows = 0; ; windows++) {
        const r = await api.listDecisions({ ...model.filter, limit: Math.min(PAGE, model.maxRows), cursor });
        if (gen !== generation) return;
        model.appendHistory(r.decisions ?? [], r.next_cursor || null);
        if ((r.decisions ?? []).length > 0 || !r.next_cursor || windows >= 7) break;
        cursor = r.next_cursor;
      }
    } catch (e) {
      if (gen === generation) errorSlot.appendChild(errorBox(e, "Cannot load decisions"));
    } finally {
      if (gen === generation) {
        loading = false;
        renderRows();
      }
    }
  }

  function applyFilter(f: DecisionFilter): void {
    generation++;
    loading = false;
    const wasPaused = model.paused;
    model.reset(normalizeFilter(f));
    model.paused = wasPaused;
    void loadPage(true);
  }

  function readFilter(form: HTMLFormElement): DecisionFilter {
    const v = (n: string) => (form.elements.namedItem(n) as HTMLInputElement | HTMLSelectElement).value;
    return { outcome: v("outcome") as DecisionFilter["outcome"], agent: v("agent"), worker: v("worker"), capability: v("capability"), tenant: v("tenant"), q: v("q") };
  }

  async function open(id: string): Promise<void> {
    selectedId = id;
    for (const tr of Array.from(tbody.querySelectorAll("tr[data-id]"))) {
      const sel = (tr as HTMLElement).dataset.id === id;
      tr.classList.toggle("selected", sel);
      tr.setAttribute("aria-selected", sel ? "true" : "false");
      if (sel) (tr as HTMLElement).scrollIntoView({ block: "nearest" });
    }
    drawer.hidden = false;
    root.classList.add("drawer-open");
    const summary = model.rows.find((r) => r.decision_id === id);
    replace(drawer, drawerHead(id), h("p", { class: "muted" }, "Loading decision…"));
    try {
      const d = await api.getDecision(id);
      if (selectedId !== id) return;
      replace(drawer, drawerHead(id), ...decisionDetail(d, summary));
    } catch (e) {
      if (selectedId !== id) return;
      replace(drawer, drawerHead(id), errorBox(e, "Cannot load this decision"));
    }
  }

  function close(): void {
    const id = selectedId;
    selectedId = null;
    drawer.hidden = true;
    root.classList.remove("drawer-open");
    for (const tr of Array.from(tbody.querySelectorAll("tr.selected"))) {
      tr.classList.remove("selected");
      tr.setAttribute("aria-selected", "false");
    }
    if (id) (tbody.querySelector(`tr[data-id="${CSS.escape(id)}"]`) as HTMLElement | null)?.focus();
  }

  function move(delta: number): void {
    if (model.rows.length === 0) return;
    let i = selectedId ? model.rows.findIndex((r) => r.decision_id === selectedId) : -1;
    i = Math.max(0, Math.min(model.rows.length - 1, i + delta));
    const id = model.rows[i].decision_id;
    void open(id);
    (tbody.querySelector(`tr[data-id="${CSS.escape(id)}"]`) as HTMLElement | null)?.focus();
    if (i >= model.rows.length - 3) void loadPage(false);
  }

  function drawerHead(id: string): HTMLElement {
    return h(
      "div",
      { class: "drawer-head" },
      h("h2", { id: "drawer-title" }, "Decision ", h("span", { class: "mono" }, id)),
      h("p", { class: "muted small" }, "J / K: next / previous · Esc: close"),
      h("button", { type: "button", class: "btn btn-icon", "aria-label": "Close detail", onclick: close }, "✕"),
    );
  }

  function onKey(e: KeyboardEvent): void {
    if (e.altKey || e.ctrlKey || e.metaKey || isTyping(e.target)) return;
    if (e.key === "j" || e.key === "J") {
      e.preventDefault();
      move(1);
    } else if (e.key === "k" || e.key === "K") {
      e.preventDefault();
      move(-1);
    } else if (e.key === "Escape" && selectedId) {
      e.preventDefault();
      close();
    }
  }

  async function exportAs(btn: HTMLButtonElement, fmt: "jsonl" | "csv"): Promise<void> {
    await busy(btn, "Exporting…", async () => {
      try {
        const r = await api.exportDecisions(model.filter, fmt);
        download(r.blob, r.filename);
        toast(`Exported ${r.filename}`, "ok");
      } catch (e) {
        toast(`Export failed: ${errorText(e)}`, "error");
      }
    });
  }

  return {
    id: "feed",
    title: "Live Feed",
    mount(el, params) {
      root = el;
      generation++;
      loading = false;
      selectedId = null;
      model.reset({});
      model.paused = false;
      model.setMaxRows(app.settings.feed_max_rows);
      pauseBtn = h("button", { type: "button", class: "btn", "data-action": "toggle-pause", "aria-pressed": "false" }, "Pause");
      pauseBtn.addEventListener("click", () => {
        if (model.paused) {
          const n = model.resume();
          if (n) toast(`${n} buffered decision${n === 1 ? "" : "s"} added`, "info");
        } else model.pause();
        renderRows();
      });
      bufferedLabel = h("span", { class: "buffered", "aria-live": "polite" });
      const jsonl = h("button", { type: "button", class: "btn", "data-action": "export-jsonl" }, "Export JSONL");
      jsonl.addEventListener("click", () => void exportAs(jsonl, "jsonl"));
      const csv = h("button", { type: "button", class: "btn", "data-action": "export-csv" }, "Export CSV");
      csv.addEventListener("click", () => void exportAs(csv, "csv"));

      const input = (name: string, label: string, ph: string) =>
        h("label", { class: "filter" }, h("span", null, label), h("input", { type: "search", name, placeholder: ph, autocomplete: "off" }));
      const form = h(
        "form",
        { class: "filters", role: "search", "aria-label": "Filter decisions" },
        h(
          "label",
          { class: "filter" },
          h("span", null, "Outcome"),
          h(
            "select",
            { name: "outcome" },
            h("option", { value: "" }, "All"),
            h("option", { value: "allowed" }, "Allowed"),
            h("option", { value: "denied" }, "Denied"),
            h("option", { value: "pending" }, "Pending approval"),
          ),
        ),
        agentFilter(),
        input("worker", "Worker", "wrk.…"),
        input("capability", "Capability", "cap.…"),
        input("tenant", "Tenant", "tenant id"),
        input("q", "Text", "ids, codes, messages"),
        h("button", { type: "reset", class: "btn" }, "Clear"),
      );
      let debounce: number | undefined;
      form.addEventListener("input", () => {
        window.clearTimeout(debounce);
        debounce = window.setTimeout(() => applyFilter(readFilter(form)), 300);
      });
      form.addEventListener("change", () => {
        window.clearTimeout(debounce);
        applyFilter(readFilter(form));
      });
      form.addEventListener("reset", () => setTimeout(() => applyFilter({}), 0));
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        applyFilter(readFilter(form));
      });

      tbody = h("tbody");
      tbody.addEventListener("keydown", (e) => {
        if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
        const cur = (e.target as HTMLElement).closest("tr[data-id]");
        const next = (e.key === "ArrowDown" ? cur?.nextElementSibling : cur?.previousElementSibling) as HTMLElement | null;
        if (!cur || !next) return;
        e.preventDefault();
        cur.setAttribute("tabindex", "-1");
        next.setAttribute("tabindex", "0");
        next.focus();
      });
      info = h("p", { class: "muted small feed-info", "aria-live": "polite" });
      moreBtn = h("button", { type: "button", class: "btn", hidden: true }, "Load older decisions");
      moreBtn.addEventListener("click", () => void loadPage(false));
      const sentinel = h("div", { class: "sentinel", "aria-hidden": "true" });
      errorSlot = h("div");
      drawer = h("aside", { class: "drawer", role: "dialog", "aria-labelledby": "drawer-title", hidden: true });

      replace(
        root,
        h(
          "div",
          { class: "screen-head" },
          h("h1", null, "Live Feed ", h("span", { class: "live-state live" }, "Live")),
          h("div", { class: "actions" }, bufferedLabel, pauseBtn, jsonl, csv, evidenceButton(() => model.filter)),
        ),
        form,
        errorSlot,
        h(
          "div",
          { class: "feed-layout" },
          h(
            "div",
            { class: "table-wrap" },
            h(
              "table",
              { class: "grid feed-table", "aria-label": "Decisions, newest first" },
              h(
                "thead",
                null,
                h("tr", null, ...["Time", "Outcome", "Agent", "Capability", "Worker", "Tenant", "Blast", "Rule / deny code", "Source"].map((t) => h("th", { scope: "col" }, t))),
              ),
              tbody,
            ),
            sentinel,
            info,
            moreBtn,
          ),
          drawer,
        ),
      );
      // links such as #/feed?q=<decision id> (from an alert) or ?outcome=denied prefill the filters
      const initial: DecisionFilter = {};
      for (const k of ["outcome", "agent", "worker", "capability", "tenant", "q"] as const) {
        const v = params.get(k);
        if (v) {
          (initial as Record<string, string>)[k] = v;
          const ctl = form.elements.namedItem(k) as HTMLInputElement | HTMLSelectElement | null;
          if (ctl) ctl.value = v;
        }
      }
      model.reset(normalizeFilter(initial));
      renderRows();
      void loadPage(true);

      if (typeof IntersectionObserver !== "undefined") {
        observer = new IntersectionObserver(
          (entries) => {
            if (entries.some((x) => x.isIntersecting) && model.rows.length > 0) void loadPage(false);
          },
          { root: root.querySelector(".table-wrap"), rootMargin: "200px" },
        );
        observer.observe(sentinel);
      }
      document.addEventListener("keydown", onKey);
      offs.push(
        app.on((ev) => {
          if (ev.type !== "decision.recorded") return;
          const r = model.addLive(ev.data as unknown as DecisionSummary);
          if (r === "shown") queueRender();
          else if (r === "buffered") renderInfo();
        }),
        app.onSettings(() => {
          model.setMaxRows(app.settings.feed_max_rows);
          queueRender();
        }),
      );
    },
    unmount() {
      document.removeEventListener("keydown", onKey);
      observer?.disconnect();
      for (const off of offs.splice(0)) off();
      generation++;
    },
  };
}

// Workers: enrolled workers with capabilities, controls, attestation, registry verification
// (GET /wcp/registry/verify/{id}, cached by the server) and ban status; re-enroll and un-enroll;
// and the packages in the workers folder that are not enrolled yet (the local catalog).

import * as api from "../api";
import type { Worker } from "../api";
import { app, type Screen } from "../app";
import { h, replace } from "../dom";
import { formatDateTime } from "../time";
import { badge, blastChip, breakable, busy, confirmDialog, emptyState, errorBox, errorText, kv, pre, toast } from "../ui";

function attestationBadge(w: Worker): HTMLElement {
  const st = w.attestation?.state ?? "unknown";
  const kind = st === "verified" ? "ok" : st === "tampered" ? "bad" : st === "unsigned" || st === "missing" ? "warn" : "muted";
  return badge(st.toUpperCase(), kind, w.attestation?.reason || undefined);
}

function statusBadge(w: Worker): HTMLElement {
  const kind = w.status === "active" ? "ok" : w.status === "tampered" || w.status === "banned" ? "bad" : "warn";
  return badge(w.status.toUpperCase(), kind);
}

function registryBadge(v: api.VerifyResponse | api.WorkerRegistryState | null, err?: unknown): HTMLElement {
  if (err) return badge("!", "warn", `Registry check failed: ${errorText(err)}`);
  if (!v) return badge("…", "muted", "Not checked yet");
  if (v.banned) return badge("BANNED", "bad", v.ban_reason || "Banned in the registry");
  const st = v.status || "unknown";
  if (st === "active") return badge("REGISTERED", "ok", "Attested in the registry");
  if (st === "unknown") return badge("NOT FOUND", "muted", "Not found in the registry");
  return badge(st.toUpperCase(), "warn", ("message" in v && v.message) || ("error" in v && v.error) || st);
}

/** banBadge says "not banned" only when the registry answered; otherwise the ban state is unknown. */
export function banBadge(r: api.WorkerRegistryState | null): HTMLElement {
  if (r?.banned) return badge("BANNED", "bad", r.ban_reason || "Banned in the registry");
  if (!r || !r.checked_at) return badge("unknown", "muted", "The registry has not been asked yet");
  if (r.error) return badge("unknown", "warn", `The registry's last answer failed: ${r.error}`);
  return badge("not banned", "muted", `Registry checked ${formatDateTime(r.checked_at)}`);
}

export function createWorkersScreen(): Screen {
  let root: HTMLElement;
  let workers: Worker[] = [];
  let error: unknown = null;
  let available: Awaited<ReturnType<typeof api.listAvailableWorkers>> | null = null;
  let availableError: unknown = null;
  let search = "";
  let focus = "";
  const verify = new Map<string, { v?: api.VerifyResponse; err?: unknown }>();
  let off: () => void = () => {};
  let reloadTimer: number | undefined;

  async function load(): Promise<void> {
    const [w, a] = await Promise.allSettled([api.listWorkers(), api.listAvailableWorkers()]);
    if (w.status === "fulfilled") {
      workers = w.value.workers ?? [];
      error = null;
    } else {
      error = w.reason;
    }
    if (a.status === "fulfilled") {
      available = a.value;
      availableError = null;
    } else {
      availableError = a.reason;
    }
    render();
  }

  function matches(q: string, ...fields: (string | string[] | undefined)[]): boolean {
    return !q || fields.some((f) => (Array.isArray(f) ? f.some((x) => x.toLowerCase().includes(q)) : (f ?? "").toLowerCase().includes(q)));
  }

  /** availablePanel lists the workers folder's packages that are not enrolled, each opening Enroll prefilled. */
  function availablePanel(q: string): HTMLElement {
    const pkgs = (available?.packages ?? []).filter((p) => matches(q, p.folder, p.worker_id, p.worker_species_id, p.capabilities));
    const head = h(
      "h2",
      null,
      "Available in the workers folder ",
      h("span", { class: "muted small" }, available ? `${available.packages.length} not enrolled · ${available.workers_dir || "no folder set"}` : ""),
    );
    let body: HTMLElement;
    if (availableError) body = errorBox(availableError, "Cannot list the workers folder");
    else if (!available) body = h("p", { class: "muted" }, "Loading…");
    else if (available.error) body = h("p", { class: "muted" }, available.error);
    else if (available.packages.length === 0)
      body = h("p", { class: "muted" }, "Every package in the workers folder is enrolled. Put a worker package (a folder with its registry_record.json) there to see it here.");
    else if (pkgs.length === 0) body = h("p", { class: "muted" }, "No available package matches the search.");
    else
      body = h(
        "div",
        { class: "table-scroll" },
        h(
          "table",
          { class: "grid", "aria-label": "Available worker packages" },
          h("thead", null, h("tr", null, ...["Package", "Status", "Capabilities", "Risk", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
          h(
            "tbody",
            null,
            pkgs.map((p) => {
              const open = h("button", { type: "button", class: "btn btn-small", "data-action": "enroll-available" }, p.record ? "Enroll…" : "Open in Enroll");
              open.addEventListener("click", () => app.navigate("enroll", { package: p.folder }));
              return h(
                "tr",
                { "data-folder": p.folder },
                h("td", null, h("div", { class: "mono strong" }, p.worker_id || p.folder), h("div", { class: "mono muted small" }, p.worker_species_id || p.path)),
                h(
                  "td",
                  null,
                  p.valid ? badge("◈ AVAILABLE", "muted", "In the workers folder, not enrolled") : badge("✗ NOT VALID", "bad", p.problem),
                  p.problem ? h("div", { class: "small field-error" }, p.problem) : null,
                ),
                h("td", { class: "mono small" }, p.capabilities.join(", ") || "—"),
                h("td", null, p.risk_tier || "—"),
                h("td", null, open),
              );
            }),
          ),
        ),
      );
    return h("section", { class: "panel", "data-testid": "available-packages" }, head, body, available?.truncated ? h("p", { class: "muted small" }, "Only the first 500 folders are listed.") : null);
  }

  async function check(w: Worker, cell: HTMLElement): Promise<void> {
    replace(cell, badge("…", "muted", "Checking the registry"));
    try {
      const v = await api.verifyWorker(w.worker_id);
      verify.set(w.worker_id, { v });
    } catch (e) {
      verify.set(w.worker_id, { err: e });
    }
    const r = verify.get(w.worker_id)!;
    replace(cell, registryCell(w, r.v ?? null, r.err));
  }

  function registryCell(w: Worker, v: api.VerifyResponse | null, err?: unknown): HTMLElement[] {
    const parts: HTMLElement[] = [registryBadge(v ?? w.registry, err)];
    const current = v?.current_hash ?? w.registry?.current_hash;
    const local = w.attestation?.package_hash;
    if (current && local) parts.push(current === local ? badge("HASH MATCH", "ok", "Registry hash equals the local package hash") : badge("HASH DIFFERS", "bad", `registry ${current} ≠ local ${local}`));
    if (v) parts.push(h("div", { class: "muted small", title: `checked ${formatDateTime(v.checked_at)}` }, `${v.cached ? "cached" : "fresh"}${v.age_seconds !== null && v.age_seconds !== undefined ? ` · ${Math.round(v.age_seconds)} s old` : ""}`));
    return parts;
  }

  function row(w: Worker): HTMLElement[] {
    const regCell = h("div", { class: "registry-cell" });
    const cached = verify.get(w.worker_id);
    replace(regCell, registryCell(w, cached?.v ?? null, cached?.err));
    if (!cached) {
      // first view this session: ask the registry once (the server caches and backs off on 429)
      verify.set(w.worker_id, {});
      void check(w, regCell);
    }
    const recheck = h("button", { type: "button", class: "btn btn-small", "data-action": "verify" }, "Verify");
    recheck.addEventListener("click", () => void check(w, regCell));
    const reenroll = h("button", { type: "button", class: "btn btn-small", "data-action": "reenroll" }, "Re-enroll");
    reenroll.addEventListener("click", () =>
      busy(reenroll, "Re-enrolling…", async () => {
        try {
          const r = await api.enrollWorker(w.record, w.package_path || undefined);
          toast(`${w.worker_id} ${r.updated ? "re-enrolled (updated)" : "enrolled"}; attestation ${r.worker.attestation?.state ?? "unknown"}`, "ok");
          await load();
        } catch (e) {
          toast(`Re-enroll failed: ${errorText(e)}`, "error");
        }
      }),
    );
    const unenroll = h("button", { type: "button", class: "btn btn-small btn-danger", "data-action": "unenroll" }, "Un-enroll");
    unenroll.addEventListener("click", async () => {
      if (!(await confirmDialog(`Un-enroll ${w.worker_id}? The Hall stops routing to it; its past decisions stay recorded.`, "Un-enroll"))) return;
      await busy(unenroll, "Removing…", async () => {
        try {
          await api.unenrollWorker(w.worker_id);
          toast(`${w.worker_id} un-enrolled`, "ok");
          await load();
          void app.refreshStatus();
        } catch (e) {
          toast(`Un-enroll failed: ${errorText(e)}`, "error");
        }
      });
    });
    const detailRow = h(
      "tr",
      { class: "detail-row", hidden: focus !== w.worker_id },
      h(
        "td",
        { colspan: "8" },
        kv([
          ["Package", h("span", { class: "mono" }, w.package_path || "—")],
          ["Package hash", h("span", { class: "mono" }, w.attestation?.package_hash || "—")],
          ["Registered hash", h("span", { class: "mono" }, w.attestation?.registered_hash || "—")],
          ["Attestation checked", formatDateTime(w.attestation?.checked_at)],
          ["Attestation reason", [w.attestation?.deny_code, w.attestation?.reason].filter(Boolean).join(": ") || "—"],
          ["Guarantee", w.guarantee || "—"],
          ["Enrolled", formatDateTime(w.enrolled_at)],
          ["Updated", formatDateTime(w.updated_at)],
          ["Registry error", w.registry?.error || "—"],
        ]),
        h("details", null, h("summary", null, "Registry record"), pre(w.record)),
      ),
    );
    const toggle = h("button", { type: "button", class: "btn btn-small", "aria-expanded": focus === w.worker_id ? "true" : "false" }, "Details");
    toggle.addEventListener("click", () => {
      detailRow.hidden = !detailRow.hidden;
      toggle.setAttribute("aria-expanded", detailRow.hidden ? "false" : "true");
    });
    return [
      h(
        "tr",
        { "data-id": w.worker_id, class: w.status === "tampered" || w.status === "banned" ? "row-denied" : "" },
        h("td", null, h("div", { class: "mono strong" }, ...breakable(w.worker_id)), h("div", { class: "mono muted small" }, ...breakable(w.worker_species_id))),
        h("td", null, statusBadge(w)),
        h("td", { class: "mono small" }, ...((w.capabilities ?? []).length ? (w.capabilities ?? []).flatMap((c, i) => [i ? ", " : "", ...breakable(c)]) : ["—"])),
        h("td", null, w.risk_tier || "—", " ", blastChip(w.blast_score)),
        h("td", { class: "small" }, ...((w.controls ?? []).length ? (w.controls ?? []).flatMap((c, i) => [i ? ", " : "", ...breakable(c)]) : ["—"])),
        h("td", null, attestationBadge(w)),
        h("td", { class: "small" }, regCell, h("div", { class: "ban-cell" }, banBadge(w.registry))),
        h("td", null, h("div", { class: "actions actions-wrap" }, toggle, recheck, reenroll, unenroll)),
      ),
      detailRow,
    ];
  }

  /** banListPanel loads GET /wcp/registry/ban-list when opened (the server caches it). */
  function banListPanel(): HTMLElement {
    const body = h("div", null, h("p", { class: "muted" }, "Loading…"));
    const det = h("details", { class: "panel" }, h("summary", null, h("strong", null, "Registry ban list")), body);
    det.addEventListener("toggle", async () => {
      if (!det.open) return;
      try {
        const r = await api.banList();
        const entries = r.entries ?? [];
        replace(
          body,
          h("p", { class: "muted small" }, `${entries.length} entr${entries.length === 1 ? "y" : "ies"} · ${r.cached ? "cached" : "fresh"} · checked ${formatDateTime(r.checked_at)}`),
          entries.length === 0
            ? h("p", null, "No banned workers.")
            : h(
                "table",
                { class: "grid" },
                h("thead", null, h("tr", null, h("th", { scope: "col" }, "Worker"), h("th", { scope: "col" }, "Reason"), h("th", { scope: "col" }, "Entry"))),
                h(
                  "tbody",
                  null,
                  entries.map((e) =>
                    h("tr", null, h("td", { class: "mono" }, String(e.worker_id ?? e.id ?? "—")), h("td", null, String(e.reason ?? e.ban_reason ?? "—")), h("td", null, pre(e))),
                  ),
                ),
              ),
        );
      } catch (e) {
        replace(body, errorBox(e, "Cannot load the ban list"));
      }
    });
    return det;
  }

  function render(): void {
    const q = search.toLowerCase();
    const shown = workers.filter((w) => matches(q, w.worker_id, w.worker_species_id, w.capabilities));
    const searchBox = h("input", { type: "search", placeholder: "Search workers, species, capabilities", "aria-label": "Search workers", value: search });
    searchBox.addEventListener("input", () => {
      search = searchBox.value;
      const pos = searchBox.selectionStart;
      render();
      const again = root.querySelector<HTMLInputElement>("input[type=search]");
      again?.focus();
      if (pos !== null) again?.setSelectionRange(pos, pos);
    });
    replace(
      root,
      h(
        "div",
        { class: "screen-head" },
        h("h1", null, "Workers ", h("span", { class: "muted small" }, `${workers.length} enrolled`)),
        h("div", { class: "actions" }, searchBox, h("button", { type: "button", class: "btn", onclick: () => void load() }, "Refresh"), h("a", { class: "btn btn-primary", href: "#/enroll" }, "+ Enroll a worker")),
      ),
      error ? errorBox(error, "Cannot load workers") : null,
      workers.length === 0
        ? emptyState("No workers enrolled yet.", "Enroll one from its registry_record.json (Enroll Worker) or with `hallmonitor enroll`.")
        : shown.length === 0
          ? emptyState("No workers match the search.", "Clear the search box to see all enrolled workers.")
          : h(
              "div",
              { class: "table-scroll" },
              h(
                "table",
                { class: "grid", "aria-label": "Enrolled workers" },
                h("thead", null, h("tr", null, ...["Worker", "Status", "Capabilities", "Risk / blast", "Controls", "Attestation", "Registry / ban", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
                h("tbody", null, shown.map(row)),
              ),
            ),
      availablePanel(q),
      banListPanel(),
    );
    if (focus) root.querySelector<HTMLElement>(`tr[data-id="${CSS.escape(focus)}"]`)?.scrollIntoView({ block: "center" });
  }

  return {
    id: "workers",
    title: "Workers",
    mount(el, params) {
      root = el;
      focus = params.get("focus") || "";
      render();
      void load();
      off = app.on((ev) => {
        if (ev.type.startsWith("worker.")) {
          window.clearTimeout(reloadTimer);
          reloadTimer = window.setTimeout(() => void load(), 150);
        }
      });
    },
    unmount() {
      off();
      window.clearTimeout(reloadTimer);
    },
  };
}

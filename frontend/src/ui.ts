// Shared UI pieces: error panels naming the server's field, toasts, badges, key/value grids.

import { ApiError } from "./api";
import { h, replace, type Child } from "./dom";

/** errorText renders an error the way the server stated it, with the field when there is one. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.field ? `${e.message} (field: ${e.field})` : e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

/** errorBox is an alert region showing the server's message, code and field. */
export function errorBox(e: unknown, title = "Something went wrong"): HTMLElement {
  const box = h("div", { class: "error-box", role: "alert" }, h("strong", null, title + ": "), h("span", { class: "error-message" }, errorText(e)));
  if (e instanceof ApiError && e.code) box.appendChild(h("span", { class: "error-code" }, ` [${e.code}]`));
  return box;
}

/** showFieldErrors marks the form control whose data-field matches the error's field. */
export function showFieldError(form: ParentNode, e: unknown): boolean {
  for (const el of Array.from(form.querySelectorAll<HTMLElement>("[aria-invalid]"))) el.removeAttribute("aria-invalid");
  for (const el of Array.from(form.querySelectorAll<HTMLElement>(".field-error"))) el.replaceChildren();
  if (!(e instanceof ApiError) || !e.field) return false;
  const leaf = e.field.split(".").pop() || e.field;
  const ctl =
    form.querySelector<HTMLElement>(`[data-field="${CSS.escape(e.field)}"]`) ??
    form.querySelector<HTMLElement>(`[data-field="${CSS.escape(leaf)}"]`);
  if (!ctl) return false;
  ctl.setAttribute("aria-invalid", "true");
  const msg = form.querySelector<HTMLElement>(`[data-error-for="${CSS.escape(ctl.dataset.field || "")}"]`);
  if (msg) replace(msg, e.message);
  ctl.focus();
  return true;
}

let toastRegion: HTMLElement | null = null;

export function toast(message: string, kind: "info" | "ok" | "error" = "info"): void {
  if (!toastRegion) {
    toastRegion = h("div", { class: "toasts", role: "status", "aria-live": "polite" });
    document.body.appendChild(toastRegion);
  }
  const t = h("div", { class: `toast toast-${kind}` }, message);
  toastRegion.appendChild(t);
  setTimeout(() => t.remove(), kind === "error" ? 8000 : 4000);
}

export function badge(label: string, kind: string, title?: string): HTMLElement {
  return h("span", { class: `badge badge-${kind}`, title: title || null }, label);
}

export function outcomeBadge(outcome: string, dryRun = false): HTMLElement {
  const label = outcome === "allowed" ? "ALLOWED" : outcome === "denied" ? "DENIED" : outcome === "pending" ? "PENDING" : outcome.toUpperCase();
  const b = badge(label, outcome === "allowed" ? "ok" : outcome === "denied" ? "bad" : "warn");
  if (dryRun) b.appendChild(h("span", { class: "dry" }, " · dry-run"));
  return b;
}

/** blastTier: ≤30 LOW, ≤60 MEDIUM, ≤80 HIGH, >80 CRITICAL. */
export function blastTier(score: number | null | undefined): { label: string; kind: string } | null {
  if (score === null || score === undefined || !Number.isFinite(score)) return null;
  if (score <= 30) return { label: "LOW", kind: "ok" };
  if (score <= 60) return { label: "MEDIUM", kind: "warn" };
  if (score <= 80) return { label: "HIGH", kind: "high" };
  return { label: "CRITICAL", kind: "bad" };
}

export function blastChip(score: number | null | undefined): HTMLElement {
  const t = blastTier(score);
  if (!t) return h("span", { class: "muted" }, "—");
  return h("span", { class: `blast blast-${t.kind}`, title: `Blast score ${score} / 100 (${t.label})` }, `${score} ${t.label}`);
}

export function kv(rows: [string, Child][]): HTMLElement {
  const dl = h("dl", { class: "kv" });
  for (const [k, v] of rows) dl.append(h("dt", null, k), h("dd", null, v === "" || v === null || v === undefined ? "—" : v));
  return dl;
}

export function emptyState(title: string, detail?: string): HTMLElement {
  return h("div", { class: "empty" }, h("p", { class: "empty-title" }, title), detail ? h("p", { class: "empty-detail" }, detail) : null);
}

export function pre(value: unknown): HTMLElement {
  return h("pre", { class: "json", tabindex: "0" }, JSON.stringify(value, null, 2));
}

export function section(title: string, ...children: Child[]): HTMLElement {
  return h("section", { class: "panel" }, h("h2", null, title), ...children);
}

/** busy disables a button while a promise runs, restoring its label afterwards. */
export async function busy<T>(btn: HTMLButtonElement, label: string, fn: () => Promise<T>): Promise<T> {
  const old = btn.textContent;
  btn.disabled = true;
  btn.textContent = label;
  try {
    return await fn();
  } finally {
    btn.disabled = false;
    btn.textContent = old;
  }
}

/** confirmDialog asks for confirmation with a native <dialog> (keyboard accessible). */
export function confirmDialog(message: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const dlg = h("dialog", { class: "confirm", "aria-label": "Confirm" });
    const done = (v: boolean) => {
      dlg.close();
      dlg.remove();
      resolve(v);
    };
    dlg.append(
      h("p", null, message),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "btn", onclick: () => done(false) }, "Cancel"),
        h("button", { type: "button", class: "btn btn-danger", onclick: () => done(true) }, confirmLabel),
      ),
    );
    dlg.addEventListener("cancel", (e) => {
      e.preventDefault();
      done(false);
    });
    document.body.appendChild(dlg);
    if (typeof dlg.showModal === "function") dlg.showModal();
    (dlg.querySelector(".btn-danger") as HTMLButtonElement | null)?.focus();
  });
}

/**
 * newestOnly returns a loader that runs fetch and hands its outcome to apply, unless a newer call
 * started meanwhile: a slow answer for a filter the user already changed must not replace the newer list.
 */
export function newestOnly<T>(fetch: () => Promise<T>, apply: (value: T | undefined, error: unknown) => void): () => Promise<void> {
  let seq = 0;
  return async () => {
    const my = ++seq;
    let value: T | undefined;
    let error: unknown = null;
    try {
      value = await fetch();
    } catch (e) {
      error = e;
    }
    if (my === seq) apply(value, error);
  };
}

/** breakable shows a dotted id (cap.example.echo) as text that may wrap after its dots and underscores, so a
 * narrow table wraps ids at their parts instead of in the middle of a word. */
export function breakable(id: string): Node[] {
  const out: Node[] = [];
  for (const part of id.split(/(?<=[._])/)) {
    if (out.length) out.push(document.createElement("wbr"));
    out.push(document.createTextNode(part));
  }
  return out;
}

/** breakableOrDash is breakable(id), or "—" when there is no id. */
export function breakableOrDash(id: string | null | undefined): (Node | string)[] {
  return id ? breakable(id) : ["—"];
}

// Settings → Security: the optional UI passphrase (set, lock now, change, remove). With a passphrase
// the window and the browser UI start locked and show the unlock screen; agents are not affected.
// In a browser (not the desktop window) it also ends this browser's session.

import * as api from "../api";
import type { HallEvent, LockStatus } from "../api";
import { app } from "../app";
import { h, replace } from "../dom";
import { passphraseProblem, showLockScreen } from "../lock";
import { busy, errorBox, errorText, toast } from "../ui";

function pw(id: string, label: string, autocomplete: string): { field: HTMLElement; input: HTMLInputElement } {
  const input = h("input", { id, type: "password", name: id, autocomplete, "data-field": id }) as HTMLInputElement;
  return { input, field: h("div", { class: "field" }, h("label", { for: id }, label), input) };
}

/** securitySection is the Security panel; reload() re-reads the lock status, onEvent() follows ui.lock events. */
export function securitySection(): { el: HTMLElement; reload: () => Promise<void>; onEvent: (ev: HallEvent) => void } {
  let status: LockStatus | null = null;
  let loadError: unknown = null;
  const body = h("div", null, h("p", { class: "muted" }, "Loading…"));
  const el = h(
    "section",
    { class: "panel", "data-testid": "security" },
    h("h2", null, "Security"),
    h("p", { class: "muted small" }, "An optional passphrase locks this window and the browser UI at every start (and when you lock it). Agents keep routing with their own tokens; the passphrase is stored only as a hash."),
    body,
    app.whoami?.via === "browser" ? signOut() : null,
  );

  /** signOut ends this browser's session (DELETE /api/session); the page then asks for the admin credential again. */
  function signOut(): HTMLElement {
    const btn = h("button", { type: "button", class: "btn", "data-action": "sign-out-browser" }, "Sign out of this browser");
    btn.addEventListener("click", () =>
      busy(btn, "Signing out…", async () => {
        try {
          await api.closeSession();
          location.reload();
        } catch (err) {
          toast(`Cannot sign out: ${errorText(err)}`, "error");
        }
      }),
    );
    return h("div", { class: "browser-session" }, h("h3", null, "This browser"), h("p", { class: "muted small" }, "This page uses a session of this browser, opened with the admin credential. Signing out ends it here; other browsers keep theirs."), btn);
  }

  function note(): HTMLElement {
    return h("p", { class: "field-error", "aria-live": "polite" });
  }

  function setForm(): HTMLElement {
    const a = pw("pp-new", "New passphrase", "new-password");
    const b = pw("pp-confirm", "Confirm passphrase", "new-password");
    const msg = note();
    const btn = h("button", { type: "submit", class: "btn btn-primary" }, "Set Passphrase");
    const form = h("form", { class: "pp-form", "data-form": "set-passphrase" }, a.field, b.field, msg, h("div", { class: "actions" }, btn));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const problem = passphraseProblem(a.input.value, b.input.value);
      if (problem) {
        replace(msg, problem);
        return;
      }
      void busy(btn, "Saving…", async () => {
        try {
          status = await api.setPassphrase(a.input.value);
          toast("Passphrase set: Hall Monitor will ask for it at the next start.", "ok");
          render();
        } catch (err) {
          replace(msg, errorText(err));
        }
      });
    });
    return form;
  }

  function changeForm(): HTMLElement {
    const cur = pw("pp-current", "Current passphrase", "current-password");
    const a = pw("pp-change-new", "New passphrase", "new-password");
    const b = pw("pp-change-confirm", "Confirm new passphrase", "new-password");
    const msg = note();
    const btn = h("button", { type: "submit", class: "btn" }, "Update Passphrase");
    const form = h("form", { class: "pp-form", "data-form": "change-passphrase" }, cur.field, a.field, b.field, msg, h("div", { class: "actions" }, btn));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const problem = !cur.input.value ? "Current passphrase is required." : passphraseProblem(a.input.value, b.input.value);
      if (problem) {
        replace(msg, problem);
        return;
      }
      void busy(btn, "Updating…", async () => {
        try {
          status = await api.changePassphrase(cur.input.value, a.input.value);
          toast("Passphrase updated.", "ok");
          render();
        } catch (err) {
          replace(msg, errorText(err));
        }
      });
    });
    return h("details", null, h("summary", null, "Change passphrase"), form);
  }

  function removeForm(): HTMLElement {
    const cur = pw("pp-remove-current", "Current passphrase", "current-password");
    const msg = note();
    const btn = h("button", { type: "submit", class: "btn btn-danger" }, "Remove Passphrase");
    const form = h("form", { class: "pp-form", "data-form": "remove-passphrase" }, cur.field, msg, h("div", { class: "actions" }, btn));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (!cur.input.value) {
        replace(msg, "Current passphrase is required.");
        return;
      }
      void busy(btn, "Removing…", async () => {
        try {
          status = await api.removePassphrase(cur.input.value);
          toast("Passphrase removed: the UI no longer locks.", "ok");
          render();
        } catch (err) {
          replace(msg, errorText(err));
        }
      });
    });
    return h("details", null, h("summary", null, "Remove passphrase"), form);
  }

  function render(): void {
    if (loadError) {
      replace(body, errorBox(loadError, "Cannot read the lock status"));
      return;
    }
    if (!status) return;
    if (!status.passphrase_set) {
      replace(body, h("p", null, "No passphrase is set: the UI opens without one."), setForm());
      return;
    }
    const lock = h("button", { type: "button", class: "btn btn-primary", "data-action": "lock-now" }, "Lock now");
    lock.addEventListener("click", () =>
      busy(lock, "Locking…", async () => {
        try {
          await api.lockNow();
          showLockScreen();
        } catch (err) {
          toast(`Cannot lock: ${errorText(err)}`, "error");
        }
      }),
    );
    replace(body, h("p", null, "A passphrase is set: Hall Monitor asks for it at every start. ", lock), changeForm(), removeForm());
  }

  async function reload(): Promise<void> {
    try {
      status = await api.passphraseStatus();
      loadError = null;
    } catch (err) {
      loadError = err;
    }
    render();
  }

  return {
    el,
    reload,
    onEvent(ev) {
      if (ev.type === "ui.lock") void reload();
    },
  };
}

// The person's sign-in in a browser. `hallmonitor serve` prints a link with the admin credential
// (#token=…); the page trades it once for a session of this browser (POST /api/session) and keeps only
// the session token. Without a session (none yet, expired, the Hall restarted: 401) or when the Hall
// answers 403 forbidden_scope, the token screen asks for the admin credential; an agent token pasted
// there is named as one. The desktop window needs none of this: its requests are in-process.

import * as api from "./api";
import { h, replace } from "./dom";
import { busy, errorBox } from "./ui";

/** the token screen on the page, if any */
let current: HTMLElement | null = null;

/** showTokenScreen asks for the admin credential and opens a session with it, then runs onSignedIn.
 * One at a time: a 401 or 403 while it is up neither stacks another one nor loops. */
export function showTokenScreen(err: unknown, onSignedIn: () => void): void {
  if (current?.isConnected) return;
  const input = h("input", { id: "token-input", type: "password", name: "token", autocomplete: "off", spellcheck: "false", required: true, "data-field": "token" });
  const errSlot = h("div", { "aria-live": "polite", class: "token-error" }, err ? errorBox(err, "Not signed in") : null);
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Continue");
  const form = h(
    "form",
    { class: "token-card", "aria-labelledby": "token-title" },
    h("h1", { id: "token-title" }, "Paste the admin credential"),
    h(
      "p",
      null,
      "Only the person at this machine governs the Hall. Open the link `hallmonitor serve` prints (…/#token=…), or paste the admin credential from ",
      h("code", null, "<config dir>/admin-token"),
      ". This page trades it for a session of this browser and does not keep it. Agent tokens (hma_…) cannot open the UI.",
    ),
    h("div", { class: "field" }, h("label", { for: "token-input" }, "Admin credential"), input),
    errSlot,
    h("div", { class: "actions" }, submit),
  );
  const overlay = h("div", { class: "token-overlay", role: "dialog", "aria-modal": "true", "aria-labelledby": "token-title" }, form);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void busy(submit, "Signing in…", async () => {
      try {
        await api.openSession(input.value);
      } catch (e2) {
        replace(errSlot, errorBox(e2, "Not accepted"));
        input.select();
        return;
      }
      input.value = "";
      overlay.remove();
      onSignedIn();
    });
  });
  document.body.appendChild(overlay);
  current = overlay;
  input.focus();
}

/** signIn opens this browser's session with the credential from the address bar; false when it was
 * refused and the token screen took over. */
export async function signIn(credential: string, onSignedIn: () => void): Promise<boolean> {
  try {
    await api.openSession(credential);
    return true;
  } catch (e) {
    api.setToken(null);
    showTokenScreen(e, onSignedIn);
    return false;
  }
}

/** installSignIn shows the token screen on every 401 (no or expired session) and 403 forbidden_scope
 * (a credential that is not the person's), forgetting the session token the Hall refused. before runs
 * first (the page stops its event stream). */
export function installSignIn(onSignedIn: () => void, before: () => void = () => {}): void {
  api.onUnauthorized((err) => {
    before();
    api.setToken(null);
    showTokenScreen(err, onSignedIn);
  });
  api.onForbidden((err) => {
    before();
    api.setToken(null);
    showTokenScreen(new api.ApiError(err.status, err.code, `${api.PERSON_ONLY_MESSAGE}: ${err.message}`), onSignedIn);
  });
}

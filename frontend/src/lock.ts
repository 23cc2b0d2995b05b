// The UI lock screen (the reference's passphrase gate): shown whenever the Hall answers 423 locked,
// and right after "Lock now". It replaces the whole page, so no data stays behind it; unlocking
// reloads the page so every screen starts fresh.

import * as api from "./api";
import { h, replace } from "./dom";
import { errorBox } from "./ui";

let shown = false;

/** passphraseProblem checks a new passphrase and its confirmation, with the reference's messages. */
export function passphraseProblem(next: string, confirm: string): string | null {
  if (!next) return "Passphrase is required.";
  if ([...next].length < 8) return "The passphrase must be at least 8 characters.";
  if (next !== confirm) return "Passphrases do not match.";
  return null;
}

export function showLockScreen(): void {
  if (shown) return;
  shown = true;
  const input = h("input", { id: "unlock-input", type: "password", name: "passphrase", autocomplete: "current-password", required: true, "data-field": "passphrase" });
  const errSlot = h("div", { "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Unlock");
  const form = h(
    "form",
    { class: "token-card", "aria-labelledby": "unlock-title" },
    h("h1", { id: "unlock-title" }, "Unlock your Hall"),
    h("p", null, "Hall Monitor is locked. Enter your passphrase to continue. Agents keep routing while the window is locked."),
    h("div", { class: "field" }, h("label", { for: "unlock-input" }, "Passphrase"), input),
    errSlot,
    h("div", { class: "actions" }, submit),
  );
  const overlay = h("div", { class: "token-overlay lock-overlay", role: "dialog", "aria-modal": "true", "aria-labelledby": "unlock-title" }, form);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!input.value) {
      replace(errSlot, h("p", { class: "field-error" }, "Passphrase is required."));
      input.focus();
      return;
    }
    submit.setAttribute("disabled", "");
    replace(submit, "Unlocking…");
    try {
      await api.unlock(input.value);
      location.reload();
    } catch (err) {
      replace(errSlot, errorBox(err, "Not unlocked"));
      input.select();
    } finally {
      submit.removeAttribute("disabled");
      replace(submit, "Unlock");
    }
  });
  // Nothing of the Hall's data stays on the page behind the lock (unlocking reloads it).
  document.body.replaceChildren(overlay);
  input.focus();
}

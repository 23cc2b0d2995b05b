// GitHub sign-in through the registry: POST /api/auth/login, open auth_url in the system browser,
// poll GET /api/auth/login/{id} until done/failed/expired; cancel with DELETE.

import * as api from "./api";
import { openExternal } from "./desktop";
import { h, replace } from "./dom";
import { errorBox } from "./ui";

/** SIGN_IN_WAIT_MS is how long the widget waits for the browser sign-in before it stops and says why. */
export const SIGN_IN_WAIT_MS = 3 * 60_000;

/**
 * signInTimeoutReason explains a sign-in that got no answer in time: the browser that could not be opened,
 * the registry that does not answer (probe: the error of a request to it, "" when it answered), or neither.
 */
export function signInTimeoutReason(browserError: string, registryError: string, minutes: number): string {
  const parts = [`No sign-in came back within ${minutes} minutes.`];
  if (browserError) parts.push(`The browser could not be opened (${browserError}): open the address above yourself, or use a device code.`);
  if (registryError) parts.push(`The registry does not answer (${registryError}): check registry_url in Settings and your network.`);
  if (!browserError && !registryError) parts.push("The registry answers; finish the GitHub page in your browser and try again, or use a device code.");
  return parts.join(" ");
}

/** probeRegistry asks the registry through the Hall (its ban list, fresh or cached); the error text, or "". */
async function probeRegistry(): Promise<string> {
  try {
    await api.banList();
    return "";
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

export function loginWidget(onDone: () => void): HTMLElement {
  const status = h("div", { class: "login-status", role: "status", "aria-live": "polite" });
  const btn = h("button", { type: "button", class: "btn btn-primary", "data-action": "sign-in" }, "Sign in with GitHub");
  const cancel = h("button", { type: "button", class: "btn", hidden: true }, "Cancel");
  let loginId = "";
  let timer: number | undefined;
  let deadline = 0;
  let browserError = "";

  function stop(): void {
    window.clearTimeout(timer);
    btn.disabled = false;
    btn.textContent = "Sign in with GitHub";
    cancel.hidden = true;
  }

  async function poll(): Promise<void> {
    try {
      const r = await api.loginStatus(loginId);
      if (r.status === "pending" && Date.now() < deadline) {
        timer = window.setTimeout(() => void poll(), 2000);
        return;
      }
      if (r.status === "pending") {
        stop();
        const why = signInTimeoutReason(browserError, await probeRegistry(), Math.round(SIGN_IN_WAIT_MS / 60_000));
        await api.cancelLogin(loginId).catch(() => undefined);
        replace(status, errorBox(new Error(why), "Sign-in timed out"));
        return;
      }
      stop();
      if (r.status === "done") {
        replace(status, h("span", { class: "ok-text" }, "✓ Signed in."));
        onDone();
      } else {
        replace(status, errorBox(new Error(r.error || `Sign-in ${r.status}.`), `Sign-in ${r.status}`));
      }
    } catch (e) {
      stop();
      replace(status, errorBox(e, "Sign-in failed"));
    }
  }

  btn.addEventListener("click", async () => {
    btn.disabled = true;
    btn.textContent = "Waiting for GitHub…";
    status.replaceChildren();
    try {
      const r = await api.startLogin();
      loginId = r.login_id;
      cancel.hidden = false;
      deadline = Date.now() + SIGN_IN_WAIT_MS;
      browserError = await openExternal(r.auth_url);
      replace(
        status,
        h("p", null, "A browser tab opened for GitHub sign-in. If it did not, open this address: "),
        h("a", { href: r.auth_url, target: "_blank", rel: "noopener noreferrer", class: "mono break" }, r.auth_url),
      );
      timer = window.setTimeout(() => void poll(), 2000);
    } catch (e) {
      stop();
      replace(status, errorBox(e, "Cannot start sign-in"));
    }
  });
  cancel.addEventListener("click", async () => {
    stop();
    try {
      if (loginId) await api.cancelLogin(loginId);
      replace(status, h("span", { class: "muted" }, "Sign-in cancelled."));
    } catch (e) {
      replace(status, errorBox(e, "Cancel failed"));
    }
  });
  const device = h("button", { type: "button", class: "btn", "data-action": "device-login" }, "Use a device code instead");
  device.addEventListener("click", async () => {
    window.clearTimeout(timer);
    device.disabled = true;
    status.replaceChildren();
    try {
      const r = await api.startDeviceLogin();
      loginId = r.login_id;
      browserError = "";
      deadline = Math.max(Date.now() + SIGN_IN_WAIT_MS, Date.parse(r.expires_at) || 0);
      cancel.hidden = false;
      replace(
        status,
        h("p", null, "Open ", /^https?:\/\//i.test(r.verification_uri)
          ? h("a", { href: r.verification_uri, target: "_blank", rel: "noopener noreferrer", class: "mono" }, r.verification_uri)
          : h("span", { class: "mono" }, r.verification_uri), " on any device and enter this code:"),
        h("p", { class: "device-code mono", "aria-label": "Device code" }, r.user_code),
      );
      timer = window.setTimeout(() => void poll(), Math.max(2, r.interval || 5) * 1000);
    } catch (e) {
      replace(status, errorBox(e, "Cannot start device sign-in"));
    } finally {
      device.disabled = false;
    }
  });
  return h("div", { class: "login-widget" }, h("div", { class: "actions" }, btn, device, cancel), status);
}

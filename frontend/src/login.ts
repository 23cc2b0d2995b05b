// GitHub sign-in through the registry: POST /api/auth/login, open auth_url in the system browser,
// poll GET /api/auth/login/{id} until done/failed/expired; cancel with DELETE.

import * as api from "./api";
import { openExternal } from "./desktop";
import { h, replace } from "./dom";
import { errorBox } from "./ui";

export function loginWidget(onDone: () => void): HTMLElement {
  const status = h("div", { class: "login-status", role: "status", "aria-live": "polite" });
  const btn = h("button", { type: "button", class: "btn btn-primary", "data-action": "sign-in" }, "Sign in with GitHub");
  const cancel = h("button", { type: "button", class: "btn", hidden: true }, "Cancel");
  let loginId = "";
  let timer: number | undefined;

  function stop(): void {
    window.clearTimeout(timer);
    btn.disabled = false;
    btn.textContent = "Sign in with GitHub";
    cancel.hidden = true;
  }

  async function poll(): Promise<void> {
    try {
      const r = await api.loginStatus(loginId);
      if (r.status === "pending") {
        timer = window.setTimeout(() => void poll(), 2000);
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
      openExternal(r.auth_url);
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

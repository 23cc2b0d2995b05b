// Profile: signed-in user, tier, namespaces grouped x.* / org.* / other, account standing; sign in / out.

import * as api from "../api";
import type { Namespace, Profile } from "../api";
import { app, type Screen } from "../app";
import { h, replace } from "../dom";
import { loginWidget } from "../login";
import { formatCountdown, formatDateTime } from "../time";
import { badge, busy, emptyState, errorBox, errorText, kv, toast } from "../ui";

const GROUPS: [Namespace["kind"], string][] = [
  ["x", "x.* — Community"],
  ["org", "org.* — Organizations"],
  ["other", "Other"],
];

export function groupNamespaces(list: Namespace[]): Map<string, Namespace[]> {
  const m = new Map<string, Namespace[]>(GROUPS.map(([k]) => [k, []]));
  for (const n of list) {
    const kind = n.kind || (n.prefix.startsWith("x.") ? "x" : n.prefix.startsWith("org.") ? "org" : "other");
    (m.get(kind) ?? m.get("other")!).push(n);
  }
  return m;
}

export function createProfileScreen(): Screen {
  let root: HTMLElement;
  let profile: Profile | null = null;
  let error: unknown = null;
  let off: () => void = () => {};
  let tick: number | undefined;

  async function load(): Promise<void> {
    try {
      profile = await api.getProfile();
      error = null;
    } catch (e) {
      error = e;
    }
    render();
  }

  function render(): void {
    const p = profile;
    const head = h("div", { class: "screen-head" }, h("h1", null, "My Profile"), h("div", { class: "actions" }, h("button", { type: "button", class: "btn", onclick: () => void load() }, "Refresh")));
    if (error) {
      replace(root, head, errorBox(error, "Could not load the profile"));
      return;
    }
    if (!p) {
      replace(root, head, h("p", { class: "muted" }, "Loading…"));
      return;
    }
    if (!p.logged_in) {
      replace(
        root,
        head,
        h(
          "section",
          { class: "panel" },
          h("h2", null, "Not signed in"),
          h("p", null, "Sign in with GitHub through the registry to see your namespaces and tier and to take the Hall online."),
          loginWidget(() => {
            void load();
            void app.refreshStatus();
          }),
        ),
      );
      return;
    }
    const signOut = h("button", { type: "button", class: "btn btn-danger", "data-action": "sign-out" }, "Sign out");
    signOut.addEventListener("click", () =>
      busy(signOut, "Signing out…", async () => {
        try {
          await api.logout();
          toast("Signed out", "ok");
        } catch (e) {
          toast(`Sign out failed: ${errorText(e)}`, "error");
        }
        await load();
        void app.refreshStatus();
      }),
    );
    const st = p.standing;
    const groups = groupNamespaces(p.namespaces ?? []);
    replace(
      root,
      head,
      h(
        "section",
        { class: "panel profile-card" },
        p.avatar_url ? h("img", { src: p.avatar_url, alt: "", class: "avatar", width: "56", height: "56", referrerpolicy: "no-referrer" }) : h("div", { class: "avatar placeholder", "aria-hidden": "true" }, (p.github_login || "?").slice(0, 1).toUpperCase()),
        h("div", null, h("h2", null, "@" + p.github_login), badge((p.tier || "free").toUpperCase(), `tier-${(p.tier || "free").toLowerCase()}`), h("p", { class: "muted small" }, "Signed in with GitHub via the registry")),
        h("div", { class: "actions" }, signOut),
      ),
      h(
        "section",
        { class: "panel" },
        h("h2", null, "Account standing"),
        st
          ? kv([
              ["Standing", badge((st.standing || "unknown").toUpperCase(), st.standing === "ok" ? "ok" : st.standing === "grace" ? "warn" : "bad")],
              [
                "Grace remaining",
                st.grace_seconds_remaining !== null && st.grace_seconds_remaining !== undefined
                  ? h("span", { class: "grace-countdown", "data-grace-until": String(Date.now() + st.grace_seconds_remaining * 1000) }, formatCountdown(st.grace_seconds_remaining))
                  : "—",
              ],
              ["Checked", formatDateTime(st.checked_at)],
              ["Age", st.age_seconds !== null && st.age_seconds !== undefined ? `${Math.round(st.age_seconds)} s` : "—"],
              ["Error", st.error || "—"],
            ])
          : emptyState("Standing not checked yet."),
      ),
      h(
        "section",
        { class: "panel" },
        h("h2", null, `Namespaces (${(p.namespaces ?? []).length})`),
        (p.namespaces ?? []).length === 0
          ? emptyState("No namespaces yet.", "Register your first namespace in the registry.")
          : GROUPS.map(([k, title]) => {
              const list = groups.get(k) ?? [];
              if (list.length === 0) return null;
              return h(
                "div",
                { class: "ns-group" },
                h("h3", null, title),
                h(
                  "table",
                  { class: "grid" },
                  h("thead", null, h("tr", null, h("th", { scope: "col" }, "Namespace"), h("th", { scope: "col" }, "Workers"), h("th", { scope: "col" }, "Visibility"))),
                  h(
                    "tbody",
                    null,
                    list.map((n) => h("tr", null, h("td", { class: "mono" }, n.prefix), h("td", null, n.worker_count === null || n.worker_count === undefined ? "—" : String(n.worker_count)), h("td", null, n.public ? "public" : "private"))),
                  ),
                ),
              );
            }),
      ),
    );
  }

  return {
    id: "profile",
    title: "My Profile",
    mount(el) {
      root = el;
      render();
      void load();
      off = app.on((ev) => {
        if (ev.type === "auth.changed" || ev.type === "standing.changed") void load();
      });
      // the grace countdown ticks between standing checks
      tick = window.setInterval(() => {
        const c = root.querySelector<HTMLElement>(".grace-countdown[data-grace-until]");
        if (c) c.textContent = formatCountdown(Math.max(0, (Number(c.dataset.graceUntil) - Date.now()) / 1000));
      }, 1000);
    },
    unmount() {
      off();
      window.clearInterval(tick);
    },
  };
}

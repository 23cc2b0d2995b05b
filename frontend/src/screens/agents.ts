// Settings › Agents: the person's list of agents, each with its own token (GET/POST /api/agents,
// rotate, revoke). A new or rotated token is shown once, in a read-only field with a Copy button: the
// Hall keeps only its hash. Agents route, run and coordinate with their token; only the person governs.

import * as api from "../api";
import type { AgentAccount } from "../api";
import { copyText, h, replace } from "../dom";
import { formatDateTime } from "../time";
import { badge, busy, confirmDialog, emptyState, errorBox, errorText, showFieldError, toast } from "../ui";

/** AGENT_NAME is the server's rule for a name: 1 to 64 letters, digits, dots, underscores and hyphens. */
const AGENT_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** agentNameProblem checks a new agent's name before it is sent (the server checks it again). */
export function agentNameProblem(name: string): string | null {
  if (!name) return "Name is required.";
  if (name.length > 64) return "Name must be at most 64 characters.";
  if (!AGENT_NAME.test(name)) return "Name may contain only letters, digits, '.', '_' and '-'.";
  return null;
}

/** tokenOnce is the one-time view of a token: read-only field, Copy, and the warning that it is not shown again. */
export function tokenOnce(name: string, token: string, what: "created" | "rotated"): HTMLElement {
  const field = h("input", { type: "text", readonly: true, class: "mono token-value", value: token, "aria-label": `Token of agent ${name}`, "data-field": "agent-token" });
  const copy = h("button", { type: "button", class: "btn", "data-action": "copy-agent-token" }, "Copy");
  copy.addEventListener("click", async () => {
    const ok = await copyText(token);
    toast(ok ? "Token copied" : "Copy failed: select the field and copy", ok ? "ok" : "error");
  });
  const box = h(
    "div",
    { class: "agent-token-once", role: "status", "data-agent": name },
    h("p", null, h("strong", null, what === "created" ? `Agent ${name} created.` : `Agent ${name} has a new token; the old one no longer works.`), " Its token:"),
    h("div", { class: "token-row" }, field, copy),
    h("p", { class: "warn-text" }, "Copy it now: it is not shown again. The agent sends it as Authorization: Bearer <token>."),
    h("div", { class: "actions" }, h("button", { type: "button", class: "btn btn-small", "data-action": "dismiss-agent-token", onclick: () => box.remove() }, "Done")),
  );
  queueMicrotask(() => field.select());
  return box;
}

/** agentFilter is the Agent filter (an exact name, as the server matches it), offering the agents' names. */
export function agentFilter(): HTMLElement {
  const names = h("datalist", { id: "feed-agent-names" });
  void api.listAgents().then(
    (r) => replace(names, r.agents.map((a) => h("option", { value: a.name }))),
    () => {}, // the names are a convenience: typing one works without them
  );
  return h("label", { class: "filter" }, h("span", null, "Agent"), h("input", { type: "search", name: "agent", placeholder: "agent name", autocomplete: "off", list: "feed-agent-names" }), names);
}

/** agentsSection is the Agents panel of Settings; reload() re-reads the list. */
export function agentsSection(): { el: HTMLElement; reload: () => Promise<void> } {
  let agents: AgentAccount[] | null = null;
  let loadError: unknown = null;
  const list = h("div", { class: "agents-list", "aria-live": "polite" });
  const once = h("div", { class: "agent-token-slot" });

  function state(a: AgentAccount): HTMLElement {
    return a.revoked_at ? badge("REVOKED", "bad", `Revoked ${formatDateTime(a.revoked_at)}${a.revoked_by ? " by " + a.revoked_by : ""}`) : badge("ACTIVE", "ok");
  }

  function actions(a: AgentAccount): HTMLElement | string {
    if (a.revoked_at) return h("span", { class: "muted small" }, "revoked ", formatDateTime(a.revoked_at), a.revoked_by ? ` by ${a.revoked_by}` : "");
    const rotate = h("button", { type: "button", class: "btn btn-small", "data-action": "agent-rotate", "data-id": a.agent_id }, "Rotate");
    const revoke = h("button", { type: "button", class: "btn btn-small btn-danger", "data-action": "agent-revoke", "data-id": a.agent_id }, "Revoke");
    rotate.addEventListener("click", async () => {
      if (!(await confirmDialog(`Rotate the token of agent ${a.name}? Its current token stops working at once; the agent needs the new one.`, "Rotate token"))) return;
      await busy(rotate, "Rotating…", async () => {
        try {
          const r = await api.rotateAgent(a.agent_id);
          replace(once, tokenOnce(r.agent.name, r.token, "rotated"));
          await reload();
        } catch (err) {
          toast(`Cannot rotate ${a.name}: ${errorText(err)}`, "error");
        }
      });
    });
    revoke.addEventListener("click", async () => {
      if (!(await confirmDialog(`Revoke agent ${a.name}? Its token stops working within a second, for good. Its decisions stay in the log.`, "Revoke agent"))) return;
      await busy(revoke, "Revoking…", async () => {
        try {
          await api.revokeAgent(a.agent_id);
          // a token still on show for this agent is worth nothing now
          if (once.querySelector(".agent-token-once")?.getAttribute("data-agent") === a.name) once.replaceChildren();
          toast(`Agent ${a.name} revoked`, "ok");
          await reload();
        } catch (err) {
          toast(`Cannot revoke ${a.name}: ${errorText(err)}`, "error");
        }
      });
    });
    return h("div", { class: "actions agent-actions" }, rotate, revoke);
  }

  function render(): void {
    if (loadError) return replace(list, errorBox(loadError, "Cannot list agents"));
    if (!agents) return replace(list, h("p", { class: "muted", role: "status" }, "Loading agents…"));
    if (agents.length === 0) return replace(list, emptyState("No agents yet.", "Create one below: each agent gets its own token, so its decisions carry its name and you can revoke it alone."));
    replace(
      list,
      h(
        "table",
        { class: "grid agents-table", "aria-label": "Agents" },
        h("thead", null, h("tr", null, ...["Name", "State", "Token", "Created", "Last used", ""].map((t) => h("th", { scope: "col" }, t)))),
        h(
          "tbody",
          null,
          agents.map((a) =>
            h(
              "tr",
              { "data-id": a.agent_id, "data-name": a.name, "data-state": a.revoked_at ? "revoked" : "active" },
              h("td", { class: "mono agent-name" }, a.name),
              h("td", null, state(a)),
              h("td", { class: "mono agent-hint" }, a.token_hint || "—"),
              h("td", { title: a.created_by ? `by ${a.created_by}` : null }, formatDateTime(a.created_at)),
              h("td", { class: "agent-last-used" }, a.last_used_at ? formatDateTime(a.last_used_at) : h("span", { class: "muted" }, "never")),
              h("td", null, actions(a)),
            ),
          ),
        ),
      ),
    );
  }

  async function reload(): Promise<void> {
    try {
      agents = (await api.listAgents()).agents;
      loadError = null;
    } catch (err) {
      loadError = err;
    }
    render();
  }

  const name = h("input", { id: "agent-name", name: "name", "data-field": "name", autocomplete: "off", spellcheck: "false", maxlength: "64", placeholder: "e.g. claude-code" });
  const submit = h("button", { type: "submit", class: "btn btn-primary", "data-action": "agent-create" }, "New agent");
  const formStatus = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "agent-form", "aria-label": "New agent" },
    h(
      "div",
      { class: "field" },
      h("label", { for: "agent-name" }, "Agent name"),
      h("div", { class: "token-row" }, name, submit),
      h("p", { class: "hint" }, "1 to 64 letters, digits, '.', '_' or '-'; unique among active agents. It names the agent's decisions in the feed."),
      h("p", { class: "field-error", "data-error-for": "name" }),
    ),
    formStatus,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    formStatus.replaceChildren();
    const value = name.value.trim();
    const problem = agentNameProblem(value);
    if (problem) {
      showFieldError(form, new api.ApiError(0, "invalid_field", problem, "name"));
      return;
    }
    void busy(submit, "Creating…", async () => {
      try {
        const r = await api.createAgent(value);
        showFieldError(form, null);
        name.value = "";
        replace(once, tokenOnce(r.agent.name, r.token, "created"));
        await reload();
      } catch (err) {
        if (!showFieldError(form, err)) formStatus.appendChild(errorBox(err, "Agent not created"));
      }
    });
  });

  const el = h(
    "section",
    { class: "panel", id: "agents", "aria-labelledby": "agents-title", "data-testid": "agents" },
    h("h2", { id: "agents-title" }, "Agents"),
    h(
      "p",
      { class: "muted small" },
      "Each AI agent, SDK or MCP client gets its own token. Agents may ask, run what the Hall decided for them, read their own decisions and coordinate; approvals, rules, enrollment and settings stay with you. The Hall keeps only a hash of each token.",
    ),
    list,
    once,
    form,
  );
  render();
  return { el, reload };
}

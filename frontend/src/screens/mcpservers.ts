// Settings → Connected MCPs: the MCP servers the Hall connects to (GET/POST /api/mcp/servers,
// DELETE /api/mcp/servers/{id}, POST /api/mcp/servers/{id}/ping). Each server's tool calls are
// governed as capability cap.mcp.<name>, shown per row so a rule can be written for it.

import * as api from "../api";
import type { HallEvent, McpServer, McpServerInput } from "../api";
import { h, replace } from "../dom";
import { formatDateTime } from "../time";
import { busy, errorText, showFieldError } from "../ui";

export const MCP_EVENTS = ["mcp.server.added", "mcp.server.pinged", "mcp.server.removed"];

/** validateMcpForm checks the add form as the reference does; the error names the field. */
export function validateMcpForm(v: McpServerInput): api.ApiError | null {
  if (!v.name.trim()) return new api.ApiError(0, "missing_field", "Name is required.", "name");
  if (v.transport === "http" && !(v.url || "").trim()) return new api.ApiError(0, "missing_field", "URL is required for HTTP transport.", "url");
  if (v.transport === "stdio" && !(v.command || "").trim()) return new api.ApiError(0, "missing_field", "Command is required for stdio transport.", "command");
  return null;
}

function dotClass(status: string): string {
  if (status === "online") return "dot dot-ok";
  if (status === "offline") return "dot dot-bad";
  return "dot";
}

/** mcpSection is the Connected MCPs panel; reload() re-reads the list, onEvent() follows live events. */
export function mcpSection(): { el: HTMLElement; reload: () => Promise<void>; onEvent: (ev: HallEvent) => void } {
  let servers: McpServer[] | null = null;
  let loadError: unknown = null;
  const transient = new Map<string, string>(); // server id -> ping result shown for 3 s
  const confirming = new Set<string>(); // server ids whose Remove asks "Sure?"
  const failures = new Map<string, string>(); // server id -> "Remove failed: …"
  const list = h("div", { class: "mcp-list", "aria-live": "polite" });
  let focusAfter: [string, string] | null = null; // [data-action, server id] to focus after the next redraw

  function row(s: McpServer): HTMLElement {
    const ping = h("button", { type: "button", class: "btn btn-small", "data-action": "mcp-ping", "data-id": s.id }, "Ping");
    ping.addEventListener("click", () => {
      transient.set(s.id, "pinging...");
      render();
      void api
        .pingMcpServer(s.id)
        .then((r) => {
          transient.set(s.id, r.status);
          servers = (servers || []).map((x) => (x.id === s.id ? r.server : x));
        })
        .catch((e) => transient.set(s.id, `error: ${errorText(e)}`))
        .finally(() => {
          render();
          setTimeout(() => {
            transient.delete(s.id);
            render();
          }, 3000);
        });
    });
    const actions = h("div", { class: "actions mcp-actions" }, ping);
    if (confirming.has(s.id)) {
      const yes = h("button", { type: "button", class: "btn btn-small btn-danger", "data-action": "mcp-remove-confirm", "data-id": s.id }, "Sure?");
      const no = h("button", { type: "button", class: "btn btn-small", "data-action": "mcp-remove-cancel", "data-id": s.id }, "No");
      yes.addEventListener("click", () => {
        void busy(yes, "Removing…", async () => {
          try {
            await api.removeMcpServer(s.id);
            confirming.delete(s.id);
            servers = (servers || []).filter((x) => x.id !== s.id);
          } catch (e) {
            confirming.delete(s.id);
            failures.set(s.id, `Remove failed: ${errorText(e)}`);
          }
        }).then(render);
      });
      no.addEventListener("click", () => {
        confirming.delete(s.id);
        focusAfter = ["mcp-remove", s.id];
        render();
      });
      actions.append(yes, no);
    } else {
      const remove = h("button", { type: "button", class: "btn btn-small", "data-action": "mcp-remove", "data-id": s.id }, "Remove");
      remove.addEventListener("click", () => {
        confirming.add(s.id);
        failures.delete(s.id);
        focusAfter = ["mcp-remove-confirm", s.id];
        render();
      });
      actions.append(remove);
    }
    const where = s.transport === "http" ? s.url : s.argv.join(" ");
    return h(
      "li",
      { class: "mcp-row", "data-id": s.id, "data-name": s.name, "data-status": s.status },
      h(
        "div",
        { class: "mcp-main" },
        h("span", { class: dotClass(s.status), title: s.status, role: "img", "aria-label": `status ${s.status}` }),
        " ",
        h("strong", { class: "mcp-name" }, s.name || s.id),
        " ",
        h("span", { class: "badge" }, s.transport.toUpperCase()),
        " ",
        h("span", { class: "mcp-tools" }, `${s.tool_count} tools`),
        transient.has(s.id) ? h("span", { class: "mcp-ping-result muted", role: "status" }, " ", transient.get(s.id)) : null,
      ),
      h("p", { class: "muted small mono mcp-where" }, where),
      h("p", { class: "small" }, "Rule capability: ", h("code", { class: "mcp-cap" }, s.capability_id), " (worker ", h("code", null, s.worker_species_id), ")"),
      s.last_error ? h("p", { class: "small mcp-error" }, "Last error: ", s.last_error) : null,
      s.last_ping_at ? h("p", { class: "muted small" }, `Last ping ${formatDateTime(s.last_ping_at)}`) : null,
      failures.has(s.id) ? h("p", { class: "field-error mcp-remove-failed", role: "alert" }, failures.get(s.id)) : null,
      actions,
    );
  }

  function render(): void {
    // keep keyboard focus on the same button across a redraw (live events redraw the list)
    const active = document.activeElement as HTMLElement | null;
    const focusKey = focusAfter ?? (active && list.contains(active) ? [active.dataset.action, active.dataset.id] : null);
    focusAfter = null;
    if (loadError) replace(list, h("p", { class: "error-box", role: "alert" }, `Could not load MCP servers: ${errorText(loadError)}`));
    else if (!servers) replace(list, h("p", { class: "muted", role: "status" }, "Loading MCP servers…"));
    else if (servers.length === 0) replace(list, h("p", { class: "muted mcp-empty" }, "No MCP servers registered."));
    else replace(list, h("ul", { class: "mcp-rows" }, servers.map(row)));
    if (focusKey) {
      const again = Array.from(list.querySelectorAll<HTMLElement>("button")).find((b) => b.dataset.action === focusKey[0] && b.dataset.id === focusKey[1]);
      again?.focus();
    }
  }

  async function reload(): Promise<void> {
    try {
      servers = (await api.listMcpServers()).servers;
      loadError = null;
    } catch (e) {
      loadError = e;
    }
    render();
  }

  // the add form
  const field = (id: string, label: string, control: HTMLElement, hint?: string) =>
    h("div", { class: "field" }, h("label", { for: id }, label), control, hint ? h("p", { class: "hint" }, hint) : null, h("p", { class: "field-error", "data-error-for": control.dataset.field || "" }));
  const name = h("input", { id: "mcp-name", name: "name", "data-field": "name", autocomplete: "off", "aria-required": "true", placeholder: "github-tools" });
  const transport = h("select", { id: "mcp-transport", name: "transport", "data-field": "transport" }, h("option", { value: "http" }, "HTTP"), h("option", { value: "stdio" }, "stdio"));
  const urlIn = h("input", { id: "mcp-url", name: "url", "data-field": "url", autocomplete: "off", class: "mono", placeholder: "http://localhost:3001/mcp" });
  const cmdIn = h("input", { id: "mcp-command", name: "command", "data-field": "command", autocomplete: "off", class: "mono", placeholder: "npx my-mcp-server" });
  const urlField = field("mcp-url", "URL", urlIn);
  const cmdField = field("mcp-command", "Command", cmdIn, "Run without a shell: the program and its arguments (quotes keep spaces); no pipes or redirections.");
  const showTransport = () => {
    urlField.hidden = transport.value !== "http";
    cmdField.hidden = transport.value !== "stdio";
  };
  transport.addEventListener("change", showTransport);
  const addStatus = h("div", { "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "btn btn-primary", "data-action": "mcp-add-submit" }, "Add server");
  const form = h(
    "form",
    { class: "mcp-form", "aria-label": "Add MCP server", hidden: true },
    field("mcp-name", "Name *", name, "Lowercase letters, digits and hyphens; the tool calls are governed as cap.mcp.<name>."),
    field("mcp-transport", "Transport", transport),
    urlField,
    cmdField,
    addStatus,
    h("div", { class: "actions" }, submit),
  );
  showTransport();
  const toggle = h("button", { type: "button", class: "btn", "data-action": "mcp-add", "aria-expanded": "false" }, "+ Add MCP Server");
  toggle.addEventListener("click", () => {
    form.hidden = !form.hidden;
    toggle.setAttribute("aria-expanded", String(!form.hidden));
    if (!form.hidden) name.focus();
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const v: McpServerInput = { name: name.value.trim(), transport: transport.value as McpServerInput["transport"] };
    if (v.transport === "http") v.url = urlIn.value.trim();
    else v.command = cmdIn.value.trim();
    addStatus.replaceChildren();
    const invalid = validateMcpForm(v);
    if (invalid) {
      showFieldError(form, invalid);
      return;
    }
    showFieldError(form, null);
    void busy(submit, "Adding...", async () => {
      try {
        const r = await api.addMcpServer(v);
        servers = [...(servers || []).filter((x) => x.id !== r.server.id), r.server].sort((a, b) => a.name.localeCompare(b.name));
        form.reset();
        showTransport();
        form.hidden = true;
        toggle.setAttribute("aria-expanded", "false");
        render();
        toggle.focus();
      } catch (err) {
        showFieldError(form, err);
        addStatus.appendChild(h("p", { class: "error-box", role: "alert" }, `Add failed: ${errorText(err)}`));
      }
    });
  });

  const el = h(
    "section",
    { class: "panel", "aria-labelledby": "mcp-title" },
    h("h2", { id: "mcp-title" }, "Connected MCPs"),
    h("p", null, "Connect your own MCP servers. Hall governs all tool calls from connected servers."),
    h(
      "p",
      { class: "hint" },
      h("code", null, "hallmonitor mcp"),
      " offers each tool as ",
      h("code", null, "<server>__<tool>"),
      "; every call is decided by the routing rules first. Without a rule for the server's capability the call is refused and never reaches the server.",
    ),
    list,
    toggle,
    form,
  );
  render();
  return {
    el,
    reload,
    onEvent(ev) {
      if (MCP_EVENTS.includes(ev.type)) void reload();
    },
  };
}

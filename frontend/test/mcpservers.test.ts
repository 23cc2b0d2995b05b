import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import * as api from "../src/api";
import { mcpSection, validateMcpForm } from "../src/screens/mcpservers";

const flush = () => new Promise((r) => setTimeout(r, 20));

function respond(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

describe("validateMcpForm", () => {
  it("names the missing field with the reference's messages", () => {
    expect(validateMcpForm({ name: "  ", transport: "http", url: "http://x/mcp" })).toMatchObject({ field: "name", message: "Name is required." });
    expect(validateMcpForm({ name: "a", transport: "http", url: " " })).toMatchObject({ field: "url", message: "URL is required for HTTP transport." });
    expect(validateMcpForm({ name: "a", transport: "stdio" })).toMatchObject({ field: "command", message: "Command is required for stdio transport." });
    expect(validateMcpForm({ name: "a", transport: "http", url: "http://localhost:3001/mcp" })).toBeNull();
    expect(validateMcpForm({ name: "a", transport: "stdio", command: "npx my-mcp-server" })).toBeNull();
  });
});

describe("Connected MCPs section", () => {
  let calls: { method: string; url: string; body: string | undefined }[];
  let replies: Response[];
  beforeEach(() => {
    api.configure({ base: "", token: "t" });
    calls = [];
    replies = [];
    vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
      calls.push({ method: init.method || "GET", url, body: init.body as string | undefined });
      return replies.shift() ?? respond(500, {});
    });
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    document.body.replaceChildren();
  });

  it("refuses an empty URL without calling the API and shows the field error", async () => {
    replies.push(respond(200, { servers: [] }));
    const s = mcpSection();
    document.body.appendChild(s.el);
    await s.reload();
    expect(s.el.textContent).toContain("No MCP servers registered.");
    s.el.querySelector<HTMLButtonElement>('[data-action="mcp-add"]')!.click();
    s.el.querySelector<HTMLInputElement>("#mcp-name")!.value = "tools";
    s.el.querySelector<HTMLFormElement>("form")!.requestSubmit();
    await flush();
    expect(calls.length).toBe(1); // only the list
    expect(s.el.querySelector('[data-error-for="url"]')!.textContent).toBe("URL is required for HTTP transport.");
    expect(s.el.querySelector("#mcp-url")!.getAttribute("aria-invalid")).toBe("true");
  });

  it("shows server data as text, never as markup", async () => {
    const evil = "<img src=x onerror=alert(1)>";
    replies.push(
      respond(200, {
        servers: [{ id: "mcp_1", name: "tools", transport: "http", url: evil, argv: [], status: "error", tool_count: 0, tools: [], last_ping_at: "", last_error: evil, created_at: "", capability_id: "cap.mcp.tools", worker_species_id: "wrk.mcp.tools" }],
      }),
    );
    const s = mcpSection();
    await s.reload();
    expect(s.el.querySelector("img")).toBeNull();
    expect(s.el.querySelector(".mcp-error")!.textContent).toContain(evil);
    expect(s.el.querySelector(".mcp-cap")!.textContent).toBe("cap.mcp.tools");
  });

  it("asks Sure?/No before removing, keeps keyboard focus on the choice, and removes the row", async () => {
    const srv = { id: "mcp_1", name: "tools", transport: "stdio", url: "", argv: ["npx", "tools"], status: "online", tool_count: 3, tools: [], last_ping_at: "", last_error: "", created_at: "", capability_id: "cap.mcp.tools", worker_species_id: "wrk.mcp.tools" };
    replies.push(respond(200, { servers: [srv] }));
    const s = mcpSection();
    document.body.appendChild(s.el);
    await s.reload();
    expect(s.el.querySelector(".mcp-tools")!.textContent).toBe("3 tools");
    expect(s.el.querySelector(".badge")!.textContent).toBe("STDIO");
    s.el.querySelector<HTMLButtonElement>('[data-action="mcp-remove"]')!.click();
    expect(document.activeElement?.textContent).toBe("Sure?");
    s.el.querySelector<HTMLButtonElement>('[data-action="mcp-remove-cancel"]')!.click();
    expect(document.activeElement?.textContent).toBe("Remove");
    expect(calls.length).toBe(1);
    s.el.querySelector<HTMLButtonElement>('[data-action="mcp-remove"]')!.click();
    replies.push(respond(200, { removed: true }));
    s.el.querySelector<HTMLButtonElement>('[data-action="mcp-remove-confirm"]')!.click();
    await flush();
    expect(calls[1]).toMatchObject({ method: "DELETE", url: "/api/mcp/servers/mcp_1" });
    expect(s.el.textContent).toContain("No MCP servers registered.");
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import * as api from "../src/api";
import { agentFilter, agentNameProblem, agentsSection } from "../src/screens/agents";
import { matches } from "../src/filters";

const flush = () => new Promise((r) => setTimeout(r, 20));

function respond(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

const agent = (over: Partial<api.AgentAccount> = {}): api.AgentAccount => ({
  agent_id: "agt_1",
  name: "claude-code",
  token_hint: "hma_…abcd",
  created_at: "2026-12-04T10:00:00Z",
  created_by: "alice",
  last_used_at: null,
  revoked_at: null,
  ...over,
});

describe("agentNameProblem", () => {
  it.each([
    ["", "Name is required."],
    ["a".repeat(65), "Name must be at most 64 characters."],
    ["has space", "Name may contain only letters, digits, '.', '_' and '-'."],
    ["émile", "Name may contain only letters, digits, '.', '_' and '-'."],
    ["ci.bot_2-x", null],
    ["a".repeat(64), null],
  ])("%j -> %j", (name, want) => expect(agentNameProblem(name)).toBe(want));
});

describe("Settings › Agents", () => {
  let calls: { method: string; url: string; body: string | undefined }[];
  let replies: Response[];
  beforeEach(() => {
    api.configure({ base: "", token: "hms_x" });
    calls = [];
    replies = [];
    vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
      calls.push({ method: init.method || "GET", url, body: init.body as string | undefined });
      return replies.shift() ?? respond(500, { error: { code: "internal", message: "no reply queued" } });
    });
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    document.body.replaceChildren();
  });

  async function mounted(list: api.AgentAccount[]) {
    replies.push(respond(200, { agents: list }));
    const s = agentsSection();
    document.body.appendChild(s.el);
    await s.reload();
    return s;
  }

  /** answer the confirm dialog confirmDialog opened */
  function confirm(yes: boolean) {
    const dlg = document.querySelector("dialog.confirm")!;
    dlg.querySelector<HTMLButtonElement>(yes ? ".btn-danger" : ".btn:not(.btn-danger)")!.click();
  }

  it("lists agents with state, token hint, created and last used; server text stays text", async () => {
    const evil = "<img src=x onerror=alert(1)>";
    const s = await mounted([
      agent({ last_used_at: "2026-12-04T11:00:00Z" }),
      agent({ agent_id: "agt_2", name: evil, token_hint: evil, revoked_at: "2026-12-04T12:00:00Z", revoked_by: "alice" }),
    ]);
    const rows = s.el.querySelectorAll("tbody tr");
    expect(rows).toHaveLength(2);
    expect(rows[0].getAttribute("data-state")).toBe("active");
    expect(rows[0].textContent).toContain("hma_…abcd");
    expect(rows[0].querySelector(".agent-last-used")!.textContent).not.toBe("never");
    expect(rows[0].querySelector('[data-action="agent-rotate"]')).not.toBeNull();
    expect(rows[1].getAttribute("data-state")).toBe("revoked");
    expect(rows[1].textContent).toContain("REVOKED");
    expect(rows[1].querySelector('[data-action="agent-revoke"]')).toBeNull();
    expect(s.el.querySelector("img")).toBeNull();
    expect(rows[1].querySelector(".agent-name")!.textContent).toBe(evil);
  });

  it("says so when there are no agents, and shows a failed load", async () => {
    const s = await mounted([]);
    expect(s.el.textContent).toContain("No agents yet.");
    replies.push(respond(403, { error: { code: "forbidden_scope", message: "needs the person's scope (agents)" } }));
    await s.reload();
    expect(s.el.querySelector(".error-box")!.textContent).toContain("needs the person's scope (agents)");
  });

  it("refuses a bad name next to the field without calling the API", async () => {
    const s = await mounted([]);
    s.el.querySelector<HTMLInputElement>("#agent-name")!.value = "two words";
    s.el.querySelector<HTMLFormElement>("form.agent-form")!.requestSubmit();
    await flush();
    expect(calls).toHaveLength(1);
    expect(s.el.querySelector('[data-error-for="name"]')!.textContent).toContain("only letters, digits");
    expect(s.el.querySelector("#agent-name")!.getAttribute("aria-invalid")).toBe("true");
  });

  it("shows the server's conflict on the name field", async () => {
    const s = await mounted([agent()]);
    replies.push(respond(409, { error: { code: "conflict", message: "an active agent is named claude-code", field: "name" } }));
    s.el.querySelector<HTMLInputElement>("#agent-name")!.value = "claude-code";
    s.el.querySelector<HTMLFormElement>("form.agent-form")!.requestSubmit();
    await flush();
    expect(calls[1]).toMatchObject({ method: "POST", url: "/api/agents", body: JSON.stringify({ name: "claude-code" }) });
    expect(s.el.querySelector('[data-error-for="name"]')!.textContent).toBe("an active agent is named claude-code");
    expect(s.el.querySelector(".agent-token-once")).toBeNull();
  });

  it("creates an agent and shows its token once, read-only, with Copy and the warning", async () => {
    const s = await mounted([]);
    replies.push(respond(201, { agent: agent({ name: "ci" }), token: "hma_secret_once" }), respond(200, { agents: [agent({ name: "ci" })] }));
    s.el.querySelector<HTMLInputElement>("#agent-name")!.value = " ci ";
    s.el.querySelector<HTMLFormElement>("form.agent-form")!.requestSubmit();
    await flush();
    const field = s.el.querySelector<HTMLInputElement>(".agent-token-once input.token-value")!;
    expect(field.value).toBe("hma_secret_once");
    expect(field.readOnly).toBe(true);
    expect(s.el.querySelector('[data-action="copy-agent-token"]')).not.toBeNull();
    expect(s.el.querySelector(".agent-token-once")!.textContent).toContain("Copy it now: it is not shown again");
    expect(s.el.querySelector<HTMLInputElement>("#agent-name")!.value).toBe("");
    expect(s.el.querySelector('tbody tr[data-name="ci"]')).not.toBeNull();
    expect(s.el.querySelector("table")!.textContent).not.toContain("hma_secret_once");
    s.el.querySelector<HTMLButtonElement>('[data-action="dismiss-agent-token"]')!.click();
    expect(s.el.querySelector("input.token-value")).toBeNull();
  });

  it("rotates only after confirmation and shows the new token once", async () => {
    const s = await mounted([agent()]);
    s.el.querySelector<HTMLButtonElement>('[data-action="agent-rotate"]')!.click();
    await flush();
    confirm(false);
    await flush();
    expect(calls).toHaveLength(1);
    replies.push(respond(200, { agent: agent({ token_hint: "hma_…wxyz" }), token: "hma_rotated" }), respond(200, { agents: [agent({ token_hint: "hma_…wxyz" })] }));
    s.el.querySelector<HTMLButtonElement>('[data-action="agent-rotate"]')!.click();
    await flush();
    confirm(true);
    await flush();
    expect(calls[1]).toMatchObject({ method: "POST", url: "/api/agents/agt_1/rotate", body: undefined });
    expect(s.el.querySelector<HTMLInputElement>(".agent-token-once input")!.value).toBe("hma_rotated");
    expect(s.el.querySelector(".agent-token-once")!.textContent).toContain("the old one no longer works");
    expect(s.el.querySelector("tbody")!.textContent).toContain("hma_…wxyz");
  });

  it("revoking the agent whose token is on show takes the token away", async () => {
    const s = await mounted([agent()]);
    replies.push(respond(200, { agent: agent(), token: "hma_rotated" }), respond(200, { agents: [agent()] }));
    s.el.querySelector<HTMLButtonElement>('[data-action="agent-rotate"]')!.click();
    await flush();
    confirm(true);
    await flush();
    expect(s.el.querySelector<HTMLInputElement>(".agent-token-once input")!.value).toBe("hma_rotated");
    const revoked = agent({ revoked_at: "2026-12-04T12:00:00Z" });
    replies.push(respond(200, { agent: revoked }), respond(200, { agents: [revoked] }));
    s.el.querySelector<HTMLButtonElement>('[data-action="agent-revoke"]')!.click();
    await flush();
    confirm(true);
    await flush();
    expect(s.el.querySelector(".agent-token-once")).toBeNull();
    expect(s.el.querySelector<HTMLInputElement>("input.token-value")).toBeNull();
  });

  it("revokes after confirmation and shows the agent as revoked", async () => {
    const s = await mounted([agent()]);
    const revoked = agent({ revoked_at: "2026-12-04T12:00:00Z" });
    replies.push(respond(200, { agent: revoked }), respond(200, { agents: [revoked] }));
    s.el.querySelector<HTMLButtonElement>('[data-action="agent-revoke"]')!.click();
    await flush();
    expect(document.querySelector("dialog.confirm")!.textContent).toContain("Revoke agent claude-code?");
    confirm(true);
    await flush();
    expect(calls[1]).toMatchObject({ method: "DELETE", url: "/api/agents/agt_1" });
    expect(s.el.querySelector("tbody tr")!.getAttribute("data-state")).toBe("revoked");
    expect(s.el.querySelector("tbody tr")!.textContent).toContain("revoked ");
  });

  it("the feed's agent filter offers the agents' names and matches a name exactly", async () => {
    replies.push(respond(200, { agents: [agent({ name: "ci" }), agent({ agent_id: "agt_2", name: "claude-code" })] }));
    const el = agentFilter();
    await flush();
    expect(Array.from(el.querySelectorAll("option")).map((o) => o.value)).toEqual(["ci", "claude-code"]);
    const d = { agent: "ci" } as api.DecisionSummary;
    expect(matches(d, { agent: "ci" })).toBe(true);
    expect(matches(d, { agent: "c" })).toBe(false);
    expect(matches({} as api.DecisionSummary, { agent: "ci" })).toBe(false);
  });
});

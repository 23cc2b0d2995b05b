import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import * as api from "../src/api";
import { installSignIn, showTokenScreen, signIn } from "../src/signin";

const ADMIN = "hmp_0123456789abcdef0123456789abcdef";
const AGENT = "hma_fedcba9876543210fedcba9876543210";
const SESSION = "hms_aaaabbbbccccddddeeeeffff00001111";

const flush = () => new Promise((r) => setTimeout(r, 20));

function respond(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

const forbidden = (msg: string) => respond(403, { error: { code: "forbidden_scope", message: msg, field: "" } });

/** everything the page keeps in this browser's storage, as one string */
function stored(): string {
  const all: string[] = [];
  for (const s of [sessionStorage, localStorage]) for (let i = 0; i < s.length; i++) all.push(`${s.key(i)}=${s.getItem(s.key(i)!)}`);
  return all.join("\n");
}

describe("browser session", () => {
  let calls: { method: string; url: string; auth: string; body: unknown }[];
  let answer: (method: string, url: string, auth: string) => Response;
  beforeEach(() => {
    calls = [];
    sessionStorage.clear();
    localStorage.clear();
    api.configure({ base: "", token: null });
    api.onUnauthorized(null);
    api.onForbidden(null);
    vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
      const auth = ((init.headers as Record<string, string>) ?? {}).Authorization ?? "";
      calls.push({ method: init.method || "GET", url, auth, body: init.body });
      return answer(init.method || "GET", url, auth);
    });
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    document.body.replaceChildren();
  });

  it("takes the admin credential from #token= without storing it, and loads this tab's session", () => {
    sessionStorage.setItem("hallmonitor.token", ADMIN); // where an earlier version kept it
    sessionStorage.setItem("hallmonitor.session", SESSION);
    const replaced: string[] = [];
    const loc = { hash: "#token=" + ADMIN, pathname: "/", search: "" } as Location;
    const hist = { replaceState: (_a: unknown, _b: string, u: string) => replaced.push(u) } as unknown as History;
    expect(api.takeTokenFromLocation(loc, hist)).toBe(ADMIN);
    expect(replaced).toEqual(["/"]);
    expect(api.getToken()).toBe(SESSION);
    expect(stored()).not.toContain(ADMIN);
  });

  it("without #token= returns nothing to exchange and keeps the saved session", () => {
    sessionStorage.setItem("hallmonitor.session", SESSION);
    const hist = { replaceState: () => {} } as unknown as History;
    expect(api.takeTokenFromLocation({ hash: "#/feed", pathname: "/", search: "" } as Location, hist)).toBeNull();
    expect(api.getToken()).toBe(SESSION);
  });

  it("trades the admin credential once for a session token, keeps only the session token and sends it afterwards", async () => {
    answer = (m, u) => (m === "POST" && u === "/api/session" ? respond(200, { session_token: SESSION, expires_at: "2026-12-05T00:00:00Z", person: "alice" }) : respond(200, { rules: [] }));
    const info = await api.openSession(" " + ADMIN + "\n");
    expect(info.person).toBe("alice");
    expect(calls[0]).toMatchObject({ method: "POST", url: "/api/session", auth: "Bearer " + ADMIN, body: undefined });
    expect(sessionStorage.getItem("hallmonitor.session")).toBe(SESSION);
    expect(stored()).not.toContain(ADMIN);
    await api.getRules();
    expect(calls[1].auth).toBe("Bearer " + SESSION);
  });

  it("names an agent token as one, keeps nothing and does not call the 401 or 403 handlers", async () => {
    const handled: string[] = [];
    api.onUnauthorized(() => handled.push("401"));
    api.onForbidden(() => handled.push("403"));
    answer = () => forbidden('agent "ci" may not call POST "/api/session"');
    const err = await api.openSession(AGENT).catch((e) => e);
    expect(err).toBeInstanceOf(api.ApiError);
    expect(err).toMatchObject({ status: 403, code: "forbidden_scope", field: "", message: api.AGENT_TOKEN_MESSAGE });
    expect(handled).toEqual([]);
    expect(api.getToken()).toBeNull();
    expect(stored()).toBe("");
  });

  it("the token screen says an agent token is one, then signs in with the admin credential", async () => {
    let signedIn = 0;
    answer = (_m, _u, auth) => (auth === "Bearer " + AGENT ? forbidden("agent may not") : respond(200, { session_token: SESSION, expires_at: "", person: "alice" }));
    showTokenScreen(null, () => signedIn++);
    const input = document.querySelector<HTMLInputElement>("#token-input")!;
    const form = document.querySelector<HTMLFormElement>(".token-card")!;
    input.value = AGENT;
    form.requestSubmit();
    await flush();
    expect(document.querySelector(".token-error")!.textContent).toContain(
      "That is an agent token. Paste the admin credential from <config dir>/admin-token (or open the link `hallmonitor serve` printed).",
    );
    expect(signedIn).toBe(0);
    expect(stored()).toBe("");
    input.value = ADMIN;
    form.requestSubmit();
    await flush();
    expect(signedIn).toBe(1);
    expect(document.querySelector(".token-overlay")).toBeNull();
    expect(sessionStorage.getItem("hallmonitor.session")).toBe(SESSION);
    expect(stored()).not.toContain(ADMIN);
  });

  it("a refused credential from the address bar shows the token screen with the reason", async () => {
    answer = () => respond(401, { error: { code: "unauthorized", message: "this request needs a credential", field: "" } });
    expect(await signIn("hmp_wrong", () => {})).toBe(false);
    expect(document.querySelector("#token-title")!.textContent).toBe("Paste the admin credential");
    expect(document.querySelector(".token-error")!.textContent).toContain("this request needs a credential");
    expect(api.getToken()).toBeNull();
  });

  it("a 401 (expired session, restarted Hall) forgets the session and shows the token screen once", async () => {
    let stops = 0;
    installSignIn(() => {}, () => stops++);
    api.setToken(SESSION);
    answer = () => respond(401, { error: { code: "unauthorized", message: "session expired", field: "" } });
    await expect(api.getStatus()).rejects.toThrow("session expired");
    await expect(api.listWorkers()).rejects.toThrow("session expired");
    expect(document.querySelectorAll(".token-overlay")).toHaveLength(1);
    expect(document.querySelector(".token-error")!.textContent).toContain("session expired");
    expect(sessionStorage.getItem("hallmonitor.session")).toBeNull();
    expect(stops).toBe(2);
  });

  it("403 forbidden_scope says the page needs the person's session and does not loop", async () => {
    installSignIn(() => {});
    api.setToken("hma_legacy");
    answer = () => forbidden('agent "ci" may not call GET "/api/approvals": it needs the person\'s scope (approvals)');
    await expect(api.listApprovals()).rejects.toMatchObject({ code: "forbidden_scope" });
    await expect(api.listApprovals()).rejects.toMatchObject({ code: "forbidden_scope" });
    expect(document.querySelectorAll(".token-overlay")).toHaveLength(1);
    expect(document.querySelector(".token-error")!.textContent).toContain("This page needs the person's session");
    expect(document.querySelector(".token-error")!.textContent).toContain("(approvals)");
    expect(api.getToken()).toBeNull();
    expect(calls).toHaveLength(2); // no retry on its own
  });

  it("Sign out ends the session on the server and forgets it here", async () => {
    api.setToken(SESSION);
    answer = () => respond(200, { closed: true });
    await api.closeSession();
    expect(calls[0]).toMatchObject({ method: "DELETE", url: "/api/session", auth: "Bearer " + SESSION });
    expect(api.getToken()).toBeNull();
    expect(stored()).toBe("");
  });
});

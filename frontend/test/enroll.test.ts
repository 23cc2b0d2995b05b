import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import * as api from "../src/api";
import { enrollPanel } from "../src/screens/enroll";

const flush = () => new Promise((r) => setTimeout(r, 20));

function respond(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

async function load(panel: HTMLElement, text: string): Promise<void> {
  const ta = panel.querySelector<HTMLTextAreaElement>('textarea[name="record_json"]')!;
  ta.value = text;
  ta.dispatchEvent(new Event("input"));
  await new Promise((r) => setTimeout(r, 450));
  await flush();
}

describe("enroll panel", () => {
  let replies: Response[];
  let routeReply: unknown;
  beforeEach(() => {
    api.configure({ base: "", token: "t" });
    replies = [];
    routeReply = { decision: { denied: true, deny_reason_if_denied: { code: "DENY_NO_MATCHING_RULE" } } };
    vi.stubGlobal("fetch", async (url: string) => {
      if (url.startsWith("/api/keys")) return respond(200, { keys: [] });
      if (url === "/wcp/route") return respond(200, routeReply);
      return replies.shift() ?? respond(500, {});
    });
  });
  afterEach(() => vi.unstubAllGlobals());

  it("keeps Enroll disabled for an invalid record and lists the failing fields", async () => {
    const panel = enrollPanel();
    document.body.appendChild(panel);
    replies.push(respond(200, { valid: false, record: {}, checks: [{ field: "capabilities", ok: false, warning: false, message: "No capabilities declared" }] }));
    await load(panel, '{"worker_id":"x.a.b"}');
    const btn = panel.querySelector<HTMLButtonElement>('[data-action="enroll"]')!;
    expect(btn.disabled).toBe(true);
    const li = panel.querySelector('li[data-field="capabilities"]')!;
    expect(li.className).toBe("check-bad");
    expect(li.textContent).toContain("No capabilities declared");
    panel.remove();
  });

  it("enables Enroll only when valid, then shows the success view", async () => {
    const panel = enrollPanel();
    document.body.appendChild(panel);
    replies.push(respond(200, { valid: true, record: {}, checks: [{ field: "worker_species_id", ok: true, warning: false, message: "ok" }] }));
    await load(panel, '{"worker_id":"x.a.b"}');
    const btn = panel.querySelector<HTMLButtonElement>('[data-action="enroll"]')!;
    expect(btn.disabled).toBe(false);
    replies.push(respond(201, { enrolled: true, worker: { worker_id: "x.a.b", worker_species_id: "wrk.a.b", capabilities: ["cap.a"], attestation: { state: "verified" } } }));
    routeReply = { decision: { denied: false, selected_worker_species_id: "wrk.a.b", matched_rule_id: "r" } };
    btn.click();
    await flush();
    expect(panel.querySelector('[data-testid="enroll-routed"]')?.textContent).toContain("Worker enrolled, and requests reach it");
    panel.remove();
  });

  it("says what is missing when a test route does not reach the new worker", async () => {
    const panel = enrollPanel();
    document.body.appendChild(panel);
    replies.push(respond(200, { valid: true, record: {}, checks: [] }));
    await load(panel, '{"worker_id":"x.a.b"}');
    replies.push(respond(201, { enrolled: true, worker: { worker_id: "x.a.b", worker_species_id: "wrk.a.b", capabilities: ["cap.a"], attestation: { state: "verified" } } }));
    panel.querySelector<HTMLButtonElement>('[data-action="enroll"]')!.click();
    await flush();
    const box = panel.querySelector('[data-testid="enroll-not-routed"]');
    expect(box?.textContent).toContain("no rule routes cap.a to this worker: add one on the Rules screen");
    expect(panel.querySelector('[data-testid="enroll-routed"]')).toBeNull();
    panel.remove();
  });

  it("shows a local JSON error naming the record without calling the server", async () => {
    const panel = enrollPanel();
    document.body.appendChild(panel);
    await load(panel, "{not json");
    expect(panel.querySelector(".error-box")?.textContent).toContain("not valid JSON");
    expect(panel.querySelector<HTMLButtonElement>('[data-action="enroll"]')!.disabled).toBe(true);
    panel.remove();
  });

  it("marks the package_path field when the server rejects it", async () => {
    const panel = enrollPanel();
    document.body.appendChild(panel);
    replies.push(respond(400, { error: { code: "invalid_field", message: "package_path must be an absolute directory path", field: "package_path" } }));
    await load(panel, '{"worker_id":"x.a.b"}');
    const path = panel.querySelector<HTMLInputElement>("#enroll-path")!;
    expect(path.getAttribute("aria-invalid")).toBe("true");
    expect(panel.querySelector('[data-error-for="package_path"]')?.textContent).toContain("absolute directory path");
    panel.remove();
  });
});

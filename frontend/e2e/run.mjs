// End-to-end test: the real `hallmonitor serve` binary (real SQLite in a temp dir) driven in headless
// Debian Chromium through playwright-core. Never downloads a browser.
//
//   HALLMONITOR_BIN=../build/bin/hallmonitor npm run e2e
//
// Screenshots: ../build/test-artifacts/e2e/*.png. Exits non-zero on any failure.

import { execFileSync, spawn } from "node:child_process";
import { appendFileSync, chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

import { ART, assert, BIN, CHROMIUM, CHROMIUM_ARGS, overflowProblems as harnessOverflow, startServe } from "./harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const KEEP = !!process.env.E2E_KEEP;

const results = [];
let server;
let browserCtx;
let tmp;

function log(...a) {
  console.log(...a);
}

let currentTest = "";
async function test(name, fn) {
  const t0 = Date.now();
  currentTest = name;
  try {
    await fn();
    results.push({ name, ok: true });
    log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push({ name, ok: false, err: e });
    log(`FAIL ${name}: ${e && e.stack ? e.stack.split("\n").slice(0, 4).join("\n     ") : e}`);
  }
}

// ---------------------------------------------------------------- server

/**
 * startRegistry runs the project's test registry (internal/testservers/registrytest/cmd/testregistry):
 * OAuth authorize page, standing, verify, ban list. TESTREGISTRY_BIN, or built here with `go build`.
 */
let registry;
async function startRegistry() {
  let bin = process.env.TESTREGISTRY_BIN;
  if (!bin) {
    bin = join(tmp, "testregistry");
    execFileSync("go", ["build", "-o", bin, "./internal/testservers/registrytest/cmd/testregistry"], { cwd: join(here, "..", ".."), stdio: ["ignore", "pipe", "pipe"] });
  }
  registry = spawn(bin, ["-addr", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "pipe"] });
  const url = await new Promise((res, rej) => {
    let out = "";
    const timer = setTimeout(() => rej(new Error(`test registry printed no URL: ${out}`)), 10_000);
    registry.stdout.on("data", (b) => {
      out += b.toString();
      const m = /^(http:\/\/\S+)/m.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1]);
      }
    });
    registry.on("exit", (code) => rej(new Error(`test registry exited with ${code}: ${out}`)));
  });
  log(`test registry at ${url}`);
  return url;
}

/** startMcpServer runs a real MCP server (go-sdk, streamable HTTP) on a loopback port: internal/testservers/mcptest/cmd/mcptestserver. */
let mcpServer;
async function startMcpServer() {
  const bin = join(tmp, "mcptestserver");
  execFileSync("go", ["build", "-o", bin, "./internal/testservers/mcptest/cmd/mcptestserver"], { cwd: join(here, "..", ".."), stdio: ["ignore", "pipe", "pipe"] });
  mcpServer = spawn(bin, ["-addr", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "pipe"] });
  const url = await new Promise((res, rej) => {
    let out = "";
    const timer = setTimeout(() => rej(new Error(`MCP test server printed no URL: ${out}`)), 10_000);
    mcpServer.stdout.on("data", (b) => {
      out += b.toString();
      const m = /^(http:\/\/\S+)/m.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1]);
      }
    });
    mcpServer.on("exit", (code) => rej(new Error(`MCP test server exited with ${code}: ${out}`)));
  });
  log(`MCP test server at ${url}`);
  return url;
}

let REGISTRY_URL = "";
async function startServer() {
  tmp = mkdtempSync(join(tmpdir(), "hallmonitor-e2e-"));
  REGISTRY_URL = await startRegistry();
  mkdirSync(join(tmp, "config"), { recursive: true });
  writeFileSync(join(tmp, "config", "rules.json"), JSON.stringify(RULES, null, 2));
  log(`starting ${BIN} serve in ${tmp}`);
  const found = await startServe(tmp, { port: process.env.E2E_PORT, env: { HALLMONITOR_REGISTRY_URL: REGISTRY_URL } });
  server = found.proc;
  server.stdout.on("data", (b) => process.env.E2E_VERBOSE && process.stdout.write("[serve] " + b));
  server.stderr.on("data", (b) => process.env.E2E_VERBOSE && process.stdout.write("[serve] " + b));
  log(`serve is up at ${found.base}`);
  return found;
}

// ---------------------------------------------------------------- fixtures
const RULES = {
  rules: [
    {
      rule_id: "rr_echo_dev",
      match: { capability_id: "cap.example.echo", env: "dev" },
      decision: { candidate_workers_ranked: [{ worker_species_id: "wrk.example.echo", score_hint: 1 }], required_controls_suggested: [], escalation: {}, preconditions: {} },
    },
    {
      // the Hall's policy gate holds prod requests on RESTRICTED data for a human (REQUIRE_HUMAN)
      rule_id: "rr_echo_human",
      match: { capability_id: "cap.example.approve", env: "prod" },
      decision: {
        candidate_workers_ranked: [{ worker_species_id: "wrk.example.echo", score_hint: 1 }],
        required_controls_suggested: [],
        escalation: { policy_gate: true, rationale: "e2e: a person must approve" },
        preconditions: {},
      },
    },
    {
      rule_id: "rr_blast",
      match: { capability_id: "cap.example.blast", env: "dev" },
      decision: {
        candidate_workers_ranked: [{ worker_species_id: "wrk.example.echo", score_hint: 1 }],
        required_controls_suggested: ["ctrl.blast_radius_scoring"],
        escalation: {},
        preconditions: {},
      },
    },
  ],
};

const VALID_RECORD = {
  worker_id: "x.example.echo",
  worker_species_id: "wrk.example.echo",
  capabilities: ["cap.example.echo", "cap.example.approve", "cap.example.blast"],
  currently_implements: ["ctrl.obs.audit_log_append_only", "ctrl.blast_radius_scoring"],
  risk_tier: "low",
  blast_score: 20,
  guarantee: "at-least-once",
  dlq_handler: "dlq.example.echo",
};
const INVALID_RECORD = { worker_id: "x.example.broken", capabilities: [] };

let corr = 0;
function routeInput(capability, over = {}) {
  corr++;
  return {
    capability_id: capability,
    env: "dev",
    data_label: "PUBLIC",
    tenant_risk: "low",
    qos_class: "P2",
    tenant_id: "tenant-e2e",
    correlation_id: `corr-e2e-${Date.now()}-${corr}`,
    request: { text: "hello" },
    ...over,
  };
}

// ---------------------------------------------------------------- HTTP: the person's CLI and a simulated agent
let S; // server info; S.token is the admin credential serve printed (the person's, as the CLI uses it)
/** AGENT is the runner's agent: its own token, made with the person's browser session (POST /api/agents). */
let AGENT = { name: "", token: "" };
/** http calls as the person (the admin credential, as the CLI does): checks and setup, never an agent's call. */
const http = (method, path, body, headers = {}) => call(S.token, method, path, body, headers);
/** asAgent calls with the runner's agent token: routing, ingest, dispatches, coordination. */
const asAgent = (method, path, body, headers = {}) => call(AGENT.token, method, path, body, headers);
async function call(token, method, path, body, headers = {}) {
  const res = await fetch(S.base + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...headers },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: res.status, json, text, headers: res.headers };
}

/** inPage calls the Hall from the page, as the page does: its browser session (token and cookie), or the
 * session token given. */
async function inPage(page, method, path, body, sessionToken) {
  return page.evaluate(
    async ([method, path, body, given]) => {
      const token = given || sessionStorage.getItem("hallmonitor.session");
      const res = await fetch(path, {
        method,
        credentials: "same-origin",
        headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      let json = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        json = null;
      }
      return { status: res.status, json, text };
    },
    [method, path, body, sessionToken],
  );
}

async function waitFor(fn, what, timeout = 5000, every = 100) {
  const t0 = Date.now();
  let last;
  while (Date.now() - t0 < timeout) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, every));
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

async function shot(page, name) {
  await page.waitForTimeout(150);
  await page.screenshot({ path: join(ART, `${name}.png`), fullPage: false });
}

// ---------------------------------------------------------------- main
async function main() {
  if (!existsSync(BIN)) {
    console.error(`hallmonitor binary not found at ${BIN}: build it (cd .. && go build -o build/bin/hallmonitor .) or set HALLMONITOR_BIN`);
    process.exit(2);
  }
  if (!existsSync(CHROMIUM)) {
    console.error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
    process.exit(2);
  }
  mkdirSync(ART, { recursive: true });
  S = await startServer();
  const userDataDir = mkdtempSync(join(tmpdir(), "hallmonitor-e2e-chromium-"));
  browserCtx = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1360, height: 860 },
    colorScheme: "light",
    timezoneId: "UTC",
    locale: "en-US",
    acceptDownloads: true,
  });
  browserCtx.setDefaultTimeout(10_000);
  const page = browserCtx.pages()[0] ?? (await browserCtx.newPage());
  const problems = [];
  page.on("console", (m) => {
    const t = m.text();
    if (/Content Security Policy|Refused to (execute|apply|load)/i.test(t)) problems.push(`CSP: ${t}`);
    if (m.type() === "error" && !/401|Failed to load resource/.test(t)) problems.push(`console error: ${t}`);
  });
  page.on("pageerror", (e) => problems.push(`page error (during "${currentTest}"): ${e.message}\n${e.stack}`));

  await test("UI is served with a strict CSP", async () => {
    const r = await fetch(S.base + "/");
    const csp = r.headers.get("content-security-policy") || "";
    assert(/script-src 'self'/.test(csp) && !/unsafe-inline/.test(csp), `CSP header: ${csp}`);
  });

  await test("the admin credential from #token= opens a browser session and is not kept; the wizard is shown", async () => {
    await page.goto(S.url);
    await page.getByRole("heading", { name: "Welcome to Hall Monitor" }).waitFor({ timeout: 10_000 });
    const hash = await page.evaluate(() => location.hash);
    assert(!hash.includes("token"), `token still in the URL: ${hash}`);
    const kept = await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }));
    assert(!kept.includes(S.token), `the admin credential is kept in the browser's storage: ${kept}`);
    const session = await page.evaluate(() => sessionStorage.getItem("hallmonitor.session"));
    assert(/^hms_/.test(session || ""), `no session token in sessionStorage: ${session}`);
    const cookie = (await browserCtx.cookies(S.base)).find((c) => c.name === "hall_session");
    assert(cookie && cookie.httpOnly && cookie.sameSite === "Strict", `session cookie: ${JSON.stringify(cookie)}`);
    const me = await inPage(page, "GET", "/api/whoami");
    assert(me.json.principal === "person" && me.json.via === "browser", `whoami in the page: ${me.text}`);
    // the session token is worth nothing without this browser's cookie
    const alone = await call(session, "GET", "/api/status");
    assert(alone.status === 401, `the session token alone answered ${alone.status}`);
    await shot(page, "01-wizard-storage");
  });

  await test("setup wizard: bad port is refused with a field error, then the config is written", async () => {
    const port = page.locator("#wz-port");
    const good = await port.inputValue();
    await port.fill("70000");
    await page.getByRole("button", { name: "Next →" }).click();
    await page.locator('[data-error-for="port"]', { hasText: "65535" }).waitFor();
    assert((await port.getAttribute("aria-invalid")) === "true", "port not marked invalid");
    await port.fill(good);
    await page.getByRole("button", { name: "Next →" }).click();
    // token step: a new token for agent "default", shown once, copyable; this page keeps its own session
    const session = await page.evaluate(() => sessionStorage.getItem("hallmonitor.session"));
    const oldAgent = readFileSync(join(S.configDir, "api-token"), "utf8").trim();
    await page.getByRole("button", { name: "Generate agent token" }).click();
    const tokenField = page.locator("input.token-value");
    await tokenField.waitFor();
    const newToken = await tokenField.inputValue();
    assert(/^hma_/.test(newToken) && newToken !== oldAgent, `no new agent token shown: ${newToken}`);
    await shot(page, "02-wizard-token");
    const old = await call(oldAgent, "POST", "/wcp/route", { input: {} });
    assert(old.status === 401, `old agent token still accepted after rotation (status ${old.status})`);
    const who = await call(newToken, "GET", "/api/whoami");
    assert(who.json.principal === "agent" && who.json.name === "default", `the wizard's token: ${who.text}`);
    const gov = await call(newToken, "GET", "/api/setup");
    assert(gov.status === 403 && gov.json.error.code === "forbidden_scope", `agent default read the setup: ${gov.status} ${gov.text}`);
    assert((await page.evaluate(() => sessionStorage.getItem("hallmonitor.session"))) === session, "the page switched away from its session");
    assert((await inPage(page, "GET", "/api/status")).status === 200, "the page's session stopped working");
    await page.getByRole("button", { name: "Next →" }).click(); // registry
    await page.locator("#wz-registry_url").waitFor();
    await shot(page, "03-wizard-registry");
    await page.getByRole("button", { name: "Next →" }).click(); // workers
    await page.locator("#wz-workers_dir").waitFor();
    await page.getByRole("button", { name: "Next →" }).click(); // first rule (optional; e2e/firsthour.mjs writes one)
    await page.getByRole("heading", { name: "Welcome to Hall Monitor" }).waitFor();
    await page.getByRole("button", { name: "Next →" }).click(); // profile
    await page.locator("#wz-profile").selectOption("prof.edge.isolated");
    await page.getByRole("button", { name: "Next →" }).click(); // review
    await shot(page, "04-wizard-review");
    await page.getByRole("button", { name: "Write configuration" }).click();
    await page.getByRole("heading", { name: "✓ Setup complete" }).waitFor();
    const setup = await http("GET", "/api/setup");
    assert(setup.status === 200 && setup.json.completed === true, `setup not completed: ${setup.text}`);
    // what the wizard wrote is in config.json, and the profile reached the settings the Hall reads
    const file = JSON.parse(readFileSync(join(tmp, "config", "config.json"), "utf8"));
    assert(file.default_profile === "prof.edge.isolated" && file.port === setup.json.config.port && file.setup_completed_at, `config.json: ${JSON.stringify(file)}`);
    const st = await http("GET", "/api/settings");
    assert(st.json.settings.default_profile === "prof.edge.isolated", `settings: ${st.text}`);
    await page.getByRole("button", { name: "Open the Hall →" }).click();
    await page.getByRole("heading", { name: "Hall Status" }).waitFor();
    await page.locator(".sb-stream.stream-live").waitFor({ timeout: 5000 });
    await shot(page, "05-status");
  });

  // The runner's agent: its own token, made by the person's browser session; every agent call below uses it.
  {
    const made = await inPage(page, "POST", "/api/agents", { name: "e2e-agent" });
    assert(made.status === 201 && /^hma_/.test(made.json.token), `POST /api/agents: ${made.status} ${made.text}`);
    AGENT = { name: made.json.agent.name, token: made.json.token };
  }

  await test("enroll: an invalid record shows per-field errors and cannot be enrolled", async () => {
    await page.goto(S.base + "/#/enroll");
    await page.getByRole("heading", { name: "Enroll a Worker" }).waitFor();
    await page.locator("#enroll-file").setInputFiles({ name: "registry_record.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(INVALID_RECORD)) });
    await waitFor(async () => (await page.locator(".check-bad").count()) > 0 || (await page.locator(".error-box").count()) > 0, "validation result");
    assert(await page.locator('[data-action="enroll"]').isDisabled(), "enroll button enabled for an invalid record");
    await shot(page, "06-enroll-invalid");
    await page.locator("#enroll-file").setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hi") });
    await page.locator(".error-box", { hasText: "not a .json file" }).waitFor();
  });

  await test("enroll: a valid record passes the checklist and enrolls", async () => {
    await page.getByRole("button", { name: "Start over" }).click();
    await page.locator("#enroll-file").setInputFiles({ name: "registry_record.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(VALID_RECORD)) });
    const btn = page.locator('[data-action="enroll"]');
    await waitFor(async () => !(await btn.isDisabled()), "enroll button enabled");
    await shot(page, "07-enroll-valid");
    await btn.click();
    // enrolled; the dry-run test route reaches it for cap.example.echo but no rule routes cap.example.approve in dev
    await page.getByTestId("enroll-not-routed").locator('[data-capability="cap.example.approve"]', { hasText: "no rule routes cap.example.approve" }).waitFor();
    await shot(page, "08-enroll-success");
    const w = await http("GET", "/api/workers");
    assert(w.json.workers.some((x) => x.worker_id === VALID_RECORD.worker_id), "worker not enrolled on the server");
  });

  await test("workers screen lists the worker with attestation and registry badges", async () => {
    await page.goto(S.base + "/#/workers");
    const row = page.locator(`tr[data-id="${VALID_RECORD.worker_id}"]`);
    await row.waitFor();
    // the test registry does not know this worker: the screen asks it once, shows NOT FOUND, and the Hall keeps the answer
    await row.locator(".registry-cell", { hasText: "NOT FOUND" }).waitFor();
    await row.getByText("not banned").waitFor();
    const kept = await waitFor(async () => {
      const w = (await http("GET", "/api/workers")).json.workers.find((x) => x.worker_id === VALID_RECORD.worker_id);
      return w && w.registry && w.registry.status === "unknown" && w.registry.checked_at ? w : null;
    }, "the registry's answer stored on the worker");
    assert(kept.registry.banned === false, `worker marked banned: ${JSON.stringify(kept.registry)}`);
    await shot(page, "09-workers");
  });

  await test("workers: a worker the registry bans shows BANNED (kept by the Hall) with a critical alert", async () => {
    const rec = { ...VALID_RECORD, worker_id: "x.e2e.banned", worker_species_id: "wrk.e2e.banned", capabilities: ["cap.e2e.banned"] };
    const en = await http("POST", "/api/workers/enroll", { record: rec });
    assert(en.status === 201, `enroll: ${en.status} ${en.text}`);
    const ctl = await fetch(REGISTRY_URL + "/_test/worker", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ worker_id: "x.e2e.banned", status: "banned", banned: true, ban_reason: "e2e: malware" }),
    });
    assert(ctl.ok, `test registry control: ${ctl.status}`);
    await page.goto(S.base + "/#/workers");
    const row = page.locator('tr[data-id="x.e2e.banned"]');
    await row.waitFor();
    await row.locator('[data-action="verify"]').click();
    await row.locator("td", { hasText: "BANNED" }).first().waitFor();
    const alerts = await waitFor(async () => {
      const a = await http("GET", "/api/alerts");
      return a.json.alerts.find((x) => x.type === "REGISTRY_BANNED" && x.worker_id === "x.e2e.banned");
    }, "a REGISTRY_BANNED alert");
    assert(alerts.severity === "critical", `alert: ${JSON.stringify(alerts)}`);
    await shot(page, "09b-workers-banned");
    const un = await http("DELETE", "/api/workers/x.e2e.banned");
    assert(un.status === 200, `unenroll: ${un.status} ${un.text}`);
    const ack = await http("POST", `/api/alerts/${alerts.alert_id}/ack`);
    assert(ack.status === 200, `ack: ${ack.status}`);
  });

  let firstDecisionId = "";
  await test("feed: a decision posted by an agent (POST /wcp/route) appears within a second", async () => {
    await page.goto(S.base + "/#/feed");
    await page.getByRole("heading", { name: /Live Feed/ }).waitFor();
    await page.locator(".sb-stream.stream-live").waitFor({ timeout: 5000 });
    const t0 = Date.now();
    const r = await asAgent("POST", "/wcp/route", { input: routeInput("cap.example.echo") });
    assert(r.status === 200, `route answered ${r.status}: ${r.text}`);
    firstDecisionId = r.json.decision.decision_id;
    await page.locator(`tr[data-id="${firstDecisionId}"]`).waitFor({ timeout: 1000 });
    log(`     decision visible in the feed after ${Date.now() - t0} ms`);
  });

  await test("feed: an ingested decision (POST /api/decisions/ingest) appears live", async () => {
    const t0 = Date.now();
    const r = await asAgent("POST", "/api/decisions/ingest", {
      decided_at: new Date().toISOString(),
      capability_id: "cap.example.echo",
      tenant_id: "tenant-sdk",
      env: "dev",
      data_label: "PUBLIC",
      correlation_id: `corr-ingest-${Date.now()}`,
      denied: true,
      deny_reason: "DENY_NO_MATCHING_RULE",
      matched_rule_id: "NO_MATCH",
    });
    assert(r.status === 201, `ingest answered ${r.status}: ${r.text}`);
    const id = r.json.decision_ids[0];
    await page.locator(`tr[data-id="${id}"]`).waitFor({ timeout: 1000 });
    log(`     ingested decision visible after ${Date.now() - t0} ms`);
    await shot(page, "10-feed");
  });

  await test("feed: Pause buffers new decisions (count shown), Resume flushes them", async () => {
    await page.locator('[data-action="toggle-pause"]').click();
    await page.locator(".live-state.paused").waitFor();
    const ids = [];
    for (let i = 0; i < 2; i++) {
      const r = await asAgent("POST", "/wcp/route", { input: routeInput("cap.example.echo") });
      ids.push(r.json.decision.decision_id);
    }
    await page.locator(".buffered", { hasText: "2 new while paused" }).waitFor({ timeout: 2000 });
    for (const id of ids) assert((await page.locator(`tr[data-id="${id}"]`).count()) === 0, "a decision was shown while paused");
    await shot(page, "11-feed-paused");
    await page.locator('[data-action="toggle-pause"]').click();
    for (const id of ids) await page.locator(`tr[data-id="${id}"]`).waitFor({ timeout: 1000 });
    const top = await page.locator("tbody tr[data-id]").first().getAttribute("data-id");
    assert(top === ids[1], `newest buffered decision not on top (top ${top})`);
  });

  await test("feed: filters, detail drawer with J/K and Esc", async () => {
    await page.locator('select[name="outcome"]').selectOption("denied");
    await waitFor(async () => (await page.locator("tbody tr[data-id]").count()) > 0 && (await page.locator('tbody tr[data-outcome="allowed"]').count()) === 0, "denied-only rows");
    await page.locator('select[name="outcome"]').selectOption("");
    await page.locator(`tr[data-id="${firstDecisionId}"]`).waitFor();
    await page.locator("tbody tr[data-id]").first().click();
    await page.locator("aside.drawer h3", { hasText: "Receipt" }).waitFor();
    const firstOpen = await page.locator("aside.drawer .drawer-head .mono").textContent();
    await page.locator("body").press("j");
    await waitFor(async () => (await page.locator("aside.drawer .drawer-head .mono").textContent()) !== firstOpen, "J moves to the next decision");
    await page.locator("aside.drawer h3", { hasText: "Receipt" }).waitFor();
    await shot(page, "12-feed-drawer");
    await page.keyboard.press("k");
    await waitFor(async () => (await page.locator("aside.drawer .drawer-head .mono").textContent()) === firstOpen, "K moves back");
    await page.keyboard.press("Escape");
    await waitFor(async () => await page.locator("aside.drawer").isHidden(), "Esc closes the drawer");
  });

  await test("feed: export CSV downloads a file", async () => {
    const [dl] = await Promise.all([page.waitForEvent("download", { timeout: 5000 }), page.locator('[data-action="export-csv"]').click()]);
    const name = dl.suggestedFilename();
    assert(/\.csv$/.test(name), `download name ${name}`);
  });

  await test("approvals: a REQUIRE_HUMAN decision waits and is approved from the UI", async () => {
    const r = await asAgent("POST", "/wcp/route", { input: routeInput("cap.example.approve", { env: "prod", data_label: "RESTRICTED", blast_score: 10 }) });
    assert(r.status === 200, `route answered ${r.status}: ${r.text}`);
    assert(r.json.decision.supervisor_required === true, `decision not held for a human: ${JSON.stringify(r.json.decision.deny_reason_if_denied)}`);
    await page.goto(S.base + "/#/feed");
    await page.locator(`tr[data-id="${r.json.decision.decision_id}"][data-outcome="pending"]`).waitFor();
    const pending = await waitFor(async () => {
      const a = await http("GET", "/api/approvals?status=pending");
      return a.json.approvals.find((x) => x.decision_id === r.json.decision.decision_id);
    }, "a pending approval on the server");
    await page.goto(S.base + "/#/approvals");
    const row = page.locator(`tr[data-id="${pending.approval_id}"]`);
    await row.waitFor();
    await shot(page, "13-approvals");
    await row.locator('input[name="note"]').fill("ok by e2e");
    await row.locator('[data-action="approve"]').click();
    await waitFor(async () => {
      const a = await http("GET", "/api/approvals?status=approved");
      return a.json.approvals.some((x) => x.approval_id === pending.approval_id);
    }, "approval resolved as approved");
    // the approved decision runs from the same screen: this worker was enrolled from a record alone, so the
    // Hall records a failed dispatch and the row says why
    await page.locator('[data-chip], .chips button', { hasText: "Approved" }).first().click();
    const done = page.locator(`tr[data-id="${pending.approval_id}"]`);
    await done.locator('[data-action="run"]').click();
    await waitFor(async () => /no enrolled package/.test((await done.locator('[data-field="run-result"]').textContent()) || ""), "the run's outcome shown in the row");
    const ds = await http("GET", "/api/dispatches?limit=5");
    const d = ds.json.dispatches.find((x) => x.decision_id === r.json.decision.decision_id);
    assert(d && d.outcome === "failed" && d.finished_at, `dispatch not recorded as failed: ${JSON.stringify(d)}`);
    // the approval granted one run of this call: a second is refused, the agent routes again
    const again = await asAgent("POST", "/wcp/dispatch", { decision_id: r.json.decision.decision_id });
    assert(again.status === 409 && /granted one dispatch/.test(again.text), `an approval granted a second run: ${again.status} ${again.text}`);
    await shot(page, "13b-approval-run");
  });

  await test("alerts: a tampered worker package raises an alert; acknowledging it persists across a reload", async () => {
    // a signed worker package (attest keygen + attest build with the real binary)
    const example = join(here, "..", "..", "examples", "echo-worker");
    // what the UI enrolls must be in the workers folder (a package elsewhere is refused)
    const wdir = (await http("GET", "/api/setup")).json.config.workers_dir;
    const pkg = join(wdir, "tamper-worker");
    const keys = join(tmp, "keys");
    mkdirSync(join(pkg, "code"), { recursive: true });
    mkdirSync(keys, { recursive: true });
    for (const f of ["code/run", "requirements.lock", "config.schema.json"]) copyFileSync(join(example, f), join(pkg, f));
    chmodSync(join(pkg, "code", "run"), 0o755);
    const run = (args) => execFileSync(BIN, args, { env: { ...process.env, HOME: tmp }, stdio: ["ignore", "pipe", "pipe"] }).toString();
    run(["attest", "keygen", "--namespace", "x.e2e", "--out", keys]);
    run(["attest", "build", "--package", pkg, "--worker-id", "x.e2e.tamper", "--species", "wrk.e2e.tamper", "--version", "1.0.0", "--key", join(keys, "x.e2e.key")]);
    const record = {
      worker_id: "x.e2e.tamper",
      worker_species_id: "wrk.e2e.tamper",
      capabilities: ["cap.e2e.tamper"],
      currently_implements: [],
      risk_tier: "low",
      blast_score: 10,
      guarantee: "at-least-once",
      attestation: { public_key_ed25519: readFileSync(join(keys, "x.e2e.pub"), "utf8").trim() },
    };
    // enroll it from the UI, typing the package folder
    await page.goto(S.base + "/#/enroll");
    await page.locator("#enroll-path").fill(pkg);
    await page.locator("#enroll-file").setInputFiles({ name: "registry_record.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(record)) });
    const btn = page.locator('[data-action="enroll"]');
    await waitFor(async () => !(await btn.isDisabled()), "enroll enabled for the signed package");
    await btn.click();
    await page.getByText(/Worker (re-)?enrolled/).waitFor();
    const w = (await http("GET", "/api/workers")).json.workers.find((x) => x.worker_id === record.worker_id);
    assert(w && w.attestation && w.attestation.state === "verified", `package not attested at enrollment: ${JSON.stringify(w && w.attestation)}`);
    // tamper with the package on disk: the Hall's package watcher must raise WORKER_TAMPERED
    await page.goto(S.base + "/#/alerts");
    appendFileSync(join(pkg, "code", "run"), "\necho tampered >&2\n");
    const alert = await waitFor(async () => {
      const open = (await http("GET", "/api/alerts?acknowledged=false")).json.alerts;
      return open.find((a) => a.type === "WORKER_TAMPERED" && a.worker_id === record.worker_id);
    }, "a WORKER_TAMPERED alert after changing an enrolled package (is the package watcher running in serve?)", 15_000);
    const card = page.locator(`article[data-id="${alert.alert_id}"]`);
    await card.waitFor({ timeout: 2000 }); // pushed live over the event stream
    await shot(page, "14-alerts");
    await card.locator('[data-action="ack"]').click();
    await waitFor(async () => (await page.locator(`article[data-id="${alert.alert_id}"]`).count()) === 0, "acknowledged alert leaves the open list");
    await page.reload();
    await page.getByRole("heading", { name: /Alerts/ }).waitFor();
    await page.waitForTimeout(500);
    assert((await page.locator(`article[data-id="${alert.alert_id}"]`).count()) === 0, "alert came back after reload");
    await page.getByLabel("Show acknowledged").check();
    await page.locator(`article[data-id="${alert.alert_id}"].acked`).waitFor();
    const srv = (await http("GET", "/api/alerts?acknowledged=true")).json.alerts;
    assert(srv.some((a) => a.alert_id === alert.alert_id && a.acknowledged), "server does not have the acknowledgement");
    await page.goto(S.base + "/#/workers");
    await page.locator(`tr[data-id="${record.worker_id}"]`).waitFor();
    await shot(page, "09b-workers-tampered");
  });

  await test("workers: a package in the workers folder is listed as available and enrolls from there", async () => {
    const setup = await http("GET", "/api/setup");
    const wd = setup.json.config.workers_dir;
    assert(wd, `no workers_dir in the setup: ${setup.text}`);
    const example = join(here, "..", "..", "examples", "echo-worker");
    const pkg = join(wd, "folder-worker");
    mkdirSync(join(pkg, "code"), { recursive: true });
    for (const f of ["code/run", "requirements.lock", "config.schema.json"]) copyFileSync(join(example, f), join(pkg, f));
    const record = { ...VALID_RECORD, worker_id: "x.e2e.folder", worker_species_id: "wrk.e2e.folder", capabilities: ["cap.e2e.folder"] };
    writeFileSync(join(pkg, "registry_record.json"), JSON.stringify(record));
    mkdirSync(join(wd, "broken-worker"), { recursive: true });
    writeFileSync(join(wd, "broken-worker", "registry_record.json"), JSON.stringify({ worker_id: "x.e2e.broken", worker_species_id: "broken" }));
    await page.goto(S.base + "/#/workers");
    await page.getByRole("button", { name: "Refresh" }).click(); // the screen may be showing already
    const panel = page.getByTestId("available-packages");
    const row = panel.locator('tr[data-folder="folder-worker"]');
    await row.waitFor();
    assert((await row.textContent()).includes("AVAILABLE"), `available row: ${await row.textContent()}`);
    const broken = panel.locator('tr[data-folder="broken-worker"]');
    assert((await broken.textContent()).includes("worker_species_id"), `the invalid package names its field: ${await broken.textContent()}`);
    await shot(page, "09c-workers-available");
    await row.locator('[data-action="enroll-available"]').click();
    await page.getByRole("heading", { name: "Enroll a Worker" }).waitFor();
    assert((await page.locator("#enroll-path").inputValue()) === pkg, "the package folder is not filled in");
    // the folder's package is not signed: sign it from the window (a key for x.e2e is made in the config dir)
    await page.locator('[data-action="sign-package"]').click();
    await page.getByText(/Signed with the x\.e2e key/).waitFor();
    const btn = page.locator('[data-action="enroll"]');
    await waitFor(async () => !(await btn.isDisabled()), "enroll enabled for the folder's valid record");
    await btn.click();
    await page.getByText(/Worker (re-)?enrolled/).waitFor();
    const w = (await http("GET", "/api/workers")).json.workers.find((x) => x.worker_id === record.worker_id);
    assert(w && w.package_path === pkg, `not enrolled from the folder: ${JSON.stringify(w)}`);
    await page.goto(S.base + "/#/workers");
    await page.locator(`tr[data-id="${record.worker_id}"]`).waitFor();
    assert((await panel.locator('tr[data-folder="folder-worker"]').count()) === 0, "an enrolled package is still listed as available");
  });

  await test("dispatches: an active dispatch shows a ticking duration", async () => {
    const r = await asAgent("POST", "/wcp/route", { input: routeInput("cap.example.echo") });
    const d = await asAgent("POST", "/api/dispatches", { decision_id: r.json.decision.decision_id });
    assert(d.status === 201, `start dispatch answered ${d.status}: ${d.text}`);
    await page.goto(S.base + "/#/dispatches");
    const cell = page.locator(`tr[data-id="${d.json.dispatch_id}"] .live-duration`);
    await cell.waitFor();
    const a = await cell.textContent();
    await page.waitForTimeout(1300);
    const b = await cell.textContent();
    assert(a !== b, `duration did not tick (${a} -> ${b})`);
    await shot(page, "15-dispatches");
    await asAgent("POST", `/api/dispatches/${d.json.dispatch_id}/finish`, { outcome: "succeeded" });
    await waitFor(async () => (await page.locator(`tr[data-id="${d.json.dispatch_id}"]`).count()) === 0, "finished dispatch leaves the active list");
  });

  await test("settings: time zone is applied; a concurrent change gives a clear 412 message", async () => {
    await page.goto(S.base + "/#/settings");
    await page.getByRole("heading", { name: "Settings" }).waitFor();
    await page.locator("#set-tz").fill("Asia/Tokyo");
    await page.getByRole("button", { name: "Save settings" }).click();
    await waitFor(async () => (await http("GET", "/api/settings")).json.settings.timezone === "Asia/Tokyo", "timezone saved");
    await waitFor(async () => /GMT\+9|JST/.test((await page.locator(".sb-clock").textContent()) || ""), "clock shows Tokyo time");
    // someone else saves in between
    const cur = await http("GET", "/api/settings");
    const put = await http("PUT", "/api/settings", { ...cur.json.settings, feed_max_rows: 400 }, { "If-Match": cur.headers.get("etag") });
    assert(put.status === 200, `PUT settings answered ${put.status}: ${put.text}`);
    await page.locator("#set-rows").fill("300");
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.locator('[data-code="precondition_failed"]').waitFor();
    await shot(page, "16-settings-412");
    await page.locator('[data-action="reload-settings"]').click();
    await waitFor(async () => (await page.locator("#set-rows").inputValue()) === "400", "reloaded settings");
    await shot(page, "17-settings");
  });

  await test("sign in with GitHub through the registry, see the profile, Go Online, sign out", async () => {
    await page.goto(S.base + "/#/profile");
    await page.getByRole("heading", { name: "Not signed in" }).waitFor();
    const [popup] = await Promise.all([browserCtx.waitForEvent("page"), page.locator('[data-action="sign-in"]').click()]);
    await popup.waitForLoadState();
    await shot(popup, "21-registry-authorize");
    await popup.locator("#authorize").click();
    await popup.waitForLoadState();
    await page.getByRole("heading", { name: "@octocat" }).waitFor({ timeout: 15_000 });
    await shot(page, "18-profile");
    await popup.close().catch(() => {});
    await page.goto(S.base + "/#/status");
    await page.locator('main [data-action="go-online"]').click();
    await page.locator('.hall-state-label[data-state="online"]').waitFor({ timeout: 10_000 });
    await page.locator('header .pill[data-state="online"]').waitFor();
    await shot(page, "05b-status-online");
    await page.locator('main [data-action="go-offline"]').click();
    await page.locator('.hall-state-label[data-state="online"]').waitFor({ state: "detached", timeout: 10_000 });
    await page.goto(S.base + "/#/profile");
    await page.locator('[data-action="sign-out"]').click();
    await page.getByRole("heading", { name: "Not signed in" }).waitFor();
  });

  await test("status dashboard shows counts and recent refusals; dark theme renders", async () => {
    const cur = await http("GET", "/api/settings");
    await http("PUT", "/api/settings", { ...cur.json.settings, theme: "dark" }, { "If-Match": cur.headers.get("etag") });
    await page.goto(S.base + "/#/status");
    await page.getByRole("heading", { name: "Hall Status" }).waitFor();
    await waitFor(async () => (await page.evaluate(() => document.documentElement.dataset.theme)) === "dark", "dark theme applied");
    await waitFor(async () => Number(await page.locator('[data-count="Decisions today"] .stat-value').textContent()) >= 4, "decision count");
    await shot(page, "19-status-dark");
  });

  await test("without a session the UI asks for the admin credential (401); an agent token is named as one", async () => {
    // another browser, with its own cookies
    const other = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    try {
      const p2 = await (await other.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: "UTC", locale: "en-US" })).newPage();
      await p2.goto(S.base + "/#/status");
      await p2.getByRole("heading", { name: "Paste the admin credential" }).waitFor();
      await shot(p2, "20-token-screen");
      await p2.locator("#token-input").fill("wrong-token");
      await p2.getByRole("button", { name: "Continue" }).click();
      await p2.locator(".error-box").waitFor();
      await p2.locator("#token-input").fill(AGENT.token);
      await p2.getByRole("button", { name: "Continue" }).click();
      await p2.locator(".error-box", { hasText: "That is an agent token. Paste the admin credential from <config dir>/admin-token" }).waitFor();
      await shot(p2, "20b-token-screen-agent-token");
      await p2.locator("#token-input").fill(S.token);
      await p2.getByRole("button", { name: "Continue" }).click();
      await p2.getByRole("heading", { name: "Hall Status" }).waitFor();
      const kept = await p2.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }));
      assert(!kept.includes(S.token) && !kept.includes(AGENT.token), `a pasted credential is kept: ${kept}`);
    } finally {
      await other.close();
    }
  });

  await test("settings: About shows the version the binary prints (hallmonitor version)", async () => {
    const printed = execFileSync(BIN, ["version"]).toString().trim();
    assert(printed.startsWith("hallmonitor ") && printed.length > "hallmonitor ".length, `hallmonitor version printed ${JSON.stringify(printed)}`);
    await page.goto(S.base + "/#/settings");
    const shown = page.locator('section[aria-label="About"] [data-field="version"]');
    await shown.waitFor();
    assert((await shown.textContent()) === printed.slice("hallmonitor ".length), `About shows ${await shown.textContent()}, the binary prints ${printed}`);
    await page.locator('section[aria-label="About"]').scrollIntoViewIfNeeded();
    await shot(page, "17b-settings-about");
  });

  await test("re-run setup wizard from Settings", async () => {
    await page.goto(S.base + "/#/settings");
    await page.locator('[data-action="rerun-wizard"]').click();
    await page.getByRole("heading", { name: "Setup wizard" }).waitFor();
    await page.getByRole("button", { name: "Cancel" }).click();
    await waitFor(async () => (await page.locator(".wizard-overlay").count()) === 0, "wizard closed");
  });

  await test("Connected MCPs: add a real MCP server, see it online with its tools, ping, remove; a bad add names the field", async () => {
    const mcpUrl = await startMcpServer();
    await page.goto(S.base + "/#/settings");
    await page.getByRole("heading", { name: "Connected MCPs" }).waitFor();
    await page.locator(".mcp-empty").waitFor();
    await page.locator('[data-action="mcp-add"]').click();
    // the reference's own validation, then the Hall's (a URL that is not http(s))
    await page.locator("#mcp-name").fill("e2e-tools");
    await page.locator('[data-action="mcp-add-submit"]').click();
    await waitFor(async () => (await page.locator('[data-error-for="url"]').textContent()) === "URL is required for HTTP transport.", "URL required message");
    await page.locator("#mcp-url").fill("localhost:1/mcp");
    await page.locator('[data-action="mcp-add-submit"]').click();
    await waitFor(async () => /http:\/\/ or https:\/\//.test((await page.locator('[data-error-for="url"]').textContent()) || ""), "server-side url error");
    assert((await page.locator("#mcp-url").getAttribute("aria-invalid")) === "true", "url field not marked invalid");
    assert((await http("GET", "/api/mcp/servers")).json.servers.length === 0, "a refused add stored a server");
    await shot(page, "22-mcp-invalid");
    await page.locator("#mcp-url").fill(mcpUrl);
    await page.locator('[data-action="mcp-add-submit"]').click();
    const row = page.locator('.mcp-row[data-name="e2e-tools"]');
    await row.waitFor();
    await waitFor(async () => (await row.getAttribute("data-status")) === "online", "server online");
    assert((await row.locator(".mcp-tools").textContent()) === "2 tools", `tool count: ${await row.locator(".mcp-tools").textContent()}`);
    assert((await row.locator(".mcp-cap").textContent()) === "cap.mcp.e2e-tools", "capability id shown");
    await shot(page, "23-mcp-online");
    await row.locator('[data-action="mcp-ping"]').click();
    await waitFor(async () => ((await row.locator(".mcp-ping-result").textContent()) || "").trim() === "online", "ping result online");
    // the server stops: the next ping says offline and the dot turns red
    mcpServer.kill("SIGTERM");
    await waitFor(() => mcpServer.exitCode !== null || mcpServer.signalCode !== null, "MCP test server stopped");
    await row.locator('[data-action="mcp-ping"]').click();
    await waitFor(async () => (await row.getAttribute("data-status")) === "offline", "server offline after stop", 15_000);
    await row.locator(".mcp-error").waitFor();
    await shot(page, "24-mcp-offline");
    await row.locator('[data-action="mcp-remove"]').click();
    await row.locator('[data-action="mcp-remove-cancel"]').click();
    await row.locator('[data-action="mcp-remove"]').click();
    await row.locator('[data-action="mcp-remove-confirm"]').click();
    await waitFor(async () => (await page.locator('.mcp-row[data-name="e2e-tools"]').count()) === 0, "row removed");
    await page.locator(".mcp-empty").waitFor();
    assert((await http("GET", "/api/mcp/servers")).json.servers.length === 0, "server still stored after remove");
  });

  await test("security: a UI passphrase locks the window; a wrong one is refused, the right one unlocks; agents keep routing", async () => {
    await page.goto(S.base + "/#/settings");
    const sec = page.getByTestId("security");
    await sec.locator('[data-form="set-passphrase"]').waitFor();
    await page.locator("#pp-new").fill("correct horse");
    await page.locator("#pp-confirm").fill("correct hors");
    await sec.getByRole("button", { name: "Set Passphrase" }).click();
    await sec.getByText("Passphrases do not match.").waitFor();
    await page.locator("#pp-confirm").fill("correct horse");
    await sec.getByRole("button", { name: "Set Passphrase" }).click();
    await sec.locator('[data-action="lock-now"]').click();
    await page.getByRole("heading", { name: "Unlock your Hall" }).waitFor();
    await shot(page, "25-locked");
    assert((await page.getByText("Hall configuration").count()) === 0, "the Hall's data is still on the page behind the lock");
    // while locked the UI's requests are refused, an agent's are not
    const uiReq = await http("GET", "/api/decisions", undefined, { "X-Hall-UI": "1" });
    assert(uiReq.status === 423 && uiReq.json.error.code === "locked", `UI request while locked: ${uiReq.status} ${uiReq.text}`);
    const agent = await asAgent("POST", "/wcp/route", { input: routeInput("cap.example.echo") });
    assert(agent.status === 200, `an agent was locked out: ${agent.status} ${agent.text}`);
    await page.reload(); // a reload stays locked
    await page.getByRole("heading", { name: "Unlock your Hall" }).waitFor();
    await page.locator("#unlock-input").fill("wrong horse");
    await page.keyboard.press("Enter");
    await page.getByText("Incorrect passphrase.").waitFor();
    await page.locator("#unlock-input").fill("correct horse");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Settings" }).waitFor();
    assert((await page.locator(".lock-overlay").count()) === 0, "the lock screen stayed after unlocking");
    // remove it again so the Hall opens without one
    await sec.locator("summary", { hasText: "Remove passphrase" }).click();
    await page.locator("#pp-remove-current").fill("correct horse");
    await sec.getByRole("button", { name: "Remove Passphrase" }).click();
    await sec.locator('[data-form="set-passphrase"]').waitFor();
    const st = await http("GET", "/api/auth/passphrase-status");
    assert(st.json.passphrase_set === false && st.json.locked === false, `after removal: ${st.text}`);
  });

  await test("coordination: an agent's work appears live; create, edit, complete with a follow-up; four views; messages survive a reload", async () => {
    await page.goto(S.base + "/#/coordination");
    await page.getByRole("heading", { name: "Coordination", exact: true }).waitFor();
    const me = await page.locator("[data-me]").getAttribute("data-me", { timeout: 10_000 });
    // A simulated agent joins, adds a task, claims it and locks a file, over HTTP: the board follows live.
    let r = await asAgent("POST", "/api/coord/agents/heartbeat", { id: "e2e-agent", name: "E2E Agent", type: "code" });
    assert(r.status === 200, `heartbeat: ${r.status} ${r.text}`);
    await page.locator('.coord-agent[data-agent="e2e-agent"].agent-active').waitFor();
    r = await asAgent("POST", "/api/coord/tasks", { title: "Agent builds the parser", section: "Backend", agent_id: "e2e-agent", owner: "e2e-agent" });
    assert(r.status === 201, `create: ${r.status} ${r.text}`);
    const agentTask = r.json.task.id;
    await page.locator(`.col-pending .coord-card[data-id="${agentTask}"]`).waitFor();
    r = await asAgent("POST", `/api/coord/tasks/${agentTask}/claim`, { agent_id: "e2e-agent" });
    assert(r.status === 200, `claim: ${r.status} ${r.text}`);
    await page.locator(`.col-in_progress .coord-card[data-id="${agentTask}"]`, { hasText: "claimed: e2e-agent" }).waitFor();
    r = await asAgent("POST", "/api/coord/tasks", { title: "Agent tests the parser", section: "Backend", agent_id: "e2e-agent", predecessors: [agentTask] });
    const nextTask = r.json.task.id;
    await asAgent("POST", "/api/coord/locks", { path: "core/parse.go", agent_id: "e2e-agent" });
    await page.locator('[data-lock="core/parse.go"]', { hasText: "held by e2e-agent" }).waitFor();

    // New Task in the UI: a bad dependency is refused naming the field, then the task is created as the person.
    await page.locator('[data-action="new-task"]').click();
    const form = page.locator("#coord-new-form");
    await form.locator('input[name="title"]').fill("Wire the board into the UI");
    await form.locator('input[name="section"]').fill("Frontend");
    await form.locator('input[name="location"]').fill("frontend/src/screens/coordination.ts");
    await form.locator('input[name="predecessors"]').fill("NOPE9");
    await form.locator('select[name="owner"]').selectOption("e2e-agent");
    await form.getByRole("button", { name: "Create Task" }).click();
    await form.locator(".error-box", { hasText: "predecessors" }).waitFor();
    assert((await form.locator('input[name="predecessors"]').getAttribute("aria-invalid")) === "true", "predecessors not marked invalid");
    await form.locator('input[name="predecessors"]').fill("");
    await form.getByRole("button", { name: "Create Task" }).click();
    const uiCard = page.locator(".col-pending .coord-card", { hasText: "Wire the board into the UI" });
    await uiCard.waitFor();
    const uiTask = await uiCard.getAttribute("data-id");
    const created = (await http("GET", "/api/coord/tasks")).json.tasks.find((t) => t.id === uiTask);
    assert(created.created_by === me && created.owner === "e2e-agent" && created.location === "frontend/src/screens/coordination.ts", `created: ${JSON.stringify(created)}`);

    // Edit modal: the header names the task; Esc closes it and gives focus back.
    const editBtn = uiCard.locator('[data-action="edit"]');
    await editBtn.click();
    const edit = page.locator("dialog.coord-edit");
    await edit.getByRole("heading", { name: `Edit Task — ${uiTask}` }).waitFor();
    await page.keyboard.press("Escape");
    await edit.waitFor({ state: "detached" });
    assert(await editBtn.evaluate((el) => el === document.activeElement), "focus did not return to Edit");
    await editBtn.click();
    await edit.locator('select[name="priority"]').selectOption("P0");
    await edit.getByRole("button", { name: "Save" }).click();
    await edit.waitFor({ state: "detached" });
    await page.locator(`.coord-card[data-id="${uiTask}"] .badge`, { hasText: "P0" }).waitFor();

    // Complete with a follow-up: the FF link, the location and the notes are kept; all are notified.
    await page.locator(`.coord-card[data-id="${uiTask}"] [data-action="complete"]`).click();
    const done = page.locator("dialog.coord-complete");
    await done.locator('textarea[name="summary"]').fill("board wired; see screenshots");
    await done.locator('input[name="follow-up"]').check();
    await done.locator('input[name="follow_up.title"]').fill("Polish the swimlanes");
    await done.locator('select[name="follow_up.dep_type"]').selectOption("FF");
    await done.locator('input[name="follow_up.location"]').fill("frontend/src/style.css");
    await shot(page, "22-coordination-complete");
    await done.getByRole("button", { name: "Mark Complete + Notify All" }).click();
    await done.waitFor({ state: "detached" });
    await page.locator(`.col-done .coord-card[data-id="${uiTask}"]`).waitFor();
    const follow = page.locator(".col-pending .coord-card", { hasText: "Polish the swimlanes" });
    await follow.waitFor();
    const fuId = await follow.getAttribute("data-id");
    const fu = (await http("GET", "/api/coord/tasks")).json.tasks.find((t) => t.id === fuId);
    assert(fu.dep_type === "FF" && fu.predecessors.join() === uiTask && fu.location === "frontend/src/style.css" && fu.section === "Frontend" && fu.created_by === me,
      `follow-up: ${JSON.stringify(fu)}`);
    await page.locator('.feed-row[data-type="coord.message"]', { hasText: "TASK COMPLETE" }).waitFor();
    await shot(page, "23-coordination-kanban");

    // The four views.
    await page.locator('[data-view="tree"]').click();
    // A task after an open one nests under it; a task whose predecessors are done is a root.
    await page.locator(`.coord-tree .tree-node[data-id="${agentTask}"] .tree-node[data-id="${nextTask}"]`).waitFor();
    await page.locator(`.coord-tree .tree-root > li > .tree-node[data-id="${fuId}"]`).waitFor();
    await shot(page, "24-coordination-tree");
    await page.locator('[data-view="swimlane"]').click();
    await page.locator('.coord-lane[data-section="Frontend"]').waitFor();
    await page.locator(`.coord-lane .coord-card[data-id="${fuId}"]`).hover();
    await page.locator(`.coord-lane .coord-card.hl-pred[data-id="${uiTask}"]`).waitFor();
    await shot(page, "25-coordination-swimlanes");
    await page.locator('[data-view="phases"]').click();
    await page.locator('.phase-block[data-phase="1"]', { hasText: "DO NOW" }).waitFor();
    await page.locator(`[data-move="later"][data-id="${fuId}"]`).click();
    await page.locator(`.phase-block[data-phase="2"] .phase-row[data-id="${fuId}"] .overridden`).waitFor();
    const stored = await page.evaluate(() => localStorage.getItem("coord-phase-overrides"));
    assert(JSON.parse(stored || "{}")[fuId] === 1, `overrides in localStorage: ${stored}`);
    await shot(page, "26-coordination-phases");
    await page.locator('[data-action="reset-order"]').click();
    await page.locator(`.phase-block[data-phase="1"] .phase-row[data-id="${fuId}"]`).waitFor();
    await page.locator(`[data-move="later"][data-id="${fuId}"]`).click();

    // A message with feedback; after a reload it is still in the feed, and the view and order are kept.
    await page.locator('.coord-send input[name="message"]').fill("e2e: please review the board");
    await page.locator('.coord-send input[name="message"]').press("Enter");
    await page.locator(".send-status", { hasText: "Sent to all" }).waitFor();
    await page.locator('.feed-row[data-type="coord.message"]', { hasText: "please review the board" }).waitFor();
    await page.locator('.coord-send input[name="message"]').press("Enter");
    await page.locator(".send-status .error-box", { hasText: "message" }).waitFor();
    await page.reload();
    await page.locator('.feed-row[data-type="coord.message"]', { hasText: "please review the board" }).waitFor();
    await page.locator('.feed-row[data-type="coord.task.created"]', { hasText: "Agent builds the parser" }).waitFor();
    await page.locator(`.phase-block[data-phase="2"] .phase-row[data-id="${fuId}"] .overridden`).waitFor();
    assert((await page.locator('[data-view="phases"]').getAttribute("aria-pressed")) === "true", "view not kept across the reload");
    await page.locator('[data-view="kanban"]').click();
    await shot(page, "27-coordination");
  });

  // ---------------------------------------------------------------- UI polish (issue 14): approvals, charts, layout
  const overflowProblems = () => harnessOverflow(page);
  const setTheme = async (theme) => {
    const cur = await http("GET", "/api/settings");
    const r = await http("PUT", "/api/settings", { ...cur.json.settings, theme }, { "If-Match": cur.headers.get("etag") });
    assert(r.status === 200, `theme ${theme}: ${r.status} ${r.text}`);
    await waitFor(async () => (await page.evaluate(() => document.documentElement.dataset.theme)) === theme, `theme ${theme} applied`);
  };

  await test("polish: approval rows show what is approved; Run goes away after the run and shows its result", async () => {
    const r = await asAgent("POST", "/wcp/route", { input: routeInput("cap.example.approve", { env: "prod", data_label: "RESTRICTED", blast_score: 10, request: { text: "<b>pay</b> invoice 42" } }) });
    assert(r.status === 200 && r.json.decision.supervisor_required, `route: ${r.status} ${r.text}`);
    const id = r.json.decision.decision_id;
    const apr = await waitFor(async () => (await http("GET", "/api/approvals?status=pending")).json.approvals.find((x) => x.decision_id === id), "the pending approval");
    assert(apr.worker_species_id === "wrk.example.echo" && typeof apr.blast_score === "number" && apr.request_summary === '{"text":"<b>pay</b> invoice 42"}',
      `approval fields: ${JSON.stringify(apr)}`);
    await page.goto(S.base + "/#/approvals");
    const row = page.locator(`tr[data-id="${apr.approval_id}"]`);
    await row.waitFor();
    assert((await row.locator(".approval-what .mono.strong").textContent()) === "cap.example.approve", "capability not shown");
    assert((await row.locator('[data-field="worker"]').textContent()) === "wrk.example.echo", "worker not shown");
    assert((await row.locator('[data-field="agent"]').textContent()) === AGENT.name, "the asking agent not shown");
    assert((await row.locator('[data-field="request"]').textContent()) === '{"text":"<b>pay</b> invoice 42"}', "request summary not shown as text");
    assert((await row.locator('[data-field="request"] b').count()) === 0, "request summary rendered as HTML");
    await row.locator(".blast").waitFor();
    const c1 = await row.locator(".countdown").textContent();
    assert(/^in \d{1,2}:\d{2}(:\d{2})?$/.test(c1 || ""), `expiry countdown: ${c1}`);
    await waitFor(async () => (await row.locator(".countdown").textContent()) !== c1, "the countdown ticking");
    await row.locator('[data-action="approve"]').click();
    await page.locator(".chips button", { hasText: "Approved" }).click();
    const done = page.locator(`tr[data-id="${apr.approval_id}"]`);
    await done.locator('[data-action="run"]', { hasText: "Run now" }).click();
    // this worker was enrolled from a record alone: the run fails, says why, and offers a retry, not "Run now"
    await waitFor(async () => /failed: .+ \(dsp_/.test((await done.locator('[data-field="run-result"]').textContent()) || ""), "the run's result in the row");
    assert((await done.locator('[data-action="run"]', { hasText: "Run now" }).count()) === 0, "Run now still offered after the run");
    await page.reload();
    await page.locator(".chips button", { hasText: "Approved" }).click();
    await waitFor(async () => /failed: .+ \(dsp_/.test((await done.locator('[data-field="run-result"]').textContent()) || ""), "the run's result after a reload");
    // a succeeded run takes the button away: the Hall refuses a second run of a succeeded decision, so the
    // row's last_dispatch decides (GET /api/approvals), as the unit tests cover for every outcome
    const rows = (await http("GET", "/api/approvals?status=approved")).json.approvals.find((x) => x.approval_id === apr.approval_id);
    assert(rows.last_dispatch && rows.last_dispatch.outcome === "failed", `last_dispatch: ${JSON.stringify(rows.last_dispatch)}`);
    await shot(page, "40-approvals-run-result");
  });

  await test("polish: Status says Local, draws decisions per minute and today's top lists, live from events", async () => {
    await page.goto(S.base + "/#/status");
    await page.locator(".sb-stream.stream-live").waitFor({ timeout: 3000 });
    assert((await page.locator(".hall-state-label").textContent()) === "Local", "state label is not Local while not connected");
    await page.locator('[data-field="go-online-needs"]', { hasText: "signed in" }).waitFor();
    await page.locator(".chart-minutes canvas").first().waitFor();
    await page.locator(".chart-top canvas").first().waitFor();
    const note = page.locator('[data-field="stats-note"]');
    await waitFor(async () => /^\d+ in the last hour/.test((await note.textContent()) || ""), "the statistics loaded");
    const before = Number(/^(\d+)/.exec(await note.textContent())[1]);
    const stats = await http("GET", "/api/stats/decisions?window=1h");
    assert(stats.status === 200 && stats.json.per_minute.length === 60 && stats.json.top_capabilities.length > 0, `stats: ${stats.text.slice(0, 300)}`);
    const r = await asAgent("POST", "/wcp/route", { input: routeInput("cap.e2e.unknown") });
    assert(r.status === 200 && r.json.decision.denied, `route: ${r.text}`);
    await waitFor(async () => Number(/^(\d+)/.exec(await note.textContent())[1]) === before + 1, "the chart counting the new decision live");
    const bad = await http("GET", "/api/stats/decisions?window=5");
    assert(bad.status === 400 && bad.json.error.field === "window", `bad window: ${bad.status} ${bad.text}`);
  });

  await test("polish: at 1280×800 and 900×600, light and dark, nothing overflows sideways; placeholders look like placeholders", async () => {
    const keep = await http("GET", "/api/settings");
    const problemsSeen = [];
    try {
      for (const theme of ["light", "dark"]) {
        await page.goto(S.base + "/#/status");
        await setTheme(theme);
        for (const [w, hgt] of [[1280, 800], [900, 600]]) {
          await page.setViewportSize({ width: w, height: hgt });
          for (const screen of ["status", "approvals", "workers", "settings", "alerts", "dispatches", "feed"]) {
            await page.goto(S.base + "/#/" + screen);
            await page.locator("main h1").first().waitFor();
            if (screen === "status") await page.locator(".chart-minutes canvas").first().waitFor();
            if (screen === "approvals") await page.locator(".chips button", { hasText: "All" }).click();
            if (screen === "approvals" || screen === "workers") await page.locator("table.grid tbody tr").first().waitFor();
            await page.waitForTimeout(250);
            for (const p of await overflowProblems()) problemsSeen.push(`${screen} ${w}×${hgt} ${theme}: ${p}`);
            if (["status", "approvals", "workers", "settings"].includes(screen)) await shot(page, `41-${screen}-${w}x${hgt}-${theme}`);
            if (screen === "status") {
              await page.locator(".decision-charts").scrollIntoViewIfNeeded();
              await shot(page, `41-status-charts-${w}x${hgt}-${theme}`);
            }
          }
          if (theme === "dark") {
            await page.goto(S.base + "/#/workers");
            await page.locator("table.grid tbody tr").first().waitFor();
            // the screen re-renders as its data arrives: read the colours of the search box in the page now
            const [text, placeholder] = await waitFor(async () => {
              const c = await page.evaluate(() => {
                const el = document.querySelector('main input[type="search"]');
                return el && el.isConnected ? [getComputedStyle(el).color, getComputedStyle(el, "::placeholder").color] : null;
              });
              return c && c[0] ? c : null;
            }, "the search box's colours");
            assert(text !== placeholder, `dark placeholder has the text colour (${text})`);
          }
        }
      }
    } finally {
      await page.setViewportSize({ width: 1360, height: 860 });
      await setTheme(keep.json.settings.theme);
    }
    assert(problemsSeen.length === 0, problemsSeen.join("\n"));
  });
  // ---------------------------------------------------------------- end of UI polish

  // ---------------------------------------------------------------- agents and the person (issue 11)
  await test("agents: create an agent token in Settings, the agent routes with it, its decisions show its name; an agent token cannot approve (403 forbidden_scope); revoke stops it (401)", async () => {
    await browserCtx.grantPermissions(["clipboard-read", "clipboard-write"], { origin: S.base });
    await page.goto(S.base + "/#/settings");
    const panel = page.getByTestId("agents");
    await panel.locator(`tr[data-name="${AGENT.name}"][data-state="active"]`).waitFor();
    await panel.scrollIntoViewIfNeeded();
    const nameErr = panel.locator('[data-error-for="name"]');
    // a bad name is refused next to the field before any call; a taken one by the Hall (409, field name)
    await page.locator("#agent-name").fill("two words");
    await panel.locator('[data-action="agent-create"]').click();
    await waitFor(async () => /only letters, digits/.test((await nameErr.textContent()) || ""), "the name's rule next to the field");
    await page.locator("#agent-name").fill(AGENT.name);
    await panel.locator('[data-action="agent-create"]').click();
    await waitFor(async () => ((await nameErr.textContent()) || "").includes(AGENT.name), "the Hall's conflict next to the name field");
    assert((await page.locator("#agent-name").getAttribute("aria-invalid")) === "true", "name field not marked invalid");
    // created: the token is shown once, read-only, with Copy
    await page.locator("#agent-name").fill("e2e-ui-agent");
    await panel.locator('[data-action="agent-create"]').click();
    const once = panel.locator('.agent-token-once[data-agent="e2e-ui-agent"]');
    await once.getByText("Copy it now: it is not shown again").waitFor();
    const field = once.locator("input.token-value");
    let token = await field.inputValue();
    assert(/^hma_/.test(token) && (await field.getAttribute("readonly")) !== null, `token field: ${token}`);
    await once.locator('[data-action="copy-agent-token"]').click();
    await waitFor(async () => (await page.evaluate(() => navigator.clipboard.readText())) === token, "the token on the clipboard");
    const row = panel.locator('tr[data-name="e2e-ui-agent"]');
    await row.waitFor();
    assert((await row.locator(".agent-hint").textContent()).endsWith(token.slice(-4)), `token hint: ${await row.locator(".agent-hint").textContent()}`);
    assert((await row.locator(".agent-last-used").textContent()) === "never", "a new agent was used");
    assert(!(await panel.locator("table").textContent()).includes(token), "the token is in the list");
    await shot(page, "50-settings-agents-created");
    await once.locator('[data-action="dismiss-agent-token"]').click();
    assert(!(await page.content()).includes(token), "the token stays on the page after Done");

    // the agent routes with its token; the feed names it, filters by it and the drawer shows it
    const me = await call(token, "GET", "/api/whoami");
    assert(me.json.principal === "agent" && me.json.name === "e2e-ui-agent", `whoami: ${me.text}`);
    const routed = await call(token, "POST", "/wcp/route", { input: routeInput("cap.example.echo") });
    assert(routed.status === 200, `route with the new token: ${routed.status} ${routed.text}`);
    const decId = routed.json.decision.decision_id;
    const other = await asAgent("POST", "/wcp/route", { input: routeInput("cap.example.echo") });
    await page.goto(S.base + "/#/feed?agent=e2e-ui-agent");
    const frow = page.locator(`tr[data-id="${decId}"]`);
    await frow.waitFor();
    assert((await frow.locator(".feed-agent").textContent()) === "e2e-ui-agent", "the feed's Agent column");
    assert((await page.locator('input[name="agent"]').inputValue()) === "e2e-ui-agent", "the agent filter is not filled in from ?agent=");
    assert((await page.locator(`tr[data-id="${other.json.decision.decision_id}"]`).count()) === 0, "another agent's decision passes the agent filter");
    const listed = await http("GET", "/api/decisions?agent=e2e-ui-agent");
    assert(listed.json.decisions.length > 0 && listed.json.decisions.every((d) => d.agent === "e2e-ui-agent"), `?agent=: ${listed.text.slice(0, 300)}`);
    await frow.click();
    await page.locator('aside.drawer [data-field="agent"]', { hasText: "e2e-ui-agent" }).waitFor();
    await shot(page, "51-feed-agent");
    // live: a decision of this agent arrives over the stream with its name, one of another agent does not pass
    const live = await call(token, "POST", "/wcp/route", { input: routeInput("cap.example.echo") });
    await page.locator(`tr[data-id="${live.json.decision.decision_id}"] .feed-agent`, { hasText: "e2e-ui-agent" }).waitFor({ timeout: 2000 });

    // it asks for a held call and cannot approve it; the person does, and the row names both
    const held = await call(token, "POST", "/wcp/route", { input: routeInput("cap.example.approve", { env: "prod", data_label: "RESTRICTED", blast_score: 10 }) });
    assert(held.status === 200 && held.json.decision.supervisor_required, `held route: ${held.status} ${held.text}`);
    const apr = await waitFor(async () => (await http("GET", "/api/approvals?status=pending")).json.approvals.find((x) => x.decision_id === held.json.decision.decision_id), "the pending approval");
    assert(apr.agent === "e2e-ui-agent", `approval agent: ${apr.agent}`);
    const self = await call(token, "POST", `/api/approvals/${apr.approval_id}/resolve`, { action: "approve" });
    assert(self.status === 403 && self.json.error.code === "forbidden_scope", `an agent approved: ${self.status} ${self.text}`);
    const runner = await asAgent("POST", `/api/approvals/${apr.approval_id}/resolve`, { action: "approve" });
    assert(runner.status === 403 && runner.json.error.code === "forbidden_scope", `another agent approved: ${runner.status} ${runner.text}`);
    await page.goto(S.base + "/#/approvals");
    const arow = page.locator(`tr[data-id="${apr.approval_id}"]`);
    assert((await arow.locator('[data-field="agent"]').textContent()) === "e2e-ui-agent", "approval row's agent");
    await arow.locator('[data-action="approve"]').click();
    await page.locator(".chips button", { hasText: "Approved" }).click();
    const resolved = (await http("GET", "/api/approvals?status=approved")).json.approvals.find((x) => x.approval_id === apr.approval_id);
    assert(resolved && resolved.resolved_by && !/^hm[ap]_/.test(resolved.resolved_by), `resolved_by: ${JSON.stringify(resolved)}`);
    await page.locator(`tr[data-id="${apr.approval_id}"] [data-field="resolved-by"]`, { hasText: resolved.resolved_by }).waitFor();
    await shot(page, "52-approvals-agent-resolver");

    // rotate (confirmed): the old token stops, the new one works
    await waitFor(async () => (await http("GET", "/api/agents")).json.agents.find((a) => a.name === "e2e-ui-agent" && a.last_used_at), "last used recorded");
    await page.goto(S.base + "/#/settings");
    await row.locator(".agent-last-used").waitFor();
    assert((await row.locator(".agent-last-used").textContent()) !== "never", "last used not shown");
    await row.locator('[data-action="agent-rotate"]').click();
    await page.locator("dialog.confirm .btn-danger").click();
    const rotated = panel.locator('.agent-token-once[data-agent="e2e-ui-agent"] input.token-value');
    await rotated.waitFor();
    const old = token;
    token = await rotated.inputValue();
    assert(token !== old, "rotate showed the same token");
    await waitFor(async () => (await call(old, "GET", "/api/whoami")).status === 401, "the old token refused after rotation", 1500);
    assert((await call(token, "GET", "/api/whoami")).status === 200, "the rotated token does not work");

    // revoke (confirmed): its token stops within a second
    await row.locator('[data-action="agent-revoke"]').click();
    await page.locator("dialog.confirm .btn-danger").click();
    await panel.locator('tr[data-name="e2e-ui-agent"][data-state="revoked"]').waitFor();
    await waitFor(async () => (await call(token, "POST", "/wcp/route", { input: routeInput("cap.example.echo") })).status === 401, "the revoked token refused", 1000, 50);
    assert((await asAgent("GET", "/api/whoami")).status === 200, "revoking one agent stopped another");
    // its decisions stay, under its name
    assert((await http("GET", `/api/decisions/${decId}`)).json.summary.agent === "e2e-ui-agent", "the revoked agent's decision lost its name");

    // Settings › Agents at 1280×800 and 900×600, light and dark: nothing leaves its box
    const keep = await http("GET", "/api/settings");
    const problemsSeen = [];
    try {
      for (const theme of ["light", "dark"]) {
        await setTheme(theme);
        for (const [w, hgt] of [[1280, 800], [900, 600]]) {
          await page.setViewportSize({ width: w, height: hgt });
          await page.goto(S.base + "/#/settings");
          await panel.locator("tbody tr").first().waitFor();
          await panel.scrollIntoViewIfNeeded();
          await page.waitForTimeout(200);
          for (const p of await overflowProblems()) problemsSeen.push(`settings ${w}×${hgt} ${theme}: ${p}`);
          await shot(page, `53-settings-agents-${w}x${hgt}-${theme}`);
        }
      }
    } finally {
      await page.setViewportSize({ width: 1360, height: 860 });
      await setTheme(keep.json.settings.theme);
    }
    assert(problemsSeen.length === 0, problemsSeen.join("\n"));
  });

  await test("agents: the link serve printed opens a session in another browser; Sign out of this browser ends it there only", async () => {
    const other = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    try {
      const p2 = await (await other.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: "UTC", locale: "en-US" })).newPage();
      await p2.goto(S.url);
      await p2.getByRole("heading", { name: "Hall Status" }).waitFor();
      const session = await p2.evaluate(() => sessionStorage.getItem("hallmonitor.session"));
      await p2.goto(S.base + "/#/settings");
      await p2.locator('[data-action="sign-out-browser"]').click();
      await p2.getByRole("heading", { name: "Paste the admin credential" }).waitFor();
      assert((await p2.evaluate(() => sessionStorage.getItem("hallmonitor.session"))) === null, "the session token is still kept");
      const after = await inPage(p2, "GET", "/api/status", undefined, session);
      assert(after.status === 401, `the ended session still answers ${after.status}`);
      assert(session && (await inPage(page, "GET", "/api/status")).status === 200, "signing out there ended this browser's session");
    } finally {
      await other.close();
    }
    // the desktop-less page here has the button too; the window (no browser session) does not
    await page.goto(S.base + "/#/settings");
    await page.locator('[data-action="sign-out-browser"]').waitFor();
  });
  // ---------------------------------------------------------------- end of agents and the person

  await test("no CSP violations or script errors", async () => {
    assert(problems.length === 0, problems.join("\n"));
  });
}

async function cleanup() {
  try {
    await browserCtx?.close();
  } catch {
    /* ignore */
  }
  if (server && server.exitCode === null) {
    server.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 300));
    if (server.exitCode === null) server.kill("SIGKILL");
  }
  if (registry && registry.exitCode === null) registry.kill("SIGTERM");
  if (mcpServer && mcpServer.exitCode === null) mcpServer.kill("SIGTERM");
  if (tmp && !KEEP) rmSync(tmp, { recursive: true, force: true });
}

let fatal = null;
try {
  await main();
} catch (e) {
  fatal = e;
  console.error("e2e aborted:", e);
} finally {
  await cleanup();
}
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed + (fatal ? 1 : 0);
console.log(`\n${passed} passed, ${failed} failed (screenshots in ${ART})`);
process.exit(failed === 0 ? 0 : 1);

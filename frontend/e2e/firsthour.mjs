// End-to-end scenario "the first hour": a fresh `hallmonitor serve` (its own temp config and data dirs, no
// rules file) driven in headless Debian Chromium, as a new user would go:
//   setup wizard (enroll the shipped example, signed from the window; write a first rule)
//   → enroll the example from the Enroll screen with its key (success only because a test route reaches it)
//   → an agent's route is allowed (fetch with the token)
//   → edit the rule on the Rules screen, "Try it first" shows the flip, save; the agent is now denied.
// Screenshots at 1280×800 and 900×600 with a check that nothing overflows the viewport horizontally.
//
//   HALLMONITOR_BIN=../build/bin/hallmonitor node e2e/firsthour.mjs

import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

import { ART, assert, BIN, CHROMIUM, CHROMIUM_ARGS, freePort, overflowProblems, startServe } from "./harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const EXAMPLE = join(here, "..", "..", "examples", "echo-worker");
const SIZES = [
  [1280, 800],
  [900, 600],
];

const results = [];
let server, ctx, tmp, S, page;

async function test(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push({ name, ok: false });
    await page?.screenshot({ path: join(ART, `firsthour-FAILED-${results.length}.png`) }).catch(() => {});
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack.split("\n").slice(0, 4).join("\n     ") : e}`);
    throw e; // each step needs the one before
  }
}



async function startServer() {
  tmp = mkdtempSync(join(tmpdir(), "hallmonitor-firsthour-"));
  // nothing listens at the registry URL: this hour stays local
  const found = await startServe(tmp, { env: { HALLMONITOR_REGISTRY_URL: `http://127.0.0.1:${await freePort()}` } });
  server = found.proc;
  return found;
}

async function http(method, path, body) {
  const res = await fetch(S.base + path, {
    method,
    headers: { Authorization: `Bearer ${S.token}`, ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null, text };
}

let corr = 0;
const agentRoute = () =>
  http("POST", "/wcp/route", {
    input: { capability_id: "cap.example.echo", env: "dev", data_label: "PUBLIC", tenant_risk: "low", qos_class: "P2", tenant_id: "tenant-first-hour", correlation_id: `fh-${Date.now()}-${++corr}`, request: { text: "hi" } },
  });


/** shots saves the screen at both sizes and fails on horizontal overflow. */
async function shots(page, name, focus) {
  for (const [width, height] of SIZES) {
    await page.setViewportSize({ width, height });
    await page.waitForTimeout(200);
    if (focus) await page.locator(focus).first().scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ART, `firsthour-${name}-${width}x${height}.png`) });
    const bad = await overflowProblems(page);
    assert(bad.length === 0, `${name} at ${width}×${height} overflows: ${bad.join("; ")}`);
  }
  await page.setViewportSize({ width: SIZES[0][0], height: SIZES[0][1] });
}

async function main() {
  assert(existsSync(BIN), `hallmonitor binary not found at ${BIN}: set HALLMONITOR_BIN`);
  assert(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}`);
  mkdirSync(ART, { recursive: true });
  S = await startServer();
  const workersDir = join(tmp, "workers");
  const pkg = join(workersDir, "echo-worker");
  cpSync(EXAMPLE, pkg, { recursive: true }); // the shipped example, unsigned
  const record = readFileSync(join(pkg, "registry_record.json"));
  ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "hallmonitor-firsthour-chromium-")), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: SIZES[0][0], height: SIZES[0][1] },
    colorScheme: "light",
    timezoneId: "UTC",
    locale: "en-US",
  });
  ctx.setDefaultTimeout(10_000);
  page = ctx.pages()[0] ?? (await ctx.newPage());
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => /Content Security Policy|Refused to/i.test(m.text()) && problems.push(`CSP: ${m.text()}`));
  const next = () => page.getByRole("button", { name: "Next →" }).click();

  await test("wizard: enroll the shipped example, signed from the window; it is not reachable without a rule", async () => {
    await page.goto(S.url);
    await page.getByRole("heading", { name: "Welcome to Hall Monitor" }).waitFor();
    await next(); // storage
    await next(); // token: keep
    await next(); // registry
    await page.locator("#wz-workers_dir").fill(workersDir);
    await page.getByText("Enroll a first worker now").click();
    await page.locator("#enroll-file").setInputFiles({ name: "registry_record.json", mimeType: "application/json", buffer: record });
    await page.locator("#enroll-path").fill(pkg);
    await page.locator('li.check-bad[data-field="package_path"]', { hasText: "package unsigned" }).waitFor();
    await page.locator('[data-action="sign-package"]').click();
    await page.getByText(/Signed with the x\.example key \(made now\)/).waitFor();
    const keyFile = join(S.configDir, "keys", "x.example.key");
    assert(existsSync(keyFile), "no private key in the config dir");
    const enroll = page.locator('[data-action="enroll"]');
    await page.locator(".checklist .badge-ok", { hasText: "VALID" }).waitFor();
    await shots(page, "01-wizard-enroll-signed", ".checklist");
    assert(!(await enroll.isDisabled()), "Enroll stays disabled for the signed package");
    await enroll.click();
    await page.getByTestId("enroll-not-routed").getByText("no rule routes cap.example.echo to this worker: add one on the Rules screen").waitFor();
  });

  await test("wizard: the first rule is written through the rules API", async () => {
    await next();
    await page.locator('[data-action="write-first-rule"]').click();
    await page.getByTestId("first-rule-written").waitFor();
    await shots(page, "02-wizard-first-rule");
    const rules = await http("GET", "/api/rules");
    assert(rules.json.rules.length === 1 && rules.json.rules[0].match.capability_id === "cap.example.echo", `rules: ${rules.text}`);
    await next(); // profile
    await next(); // review
    await page.getByRole("button", { name: "Write configuration" }).click();
    await page.getByRole("button", { name: "Open the Hall →" }).click();
    await page.getByRole("heading", { name: "Hall Status" }).waitFor();
  });

  await test("Enroll screen: the example with its known key; success because a test route reaches it", async () => {
    await page.goto(S.base + "/#/enroll");
    await page.getByRole("heading", { name: "Enroll a Worker" }).waitFor();
    await page.locator("#enroll-path").fill(pkg);
    await page.locator("#enroll-file").setInputFiles({ name: "registry_record.json", mimeType: "application/json", buffer: record });
    // the key made in the wizard is known for x.example and chosen
    await page.waitForFunction(() => document.querySelector("#enroll-key")?.value.length === 64);
    await page.locator(".checklist .badge-ok", { hasText: "VALID" }).waitFor();
    await shots(page, "03-enroll-known-key");
    await page.locator('[data-action="enroll"]').click();
    await page.getByTestId("enroll-routed").waitFor();
    await shots(page, "04-enroll-routed");
  });

  await test("an agent's route is allowed", async () => {
    for (let i = 0; i < 3; i++) {
      const r = await agentRoute();
      assert(r.status === 200 && r.json.decision.denied === false && r.json.decision.selected_worker_species_id === "wrk.example.echo", `route: ${r.text}`);
    }
  });

  await test("Rules: edit the rule, Try it first shows the flip, save; the agent is now denied", async () => {
    await page.goto(S.base + "/#/rules");
    await page.getByRole("heading", { name: "Rules", exact: true }).waitFor();
    const before = (await http("GET", "/api/rules")).json.rules_hash;
    await page.locator('tbody [data-action="edit"]').first().click();
    await page.locator('.rule-editor [data-field="match.env"]').fill("stage");
    await page.locator('[data-action="apply-rule"]').click();
    await page.locator('[data-action="try-rules"]').click();
    const summary = page.getByTestId("flip-summary");
    await summary.waitFor();
    const text = await summary.textContent();
    assert(/would flip: \d+ allowed→denied/.test(text), `preview: ${text}`);
    assert((await page.locator('.rules-preview tr[data-kind="allowed→denied"]').count()) >= 3, "flips table has fewer rows than the agent's routes");
    await shots(page, "05-rules-preview", ".rules-preview table");
    await page.locator('[data-action="save-rules"]').click();
    await page.getByText("No unsaved changes.").waitFor();
    const after = (await http("GET", "/api/rules")).json;
    assert(after.rules_hash !== before && after.rules[0].match.env === "stage", `saved rules: ${JSON.stringify(after)}`);
    const r = await agentRoute();
    assert(r.json.decision.denied === true && r.json.decision.deny_reason_if_denied.code === "DENY_NO_MATCHING_RULE", `route after the edit: ${r.text}`);
    await shots(page, "06-rules-saved");
  });

  await test("no CSP violations or script errors", async () => {
    assert(problems.length === 0, problems.join("\n"));
  });
}

let fatal = null;
try {
  await main();
} catch (e) {
  fatal = e;
} finally {
  await ctx?.close().catch(() => {});
  if (server && server.exitCode === null) server.kill("SIGTERM");
  if (tmp && !process.env.E2E_KEEP) rmSync(tmp, { recursive: true, force: true });
}
if (fatal && !results.some((r) => !r.ok)) console.error("firsthour aborted:", fatal);
const failed = results.filter((r) => !r.ok).length + (fatal && !results.some((r) => !r.ok) ? 1 : 0);
console.log(`\nfirsthour: ${results.length - failed} passed, ${failed} failed (screenshots in ${ART})`);
process.exit(failed === 0 ? 0 : 1);

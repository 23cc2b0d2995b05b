// What the two end-to-end runners (run.mjs, firsthour.mjs) share: where the binary, Chromium and the
// screenshots are, Chromium's flags, a free loopback port, starting `hallmonitor serve` in its own temp
// folders, and the check that nothing sticks out of the viewport sideways.

import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const BIN = resolve(process.env.HALLMONITOR_BIN || join(here, "..", "..", "build", "bin", "hallmonitor"));
export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
export const ART = resolve(process.env.E2E_ARTIFACTS || join(here, "..", "..", "build", "test-artifacts", "e2e"));
export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.on("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

/** startServe runs `hallmonitor serve` with its config, data, XDG folders and HOME under tmp (env adds to its
 * environment) and resolves, once it printed its URL, with { proc, base, port, token, url, dataDir, configDir }. */
export async function startServe(tmp, { port, env = {} } = {}) {
  const dataDir = join(tmp, "data");
  const configDir = join(tmp, "config");
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(configDir, { recursive: true });
  const args = ["serve", "--port", String(port || (await freePort())), "--data-dir", dataDir, "--config-dir", configDir];
  const proc = spawn(BIN, args, {
    env: { ...process.env, HALLMONITOR_CONFIG_DIR: configDir, HALLMONITOR_DATA_DIR: dataDir, XDG_CONFIG_HOME: join(tmp, "xdg-config"), XDG_DATA_HOME: join(tmp, "xdg-data"), HOME: tmp, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const found = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`serve printed no URL within 20 s; output:\n${out}`)), 20_000);
    const onData = (b) => {
      out += b.toString();
      const m = /(http:\/\/(?:127\.0\.0\.1|localhost|\[::1\]):(\d+))\/#token=([A-Za-z0-9._~\-]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res({ base: m[1], port: Number(m[2]), token: m[3], url: m[0] });
      }
    };
    proc.stdout.on("data", onData);
    proc.stderr.on("data", onData);
    proc.on("exit", (code) => {
      clearTimeout(timer);
      rej(new Error(`serve exited with ${code} before printing its URL:\n${out}`));
    });
  });
  return { proc, ...found, dataDir, configDir };
}

/** overflowProblems lists what sticks out sideways: the page scrolling, or a table's last cell ending past the
 * viewport or past a scrolling box that holds it (an action column pushed out of sight). */
export function overflowProblems(page) {
  return page.evaluate(() => {
    const out = [];
    const W = window.innerWidth;
    if (document.documentElement.scrollWidth > W) out.push(`the page scrolls sideways (scrollWidth ${document.documentElement.scrollWidth} > ${W})`);
    for (const t of document.querySelectorAll("table")) {
      if (!t.offsetParent) continue;
      let limit = W;
      for (let p = t.parentElement; p; p = p.parentElement) {
        if (getComputedStyle(p).overflowX !== "visible") limit = Math.min(limit, p.getBoundingClientRect().left + p.clientLeft + p.clientWidth);
      }
      for (const c of t.querySelectorAll("tr > :last-child")) {
        const r = c.getBoundingClientRect();
        if (r.width && r.right > limit + 0.5) {
          out.push(`table "${t.getAttribute("aria-label") || t.className}": last cell ends at ${Math.round(r.right)} px, past ${Math.round(limit)} px`);
          break;
        }
      }
    }
    return out;
  });
}

import { defineConfig } from "vitest/config";

// The built UI is served by `hallmonitor serve` (and embedded in the desktop binary)
// under a strict CSP: script-src 'self'; style-src 'self'. Nothing inline is emitted.
export default defineConfig({
  base: "./",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
  test: {
    environment: "happy-dom",
    include: ["test/**/*.test.ts"],
  },
});

import { afterEach, describe, expect, it } from "vitest";
import { onTrayNavigate, trayNote } from "../src/desktop";

type W = { runtime?: unknown; go?: unknown };
const w = window as unknown as W;

afterEach(() => {
  delete w.runtime;
  delete w.go;
});

describe("tray (desktop shell)", () => {
  it("opens the screen the tray menu names, and ignores a payload that is not a screen name", () => {
    const handlers = new Map<string, (...data: unknown[]) => void>();
    w.runtime = { EventsOn: (name: string, cb: (...data: unknown[]) => void) => (handlers.set(name, cb), () => handlers.delete(name)) };
    const went: string[] = [];
    onTrayNavigate((s) => went.push(s));
    handlers.get("navigate")!("alerts");
    handlers.get("navigate")!({ screen: "feed" });
    expect(went).toEqual(["alerts"]);
  });
  it("does nothing in a browser (no Wails runtime, no bridge)", () => {
    expect(() => onTrayNavigate(() => {})).not.toThrow();
    expect(trayNote()).toBeNull();
  });
  it("says next to the toggle whether closing quits", async () => {
    let state = { available: false, detail: "no StatusNotifierWatcher on the session bus" };
    w.go = { desktop: { Bridge: { TrayStatus: async () => state } } };
    const missing = trayNote()!;
    await Promise.resolve();
    await Promise.resolve();
    expect(missing.dataset.tray).toBe("missing");
    expect(missing.textContent).toBe("No system tray found: closing quits. (no StatusNotifierWatcher on the session bus)");
    state = { available: true, detail: "" };
    const found = trayNote()!;
    await Promise.resolve();
    await Promise.resolve();
    expect(found.dataset.tray).toBe("found");
    expect(found.textContent).toContain("System tray found");
  });
});

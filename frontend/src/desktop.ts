// The Wails desktop bridge (app/desktop: window.go.desktop.Bridge) for what a page cannot do itself:
// open the system browser and native folder pickers, and tell whether a system tray is there. The tray
// menu opens screens through the Wails event "navigate". In a plain browser it is absent and the UI
// falls back to window.open and typed paths. Desktop notifications are raised natively by the
// desktop shell from the same event stream, so the page does not raise its own there.

import { h } from "./dom";
import { toast } from "./ui";

interface Bridge {
  OpenURL(u: string): Promise<void>;
  PickDirectory(title: string): Promise<string>;
  Autostart(): Promise<boolean>;
  SetAutostart(on: boolean): Promise<void>;
  TrayStatus(): Promise<{ available: boolean; detail: string }>;
}

export function bridge(): Bridge | null {
  const w = window as unknown as { go?: { desktop?: { Bridge?: Bridge } } };
  return w.go?.desktop?.Bridge ?? null;
}

/** openExternal opens u in the system browser; it resolves to why that failed, or "" (as far as it can tell). */
export async function openExternal(u: string): Promise<string> {
  const b = bridge();
  if (b) {
    try {
      await b.OpenURL(u);
      return "";
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      toast(`Cannot open the browser: ${why}`, "error");
      return why;
    }
  }
  window.open(u, "_blank", "noopener,noreferrer");
  return "";
}

/** autostartToggle is the "start at login" checkbox (desktop only: an XDG autostart entry); null in a browser. */
export function autostartToggle(): HTMLElement | null {
  const b = bridge();
  if (!b) return null;
  const box = h("input", { type: "checkbox", name: "autostart", "data-field": "autostart", disabled: true });
  b.Autostart().then(
    (on) => {
      box.checked = on;
      box.disabled = false;
    },
    (e: unknown) => toast(`Cannot read the login autostart: ${e instanceof Error ? e.message : String(e)}`, "error"),
  );
  box.addEventListener("change", async () => {
    box.disabled = true;
    try {
      await b.SetAutostart(box.checked);
      toast(box.checked ? "Hall Monitor starts when you log in" : "Hall Monitor no longer starts at login", "ok");
    } catch (e) {
      box.checked = !box.checked;
      toast(`Cannot change the login autostart: ${e instanceof Error ? e.message : String(e)}`, "error");
    } finally {
      box.disabled = false;
    }
  });
  return h("label", { class: "check" }, box, " Start Hall Monitor when I log in");
}

/** browseButton adds a native "Browse…" folder picker next to a path input (desktop only). */
export function browseButton(input: HTMLInputElement, title: string): HTMLButtonElement | null {
  const b = bridge();
  if (!b) return null;
  const btn = h("button", { type: "button", class: "btn" }, "Browse…");
  btn.addEventListener("click", async () => {
    try {
      const p = await b.PickDirectory(title);
      if (p) {
        input.value = p;
        input.dispatchEvent(new Event("input", { bubbles: true }));
      }
    } catch (e) {
      toast(`Folder picker failed: ${e instanceof Error ? e.message : String(e)}`, "error");
    }
  });
  return btn;
}

/** onTrayNavigate calls go(screen) when the tray menu asks for a screen (desktop only: the Wails runtime). */
export function onTrayNavigate(go: (screen: string) => void): void {
  const rt = (window as unknown as { runtime?: { EventsOn?(name: string, cb: (...data: unknown[]) => void): () => void } }).runtime;
  rt?.EventsOn?.("navigate", (screen) => {
    if (typeof screen === "string") go(screen);
  });
}

/** trayNote says, next to the close-to-tray toggle, whether a system tray is there (desktop only). */
export function trayNote(): HTMLElement | null {
  const b = bridge();
  if (!b) return null;
  const note = h("p", { class: "hint", "data-tray": "checking" }, "Looking for a system tray…");
  b.TrayStatus().then(
    (t) => {
      note.dataset.tray = t.available ? "found" : "missing";
      note.textContent = t.available ? "System tray found: with this on, closing the window keeps Hall Monitor running in the tray." : `No system tray found: closing quits. (${t.detail})`;
    },
    (e: unknown) => {
      note.dataset.tray = "missing";
      note.textContent = `No system tray found: closing quits. (${e instanceof Error ? e.message : String(e)})`;
    },
  );
  return note;
}

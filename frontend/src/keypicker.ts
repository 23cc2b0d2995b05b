// The Enroll screen's namespace key: choose a key the Hall already knows for the worker's namespace,
// paste one or upload a .pub file, or "Sign this package" with a key made here (attest keygen + build
// on the server: the private key stays in the Hall's config directory).

import * as api from "./api";
import { h, replace } from "./dom";
import { busy, errorBox, toast } from "./ui";

/** namespaceOf is the signer namespace of a worker id: x.you.worker → x.you. */
export function namespaceOf(workerId: string): string {
  return workerId.split(".").slice(0, 2).join(".");
}

/** readPub reads a .pub file's key: the first line, trimmed. */
export function readPub(text: string): string {
  return (text.split(/\r?\n/).find((l) => l.trim()) ?? "").trim();
}

export interface KeyPicker {
  el: HTMLElement;
  value(): string;
  /** refresh lists the keys known for the record's namespace (and picks one when none is chosen). */
  refresh(workerId: string): Promise<void>;
  clear(): void;
}

export function keyPicker(ctx: { workerId: () => string; speciesId: () => string; packagePath: () => string; onChange: () => void }): KeyPicker {
  const input = h("input", { type: "text", id: "enroll-key", class: "mono", "data-field": "public_key", placeholder: "64 hex characters, from <namespace>.pub", autocomplete: "off", spellcheck: "false" });
  const known = h("select", { id: "enroll-key-known", "aria-label": "Keys known for this namespace" });
  const file = h("input", { type: "file", id: "enroll-key-file", accept: ".pub,text/plain", class: "offscreen" });
  const upload = h("label", { class: "btn", for: "enroll-key-file", tabindex: "0" }, "Upload .pub");
  const sign = h("button", { type: "button", class: "btn", "data-action": "sign-package" }, "Sign this package");
  const note = h("div", { class: "small" });
  let keys: api.NamespaceKey[] = [];

  const set = (v: string) => {
    input.value = v;
    known.value = keys.some((k) => k.public_key === v) ? v : "";
    ctx.onChange();
  };
  input.addEventListener("change", () => set(input.value.trim()));
  known.addEventListener("change", () => {
    if (known.value) set(known.value);
  });
  file.addEventListener("change", async () => {
    const f = file.files?.[0];
    if (f) set(readPub(await f.text()));
    file.value = "";
  });
  sign.addEventListener("click", () =>
    busy(sign, "Signing…", async () => {
      note.replaceChildren();
      const workerId = ctx.workerId();
      if (!workerId || !ctx.packagePath()) {
        replace(note, errorBox(new Error("Load the record and give the package folder first: the manifest names the worker and hashes that folder."), "Cannot sign yet"));
        return;
      }
      try {
        const ns = namespaceOf(workerId);
        const have = ((await api.listKeys(ns)).keys ?? []).find((k) => k.can_sign && k.namespace === ns);
        if (!have) await api.makeKey(ns);
        const r = await api.signPackage({ package_path: ctx.packagePath(), worker_id: workerId, worker_species_id: ctx.speciesId() });
        await refresh(workerId);
        set(r.public_key);
        replace(note, h("p", { class: "ok-text" }, `✓ Signed with the ${r.namespace} key${have ? "" : " (made now)"}: manifest.json, package sha256:${r.package_hash.slice(0, 16)}…`));
        toast("Package signed", "ok");
      } catch (e) {
        replace(note, errorBox(e, "Cannot sign the package"));
      }
    }),
  );

  async function refresh(workerId: string): Promise<void> {
    keys = [];
    if (workerId) {
      try {
        keys = (await api.listKeys(workerId)).keys ?? [];
      } catch {
        keys = [];
      }
    }
    replace(
      known,
      h("option", { value: "" }, keys.length ? "Choose a key known for this namespace…" : "No key known for this namespace yet"),
      keys.map((k) => h("option", { value: k.public_key }, `${k.namespace} · ${k.public_key.slice(0, 12)}… · ${k.source}`)),
    );
    known.disabled = keys.length === 0;
    if (!input.value && keys.length) set((keys.find((k) => k.can_sign) ?? keys[0]).public_key);
    else known.value = keys.some((k) => k.public_key === input.value) ? input.value : "";
  }

  const el = h(
    "div",
    { class: "field" },
    h("label", { for: "enroll-key" }, "Namespace public key"),
    h("div", { class: "key-row" }, known),
    h("div", { class: "key-row" }, input, upload, file, sign),
    h("p", { class: "hint" }, "The package's manifest must verify with this key. “Sign this package” makes a key for the namespace here (if there is none) and signs the folder, like hallmonitor attest keygen/build."),
    h("p", { class: "field-error", "data-error-for": "public_key" }),
    note,
  );
  return {
    el,
    value: () => input.value.trim(),
    refresh,
    clear: () => {
      input.value = "";
      keys = [];
      note.replaceChildren();
      replace(known, h("option", { value: "" }, "Load a record first"));
      known.disabled = true;
    },
  };
}

// DOM building without HTML strings: every value is inserted with createElement / textContent,
// so server data can never become markup (the CSP also forbids inline script and style).

export type Child = Node | string | number | boolean | null | undefined | Child[];

type Handler = (ev: Event) => void;
export type Attrs = Record<string, string | number | boolean | null | undefined | Handler>;

function append(el: Node, c: Child): void {
  if (c === null || c === undefined || c === false || c === true) return;
  if (Array.isArray(c)) {
    for (const x of c) append(el, x);
    return;
  }
  el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
}

/** h creates an element; attributes are set with setAttribute/properties, handlers with addEventListener. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (typeof v === "function") {
        el.addEventListener(k.replace(/^on/, "").toLowerCase(), v as EventListener);
      } else if (k === "class") {
        el.className = String(v);
      } else if (k === "value" && "value" in el) {
        (el as HTMLInputElement).value = String(v);
      } else if (k === "checked" && el instanceof HTMLInputElement) {
        el.checked = !!v;
      } else if (/^on/i.test(k) || k === "style") {
        throw new Error(`h(): attribute ${k} is not allowed (strict CSP, no inline code)`);
      } else {
        el.setAttribute(k, v === true ? "" : String(v));
      }
    }
  }
  append(el, children);
  return el;
}

export function text(s: string | number | null | undefined): Text {
  return document.createTextNode(s === null || s === undefined ? "" : String(s));
}

/** replace swaps an element's children. */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

export function $(sel: string, root: ParentNode = document): HTMLElement | null {
  return root.querySelector(sel);
}

/** copyText copies to the clipboard, falling back to a hidden textarea selection. */
export async function copyText(value: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(value);
    return true;
  } catch {
    const ta = h("textarea", { class: "offscreen", "aria-hidden": "true" }, value);
    document.body.appendChild(ta);
    ta.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
    ta.remove();
    return ok;
  }
}

/** download saves a Blob under a file name via an object URL. */
export function download(blob: Blob, filename: string): void {
  const href = URL.createObjectURL(blob);
  const a = h("a", { href, download: filename, class: "offscreen" });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}

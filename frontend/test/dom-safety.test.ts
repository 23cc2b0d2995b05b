import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { h } from "../src/dom";

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

const SRC = join(__dirname, "..", "src");

describe("DOM safety", () => {
  it("src/ never uses HTML-string sinks", () => {
    const sinks = /\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write|createContextualFragment|DOMParser|srcdoc)\b|\beval\s*\(|new Function\s*\(/;
    const offenders = files(SRC)
      .filter((f) => /\.(ts|js)$/.test(f))
      .flatMap((f) =>
        readFileSync(f, "utf8")
          .split("\n")
          .map((line, i) => ({ f, i: i + 1, line }))
          .filter((x) => sinks.test(x.line)),
      );
    expect(offenders.map((o) => `${o.f}:${o.i}: ${o.line.trim()}`)).toEqual([]);
  });

  it("index.html has no inline script, inline style or style attributes (strict CSP)", () => {
    const html = readFileSync(join(__dirname, "..", "index.html"), "utf8");
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
    expect(html).not.toMatch(/<style/i);
    expect(html).not.toMatch(/\sstyle=/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
  });

  it("h() inserts server data as text, never as markup", () => {
    const evil = '<img src=x onerror="alert(1)"><script>alert(2)</script>';
    const el = h("td", { title: evil }, evil);
    expect(el.childElementCount).toBe(0);
    expect(el.textContent).toBe(evil);
    expect(el.getAttribute("title")).toBe(evil);
  });

  it("h() refuses inline handlers and style attributes given as strings", () => {
    expect(() => h("div", { onclick: "alert(1)" })).toThrow(/not allowed/);
    expect(() => h("div", { style: "color:red" })).toThrow(/not allowed/);
  });
});

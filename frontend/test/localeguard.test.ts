import { describe, expect, it } from "vitest";
import { usableLanguage } from "../src/localeguard";

describe("the locale guard keeps Intl usable under the POSIX locale", () => {
  it.each([
    ["de-DE", "de-DE"],
    ["en", "en"],
    ["C", "en-US"],
    ["", "en-US"],
    [undefined, "en-US"],
  ])("%s → %s", (tag, want) => {
    expect(usableLanguage(tag)).toBe(want);
    expect(() => new Intl.NumberFormat(usableLanguage(tag))).not.toThrow();
  });
});

import { describe, expect, it } from "vitest";
import { passphraseProblem } from "../src/lock";

describe("passphrase form", () => {
  it("names what is wrong, as the reference does", () => {
    expect(passphraseProblem("", "")).toBe("Passphrase is required.");
    expect(passphraseProblem("short", "short")).toMatch(/at least 8/);
    expect(passphraseProblem("correct horse", "correct hors")).toBe("Passphrases do not match.");
    expect(passphraseProblem("correct horse", "correct horse")).toBeNull();
  });
  it("counts characters, not bytes", () => {
    expect(passphraseProblem("ééééééé", "ééééééé")).toMatch(/at least 8/); // 7 characters, 14 bytes
  });
});

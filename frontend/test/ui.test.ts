import { describe, expect, it } from "vitest";
import { newestOnly } from "../src/ui";

describe("newestOnly", () => {
  it("drops an older answer that arrives after a newer one", async () => {
    const resolvers: Array<(v: string) => void> = [];
    const applied: string[] = [];
    const load = newestOnly(
      () => new Promise<string>((res) => resolvers.push(res)),
      (v) => applied.push(v ?? "none"),
    );
    const first = load(); // e.g. the pending list, started by an event
    const second = load(); // the user switched to "approved"
    resolvers[1]("approved");
    await second;
    resolvers[0]("pending");
    await first;
    expect(applied).toEqual(["approved"]);
  });

  it("hands a failure to apply", async () => {
    let got: unknown = null;
    await newestOnly(
      () => Promise.reject(new Error("down")),
      (_v, e) => (got = e),
    )();
    expect((got as Error).message).toBe("down");
  });
});

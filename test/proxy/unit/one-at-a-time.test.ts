import assert from "node:assert/strict";
import { oneAtATime } from "../../../proxy/src/one-at-a-time";

describe("oneAtATime (route reloads)", () => {
  it("lets the last call win even when an earlier one is slower", async () => {
    let installed = "";
    const install = oneAtATime(async (table: string, ms: number) => {
      await new Promise((r) => setTimeout(r, ms));
      installed = table;
    });
    // unserialised, the slow first install would finish last and leave "old" in force
    await Promise.all([install("old", 40), install("new", 1)]);
    assert.equal(installed, "new");
  });

  it("runs one call at a time and keeps going after a failure, which its caller still sees", async () => {
    let running = 0;
    let most = 0;
    const seen: number[] = [];
    const task = oneAtATime(async (n: number) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 2));
      running--;
      if (n === 1) throw new Error("bad table");
      seen.push(n);
    });
    const results = await Promise.allSettled([0, 1, 2, 3].map((n) => task(n)));
    assert.equal(most, 1);
    assert.deepEqual(seen, [0, 2, 3]);
    assert.equal(results[1]?.status, "rejected");
  });
});

import * as assert from "node:assert/strict";
import { cpusAsReadBack } from "../../components/docker-readback";

describe("values in the form the Docker provider reads back", () => {
  // right-hand sides printed by the provider's own conversion (Go, math/big) for each input:
  // Docker parses `--cpus` into nano-CPUs, the provider's Read prints them back
  const readBack: [number, string][] = [
    [2, "2.0"], [1, "1.0"], [3, "3.0"], [16, "16.0"], [64, "64.0"],
    [10, "10."], [20, "20."], [100, "100."], [1024, "1024."],
    [0.5, "0.5"], [1.5, "1.5"], [1.25, "1.25"], [0.1, "0.1"], [0.2, "0.2"], [0.25, "0.25"],
    [0.75, "0.75"], [0.125, "0.125"], [1.05, "1.05"], [1.001, "1.001"], [2.5, "2.5"], [12.5, "12.5"],
  ];
  for (const [cpus, text] of readBack) {
    it(`declares cpus ${cpus} as "${text}"`, () => assert.deepEqual(cpusAsReadBack(cpus), { ok: true, text }));
  }

  // read back as another amount: "0.0" would even lift the limit on the next create
  for (const [cpus, shown] of [[0.05, "0.1"], [0.01, "0.0"], [0.001, "0.0"]] as const) {
    it(`refuses cpus ${cpus}, which reads back as "${shown}"`, () => {
      const r = cpusAsReadBack(cpus);
      assert.equal(r.ok, false);
      assert.match(r.ok ? "" : r.why, new RegExp(`as "${shown.replace(".", "\\.")}", another amount`));
    });
  }

  it("refuses what Docker cannot hold: finer than 0.001 CPU, zero", () => {
    for (const cpus of [0.0005, 1.0001, 0]) assert.equal(cpusAsReadBack(cpus).ok, false, String(cpus));
  });
});

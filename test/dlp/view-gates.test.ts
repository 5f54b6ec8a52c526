/**
 * The gates that spare request inspection work on encoded runs (dlp-views.ts) must never skip a
 * run that decodes to something printable. Checked against the definition, one alignment at a
 * time, on generated runs and on base64 of real text.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { base64Leads, views } from "../../proxy/src/inspect/dlp-views";

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_";

/**
 * The definition: decoding from start + lead gives 12 bytes with the top bit clear in a row
 * (every printable stretch is such a run, so the gate must let each through).
 */
function topBitClearAt(run: string, lead: number): boolean {
  if (run.length - lead < 16) return false;
  const bytes = Buffer.from(run.slice(lead), "base64");
  let streak = 0;
  for (const b of bytes) {
    if (b < 0x80) {
      if (++streak >= 12) return true;
    } else streak = 0;
  }
  return false;
}

describe("request inspection: gates on encoded runs", () => {
  it("names every alignment whose decoding has 12 bytes with the top bit clear in a row", () => {
    const run = fc.string({ unit: fc.constantFrom(...B64), minLength: 16, maxLength: 120 });
    const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 12, maxLength: 60 });
    // random runs, and runs that are base64 of printable text cut at any place
    const runs = fc.oneof(run, fc.tuple(fc.nat(3), printable).map(([cut, t]) => Buffer.from(t).toString("base64").replace(/=+$/, "").slice(cut)).filter((r) => r.length >= 16));
    fc.assert(
      fc.property(runs, (r) => {
        const leads = base64Leads(Buffer.from(r, "latin1"), 0, r.length);
        for (let lead = 0; lead < 4; lead++) {
          // the gate may let more through (decoding then finds nothing), never fewer
          if (topBitClearAt(r, lead)) assert.ok((leads & (1 << lead)) !== 0, `${r} at ${lead}`);
        }
      }),
      { numRuns: 4000, seed: 21 },
    );
  });

  it("decodes base64 of a secret at every cut, inside a longer run", () => {
    const secret = "token=" + "fakeFAKEfake0123456789".repeat(2);
    for (let cut = 0; cut < 4; cut++) {
      const run = Buffer.from(`xx${secret}`).toString("base64").slice(cut);
      const decoded = views(`data ${run} end`).list.find((v) => v.how === "base64");
      assert.ok(decoded?.text.includes("fakeFAKEfake0123456789"), `cut ${cut}`);
    }
  });

  it("skips hex runs of the letters a-f alone, which decode to no printable byte", () => {
    assert.equal(views(`x ${"deadbeef".repeat(8)} y`).list.some((v) => v.how === "hex"), false);
    assert.ok(views(`x ${Buffer.from("a hidden fake secret value").toString("hex")} y`).list.some((v) => v.how === "hex"));
  });
});

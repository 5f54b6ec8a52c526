import * as assert from "node:assert/strict";
import fc from "fast-check";
import { assignTokenSlots, tokenSlotConflicts } from "../../components";

describe("token slots", () => {
  it("numbers slots by first use; shared refs share a slot", () => {
    assert.deepEqual(assignTokenSlots(["b", undefined, "a", "b", "c", "a"]), [
      { slot: "EGRESS_PROXY_TOKEN_1", tokenRef: "b" },
      { slot: "EGRESS_PROXY_TOKEN_2", tokenRef: "a" },
      { slot: "EGRESS_PROXY_TOKEN_3", tokenRef: "c" },
    ]);
  });

  it("gives no slot to unauthenticated routes", () => {
    assert.deepEqual(assignTokenSlots([undefined, undefined]), []);
  });

  it("property: one slot per distinct ref, a bijection, numbered 1..n in first-use order", () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.constantFrom("a", "b", "c", "d", "e"), { nil: undefined })), (refs) => {
        const slots = assignTokenSlots(refs);
        const distinct = [...new Set(refs.filter((r) => r !== undefined))];
        assert.deepEqual(slots.map((s) => s.tokenRef), distinct);
        assert.deepEqual(slots.map((s) => s.slot), distinct.map((_, i) => `EGRESS_PROXY_TOKEN_${i + 1}`));
        assert.deepEqual(tokenSlotConflicts(slots, slots.map((s) => s.slot)), []);
      }),
    );
  });

  const conflicts: { name: string; slots: { slot: string; tokenRef: string }[]; used: string[]; expect: RegExp }[] = [
    {
      name: "a slot filled from two secrets",
      slots: [{ slot: "EGRESS_PROXY_TOKEN_1", tokenRef: "a" }, { slot: "EGRESS_PROXY_TOKEN_1", tokenRef: "b" }],
      used: ["EGRESS_PROXY_TOKEN_1"],
      expect: /^EGRESS_PROXY_TOKEN_1 would hold two secrets \(a and b\)$/,
    },
    {
      name: "a secret split over two slots",
      slots: [{ slot: "EGRESS_PROXY_TOKEN_1", tokenRef: "a" }, { slot: "EGRESS_PROXY_TOKEN_2", tokenRef: "a" }],
      used: ["EGRESS_PROXY_TOKEN_1", "EGRESS_PROXY_TOKEN_2"],
      expect: /^a would fill two slots/,
    },
    {
      name: "a route naming an unfilled slot",
      slots: [{ slot: "EGRESS_PROXY_TOKEN_1", tokenRef: "a" }],
      used: ["EGRESS_PROXY_TOKEN_1", "EGRESS_PROXY_TOKEN_2"],
      expect: /^a route uses EGRESS_PROXY_TOKEN_2, which no secret fills$/,
    },
    {
      name: "a filled slot no route uses",
      slots: [{ slot: "EGRESS_PROXY_TOKEN_1", tokenRef: "a" }],
      used: [],
      expect: /^EGRESS_PROXY_TOKEN_1 is filled but no route uses it$/,
    },
  ];
  for (const c of conflicts) {
    it(`reports a conflict: ${c.name}`, () => {
      const problems = tokenSlotConflicts(c.slots, c.used);
      assert.ok(problems.some((p) => c.expect.test(p)), problems.join("\n"));
    });
  }
});

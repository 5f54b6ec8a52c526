/**
 * The start-up self-check of mockttp's private parts (proxy/src/mockttp/self-check.ts): it passes
 * with the bottle CA, and a start whose interception would not verify fails it, naming why.
 */
import assert from "node:assert/strict";
import { selfCheck } from "../../proxy/src/mockttp/self-check";
import { makeTestCa } from "../helpers/test-ca";

describe("egress proxy: mockttp self-check at start-up", function () {
  this.timeout(20_000);

  it("passes: the probe request reached our listener with CONNECT target, SNI and TLS recorded", async () => {
    const ca = await makeTestCa("self-check CA");
    await selfCheck({ cert: ca.cert, key: ca.key });
  });

  it("fails, naming the TLS step, when leaves minted from the key do not verify against the certificate", async () => {
    const [ca, other] = await Promise.all([makeTestCa("self-check CA"), makeTestCa("another CA")]);
    await assert.rejects(selfCheck({ cert: ca.cert, key: other.key }), /TLS with a leaf from the bottle CA failed/);
  });
});

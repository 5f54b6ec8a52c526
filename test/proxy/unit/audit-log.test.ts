import assert from "node:assert/strict";
import { auditLine, batchedSink } from "../../../proxy/src/audit/audit-log";
import { pollUntil } from "../../helpers/deadline";

const record = { bottle: "b", method: "GET", host: "h.test", path: "/p", route: 0, verdict: "allow" as const, reason: "route matched" as const, status: 200, bytes: 10, duration_ms: 1.5 };

describe("audit lines", () => {
  it("have constant fields and cut a huge path", () => {
    const line = JSON.parse(auditLine({ ...record, path: `/${"a".repeat(600)}` }, new Date(0))) as Record<string, unknown>;
    assert.deepEqual(Object.keys(line), ["time", "event", "bottle", "method", "host", "path", "route", "verdict", "reason", "status", "bytes", "duration_ms"]);
    assert.equal(line.time, "1970-01-01T00:00:00.000Z");
    assert.equal(String(line.path).length, 515);
  });

  it("are written once per turn of the event loop, in order, and at once when many are pending", async () => {
    const writes: string[] = [];
    const sink = batchedSink((chunk) => writes.push(chunk), 3);
    sink("a");
    sink("b");
    assert.deepEqual(writes, [], "nothing written within the turn");
    await pollUntil("the turn's write", () => (writes.length ? writes : undefined));
    assert.deepEqual(writes, ["a\nb\n"]);
    sink("c");
    sink("d");
    sink("e");
    assert.deepEqual(writes, ["a\nb\n", "c\nd\ne\n"], "a full batch is written without waiting");
    sink("f");
    sink.flush();
    assert.deepEqual(writes, ["a\nb\n", "c\nd\ne\n", "f\n"], "flush writes what is pending");
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(writes.length, 3, "a flushed batch is not written twice");
  });
});

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { agentRequest } from "../helpers/agent-client";
import { pollUntil } from "../helpers/deadline";
import { standardRoutes, startFixture, type Fixture } from "../helpers/proxy-fixture";
import { patternChunk, startStreamUpstream, type StreamUpstream } from "../helpers/stream-upstream";

/** 1 GiB by default; BOT_BOTTLE_TRANSFER_MB makes a quicker local run. */
const TRANSFER_BYTES = Number(process.env.BOT_BOTTLE_TRANSFER_MB ?? "1024") * 1024 * 1024;
/** The proxy's peak RSS must stay under this during 1 GiB each way (measured: see README). */
const PEAK_RSS_LIMIT_MB = 200;

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m?.[1]) throw new Error("no VmHWM in /proc status");
  return Number(m[1]) / 1024;
}

function patternStream(total: number): Readable {
  const chunk = patternChunk(64 * 1024);
  let left = total;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= part.length;
      this.push(part);
    },
  });
}

function patternHash(total: number): string {
  const h = createHash("sha256");
  const chunk = patternChunk(64 * 1024);
  for (let left = total; left > 0; left -= chunk.length) h.update(left >= chunk.length ? chunk : chunk.subarray(0, left));
  return h.digest("hex");
}

describe("egress proxy: streaming", function () {
  this.timeout(240_000);
  let f: Fixture;
  let up: StreamUpstream;
  before(async () => {
    const base = standardRoutes() as { version: 1; routes: unknown[] };
    f = await startFixture({
      routes: { ...base, routes: [...base.routes, { host: "stream.test" }] },
      extraHosts: async (ca) => {
        up = await startStreamUpstream(ca, ["stream.test"]);
        return { "stream.test:443": up.port };
      },
    });
  });
  after(async () => {
    await f?.close();
    await up?.close();
  });

  it("delivers each SSE event as it is sent, not when the stream ends", async () => {
    const received: string[] = [];
    const done = agentRequest({
      proxyPort: f.proxy.port,
      ca: f.bottleCa.cert,
      host: "stream.test",
      target: "/sse",
      onResponse: (res) => res.on("data", (d: Buffer) => received.push(d.toString())),
    });
    await pollUntil("SSE stream open upstream", () => (up.openEventStreams() > 0 ? true : undefined));
    up.sendEvent("one");
    await pollUntil("first event at the agent", () => (received.join("").includes("data: one") ? true : undefined), 5000);
    assert.ok(!received.join("").includes("two"));
    up.sendEvent("two");
    await pollUntil("second event at the agent", () => (received.join("").includes("data: two") ? true : undefined), 5000);
    up.endEvents();
    const res = await done;
    assert.equal(res.status, 200);
  });

  it("streams a large download and upload with the proxy's memory bounded", async () => {
    const hash = createHash("sha256");
    let received = 0;
    const download = await agentRequest({
      proxyPort: f.proxy.port,
      ca: f.bottleCa.cert,
      host: "stream.test",
      target: `/download?bytes=${TRANSFER_BYTES}`,
      timeoutMs: 200_000,
      sink: (c) => {
        received += c.length;
        hash.update(c);
      },
    });
    assert.equal(download.status, 200);
    assert.equal(received, TRANSFER_BYTES);
    assert.equal(hash.digest("hex"), patternHash(TRANSFER_BYTES));

    const upload = await agentRequest({
      proxyPort: f.proxy.port,
      ca: f.bottleCa.cert,
      host: "stream.test",
      method: "POST",
      target: "/upload",
      headers: [["content-type", "application/octet-stream"], ["transfer-encoding", "chunked"]],
      body: patternStream(TRANSFER_BYTES),
      timeoutMs: 200_000,
    });
    assert.equal(upload.status, 200, upload.body.toString());
    assert.deepEqual(JSON.parse(upload.body.toString()), { bytes: TRANSFER_BYTES, sha256: patternHash(TRANSFER_BYTES) });

    const peak = peakRssMb(f.proxy.child.pid ?? 0);
    console.log(`      proxy peak RSS after ${TRANSFER_BYTES / 2 ** 20} MiB each way: ${peak.toFixed(0)} MB`);
    assert.ok(peak < PEAK_RSS_LIMIT_MB, `proxy peak RSS ${peak.toFixed(0)} MB >= ${PEAK_RSS_LIMIT_MB} MB`);
  });
});

/**
 * Answers no well-behaved upstream sends, and agent bodies the proxy does not read in full. The
 * proxy relays what it can, answers 502 for what it cannot, and never dies: a crash would end the
 * egress of every bottle.
 */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import tls from "node:tls";
import { agentRequest, rawExchange, tunnel } from "../helpers/agent-client";
import { pollUntil } from "../helpers/deadline";
import { startFixture, type Fixture } from "../helpers/proxy-fixture";
import { leafCertificate } from "../helpers/test-ca";

const BIG = 200_000;

/** Raw replies by request path: the upstream writes these bytes and then, for some, closes. */
const REPLIES: Record<string, { bytes: string; close?: boolean }> = {
  "/status-099": { bytes: "HTTP/1.1 099 Odd\r\ncontent-length: 0\r\n\r\n" },
  "/reason-del": { bytes: "HTTP/1.1 200 O\x7fK\r\ncontent-length: 0\r\n\r\n" },
  "/switch": { bytes: "HTTP/1.1 101 Switching Protocols\r\nupgrade: x\r\nconnection: upgrade\r\n\r\n" },
  "/close-delimited": { bytes: `HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n${"z".repeat(BIG)}`, close: true },
  "/ok": { bytes: "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok" },
};

describe("egress proxy: odd upstream answers and unread bodies", function () {
  this.timeout(30_000);
  let f: Fixture;
  let upstream: tls.Server;
  before(async () => {
    f = await startFixture({
      routes: { version: 1, routes: [{ host: "raw.test", path_allowlist: ["/*"] }, { host: "form.test", methods: ["POST"] }] },
      env: { EGRESS_PROXY_IDLE_TIMEOUT_S: "3" },
      extraHosts: async (upstreamCa) => {
        upstream = tls.createServer(leafCertificate(upstreamCa, "DNS:raw.test"), (socket) => {
          socket.on("error", () => undefined);
          let head = "";
          socket.on("data", (d: Buffer) => {
            head += d.toString("latin1");
            const end = head.indexOf("\r\n\r\n");
            if (end === -1) return;
            const path = head.split(" ")[1] ?? "";
            head = head.slice(end + 4);
            const reply = REPLIES[path] ?? REPLIES["/ok"]!;
            socket.write(reply.bytes, "latin1");
            if (reply.close) socket.end();
          });
        });
        await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
        return { "raw.test:443": (upstream.address() as AddressInfo).port };
      },
    });
  });
  after(async () => {
    await f?.close();
    upstream?.close();
  });

  const get = (path: string) => agentRequest({ proxyPort: f.proxy.port, ca: f.bottleCa.cert, host: "raw.test", target: path, timeoutMs: 10_000 });

  for (const path of ["/status-099", "/reason-del", "/switch"]) {
    it(`answers 502 to an upstream reply Node cannot relay (${path}) and keeps serving`, async () => {
      const res = await get(path);
      assert.equal(res.status, 502);
      assert.equal((await get("/ok")).status, 200, "the proxy still serves");
      const line = await pollUntil("audit line", () => f.proxy.events("decision").find((d) => d.path === path));
      assert.deepEqual([line.verdict, line.status], ["error", 502]);
    });
  }

  it("relays a close-delimited body whole", async () => {
    const res = await get("/close-delimited");
    assert.equal(res.status, 200);
    assert.equal(res.body.length, BIG);
  });

  it("closes the connection after refusing a request whose body it did not read, so the next request is not stuck behind it", async () => {
    const socket = await tunnel(f.proxy.port, "raw.test:443", "raw.test", f.bottleCa.cert);
    try {
      // Refused by path; the 300 kB body is never read.
      const refused = await rawExchange(socket, `POST /a/b HTTP/1.1\r\nHost: raw.test\r\ncontent-length: 300000\r\n\r\n${"x".repeat(300_000)}`);
      assert.equal(refused.status, 403);
      assert.match(refused.head, /\r\nconnection: close/i);
    } finally {
      socket.destroy();
    }
  });

  it("logs a request whose agent leaves while its form body is being read", async () => {
    const socket = await tunnel(f.proxy.port, "form.test:443", "form.test", f.bottleCa.cert);
    // The head and part of the body, then the end of the agent's side.
    socket.end("POST /submit HTTP/1.1\r\nHost: form.test\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 1000\r\n\r\na=1&b=");
    const line = await pollUntil("audit line", () => f.proxy.events("decision").find((d) => d.host === "form.test"));
    assert.deepEqual([line.verdict, line.reason], ["deny", "form body not inspectable"]);
  });

  it("sends 100 Continue for any spelling Node recognises, once the request is admitted", async () => {
    const socket = await tunnel(f.proxy.port, "raw.test:443", "raw.test", f.bottleCa.cert);
    try {
      const interim = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no 100 Continue")), 5000);
        socket.once("data", (d: Buffer) => {
          clearTimeout(timer);
          resolve(d.toString("latin1"));
        });
        socket.write("POST /ok HTTP/1.1\r\nHost: raw.test\r\nExpect: 100-Continue, x-other\r\ncontent-length: 2\r\n\r\n");
      });
      assert.match(interim, /^HTTP\/1\.1 100 Continue\r\n/);
      const res = await rawExchange(socket, "hi");
      assert.equal(res.status, 200);
    } finally {
      socket.destroy();
    }
  });
});

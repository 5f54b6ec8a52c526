/**
 * Answers no well-behaved upstream sends, and agent bodies the proxy does not read in full. The
 * proxy relays what it can, answers 502 for what it cannot, and never dies: a crash would end the
 * egress of every bottle.
 */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import tls from "node:tls";
import { agentRequest } from "../helpers/agent-client";
import { pollUntil } from "../helpers/deadline";
import { startFixture, type Fixture } from "../helpers/proxy-fixture";
import { exchange, tunnel } from "../helpers/raw-http";
import { leafCertificate } from "../helpers/test-ca";

const BIG = 200_000;

/** Raw replies by request path: the upstream writes these bytes and then, for some, closes. */
const REPLIES: Record<string, { bytes: string; close?: boolean }> = {
  "/status-099": { bytes: "HTTP/1.1 099 Odd\r\ncontent-length: 0\r\n\r\n" },
  "/reason-del": { bytes: "HTTP/1.1 200 O\x7fK\r\ncontent-length: 0\r\n\r\n" },
  "/switch": { bytes: "HTTP/1.1 101 Switching Protocols\r\nupgrade: x\r\nconnection: upgrade\r\n\r\n" },
  "/close-delimited": { bytes: `HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n${"z".repeat(BIG)}`, close: true },
  "/ok": { bytes: "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok" },
  // Bytes after a complete answer, in the same write.
  "/trailing-garbage": { bytes: "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok\x00\x01garbage\r\n\r\n" },
  // Answered at once, before the request body (the upload) has arrived.
  "/early": { bytes: "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok" },
};
/** Served on a fresh connection only; a kept-alive one is closed instead, as a server that just dropped it. */
const FRESH_ONLY = "/fresh-only";

describe("egress proxy: odd upstream answers and unread bodies", function () {
  this.timeout(30_000);
  let f: Fixture;
  let upstream: tls.Server;
  const seen: string[] = [];
  const earlyClosed: number[] = [];
  before(async () => {
    f = await startFixture({
      routes: { version: 1, routes: [{ host: "raw.test", path_allowlist: ["/*"] }, { host: "form.test", methods: ["POST"] }] },
      env: { EGRESS_PROXY_IDLE_TIMEOUT_S: "3" },
      extraHosts: async (upstreamCa) => {
        upstream = tls.createServer(leafCertificate(upstreamCa, "DNS:raw.test"), (socket) => {
          socket.on("error", () => undefined);
          let head = "";
          let served = 0;
          socket.on("data", (d: Buffer) => {
            head += d.toString("latin1");
            const end = head.indexOf("\r\n\r\n");
            if (end === -1) return;
            const [method, path = ""] = head.split(" ");
            head = head.slice(end + 4);
            seen.push(`${method} ${path}`);
            if (path === FRESH_ONLY && served > 0) return void socket.destroy();
            if (path === "/early") socket.once("close", () => earlyClosed.push(Date.now()));
            served += 1;
            const reply = REPLIES[path] ?? REPLIES["/ok"];
            assert.ok(reply, "no reply for /ok");
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

  it("sends a safe request again when the kept-alive connection it was written to had been dropped, and never a POST", async () => {
    assert.equal((await get(FRESH_ONLY)).status, 200);
    const before = seen.length;
    // The pooled connection is reused and dropped by the server: the GET goes again on a new one.
    assert.equal((await get(FRESH_ONLY)).status, 200);
    assert.deepEqual(seen.slice(before), [`GET ${FRESH_ONLY}`, `GET ${FRESH_ONLY}`]);
    const postBefore = seen.length;
    const post = await agentRequest({ proxyPort: f.proxy.port, ca: f.bottleCa.cert, host: "raw.test", method: "POST", target: FRESH_ONLY, body: "x=1", headers: [["content-type", "text/plain"]] });
    assert.equal(post.status, 502);
    assert.deepEqual(seen.slice(postBefore), [`POST ${FRESH_ONLY}`], "the POST was sent once");
  });

  it("relays a complete answer even when garbage follows it", async () => {
    const res = await get("/trailing-garbage");
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), "ok");
    const line = await pollUntil("audit line", () => f.proxy.events("decision").find((d) => d.path === "/trailing-garbage"));
    assert.deepEqual([line.verdict, line.status], ["allow", 200]);
  });

  it("closes the upstream exchange when the agent leaves in the middle of an upload that was already answered", async () => {
    const socket = await tunnel(f.proxy.port, "raw.test:443", "raw.test", f.bottleCa.cert);
    const answered = await exchange(socket, "POST /early HTTP/1.1\r\nHost: raw.test\r\ncontent-length: 100000\r\n\r\nsome");
    assert.equal(answered.status, 200);
    const left = Date.now();
    socket.destroy();
    const closed = await pollUntil("the upstream connection to close", () => earlyClosed[0]);
    // Well before the 3 s idle limit, which would otherwise hold it.
    assert.ok(closed - left < 1500, `upstream connection closed ${closed - left} ms after the agent left`);
  });

  it("relays a close-delimited body whole", async () => {
    const res = await get("/close-delimited");
    assert.equal(res.status, 200);
    assert.equal(res.body.length, BIG);
  });

  it("closes the connection after refusing a request whose body it did not read, so the next request is not stuck behind it", async () => {
    const socket = await tunnel(f.proxy.port, "raw.test:443", "raw.test", f.bottleCa.cert);
    try {
      // Refused by path; the 300 kB body is never read.
      const refused = await exchange(socket, `POST /a/b HTTP/1.1\r\nHost: raw.test\r\ncontent-length: 300000\r\n\r\n${"x".repeat(300_000)}`);
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
      // the interim answer on its own: the body goes only once it has come
      const interim = await exchange(socket, "POST /ok HTTP/1.1\r\nHost: raw.test\r\nExpect: 100-Continue, x-other\r\ncontent-length: 2\r\n\r\n", { interim: "return", timeoutMs: 5000 });
      assert.match(interim.head, /^HTTP\/1\.1 100 Continue(\r\n|$)/);
      const res = await exchange(socket, "hi");
      assert.equal(res.status, 200);
    } finally {
      socket.destroy();
    }
  });
});

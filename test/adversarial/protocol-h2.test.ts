/**
 * HTTP/2 at the proxy. The proxy configures mockttp with `http2: false`, but mockttp's protocol
 * sniffer (httpolyglot) still hands an `h2` ALPN choice or the h2c prior-knowledge preface to a
 * Node HTTP/2 server. These tests pin what an agent can do with that, `:authority` included.
 */
import assert from "node:assert/strict";
import http2 from "node:http2";
import { FAKE_TOKENS } from "../helpers/proxy-fixture";
import { startAdversarialFixture, type AdversarialFixture } from "./lib/adversarial-fixture";
import { loadRouteSets } from "./lib/corpus";
import { rawConnect, tlsOver } from "./lib/raw-client";

interface H2Answer {
  status: number;
  body: string;
}

function h2Request(client: http2.ClientHttp2Session, headers: Record<string, string>): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const stream = client.request({ ":method": "GET", ...headers });
    const timer = setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), 8000);
    let body = "";
    let status = 0;
    stream.on("response", (h) => (status = Number(h[":status"])));
    stream.on("data", (d: Buffer) => (body += d.toString()));
    stream.on("end", () => {
      clearTimeout(timer);
      resolve({ status, body });
    });
    stream.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

const denial = (a: H2Answer) => (JSON.parse(a.body) as { reason?: string }).reason;

describe("adversarial: HTTP/2 reached through ALPN or prior knowledge", function () {
  this.timeout(30_000);
  let f: AdversarialFixture;
  before(async () => {
    f = await startAdversarialFixture(loadRouteSets().corpus);
  });
  after(async () => {
    await f?.close();
  });

  /** An HTTP/2 session inside a CONNECT tunnel, TLS with SNI `host` and ALPN h2 only. */
  async function h2OverTls(host: string): Promise<http2.ClientHttp2Session> {
    const secure = await tlsOver(await rawConnect(f.proxy.port, `${host}:443`), host, f.bottleCa.cert, ["h2"]);
    assert.equal(secure.alpnProtocol, "h2", "the proxy negotiates h2 when it is the only protocol offered");
    const client = http2.connect(`https://${host}`, { createConnection: () => secure });
    client.on("error", () => undefined);
    return client;
  }

  it("prefers HTTP/1.1 when the agent offers both h2 and http/1.1", async () => {
    const secure = await tlsOver(await rawConnect(f.proxy.port, "open.test:443"), "open.test", f.bottleCa.cert, ["h2", "http/1.1"]);
    assert.equal(secure.alpnProtocol, "http/1.1");
    secure.destroy();
  });

  it("refuses an HTTP/2 request that carries only :authority (no Host header), forwarding nothing", async () => {
    const before = f.seen.length;
    const client = await h2OverTls("api.github.test");
    try {
      const a = await h2Request(client, { ":path": "/user", ":authority": "api.github.test" });
      assert.equal(a.status, 400);
      assert.equal(denial(a), "malformed destination");
    } finally {
      client.close();
    }
    assert.equal(f.seen.length, before);
  });

  it("refuses dot segments in an HTTP/2 :path", async () => {
    const before = f.seen.length;
    const client = await h2OverTls("api.github.test");
    try {
      const a = await h2Request(client, { ":path": "/repos/acme/widget/../../secret", ":authority": "api.github.test", host: "api.github.test" });
      assert.equal(a.status, 400);
      assert.equal(denial(a), "non-canonical path");
    } finally {
      client.close();
    }
    assert.equal(f.seen.length, before);
  });

  // KNOWN BYPASS: `:authority` is not one of the names `decide` compares (request-facts.ts reads
  // only `host`). Today this answers 200 and upstream gets the injected token; over an HTTP/1.1
  // upstream the :authority is dropped, but an HTTP/2 upstream (direct mode) or a shared front end
  // routing on :authority would receive the credential for another virtual host.
  it.skip("KNOWN BYPASS refuses an HTTP/2 :authority naming another host than Host, SNI and tunnel (403 destination mismatch)", async () => {
    const before = f.seen.length;
    const client = await h2OverTls("api.github.test");
    try {
      const a = await h2Request(client, { ":path": "/user", ":authority": "evil.test", host: "api.github.test" });
      assert.equal(a.status, 403, `got ${a.status} ${a.body}`);
      assert.equal(denial(a), "destination mismatch");
      assert.ok(!a.body.includes(FAKE_TOKENS.github));
    } finally {
      client.close();
    }
    assert.equal(f.seen.length, before, "the request reached the upstream with the injected credential");
  });

  it("h2c prior knowledge straight at the proxy: :authority and Host must agree", async () => {
    const client = http2.connect(`http://127.0.0.1:${f.proxy.port}`);
    client.on("error", () => undefined);
    const before = f.seen.length;
    try {
      const mismatch1 = await h2Request(client, { ":path": "/x", ":authority": "evil.test", host: "plain.test" });
      const mismatch2 = await h2Request(client, { ":path": "/x", ":authority": "plain.test", host: "evil.test" });
      assert.deepEqual([mismatch1.status, denial(mismatch1)], [403, "destination mismatch"]);
      assert.deepEqual([mismatch2.status, denial(mismatch2)], [403, "destination mismatch"]);
      assert.equal(f.seen.length, before);
      const noHost = await h2Request(client, { ":path": "/x", ":authority": "plain.test" });
      assert.deepEqual([noHost.status, denial(noHost)], [400, "malformed destination"]);
    } finally {
      client.close();
    }
  });

  it("h2c prior knowledge inside a plain CONNECT tunnel: a foreign :authority is refused", async () => {
    const socket = await rawConnect(f.proxy.port, "plain.test:80");
    const client = http2.connect("http://plain.test", { createConnection: () => socket });
    client.on("error", () => undefined);
    const before = f.seen.length;
    try {
      const a = await h2Request(client, { ":path": "/x", ":authority": "evil.test", host: "plain.test" });
      assert.deepEqual([a.status, denial(a)], [403, "destination mismatch"]);
    } finally {
      client.close();
    }
    assert.equal(f.seen.length, before);
  });
});

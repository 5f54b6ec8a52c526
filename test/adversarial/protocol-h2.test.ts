/**
 * HTTP/2 at the proxy. The proxy configures mockttp with `http2: false`, but mockttp's protocol
 * sniffer (httpolyglot) still hands an `h2` ALPN choice or the h2c prior-knowledge preface to a
 * Node HTTP/2 server. Whatever an agent puts in `:authority`, `:path` and Host there, nothing
 * may be forwarded on another name than the one the policy checked.
 */
import assert from "node:assert/strict";
import http2 from "node:http2";
import { FAKE_TOKENS } from "../helpers/fake-tokens";
import { connectTunnel, startTls, tunnel } from "../helpers/raw-http";
import { type AdversarialFixture, useCorpusFixture } from "./lib/adversarial-fixture";

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

/**
 * Reasons an HTTP/2 request may be refused with. Since a479623 the proxy refuses HTTP/2 outright
 * ("unsupported HTTP version"); before it, these requests met the HTTP/1 rules, and one of them
 * (a foreign :authority) was forwarded with the credential.
 */
const H2_REFUSALS = new Set(["unsupported HTTP version", "destination mismatch", "malformed destination", "non-canonical path"]);

describe("adversarial: HTTP/2 reached through ALPN or prior knowledge", function () {
  this.timeout(30_000);
  let f: AdversarialFixture;
  useCorpusFixture((started) => (f = started));

  /** An HTTP/2 session inside a CONNECT tunnel, TLS with SNI `host` and ALPN h2 only. */
  /** Send each header set on `client`; every one must be refused and nothing may reach upstream. */
  async function assertAllRefused(client: http2.ClientHttp2Session, sets: Record<string, string>[]): Promise<void> {
    const before = f.seen.length;
    const forwardBefore = f.forward.targets.length;
    try {
      for (const headers of sets) {
        const a = await h2Request(client, headers);
        assert.ok(a.status === 400 || a.status === 403, `${JSON.stringify(headers)}: got ${a.status} ${a.body}`);
        assert.ok(H2_REFUSALS.has(denial(a) ?? ""), `${JSON.stringify(headers)}: reason ${denial(a)}`);
        for (const t of Object.values(FAKE_TOKENS)) assert.ok(!a.body.includes(t));
      }
    } finally {
      client.close();
    }
    assert.equal(f.seen.length, before, "an HTTP/2 request reached the upstream");
    assert.deepEqual(f.forward.targets.slice(forwardBefore), [], "an HTTP/2 request reached the forward proxy");
  }

  it("prefers HTTP/1.1 when the agent offers both h2 and http/1.1", async () => {
    const secure = await tunnel(f.proxy.port, "open.test:443", "open.test", f.bottleCa.cert, { alpn: ["h2", "http/1.1"] });
    assert.equal(secure.alpnProtocol, "http/1.1");
    secure.destroy();
  });

  it("h2 over ALPN: an h2-only client fails the TLS handshake (it once reached the rules, and a foreign :authority was forwarded with the credential)", async () => {
    const before = f.seen.length;
    await assert.rejects(startTls(await connectTunnel(f.proxy.port, "api.github.test:443"), "api.github.test", f.bottleCa.cert, ["h2"]), /no_application_protocol|ALPN|alert/i);
    assert.equal(f.seen.length, before);
  });

  it("h2c prior knowledge straight at the proxy: refused whatever :authority and Host say", async () => {
    const client = http2.connect(`http://127.0.0.1:${f.proxy.port}`);
    client.on("error", () => undefined);
    await assertAllRefused(client, [
      { ":path": "/x", ":authority": "evil.test", host: "plain.test" },
      { ":path": "/x", ":authority": "plain.test", host: "evil.test" },
      { ":path": "/x", ":authority": "plain.test" },
    ]);
  });

  it("h2c prior knowledge inside a plain CONNECT tunnel: a foreign :authority is refused", async () => {
    const socket = await connectTunnel(f.proxy.port, "plain.test:80");
    const client = http2.connect("http://plain.test", { createConnection: () => socket });
    client.on("error", () => undefined);
    await assertAllRefused(client, [{ ":path": "/x", ":authority": "evil.test", host: "plain.test" }]);
  });
});

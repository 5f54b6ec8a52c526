/**
 * Tricks that need more than one request on a connection: the decision is taken for every
 * request, not once per connection; pipelined requests hidden in a body are decided on their own;
 * a CONNECT nested inside an intercepted tunnel moves the destination consistently.
 */
import assert from "node:assert/strict";
import { connectTunnel, exchange, readHead, readResponses, startTls, tunnel } from "../helpers/raw-http";
import { FAKE_TOKENS } from "../helpers/fake-tokens";
import { type AdversarialFixture, useCorpusFixture } from "./lib/adversarial-fixture";
import { classifiedExchange } from "./lib/transports";

const denialOf = (head: string) => /\r\nx-egress-proxy-denial: *([^\r\n]*)/i.exec(head)?.[1];

describe("adversarial: several requests on one connection", function () {
  this.timeout(30_000);
  let f: AdversarialFixture;
  useCorpusFixture((started) => (f = started));

  it("decides every request on a kept-alive tunnel: a Host switch after allowed requests is refused", async () => {
    const conn = await tunnel(f.proxy.port, "api.github.test:443", "api.github.test", f.bottleCa.cert);
    try {
      assert.equal((await exchange(conn, "GET /user HTTP/1.1\r\nHost: api.github.test\r\n\r\n")).status, 200);
      assert.equal((await exchange(conn, "GET /repos/acme/widget/x HTTP/1.1\r\nHost: api.github.test\r\n\r\n")).status, 200);
      const before = f.seen.length;
      // A refusal carries no Content-Length, so the proxy ends the connection after it.
      const switched = await exchange(conn, "GET /user HTTP/1.1\r\nHost: open.test\r\n\r\n");
      assert.equal(switched.status, 403);
      assert.equal(denialOf(switched.head), "destination mismatch");
      assert.equal(f.seen.length, before, "a refused request on a reused connection reached the upstream");
    } finally {
      conn.destroy();
    }
  });

  it("decides a request pipelined inside another's body on its own (HTTPS)", async () => {
    const conn = await tunnel(f.proxy.port, "api.github.test:443", "api.github.test", f.bottleCa.cert);
    const before = f.seen.length;
    try {
      const smuggled = "GET /repos/other/secret HTTP/1.1\r\nHost: api.github.test\r\nX-Corpus-Case: pipelined-https\r\n\r\n";
      const [first, second] = await readResponses(conn, 2, { timeoutMs: 8000 }, `POST /user HTTP/1.1\r\nHost: api.github.test\r\nContent-Length: 5\r\n\r\nhello${smuggled}`);
      assert.equal(first?.status, 200);
      assert.equal(second?.status, 403);
      assert.equal(denialOf(second?.head ?? ""), "path not allowed");
    } finally {
      conn.destroy();
    }
    const seen = f.seen.slice(before);
    assert.deepEqual(seen.map((s) => `${s.method} ${s.path}`), ["POST /user"]);
    assert.equal(seen[0]?.body, "hello", "the upstream got exactly the declared body");
  });

  it("decides a request pipelined inside another's body on its own (plain HTTP, other host)", async () => {
    const socket = await connectTunnel(f.proxy.port, "plain.test:80");
    const before = f.seen.length;
    try {
      const [first, second] = await readResponses(socket, 2, { timeoutMs: 8000 }, "POST /x HTTP/1.1\r\nHost: plain.test\r\nContent-Length: 3\r\n\r\nabcGET /x HTTP/1.1\r\nHost: evil.test\r\n\r\n");
      assert.equal(first?.status, 200);
      assert.equal(denialOf(second?.head ?? ""), "destination mismatch");
    } finally {
      socket.destroy();
    }
    assert.deepEqual(f.seen.slice(before).map((s) => s.path), ["/x"]);
  });

  it("a CONNECT nested inside an intercepted tunnel moves the whole destination, consistently", async () => {
    const outer = await tunnel(f.proxy.port, "open.test:443", "open.test", f.bottleCa.cert);
    try {
      outer.write("CONNECT api.github.test:443 HTTP/1.1\r\nHost: api.github.test:443\r\n\r\n");
      assert.match(await readHead(outer), /^HTTP\/1\.1 200/);
      const inner = await startTls(outer, "api.github.test", f.bottleCa.cert);
      const forwardBefore = f.forward.targets.length;
      // The inner tunnel's name is now the destination: a request naming it goes there, with
      // that route's credential...
      const before = f.seen.length;
      const ok = await classifiedExchange(inner, "GET /user HTTP/1.1\r\nHost: api.github.test\r\n\r\n");
      assert.equal(ok.status, 200);
      // (a new tunnel to it, or one an earlier request opened and the proxy keeps alive)
      const opened = f.forward.targets.slice(forwardBefore);
      assert.ok(opened.every((t) => t === "api.github.test:443") && f.forward.targets.includes("api.github.test:443"), `forward proxy saw ${opened.join(", ")}`);
      const seen = f.seen.slice(before);
      assert.equal(seen.length, 1);
      assert.deepEqual(seen[0]?.rawHeaders.filter(([k]) => k.toLowerCase() === "authorization").map(([, v]) => v), [`Bearer ${FAKE_TOKENS.github}`]);
      // ...and the outer tunnel's host is now a mismatch.
      const wrongHost = await classifiedExchange(inner, "GET / HTTP/1.1\r\nHost: open.test\r\n\r\n");
      assert.equal(wrongHost.denial, "destination mismatch");
      assert.equal(f.seen.length, before + 1);
      inner.destroy();
    } finally {
      outer.destroy();
    }
  });
});

/**
 * Secret leak checks with the fake tokens: after a mix of allowed, denied, malformed and failing
 * traffic, the tokens (and the agent's own credentials, query strings and header values) must not
 * appear in the proxy's stdout or stderr, in any reply to the agent, in the CONNECT requests the
 * proxy sends to pipelock, in routes.yaml, or in the rendered bottle plan; not even through an
 * allowed upstream that echoes the request headers (test/proxy/echo.test.ts has every form of it).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import net from "node:net";
import { loadStack } from "../../components/load-config";
import { bottle, fakeTokenSource, stack } from "../components/fixtures";
import { runProxyExpectingFailure, startupEnv } from "../helpers/proxy-process";
import { proxyOutput, standardRoutes } from "../helpers/proxy-fixture";
import { FAKE_TOKENS, FAKE_UNSENDABLE_TOKEN } from "../helpers/fake-tokens";
import { makeTestCa } from "../helpers/test-ca";
import { pollUntil } from "../helpers/deadline";
import { startAdversarialFixture, type AdversarialFixture } from "./lib/adversarial-fixture";
import { loadCorpus, loadRouteSets } from "./lib/corpus";
import { classifiedExchange, openTransport, renderRequest } from "./lib/transports";

const TOKENS = Object.values(FAKE_TOKENS);
const QUERY_MARKER = "query-marker-3b1f";
const HEADER_MARKER = "header-marker-9c2e";

/** A TCP relay in front of the forward proxy that keeps the head of every CONNECT it carries. */
async function startConnectRecorder(): Promise<{ url: string; heads: string[]; target: { port: number }; close(): void }> {
  const heads: string[] = [];
  const target = { port: 0 };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on("error", () => undefined);
    let head = Buffer.alloc(0);
    const upstream = net.connect(target.port, "127.0.0.1");
    sockets.add(upstream);
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    const onData = (d: Buffer) => {
      head = Buffer.concat([head, d]);
      const end = head.indexOf("\r\n\r\n");
      if (end === -1 && head.length < 65536) return;
      heads.push(head.subarray(0, end === -1 ? head.length : end).toString("latin1"));
      client.off("data", onData);
      upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
    };
    client.on("data", onData);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    heads,
    target,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

describe("adversarial: secret leaks", function () {
  this.timeout(60_000);
  let f: AdversarialFixture;
  let recorder: Awaited<ReturnType<typeof startConnectRecorder>>;
  const replies: string[] = [];

  before(async () => {
    recorder = await startConnectRecorder();
    f = await startAdversarialFixture(loadRouteSets().corpus, { HTTPS_PROXY: recorder.url });
    recorder.target.port = f.forward.port;

    // Every corpus case that is not a known bypass (those include crashes), with agent
    // credentials, a query marker and a header marker added where the case is not raw bytes;
    // eight at a time (attribution per case is the corpus runner's job, not this one's).
    const cases = loadCorpus().filter((k) => !k.knownBypass);
    const worker = async () => {
      for (let c = cases.shift(); c; c = cases.shift()) {
        const request = c.request.raw !== undefined || c.request.requestLine !== undefined
          ? c.request
          : {
              ...c.request,
              target: `${c.request.target ?? "/"}${(c.request.target ?? "").includes("?") ? "&" : "?"}q=${QUERY_MARKER}`,
              headers: [...(c.request.headers ?? []), ["X-Trace", HEADER_MARKER] as [string, string], ["Authorization", "Bearer agent-cred-leak"] as [string, string]],
            };
        const socket = await openTransport(request, c.transport, f.proxy.port, f.bottleCa.cert).catch(() => undefined);
        if (!socket) continue;
        const x = await classifiedExchange(socket, renderRequest(request, c.transport, c.id), 8000).catch(() => undefined);
        socket.destroy();
        if (x) replies.push(`${x.head}\r\n\r\n${x.body}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    // Upstream failures: a route whose host the forward proxy does not resolve, then none at all.
    for (const host of ["zz.wild.test", "a.wild.test"]) {
      const socket = await openTransport({ host, target: "/x" }, "https-intercepted", f.proxy.port, f.bottleCa.cert);
      const x = await classifiedExchange(socket, `GET /x?q=${QUERY_MARKER} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer agent-cred-leak\r\n\r\n`, 15_000);
      socket.destroy();
      replies.push(`${x.head}\r\n\r\n${x.body}`);
      if (host === "zz.wild.test") recorder.target.port = 1; // nothing listens there: every CONNECT now fails
    }
  });
  after(async () => {
    await f?.close();
    recorder?.close();
  });

  it("ran a meaningful mix: replies of every layer were collected", () => {
    assert.ok(replies.length > 300, `${replies.length} replies`);
    assert.ok(replies.some((r) => /^HTTP\/1\.1 502/.test(r)), "an upstream failure reply was seen");
    assert.ok(replies.some((r) => /x-egress-proxy-denial/i.test(r)), "a denial was seen");
    assert.ok(replies.some((r) => /^HTTP\/1\.1 400 Bad Request\r\nConnection: close/.test(r)), "a parser refusal was seen");
  });

  it("no reply to the agent carries a token, an agent credential or the internal upstream address", () => {
    for (const r of replies) {
      for (const t of TOKENS) assert.ok(!r.includes(t), `a reply carries a token: ${r.slice(0, 200)}`);
      assert.ok(!r.includes("agent-cred-leak"), `a reply echoes the agent's credential: ${r.slice(0, 200)}`);
      if (!/x-recording-upstream/i.test(r)) assert.ok(!r.includes(`127.0.0.1:${f.forward.port}`), `a reply names the forward proxy: ${r.slice(0, 200)}`);
    }
  });

  it("proxy stdout and stderr hold no token, agent credential, header value or query string", async () => {
    // The last decision lines may still be in flight.
    await pollUntil("the 502 decision lines", () => (f.proxy.events("decision").filter((d) => d.status === 502).length >= 1 ? true : undefined));
    const out = proxyOutput(f);
    for (const t of TOKENS) assert.ok(!out.includes(t), "a token is in the proxy output");
    for (const marker of ["agent-cred", HEADER_MARKER, QUERY_MARKER]) assert.ok(!out.includes(marker), `${marker} is in the proxy output`);
  });

  it("the CONNECT requests sent to pipelock carry only a host and port, never a credential", () => {
    assert.ok(recorder.heads.length > 20, `${recorder.heads.length} CONNECT heads recorded`);
    for (const head of recorder.heads) {
      assert.match(head, /^CONNECT [^\s]+ HTTP\/1\.1\r\n/);
      for (const t of TOKENS) assert.ok(!head.includes(t), `a CONNECT head carries a token: ${head}`);
      assert.ok(!/agent-cred|authorization/i.test(head), `a CONNECT head carries a credential header: ${head}`);
    }
  });

  it("routes.yaml names token slots, never token values", () => {
    const text = readFileSync(f.proxy.routesFile, "utf8");
    assert.match(text, /EGRESS_PROXY_TOKEN_1/);
    for (const t of TOKENS) assert.ok(!text.includes(t));
  });

  it("the rendered bottle plan (the Pulumi inputs that are not secret) holds no token", () => {
    const loaded = loadStack(stack(bottle("leaks")), fakeTokenSource());
    assert.ok(loaded.ok, loaded.ok ? "" : loaded.errors.join("; "));
    const text = JSON.stringify(loaded.value.plans);
    for (const t of TOKENS) assert.ok(!text.includes(t), "a token is in the bottle plan");
  });
});

describe("adversarial: leaks at start-up and through an echoing upstream", function () {
  this.timeout(30_000);

  it("a token with bytes that cannot go in a header is refused at start-up without being echoed", async () => {
    const ca = await makeTestCa("leak test CA");
    const bad = FAKE_UNSENDABLE_TOKEN;
    const r = await runProxyExpectingFailure({
      ...startupEnv(ca, standardRoutes()),
      EGRESS_PROXY_TOKEN_1: bad,
      EGRESS_PROXY_TOKEN_2: FAKE_TOKENS.anthropic,
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /EGRESS_PROXY_TOKEN_1 holds characters that cannot go in an HTTP header/);
    for (const secret of [bad, "FAKE-bad-token", FAKE_TOKENS.anthropic]) assert.ok(!`${r.stdout}${r.stderr}`.includes(secret));
  });

  it("an allowed upstream that echoes request headers shows the agent the injected credential redacted, never in clear", async () => {
    const f = await startAdversarialFixture(loadRouteSets().corpus);
    try {
      const socket = await openTransport({ host: "api.anthropic.test" }, "https-intercepted", f.proxy.port, f.bottleCa.cert);
      const x = await classifiedExchange(socket, "GET /echo-headers HTTP/1.1\r\nHost: api.anthropic.test\r\n\r\n");
      socket.destroy();
      assert.equal(x.status, 200);
      // The upstream did echo it: the header is there, with the marker in the token's place.
      const echoed = (JSON.parse(x.body) as [string, string][]).find(([name]) => name === "x-api-key")?.[1];
      assert.equal(echoed, "REDACTED".repeat(8).slice(0, FAKE_TOKENS.anthropic.length));
      assert.ok(!x.body.includes(FAKE_TOKENS.anthropic), "the echo reached the agent");
      assert.ok(!proxyOutput(f).includes(FAKE_TOKENS.anthropic), "the echo must not reach the proxy's logs");
    } finally {
      await f.close();
    }
  });
});

/**
 * Bursts of parallel calls to one route, through a stand-in that enforces pipelock's limit on
 * new tunnels per domain per minute (429 beyond it, which the proxy relays as 502). Issue 14
 * measured 528 x 502 out of 960 with a pool that opened a tunnel for every concurrent request.
 * The pool must answer every request, keep at most its per-origin bound of tunnels, reuse them
 * while they are fresh, and still bound the wait of a request that finds every one busy.
 */
import assert from "node:assert/strict";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type tls from "node:tls";
import { MAX_TUNNELS_PER_ORIGIN } from "../../proxy/src/transport/upstream-agents";
import { agentRequest } from "../helpers/agent-client";
import { startConnectProxy, type ConnectProxy } from "../helpers/connect-proxy";
import { pollUntil } from "../helpers/deadline";
import { startProxyProcess, type ProxyProcess } from "../helpers/proxy-process";
import { readHead, tunnel } from "../helpers/raw-http";
import { leafCertificate, makeTestCa, type TestCa } from "../helpers/test-ca";

const HOST = "burst.test";
const TARGET = `${HOST}:443`;
const BURST = 120;
/** pipelock's default `max_requests_per_minute`, the limit issue 14 ran into. */
const PIPELOCK_DEFAULT_PER_MINUTE = 60;
/** What a bottle's pipelock allows by default (components/constants.ts, PIPELOCK_TUNNELS_PER_MINUTE_PER_HOST). */
const BOTTLE_PER_MINUTE = 600;
/**
 * Tunnels the first test may open: the first burst fills the pool, later bursts within the idle
 * limit reuse it; half the bound again for tunnels replaced after the origin closed one. Still
 * under pipelock's default 60, so that passing here means passing pipelock's default too.
 */
const MAX_OPENED = Math.floor(MAX_TUNNELS_PER_ORIGIN * 1.5);

interface Origin {
  port: number;
  /** Connections open now and the most at once: each is one tunnel through the stand-in. */
  live(): number;
  peak(): number;
  resetPeak(): void;
  close(): Promise<void>;
}

/**
 * A Node HTTPS origin with Node's default keep-alive (5 s, announced in `Keep-Alive`): `/trickle`
 * never ends and sends a byte every 200 ms (a busy, never idle, stream); anything else is `ok`.
 */
async function startOrigin(ca: TestCa): Promise<Origin> {
  let live = 0;
  let peak = 0;
  const server = https.createServer(leafCertificate(ca, `DNS:${HOST}`), (req, res) => {
    if (req.url !== "/trickle") return void res.writeHead(200, { "content-length": "2" }).end("ok");
    res.writeHead(200, { "content-type": "text/plain" }).write("x");
    const timer = setInterval(() => res.write("x"), 200);
    res.once("close", () => clearInterval(timer));
  });
  server.on("connection", (s: Socket) => {
    live += 1;
    peak = Math.max(peak, live);
    s.once("close", () => (live -= 1));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    live: () => live,
    peak: () => peak,
    resetPeak: () => (peak = live),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Chain {
  forward: ConnectProxy;
  proxy: ProxyProcess;
  close(): Promise<void>;
}

describe("egress proxy: bursts through pipelock's per-minute tunnel limit", function () {
  this.timeout(40_000);
  let bottleCa: TestCa;
  let upstreamCa: TestCa;
  let origin: Origin;
  const chains: Chain[] = [];

  before(async () => {
    [bottleCa, upstreamCa] = await Promise.all([makeTestCa("bot-bottle test bottle CA"), makeTestCa("bot-bottle test upstream CA")]);
    origin = await startOrigin(upstreamCa);
  });
  after(async () => {
    for (const c of chains) await c.close();
    await origin?.close();
  });

  /** The proxy process behind a fresh stand-in with the given limit. */
  async function startChain(maxTunnelsPerMinute: number | undefined, env: Record<string, string> = {}): Promise<Chain> {
    const forward = await startConnectProxy({ [TARGET]: origin.port }, 0, { maxTunnelsPerMinute });
    const proxy = await startProxyProcess({
      routes: { version: 1, routes: [{ host: HOST, methods: ["GET"] }] },
      ca: bottleCa,
      env: { HTTPS_PROXY: forward.url, NODE_EXTRA_CA_CERTS: upstreamCa.certFile, ...env },
    });
    const chain = {
      forward,
      proxy,
      close: async () => {
        await proxy.stop();
        await forward.close();
      },
    };
    chains.push(chain);
    origin.resetPeak();
    return chain;
  }

  /** `BURST` GETs at once, each on its own agent connection; the statuses (0: no answer). */
  function burst(proxyPort: number, tag: string): Promise<number[]> {
    return Promise.all(
      Array.from({ length: BURST }, (_, i) =>
        agentRequest({ proxyPort, ca: bottleCa.cert, host: HOST, target: `/${tag}/${i}`, timeoutMs: 20_000 }).then(
          (r) => (r.socket.destroy(), r.status),
          () => 0,
        ),
      ),
    );
  }

  const tally = (statuses: number[]) => Object.entries(statuses.reduce<Record<number, number>>((t, s) => ((t[s] = (t[s] ?? 0) + 1), t), {})).map(([s, n]) => `${n} x ${s}`).join(", ");
  const opened = (c: Chain) => c.forward.opened.filter((t) => t === TARGET).length;

  it("answers every request of four bursts 2 s apart and opens few tunnels, within pipelock's default 60 a minute", async () => {
    const c = await startChain(PIPELOCK_DEFAULT_PER_MINUTE);
    const statuses: number[] = [];
    for (let b = 0; b < 4; b++) {
      // The gap is the load's shape (an agent's parallel tool calls), not a wait for an event;
      // it is shorter than the pool's 4 s idle limit, so fresh tunnels are there to reuse.
      if (b > 0) await new Promise((r) => setTimeout(r, 2000));
      statuses.push(...(await burst(c.proxy.port, `b${b}`)));
    }
    console.log(`      ${statuses.length} requests: ${tally(statuses)}; tunnels opened ${opened(c)}, refused 429 ${c.forward.rateLimited.length}; at most ${origin.peak()} at once`);
    assert.equal(statuses.filter((s) => s !== 200).length, 0, `not all 200: ${tally(statuses)}`);
    assert.ok(opened(c) <= MAX_OPENED, `${opened(c)} tunnels opened, more than ${MAX_OPENED}`);
    assert.ok(origin.peak() <= MAX_TUNNELS_PER_ORIGIN, `${origin.peak()} upstream connections at once`);
  });

  it("opens at most its bound per burst when every tunnel was closed idle in between, within a bottle's 600 a minute", async () => {
    const c = await startChain(BOTTLE_PER_MINUTE);
    const perBurst: number[] = [];
    const statuses: number[] = [];
    for (let b = 0; b < 3; b++) {
      // Unused tunnels close after the pool's idle limit: the next burst finds none.
      if (b > 0) await pollUntil("idle tunnels to close", () => (c.forward.openNow(TARGET) === 0 ? true : undefined), 15_000);
      const before = opened(c);
      statuses.push(...(await burst(c.proxy.port, `c${b}`)));
      perBurst.push(opened(c) - before);
    }
    console.log(`      ${statuses.length} requests: ${tally(statuses)}; tunnels opened per burst ${perBurst.join(", ")}`);
    assert.equal(statuses.filter((s) => s !== 200).length, 0, `not all 200: ${tally(statuses)}`);
    for (const n of perBurst) assert.ok(n <= MAX_TUNNELS_PER_ORIGIN, `a burst opened ${n} tunnels`);
  });

  it("answers a request that waited the idle limit for a busy pool with a 502, never leaving it hanging", async () => {
    const c = await startChain(undefined, { EGRESS_PROXY_IDLE_TIMEOUT_S: "1" });
    const streams: tls.TLSSocket[] = [];
    try {
      // Every connection of the pool busy with a stream that is never idle.
      const heads = await Promise.all(
        Array.from({ length: MAX_TUNNELS_PER_ORIGIN }, async () => {
          const s = await tunnel(c.proxy.port, TARGET, HOST, bottleCa.cert);
          streams.push(s);
          s.write(`GET /trickle HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
          return readHead(s);
        }),
      );
      assert.ok(heads.every((h) => /^HTTP\/1\.1 200/.test(h)), "every stream started");
      const started = Date.now();
      const waited = await agentRequest({ proxyPort: c.proxy.port, ca: bottleCa.cert, host: HOST, target: "/waited", timeoutMs: 10_000 });
      const ms = Date.now() - started;
      assert.equal(waited.status, 502);
      assert.ok(ms >= 900 && ms < 3000, `answered after ${ms} ms with a 1 s idle limit`);
      const line = await pollUntil("audit line", () => c.proxy.events("decision").find((d) => d.path === "/waited"));
      assert.deepEqual([line.verdict, line.reason], ["error", "upstream unreachable"]);
      assert.equal(opened(c), MAX_TUNNELS_PER_ORIGIN, "the waiting request opened a tunnel of its own");
    } finally {
      for (const s of streams) s.destroy();
    }
    // The streams' connections come free again for the next request.
    assert.equal((await agentRequest({ proxyPort: c.proxy.port, ca: bottleCa.cert, host: HOST, target: "/after", timeoutMs: 10_000 })).status, 200);
  });
});

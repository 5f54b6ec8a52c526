/**
 * Faults: the upstream proxy (pipelock's stand-in) killed mid-run and brought back on the same
 * port; the proxy process itself killed and restarted on the same port. While pipelock is down
 * allowed requests get a prompt 502 (never a hang, never another verdict), refusals keep their
 * reasons, and everything recovers without the agent doing anything. Recovery time is reported.
 */
import assert from "node:assert/strict";
import { startConnectProxy, type ConnectProxy } from "../helpers/connect-proxy";
import { pollUntil } from "../helpers/deadline";
import { startProxyProcess, type ProxyProcess } from "../helpers/proxy-process";
import { proxyOutput } from "../helpers/proxy-fixture";
import { FAKE_TOKENS } from "../helpers/fake-tokens";
import { exchange, tunnel } from "../helpers/raw-http";
import { freePort, startAdversarialFixture, type AdversarialFixture } from "./lib/adversarial-fixture";
import { loadRouteSets } from "./lib/corpus";
import { runAgent, type Outcome, type TrafficStats } from "./lib/traffic";

/** No single request may take longer than this, up or down: nothing hangs. */
const MAX_REQUEST_MS = 10_000;

/** One allowed call on a fresh tunnel; status 0 when the proxy could not be reached at all. */
async function allowedCall(port: number, ca: string): Promise<{ status: number; body: string }> {
  try {
    const conn = await tunnel(port, "api.github.test:443", "api.github.test", ca);
    try {
      return await exchange(conn, "GET /user HTTP/1.1\r\nHost: api.github.test\r\n\r\n", { timeoutMs: MAX_REQUEST_MS });
    } finally {
      conn.destroy();
    }
  } catch {
    return { status: 0, body: "" };
  }
}

describe("adversarial: faults", function () {
  this.timeout(90_000);
  let f: AdversarialFixture;
  let restarted: ConnectProxy | undefined;
  let restartedProxy: ProxyProcess | undefined;
  before(async () => {
    // A fixed port, so that the proxy can come back where the agent expects it.
    f = await startAdversarialFixture(loadRouteSets().corpus, { EGRESS_PROXY_LISTEN: String(await freePort()) });
  });
  after(async () => {
    await restartedProxy?.stop();
    await restarted?.close();
    await f?.close();
  });

  it("upstream proxy killed mid-run: prompt 502s while it is down, full recovery when it is back", async () => {
    const stats: TrafficStats = { outcomes: [], wrong: [] };
    let phase: "up" | "down" | "back" = "up";
    let stop = false;
    const agents = Promise.all(
      Array.from({ length: 20 }, (_, id) =>
        runAgent(id, { proxyPort: f.proxy.port, ca: f.bottleCa.cert, until: () => stop, stats, expectHealthy: () => phase === "up", timeoutMs: MAX_REQUEST_MS, tag: () => phase }),
      ),
    );
    const during = (p: typeof phase): Outcome[] => stats.outcomes.filter((o) => o.tag === p);
    try {
      await pollUntil("traffic flowing", () => (stats.outcomes.filter((o) => o.status === 200).length >= 50 ? true : undefined), 20_000);

      phase = "down";
      const killedAt = Date.now();
      await f.forward.close();
      const first502 = await pollUntil("the first 502", () => stats.outcomes.find((o) => o.status === 502 && o.tag === "down"), 20_000);
      const downFor = Date.now();
      await pollUntil("200 requests answered while pipelock is down", () => (during("down").length >= 200 ? true : undefined), 30_000);
      const whileDown = during("down");
      const downAllowed = whileDown.filter((o) => o.kind.startsWith("allowed"));
      const downDenied = whileDown.filter((o) => o.kind.startsWith("denied"));

      phase = "back";
      const restartAt = Date.now();
      restarted = await startConnectProxy(f.forwardHosts, f.forward.port);
      // Full recovery: 50 consecutive allowed calls succeed after the first success.
      const recoveredAt = await pollUntil("recovery", () => {
        const back = during("back").filter((o) => o.kind.startsWith("allowed"));
        const firstOk = back.findIndex((o) => o.status === 200);
        return firstOk !== -1 && back.slice(firstOk).filter((o) => o.status === 200).length >= 50 ? Date.now() : undefined;
      }, 30_000);
      stop = true;
      await agents;
      const back = during("back").filter((o) => o.kind.startsWith("allowed"));
      const firstOk = back.findIndex((o) => o.status === 200);
      const afterRecovery = back.slice(firstOk + 1);
      const firstOkMs = (back[firstOk] ? recoveredAt - restartAt : NaN);
      const maxMs = Math.max(...stats.outcomes.map((o) => o.ms));
      console.log(
        `      pipelock down ${downFor - killedAt} ms until the first 502 (${first502.ms} ms request); while down: ${downAllowed.length} allowed calls ` +
          `(${downAllowed.filter((o) => o.status === 502).length} got 502), ${downDenied.length} refusals kept their reason; ` +
          `after restart: full recovery (50 consecutive 200s) within ${firstOkMs} ms; slowest request ${maxMs} ms`,
      );

      assert.deepEqual(stats.wrong.slice(0, 5), [], "wrong verdicts while pipelock was up");
      assert.ok(maxMs < MAX_REQUEST_MS, `a request took ${maxMs} ms: something hung`);
      // While down: allowed calls fail with the proxy's own 502, or (a kept-alive tunnel cut
      // mid-request) a closed connection; nothing is forwarded and no other status appears.
      for (const o of downAllowed) assert.ok(o.status === 502 || o.status === 200 || o.error !== undefined, `while down: ${JSON.stringify(o)}`);
      assert.ok(downAllowed.filter((o) => o.status === 502).length > downAllowed.length / 2, "most allowed calls while down must be 502");
      for (const o of downDenied) assert.ok(o.status === 403 || o.status === 400, `a refusal changed while pipelock was down: ${JSON.stringify(o)}`);
      for (const o of afterRecovery) assert.equal(o.status, 200, `after recovery: ${JSON.stringify(o)}`);
      assert.equal(f.proxy.child.exitCode, null);
      const out = proxyOutput(f);
      for (const t of Object.values(FAKE_TOKENS)) assert.ok(!out.includes(t));
    } finally {
      stop = true;
      await agents;
    }
  });

  it("proxy killed and restarted on the same port: the agent recovers without intervention", async () => {
    const port = f.proxy.port;
    assert.equal((await allowedCall(port, f.bottleCa.cert)).status, 200);
    const exited = new Promise((resolve) => f.proxy.child.once("exit", resolve));
    f.proxy.child.kill("SIGKILL");
    await exited;
    // Down: the agent's connections are refused at once, nothing hangs.
    const refusedAt = Date.now();
    assert.equal((await allowedCall(port, f.bottleCa.cert)).status, 0);
    assert.ok(Date.now() - refusedAt < 2000, "a call to a dead proxy must fail fast");

    const restartAt = Date.now();
    restartedProxy = await startProxyProcess({
      routes: loadRouteSets().corpus,
      ca: f.bottleCa,
      env: {
        EGRESS_PROXY_LISTEN: String(port),
        HTTPS_PROXY: (restarted ?? f.forward).url,
        NODE_EXTRA_CA_CERTS: f.upstreamCa.certFile,
        EGRESS_PROXY_TOKEN_1: FAKE_TOKENS.github,
        EGRESS_PROXY_TOKEN_2: FAKE_TOKENS.anthropic,
      },
    });
    assert.equal(restartedProxy.port, port);
    // The agent simply retries; it needs nothing new (same port, same CA).
    await pollUntil("the agent's first success after restart", async () => ((await allowedCall(port, f.bottleCa.cert)).status === 200 ? true : undefined), 20_000);
    console.log(`      proxy restart to the agent's first success: ${Date.now() - restartAt} ms`);
    for (let i = 0; i < 10; i++) assert.equal((await allowedCall(port, f.bottleCa.cert)).status, 200);
  });
});

/**
 * Only the agent may use the proxy: with EGRESS_PROXY_AGENT_ALIAS set, a connection that
 * arrives at any other of the container's addresses is closed before a byte is read, so that a
 * neighbour on the egress network cannot have the bottle's credentials injected. Here the alias
 * is `localhost` (127.0.0.1) and the neighbour connects to 127.0.0.2, another loopback address.
 */
import assert from "node:assert/strict";
import { pollUntil } from "../helpers/deadline";
import { runProxyExpectingFailure, startupEnv } from "../helpers/proxy-process";
import { standardRoutes, startFixture, type Fixture } from "../helpers/proxy-fixture";
import { FAKE_TOKENS } from "../helpers/fake-tokens";
import { connectPlain, readUntilClose } from "../helpers/raw-http";
import { makeTestCa } from "../helpers/test-ca";

/** Send one plain request to `host:port`; resolve with the head the proxy answered, or nothing if it closed first. */
async function answerTo(host: string, port: number, request: string): Promise<string> {
  const { bytes, timedOut } = await readUntilClose(await connectPlain(port, { host }), request, { timeoutMs: 5_000, untilHead: true });
  assert.ok(!timedOut, `no answer from ${host}:${port} within 5 s`);
  return bytes.toString("latin1");
}

describe("egress proxy: only the agent's network", function () {
  this.timeout(30_000);
  let f: Fixture;
  before(async () => {
    f = await startFixture({ env: { EGRESS_PROXY_AGENT_ALIAS: "localhost" } });
  });
  after(async () => {
    await f?.close();
  });
  // a credentialed route's host, asked for over plain HTTP: any HTTP answer proves acceptance
  const request = `GET http://api.github.test/repos/acme/widget HTTP/1.1\r\nHost: api.github.test\r\nConnection: close\r\n\r\n`;

  it("answers a connection that arrives at the alias's address", async () => {
    assert.match(await answerTo("127.0.0.1", f.proxy.port, request), /^HTTP\/1\.1 \d{3} /);
    assert.equal(f.proxy.events("started")[0]?.accepting_at, "127.0.0.1");
  });

  it("closes one that arrives elsewhere without a byte, and logs it", async () => {
    assert.equal(await answerTo("127.0.0.2", f.proxy.port, request), "");
    const refused = await pollUntil("refusal line", () => f.proxy.events("connection_refused")[0]);
    assert.deepEqual([refused.reason, refused.local, refused.remote], ["not on the agent network", "127.0.0.2", "127.0.0.1"]);
    assert.deepEqual(f.forward.targets, [], "a refused connection reached the upstream proxy");
  });

  it("refuses to start when the alias names none of its addresses", async () => {
    const ca = await makeTestCa("alias test CA");
    const r = await runProxyExpectingFailure({
      ...startupEnv(ca, standardRoutes()), EGRESS_PROXY_TOKEN_1: FAKE_TOKENS.github, EGRESS_PROXY_TOKEN_2: FAKE_TOKENS.anthropic,
      EGRESS_PROXY_AGENT_ALIAS: "no-such-name.invalid",
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /EGRESS_PROXY_AGENT_ALIAS: no-such-name\.invalid names none of this container's addresses/);
  });
});

/**
 * Only the agent may use the proxy: with EGRESS_PROXY_AGENT_ALIAS set, a connection that
 * arrives at any other of the container's addresses is closed before a byte is read, so that a
 * neighbour on the egress network cannot have the bottle's credentials injected. Here the alias
 * is `localhost` (127.0.0.1) and the neighbour connects to 127.0.0.2, another loopback address.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { pollUntil } from "../helpers/deadline";
import { runProxyExpectingFailure, tempFile } from "../helpers/proxy-process";
import { FAKE_TOKENS, standardRoutes, startFixture, type Fixture } from "../helpers/proxy-fixture";
import { makeTestCa } from "../helpers/test-ca";

/** Send one plain request to `host:port`; resolve with every byte the proxy answered before it closed. */
function exchange(host: string, port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let answer = "";
    socket.setTimeout(5_000, () => socket.destroy(new Error(`no answer from ${host}:${port} within 5 s`)));
    socket.on("connect", () => socket.write(request));
    socket.on("data", (d: Buffer) => {
      answer += d.toString("latin1");
      if (answer.includes("\r\n\r\n")) socket.end();
    });
    socket.on("error", (e: NodeJS.ErrnoException) => (e.code === "ECONNRESET" ? resolve(answer) : reject(e)));
    socket.on("close", () => resolve(answer));
  });
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
    assert.match(await exchange("127.0.0.1", f.proxy.port, request), /^HTTP\/1\.1 \d{3} /);
    assert.equal(f.proxy.events("started")[0]?.accepting_at, "127.0.0.1");
  });

  it("closes one that arrives elsewhere without a byte, and logs it", async () => {
    assert.equal(await exchange("127.0.0.2", f.proxy.port, request), "");
    const refused = await pollUntil("refusal line", () => f.proxy.events("connection_refused")[0]);
    assert.deepEqual([refused.reason, refused.local, refused.remote], ["not on the agent network", "127.0.0.2", "127.0.0.1"]);
    assert.deepEqual(f.forward.targets, [], "a refused connection reached the upstream proxy");
  });

  it("refuses to start when the alias names none of its addresses", async () => {
    const ca = await makeTestCa("alias test CA");
    const routes = tempFile("routes.yaml", JSON.stringify(standardRoutes()));
    const r = await runProxyExpectingFailure({
      EGRESS_PROXY_ROUTES: routes, EGRESS_PROXY_CA_CERT: ca.certFile, EGRESS_PROXY_CA_KEY: ca.keyFile, EGRESS_PROXY_LISTEN: "0",
      EGRESS_PROXY_HEALTH_LISTEN: "127.0.0.1:0", HTTPS_PROXY: "http://127.0.0.1:9", EGRESS_PROXY_TOKEN_1: FAKE_TOKENS.github,
      EGRESS_PROXY_TOKEN_2: FAKE_TOKENS.anthropic, EGRESS_PROXY_AGENT_ALIAS: "no-such-name.invalid",
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /EGRESS_PROXY_AGENT_ALIAS: no-such-name\.invalid names none of this container's addresses/);
  });
});

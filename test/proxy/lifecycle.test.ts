import assert from "node:assert/strict";
import http from "node:http";
import { agentRequest, denialReason } from "../helpers/agent-client";
import { pollUntil } from "../helpers/deadline";
import { runProxyExpectingFailure, startupEnv } from "../helpers/proxy-process";
import { proxyOutput, standardRoutes, startFixture, type Fixture } from "../helpers/proxy-fixture";
import { FAKE_TOKENS } from "../helpers/fake-tokens";
import { exchange, tunnel } from "../helpers/raw-http";
import { makeTestCa, type TestCa } from "../helpers/test-ca";

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path, timeout: 5000 }, (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}

const reloadRoutes = () => {
  const base = standardRoutes() as { version: 1; routes: unknown[] };
  return { ...base, routes: [...base.routes, { host: "reload.test" }] };
};

describe("egress proxy: reload, health, upstream failure, shutdown", function () {
  this.timeout(30_000);
  let f: Fixture;
  beforeEach(async () => {
    f = await startFixture();
    await f.upstream.forAnyRequest().thenReply(200, "ok");
  });
  afterEach(async () => {
    await f?.close();
  });

  it("reloads routes on file change, keeping an open connection usable", async () => {
    const conn = await tunnel(f.proxy.port, "open.test:443", "open.test", f.bottleCa.cert);
    const request = "GET / HTTP/1.1\r\nHost: open.test\r\n\r\n";
    assert.equal((await exchange(conn, request)).status, 200);
    assert.equal(denialReason(await agentRequest({ proxyPort: f.proxy.port, ca: f.bottleCa.cert, host: "reload.test" })), "host not allowed");

    f.proxy.writeRoutes(reloadRoutes());
    await pollUntil("reload", () => f.proxy.events("routes_reloaded")[0]);
    assert.equal((await agentRequest({ proxyPort: f.proxy.port, ca: f.bottleCa.cert, host: "reload.test" })).status, 200);
    // The tunnel opened before the reload still works, under the new rules.
    assert.equal((await exchange(conn, request)).status, 200);
    conn.destroy();
  });

  it("reloads on SIGHUP", async () => {
    f.proxy.writeRoutes(reloadRoutes());
    f.proxy.child.kill("SIGHUP");
    await pollUntil("reload", () => f.proxy.events("routes_reloaded")[0]);
    assert.equal((await agentRequest({ proxyPort: f.proxy.port, ca: f.bottleCa.cert, host: "reload.test" })).status, 200);
  });

  it("rejects a bad new file with a logged reason and keeps the old routes", async () => {
    f.proxy.writeRoutes({ version: 1, routes: [{ host: "open.test", methods: ["get"] }] });
    const rejected = await pollUntil("rejection", () => f.proxy.events("routes_rejected")[0]);
    assert.match(String(rejected.problems), /routes\[0\]\.methods\[0\]: must be an upper-case HTTP method/);
    assert.equal(rejected.routes_in_force, 5);
    assert.equal((await agentRequest({ proxyPort: f.proxy.port, ca: f.bottleCa.cert, host: "api.github.test", target: "/user" })).status, 200);
  });

  it("rejects a new file whose token slot is unset, naming the slot and never a value", async () => {
    f.proxy.writeRoutes({ version: 1, routes: [{ host: "open.test", auth: { scheme: "Bearer", token_env: "EGRESS_PROXY_TOKEN_9" } }] });
    const rejected = await pollUntil("rejection", () => f.proxy.events("routes_rejected")[0]);
    assert.match(String(rejected.problems), /EGRESS_PROXY_TOKEN_9 is unset or empty/);
    assert.ok(!proxyOutput(f).includes(FAKE_TOKENS.github));
  });

  it("answers 502 with a short reason when the upstream proxy is down", async () => {
    await f.forward.close();
    const res = await agentRequest({ proxyPort: f.proxy.port, ca: f.bottleCa.cert, host: "open.test", target: "/" });
    assert.equal(res.status, 502);
    const body = JSON.parse(res.body.toString()) as { error: string };
    assert.equal(body.error, "upstream unavailable");
    assert.ok(!res.body.toString().includes("127.0.0.1"), "no internal address in the reply");
    const line = await pollUntil("audit line", () => f.proxy.events("decision").find((d) => d.status === 502));
    assert.equal(line.verdict, "error");
    assert.equal(line.reason, "upstream unreachable");
  });

  it("answers 502 naming the refusal when the upstream proxy refuses the tunnel, not its bare 403", async () => {
    const base = standardRoutes() as { version: 1; routes: unknown[] };
    f.proxy.writeRoutes({ ...base, routes: [...base.routes, { host: "refused-by-upstream.test" }] });
    await pollUntil("reload", () => f.proxy.events("routes_reloaded")[0]);
    const res = await agentRequest({ proxyPort: f.proxy.port, ca: f.bottleCa.cert, host: "refused-by-upstream.test", target: "/" });
    assert.equal(res.status, 502);
    assert.deepEqual(JSON.parse(res.body.toString()), { error: "upstream unavailable", reason: "the upstream proxy (pipelock) refused the connection" });
    assert.ok(f.forward.targets.includes("refused-by-upstream.test:443"));
    const line = await pollUntil("audit line", () => f.proxy.events("decision").find((d) => d.host === "refused-by-upstream.test"));
    assert.deepEqual([line.verdict, line.reason, line.status], ["error", "upstream proxy refused", 502]);
  });

  it("answers 502 when the upstream goes silent for the idle timeout, and keeps serving", async () => {
    const idle = await startFixture({ env: { EGRESS_PROXY_IDLE_TIMEOUT_S: "2" } });
    try {
      await idle.upstream.forGet("/stall").thenTimeout();
      await idle.upstream.forGet("/").thenReply(200, "ok");
      const started = Date.now();
      const res = await agentRequest({ proxyPort: idle.proxy.port, ca: idle.bottleCa.cert, host: "open.test", target: "/stall", timeoutMs: 15_000 });
      const waited = Date.now() - started;
      assert.equal(res.status, 502);
      assert.ok(waited >= 1500 && waited < 10_000, `answered after ${waited} ms (want about 2 s)`);
      const line = await pollUntil("audit line", () => idle.proxy.events("decision").find((d) => d.path === "/stall"));
      assert.deepEqual([line.verdict, line.reason, line.status], ["error", "upstream unreachable", 502]);
      const after = await agentRequest({ proxyPort: idle.proxy.port, ca: idle.bottleCa.cert, host: "open.test", target: "/" });
      assert.equal(after.status, 200);
    } finally {
      await idle.close();
    }
  });

  it("serves /healthz on its own listener only", async () => {
    const health = await get(f.proxy.healthPort, "/healthz");
    assert.equal(health.status, 200);
    assert.deepEqual(JSON.parse(health.body), { status: "ok", routes: 5 });
    assert.equal((await get(f.proxy.healthPort, "/other")).status, 404);
    // On the proxy port, /healthz is just another request to a host no route names.
    const viaProxy = await get(f.proxy.port, "/healthz");
    assert.equal(viaProxy.status, 403);
  });

  it("stops cleanly on SIGTERM", async () => {
    const code = await f.proxy.stop();
    assert.equal(code, 0);
    assert.ok(f.proxy.events("stopped")[0]);
  });
});

describe("egress proxy: start-up errors", function () {
  this.timeout(30_000);
  let ca: TestCa;
  before(async () => {
    ca = await makeTestCa("start-up test CA");
  });
  const noRoutes = { version: 1, routes: [] };

  it("refuses to start when a route's token slot is unset or empty, naming the slot", async () => {
    const r = await runProxyExpectingFailure({ ...startupEnv(ca, standardRoutes()), EGRESS_PROXY_TOKEN_1: FAKE_TOKENS.github, EGRESS_PROXY_TOKEN_2: "" });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /routes\[1\]\.auth\.token_env: EGRESS_PROXY_TOKEN_2 is unset or empty/);
    assert.ok(!r.stderr.includes(FAKE_TOKENS.github) && !r.stdout.includes(FAKE_TOKENS.github));
  });

  it("refuses a routes file with unknown keys, naming the field", async () => {
    const r = await runProxyExpectingFailure(startupEnv(ca, { version: 1, routes: [{ host: "a.test", hosts: ["b.test"] }] }));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /routes\[0\]: Unrecognized key/);
  });

  it("refuses to start without an upstream proxy unless direct egress is asked for", async () => {
    const r = await runProxyExpectingFailure({ ...startupEnv(ca, noRoutes), HTTPS_PROXY: "" });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /HTTPS_PROXY: unset/);
  });

  it("names a missing CA file", async () => {
    const r = await runProxyExpectingFailure({ ...startupEnv(ca, noRoutes), EGRESS_PROXY_CA_KEY: "/nonexistent/ca-key.pem" });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /EGRESS_PROXY_CA_KEY \/nonexistent\/ca-key.pem: cannot read \(ENOENT\)/);
  });

  it("rejects unknown flags, listing the known ones", async () => {
    const r = await runProxyExpectingFailure(startupEnv(ca, noRoutes), ["--rotes", "x"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--routes/);
  });
});

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { agentRequest, denialReason } from "../helpers/agent-client";
import { pollUntil } from "../helpers/deadline";
import { proxyOutput, startFixture, type Fixture } from "../helpers/proxy-fixture";
import { FAKE_TOKENS } from "../helpers/fake-tokens";
import { leafCertificate } from "../helpers/test-ca";

describe("egress proxy: allowed requests through the MITM and the upstream proxy", function () {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(async () => {
    await f?.close();
  });

  it("forwards an allowed GET over intercepted HTTPS through the chained upstream proxy", async () => {
    const ep = await f.upstream.forGet("/repos/acme/widget/issues").thenReply(200, "issues");
    const res = await agentRequest({ proxyPort: f.proxy.port, ca: f.bottleCa.cert, host: "api.github.test", target: "/repos/acme/widget/issues" });
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), "issues");
    assert.equal((await ep.getSeenRequests()).length, 1);
    assert.ok(f.forward.targets.includes("api.github.test:443"), `forward proxy saw ${f.forward.targets.join(", ")}`);
  });

  it("goes upstream by the canonical host name, whatever the agent's spelling", async () => {
    await f.upstream.forGet("/spelling").thenReply(200, "ok");
    const res = await agentRequest({ proxyPort: f.proxy.port, ca: f.bottleCa.cert, host: "OPEN.Test", target: "/spelling" });
    assert.equal(res.status, 200);
    assert.ok(f.forward.targets.includes("open.test:443"), `forward proxy saw ${f.forward.targets.join(", ")}`);
    assert.ok(!f.forward.targets.includes("OPEN.Test:443"));
  });

  it("strips every credential the agent sends and injects exactly one, the route's", async () => {
    const ep = await f.upstream.forGet("/user").thenReply(200, "me");
    const res = await agentRequest({
      proxyPort: f.proxy.port,
      ca: f.bottleCa.cert,
      host: "api.github.test",
      target: "/user",
      headers: [
        ["Authorization", "Bearer agent-own-token-1"],
        ["authorization", "Bearer agent-own-token-2"],
        ["AUTHORIZATION", "Basic agent-own-token-3"],
        ["Proxy-Authorization", "Basic agent-proxy-cred"],
        ["x-api-key", "agent-own-key"],
      ],
    });
    assert.equal(res.status, 200);
    const [seen] = await ep.getSeenRequests();
    assert.ok(seen);
    const auth = seen.rawHeaders.filter(([k]) => k.toLowerCase() === "authorization");
    assert.deepEqual(auth.map(([, v]) => v), [`Bearer ${FAKE_TOKENS.github}`]);
    assert.deepEqual(seen.rawHeaders.filter(([k]) => k.toLowerCase() === "host").map(([, v]) => v), ["api.github.test"]);
    assert.equal(seen.rawHeaders.filter(([k]) => /^(proxy-authorization|x-api-key)$/i.test(k)).length, 0);
    assert.ok(!JSON.stringify(seen.rawHeaders).includes("agent-own"));
  });

  it("injects a custom header credential, replacing the agent's", async () => {
    const ep = await f.upstream.forPost("/v1/messages").thenReply(200, "{}");
    const res = await agentRequest({
      proxyPort: f.proxy.port,
      ca: f.bottleCa.cert,
      host: "api.anthropic.test",
      method: "POST",
      target: "/v1/messages",
      headers: [["X-Api-Key", "agent-guess"], ["content-type", "application/json"]],
      body: JSON.stringify({ model: "m", messages: [] }),
    });
    assert.equal(res.status, 200);
    const [seen] = await ep.getSeenRequests();
    assert.ok(seen);
    assert.deepEqual(seen.rawHeaders.filter(([k]) => k.toLowerCase() === "x-api-key").map(([, v]) => v), [FAKE_TOKENS.anthropic]);
    assert.equal(seen.rawHeaders.filter(([k]) => k.toLowerCase() === "authorization").length, 0);
    assert.equal(await seen.body.getText(), JSON.stringify({ model: "m", messages: [] }));
  });

  it("forwards on an unauthenticated route, removing the agent's credential and adding none", async () => {
    const ep = await f.upstream.forGet("/open").thenReply(200, "open");
    const res = await agentRequest({ proxyPort: f.proxy.port, ca: f.bottleCa.cert, host: "open.test", target: "/open", headers: [["Authorization", "Bearer agent-sent"]] });
    assert.equal(res.status, 200);
    const [seen] = await ep.getSeenRequests();
    assert.ok(seen);
    assert.equal(seen.headers.authorization, undefined);
  });

  it("serves plain HTTP only on routes that allow it, without credentials", async () => {
    const ep = await f.upstream.forGet("/plain").thenReply(200, "plain");
    const res = await agentRequest({ proxyPort: f.proxy.port, ca: f.bottleCa.cert, scheme: "http", host: "plain.test", target: "/plain" });
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), "plain");
    assert.equal((await ep.getSeenRequests()).length, 1);
  });

  it("reads a small form body on a method-limited route: forwards it intact, refuses a _method in it", async () => {
    const ep = await f.upstream.forPost("/user").thenReply(200, "posted");
    const post = (body: string | Buffer, contentType: string, extra: [string, string][] = []) =>
      agentRequest({ proxyPort: f.proxy.port, ca: f.bottleCa.cert, host: "api.github.test", method: "POST", target: "/user", headers: [["content-type", contentType], ...extra], body });
    const ok = await post("a=1&b=two", "application/x-www-form-urlencoded");
    assert.equal(ok.status, 200);
    assert.equal(await (await ep.getSeenRequests())[0]?.body.getText(), "a=1&b=two");

    assert.equal(denialReason(await post("a=1&_method=DELETE", "application/x-www-form-urlencoded")), "method override not allowed");
    assert.equal(denialReason(await post("a=1&.method=PUT", "application/x-www-form-urlencoded; charset=utf-8")), "method override not allowed");
    const multipart = ["--XB", 'Content-Disposition: form-data; name="_method"', "", "DELETE", "--XB--", ""].join("\r\n");
    assert.equal(denialReason(await post(multipart, "multipart/form-data; boundary=XB")), "method override not allowed");
    assert.equal(denialReason(await post("_method=POST", "application/x-www-form-urlencoded")), undefined);
    // A body the proxy cannot read in full before forwarding is refused, not waved through.
    assert.equal(denialReason(await post(Buffer.alloc(70 * 1024, 0x61), "application/x-www-form-urlencoded")), "form body not inspectable");
    assert.equal((await ep.getSeenRequests()).length, 2);
  });

  it("writes one audit line per decision, with no token or header value in any output", async () => {
    // Lines are written once per event-loop turn and may trail the replies a little.
    const decisions = await pollUntil("the earlier requests' lines", () => {
      const lines = f.proxy.events("decision");
      return lines.length >= 5 && lines.some((d) => d.path === "/repos/acme/widget/issues") ? lines : undefined;
    });
    const allowed = decisions.find((d) => d.path === "/repos/acme/widget/issues");
    assert.ok(allowed);
    assert.equal(allowed.verdict, "allow");
    assert.equal(allowed.route, 0);
    assert.equal(allowed.status, 200);
    assert.equal(allowed.host, "api.github.test");
    for (const key of ["time", "bottle", "method", "host", "path", "route", "verdict", "reason", "status", "bytes", "duration_ms"]) {
      assert.ok(key in allowed, `audit line lacks ${key}`);
    }
    const out = proxyOutput(f);
    for (const secret of [...Object.values(FAKE_TOKENS), "agent-own-token", "agent-proxy-cred", "agent-guess"]) {
      assert.ok(!out.includes(secret), `proxy output contains ${secret.slice(0, 12)}...`);
    }
  });
});

describe("egress proxy: TLS sessions upstream", function () {
  this.timeout(30_000);
  // Two upstream servers that would accept each other's session tickets (same ticket keys): a
  // session offered to the wrong server would show up as a resumed handshake there.
  const ticketKeys = randomBytes(48);
  const resumed: Record<string, boolean[]> = { "resume.test": [], "other.test": [] };
  const servers: https.Server[] = [];
  let f: Fixture;
  before(async () => {
    f = await startFixture({
      routes: { version: 1, routes: [{ host: "resume.test" }, { host: "other.test" }] },
      extraHosts: async (upstreamCa) => {
        const ports: Record<string, number> = {};
        for (const host of Object.keys(resumed)) {
          // Each answer closes its connection, so every request needs a new one upstream.
          const server = https.createServer({ ...leafCertificate(upstreamCa, `DNS:${host}`), ticketKeys }, (_req, res) => res.writeHead(200, { connection: "close" }).end("ok"));
          const resumptions = resumed[host];
          assert.ok(resumptions, `no resumption log for ${host}`);
          server.on("secureConnection", (s) => resumptions.push(s.isSessionReused()));
          await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
          servers.push(server);
          ports[`${host}:443`] = (server.address() as AddressInfo).port;
        }
        return ports;
      },
    });
  });
  after(async () => {
    await f?.close();
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
  });

  it("resumes an upstream's session on a new upstream connection, and offers it to no other server", async () => {
    for (const host of ["resume.test", "resume.test", "resume.test", "other.test"]) {
      const res = await agentRequest({ proxyPort: f.proxy.port, ca: f.bottleCa.cert, host, target: "/" });
      assert.equal(res.status, 200, host);
    }
    assert.deepEqual(resumed, { "resume.test": [false, true, true], "other.test": [false] });
  });
});

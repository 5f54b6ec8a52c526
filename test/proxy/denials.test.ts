import assert from "node:assert/strict";
import { pollUntil } from "../helpers/deadline";
import { agentRequest, denialReason, type AgentRequest } from "../helpers/agent-client";
import { proxyOutput, startFixture, type Fixture } from "../helpers/proxy-fixture";
import { FAKE_TOKENS } from "../helpers/fake-tokens";

type Case = { name: string; req: Omit<AgentRequest, "proxyPort" | "ca">; status: number; reason: string };

const CASES: Case[] = [
  { name: "a host no route names", req: { host: "evil.test" }, status: 403, reason: "host not allowed" },
  { name: "a path outside the allowlist", req: { host: "api.github.test", target: "/repos/other/x" }, status: 403, reason: "path not allowed" },
  { name: "a prefix look-alike of an allowed path", req: { host: "api.github.test", target: "/repos/acme/widgetx" }, status: 403, reason: "path not allowed" },
  { name: "a method the route does not list", req: { host: "api.github.test", method: "DELETE", target: "/user" }, status: 403, reason: "method not allowed" },
  { name: "a port the route does not name", req: { host: "open.test", port: 8443 }, status: 403, reason: "host not allowed" },
  { name: "dot segments", req: { host: "api.github.test", target: "/repos/acme/widget/../../secret" }, status: 400, reason: "non-canonical path" },
  { name: "a single dot segment", req: { host: "api.github.test", target: "/repos/acme/./widget" }, status: 400, reason: "non-canonical path" },
  { name: "encoded dots", req: { host: "api.github.test", target: "/repos/acme/widget/%2e%2e/%2E%2E/secret" }, status: 400, reason: "non-canonical path" },
  { name: "an encoded slash", req: { host: "api.github.test", target: "/repos/acme%2fwidget/x" }, status: 400, reason: "non-canonical path" },
  { name: "an encoded backslash", req: { host: "api.github.test", target: "/repos/acme/widget/%5c..%5csecret" }, status: 400, reason: "non-canonical path" },
  { name: "a raw backslash", req: { host: "api.github.test", target: "/repos/acme/widget\\..\\secret" }, status: 400, reason: "non-canonical path" },
  { name: "a double slash", req: { host: "api.github.test", target: "//repos/acme/widget/x" }, status: 400, reason: "non-canonical path" },
  { name: "a path parameter", req: { host: "api.github.test", target: "/repos/acme/widget;x=1/y" }, status: 400, reason: "non-canonical path" },
  { name: "an encoded NUL", req: { host: "api.github.test", target: "/repos/acme/widget/a%00b" }, status: 400, reason: "non-canonical path" },
  { name: "a Host header naming another host than the tunnel", req: { host: "api.github.test", target: "/user", headers: [["Host", "evil.test"]] }, status: 403, reason: "destination mismatch" },
  { name: "an SNI naming another host than the tunnel", req: { host: "api.github.test", target: "/user", sni: "evil.test" }, status: 403, reason: "destination mismatch" },
  { name: "no SNI for a host name", req: { host: "api.github.test", target: "/user", sni: null }, status: 403, reason: "missing SNI" },
  { name: "a CONNECT to an IP with an allowed Host", req: { host: "api.github.test", target: "/user", connect: "127.0.0.1:443", sni: null }, status: 403, reason: "destination mismatch" },
  { name: "an IP literal no route names", req: { host: "127.0.0.1", target: "/", sni: null }, status: 403, reason: "IP literal not allowed" },
  { name: "two Host headers", req: { host: "api.github.test", target: "/user", headers: [["Host", "api.github.test"], ["Host", "api.github.test"]] }, status: 400, reason: "malformed destination" },
  { name: "a trailing-dot Host", req: { host: "api.github.test", target: "/user", headers: [["Host", "api.github.test."]] }, status: 400, reason: "malformed destination" },
  { name: "plain HTTP to an authenticated route", req: { scheme: "http", host: "api.github.test", target: "/user" }, status: 403, reason: "plain HTTP not allowed" },
  { name: "an absolute URL whose Host header differs", req: { scheme: "http", host: "plain.test", target: "/", headers: [["Host", "evil.test"]] }, status: 403, reason: "destination mismatch" },
  { name: "a method-override header widening GET to DELETE", req: { host: "open.test", target: "/x", headers: [["X-HTTP-Method-Override", "DELETE"]] }, status: 403, reason: "method override not allowed" },
  { name: "a _method query parameter widening GET", req: { host: "open.test", target: "/x?_method=PUT" }, status: 403, reason: "method override not allowed" },
  { name: "an h2c upgrade", req: { host: "open.test", target: "/", headers: [["Connection", "Upgrade, HTTP2-Settings"], ["Upgrade", "h2c"], ["HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA"]] }, status: 403, reason: "upgrade not allowed" },
  { name: "a WebSocket upgrade on a route without websocket", req: { host: "open.test", target: "/", headers: [["Connection", "Upgrade"], ["Upgrade", "websocket"], ["Sec-WebSocket-Version", "13"], ["Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="]] }, status: 403, reason: "upgrade not allowed" },
];

describe("egress proxy: denials", function () {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
    await f.upstream.forAnyRequest().thenReply(200, "upstream reached");
    await f.upstream.forAnyWebSocket().thenPassivelyListen();
  });
  after(async () => {
    await f?.close();
  });

  for (const c of CASES) {
    it(`refuses ${c.name} (${c.status} ${c.reason}) without reaching upstream`, async () => {
      const before = f.forward.targets.length;
      const res = await agentRequest({
        proxyPort: f.proxy.port,
        ca: f.bottleCa.cert,
        ...c.req,
        headers: [...(c.req.headers ?? []), ["Authorization", `Bearer ${FAKE_TOKENS.github}-echo-probe`]],
      });
      assert.equal(res.status, c.status, res.body.toString());
      assert.equal(denialReason(res), c.reason);
      assert.equal(res.headers["x-egress-proxy-denial"], c.reason);
      // The refusal never echoes what the agent sent.
      assert.ok(!res.body.toString().includes("echo-probe"));
      assert.equal(f.forward.targets.length, before, `upstream proxy saw ${f.forward.targets.slice(before).join(", ")}`);
    });
  }

  it("never lets a token reach the logs, even in refusals", async () => {
    // Lines are written once per event-loop turn: wait until every refusal's line is in.
    const denied = await pollUntil("a line per refusal", () => {
      const lines = f.proxy.events("decision").filter((d) => d.verdict === "deny");
      return lines.length >= CASES.length ? lines : undefined;
    });
    assert.equal(denied.length, CASES.length);
    const out = proxyOutput(f);
    for (const t of Object.values(FAKE_TOKENS)) assert.ok(!out.includes(t));
  });
});

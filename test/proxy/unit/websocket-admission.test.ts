/**
 * WebSocket upgrades: the admission only reads the request (mockttp asks every rule's matcher),
 * and the header rewrite of an allowed upgrade is the one every request gets, keeping the
 * handshake and dropping the agent's credentials.
 */
import assert from "node:assert/strict";
import { prepareUpgrade, webSocketAdmitter } from "../../../proxy/src/mockttp/websocket-admission";
import type { MockttpRequest } from "../../../proxy/src/mockttp/mockttp-types";
import { buildRouteTable } from "../../../proxy/src/route/route-table";
import { upstreamRequestHeaders } from "../../../proxy/src/route/upstream-headers";
import { FAKE_TOKENS } from "../../helpers/fake-tokens";

const TABLE = buildRouteTable({ version: 1, routes: [{ host: "ws.test", plain_http: true, websocket: true }, { host: "api.test", auth: { header: "x-api-key", token_env: "EGRESS_PROXY_TOKEN_1" } }] }, { EGRESS_PROXY_TOKEN_1: FAKE_TOKENS.anthropic });

function upgrade(host: string): MockttpRequest {
  const rawHeaders: [string, string][] = [
    ["Host", host], ["Upgrade", "websocket"], ["Connection", "Upgrade"], ["Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="],
    ["Sec-WebSocket-Version", "13"], ["Authorization", "Bearer agent-junk"], ["X-Api-Key", "agent-junk"], ["Keep-Alive", "timeout=5"], ["X-Trace", "1"],
  ];
  const headers = Object.fromEntries(rawHeaders.map(([k, v]) => [k.toLowerCase(), v]));
  return { method: "GET", httpVersion: "1.1", protocol: "ws", url: `http://${host}/chat`, path: "/chat", rawHeaders, headers, destination: { hostname: host, port: 80 }, remoteIpAddress: "127.0.0.1", socket: {} } as unknown as MockttpRequest;
}

describe("WebSocket upgrades", () => {
  for (const host of ["ws.test", "denied.test"]) {
    it(`admits ${host} without touching the request, once per request`, () => {
      const req = upgrade(host);
      const before = structuredClone({ raw: req.rawHeaders, headers: req.headers, destination: req.destination, ip: req.remoteIpAddress });
      const admit = webSocketAdmitter(TABLE);
      const a = admit(req);
      assert.equal(admit(req), a, "asked again, the same admission");
      assert.equal(a.decision.verdict, host === "ws.test" ? "allow" : "deny");
      assert.deepEqual({ raw: req.rawHeaders, headers: req.headers, destination: req.destination, ip: req.remoteIpAddress }, before);
    });
  }

  it("prepares an allowed upgrade with the same header rewrite as every request, handshake kept", () => {
    const req = upgrade("ws.test");
    const expected = upstreamRequestHeaders(req.rawHeaders.flat(), TABLE.stripped, undefined, true);
    prepareUpgrade(req, webSocketAdmitter(TABLE)(req), TABLE);
    assert.deepEqual(req.rawHeaders.flat(), expected);
    assert.deepEqual(req.rawHeaders.map(([k]) => k), ["Host", "Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "X-Trace"]);
    assert.deepEqual(Object.keys(req.headers).sort(), ["connection", "host", "sec-websocket-key", "sec-websocket-version", "upgrade", "x-trace"]);
    assert.equal(req.remoteIpAddress, undefined);
  });

  it("leaves a denied upgrade as it came", () => {
    const req = upgrade("denied.test");
    const raw = structuredClone(req.rawHeaders);
    prepareUpgrade(req, webSocketAdmitter(TABLE)(req), TABLE);
    assert.deepEqual(req.rawHeaders, raw);
  });
});

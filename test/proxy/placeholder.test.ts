/**
 * The placeholders of `auth.placeholder` through the real proxy: swapped for the credential in
 * their own route's credential header, and anywhere else (another route, a host no route names,
 * the target, another header, a streamed or compressed body on a route that inspects nothing, a
 * WebSocket) refused 403 with the canary's audit line before any of it leaves.
 */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import zlib from "node:zlib";
import WebSocket from "ws";
import { agentRequest, denialReason, type AgentRequest } from "../helpers/agent-client";
import { pollUntil } from "../helpers/deadline";
import { FAKE_PLACEHOLDERS } from "../helpers/fake-placeholders";
import { FAKE_TOKENS } from "../helpers/fake-tokens";
import { proxyOutput, startFixture, type Fixture } from "../helpers/proxy-fixture";
import { connectPlain, exchange, tunnel } from "../helpers/raw-http";
import { startRecordingUpstream, type RecordingUpstream } from "../helpers/recording-upstream";

const GIT_TOKEN = "FAKE-git-token-3e1d9c-do-not-leak";
const REASON = "credential placeholder outside its route";

const ROUTES = {
  version: 1,
  routes: [
    { host: "api.github.test", auth: { scheme: "Bearer", token_env: "EGRESS_PROXY_TOKEN_1", placeholder: FAKE_PLACEHOLDERS.github } },
    { host: "api.anthropic.test", auth: { header: "x-api-key", token_env: "EGRESS_PROXY_TOKEN_2", placeholder: FAKE_PLACEHOLDERS.anthropic } },
    { host: "git.test", auth: { basic: { username: "x-access-token" }, token_env: "EGRESS_PROXY_TOKEN_3", placeholder: FAKE_PLACEHOLDERS.git } },
    // request inspection off: the canary holds regardless
    { host: "sink.test", dlp: { mode: "off" } },
    { host: "ws.test", websocket: true },
    // git over HTTPS with the API's credential: one credential, one placeholder
    { host: "github.test", auth: { basic: { username: "x-access-token" }, token_env: "EGRESS_PROXY_TOKEN_1", placeholder: FAKE_PLACEHOLDERS.github } },
    { host: "plain.test", plain_http: true },
  ],
};

type Line = Record<string, unknown>;

describe("egress proxy: credential placeholders", function () {
  this.timeout(60_000);
  let f: Fixture;
  let up: RecordingUpstream | undefined;
  before(async () => {
    f = await startFixture({
      routes: ROUTES,
      env: { EGRESS_PROXY_TOKEN_3: GIT_TOKEN },
      extraHosts: async (ca) => {
        up = await startRecordingUpstream(ca, ["git.test", "sink.test", "api.github.test", "api.anthropic.test", "github.test"]);
        return { "git.test:443": up.port, "sink.test:443": up.port, "api.github.test:443": up.port, "api.anthropic.test:443": up.port, "github.test:443": up.port };
      },
    });
  });
  after(async () => {
    await f?.close();
    await up?.close();
  });
  const request = (r: Omit<AgentRequest, "proxyPort" | "ca">) => agentRequest({ proxyPort: f.proxy.port, ca: f.bottleCa.cert, ...r });
  /** The decision line of the request to `path` (the log omits queries). */
  const lineOf = (path: string) => pollUntil(`the line of ${path}`, () => f.proxy.events("decision").find((l: Line) => l.path === path));
  const received = () => up?.requests ?? [];

  it("swaps each placeholder for the credential on its own route, Basic included", async () => {
    const cases: [string, [string, string], string, string][] = [
      ["api.github.test", ["Authorization", `Bearer ${FAKE_PLACEHOLDERS.github}`], "authorization", `Bearer ${FAKE_TOKENS.github}`],
      ["api.anthropic.test", ["x-api-key", FAKE_PLACEHOLDERS.anthropic], "x-api-key", FAKE_TOKENS.anthropic],
      ["git.test", ["Authorization", `Basic ${Buffer.from(`x-access-token:${FAKE_PLACEHOLDERS.git}`).toString("base64")}`], "authorization", `Basic ${Buffer.from(`x-access-token:${GIT_TOKEN}`).toString("base64")}`],
      ["github.test", ["Authorization", `Basic ${Buffer.from(`x-access-token:${FAKE_PLACEHOLDERS.github}`).toString("base64")}`], "authorization", `Basic ${Buffer.from(`x-access-token:${FAKE_TOKENS.github}`).toString("base64")}`],
    ];
    for (const [host, header, name, injected] of cases) {
      const r = await request({ host, target: "/own", headers: [header] });
      assert.equal(r.status, 200, host);
      const seen = received().at(-1);
      assert.equal(seen?.headers[name], injected, host);
      assert.ok(!JSON.stringify(seen?.headers).includes("PLACEHOLDER"), `${host}: a placeholder went upstream`);
    }
  });

  const refusedHeads: [string, Omit<AgentRequest, "proxyPort" | "ca">, { route: number | null; placeholder: { route: number; where: string } }][] = [
    ["another route's credential header", { host: "api.anthropic.test", target: "/head/other-route", headers: [["Authorization", `Bearer ${FAKE_PLACEHOLDERS.github}`]] }, { route: 1, placeholder: { route: 0, where: "header:authorization" } }],
    ["a host no route names", { host: "evil.test", target: "/head/evil", headers: [["Authorization", `Bearer ${FAKE_PLACEHOLDERS.github}`]] }, { route: null, placeholder: { route: 0, where: "header:authorization" } }],
    ["the query of its own route", { host: "api.github.test", target: `/head/query?access_token=${FAKE_PLACEHOLDERS.github}` }, { route: 0, placeholder: { route: 0, where: "target" } }],
    ["a percent-encoded query", { host: "sink.test", target: `/head/encoded?k=${encodeURIComponent(FAKE_PLACEHOLDERS.anthropic).replace(/-/g, "%2D")}` }, { route: 3, placeholder: { route: 1, where: "target" } }],
    ["another header of its own route", { host: "git.test", target: "/head/header", headers: [["X-Debug", FAKE_PLACEHOLDERS.git]] }, { route: 2, placeholder: { route: 2, where: "header:x-debug" } }],
  ];
  for (const [name, req, expected] of refusedHeads) {
    it(`refuses a placeholder in ${name}, and nothing leaves`, async () => {
      const before = received().length;
      const r = await request(req);
      assert.equal(r.status, 403);
      assert.equal(denialReason(r), REASON);
      const line = await lineOf(String(req.target).split("?")[0] ?? "");
      assert.deepEqual({ verdict: line.verdict, reason: line.reason, route: line.route, placeholder: line.placeholder }, { verdict: "deny", reason: REASON, ...expected });
      assert.equal(received().length, before);
    });
  }

  it("refuses a placeholder in the userinfo of an absolute-form URL, as the canary's refusal", async () => {
    const socket = await connectPlain(f.proxy.port);
    const r = await exchange(socket, `GET http://x-access-token:${FAKE_PLACEHOLDERS.git}@plain.test/head/userinfo HTTP/1.1\r\nHost: plain.test\r\n\r\n`);
    socket.destroy();
    assert.equal(r.status, 403);
    // refused for its malformed destination too: the canary's reason is the one given
    const line = await lineOf("/head/userinfo");
    assert.deepEqual(line.placeholder, { route: 2, where: "target" });
    assert.equal(line.reason, REASON);
  });

  it("refuses a placeholder deep in a streamed body on a route that inspects nothing, before any of it leaves", async () => {
    const lead = Buffer.alloc(300 * 1024, "x");
    const text = `,"copied":"${FAKE_PLACEHOLDERS.github}"}`;
    const at = lead.length + ',"copied":"'.length;
    // the placeholder cut across two writes
    const body = Readable.from([lead, Buffer.from(text.slice(0, 20)), Buffer.from(text.slice(20))]);
    const r = await request({ host: "sink.test", method: "POST", target: "/body/streamed", headers: [["Content-Type", "application/json"], ["Transfer-Encoding", "chunked"]], body });
    assert.equal(r.status, 403);
    assert.equal(denialReason(r), REASON);
    const line = await lineOf("/body/streamed");
    assert.deepEqual(line.placeholder, { route: 0, where: `body@${at}` });
    const arrived = received().find((q) => q.url === "/body/streamed");
    assert.ok((arrived?.body.length ?? 0) <= at, `${arrived?.body.length} bytes arrived, the placeholder starts at ${at}`);
    assert.ok(!arrived?.body.includes(FAKE_PLACEHOLDERS.github.slice(0, 4)));
  });

  it("refuses a placeholder in a gzip body on a route that inspects nothing", async () => {
    const body = zlib.gzipSync(`{"key":"${FAKE_PLACEHOLDERS.anthropic}"}`);
    const before = received().length;
    const r = await request({ host: "sink.test", method: "POST", target: "/body/gzip", headers: [["Content-Encoding", "gzip"], ["Content-Length", String(body.length)]], body });
    assert.equal(r.status, 403);
    assert.deepEqual((await lineOf("/body/gzip")).placeholder, { route: 1, where: "body@8" });
    assert.equal(received().length, before);
  });

  it("lets a body without a placeholder through whole", async () => {
    const body = Buffer.alloc(256 * 1024, "y");
    const r = await request({ host: "sink.test", method: "POST", target: "/body/clean", headers: [["Content-Length", String(body.length)]], body });
    assert.equal(r.status, 200);
    assert.equal(received().find((q) => q.url === "/body/clean")?.body.length, body.length);
  });

  it("refuses a WebSocket upgrade that carries a placeholder, and closes one whose message does", async () => {
    await f.upstream.forAnyWebSocket().thenEcho();
    const upgrade = await request({ host: "ws.test", target: `/ws/upgrade?t=${FAKE_PLACEHOLDERS.git}`, headers: [["Connection", "Upgrade"], ["Upgrade", "websocket"], ["Sec-WebSocket-Version", "13"], ["Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="]] });
    assert.equal(upgrade.status, 403);
    assert.equal((await lineOf("/ws/upgrade")).reason, REASON);

    const socket = await tunnel(f.proxy.port, "ws.test:443", "ws.test", f.bottleCa.cert);
    const ws = new WebSocket("wss://ws.test/ws/message", { createConnection: () => socket, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    const echoed: string[] = [];
    ws.on("message", (m: Buffer) => echoed.push(m.toString()));
    ws.send("hello");
    await pollUntil("the echo of a clean message", () => (echoed.length ? true : undefined));
    ws.send(`key: ${FAKE_PLACEHOLDERS.anthropic.slice(0, 10)}`);
    ws.send(`${FAKE_PLACEHOLDERS.anthropic.slice(10)} end`);
    const code = await new Promise<number>((resolve) => ws.once("close", (c: number) => resolve(c)));
    assert.equal(code, 1008);
    assert.ok(!echoed.some((m) => m.includes(FAKE_PLACEHOLDERS.anthropic.slice(10))), "the message that completed the placeholder went upstream");
    const line = await pollUntil("the placeholder line", () => f.proxy.events("placeholder").find((l: Line) => l.path === "/ws/message"));
    assert.deepEqual(line.placeholder, { route: 1, where: "ws@10" });
  });

  it("never writes a placeholder into its output", () => {
    const out = proxyOutput(f);
    for (const p of Object.values(FAKE_PLACEHOLDERS)) assert.ok(!out.includes(p));
  });
});

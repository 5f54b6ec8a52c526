/**
 * The agent never receives a route credential, even from an upstream that echoes it: in every
 * place of an answer, in every encoding an echo produces, split at every offset, over keep-alive,
 * chunked, compressed and WebSocket. Each test asserts on the raw bytes the agent read.
 */
import assert from "node:assert/strict";
import type { TLSSocket } from "node:tls";
import zlib from "node:zlib";
import WebSocket from "ws";
import { echoForms } from "../../proxy/src/echo/echo-forms";
import { ECHO_TOKEN, echoEncodings } from "../helpers/echo-encodings";
import { ECHO_PREFIX, encoded, startEchoUpstream, type EchoUpstream } from "../helpers/echo-upstream";
import { pollUntil } from "../helpers/deadline";
import { FAKE_TOKENS } from "../helpers/fake-tokens";
import { proxyOutput, startFixture, type Fixture } from "../helpers/proxy-fixture";
import { exchange, readUntilClose, tunnel } from "../helpers/raw-http";

const TOKENS = [ECHO_TOKEN, FAKE_TOKENS.github];
const FORMS = TOKENS.flatMap((t) => echoForms(t));

function echoRoutes(onEcho?: "redact" | "block"): unknown {
  return {
    version: 1,
    ...(onEcho ? { on_echo: onEcho } : {}),
    routes: [
      { host: "api.github.test", auth: { scheme: "Bearer", token_env: "EGRESS_PROXY_TOKEN_1" } },
      { host: "echo.test", auth: { header: "x-api-key", token_env: "EGRESS_PROXY_TOKEN_2" } },
      // the agent's automatic pongs repeat the upstream's (redacted) pings: request inspection is another test's matter
      { host: "ws-echo.test", websocket: true, dlp: { mode: "off" } },
    ],
  };
}

/** The fixture with the echoing upstream behind echo.test and ws-echo.test. */
async function startEchoFixture(onEcho?: "redact" | "block"): Promise<{ f: Fixture; echo: EchoUpstream; close(): Promise<void> }> {
  let echo: EchoUpstream | undefined;
  const f = await startFixture({
    routes: echoRoutes(onEcho),
    env: { EGRESS_PROXY_TOKEN_2: ECHO_TOKEN },
    extraHosts: async (upstreamCa) => {
      echo = await startEchoUpstream(upstreamCa, ["echo.test", "ws-echo.test"], TOKENS);
      return { "echo.test:443": echo.port, "ws-echo.test:443": echo.port };
    },
  });
  if (!echo) throw new Error("no echo upstream");
  const up = echo;
  return { f, echo: up, close: async () => { await f.close(); await up.close(); } };
}

/** A tunnel to echo.test whose every received byte is kept. */
async function agentTunnel(f: Fixture, host = "echo.test"): Promise<{ socket: TLSSocket; received: () => Buffer }> {
  const socket = await tunnel(f.proxy.port, `${host}:443`, host, f.bottleCa.cert);
  const chunks: Buffer[] = [];
  socket.on("data", (d: Buffer) => chunks.push(d));
  return { socket, received: () => Buffer.concat(chunks) };
}

function assertNoToken(bytes: Buffer, what: string): void {
  for (const form of FORMS) assert.ok(!bytes.includes(form.bytes), `${what}: the agent received a token (${form.encoding})`);
}

/** What an agent could inflate from a compressed body it received, from any offset (a second stream), however it ends. */
function inflateWhatArrived(body: Buffer): Buffer {
  const flush = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
  const decoders: ((b: Buffer) => Buffer)[] = [
    (b) => zlib.gunzipSync(b, flush),
    (b) => zlib.inflateSync(b, flush),
    (b) => zlib.inflateRawSync(b, flush),
    (b) => zlib.brotliDecompressSync(b, { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH }),
  ];
  const out: Buffer[] = [];
  for (let at = 0; at < body.length; at++) {
    for (const decode of decoders) {
      try {
        out.push(decode(body.subarray(at)));
      } catch {
        // not a stream that starts here
      }
    }
  }
  return Buffer.concat(out);
}

/** The first audit line of `event` after the first `since` ones that `accepts`, waited for. */
function nextLine(f: Fixture, event: string, since: number, accepts: (l: Record<string, unknown>) => boolean = () => true): Promise<Record<string, unknown>> {
  return pollUntil(`a ${event} line`, () => f.proxy.events(event).slice(since).find(accepts));
}

const blocked = (l: Record<string, unknown>) => (l.echo as { action?: string } | undefined)?.action === "blocked";

const get = (target: string, extra = "") => `GET ${target} HTTP/1.1\r\nHost: echo.test\r\n${extra}\r\n`;
const ENCODINGS = echoEncodings(ECHO_TOKEN).map(([name]) => name);

describe("egress proxy: echoed credentials never reach the agent", function () {
  this.timeout(120_000);
  let fx: Awaited<ReturnType<typeof startEchoFixture>>;
  before(async () => {
    fx = await startEchoFixture();
  });
  after(async () => {
    await fx?.close();
  });

  for (const place of ["body", "body-chunked", "header", "status", "trailer"]) {
    it(`redacts the injected credential echoed in the ${place}, in each of ${ENCODINGS.length} encodings, keeping lengths`, async () => {
      const { socket, received } = await agentTunnel(fx.f);
      try {
        for (const enc of ENCODINGS) {
          const query = place === "body-chunked" ? `in=body&framing=chunked` : `in=${place}`;
          const r = await exchange(socket, get(`/echo?enc=${encodeURIComponent(enc)}&${query}&at=3`));
          assert.equal(r.status, 200, enc);
          assert.ok(`${r.head}\n${r.body}`.includes("REDACTED"), `${enc}: no marker where the echo was`);
        }
        assertNoToken(received(), place);
      } finally {
        socket.destroy();
      }
    });
  }

  it("redacts a credential echoed as a header name", async () => {
    const { socket, received } = await agentTunnel(fx.f);
    const r = await exchange(socket, get("/echo?enc=hex&in=header-name"));
    socket.destroy();
    assert.equal(r.status, 200);
    assert.match(r.head, /\r\nx-echo-[0-9a-f]*(REDACTED)+/i);
    assertNoToken(received(), "header name");
    const line = fx.f.proxy.events("decision").at(-1);
    assert.ok(!JSON.stringify(line).includes(Buffer.from(ECHO_TOKEN).toString("hex")), "the audit line names the header it found the token in");
  });

  for (const enc of ["raw", "base64 after 1", "json every character", "html hex entities"]) {
    it(`finds the echo (${enc}) split between two upstream writes at every offset`, async () => {
      const length = encoded(ECHO_TOKEN, enc).length;
      const { socket, received } = await agentTunnel(fx.f);
      try {
        for (let at = 0; at <= length; at++) {
          const framing = at % 2 ? "chunked" : "length";
          const r = await exchange(socket, get(`/echo?enc=${encodeURIComponent(enc)}&in=body&framing=${framing}&at=${at}`));
          assert.equal(r.status, 200);
        }
        assertNoToken(received(), `${enc} split`);
      } finally {
        socket.destroy();
      }
    });
  }

  it("writes one audit line per echo naming route, slot, place and encoding, and never the value", async () => {
    const since = fx.f.proxy.events("decision").length;
    const paths = ["/echo/audit-body", "/echo/audit-header"];
    const { socket } = await agentTunnel(fx.f);
    await exchange(socket, get(`${paths[0]}?enc=base64%20after%201&in=body`));
    await exchange(socket, get(`${paths[1]}?enc=html%20escape&in=header`));
    socket.destroy();
    // by path (the log omits the query): a late line of the test before may land after `since`
    const lines = await pollUntil("the two decision lines", () => {
      const mine = fx.f.proxy.events("decision").slice(since);
      const found = paths.map((p) => mine.find((l) => l.path === p));
      return found.every((l) => l !== undefined) ? found : undefined;
    });
    const [body, header] = lines.map((l) => l.echo as { action: string; found: Record<string, unknown>[]; count: number });
    assert.equal(body?.action, "redacted");
    const { where, ...rest } = body?.found[0] ?? {};
    assert.deepEqual(rest, { route: 1, token_env: "EGRESS_PROXY_TOKEN_2", encoding: "base64" });
    // inside the echoed text, which starts after the prefix and its quote
    const at = Number(/^body@(\d+)$/.exec(String(where))?.[1]);
    const start = ECHO_PREFIX.length + 1;
    assert.ok(at >= start && at < start + encoded(ECHO_TOKEN, "base64 after 1").length, String(where));
    assert.equal(header?.found[0]?.where, "header:x-echo");
    assert.equal(header?.found[0]?.encoding, "html");
    const output = proxyOutput(fx.f);
    for (const form of FORMS) assert.ok(!output.includes(form.bytes.toString("latin1")), `a token (${form.encoding}) reached the proxy's output`);
  });

  for (const coding of ["gzip", "deflate", "deflate-raw", "br", "gzip-name", "gzip-twice", "deflate-twice"]) {
    it(`cuts a ${coding} body that carries the credential before any of it can be inflated`, async () => {
      const since = fx.f.proxy.events("decision").length;
      const { socket, received } = await agentTunnel(fx.f);
      const got = await readUntilClose(socket, get(`/echo?enc=raw&in=body&coding=${coding}&at=0`), { timeoutMs: 10_000 });
      assert.equal(got.timedOut, false, "the connection was not cut");
      const bytes = received();
      // refused before the first body byte: the head, written with it, never left either
      const head = bytes.length ? bytes.subarray(0, bytes.indexOf("\r\n\r\n")).toString("latin1") : "";
      const declared = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? "1");
      const body = bytes.subarray(head.length + 4);
      assert.ok(body.length < declared, `the whole ${coding} body went out (${body.length} of ${declared})`);
      assertNoToken(bytes, coding);
      assertNoToken(inflateWhatArrived(body), `${coding}, inflated`);
      const line = await nextLine(fx.f, "decision", since, blocked);
      const echo = line.echo as { found: { where: string }[]; reason?: string };
      // a second stream is refused for being there, before it is read
      if (coding.endsWith("-twice")) assert.match(String(echo.reason), /^bytes after the end of the (gzip|deflate) body$/);
      else assert.match(String(echo.found[0]?.where), /^body\((gzip|deflate|br)\)@\d+$/);
    });
  }

  it("relays a compressed body without a token as it came, and redacts the head around it", async () => {
    const since = fx.f.proxy.events("decision").length;
    const { socket } = await agentTunnel(fx.f);
    const got = await readUntilClose(socket, get("/echo?enc=raw&in=header&coding=gzip", "Connection: close\r\n"), { timeoutMs: 10_000 });
    const text = got.bytes.toString("latin1");
    const split = got.bytes.indexOf("\r\n\r\n");
    assert.match(text, /^HTTP\/1\.1 200/);
    assert.match(text, /\r\nx-echo: [^\r]*REDACTED/i);
    assert.equal(zlib.gunzipSync(got.bytes.subarray(split + 4)).toString(), '{"debug":true,"request":{"headers":null}}\n');
    // its line, before the next test counts lines
    await nextLine(fx.f, "decision", since, (l) => (l.echo as { action?: string } | undefined)?.action === "redacted");
  });

  it("refuses a compressed body that inflates past the bound, without inflating it all", async () => {
    const since = fx.f.proxy.events("decision").length;
    const { socket } = await agentTunnel(fx.f);
    const got = await readUntilClose(socket, get("/bomb"), { timeoutMs: 10_000 });
    assert.equal(got.timedOut, false);
    // the line of the test before may still come in: this one is the bomb's
    const line = await nextLine(fx.f, "decision", since, (l) => l.path === "/bomb");
    assert.deepEqual(line.echo, { action: "blocked", found: [], count: 0, reason: "gzip body inflates more than 100:1" });
  });

  it("asks upstreams only for codings it can search, and refuses an answer in another", async () => {
    const { socket } = await agentTunnel(fx.f);
    const r = await exchange(socket, get("/echo?enc=raw&in=body&coding=zstd", "Accept-Encoding: zstd, gzip;q=0.5, *;q=0.1\r\n"));
    socket.destroy();
    assert.equal(fx.echo.acceptEncodings.at(-1), "gzip;q=0.5");
    assert.equal(r.status, 502);
    assert.match(r.body, /upstream response refused/);
  });

  it("redacts tokens in WebSocket messages from upstream, across messages, in pings and in the close reason", async () => {
    for (const [enc, at] of [["raw", 5], ["base64 after 2", 17], ["hex", 1]] as const) {
      const { socket, received } = await agentTunnel(fx.f, "ws-echo.test");
      const ws = new WebSocket(`wss://ws-echo.test/ws?enc=${encodeURIComponent(enc)}&at=${at}`, { createConnection: () => socket, perMessageDeflate: false });
      const seen: Buffer[] = [];
      ws.on("message", (m: Buffer) => seen.push(Buffer.from(m)));
      ws.on("ping", (d: Buffer) => seen.push(Buffer.from(d)));
      const [code, reason] = await new Promise<[number, Buffer]>((resolve, reject) => {
        ws.once("close", (c: number, r: Buffer) => resolve([c, r]));
        ws.once("error", reject);
      });
      assert.equal(code, 4000);
      const all = Buffer.concat([...seen, reason]);
      assert.ok(all.includes("REDACTED"), `${enc}: nothing was redacted`);
      assertNoToken(all, `WebSocket ${enc}, as read`);
      assertNoToken(received(), `WebSocket ${enc}, on the wire`);
      const joined = Buffer.concat(seen.slice(0, 2));
      assertNoToken(joined, `WebSocket ${enc}, two messages joined`);
    }
    const echoLines = await pollUntil("echo lines", () => {
      const l = fx.f.proxy.events("echo");
      return l.length > 0 ? l : undefined;
    });
    assert.ok(echoLines.some((l) => (l.echo as { found: { where: string }[] }).found.some((x) => x.where.startsWith("ws@"))));
  });
});

describe("egress proxy: on_echo block", function () {
  this.timeout(60_000);
  let fx: Awaited<ReturnType<typeof startEchoFixture>>;
  before(async () => {
    fx = await startEchoFixture("block");
  });
  after(async () => {
    await fx?.close();
  });

  it("answers 502 in place of a response whose head carries the credential", async () => {
    const { socket, received } = await agentTunnel(fx.f);
    for (const place of ["header", "status"]) {
      const r = await exchange(socket, get(`/echo?enc=url%20every%20byte&in=${place}`));
      assert.equal(r.status, 502, place);
    }
    socket.destroy();
    assertNoToken(received(), "blocked head");
  });

  it("cuts a body at the echo, so the agent reads everything before it and nothing of it", async () => {
    const since = fx.f.proxy.events("decision").length;
    const { socket, received } = await agentTunnel(fx.f);
    const got = await readUntilClose(socket, get("/echo?enc=json&in=body&framing=chunked&at=6"), { timeoutMs: 10_000 });
    assert.equal(got.timedOut, false);
    const text = received().toString("latin1");
    assert.match(text, /^HTTP\/1\.1 200/);
    assert.ok(text.includes('"request":{"headers":'), "what came before the echo was not relayed");
    assert.ok(!text.includes("\r\n0\r\n\r\n"), "the cut body ended as if complete");
    assertNoToken(received(), "cut body");
    // the 502s of the test before are url-encoded echoes: this body's is the JSON one
    const line = await nextLine(fx.f, "decision", since, (l) => (l.echo as { found?: { encoding: string }[] } | undefined)?.found?.[0]?.encoding === "json");
    assert.ok(blocked(line));
  });

  it("closes a WebSocket with 1008 at the first echoed message", async () => {
    const { socket, received } = await agentTunnel(fx.f, "ws-echo.test");
    const ws = new WebSocket("wss://ws-echo.test/ws?enc=raw&at=4", { createConnection: () => socket, perMessageDeflate: false });
    const code = await new Promise<number>((resolve, reject) => {
      ws.once("close", (c: number) => resolve(c));
      ws.once("error", reject);
    });
    assert.equal(code, 1008);
    assertNoToken(received(), "blocked WebSocket");
  });
});

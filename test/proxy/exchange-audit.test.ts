/**
 * One truthful audit line per request, also when the proxy fails itself or the agent leaves:
 * the request path (handleExchange) on a plain loopback HTTP server, with a context that can be
 * made to throw before or after the decision.
 */
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import type { AuditRecord } from "../../proxy/src/audit/audit-log";
import { handleExchange, type ExchangeContext } from "../../proxy/src/transport/http-exchange";
import { buildRouteTable, type RouteTable } from "../../proxy/src/route/route-table";
import { upstreamAgents } from "../../proxy/src/transport/upstream-agents";
import { connectionView } from "../../proxy/src/mockttp/internals";
import { pollUntil } from "../helpers/deadline";
import { connectPlain, readUntilClose } from "../helpers/raw-http";

const ROUTES = { version: 1, routes: [{ host: "open.test", plain_http: true }] };

/** Serve handleExchange with `table`; send `request` raw; resolve with what the client read and the lines logged. */
async function exchangeWith(table: () => RouteTable, request: string, leaveWhen?: () => boolean): Promise<{ answer: string; lines: AuditRecord[] }> {
  const lines: AuditRecord[] = [];
  const agents = upstreamAgents(undefined, 5_000);
  const ctx: ExchangeContext = { table, agents, bottle: "t", idleTimeoutMs: 5_000, connections: connectionView, log: (r) => lines.push(r) };
  const server = http.createServer((req, res) => handleExchange(ctx, req, res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const socket = await connectPlain(port);
    if (leaveWhen) void pollUntil("time to leave", () => (leaveWhen() ? true : undefined)).then(() => socket.destroy());
    const answer = (await readUntilClose(socket, request, { timeoutMs: 5_000 })).bytes.toString("latin1");
    await pollUntil("one audit line", () => (lines.length > 0 ? true : undefined));
    return { answer, lines };
  } finally {
    agents.destroy();
    await new Promise((r) => server.close(r));
  }
}

describe("egress proxy: one truthful line per request", function () {
  this.timeout(20_000);
  const request = "GET http://open.test/x?secret=1 HTTP/1.1\r\nHost: open.test\r\n\r\n";

  it("logs an internal failure before the decision as an error, and sends nothing", async () => {
    const { answer, lines } = await exchangeWith(() => {
      throw new Error("route table unavailable");
    }, request);
    assert.equal(answer, "");
    assert.deepEqual(lines.map((l) => [l.verdict, l.reason, l.method, l.status]), [["error", "internal error", "GET", null]]);
  });

  it("logs an internal failure after the decision as an error, keeping what was decided", async () => {
    const table = buildRouteTable(ROUTES, {});
    const broken = { ...table, get stripped(): never { throw new Error("header rules unavailable"); } };
    const { answer, lines } = await exchangeWith(() => broken, request);
    assert.equal(answer, "");
    assert.deepEqual(lines.map((l) => [l.verdict, l.reason, l.host, l.path, l.route, l.status]), [["error", "internal error", "open.test", "/x", 0, null]]);
  });

  it("logs an agent that left before any answer with no status, not a 400 it never got", async () => {
    // a loopback upstream that takes the request and never answers; the agent leaves once it has it
    let arrived = false;
    const silent = net.createServer((s) => s.once("data", () => (arrived = true)));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const table = buildRouteTable({ version: 1, routes: [{ host: "127.0.0.1", port, plain_http: true }] }, {});
      const { lines } = await exchangeWith(() => table, `GET http://127.0.0.1:${port}/x HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`, () => arrived);
      assert.equal(lines.length, 1);
      assert.deepEqual([lines[0]?.verdict, lines[0]?.reason, lines[0]?.status], ["allow", "aborted", null]);
    } finally {
      silent.close();
    }
  });
});

// @ts-check
/**
 * test-forward-proxy: the upstream-proxy hop of the e2e suite, standing in for pipelock's
 * role (it is NOT pipelock). It answers CONNECT only for `host:port` targets in FWD_ALLOW,
 * resolves names through Docker's DNS, refuses everything else with 403 before any tunnel, and
 * logs one JSON line per decision on stdout so that tests can prove traffic passed through it.
 */
"use strict";
const http = require("node:http");
const net = require("node:net");

const allow = new Set((process.env.FWD_ALLOW ?? "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean));
const port = Number(process.env.FWD_PORT ?? "3128");

/** @param {Record<string, unknown>} fields */
function log(fields) {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n`);
}

const server = http.createServer((req, res) => {
  // absolute-form HTTP would be forwarding in clear text: never
  log({ event: "request", method: req.method, verdict: "refused", reason: "only CONNECT is served" });
  res.writeHead(403, { "content-type": "application/json" }).end('{"error":"forbidden","reason":"only CONNECT"}\n');
});

server.on("connect", (req, client, head) => {
  const target = (req.url ?? "").toLowerCase();
  const m = /^([a-z0-9.-]+):([0-9]{1,5})$/.exec(target);
  if (!m || !allow.has(target)) {
    log({ event: "connect", target, verdict: "refused", reason: m ? "not in allowlist" : "malformed target" });
    client.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    return;
  }
  const [, host, p] = m;
  const upstream = net.connect({ host, port: Number(p) });
  let up = 0;
  let down = 0;
  upstream.once("connect", () => {
    log({ event: "connect", target, verdict: "allowed", address: upstream.remoteAddress });
    client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    if (head.length) upstream.write(head);
    client.on("data", (c) => (up += c.length));
    upstream.on("data", (c) => (down += c.length));
    client.pipe(upstream);
    upstream.pipe(client);
  });
  upstream.once("error", (e) => {
    log({ event: "connect", target, verdict: "failed", reason: e.message });
    client.destroy();
  });
  upstream.once("close", () => {
    log({ event: "tunnel_close", target, bytes_up: up, bytes_down: down });
    client.destroy();
  });
  client.once("error", () => upstream.destroy());
  client.once("close", () => upstream.destroy());
});

server.listen(port, "0.0.0.0", () => log({ event: "started", port, allow: [...allow] }));
process.once("SIGTERM", () => server.close(() => process.exit(0)));

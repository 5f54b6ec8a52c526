// A MEASUREMENT PROTOTYPE, not the product and not reviewed for security: the same policy as
// proxy/ (its compiled decide(), route table, credentials and audit line, from proxy/dist) on
// Node's own http/https/tls instead of mockttp, to measure what a lean engine would buy.
// Only what the bench exercises: CONNECT + TLS interception, decide() on every request,
// credential strip + inject, one keep-alive upstream agent per downstream connection tunnelled
// through HTTPS_PROXY, one audit line per request. No plain HTTP, WebSocket, health, reload.
// Run: BENCH_CANDIDATE_MAIN=bench/candidates/lean-engine.js npm run bench
"use strict";
const http = require("node:http");
const https = require("node:https");
const net = require("node:net");
const tls = require("node:tls");
const path = require("node:path");
const fs = require("node:fs");
const D = path.resolve(__dirname, "../../proxy/dist");
const { decide, DENY_REASONS } = require(`${D}/decide.js`);
const { loadRouteTable } = require(`${D}/route-table.js`);
const { auditLine, eventLine } = require(`${D}/audit-log.js`);
const caApi = require(path.resolve(__dirname, "../../proxy/node_modules/mockttp/dist/util/certificates.js"));

const env = process.env;
const table = loadRouteTable(env.EGRESS_PROXY_ROUTES, env);
const forward = new URL(env.HTTPS_PROXY);
const port = Number(env.EGRESS_PROXY_LISTEN);
const out = (l) => process.stdout.write(l + "\n");
const HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authenticate"]);
const OVERRIDE = new Set(["x-http-method-override", "x-http-method", "x-method-override"]);

async function main() {
  const ca = await caApi.getCA({ cert: fs.readFileSync(env.EGRESS_PROXY_CA_CERT, "utf8"), key: fs.readFileSync(env.EGRESS_PROXY_CA_KEY, "utf8"), keyLength: 2048 });
  const contexts = new Map();
  const contextFor = (name) => {
    let c = contexts.get(name);
    if (!c) {
      c = ca.generateCertificate(name).then((leaf) => tls.createSecureContext({ key: leaf.key, cert: leaf.cert }));
      contexts.set(name, c);
    }
    return c;
  };

  // One keep-alive agent per downstream connection, tunnelling through the forward proxy.
  const agentFor = (down) => {
    if (down.agent) return down.agent;
    const agent = new https.Agent({ keepAlive: true });
    agent.createConnection = (opts, cb) => {
      const raw = net.connect(Number(forward.port), forward.hostname);
      raw.setNoDelay(true);
      raw.once("error", cb);
      raw.once("connect", () => raw.write(`CONNECT ${opts.host}:${opts.port} HTTP/1.1\r\nHost: ${opts.host}:${opts.port}\r\n\r\n`));
      let buf = Buffer.alloc(0);
      const onData = (d) => {
        buf = Buffer.concat([buf, d]);
        const end = buf.indexOf("\r\n\r\n");
        if (end === -1) return;
        raw.off("data", onData);
        if (!/^HTTP\/1\.[01] 200/.test(buf.toString("latin1", 0, end))) return cb(new Error("upstream proxy refused"));
        const s = tls.connect({ socket: raw, servername: opts.servername || opts.host });
        s.once("secureConnect", () => cb(null, s));
        s.once("error", cb);
      };
      raw.on("data", onData);
    };
    down.agent = agent;
    down.once("close", () => agent.destroy());
    return agent;
  };

  const inner = http.createServer({ keepAliveTimeout: 60000 }, (req, res) => {
    const started = process.hrtime.bigint();
    const down = req.socket;
    const hostHeaders = [];
    const methodOverrides = [];
    const headers = [];
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const lower = raw[i].toLowerCase();
      if (lower === "host") hostHeaders.push(raw[i + 1]);
      else if (OVERRIDE.has(lower)) methodOverrides.push(raw[i + 1]);
      if (!HOP.has(lower) && !table.stripped.has(lower)) headers.push(raw[i], raw[i + 1]);
    }
    const facts = { method: req.method, scheme: "https", connectAuthority: down.connectAuthority, sni: down.servername || undefined, hostHeaders, target: req.url, forwardedTarget: req.url, methodOverrides };
    const d = decide(facts, table.routes);
    const q = req.url.indexOf("?");
    const rec = { bottle: "bench", method: req.method, host: d.host ?? "", path: q === -1 ? req.url : req.url.slice(0, q), route: d.verdict === "allow" ? d.routeIndex : null, verdict: d.verdict, reason: d.verdict === "allow" ? "route matched" : d.reason };
    res.once("finish", () => out(auditLine({ ...rec, status: res.statusCode, bytes: null, duration_ms: Number(process.hrtime.bigint() - started) / 1e6 })));
    if (d.verdict !== "allow") {
      const body = JSON.stringify({ error: "denied by egress proxy", reason: d.reason });
      res.writeHead(DENY_REASONS[d.reason], { "content-type": "application/json", "x-egress-proxy-denial": d.reason, "content-length": Buffer.byteLength(body) });
      return res.end(body);
    }
    const cred = table.credentials[d.routeIndex];
    if (cred) headers.push(cred.header, cred.value);
    const up = https.request({ host: d.host, port: d.port, servername: d.host, method: req.method, path: req.url, headers, agent: agentFor(down), setHost: false }, (ur) => {
      const h = [];
      for (let i = 0; i < ur.rawHeaders.length; i += 2) if (!HOP.has(ur.rawHeaders[i].toLowerCase())) h.push(ur.rawHeaders[i], ur.rawHeaders[i + 1]);
      res.writeHead(ur.statusCode, h);
      ur.pipe(res);
    });
    up.on("error", () => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "upstream unavailable" }));
    });
    req.pipe(up);
  });

  const front = http.createServer((req, res) => {
    res.writeHead(403, { "content-type": "application/json" }).end('{"error":"denied by egress proxy","reason":"plain HTTP not allowed"}');
  });
  front.on("connect", (req, socket, head) => {
    socket.setNoDelay(true);
    socket.write("HTTP/1.1 200 Connection established\r\n\r\n");
    if (head.length) socket.unshift(head);
    const t = new tls.TLSSocket(socket, {
      isServer: true,
      SNICallback: (name, cb) => contextFor(name).then((c) => cb(null, c), cb),
    });
    t.connectAuthority = req.url;
    t.on("error", () => t.destroy());
    inner.emit("connection", t);
  });
  front.listen(port, () => out(eventLine("started", { port: front.address().port, health_port: 0, routes: table.routes.length, upstream: "proxy" })));
  process.on("SIGTERM", () => process.exit(0));
}
main();

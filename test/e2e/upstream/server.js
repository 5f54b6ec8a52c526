// @ts-check
/**
 * The e2e suite's upstream: HTTPS on 443 with a certificate from the test's private CA (files
 * uploaded to /srv/tls before start), plain HTTP on 80 (canary mode). Every connection and
 * request is one JSON line on stdout. Credentials are logged only as sha256 digests, so the
 * test can check the injected value without any log holding it.
 */
"use strict";
const { createHash } = require("node:crypto");
const fs = require("node:fs");
const http = require("node:http");
const https = require("node:https");

/** @param {Record<string, unknown>} fields */
function log(fields) {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n`);
}

const sha = (/** @type {string} */ v) => createHash("sha256").update(v).digest("hex");

/** @param {boolean} secure */
function handler(secure) {
  return (/** @type {http.IncomingMessage} */ req, /** @type {http.ServerResponse} */ res) => {
    /** @type {Record<string, string[]>} */
    const credentials = { authorization: [], "x-api-key": [] };
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = (req.rawHeaders[i] ?? "").toLowerCase();
      if (name in credentials) credentials[name]?.push(sha(req.rawHeaders[i + 1] ?? ""));
    }
    const tlsSocket = /** @type {import("node:tls").TLSSocket} */ (req.socket);
    let bytes = 0;
    req.on("data", (c) => (bytes += c.length));
    req.on("end", () => {
      log({
        event: "request",
        tls: secure,
        sni: secure ? tlsSocket.servername ?? null : null,
        host: req.headers.host ?? null,
        method: req.method,
        path: req.url,
        authorization_sha256: credentials.authorization,
        x_api_key_sha256: credentials["x-api-key"],
        body_bytes: bytes,
      });
      res.writeHead(200, { "content-type": "application/json" });
      // an upstream that reflects request headers, as debug endpoints do: the injected credential included
      if ((req.url ?? "").startsWith("/allowed/echo-headers")) return void res.end(`${JSON.stringify({ ok: true, headers: req.headers })}\n`);
      res.end(`${JSON.stringify({ ok: true, method: req.method, path: req.url })}\n`);
    });
  };
}

const plain = http.createServer(handler(false));
plain.on("connection", (s) => log({ event: "connection", port: 80, from: s.remoteAddress }));
plain.listen(80, "0.0.0.0", () => log({ event: "started", port: 80 }));

if (fs.existsSync("/srv/tls/cert.pem")) {
  const secure = https.createServer({ cert: fs.readFileSync("/srv/tls/cert.pem"), key: fs.readFileSync("/srv/tls/key.pem") }, handler(true));
  secure.on("connection", (s) => log({ event: "connection", port: 443, from: s.remoteAddress }));
  secure.listen(443, "0.0.0.0", () => log({ event: "started", port: 443 }));
}
process.once("SIGTERM", () => process.exit(0));

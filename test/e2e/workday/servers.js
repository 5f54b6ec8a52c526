// @ts-check
/**
 * The servers a coding agent's working day talks to, for the e2e suite (workday.test.ts), on
 * HTTPS 443 with a certificate of the scenario's private CA (files uploaded to /srv/tls), one
 * virtual host each (by the Host header):
 *
 *   git.e2e.test       git's own smart-HTTP server, `git http-backend` (CGI), push enabled; every
 *                      request must carry `Authorization: Basic …` whose sha256 is GIT_AUTH_SHA256
 *   registry.e2e.test  an npm registry: packuments (full, or abbreviated when npm asks for
 *                      application/vnd.npm.install-v1+json) and the tarballs `npm pack` made
 *   pypi.e2e.test      a PEP 503 simple index of the wheels in /srv/pypi
 *   events.e2e.test    a server-sent-events stream and a JSON answer
 *
 * Every request is one JSON line on stdout; a credential only as its sha256, never its value.
 */
"use strict";
const { spawn, execFileSync } = require("node:child_process");
const { createHash } = require("node:crypto");
const fs = require("node:fs");
const https = require("node:https");
const path = require("node:path");

const GIT_ROOT = "/srv/git";
const NPM_DIR = "/srv/npm";
const PYPI_DIR = "/srv/pypi";
const EXPECTED_GIT_AUTH = process.env.GIT_AUTH_SHA256 ?? "";
const SSE_EVENTS = 5;
const SSE_GAP_MS = 400;

/** @param {Record<string, unknown>} fields */
function log(fields) {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n`);
}

const sha256 = (/** @type {string | Buffer} */ v) => createHash("sha256").update(v).digest("hex");

/** @typedef {import("node:http").IncomingMessage} Req */
/** @typedef {import("node:http").ServerResponse} Res */
/** @typedef {(req: Req, res: Res, note: Record<string, unknown>) => void} Handler */

/** The npm registry's documents, made once from the tarballs at start. */
function loadRegistry() {
  /** @type {Map<string, { full: Record<string, unknown>, abbreviated: Record<string, unknown> }>} */
  const packuments = new Map();
  /** @type {Map<string, string>} tarball URL path → file */
  const tarballs = new Map();
  if (!fs.existsSync(NPM_DIR)) return { packuments, tarballs };
  /** @type {Map<string, Record<string, Record<string, unknown>>>} */
  const versions = new Map();
  for (const file of fs.readdirSync(NPM_DIR).filter((f) => f.endsWith(".tgz")).sort()) {
    const full = path.join(NPM_DIR, file);
    const manifest = /** @type {Record<string, unknown>} */ (JSON.parse(execFileSync("tar", ["-xzOf", full, "package/package.json"], { encoding: "utf8" })));
    const name = String(manifest.name);
    const version = String(manifest.version);
    const bytes = fs.readFileSync(full);
    const urlPath = `/${name}/-/${file}`;
    tarballs.set(urlPath, full);
    const dist = {
      tarball: `https://registry.e2e.test${urlPath}`,
      shasum: createHash("sha1").update(bytes).digest("hex"),
      integrity: `sha512-${createHash("sha512").update(bytes).digest("base64")}`,
    };
    const list = versions.get(name) ?? {};
    list[version] = { ...manifest, _id: `${name}@${version}`, dist };
    versions.set(name, list);
  }
  for (const [name, list] of versions) {
    const latest = Object.keys(list).sort().pop() ?? "";
    const distTags = { latest };
    const keep = ["name", "version", "dependencies", "optionalDependencies", "peerDependencies", "bin", "engines", "dist"];
    /** @type {Record<string, Record<string, unknown>>} */
    const short = {};
    for (const [v, m] of Object.entries(list)) short[v] = Object.fromEntries(Object.entries(m).filter(([k]) => keep.includes(k)));
    const modified = new Date(0).toISOString();
    packuments.set(name, {
      full: { _id: name, name, "dist-tags": distTags, versions: list, time: { modified } },
      abbreviated: { name, modified, "dist-tags": distTags, versions: short },
    });
  }
  return { packuments, tarballs };
}

const registry = loadRegistry();

/** @type {Handler} */
function npmRegistry(req, res, note) {
  const url = new URL(req.url ?? "/", "https://registry.e2e.test");
  note.npm_command = req.headers["npm-command"] ?? null;
  note.accept = req.headers.accept ?? null;
  if (url.pathname === "/-/ping") return void json(res, 200, {});
  const file = registry.tarballs.get(url.pathname);
  if (file) {
    note.kind = "tarball";
    res.writeHead(200, { "content-type": "application/octet-stream" });
    return void fs.createReadStream(file).pipe(res);
  }
  // scoped names arrive as @scope%2fname
  const doc = registry.packuments.get(decodeURIComponent(url.pathname.slice(1)));
  if (!doc) return void json(res, 404, { error: "not_found" });
  const wantsShort = /application\/vnd\.npm\.install-v1\+json/.test(String(req.headers.accept ?? ""));
  note.kind = wantsShort ? "packument-abbreviated" : "packument";
  json(res, 200, wantsShort ? doc.abbreviated : doc.full, wantsShort ? "application/vnd.npm.install-v1+json" : "application/json");
}

/** PEP 503 normalised project name. */
const normalise = (/** @type {string} */ n) => n.toLowerCase().replace(/[-_.]+/g, "-");

/** @type {Handler} */
function simpleIndex(req, res, note) {
  const url = new URL(req.url ?? "/", "https://pypi.e2e.test");
  note.accept = req.headers.accept ?? null;
  const wheels = fs.existsSync(PYPI_DIR) ? fs.readdirSync(PYPI_DIR).filter((f) => f.endsWith(".whl")).sort() : [];
  const project = (/** @type {string} */ w) => normalise(w.split("-")[0] ?? "");
  const page = (/** @type {string} */ title, /** @type {string[]} */ links) =>
    `<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" content="1.0"><title>${title}</title></head><body>\n${links.join("<br>\n")}\n</body></html>\n`;
  const html = (/** @type {string} */ body) => res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(body);
  if (url.pathname === "/simple/") {
    note.kind = "root";
    return void html(page("Simple index", [...new Set(wheels.map(project))].map((p) => `<a href="/simple/${p}/">${p}</a>`)));
  }
  const m = /^\/simple\/([^/]+)\/$/.exec(url.pathname);
  if (m) {
    const want = normalise(decodeURIComponent(m[1] ?? ""));
    const mine = wheels.filter((w) => project(w) === want);
    if (mine.length === 0) return void json(res, 404, { error: "not found" });
    note.kind = "project";
    return void html(page(`Links for ${want}`, mine.map((w) => `<a href="/files/${w}#sha256=${sha256(fs.readFileSync(path.join(PYPI_DIR, w)))}">${w}</a>`)));
  }
  const f = /^\/files\/([^/]+\.whl)$/.exec(url.pathname);
  if (f && wheels.includes(f[1] ?? "")) {
    note.kind = "wheel";
    res.writeHead(200, { "content-type": "application/octet-stream" });
    return void fs.createReadStream(path.join(PYPI_DIR, f[1] ?? "")).pipe(res);
  }
  json(res, 404, { error: "not found" });
}

/** @type {Handler} */
function events(req, res, note) {
  const url = new URL(req.url ?? "/", "https://events.e2e.test");
  if (url.pathname !== "/stream") return void json(res, 200, { ok: true, path: url.pathname, user_agent: req.headers["user-agent"] ?? null });
  note.kind = "sse";
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  let n = 0;
  const tick = () => {
    n += 1;
    res.write(`id: ${n}\nevent: tick\ndata: {"n":${n}}\n\n`);
    if (n < SSE_EVENTS) timer = setTimeout(tick, SSE_GAP_MS);
    else res.end();
  };
  let timer = setTimeout(tick, 0);
  res.once("close", () => clearTimeout(timer));
}

/** `git http-backend` as a CGI program, the way a web server runs it. */
/** @type {Handler} */
function gitBackend(req, res, note) {
  const got = req.headers.authorization;
  note.authorization_sha256 = got === undefined ? null : sha256(got);
  const ok = typeof got === "string" && /^Basic [A-Za-z0-9+/]+=*$/.test(got) && sha256(got) === EXPECTED_GIT_AUTH;
  note.auth = got === undefined ? "missing" : ok ? "ok" : "wrong";
  if (!ok) {
    res.writeHead(401, { "www-authenticate": 'Basic realm="git"', "content-type": "text/plain" });
    return void res.end("authentication required\n");
  }
  const url = new URL(req.url ?? "/", "https://git.e2e.test");
  /** @type {NodeJS.ProcessEnv} */
  const env = {
    PATH: "/usr/bin:/bin",
    GIT_PROJECT_ROOT: GIT_ROOT,
    GIT_HTTP_EXPORT_ALL: "1",
    GATEWAY_INTERFACE: "CGI/1.1",
    REQUEST_METHOD: req.method ?? "GET",
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.slice(1),
    CONTENT_TYPE: req.headers["content-type"] ?? "",
    REMOTE_USER: "x-access-token",
    REMOTE_ADDR: req.socket.remoteAddress ?? "",
    SERVER_PROTOCOL: "HTTP/1.1",
    ...(req.headers["content-length"] !== undefined ? { CONTENT_LENGTH: req.headers["content-length"] } : {}),
    ...(req.headers["content-encoding"] !== undefined ? { HTTP_CONTENT_ENCODING: String(req.headers["content-encoding"]) } : {}),
    ...(req.headers["git-protocol"] !== undefined ? { GIT_PROTOCOL: String(req.headers["git-protocol"]) } : {}),
  };
  note.service = url.searchParams.get("service") ?? path.basename(url.pathname);
  const cgi = spawn("/usr/lib/git-core/git-http-backend", [], { env, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  cgi.stderr.on("data", (c) => (stderr += String(c)));
  req.pipe(cgi.stdin);
  let head = Buffer.alloc(0);
  let started = false;
  cgi.stdout.on("data", (/** @type {Buffer} */ chunk) => {
    if (started) return void res.write(chunk);
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf("\r\n\r\n") >= 0 ? head.indexOf("\r\n\r\n") : head.indexOf("\n\n");
    if (end < 0) return;
    const sep = head[end] === 13 ? 4 : 2;
    /** @type {Record<string, string>} */
    const headers = {};
    let status = 200;
    for (const line of head.subarray(0, end).toString("latin1").split(/\r?\n/)) {
      const i = line.indexOf(":");
      if (i < 0) continue;
      const k = line.slice(0, i).trim();
      const v = line.slice(i + 1).trim();
      if (k.toLowerCase() === "status") status = Number(v.split(" ")[0]) || 500;
      else headers[k] = v;
    }
    started = true;
    note.status = status;
    res.writeHead(status, headers);
    res.write(head.subarray(end + sep));
  });
  cgi.once("close", (code) => {
    if (code !== 0) note.cgi_error = stderr.trim().slice(0, 300);
    if (!started) res.writeHead(502).end();
    else res.end();
  });
}

/** @param {Res} res @param {number} status @param {unknown} body */
function json(res, status, body, type = "application/json") {
  res.writeHead(status, { "content-type": type }).end(`${JSON.stringify(body)}\n`);
}

/** @type {Record<string, Handler>} */
const hosts = { "git.e2e.test": gitBackend, "registry.e2e.test": npmRegistry, "pypi.e2e.test": simpleIndex, "events.e2e.test": events };

const server = https.createServer({ cert: fs.readFileSync("/srv/tls/cert.pem"), key: fs.readFileSync("/srv/tls/key.pem") }, (req, res) => {
  const host = (req.headers.host ?? "").replace(/:443$/, "").toLowerCase();
  /** @type {Record<string, unknown>} */
  const note = {};
  let bytes = 0;
  req.on("data", (c) => (bytes += c.length));
  const t0 = Date.now();
  res.once("finish", () => {
    log({ event: "request", host, method: req.method, path: req.url, user_agent: req.headers["user-agent"] ?? null, status: res.statusCode, body_bytes: bytes, ms: Date.now() - t0, ...note });
  });
  const handler = hosts[host];
  if (!handler) return void json(res, 421, { error: "no such host here" });
  handler(req, res, note);
});
server.on("tlsClientError", (e) => log({ event: "tls_error", message: e.message }));
server.listen(443, "0.0.0.0", () => log({ event: "started", port: 443, hosts: Object.keys(hosts), npm_packages: [...registry.packuments.keys()] }));
process.once("SIGTERM", () => process.exit(0));

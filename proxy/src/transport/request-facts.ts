/**
 * The thin adapter from a request to the pure `RequestFacts` that `decide` reads. mockttp keeps
 * the CONNECT target, the TLS SNI and whether the last hop was encrypted on the socket under its
 * own symbols; mockttp/internals.ts reads them and the caller passes them in as `ConnectionFacts`.
 *
 * Two shapes arrive here: plain HTTP requests as Node parsed them (our own request path, see
 * http-exchange.ts), and WebSocket upgrades after mockttp's pre-processing (its rules still
 * carry those).
 */
import type { IncomingMessage } from "node:http";
import url from "node:url";
import { splitTarget } from "../route/canonical-path";
import type { RequestFacts } from "../route/decide";
import { isMethodParameter, OVERRIDE_HEADERS } from "../route/method-override";
import type { ConnectionFacts } from "./connection-view";
import { headerPairs } from "../route/upstream-headers";

/** A request target as Node received it: origin-form (`/a?b`) or absolute-form (`http://h/a?b`). */
export interface ParsedTarget {
  scheme: "http" | "https" | undefined;
  /** The authority of an absolute-form target. */
  authority: string | undefined;
  /** Path and query, exactly the bytes that will be forwarded upstream. */
  target: string;
}

/**
 * Split a request-line target without normalising it. An absolute-form authority ends at the
 * first `/`, `?` or `#`; what follows is kept byte for byte, so `decide` checks exactly what is
 * forwarded. Anything else (`*`, `example.com:443`, `ftp://`) keeps its raw text as the target
 * and then fails the canonical-path check.
 */
export function parseTarget(raw: string): ParsedTarget {
  const m = /^(https?):\/\/([^/?#]*)(.*)$/is.exec(raw);
  if (!m) return { scheme: undefined, authority: undefined, target: raw };
  const [, schemeText, authority, rest] = m;
  if (schemeText === undefined || authority === undefined || rest === undefined) throw new Error("internal: request target match without its groups");
  const scheme = schemeText.toLowerCase() as "http" | "https";
  return { scheme, authority, target: rest === "" ? "/" : rest };
}

/** Facts of a plain HTTP request on our own request path (never pre-processed by mockttp). */
export function httpRequestFacts(req: IncomingMessage, parsed: ParsedTarget, conn: ConnectionFacts): RequestFacts {
  const scheme = parsed.scheme ?? (conn.encrypted ? "https" : "http");
  return assemble({
    method: req.method ?? "",
    httpVersion: req.httpVersion,
    scheme,
    rawHeaders: headerPairs(req.rawHeaders),
    target: parsed.target,
    forwardedTarget: parsed.target,
    absoluteAuthority: parsed.authority,
    conn,
  });
}

/** The fields of a pre-processed WebSocket upgrade read here (mockttp's request has them). */
export interface UpgradeRequest {
  method: string;
  httpVersion: string;
  protocol: string;
  rawHeaders: readonly (readonly [string, string])[];
  path: string;
  url: string;
  destination: { hostname: string; port: number };
}

/** Facts of a WebSocket upgrade as mockttp pre-processed it (its passthrough forwards `req.url`). */
export function webSocketFacts(req: UpgradeRequest, conn: ConnectionFacts): RequestFacts {
  return assemble({
    method: req.method,
    httpVersion: req.httpVersion,
    scheme: req.protocol === "wss" || req.protocol === "https" ? "https" : "http",
    rawHeaders: req.rawHeaders,
    target: req.path,
    forwardedTarget: forwardedTarget(req.url),
    absoluteAuthority: authority(req.destination.hostname, req.destination.port),
    conn,
  });
}

interface FactParts {
  method: string;
  httpVersion: string;
  scheme: "http" | "https";
  rawHeaders: readonly (readonly [string, string])[];
  target: string;
  forwardedTarget: string;
  absoluteAuthority: string | undefined;
  conn: ConnectionFacts;
}

function assemble(p: FactParts): RequestFacts {
  const hostHeaders: string[] = [];
  const authorities: string[] = [];
  const methodOverrides: string[] = [];
  let upgrade: string | undefined;
  for (const [name, value] of p.rawHeaders) {
    const lower = name.toLowerCase();
    if (lower === "host") hostHeaders.push(value);
    else if (lower === ":authority") authorities.push(value);
    else if (OVERRIDE_HEADERS.has(lower)) methodOverrides.push(value);
    else if (lower === "upgrade") upgrade = (upgrade === undefined ? value : `${upgrade},${value}`).trim().toLowerCase();
  }
  for (const [key, value] of safeSearchParams(splitTarget(p.target).query)) {
    if (isMethodParameter(key)) methodOverrides.push(value);
  }
  const facts: RequestFacts = {
    method: p.method,
    httpVersion: p.httpVersion,
    scheme: p.scheme,
    hostHeaders,
    authorities,
    target: p.target,
    forwardedTarget: p.forwardedTarget,
    methodOverrides,
  };
  if (p.absoluteAuthority !== undefined) facts.absoluteAuthority = p.absoluteAuthority;
  if (p.conn.connectAuthority !== undefined) facts.connectAuthority = p.conn.connectAuthority;
  if (p.conn.encrypted && p.conn.sni) facts.sni = p.conn.sni;
  if (upgrade !== undefined) facts.upgrade = upgrade;
  return facts;
}

/** `host:port`, with IPv6 literals bracketed as in a URL. */
function authority(hostname: string, port: number): string {
  return hostname.includes(":") && !hostname.startsWith("[") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/** The path and query mockttp's WebSocket passthrough sends upstream: legacy `url.parse` of `req.url`. */
function forwardedTarget(reqUrl: string): string {
  try {
    // the deprecated url.parse on purpose: must mirror mockttp's own parsing exactly.
    const parsed = url.parse(reqUrl);
    return `${parsed.pathname || "/"}${parsed.search || ""}`;
  } catch {
    return "\u0000unparseable";
  }
}

function safeSearchParams(query: string): [string, string][] {
  try {
    return [...new URLSearchParams(query)];
  } catch {
    return [];
  }
}

/**
 * The thin adapter from a mockttp request to the pure `RequestFacts` that `decide` reads.
 * mockttp keeps the CONNECT target and the TLS SNI on the socket under its own symbols; we load
 * them from its module file so that we read exactly what its passthrough step will act on.
 */
import path from "node:path";
import url from "node:url";
import { splitTarget } from "./canonical-path";
import type { RequestFacts } from "./decide";
import { isMethodParameter, OVERRIDE_HEADERS } from "./method-override";
import type { MockttpRequest } from "./mockttp-types";

interface SocketSymbols {
  LastTunnelAddress: symbol;
  TlsMetadata: symbol;
}
// The package's export map hides util/, so resolve the file next to its entry point.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const symbols: SocketSymbols = require(path.join(path.dirname(require.resolve("mockttp")), "util", "socket-extensions.js"));
if (typeof symbols.LastTunnelAddress !== "symbol" || typeof symbols.TlsMetadata !== "symbol") {
  throw new Error("mockttp internals changed: socket-extensions symbols not found; pin mockttp to the tested version");
}

/** Collect the facts of one request; throws nothing, unknown parts stay undefined. */
export function requestFacts(req: MockttpRequest): RequestFacts {
  const socket = req.socket as unknown as Record<symbol, unknown>;
  const tunnel = socket[symbols.LastTunnelAddress];
  const tls = socket[symbols.TlsMetadata] as { sniHostname?: string } | undefined;
  const scheme = req.protocol === "https" || req.protocol === "wss" ? "https" : "http";

  const hostHeaders: string[] = [];
  const authorities: string[] = [];
  const methodOverrides: string[] = [];
  let upgrade: string | undefined;
  for (const [name, value] of req.rawHeaders) {
    const lower = name.toLowerCase();
    if (lower === "host") hostHeaders.push(value);
    else if (lower === ":authority") authorities.push(value);
    else if (OVERRIDE_HEADERS.has(lower)) methodOverrides.push(value);
    else if (lower === "upgrade") upgrade = (upgrade === undefined ? value : `${upgrade},${value}`).trim().toLowerCase();
  }

  const target = req.path;
  for (const [key, value] of safeSearchParams(splitTarget(target).query)) {
    if (isMethodParameter(key)) methodOverrides.push(value);
  }

  const facts: RequestFacts = {
    method: req.method,
    httpVersion: req.httpVersion,
    scheme,
    absoluteAuthority: authority(req.destination.hostname, req.destination.port),
    hostHeaders,
    authorities,
    target,
    forwardedTarget: forwardedTarget(req.url),
    methodOverrides,
  };
  if (typeof tunnel === "string") facts.connectAuthority = tunnel;
  if (scheme === "https" && tls?.sniHostname) facts.sni = tls.sniHostname;
  if (upgrade !== undefined) facts.upgrade = upgrade;
  return facts;
}

/** `host:port`, with IPv6 literals bracketed as in a URL. */
function authority(hostname: string, port: number): string {
  return hostname.includes(":") && !hostname.startsWith("[") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/** The path and query mockttp's passthrough sends upstream: legacy `url.parse` of `req.url`. */
function forwardedTarget(reqUrl: string): string {
  try {
    // eslint-disable-next-line n/no-deprecated-api -- must mirror mockttp's own parsing exactly.
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

/**
 * The route decision: pure data in, pure data out. Nothing here touches mockttp, sockets or the
 * clock, so every branch is unit-tested and property-tested without a network.
 */
import { pathProblem, splitTarget } from "./canonical-path";
import { canonicalHost, hostMatches, isIpLiteral, parseAuthority } from "./host";
import { pathMatches } from "./path-pattern";
import type { Route } from "./routes-schema";

/** What the proxy knows about one request, as the agent sent it (raw, not normalised). */
export interface RequestFacts {
  method: string;
  /** The HTTP version of the agent's request (`1.1`, `1.0`, `2.0`). */
  httpVersion: string;
  /** `https` when the proxy terminated the agent's TLS, else `http`. */
  scheme: "http" | "https";
  /** The CONNECT target (`host:port`) when the request came through a tunnel. */
  connectAuthority?: string;
  /** The authority of an absolute-form request line (`GET http://host:port/path`). */
  absoluteAuthority?: string;
  /** TLS SNI the agent sent, whenever the proxy terminated the agent's TLS. */
  sni?: string;
  /** Every `Host` header value (a request may carry at most one). */
  hostHeaders: string[];
  /** Every HTTP/2 `:authority` value (at most one; with Host, both must agree). */
  authorities: string[];
  /** The raw request target's path and query (origin-form), as the agent sent it. */
  target: string;
  /** The path and query the proxy would forward upstream; must equal `target`. */
  forwardedTarget: string;
  /** Values of method-override headers and `_method` query parameters. */
  methodOverrides: string[];
  /** The `Upgrade` header, lower-cased, when the agent asked for a protocol switch. */
  upgrade?: string;
}

/** The closed set of reasons a request is refused; each has one fixed status. */
export const DENY_REASONS = {
  "unsupported HTTP version": 400,
  "non-canonical path": 400,
  "path rewritten in transit": 400,
  "malformed destination": 400,
  "destination mismatch": 403,
  "missing SNI": 403,
  "IP literal not allowed": 403,
  "host not allowed": 403,
  "plain HTTP not allowed": 403,
  "upgrade not allowed": 403,
  "path not allowed": 403,
  "method not allowed": 403,
  "method override not allowed": 403,
  "form body not inspectable": 403,
  "double-encoded path": 400,
  // not a decision of `decide`: found after it, in the request's head or body (placeholder-canary.ts)
  "credential placeholder outside its route": 403,
} as const satisfies Record<string, 400 | 403>;

export type DenyReason = keyof typeof DENY_REASONS;

export type Decision =
  | { verdict: "allow"; routeIndex: number; host: string; port: number }
  | { verdict: "deny"; reason: DenyReason; host?: string };

const DEFAULT_PORT = { http: 80, https: 443 } as const;

/** An encoded percent sign before the encoding of a dot, slash or backslash. */
const DOUBLE_ENCODED = /%25(?:2e|2f|5c)/i;

/** The ports a route covers, as `decide` matches them: its own, or the default port of each scheme it allows. */
export function routePorts(route: Route): number[] {
  if (route.port !== undefined) return [route.port];
  return route.plain_http ? [DEFAULT_PORT.https, DEFAULT_PORT.http] : [DEFAULT_PORT.https];
}

/**
 * Decide one request. Order of evaluation (first failure wins, deny is the fallthrough):
 * 1. HTTP/1.x; the target is canonical, and is exactly what would be forwarded;
 * 2. every name of the destination (CONNECT, SNI, Host, absolute URL) is well-formed and the same;
 * 3. IP literals only when a route names that IP;
 * 4. a route covers host and port; plain HTTP only on routes that allow it;
 * 5. protocol upgrades only as WebSocket on routes that allow it;
 * 6. path, then (unless a route allows it) no double-encoded dot or separator, then method, then
 *    any method override, against the routes left.
 */
export function decide(facts: RequestFacts, routes: readonly Route[]): Decision {
  // HTTP/2 reaches mockttp through ALPN or prior knowledge even when it is off, and its
  // passthrough mishandles other versions: only the HTTP/1 this proxy is tested with passes.
  if (facts.httpVersion !== "1.1" && facts.httpVersion !== "1.0") return deny("unsupported HTTP version");
  if (pathProblem(facts.target) !== undefined) return deny("non-canonical path");
  if (facts.forwardedTarget !== facts.target) return deny("path rewritten in transit");

  const dest = resolveDestination(facts);
  if (dest === "malformed") return deny("malformed destination");
  if (dest === "mismatch") return deny("destination mismatch");
  if (dest === "missing-sni") return deny("missing SNI");
  const { host, port } = dest;

  const ipLiteral = isIpLiteral(host);
  const onHost = routes
    .map((route, index) => ({ route, index }))
    .filter(({ route }) => (ipLiteral ? route.host === host : hostMatches(route.host, host)))
    .filter(({ route }) => (route.port ?? DEFAULT_PORT[facts.scheme]) === port);
  if (onHost.length === 0) return deny(ipLiteral ? "IP literal not allowed" : "host not allowed", host);

  const onScheme = facts.scheme === "https" ? onHost : onHost.filter(({ route }) => route.plain_http === true);
  if (onScheme.length === 0) return deny("plain HTTP not allowed", host);

  const onUpgrade =
    facts.upgrade === undefined
      ? onScheme
      : facts.upgrade === "websocket"
        ? onScheme.filter(({ route }) => route.websocket === true)
        : [];
  if (onUpgrade.length === 0) return deny("upgrade not allowed", host);

  const { path } = splitTarget(facts.target);
  const onPath = onUpgrade.filter(({ route }) => !route.path_allowlist || route.path_allowlist.some((p) => pathMatches(p, path)));
  if (onPath.length === 0) return deny("path not allowed", host);

  // `%252e` is `%2e` once decoded: a server that decodes twice sees `.`, `/` or `\`
  const onEncoding = DOUBLE_ENCODED.test(path) ? onPath.filter(({ route }) => route.allow_double_encoding === true) : onPath;
  if (onEncoding.length === 0) return deny("double-encoded path", host);

  const method = facts.method.toUpperCase();
  const onMethod = onEncoding.filter(({ route }) => methodAllowed(route, method));
  if (onMethod.length === 0) return deny("method not allowed", host);

  const chosen = onMethod.find(({ route }) => facts.methodOverrides.every((m) => methodAllowed(route, m.trim().toUpperCase())));
  if (!chosen) return deny("method override not allowed", host);

  return { verdict: "allow", routeIndex: chosen.index, host, port };
}

/** Methods a route allows only when it lists them: TRACE and TRACK echo the request, credential included. */
const ONLY_WHEN_LISTED = new Set(["TRACE", "TRACK", "CONNECT"]);

function methodAllowed(route: Route, method: string): boolean {
  return route.methods === undefined ? !ONLY_WHEN_LISTED.has(method) : route.methods.includes(method);
}

function deny(reason: DenyReason, host?: string): Decision {
  return host === undefined ? { verdict: "deny", reason } : { verdict: "deny", reason, host };
}

type Destination = { host: string; port: number } | "malformed" | "mismatch" | "missing-sni";

/** One destination per request: all the names the agent gave must agree, ports included. */
function resolveDestination(facts: RequestFacts): Destination {
  const { hostHeaders, authorities } = facts;
  if (hostHeaders.length > 1 || authorities.length > 1 || hostHeaders.length + authorities.length === 0) return "malformed";
  const defaultPort = DEFAULT_PORT[facts.scheme];
  const named: { host: string; port: number }[] = [];
  for (const raw of [hostHeaders[0], authorities[0], facts.absoluteAuthority, facts.connectAuthority]) {
    if (raw === undefined) continue;
    const authority = parseAuthority(raw);
    const host = authority && canonicalHost(authority.host);
    if (!authority || host === undefined) return "malformed";
    named.push({ host, port: authority.port ?? defaultPort });
  }
  const [first, ...rest] = named;
  if (!first || rest.some((n) => n.host !== first.host || n.port !== first.port)) return "mismatch";
  if (facts.sni !== undefined && facts.sni !== "") {
    // Whatever the request's scheme: an `http://` URL inside a TLS tunnel must agree with it too.
    if (canonicalHost(facts.sni) !== first.host) return "mismatch";
  } else if (facts.scheme === "https" && !isIpLiteral(first.host)) {
    // Clients send no SNI for IP literals (RFC 6066 forbids it); a name must come with one.
    return "missing-sni";
  }
  return first;
}

/**
 * The headers that cross the proxy, in both directions: everything end to end as sent (names,
 * case, order, repeats), minus hop-by-hop headers, minus the agent's credentials on the way up,
 * plus the route's credential. Pure: raw header arrays in, raw header arrays out.
 */
import { isStrippedHeader } from "./admission";
import type { Credential } from "./credentials";

/**
 * Hop-by-hop, or handled by the proxy itself. `expect` is answered by the proxy once the request
 * is admitted; `proxy-authorization` belongs to this hop only.
 */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade", "proxy-authorization", "proxy-authenticate", "expect"]);

/**
 * Message framing is kept as the agent sent it (Node re-frames a chunked body and keeps a
 * length), and Host was checked against the destination: a `Connection` header naming them does
 * not remove them.
 */
const NEVER_CONNECTION_LISTED = new Set(["host", "content-length", "transfer-encoding"]);

/** Response headers Node's server writes itself from the body it relays. */
const RESPONSE_FRAMING = new Set(["transfer-encoding"]);

function connectionListed(raw: readonly string[]): Set<string> {
  const listed = new Set<string>();
  // index loops, not headerPairs: this runs on every request, and pairs would allocate
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if ((raw[i] ?? "").toLowerCase() !== "connection") continue;
    for (const token of (raw[i + 1] ?? "").split(",")) {
      const listedName = token.trim().toLowerCase();
      if (listedName && !NEVER_CONNECTION_LISTED.has(listedName)) listed.add(listedName);
    }
  }
  return listed;
}

/** The handshake of a WebSocket upgrade, which the upstream must see as the agent sent it. */
const UPGRADE_HANDSHAKE = new Set(["connection", "upgrade"]);

/**
 * The request headers to send upstream (flat `[name, value, ...]`), for every request the
 * proxy forwards: plain requests on its own path, and WebSocket upgrades (`upgrade`), whose
 * handshake headers stay and which never carry a credential (the routes schema forbids it).
 */
export function upstreamRequestHeaders(raw: readonly string[], stripped: ReadonlySet<string>, credential: Credential | undefined, upgrade = false): string[] {
  const listed = connectionListed(raw);
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? "";
    const lower = name.toLowerCase();
    const handshake = upgrade && UPGRADE_HANDSHAKE.has(lower);
    if (!handshake && (HOP_BY_HOP.has(lower) || listed.has(lower))) continue;
    if (isStrippedHeader(name, stripped)) continue;
    out.push(name, raw[i + 1] ?? "");
  }
  if (credential && !upgrade) out.push(credential.header, credential.reveal());
  return out;
}

/** The response headers to relay to the agent (flat `[name, value, ...]`). */
export function agentResponseHeaders(raw: readonly string[]): string[] {
  const listed = connectionListed(raw);
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? "";
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || RESPONSE_FRAMING.has(lower) || listed.has(lower)) continue;
    out.push(name, raw[i + 1] ?? "");
  }
  return out;
}

/** Node's flat `[name, value, name, value]` header list as pairs. */
export function headerPairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i];
    const value = flat[i + 1];
    if (name === undefined || value === undefined) throw new Error(`internal: hole at ${i} in a raw header list`);
    out.push([name, value]);
  }
  return out;
}

/** The content codings the proxy can search a response through for echoed tokens (transport/echo-guard.ts). */
const SEARCHABLE_CODINGS = new Set(["gzip", "x-gzip", "deflate", "br", "identity"]);

/**
 * `accept-encoding` narrowed to the searchable codings, so that an upstream never picks one whose
 * answer the proxy would have to refuse (zstd, compress, `*`); `identity` when none is left.
 */
export function searchableCodingsOnly(headers: readonly string[]): string[] {
  return withAcceptEncoding(headers, (value) => {
    const kept = value.split(",").map((c) => c.trim()).filter((c) => SEARCHABLE_CODINGS.has((c.split(";")[0] ?? "").trim().toLowerCase()));
    return kept.length ? kept.join(", ") : "identity";
  });
}

/** `accept-encoding` asking for the body as is: for routes whose answers are read as text. */
export function identityOnly(headers: readonly string[]): string[] {
  return withAcceptEncoding(headers, () => "identity");
}

/** A copy of `headers` with each `accept-encoding` value rewritten. */
function withAcceptEncoding(headers: readonly string[], rewrite: (value: string) => string): string[] {
  const out = [...headers];
  for (let i = 0; i + 1 < out.length; i += 2) if ((out[i] ?? "").toLowerCase() === "accept-encoding") out[i + 1] = rewrite(out[i + 1] ?? "");
  return out;
}

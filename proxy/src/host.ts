/**
 * Host names as the policy compares them. A host is canonical when the WHATWG URL parser (what
 * browsers, Node's `fetch` and most agents use) reads it as exactly the same string, lower-cased:
 * this turns away `0x7f.1`, `2130706433`, `127.1`, percent-encoded names and the like, so that an
 * IP literal cannot hide behind another spelling.
 */
import { isIP } from "node:net";

export interface Authority {
  host: string;
  port: number | undefined;
}

/** Parse `host[:port]` or `[v6]:port` without normalising anything; undefined when malformed. */
export function parseAuthority(value: string): Authority | undefined {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]@\s/]*)(?::([0-9]{1,5}))?$/.exec(value);
  if (!m || !m[1]) return undefined;
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && (port < 1 || port > 65535 || String(port) !== m[2])) return undefined;
  return { host: m[1], port };
}

/** The canonical lower-case host, or undefined when another parser could read it differently. */
export function canonicalHost(host: string): string | undefined {
  const lower = host.toLowerCase();
  if (lower === "" || lower.endsWith(".")) return undefined;
  let parsed: string;
  try {
    parsed = new URL(`http://${lower}/`).hostname;
  } catch {
    return undefined;
  }
  return parsed === lower ? lower : undefined;
}

/** True for IPv4 dotted quads and bracketed IPv6 literals (after canonicalisation). */
export function isIpLiteral(host: string): boolean {
  return isIP(host.startsWith("[") ? host.slice(1, -1) : host) !== 0;
}

/** Does a route host (`api.example.com` or `*.example.com`) cover this canonical host? */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith("*.")) {
    const suffix = pattern.slice(1);
    return host.endsWith(suffix) && host.length > suffix.length;
  }
  return pattern === host;
}

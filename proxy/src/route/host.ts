/**
 * Host names as the policy compares them. A host is canonical when the WHATWG URL parser (what
 * browsers, Node's `fetch` and most agents use) reads it as exactly the same string, lower-cased:
 * this turns away `0x7f.1`, `2130706433`, `127.1`, percent-encoded names and the like, so that an
 * IP literal cannot hide behind another spelling.
 */

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

const DOTTED_QUAD = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** An IPv4 address as a.b.c.d in decimal, no leading zeros: the one spelling routes and hosts may use. */
export function isDottedQuad(host: string): boolean {
  return DOTTED_QUAD.test(host);
}

/**
 * True for IPv4 dotted quads and IPv6 literals, bracketed or not: the forms a canonical host
 * takes. Checked without node:net, so that the policy layer imports no socket module; the WHATWG
 * URL parser, which made the host canonical, is the judge of IPv6.
 */
export function isIpLiteral(host: string): boolean {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (isDottedQuad(bare)) return true;
  if (!bare.includes(":")) return false;
  try {
    return new URL(`http://[${bare}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

/** Does a route host (`api.example.com` or `*.example.com`) cover this canonical host? */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith("*.")) {
    const suffix = pattern.slice(1);
    return host.endsWith(suffix) && host.length > suffix.length;
  }
  return pattern === host;
}

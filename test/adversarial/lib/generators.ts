/**
 * fast-check generators for the adversarial properties: hostile spellings of hosts and IP
 * addresses, authorities, targets, routes validated by the real schema, and request facts aimed
 * at those routes with one name sometimes replaced by a hostile spelling.
 */
import fc from "fast-check";
import type { RequestFacts } from "../../../proxy/src/route/decide";
import { isIpLiteral } from "../../../proxy/src/route/host";
import { routeSchema, type Route } from "../../../proxy/src/route/routes-schema";

// ---- generators -------------------------------------------------------------------------

export type CoreFacts = Omit<RequestFacts, "httpVersion" | "authorities">;

/**
 * Facts with the fields that newer proxy versions read filled in (HTTP/1.1, no `:authority`),
 * so that these properties run against the decision as it evolves.
 */
export function full(f: CoreFacts): RequestFacts {
  return { httpVersion: "1.1", authorities: [], ...f } as unknown as RequestFacts;
}

export const BASE_HOSTS = ["api.github.com", "a.example.com", "b.a.example.com", "example.com", "evil.com", "10.1.2.3", "127.0.0.1", "plain.test", "ws.test"];

/** Hostile spellings of an IPv4 address: decimal, hex, octal, short forms, mapped IPv6. */
export function ipSpellings(ip: string): string[] {
  const parts = ip.split(".").map(Number);
  const [a, b, c, d] = parts;
  if (a === undefined || b === undefined || c === undefined || d === undefined) throw new Error(`not a dotted IPv4 address: ${ip}`);
  const n = ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
  return [
    String(n),
    `0x${n.toString(16)}`,
    `0${n.toString(8)}`,
    parts.map((p) => `0x${p.toString(16)}`).join("."),
    parts.map((p) => `0${p.toString(8)}`).join("."),
    `${a}.${(b << 16) + (c << 8) + d}`,
    `${a}.${b}.${(c << 8) + d}`,
    parts.map((p) => String(p).padStart(3, "0")).join("."),
    `[::ffff:${ip}]`,
    `[::ffff:${((a << 8) + b).toString(16)}:${((c << 8) + d).toString(16)}]`,
    `${ip}.`,
  ];
}

const casing = (s: string, mask: number) => [...s].map((ch, i) => ((mask >> i % 30) & 1 ? ch.toUpperCase() : ch)).join("");

/** A host as an agent might spell it: canonical, upper-cased, trailing dot, encoded, IP forms. */
export const hostSpelling = fc
  .tuple(fc.constantFrom(...BASE_HOSTS), fc.nat(), fc.nat({ max: 14 }))
  .map(([h, mask, k]) => {
    if (/^\d+\.\d+\.\d+\.\d+$/.test(h) && k < 11) {
      const spelt = ipSpellings(h)[k];
      if (spelt === undefined) throw new Error(`no IPv4 spelling ${k}`);
      return spelt;
    }
    if (k === 11) return `${h}.`;
    if (k === 12) return h.replace("a", "%61");
    if (k === 13) return `user@${h}`;
    return casing(h, mask);
  });

/** An authority: a host spelling and an optional port, sometimes malformed. */
export const authority = fc
  .tuple(hostSpelling, fc.constantFrom(undefined, "443", "80", "8443", "0443", "", "65536", "443x"))
  .map(([h, p]) => (p === undefined ? h : `${h}:${p}`));

const segment = fc.oneof(
  fc.constantFrom("repos", "acme", "widget", "x", "user", ".", "..", "%2e", "%2E%2e", "%2f", "%5c", "%00", "%252e", "a;b", "", "%c0%ae", "~", "a%20b"),
  fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,=:@%-]{1,6}$/),
);
export const target = fc
  .tuple(fc.array(segment, { minLength: 1, maxLength: 5 }), fc.constantFrom("", "?q=1", "?_method=DELETE", "?a=../b", "#f"))
  .map(([segs, q]) => `/${segs.join("/")}${q}`);

export const METHODS = ["GET", "POST", "DELETE", "PUT", "PATCH", "TRACE"];
export const DEFAULT_PORT = { http: 80, https: 443 } as const;

const someTimes = <T>(arb: fc.Arbitrary<T>, usual: T) => fc.oneof({ weight: 3, arbitrary: fc.constant(usual) }, { weight: 1, arbitrary: arb });

/** Routes drawn from a pool and validated by the real schema (invalid combinations dropped). */
export const routes = fc
  .array(
    fc.record({
      host: fc.constantFrom("api.github.com", "*.example.com", "10.1.2.3", "127.0.0.1", "plain.test", "ws.test", "example.com"),
      port: someTimes(fc.constantFrom(443, 80, 8443), undefined),
      path_allowlist: someTimes(fc.constantFrom(["/repos/acme/**"], ["/user"], ["/repos/*/widget", "/"], ["/**"]), undefined),
      methods: someTimes(fc.subarray(["GET", "POST", "DELETE"], { minLength: 1 }), undefined),
      websocket: someTimes(fc.boolean(), undefined),
      plain_http: fc.constantFrom(true, undefined),
      auth: fc.constantFrom(undefined, { scheme: "Bearer", token_env: "EGRESS_PROXY_TOKEN_1" }, { header: "x-api-key", token_env: "EGRESS_PROXY_TOKEN_2" }),
    }),
    { minLength: 2, maxLength: 8 },
  )
  .map((raw) => raw.flatMap((r) => {
    const defined = Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined));
    const parsed = routeSchema.safeParse(defined);
    return parsed.success ? [parsed.data] : [];
  }));

/** Request facts where every destination name is drawn independently (they may disagree). */
export const facts = fc
  .record({
    method: fc.constantFrom(...METHODS, "get"),
    scheme: fc.constantFrom("http" as const, "https" as const),
    connect: fc.option(authority, { nil: undefined }),
    absolute: fc.option(authority, { nil: undefined }),
    sni: fc.option(hostSpelling, { nil: undefined }),
    hosts: fc.array(authority, { minLength: 0, maxLength: 2 }),
    target,
    rewritten: fc.boolean(),
    overrides: fc.array(fc.constantFrom("GET", "delete", " POST ", "PUT, GET"), { maxLength: 2 }),
    upgrade: fc.constantFrom(undefined, "websocket", "h2c", "websocket, h2c"),
  })
  .map((r): RequestFacts => {
    const f: CoreFacts = {
      method: r.method,
      scheme: r.scheme,
      hostHeaders: r.hosts,
      target: r.target,
      forwardedTarget: r.rewritten ? r.target.replace(/\/[^/]*$/, "/x") : r.target,
      methodOverrides: r.overrides,
    };
    if (r.connect !== undefined) f.connectAuthority = r.connect;
    if (r.absolute !== undefined) f.absoluteAuthority = r.absolute;
    if (r.sni !== undefined && r.scheme === "https") f.sni = r.sni;
    if (r.upgrade !== undefined) f.upgrade = r.upgrade;
    return full(f);
  });

const plainTarget = fc
  .tuple(fc.array(fc.constantFrom("repos", "acme", "widget", "user", "x"), { minLength: 1, maxLength: 4 }), fc.constantFrom("", "", "?q=1", "?_method=DELETE"))
  .map(([segs, q]) => `/${segs.join("/")}${q}`);

/**
 * Facts that name one destination consistently, usually a host and port some route covers (so
 * allows are common), then sometimes have one name replaced by a hostile spelling: the
 * properties must hold for both.
 */
function agreeingFactsFor(rs: readonly Route[]): fc.Arbitrary<RequestFacts> {
  const covered = rs.map((r) => ({ host: r.host.startsWith("*.") ? `x${r.host.slice(1)}` : r.host, port: r.port }));
  const destination = fc.oneof(
    { weight: 4, arbitrary: covered.length ? fc.constantFrom(...covered) : fc.constant({ host: "evil.com", port: undefined }) },
    { weight: 1, arbitrary: fc.record({ host: fc.constantFrom(...BASE_HOSTS), port: fc.constantFrom(undefined, 443, 80, 8443) }) },
  );
  return fc
    .record({
      destination,
      scheme: fc.constantFrom("http" as const, "https" as const),
      method: someTimes(fc.constantFrom(...METHODS, "get"), "GET"),
      target: fc.oneof({ weight: 3, arbitrary: plainTarget }, { weight: 1, arbitrary: target }),
      overrides: someTimes(fc.array(fc.constantFrom("GET", "delete", " POST ", "PUT, GET"), { maxLength: 2 }), [] as string[]),
      upgrade: someTimes(fc.constantFrom("websocket", "h2c", "websocket, h2c"), undefined as string | undefined),
      mutate: someTimes(fc.constantFrom("host", "connect", "absolute", "sni", "second-host", "drop-sni", "authority", "authority-only"), "none"),
      httpVersion: someTimes(fc.constantFrom("1.0", "2.0", "0.9", "2", "1.2"), "1.1"),
      spelling: authority,
    })
    .map((r): RequestFacts => {
      const { host } = r.destination;
      const port = r.destination.port ?? DEFAULT_PORT[r.scheme];
      const name = port === DEFAULT_PORT[r.scheme] ? host : `${host}:${port}`;
      const f: CoreFacts = {
        method: r.method,
        scheme: r.scheme,
        hostHeaders: [name],
        absoluteAuthority: `${host}:${port}`,
        target: r.target,
        forwardedTarget: r.target,
        methodOverrides: r.overrides,
      };
      if (r.scheme === "https") {
        f.connectAuthority = `${host}:${port}`;
        if (!isIpLiteral(host)) f.sni = host;
      }
      if (r.upgrade !== undefined) f.upgrade = r.upgrade;
      if (r.mutate === "host") f.hostHeaders = [r.spelling];
      if (r.mutate === "second-host") f.hostHeaders.push(r.spelling);
      if (r.mutate === "connect") f.connectAuthority = r.spelling;
      if (r.mutate === "absolute") f.absoluteAuthority = r.spelling;
      if (r.mutate === "sni" && r.scheme === "https") f.sni = r.spelling;
      if (r.mutate === "drop-sni") delete f.sni;
      const out = full(f) as RequestFacts & { httpVersion: string; authorities: string[] };
      out.httpVersion = r.httpVersion;
      // HTTP/2's :authority, next to the Host header or instead of it.
      if (r.mutate === "authority") out.authorities = [r.spelling];
      if (r.mutate === "authority-only") {
        out.authorities = [name];
        out.hostHeaders = [];
      }
      return out;
    });
}

/** Routes, and facts aimed at them. */
export const scenario = routes.chain((rs) => fc.tuple(agreeingFactsFor(rs), fc.constant(rs)));

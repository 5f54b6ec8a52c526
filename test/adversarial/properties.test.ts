/**
 * Property-based tests of the pure decision and of path and host canonicalisation, beyond those in
 * test/proxy/unit (which fix the routes and check host coverage, path allowlists and legacy
 * url.parse round trips). Here routes are generated too, every destination name is spelt in
 * hostile ways, and the checked path is compared with the path mockttp forwards inside a tunnel.
 */
import assert from "node:assert/strict";
import url from "node:url";
import fc from "fast-check";
import { pathProblem, splitTarget } from "../../proxy/src/canonical-path";
import { DENY_REASONS, decide, type RequestFacts } from "../../proxy/src/decide";
import { canonicalHost, hostMatches, isIpLiteral, parseAuthority } from "../../proxy/src/host";
import { pathMatches } from "../../proxy/src/path-pattern";
import { routeSchema, type Route } from "../../proxy/src/routes-schema";

const RUNS = Number(process.env.BOT_BOTTLE_PROPERTY_RUNS ?? "2000");

// ---- generators -------------------------------------------------------------------------

type CoreFacts = Omit<RequestFacts, "httpVersion" | "authorities">;

/**
 * Facts with the fields that newer proxy versions read filled in (HTTP/1.1, no `:authority`),
 * so that these properties run against the decision as it evolves.
 */
function full(f: CoreFacts): RequestFacts {
  return { httpVersion: "1.1", authorities: [], ...f } as unknown as RequestFacts;
}

const BASE_HOSTS = ["api.github.com", "a.example.com", "b.a.example.com", "example.com", "evil.com", "10.1.2.3", "127.0.0.1", "plain.test", "ws.test"];

/** Hostile spellings of an IPv4 address: decimal, hex, octal, short forms, mapped IPv6. */
function ipSpellings(ip: string): string[] {
  const parts = ip.split(".").map(Number);
  const n = ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
  return [
    String(n),
    `0x${n.toString(16)}`,
    `0${n.toString(8)}`,
    parts.map((p) => `0x${p.toString(16)}`).join("."),
    parts.map((p) => `0${p.toString(8)}`).join("."),
    `${parts[0]}.${(parts[1]! << 16) + (parts[2]! << 8) + parts[3]!}`,
    `${parts[0]}.${parts[1]}.${(parts[2]! << 8) + parts[3]!}`,
    parts.map((p) => String(p).padStart(3, "0")).join("."),
    `[::ffff:${ip}]`,
    `[::ffff:${((parts[0]! << 8) + parts[1]!).toString(16)}:${((parts[2]! << 8) + parts[3]!).toString(16)}]`,
    `${ip}.`,
  ];
}

const casing = (s: string, mask: number) => [...s].map((ch, i) => ((mask >> i % 30) & 1 ? ch.toUpperCase() : ch)).join("");

/** A host as an agent might spell it: canonical, upper-cased, trailing dot, encoded, IP forms. */
const hostSpelling = fc
  .tuple(fc.constantFrom(...BASE_HOSTS), fc.nat(), fc.nat({ max: 14 }))
  .map(([h, mask, k]) => {
    if (/^\d+\.\d+\.\d+\.\d+$/.test(h) && k < 11) return ipSpellings(h)[k]!;
    if (k === 11) return `${h}.`;
    if (k === 12) return h.replace("a", "%61");
    if (k === 13) return `user@${h}`;
    return casing(h, mask);
  });

/** An authority: a host spelling and an optional port, sometimes malformed. */
const authority = fc
  .tuple(hostSpelling, fc.constantFrom(undefined, "443", "80", "8443", "0443", "", "65536", "443x"))
  .map(([h, p]) => (p === undefined ? h : `${h}:${p}`));

const segment = fc.oneof(
  fc.constantFrom("repos", "acme", "widget", "x", "user", ".", "..", "%2e", "%2E%2e", "%2f", "%5c", "%00", "%252e", "a;b", "", "%c0%ae", "~", "a%20b"),
  fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,=:@%-]{1,6}$/),
);
const target = fc
  .tuple(fc.array(segment, { minLength: 1, maxLength: 5 }), fc.constantFrom("", "?q=1", "?_method=DELETE", "?a=../b", "#f"))
  .map(([segs, q]) => `/${segs.join("/")}${q}`);

const METHODS = ["GET", "POST", "DELETE", "PUT", "PATCH", "TRACE"];
const DEFAULT_PORT = { http: 80, https: 443 } as const;

const someTimes = <T>(arb: fc.Arbitrary<T>, usual: T) => fc.oneof({ weight: 3, arbitrary: fc.constant(usual) }, { weight: 1, arbitrary: arb });

/** Routes drawn from a pool and validated by the real schema (invalid combinations dropped). */
const routes = fc
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
const facts = fc
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
const scenario = routes.chain((rs) => fc.tuple(agreeingFactsFor(rs), fc.constant(rs)));

// ---- helpers ----------------------------------------------------------------------------

/** Percent-decode to raw bytes (latin1), the way the laxest upstream would, without throwing. */
function laxDecode(s: string): string {
  return s.replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** What mockttp forwards inside a tunnel: WHATWG-normalise, then legacy url.parse (request-facts). */
function forwardedInsideTunnel(t: string): string {
  const parsed = url.parse(new URL(`https://h.test${t}`).toString());
  return `${parsed.pathname ?? "/"}${parsed.search ?? ""}`;
}

// ---- properties -------------------------------------------------------------------------

describe("adversarial properties: the decision", () => {
  it("never throws and always answers allow or one of the fixed deny reasons", () => {
    const anyString = fc.string({ unit: "binary", maxLength: 40 });
    fc.assert(
      fc.property(
        fc.record({ method: anyString, target: anyString, forwarded: anyString, host: anyString, connect: anyString, sni: anyString, abs: anyString }),
        routes,
        (r, rs) => {
          const d = decide(
            full({ method: r.method, scheme: "https", connectAuthority: r.connect, absoluteAuthority: r.abs, sni: r.sni, hostHeaders: [r.host], target: r.target, forwardedTarget: r.forwarded, methodOverrides: [] }),
            rs,
          );
          return d.verdict === "allow" || d.reason in DENY_REASONS;
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("generates enough allowed requests for the properties below to mean something", () => {
    let allowed = 0;
    const samples = fc.sample(scenario, { numRuns: 2000, seed: 42 });
    for (const [f, rs] of samples) if (decide(f, rs).verdict === "allow") allowed++;
    assert.ok(allowed >= 200, `only ${allowed} of 2000 samples allowed`);
  });

  it("allows only when every name of the destination (CONNECT, Host, absolute URL, SNI) canonicalises to the decided host and port", () => {
    fc.assert(
      fc.property(scenario, ([f, rs]) => {
        const d = decide(f, rs);
        if (d.verdict === "deny") return true;
        const authorities = (f as { authorities?: string[] }).authorities ?? [];
        assert.ok(f.hostHeaders.length + authorities.length >= 1);
        for (const name of [...f.hostHeaders, ...authorities, f.connectAuthority, f.absoluteAuthority]) {
          if (name === undefined) continue;
          const a = parseAuthority(name);
          assert.ok(a, `allowed with a malformed name ${name}`);
          assert.equal(canonicalHost(a.host), d.host, `${name} is not ${d.host}`);
          assert.equal(a.port ?? DEFAULT_PORT[f.scheme], d.port, `${name} is not port ${d.port}`);
        }
        if (f.scheme === "https" && !isIpLiteral(d.host)) assert.equal(canonicalHost(f.sni ?? ""), d.host);
        return true;
      }),
      { numRuns: RUNS },
    );
  });

  it("allows only through a route that covers the host, port, scheme, upgrade, path, method and every override", () => {
    fc.assert(
      fc.property(scenario, ([f, rs]) => {
        const d = decide(f, rs);
        if (d.verdict === "deny") return true;
        const route: Route | undefined = rs[d.routeIndex];
        assert.ok(route);
        assert.ok(isIpLiteral(d.host) ? route.host === d.host : hostMatches(route.host, d.host));
        assert.equal(route.port ?? DEFAULT_PORT[f.scheme], d.port);
        if (f.scheme === "http") {
          assert.equal(route.plain_http, true, "plain HTTP through a route that does not allow it");
          assert.equal(route.auth, undefined, "a credential route allowed over plain HTTP");
        }
        if (f.upgrade !== undefined) assert.ok(f.upgrade === "websocket" && route.websocket === true, `upgrade ${f.upgrade} allowed`);
        assert.ok(!route.path_allowlist || route.path_allowlist.some((p) => pathMatches(p, splitTarget(f.target).path)));
        for (const m of [f.method, ...f.methodOverrides]) {
          assert.ok(!route.methods || route.methods.includes(m.trim().toUpperCase()), `method ${m} outside ${route.methods?.join(",")}`);
        }
        assert.equal(pathProblem(f.target), undefined);
        assert.equal(f.forwardedTarget, f.target, "allowed although the forwarded path differs from the checked one");
        return true;
      }),
      { numRuns: RUNS },
    );
  });

  it("allows only HTTP/1.0 and HTTP/1.1 requests", () => {
    fc.assert(
      fc.property(scenario, ([f, rs]) => {
        const version = (f as { httpVersion?: string }).httpVersion;
        return decide(f, rs).verdict === "deny" || version === "1.1" || version === "1.0";
      }),
      { numRuns: RUNS },
    );
  });

  it("is monotonic: taking routes away never turns a denial into an allow, and never changes the host", () => {
    fc.assert(
      fc.property(scenario, fc.nat(), ([f, rs], drop) => {
        const full = decide(f, rs);
        const fewer = rs.filter((_, i) => i !== drop % Math.max(rs.length, 1));
        const less = decide(f, fewer);
        if (full.verdict === "deny") assert.equal(less.verdict, "deny");
        if (less.verdict === "allow" && full.verdict === "allow") assert.equal(less.host, full.host);
        return true;
      }),
      { numRuns: RUNS },
    );
  });

  it("denies everything with no routes, whatever the request", () => {
    fc.assert(fc.property(facts, (f) => decide(f, []).verdict === "deny"), { numRuns: RUNS });
  });
});

describe("adversarial properties: canonical paths", () => {
  const pathChar = fc.oneof(
    fc.constantFrom(..."abcAZ09-._~!$&'()*+,=:@/;?#[]{}|^`\"<> \\\t".split("")),
    fc.constantFrom("%2e", "%2E", "%2f", "%5c", "%00", "%25", "%41", "%c0", "%ae", "%zz", "%", "é", "\u0000", "\u2024", "%ef%bc%8e"),
  );
  const rawPath = fc.array(pathChar, { maxLength: 20 }).map((cs) => `/${cs.join("")}`);

  it("accepts only targets that mockttp forwards byte for byte inside a tunnel (WHATWG, then url.parse)", () => {
    fc.assert(
      fc.property(rawPath, (t) => pathProblem(t) !== undefined || forwardedInsideTunnel(t) === t),
      { numRuns: RUNS * 5 },
    );
  });

  it("accepts no path whose segments, percent-decoded once to bytes, are dot segments or hold a slash, backslash or NUL", () => {
    fc.assert(
      fc.property(rawPath, (t) => {
        if (pathProblem(t) !== undefined) return true;
        const segments = splitTarget(t).path.split("/").slice(1).map(laxDecode);
        return segments.every((s) => s !== "." && s !== ".." && !/[/\\\x00]/.test(s));
      }),
      { numRuns: RUNS * 5 },
    );
  });

  // Found by this suite (overlong UTF-8 such as %c0%ae was accepted); fixed in a479623.
  it("accepts only paths whose percent-escapes decode as valid UTF-8 (no overlong dots or slashes)", () => {
    fc.assert(
      fc.property(rawPath, (t) => {
        if (pathProblem(t) !== undefined) return true;
        try {
          decodeURIComponent(splitTarget(t).path);
          return true;
        } catch {
          return false;
        }
      }),
      { numRuns: RUNS * 5 },
    );
  });

  it("path patterns never match a path outside their literal prefix", () => {
    const seg = fc.stringMatching(/^[a-z]{1,3}$/);
    fc.assert(
      fc.property(fc.array(seg, { minLength: 1, maxLength: 3 }), fc.array(seg, { maxLength: 3 }), fc.array(seg, { minLength: 1, maxLength: 4 }), (prefix, rest, other) => {
        const pattern = `/${prefix.join("/")}/**`;
        const inside = `/${[...prefix, ...rest].join("/")}`;
        const outside = `/${other.join("/")}`;
        assert.ok(pathMatches(pattern, inside));
        const outsideIsInside = other.length >= prefix.length && prefix.every((p, i) => other[i] === p);
        assert.equal(pathMatches(pattern, outside), outsideIsInside, `${pattern} vs ${outside}`);
        return true;
      }),
      { numRuns: RUNS },
    );
  });
});

describe("adversarial properties: canonical hosts and authorities", () => {
  const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join("."));

  it("rejects every alternative spelling of an IPv4 address", () => {
    fc.assert(
      fc.property(ipv4, fc.nat(10), (ip, k) => {
        const spelt = ipSpellings(ip)[k]!;
        const c = canonicalHost(spelt);
        // A spelling is accepted only when it is itself canonical (the IPv4-mapped hex form is a
        // distinct IPv6 literal, never equal to a route's IPv4 host).
        return c === undefined || c === spelt.toLowerCase();
      }),
      { numRuns: RUNS },
    );
  });

  it("accepts a dotted quad only in its one decimal form, and then as itself", () => {
    fc.assert(fc.property(ipv4, (ip) => canonicalHost(ip) === ip && isIpLiteral(ip)), { numRuns: RUNS });
  });

  it("is idempotent, lower-case, and a fixed point of the WHATWG host parser", () => {
    fc.assert(
      fc.property(fc.oneof(hostSpelling, fc.string({ maxLength: 20 })), (h) => {
        const c = canonicalHost(h);
        if (c === undefined) return true;
        assert.equal(canonicalHost(c), c);
        assert.equal(c, c.toLowerCase());
        assert.equal(new URL(`http://${c}/`).hostname, c);
        assert.ok(!c.endsWith(".") && !/[%@\s/\\]/.test(c), `accepted ${JSON.stringify(c)}`);
        return true;
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it("parses an authority without dropping or adding a byte", () => {
    fc.assert(
      fc.property(fc.oneof(authority, fc.string({ maxLength: 24 })), (v) => {
        const a = parseAuthority(v);
        if (a === undefined) return true;
        assert.equal(`${a.host}${a.port === undefined ? "" : `:${a.port}`}`, v);
        assert.ok(a.port === undefined || (a.port >= 1 && a.port <= 65535));
        assert.ok(!/[@\s/]/.test(a.host));
        return true;
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it("a wildcard route never covers its bare domain or a look-alike suffix", () => {
    const label = fc.stringMatching(/^[a-z0-9]{1,6}$/);
    fc.assert(
      fc.property(label, label, label, (a, b, c) => {
        const domain = `${a}.${b}`;
        assert.ok(!hostMatches(`*.${domain}`, domain));
        assert.ok(!hostMatches(`*.${domain}`, `${c}${domain}`), `${c}${domain}`);
        assert.ok(hostMatches(`*.${domain}`, `${c}.${domain}`));
        return true;
      }),
      { numRuns: RUNS },
    );
  });
});

/**
 * Property-based tests of the pure decision and of path and host canonicalisation, beyond those in
 * test/proxy/unit (which fix the routes and check host coverage, path allowlists and legacy
 * url.parse round trips). Here routes are generated too, every destination name is spelt in
 * hostile ways, and the checked path is compared with the path mockttp forwards inside a tunnel.
 */
import assert from "node:assert/strict";
import url from "node:url";
import fc from "fast-check";
import { pathProblem, splitTarget } from "../../proxy/src/route/canonical-path";
import { DENY_REASONS, decide } from "../../proxy/src/route/decide";
import { canonicalHost, hostMatches, isIpLiteral, parseAuthority } from "../../proxy/src/route/host";
import { pathMatches } from "../../proxy/src/route/path-pattern";
import type { Route } from "../../proxy/src/route/routes-schema";
import { DEFAULT_PORT, authority, facts, full, hostSpelling, ipSpellings, routes, scenario } from "./lib/generators";

const RUNS = Number(process.env.BOT_BOTTLE_PROPERTY_RUNS ?? "2000");

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
        return segments.every((s) => s !== "." && s !== ".." && !/[/\\]/.test(s) && !s.includes("\0"));
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
        const spelt = ipSpellings(ip)[k];
        assert.ok(spelt !== undefined, `no IPv4 spelling ${k}`);
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

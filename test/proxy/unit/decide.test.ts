import assert from "node:assert/strict";
import fc from "fast-check";
import { decide, type RequestFacts } from "../../../proxy/src/route/decide";
import { pathMatches } from "../../../proxy/src/route/path-pattern";
import { routesFileSchema, type Route } from "../../../proxy/src/route/routes-schema";

const routes: Route[] = routesFileSchema.parse({
  version: 1,
  routes: [
    { host: "api.github.com", path_allowlist: ["/repos/acme/**", "/user"], methods: ["GET", "POST"], auth: { scheme: "Bearer", token_env: "EGRESS_PROXY_TOKEN_1" } },
    { host: "*.example.com", methods: ["GET"] },
    { host: "10.1.2.3", port: 8443 },
    { host: "plain.test", plain_http: true },
    { host: "ws.test", websocket: true },
  ],
}).routes;

const https = (over: Partial<RequestFacts> = {}): RequestFacts => ({
  method: "GET",
  httpVersion: "1.1",
  authorities: [],
  scheme: "https",
  connectAuthority: "api.github.com:443",
  absoluteAuthority: "api.github.com:443",
  sni: "api.github.com",
  hostHeaders: ["api.github.com"],
  target: "/repos/acme/widget",
  forwardedTarget: "/repos/acme/widget",
  methodOverrides: [],
  ...over,
});

const reason = (f: RequestFacts) => {
  const d = decide(f, routes);
  return d.verdict === "allow" ? `allow ${d.routeIndex}` : d.reason;
};

describe("decide", () => {
  const table: [string, RequestFacts, string][] = [
    ["an allowed path and method", https(), "allow 0"],
    // An `http://` URL inside a TLS tunnel: the SNI the agent sent must agree with it too.
    ["plain HTTP in a TLS tunnel whose SNI names another host", https({ scheme: "http", connectAuthority: "api.github.com:80", absoluteAuthority: "api.github.com:80", sni: "evil.example" }), "destination mismatch"],
    ["the exact allowed path", https({ target: "/user", forwardedTarget: "/user" }), "allow 0"],
    ["a query string on an allowed path", https({ target: "/user?x=1", forwardedTarget: "/user?x=1" }), "allow 0"],
    ["upper-case Host and SNI", https({ hostHeaders: ["API.GitHub.com"], sni: "Api.Github.Com" }), "allow 0"],
    ["Host with the default port", https({ hostHeaders: ["api.github.com:443"] }), "allow 0"],
    ["Host with another port", https({ hostHeaders: ["api.github.com:444"] }), "destination mismatch"],
    ["a path outside the allowlist", https({ target: "/orgs/x", forwardedTarget: "/orgs/x" }), "path not allowed"],
    ["a disallowed method", https({ method: "DELETE" }), "method not allowed"],
    ["a lower-case method is the same method", https({ method: "post" }), "allow 0"],
    ["an override to an allowed method", https({ methodOverrides: ["post"] }), "allow 0"],
    ["an override to a disallowed method", https({ methodOverrides: ["DELETE"] }), "method override not allowed"],
    ["a wildcard subdomain", https({ connectAuthority: "a.example.com:443", absoluteAuthority: "a.example.com:443", sni: "a.example.com", hostHeaders: ["a.example.com"] }), "allow 1"],
    ["the bare domain of a wildcard", https({ connectAuthority: "example.com:443", absoluteAuthority: "example.com:443", sni: "example.com", hostHeaders: ["example.com"] }), "host not allowed"],
    ["a suffix look-alike", https({ connectAuthority: "evilexample.com:443", absoluteAuthority: "evilexample.com:443", sni: "evilexample.com", hostHeaders: ["evilexample.com"] }), "host not allowed"],
    ["an IP a route names, on its port, without SNI", https({ connectAuthority: "10.1.2.3:8443", absoluteAuthority: "10.1.2.3:8443", sni: undefined, hostHeaders: ["10.1.2.3:8443"], target: "/", forwardedTarget: "/" }), "allow 2"],
    ["an IP in decimal form", https({ connectAuthority: "167838211:8443", absoluteAuthority: "167838211:8443", sni: undefined, hostHeaders: ["167838211:8443"] }), "malformed destination"],
    ["an IP in hex form", https({ connectAuthority: "0xa.1.2.3:8443", absoluteAuthority: "0xa.1.2.3:8443", sni: undefined, hostHeaders: ["0xa.1.2.3:8443"] }), "malformed destination"],
    ["an IP in short form", https({ connectAuthority: "10.1.515:8443", absoluteAuthority: "10.1.515:8443", sni: undefined, hostHeaders: ["10.1.515:8443"] }), "malformed destination"],
    ["an IPv4-mapped IPv6 literal", https({ connectAuthority: "[::ffff:10.1.2.3]:8443", absoluteAuthority: "[::ffff:10.1.2.3]:8443", sni: undefined, hostHeaders: ["[::ffff:10.1.2.3]:8443"] }), "malformed destination"],
    ["an IPv6 literal no route names", https({ connectAuthority: "[::1]:443", absoluteAuthority: "[::1]:443", sni: undefined, hostHeaders: ["[::1]"] }), "IP literal not allowed"],
    ["userinfo in the Host", https({ hostHeaders: ["user@api.github.com"] }), "malformed destination"],
    ["a percent-encoded host", https({ hostHeaders: ["api.git%68ub.com"] }), "malformed destination"],
    ["no Host header", https({ hostHeaders: [] }), "malformed destination"],
    ["an SNI for another host", https({ sni: "evil.com" }), "destination mismatch"],
    ["a CONNECT to another host", https({ connectAuthority: "evil.com:443" }), "destination mismatch"],
    ["plain HTTP on an authenticated route", https({ scheme: "http", sni: undefined, connectAuthority: undefined, absoluteAuthority: "api.github.com:80" }), "plain HTTP not allowed"],
    ["plain HTTP on port 443 of an authenticated route", https({ scheme: "http", sni: undefined, connectAuthority: "api.github.com:443", hostHeaders: ["api.github.com:443"] }), "host not allowed"],
    ["plain HTTP where allowed", https({ scheme: "http", sni: undefined, connectAuthority: undefined, absoluteAuthority: "plain.test:80", hostHeaders: ["plain.test"], target: "/", forwardedTarget: "/" }), "allow 3"],
    ["a WebSocket where allowed", https({ connectAuthority: "ws.test:443", absoluteAuthority: "ws.test:443", sni: "ws.test", hostHeaders: ["ws.test"], upgrade: "websocket" }), "allow 4"],
    ["a WebSocket elsewhere", https({ upgrade: "websocket" }), "upgrade not allowed"],
    ["an h2c upgrade", https({ connectAuthority: "ws.test:443", absoluteAuthority: "ws.test:443", sni: "ws.test", hostHeaders: ["ws.test"], upgrade: "h2c" }), "upgrade not allowed"],
    ["a path that would be rewritten", https({ target: "/repos/acme/a b", forwardedTarget: "/repos/acme/a%20b" }), "non-canonical path"],
    ["a quote that url.parse would escape", https({ target: "/repos/acme/a\"b", forwardedTarget: "/repos/acme/a%22b" }), "non-canonical path"],
    ["HTTP/2", https({ httpVersion: "2.0", hostHeaders: [], authorities: ["api.github.com"] }), "unsupported HTTP version"],
    ["HTTP/1.0", https({ httpVersion: "1.0" }), "allow 0"],
    ["an :authority that agrees with Host", https({ authorities: ["api.github.com"] }), "allow 0"],
    ["an :authority naming another host than Host", https({ authorities: ["evil.com"] }), "destination mismatch"],
    ["two :authority values", https({ hostHeaders: [], authorities: ["api.github.com", "api.github.com"] }), "malformed destination"],
    ["TRACE on a route without a method list", https({ method: "TRACE", connectAuthority: "a.example.com:443", absoluteAuthority: "a.example.com:443", sni: "a.example.com", hostHeaders: ["a.example.com"] }), "method not allowed"],
    ["an overlong UTF-8 dot", https({ target: "/repos/acme/%c0%ae%c0%ae/x", forwardedTarget: "/repos/acme/%c0%ae%c0%ae/x" }), "non-canonical path"],
    ["a forwarded path that differs", https({ forwardedTarget: "/repos/acme/other" }), "path rewritten in transit"],
  ];
  for (const [name, facts, expected] of table) {
    it(`${name}: ${expected}`, () => assert.equal(reason(facts), expected));
  }

  it("denies everything when no routes are configured", () => {
    assert.equal(decide(https(), []).verdict, "deny");
  });

  it("never allows a host that no route covers, nor a path outside the chosen route's allowlist (property)", () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9._~%-]{0,8}$/);
    const target = fc.array(segment, { minLength: 1, maxLength: 5 }).map((s) => `/${s.join("/")}`);
    const host = fc.constantFrom("api.github.com", "a.example.com", "example.com", "evil.com", "api.github.com.evil.com", "API.GITHUB.COM");
    fc.assert(
      fc.property(host, target, fc.constantFrom("GET", "POST", "DELETE"), (h, t, m) => {
        const d = decide(https({ method: m, connectAuthority: `${h}:443`, absoluteAuthority: `${h}:443`, sni: h, hostHeaders: [h], target: t, forwardedTarget: t }), routes);
        if (d.verdict === "deny") return true;
        const route = routes[d.routeIndex];
        assert.ok(route);
        assert.equal(d.host, h.toLowerCase());
        assert.ok(route.host === d.host || (route.host.startsWith("*.") && d.host.endsWith(route.host.slice(1))));
        assert.ok(!route.path_allowlist || route.path_allowlist.some((p) => pathMatches(p, t)));
        assert.ok(!/%2e|%2f|%5c|\/\.\.?(\/|$)|\/\//i.test(t), `allowed a non-canonical path ${t}`);
        return true;
      }),
      { numRuns: 3000 },
    );
  });
});

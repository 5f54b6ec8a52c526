import assert from "node:assert/strict";
import { patternsOverlap } from "../../../proxy/src/route/route-overlap";
import { parseRoutesFile } from "../../../proxy/src/route/routes-schema";

const GITHUB = { scheme: "Bearer", token_env: "EGRESS_PROXY_TOKEN_1" };
const OTHER = { scheme: "Bearer", token_env: "EGRESS_PROXY_TOKEN_2" };

describe("overlapping credentialed routes", () => {
  const patterns: [string, string, boolean][] = [
    ["/a", "/a", true], ["/a", "/a/", true], ["/a", "/b", false],
    ["/a/**", "/a", true], ["/a/**", "/a/b/c", true], ["/a/**", "/ab", false], ["/**", "/x", true],
    ["/a/*", "/a/b", true], ["/a/*", "/a", false], ["/a/*", "/a/b/c", false], ["/a/*/c", "/a/b/*", true],
    ["/a/*/c", "/a/b/d", false], ["/a/b/**", "/a/*/c", true], ["/", "/*", false], ["/", "/**", true],
  ];
  for (const [p, q, expected] of patterns) {
    it(`${p} and ${q} ${expected ? "can" : "cannot"} match one path`, () => {
      assert.equal(patternsOverlap(p, q), expected);
      assert.equal(patternsOverlap(q, p), expected);
    });
  }

  const refused: [string, object, object][] = [
    ["the same host twice", { host: "a.test", auth: GITHUB }, { host: "a.test", auth: OTHER }],
    ["a wildcard over a host", { host: "*.a.test", auth: GITHUB }, { host: "api.a.test", auth: OTHER }],
    ["nested wildcards", { host: "*.a.test", auth: GITHUB }, { host: "*.x.a.test", auth: OTHER }],
    ["paths that share a subtree", { host: "a.test", path_allowlist: ["/repos/**"], auth: GITHUB }, { host: "a.test", path_allowlist: ["/repos/acme/*"], auth: OTHER }],
    ["one method in common", { host: "a.test", methods: ["GET", "PUT"], auth: GITHUB }, { host: "a.test", methods: ["PUT"], auth: OTHER }],
  ];
  for (const [name, a, b] of refused) {
    it(`refuses ${name}, naming both routes`, () => {
      const r = parseRoutesFile({ version: 1, routes: [{ host: "other.test" }, a, b] });
      assert.equal(r.ok, false);
      assert.deepEqual(r.ok ? [] : r.errors, [
        "routes[2]: can match the same requests as routes[1] (host, port, path and method) but injects another credential; narrow path_allowlist or methods so that no request matches both",
      ]);
    });
  }

  const accepted: [string, object, object][] = [
    ["the same credential twice", { host: "a.test", path_allowlist: ["/x/**"], auth: GITHUB }, { host: "a.test", auth: GITHUB }],
    ["disjoint paths", { host: "a.test", path_allowlist: ["/x/**"], auth: GITHUB }, { host: "a.test", path_allowlist: ["/y/**"], auth: OTHER }],
    ["disjoint methods", { host: "a.test", methods: ["GET"], auth: GITHUB }, { host: "a.test", methods: ["POST"], auth: OTHER }],
    ["other ports", { host: "a.test", auth: GITHUB }, { host: "a.test", port: 8443, auth: OTHER }],
    ["a wildcard that does not cover the bare domain", { host: "*.a.test", auth: GITHUB }, { host: "a.test", auth: OTHER }],
    ["an overlap without a credential on one side", { host: "a.test" }, { host: "a.test", auth: OTHER }],
  ];
  for (const [name, a, b] of accepted) {
    it(`accepts ${name}`, () => assert.equal(parseRoutesFile({ version: 1, routes: [a, b] }).ok, true));
  }
});

import assert from "node:assert/strict";
import url from "node:url";
import fc from "fast-check";
import { pathProblem } from "../../../proxy/src/route/canonical-path";
import { canonicalHost } from "../../../proxy/src/route/host";
import { formMethodOverrides, isFormContentType } from "../../../proxy/src/route/method-override";
import { pathMatches } from "../../../proxy/src/route/path-pattern";

describe("canonical paths", () => {
  const bad: [string, string][] = [
    ["/a/../b", "dot segment"], ["/a/./b", "dot segment"], ["/..", "dot segment"], ["/a/%2e%2e/b", "encoded dot, slash or backslash"],
    ["/a/%2E./b", "encoded dot, slash or backslash"], ["/a%2fb", "encoded dot, slash or backslash"], ["/a%5Cb", "encoded dot, slash or backslash"],
    ["/a\\b", "backslash"], ["//a", "empty segment"], ["/a//b", "empty segment"], ["/a;b=c", "path parameter"], ["/a%00", "encoded dot, slash or backslash"],
    ["/a\u0000", "control or NUL byte"], ["/a b", "control or NUL byte"], ["/é", "non-ASCII byte"], ["/a#f", "fragment"], ["a", "not absolute"],
    ["*", "not absolute"], ["/a%zz", "invalid percent-encoding"], ["/a\"b", "character that parsers re-encode"], ["/%c0%ae", "invalid UTF-8 escape"], ["/%e0%80%af", "invalid UTF-8 escape"], ["/%ff", "invalid UTF-8 escape"], ["/a{b}", "character that parsers re-encode"], ["/a?x=`", "character that parsers re-encode"], ["/a%2", "invalid percent-encoding"], ["/a/%252e%252e/b", undefined as never],
    // NFKC folds these to `.`, `..`, `/`, `\`, `;`: a server that folds reads a traversal
    ["/a/%EF%BC%8E%EF%BC%8E/b", "escape that folds to a dot, slash or backslash"], ["/a/%e2%80%a5/b", "escape that folds to a dot, slash or backslash"],
    ["/a%ef%bc%8fb", "escape that folds to a dot, slash or backslash"], ["/a%ef%bc%bcb", "escape that folds to a dot, slash or backslash"],
    ["/a%ef%bc%9bb", "escape that folds to a dot, slash or backslash"], ["/a/%e2%80%a4/b", "escape that folds to a dot, slash or backslash"],
  ];
  for (const [p, problem] of bad.filter(([, v]) => v !== undefined)) {
    it(`rejects ${JSON.stringify(p)}: ${problem}`, () => assert.equal(pathProblem(p), problem));
  }
  for (const p of ["/%C3%A9", "/%E6%97%A5%E6%9C%AC", "/%ef%bd%81", "/", "/a", "/a/", "/a/b?c=d&e=/f", "/a/%252e%252e/b", "/repos/acme/widget.git", "/a?x=%2f"]) {
    it(`accepts ${p}`, () => assert.equal(pathProblem(p), undefined));
  }

  it("accepts only paths that legacy url.parse (what mockttp forwards) leaves byte for byte alone (property)", () => {
    const ch = fc.constantFrom(..."abcAZ09-._~!$&'()*+,=:@/%;\\?#[]{}|^` \"<>".split(""));
    fc.assert(
      fc.property(fc.array(ch, { maxLength: 24 }).map((c) => `/${c.join("")}`), (p) => {
        if (pathProblem(p) !== undefined) return true;
        const parsed = url.parse(`https://h.test${p}`);
        return `${parsed.pathname ?? "/"}${parsed.search ?? ""}` === p;
      }),
      { numRuns: 20000 },
    );
  });
});

describe("canonical hosts", () => {
  for (const [h, c] of [["API.example.com", "api.example.com"], ["10.0.0.1", "10.0.0.1"], ["[::1]", "[::1]"]] as const) {
    it(`${h} is ${c}`, () => assert.equal(canonicalHost(h), c));
  }
  for (const h of ["0x7f.0.0.1", "2130706433", "127.1", "0177.0.0.1", "example.com.", "exa%6dple.com", "[0:0:0:0:0:0:0:1]", "[::ffff:127.0.0.1]", "", "a b"]) {
    it(`rejects ${JSON.stringify(h)}`, () => assert.equal(canonicalHost(h), undefined));
  }
});

describe("path allowlist patterns", () => {
  const cases: [string, string, boolean][] = [
    ["/repos/acme/**", "/repos/acme", true], ["/repos/acme/**", "/repos/acme/", true], ["/repos/acme/**", "/repos/acme/x/y", true],
    ["/repos/acme/**", "/repos/acmex", false], ["/repos/acme/**", "/repos", false], ["/repos/*", "/repos/x", true], ["/repos/*", "/repos/x/y", false],
    ["/repos/*", "/repos/", false], ["/user", "/user", true], ["/user", "/user/", true], ["/user", "/users", false], ["/user", "/user/x", false],
    ["/", "/", true], ["/", "/a", false], ["/**", "/anything/at/all", true], ["/a/*/c", "/a/b/c", true], ["/a/*/c", "/a/b/d", false],
  ];
  for (const [pattern, path, expected] of cases) {
    it(`${pattern} ${expected ? "matches" : "does not match"} ${path}`, () => assert.equal(pathMatches(pattern, path), expected));
  }
});

describe("form method overrides", () => {
  const cases: [string, string, string[]][] = [
    ["application/x-www-form-urlencoded", "a=1&_method=DELETE", ["DELETE"]],
    ["application/x-www-form-urlencoded", "_METHOD=put&.method=patch&+method=delete", ["put", "patch", "delete"]],
    ["application/x-www-form-urlencoded", "method=flickr.photos.search", []],
    ["multipart/form-data; boundary=b", '--b\r\nContent-Disposition: form-data; name="_method"\r\n\r\nDELETE\r\n--b--\r\n', ["DELETE"]],
    ["multipart/form-data; boundary=b", '--b\r\ncontent-disposition: form-data; name="file"; filename="x"\r\nContent-Type: text/plain\r\n\r\n_method=DELETE\r\n--b--\r\n', []],
  ];
  for (const [type, body, expected] of cases) {
    it(`${type.split(";")[0]}: ${JSON.stringify(body).slice(0, 40)} -> ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(formMethodOverrides(type, Buffer.from(body, "latin1")), expected);
    });
  }
  it("recognises only the form content types", () => {
    assert.deepEqual(["application/x-www-form-urlencoded; charset=UTF-8", "Multipart/Form-Data; boundary=x", "application/json", undefined].map(isFormContentType), [true, true, false, false]);
  });
});

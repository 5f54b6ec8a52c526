import assert from "node:assert/strict";
import { Canaries, CanaryStream } from "../../../proxy/src/route/placeholder-canary";
import { parseRoutesFile, type Route } from "../../../proxy/src/route/routes-schema";
import { FAKE_PLACEHOLDERS } from "../../helpers/fake-placeholders";

const GH = FAKE_PLACEHOLDERS.github;
const KEY = FAKE_PLACEHOLDERS.anthropic;
const GIT = FAKE_PLACEHOLDERS.git;

function routes(): Route[] {
  const r = parseRoutesFile({
    version: 1,
    routes: [
      { host: "api.github.test", auth: { scheme: "Bearer", token_env: "EGRESS_PROXY_TOKEN_1", placeholder: GH } },
      { host: "api.anthropic.test", auth: { header: "x-api-key", token_env: "EGRESS_PROXY_TOKEN_2", placeholder: KEY } },
      { host: "git.test", auth: { basic: { username: "x-access-token" }, token_env: "EGRESS_PROXY_TOKEN_3", placeholder: GIT } },
      { host: "open.test" },
      // git over HTTPS with the API's credential: the same placeholder
      { host: "github.test", auth: { basic: { username: "x-access-token" }, token_env: "EGRESS_PROXY_TOKEN_1", placeholder: GH } },
    ],
  });
  if (!r.ok) throw new Error(r.errors.join("; "));
  return r.value.routes;
}

const canaries = () => {
  const c = Canaries.of(routes());
  if (!c) throw new Error("no canaries");
  return c;
};
const basic = (user: string, secret: string) => `Basic ${Buffer.from(`${user}:${secret}`).toString("base64")}`;
const everyByte = (s: string) => [...s].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).join("");

describe("placeholder canaries", () => {
  const c = canaries();

  it("is nothing to look for when no route has a placeholder", () => {
    assert.equal(Canaries.of(routes().map((r) => ({ ...r, auth: undefined }))), undefined);
  });

  const allowed: [string, number, string, [string, string][]][] = [
    ["a Bearer placeholder in its own route's Authorization", 0, "/user", [["Authorization", `Bearer ${GH}`]]],
    ["the same in another scheme", 0, "/user", [["authorization", `token ${GH}`]]],
    ["a header placeholder in its own header", 1, "/v1/messages", [["X-Api-Key", KEY]]],
    ["a header placeholder as Bearer on its own route (SDKs send either)", 1, "/v1/messages", [["Authorization", `Bearer ${KEY}`]]],
    ["git's Basic pair of its placeholder, on its own route", 2, "/acme/widget.git/info/refs", [["Authorization", basic("x-access-token", GIT)]]],
    ["a request without any", 3, "/x?q=1", [["Accept", "*/*"]]],
    ["a shared placeholder on its second route, as git's Basic pair", 4, "/acme/widget.git/info/refs", [["Authorization", basic("x-access-token", GH)]]],
  ];
  for (const [name, route, target, headers] of allowed) {
    it(`lets through ${name}`, () => assert.equal(c.inHead(route, target, headers.flat()), undefined));
  }

  const refused: [string, number | undefined, string, [string, string][], { route: number; where: string }][] = [
    ["a placeholder on another route", 1, "/v1/messages", [["Authorization", `Bearer ${GH}`]], { route: 0, where: "header:authorization" }],
    ["a placeholder in another route's stripped header", 0, "/user", [["X-Api-Key", GH]], { route: 0, where: "header:x-api-key" }],
    ["its own placeholder in another header", 0, "/user", [["X-Note", `copied ${GH}`]], { route: 0, where: "header:x-note" }],
    ["its own placeholder in Proxy-Authorization", 0, "/user", [["Proxy-Authorization", `Bearer ${GH}`]], { route: 0, where: "header:proxy-authorization" }],
    ["git's Basic pair on another route", 3, "/", [["Authorization", basic("x-access-token", GIT)]], { route: 2, where: "header:authorization" }],
    ["a Basic pair in any other header", 2, "/", [["X-Forward", basic("x-access-token", GIT)]], { route: 2, where: "header:x-forward" }],
    ["a placeholder in the query, even on its route", 0, `/user?access_token=${GH}`, [], { route: 0, where: "target" }],
    ["a placeholder percent-encoded byte by byte", 3, `/log?t=${everyByte(KEY)}`, [], { route: 1, where: "target" }],
    ["a placeholder encoded twice", 3, `/log?t=${everyByte(everyByte(KEY))}`, [], { route: 1, where: "target" }],
    ["a placeholder in a path segment", 3, `/paste/${GH}`, [], { route: 0, where: "target" }],
    ["a placeholder as a header name", 3, "/", [[GH, "1"]], { route: 0, where: "header-name" }],
    ["a placeholder in base64 in a header", 3, "/", [["X-Data", Buffer.from(`{"k":"${KEY}"}`).toString("base64")]], { route: 1, where: "header:x-data" }],
    ["a shared placeholder outside its routes, named by its first", 3, "/", [["Authorization", `Bearer ${GH}`]], { route: 0, where: "header:authorization" }],
    ["a shared placeholder in another header of its second route", 4, "/", [["X-Note", GH]], { route: 0, where: "header:x-note" }],
    ["its own placeholder on a refused request", undefined, "/", [["Authorization", `Bearer ${GH}`]], { route: 0, where: "header:authorization" }],
  ];
  for (const [name, route, target, headers, expected] of refused) {
    it(`finds ${name}`, () => assert.deepEqual(c.inHead(route, target, headers.flat()), expected));
  }

  it("finds a placeholder split at every offset of a streamed body before any of its bytes is let go", () => {
    const prefix = Buffer.alloc(1000, "a");
    const body = Buffer.concat([prefix, Buffer.from(`{"token":"${KEY}"}`), Buffer.alloc(500, "b")]);
    const start = prefix.length + '{"token":"'.length;
    for (let cut = 0; cut <= body.length; cut += cut < start - 5 || cut > start + KEY.length + 5 ? 97 : 1) {
      const s = new CanaryStream(c, "body");
      const first = s.push(body.subarray(0, cut));
      const second = first.found ? undefined : s.push(body.subarray(cut));
      const found = first.found ?? second?.found;
      assert.deepEqual(found, { route: 1, where: `body@${start}` }, `cut at ${cut}`);
      // nothing from the placeholder's first byte on went out
      assert.ok(first.out.length <= start, `cut at ${cut}: ${first.out.length} bytes out`);
    }
  });

  it("lets a body without a placeholder through byte for byte, whatever the chunking", () => {
    const body = Buffer.from(Array.from({ length: 20_000 }, (_, i) => `${GH.slice(0, (i * 7) % GH.length)}|`).join(""));
    const s = new CanaryStream(c, "body");
    const out: Buffer[] = [];
    for (let at = 0, step = 1; at < body.length; at += step, step = (step * 3) % 1013 + 1) {
      const r = s.push(body.subarray(at, at + step));
      assert.equal(r.found, undefined);
      out.push(r.out);
    }
    out.push(s.end());
    assert.ok(Buffer.concat(out).equals(body));
  });

  it("keeps its placeholders out of logs and JSON", () => {
    assert.equal(JSON.stringify({ c }), '{"c":"Canaries"}');
  });
});

import assert from "node:assert/strict";
import fc from "fast-check";
import { credentialFor } from "../../../proxy/src/route/credentials";
import { parseTarget } from "../../../proxy/src/transport/request-facts";
import { agentResponseHeaders, searchableCodingsOnly, upstreamRequestHeaders } from "../../../proxy/src/route/upstream-headers";
import { bodyCoding } from "../../../proxy/src/transport/echo-guard";
import { FAKE_TOKENS } from "../../helpers/fake-tokens";

const STRIPPED = new Set(["authorization", "proxy-authorization", "x-api-key"]);
const BEARER = credentialFor({ scheme: "Bearer", token_env: "EGRESS_PROXY_TOKEN_1" }, FAKE_TOKENS.github);

describe("request targets as the proxy forwards them", () => {
  const cases: [string, ReturnType<typeof parseTarget>][] = [
    ["/a/b?c=d", { scheme: undefined, authority: undefined, target: "/a/b?c=d" }],
    ["http://plain.test/a?b", { scheme: "http", authority: "plain.test", target: "/a?b" }],
    ["https://h.test:8443/x", { scheme: "https", authority: "h.test:8443", target: "/x" }],
    ["HTTP://plain.test/", { scheme: "http", authority: "plain.test", target: "/" }],
    ["http://plain.test", { scheme: "http", authority: "plain.test", target: "/" }],
    // The authority ends at `?` or `#`: what follows is the target, which then fails the path check.
    ["http://plain.test?x/y", { scheme: "http", authority: "plain.test", target: "?x/y" }],
    ["http://[::1/", { scheme: "http", authority: "[::1", target: "/" }],
    ["*", { scheme: undefined, authority: undefined, target: "*" }],
    ["ftp://x.test/", { scheme: undefined, authority: undefined, target: "ftp://x.test/" }],
  ];
  for (const [raw, want] of cases) it(`splits ${JSON.stringify(raw)}`, () => assert.deepEqual(parseTarget(raw), want));

  it("keeps every byte after the authority (no normalisation)", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\/[!-~]{0,40}$/), (rest) => {
        assert.equal(parseTarget(`https://h.test${rest}`).target, rest);
        assert.equal(parseTarget(rest).target, rest);
      }),
    );
  });
});

describe("headers across the proxy", () => {
  it("keeps end-to-end headers as sent (case, order, repeats) and appends the credential", () => {
    const raw = ["Host", "api.test", "X-A", "1", "x-a", "2", "Content-Length", "3", "Accept", "*/*"];
    assert.deepEqual(upstreamRequestHeaders(raw, STRIPPED, BEARER), [...raw, "authorization", `Bearer ${FAKE_TOKENS.github}`]);
  });

  it("strips the agent's credentials in every spelling and repeat", () => {
    const raw = ["Host", "h", "authorization", "a", "AUTHORIZATION", "b", "Authorization", "b", "X_API_KEY", "c", "x-api-key", "d", "Proxy-Authorization", "e", "X-Keep", "1"];
    assert.deepEqual(upstreamRequestHeaders(raw, STRIPPED, undefined), ["Host", "h", "X-Keep", "1"]);
  });

  it("drops hop-by-hop headers and those Connection names, but never framing or Host", () => {
    const raw = ["Host", "h", "Connection", "keep-alive, X-Secret, host, content-length, Transfer-Encoding", "Keep-Alive", "5", "X-Secret", "s", "TE", "trailers", "Trailer", "x", "Upgrade", "h2c", "Proxy-Connection", "x", "Expect", "100-continue", "Transfer-Encoding", "chunked", "Content-Length", "0"];
    assert.deepEqual(upstreamRequestHeaders(raw, STRIPPED, undefined), ["Host", "h", "Transfer-Encoding", "chunked", "Content-Length", "0"]);
  });

  it("never lets the agent's header displace the injected credential", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom("Authorization", "authorization", "x-api-key", "X_Api_Key", "Connection", "X-Other"), fc.string({ maxLength: 12 })), { maxLength: 12 }), (pairs) => {
        const out = upstreamRequestHeaders(pairs.flat(), STRIPPED, BEARER);
        const creds = [];
        for (let i = 0; i < out.length; i += 2) {
          const name = out[i];
          assert.ok(name !== undefined, `no header name at ${i}`);
          if (STRIPPED.has(name.toLowerCase().replace(/_/g, "-"))) creds.push(`${name}: ${out[i + 1]}`);
        }
        assert.deepEqual(creds, [`authorization: Bearer ${FAKE_TOKENS.github}`]);
      }),
    );
  });

  it("relays response headers minus hop-by-hop and the framing Node writes itself", () => {
    const raw = ["Content-Type", "text/plain", "Transfer-Encoding", "chunked", "Connection", "close, X-Hop", "X-Hop", "1", "Set-Cookie", "a=1", "Set-Cookie", "b=2", "Content-Length", "5"];
    assert.deepEqual(agentResponseHeaders(raw), ["Content-Type", "text/plain", "Set-Cookie", "a=1", "Set-Cookie", "b=2", "Content-Length", "5"]);
  });
});

describe("content codings and echo removal", () => {
  it("narrows accept-encoding to codings whose answers can be searched, identity when none is left", () => {
    assert.deepEqual(searchableCodingsOnly(["Accept-Encoding", "gzip, deflate, br, zstd", "X-Other", "zstd"]), ["Accept-Encoding", "gzip, deflate, br", "X-Other", "zstd"]);
    assert.deepEqual(searchableCodingsOnly(["accept-encoding", "zstd;q=1, *;q=0.1"]), ["accept-encoding", "identity"]);
    assert.deepEqual(searchableCodingsOnly(["accept-encoding", "GZIP;q=0.5 , compress"]), ["accept-encoding", "GZIP;q=0.5"]);
  });

  it("searches bodies in identity, gzip, deflate and br, and in nothing stacked or unknown", () => {
    const cases: [string | undefined, string | undefined][] = [
      [undefined, "identity"], ["identity", "identity"], ["gzip", "gzip"], ["X-GZIP", "gzip"], [" br ", "br"], ["deflate", "deflate"],
      ["gzip, br", undefined], ["zstd", undefined], ["compress", undefined], ["identity, gzip", "gzip"],
    ];
    for (const [header, want] of cases) assert.equal(bodyCoding(header), want, String(header));
  });
});

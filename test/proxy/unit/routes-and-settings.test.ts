import assert from "node:assert/strict";
import { inspect } from "node:util";
import { loadSettings, SettingsError } from "../../../proxy/src/config";
import { credentialFor, guardedSecrets, loadTokens } from "../../../proxy/src/route/credentials";
import { buildRouteTable, RouteTableError } from "../../../proxy/src/route/route-table";
import { parseRoutesFile } from "../../../proxy/src/route/routes-schema";
import { FAKE_PLACEHOLDERS } from "../../helpers/fake-placeholders";
import { FAKE_TOKENS } from "../../helpers/fake-tokens";

const TOKEN = FAKE_TOKENS.github;

describe("routes.yaml schema", () => {
  const bad: [string, unknown, RegExp][] = [
    ["no version", { routes: [] }, /^version: /],
    ["an unknown top-level key", { version: 1, routes: [], extra: 1 }, /^\(root\): Unrecognized key/],
    ["a host with a scheme", { version: 1, routes: [{ host: "https://a.test" }] }, /^routes\[0\]\.host: must be a hostname/],
    ["a host with a port", { version: 1, routes: [{ host: "a.test:443" }] }, /^routes\[0\]\.host: /],
    ["a wildcard in the middle", { version: 1, routes: [{ host: "a.*.test" }] }, /^routes\[0\]\.host: /],
    ["a relative path pattern", { version: 1, routes: [{ host: "a.test", path_allowlist: ["repos/**"] }] }, /^routes\[0\]\.path_allowlist\[0\]: must be a canonical absolute path/],
    ["a dot segment in a pattern", { version: 1, routes: [{ host: "a.test", path_allowlist: ["/a/../b"] }] }, /must not contain dot segments/],
    ["`**` before the end", { version: 1, routes: [{ host: "a.test", path_allowlist: ["/a/**/b"] }] }, /`\*\*` may only be the last segment/],
    ["a lower-case method", { version: 1, routes: [{ host: "a.test", methods: ["get"] }] }, /^routes\[0\]\.methods\[0\]: must be an upper-case HTTP method/],
    ["auth with both scheme and header", { version: 1, routes: [{ host: "a.test", auth: { scheme: "Bearer", header: "x-k", token_env: "EGRESS_PROXY_TOKEN_1" } }] }, /^routes\[0\]\.auth: auth needs exactly one of/],
    ["auth on the Host header", { version: 1, routes: [{ host: "a.test", auth: { header: "Host", token_env: "EGRESS_PROXY_TOKEN_1" } }] }, /^routes\[0\]\.auth/],
    ["a token slot that is not a slot", { version: 1, routes: [{ host: "a.test", auth: { scheme: "Bearer", token_env: "GITHUB_TOKEN" } }] }, /^routes\[0\]\.auth/],
    ["auth with plain HTTP", { version: 1, routes: [{ host: "a.test", plain_http: true, auth: { scheme: "Bearer", token_env: "EGRESS_PROXY_TOKEN_1" } }] }, /^routes\[0\]\.plain_http: an authenticated route cannot allow plain HTTP/],
    ["auth with WebSocket", { version: 1, routes: [{ host: "a.test", websocket: true, auth: { scheme: "Bearer", token_env: "EGRESS_PROXY_TOKEN_1" } }] }, /^routes\[0\]\.websocket: WebSocket routes cannot carry/],
    ["an IP in another spelling", { version: 1, routes: [{ host: "2130706433" }] }, /^routes\[0\]\.host: /],
    ["a hex IP", { version: 1, routes: [{ host: "0x7f.0.0.1" }] }, /^routes\[0\]\.host: /],
    ["a port out of range", { version: 1, routes: [{ host: "a.test", port: 70000 }] }, /^routes\[0\]\.port: /],
    ["Basic with a colon in the username", { version: 1, routes: [{ host: "a.test", auth: { basic: { username: "x:y" }, token_env: "EGRESS_PROXY_TOKEN_1" } }] }, /^routes\[0\]\.auth/],
    ["Basic with an empty username", { version: 1, routes: [{ host: "a.test", auth: { basic: { username: "" }, token_env: "EGRESS_PROXY_TOKEN_1" } }] }, /^routes\[0\]\.auth/],
    ["Basic and a scheme at once", { version: 1, routes: [{ host: "a.test", auth: { scheme: "Bearer", basic: { username: "u" }, token_env: "EGRESS_PROXY_TOKEN_1" } }] }, /^routes\[0\]\.auth: auth needs exactly one of `scheme`.*`basic/],
    ["a placeholder too short", { version: 1, routes: [{ host: "a.test", auth: { scheme: "Bearer", token_env: "EGRESS_PROXY_TOKEN_1", placeholder: "ghp_short" } }] }, /^routes\[0\]\.auth/],
    ["a placeholder with a space", { version: 1, routes: [{ host: "a.test", auth: { header: "x-api-key", token_env: "EGRESS_PROXY_TOKEN_1", placeholder: "sk-ant-api03 PLACEHOLDER-fake-0000" } }] }, /^routes\[0\]\.auth/],
    ["one placeholder for two credentials", { version: 1, routes: [
      { host: "a.test", auth: { scheme: "Bearer", token_env: "EGRESS_PROXY_TOKEN_1", placeholder: FAKE_PLACEHOLDERS.github } },
      { host: "b.test", auth: { basic: { username: "x-access-token" }, token_env: "EGRESS_PROXY_TOKEN_2", placeholder: FAKE_PLACEHOLDERS.github } },
    ] }, /^routes\[1\]\.auth\.placeholder: is the placeholder of routes\[0\] too, which injects another credential/],
  ];
  for (const [name, doc, expected] of bad) {
    it(`rejects ${name}, naming the field`, () => {
      const r = parseRoutesFile(doc);
      assert.equal(r.ok, false);
      if (!r.ok) assert.ok(r.errors.some((e) => expected.test(e)), r.errors.join(" | "));
    });
  }

  it("lower-cases hosts and custom header names", () => {
    const r = parseRoutesFile({ version: 1, routes: [{ host: "API.Test", auth: { header: "X-Api-Key", token_env: "EGRESS_PROXY_TOKEN_1" } }] });
    assert.ok(r.ok);
    if (r.ok) {
      assert.equal(r.value.routes[0]?.host, "api.test");
      assert.deepEqual(r.value.routes[0]?.auth, { header: "x-api-key", token_env: "EGRESS_PROXY_TOKEN_1" });
    }
  });
});

describe("credentials", () => {
  it("reads Basic and placeholders", () => {
    const r = parseRoutesFile({ version: 1, routes: [{ host: "git.test", auth: { basic: { username: "x-access-token" }, token_env: "EGRESS_PROXY_TOKEN_1", placeholder: FAKE_PLACEHOLDERS.git } }] });
    assert.ok(r.ok, r.ok ? "" : r.errors.join(" | "));
    if (r.ok) assert.deepEqual(r.value.routes[0]?.auth, { basic: { username: "x-access-token" }, token_env: "EGRESS_PROXY_TOKEN_1", placeholder: FAKE_PLACEHOLDERS.git });
    // one credential, one placeholder: the API's Bearer and git's Basic share it
    const shared = parseRoutesFile({ version: 1, routes: [
      { host: "api.github.test", auth: { scheme: "Bearer", token_env: "EGRESS_PROXY_TOKEN_1", placeholder: FAKE_PLACEHOLDERS.github } },
      { host: "github.test", auth: { basic: { username: "x-access-token" }, token_env: "EGRESS_PROXY_TOKEN_1", placeholder: FAKE_PLACEHOLDERS.github } },
    ] });
    assert.ok(shared.ok, shared.ok ? "" : shared.errors.join(" | "));
  });

  it("encodes Basic from the username and the token, and describes it without the token", () => {
    const c = credentialFor({ basic: { username: "x-access-token" }, token_env: "EGRESS_PROXY_TOKEN_1" }, TOKEN);
    assert.deepEqual([c.header, c.reveal()], ["authorization", `Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString("base64")}`]);
    assert.equal(c.describe, "authorization: Basic base64(x-access-token:<EGRESS_PROXY_TOKEN_1>)");
    assert.ok(!JSON.stringify(c).includes(Buffer.from(`x-access-token:${TOKEN}`).toString("base64")));
  });

  it("guards the token and each Basic form of it, a hand-encoded Basic pair decoded too", () => {
    const basic = Buffer.from(`x-access-token:${TOKEN}`).toString("base64");
    assert.deepEqual(guardedSecrets({ basic: { username: "x-access-token" }, token_env: "EGRESS_PROXY_TOKEN_1" }, TOKEN), [TOKEN, basic]);
    assert.deepEqual(guardedSecrets({ scheme: "Basic", token_env: "EGRESS_PROXY_TOKEN_1" }, basic), [basic, `x-access-token:${TOKEN}`, TOKEN]);
    assert.deepEqual(guardedSecrets({ scheme: "Bearer", token_env: "EGRESS_PROXY_TOKEN_1" }, TOKEN), [TOKEN]);
    // a base64-looking token that is no pair, and a password too short to tell from data
    assert.deepEqual(guardedSecrets({ scheme: "basic", token_env: "EGRESS_PROXY_TOKEN_1" }, "QUJDREVGR0hJSktM"), ["QUJDREVGR0hJSktM"]);
    assert.deepEqual(guardedSecrets({ scheme: "Basic", token_env: "EGRESS_PROXY_TOKEN_1" }, Buffer.from("user:short").toString("base64")), [Buffer.from("user:short").toString("base64"), "user:short"]);
  });

  it("refuses a placeholder that holds the credential, naming the field and never the value", () => {
    const doc = (placeholder: string) => ({ version: 1, routes: [{ host: "a.test", auth: { scheme: "Bearer", token_env: "EGRESS_PROXY_TOKEN_1", placeholder } }] });
    assert.throws(() => buildRouteTable(doc(`${TOKEN}-placeholder`), { EGRESS_PROXY_TOKEN_1: TOKEN }), (e: unknown) =>
      e instanceof RouteTableError && /^routes\[0\]\.auth\.placeholder: holds the route's credential/.test(e.problems[0] ?? "") && !e.message.includes(TOKEN));
    assert.ok(buildRouteTable(doc(FAKE_PLACEHOLDERS.github), { EGRESS_PROXY_TOKEN_1: TOKEN }));
  });

  it("renders the Authorization scheme and redacts itself", () => {
    const c = credentialFor({ scheme: "Bearer", token_env: "EGRESS_PROXY_TOKEN_1" }, TOKEN);
    assert.deepEqual([c.header, c.reveal()], ["authorization", `Bearer ${TOKEN}`]);
    assert.equal(c.describe, "authorization: Bearer <EGRESS_PROXY_TOKEN_1>");
  });

  it("cannot be serialised with its token by accident: JSON, inspect, spread, keys, template", () => {
    const c = credentialFor({ header: "x-api-key", token_env: "EGRESS_PROXY_TOKEN_1" }, TOKEN);
    const renderings = [JSON.stringify(c), JSON.stringify({ c }), inspect(c), inspect({ c }, { depth: 5, showHidden: true }), JSON.stringify({ ...c }), Object.keys(c).join(), `${String(Object.values(c))}`];
    for (const r of renderings) assert.ok(!r.includes(TOKEN), r);
    assert.equal(c.reveal(), TOKEN);
  });

  it("refuses unset, empty and header-breaking tokens, naming the slot and never the value", () => {
    const routes = [1, 2, 3].map((n) => ({ host: `h${n}.test`, auth: { scheme: "Bearer", token_env: `EGRESS_PROXY_TOKEN_${n}` } }));
    const r = loadTokens(routes, { EGRESS_PROXY_TOKEN_2: "", EGRESS_PROXY_TOKEN_3: `${TOKEN}\r\nX-Evil: 1` });
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.errors.length, 3);
      assert.match(r.errors[0] ?? "", /EGRESS_PROXY_TOKEN_1 is unset or empty/);
      assert.match(r.errors[2] ?? "", /EGRESS_PROXY_TOKEN_3 holds characters that cannot go in an HTTP header/);
      assert.ok(!r.errors.join("").includes(TOKEN));
    }
  });

  it("builds a table whose stripped headers cover every route's credential header", () => {
    const t = buildRouteTable(
      { version: 1, routes: [{ host: "a.test", auth: { header: "x-api-key", token_env: "EGRESS_PROXY_TOKEN_1" } }, { host: "b.test" }] },
      { EGRESS_PROXY_TOKEN_1: TOKEN },
    );
    assert.deepEqual([...t.stripped].sort(), ["authorization", "proxy-authorization", "x-api-key"]);
    assert.equal(t.credentials[1], undefined);
    assert.throws(() => buildRouteTable({ version: 2, routes: [] }, {}), RouteTableError);
  });
});

describe("proxy settings", () => {
  const PEM = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n";
  const env = { HTTPS_PROXY: "http://pipelock:8888" };
  it("has the bottle's defaults", () => {
    const s = loadSettings([], env);
    assert.deepEqual(s, {
      routesFile: "/etc/egress-proxy/routes.yaml",
      caCertFile: "/etc/egress-proxy/ca.pem",
      caKey: { file: "/etc/egress-proxy/ca-key.pem" },
      port: 8080,
      health: { host: "127.0.0.1", port: 9090 },
      bottle: "bottle",
      upstreamProxy: "http://pipelock:8888",
      idleTimeoutMs: 120_000,
      agentAlias: undefined,
    });
  });
  it("takes flags over the environment", () => {
    const s = loadSettings(["--routes", "/tmp/r.yaml", "--listen", "0.0.0.0:3128"], { ...env, EGRESS_PROXY_ROUTES: "/x" });
    assert.equal(s.routesFile, "/tmp/r.yaml");
    assert.equal(s.port, 3128);
  });
  const bad: [string, string[], Record<string, string>, RegExp][] = [
    ["no upstream proxy", [], {}, /HTTPS_PROXY: unset/],
    ["different HTTP and HTTPS proxies", [], { HTTPS_PROXY: "http://a:1", HTTP_PROXY: "http://b:1" }, /HTTP_PROXY: differs/],
    ["a listen address the proxy cannot bind", ["--listen", "127.0.0.1:8080"], env, /listens on all interfaces/],
    ["a bad upstream mode", [], { ...env, EGRESS_PROXY_UPSTREAM: "maybe" }, /EGRESS_PROXY_UPSTREAM: /],
    ["a socks upstream", [], { HTTPS_PROXY: "socks5://a:1" }, /HTTPS_PROXY: /],
    ["the CA key both as a file and as a PEM", [], { ...env, EGRESS_PROXY_CA_KEY: "/k.pem", EGRESS_PROXY_CA_KEY_PEM: PEM }, /EGRESS_PROXY_CA_KEY: set together/],
    ["the CA key file flag next to a PEM", ["--ca-key", "/k.pem"], { ...env, EGRESS_PROXY_CA_KEY_PEM: PEM }, /EGRESS_PROXY_CA_KEY: set together/],
    ["a CA key PEM that is not one", [], { ...env, EGRESS_PROXY_CA_KEY_PEM: "fake-token-not-a-key" }, /^EGRESS_PROXY_CA_KEY_PEM: not a PEM private key; [^]*$/],
  ];
  for (const [name, argv, e, expected] of bad) {
    it(`rejects ${name}`, () => {
      assert.throws(() => loadSettings(argv, e), (err: unknown) => err instanceof SettingsError && expected.test(err.message));
    });
  }
  it("takes the CA key as a PEM from the environment, as a bottle gives it", () => {
    assert.deepEqual(loadSettings([], { ...env, EGRESS_PROXY_CA_KEY_PEM: PEM }).caKey, { pem: PEM });
  });
  it("never echoes a CA key PEM it refuses", () => {
    const secret = "fake-token-ca-key-0123456789";
    assert.throws(() => loadSettings([], { ...env, EGRESS_PROXY_CA_KEY_PEM: secret }), (err: unknown) => err instanceof Error && !err.message.includes(secret));
  });
  it("allows direct egress only when asked", () => {
    assert.equal(loadSettings([], { EGRESS_PROXY_UPSTREAM: "direct" }).upstreamProxy, undefined);
  });
});

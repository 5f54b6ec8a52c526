import * as assert from "node:assert/strict";
import { parseRoutesFile } from "../../proxy/src/route/routes-schema";
import { loadStack } from "../../components";
import { FAKE_TOKENS } from "../helpers/fake-tokens";
import { bottle, fakeTokenSource, planOf, stack } from "./fixtures";

describe("routes.yaml rendering", () => {
  const plan = planOf(stack(bottle("dev")));

  it("renders JSON the proxy's own parser accepts, with slots instead of secrets", () => {
    const parsed = parseRoutesFile(JSON.parse(plan.routes.content));
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.value, {
      version: 1,
      routes: [
        { host: "api.github.com", path_allowlist: ["/repos/acme/widget/**"], methods: ["GET", "POST"], auth: { scheme: "Bearer", token_env: "EGRESS_PROXY_TOKEN_1" } },
        { host: "api.anthropic.com", auth: { header: "x-api-key", token_env: "EGRESS_PROXY_TOKEN_2" } },
        { host: "uploads.github.com", auth: { scheme: "token", token_env: "EGRESS_PROXY_TOKEN_1" } },
        { host: "registry.npmjs.org", methods: ["GET"] },
      ],
    });
  });

  it("holds no token value and no token_ref name", () => {
    for (const needle of [...Object.values(FAKE_TOKENS), "githubToken", "anthropicKey", "token_ref"]) {
      assert.ok(!plan.routes.content.includes(needle), `routes.yaml contains ${needle}`);
    }
  });

  it("keeps port, websocket and plain_http when given", () => {
    const p = planOf(stack(bottle("dev", { egress_proxy: { routes: [
      { host: "stream.example", port: 8443, websocket: true },
      { host: "mirror.example", plain_http: true, methods: ["GET"] },
    ] } })));
    assert.deepEqual(JSON.parse(p.routes.content).routes, [
      { host: "stream.example", port: 8443, websocket: true },
      { host: "mirror.example", methods: ["GET"], plain_http: true },
    ]);
    assert.deepEqual(p.tokenSlots, []);
  });

  it("numbers slots per bottle, independently", () => {
    const result = loadStack(stack(bottle("a"), bottle("b", { egress_proxy: { routes: [
      { host: "api.anthropic.com", auth: { header: "x-api-key", token_ref: "anthropicKey" } },
    ] } })), fakeTokenSource());
    assert.ok(result.ok);
    assert.deepEqual(result.value.plans[1]?.tokenSlots, [{ slot: "EGRESS_PROXY_TOKEN_1", tokenRef: "anthropicKey" }]);
  });

  it("rejects what the proxy would reject, at the user's field", () => {
    const result = loadStack(stack(bottle("dev", { egress_proxy: { routes: [
      { host: "a.example", auth: { scheme: "Bearer", token_ref: "githubToken" }, plain_http: true },
    ] } })), fakeTokenSource());
    assert.ok(!result.ok);
    assert.match(result.errors.join("\n"), /^bot-bottle:bottles\[0\]\.egress_proxy\.routes\[0\]\.plain_http: an authenticated route cannot allow plain HTTP/m);
  });
});

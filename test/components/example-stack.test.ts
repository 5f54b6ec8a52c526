import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { loadStack } from "../../components";
import { fakeTokenSource } from "./fixtures";

/** A stack file's `bot-bottle:` keys as the config object the program reads. */
function exampleConfig(name: string): Record<string, unknown> {
  const doc = parseYaml(readFileSync(path.resolve(__dirname, "..", "..", name), "utf8")) as { config: Record<string, unknown> };
  return Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k.replace(/^bot-bottle:/, ""), v]));
}

describe("the documented example stack", () => {
  it("is a valid config that names its secrets by token_ref", () => {
    const config = exampleConfig("Pulumi.dev.yaml.example");
    const result = loadStack(config, fakeTokenSource());
    assert.ok(result.ok, result.ok ? "" : result.errors.join("\n"));
    assert.deepEqual(result.value.plans[0]?.tokenSlots.map((s) => s.tokenRef), ["githubToken", "anthropicKey"]);
  });

  it("Pulumi.agent.yaml.example: a coding agent's stack with placeholders, Basic git and a cloned workspace", () => {
    const result = loadStack(exampleConfig("Pulumi.agent.yaml.example"), fakeTokenSource());
    assert.ok(result.ok, result.ok ? "" : result.errors.join("\n"));
    const plan = result.value.plans[0];
    assert.ok(plan);
    assert.deepEqual(plan.tokenSlots.map((s) => s.tokenRef), ["anthropicKey", "githubToken"]);
    const agent = plan.containers.find((c) => c.role === "agent");
    const env = Object.fromEntries((agent?.env ?? []).map((e) => [e.name, e.value.kind === "text" ? e.value.text : ""]));
    assert.match(env.ANTHROPIC_API_KEY ?? "", /^sk-ant-api03-BottlePlaceholder/);
    assert.match(env.GITHUB_TOKEN ?? "", /^ghp_BottlePlaceholder/);
    assert.equal(env.BOT_BOTTLE_WORKSPACE, "/workspace");
    const routes = (plan.routes.document as { routes: Array<{ host: string; auth?: Record<string, unknown> }> }).routes;
    const git = routes.find((r) => r.host === "github.com");
    assert.deepEqual(git?.auth?.basic, { username: "x-access-token" });
    assert.equal(git?.auth?.placeholder, env.GITHUB_TOKEN, "git shares the GitHub API's credential, so its placeholder");
  });
});

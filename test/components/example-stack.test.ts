import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { loadStack } from "../../components";
import { fakeTokenSource } from "./fixtures";

describe("the documented example stack", () => {
  it("is a valid config that names its secrets by token_ref", () => {
    const file = path.resolve(__dirname, "..", "..", "Pulumi.dev.yaml.example");
    const doc = parseYaml(readFileSync(file, "utf8")) as { config: Record<string, unknown> };
    const config = Object.fromEntries(
      Object.entries(doc.config).map(([k, v]) => [k.replace(/^bot-bottle:/, ""), v]),
    );
    const result = loadStack(config, fakeTokenSource());
    assert.ok(result.ok, result.ok ? "" : result.errors.join("\n"));
    assert.deepEqual(result.value.plans[0]?.tokenSlots.map((s) => s.tokenRef), ["githubToken", "anthropicKey"]);
  });
});

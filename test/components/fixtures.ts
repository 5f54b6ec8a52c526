/** Config builders shared by the component tests and the mock-graph tests. */
import * as assert from "node:assert/strict";
import { loadStack, tokensFromRecord, type BottlePlan, type StackConfigInput, type TokenSource } from "../../components";
import { FAKE_TOKENS_BY_REF } from "../helpers/fake-tokens";

type BottleInput = StackConfigInput["bottles"][number];

/** A bottle with two secrets over three routes (githubToken used twice) and a public route. */
export function bottle(name: string, overrides: Partial<BottleInput> = {}): BottleInput {
  return {
    name,
    agent: { image: "bot-bottle/base:bookworm" },
    egress_proxy: {
      routes: [
        { host: "api.github.com", path_allowlist: ["/repos/acme/widget/**"], methods: ["GET", "POST"], auth: { scheme: "Bearer", token_ref: "githubToken" } },
        { host: "api.anthropic.com", auth: { header: "x-api-key", token_ref: "anthropicKey" } },
        { host: "uploads.github.com", auth: { scheme: "token", token_ref: "githubToken" } },
        { host: "registry.npmjs.org", methods: ["GET"] },
      ],
    },
    ...overrides,
  };
}

/** A stack config holding the given bottles. */
export function stack(...bottles: BottleInput[]): StackConfigInput {
  return { bottles };
}

/** The stack's secrets, holding the fake tokens. */
export function fakeTokenSource(): TokenSource {
  return tokensFromRecord(FAKE_TOKENS_BY_REF);
}

/** The plan of the first bottle of `config`; the test fails with every config error otherwise. */
export function planOf(config: unknown): BottlePlan {
  const result = loadStack(config, fakeTokenSource());
  if (!result.ok) assert.fail(result.errors.join("\n"));
  const plan = result.value.plans[0];
  assert.ok(plan, "no plan");
  return plan;
}

/** Config builders shared by the component tests and the mock-graph tests. */
import type { StackConfigInput } from "../../components";

type BottleInput = StackConfigInput["bottles"][number];

/** Recognisable fake tokens: any appearance outside a secret is a leak. */
export const FAKE_GITHUB_TOKEN = "FAKE-TOKEN-do-not-leak-1234";
export const FAKE_ANTHROPIC_KEY = "FAKE-TOKEN-do-not-leak-5678";
export const FAKE_TOKENS = { githubToken: FAKE_GITHUB_TOKEN, anthropicKey: FAKE_ANTHROPIC_KEY };

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

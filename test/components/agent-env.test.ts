/**
 * The agent's environment in config: `agent.env`, `auth.agent_env` placeholders and `auth.basic`,
 * and what the plan and routes.yaml make of them.
 */
import * as assert from "node:assert/strict";
import { loadStack, tokensFromRecord, type BottlePlan, type StackConfigInput } from "../../components";
import { PLACEHOLDER_MARK, placeholderFor } from "../../components/placeholders";
import { generatedSecrets } from "../helpers/fake-secrets";
import { FAKE_TOKENS, FAKE_TOKENS_BY_REF } from "../helpers/fake-tokens";
import { bottle, stack } from "./fixtures";

type BottleInput = StackConfigInput["bottles"][number];
type Routes = BottleInput["egress_proxy"]["routes"];

const OTHER_TOKEN = "FAKE-other-key-0000-do-not-leak";
const tokens = tokensFromRecord({ ...FAKE_TOKENS_BY_REF, otherKey: OTHER_TOKEN });

function planOf(config: unknown): BottlePlan {
  const result = loadStack(config, tokens);
  if (!result.ok) assert.fail(result.errors.join("\n"));
  const plan = result.value.plans[0];
  assert.ok(plan, "no plan");
  return plan;
}

function errorsOf(config: unknown): string[] {
  const result = loadStack(config, tokens);
  assert.equal(result.ok, false, "config was accepted");
  return result.ok ? [] : result.errors;
}

const agentWith = (env: Record<string, string>) => ({ image: "bot-bottle/base:bookworm", env });
const withRoutes = (routes: Routes, agent?: BottleInput["agent"]) => stack(bottle("dev", { egress_proxy: { routes }, ...(agent ? { agent } : {}) }));
const envOf = (plan: BottlePlan): Record<string, string> => {
  const agent = plan.containers.find((c) => c.role === "agent");
  assert.ok(agent);
  return Object.fromEntries(agent.env.map((e) => [e.name, e.value.kind === "text" ? e.value.text : `<${e.value.kind}>`]));
};

describe("agent.env", () => {
  it("gives the agent plain variables, after the bottle's own", () => {
    const env = envOf(planOf(stack(bottle("dev", { agent: agentWith({ GIT_AUTHOR_NAME: "bottled agent", LANG: "C.UTF-8" }) }))));
    assert.equal(env.GIT_AUTHOR_NAME, "bottled agent");
    assert.equal(env.LANG, "C.UTF-8");
    assert.equal(env.HTTPS_PROXY, "http://egress-proxy:8080");
  });

  it("refuses a bad name, a name the bottle sets (any case), and a non-string value, naming the field", () => {
    const typed = errorsOf(stack(bottle("dev", { agent: { image: "x:1", env: { PORT: 8080 as unknown as string } } })));
    assert.ok(typed.some((e) => /agent\.env\.PORT: must be a string; quote numbers/.test(e)), typed.join("\n"));
    const errors = errorsOf(stack(bottle("dev", { agent: { image: "x:1", env: { "1BAD": "v", https_proxy: "http://elsewhere", Java_Tool_Options: "-X" } } })));
    assert.ok(errors.some((e) => /^bot-bottle:bottles\[0\]\.agent\.env\.1BAD: must be a variable name/.test(e)), errors.join("\n"));
    assert.ok(errors.some((e) => /agent\.env\.https_proxy: is set by the bottle .*; choose another name$/.test(e)), errors.join("\n"));
    assert.ok(errors.some((e) => /agent\.env\.Java_Tool_Options: is set by the bottle/.test(e)), errors.join("\n"));
  });

  it("refuses every value that request inspection takes for a credential, never echoing it, with the fix", () => {
    const secrets = generatedSecrets();
    let refused = 0;
    for (const [rule, value] of Object.entries(secrets)) {
      const errors = errorsOf(stack(bottle("dev", { agent: agentWith({ SOME_VALUE: value }) })));
      assert.equal(errors.length, 1, `${rule}: ${errors.join("; ")}`);
      assert.match(errors[0] ?? "", /agent\.env\.SOME_VALUE: looks like a secret \(request inspection rule [a-z0-9-]+\), .*\(auth\.token_ref\) and name this variable there with auth\.agent_env/);
      assert.ok(!(errors[0] ?? "").includes(value), `${rule}: the error shows the value`);
      refused++;
    }
    assert.ok(refused >= 60, `only ${refused} formats tried`);
  });

  it("accepts ordinary values that look random: ids, digests, paths, URLs without passwords", () => {
    const ordinary = {
      A: "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
      B: "0123456789abcdef0123456789abcdef01234567",
      C: "01ARZ3NDEKTSV4RRFFQ69G5FAV",
      D: "https://registry.npmjs.org/",
      E: "/usr/local/bin:/usr/bin:/bin",
      F: "toolu_01A09q90qw90lq917835lq9",
      G: "550e8400-e29b-41d4-a716-446655440000",
    };
    const env = envOf(planOf(stack(bottle("dev", { agent: agentWith(ordinary) }))));
    for (const [k, v] of Object.entries(ordinary)) assert.equal(env[k], v);
  });
});

describe("auth.agent_env placeholders", () => {
  const routes: Routes = [
    { host: "api.github.com", methods: ["GET"], auth: { scheme: "Bearer", token_ref: "githubToken", agent_env: "GITHUB_TOKEN" } },
    { host: "github.com", auth: { basic: { username: "x-access-token" }, token_ref: "githubToken" } },
    { host: "api.anthropic.com", auth: { header: "x-api-key", token_ref: "anthropicKey", agent_env: "ANTHROPIC_API_KEY" } },
    { host: "api.example.com", auth: { header: "x-key", token_ref: "otherKey", agent_env: "OTHER_KEY" } },
  ];
  const config = () => ({ ...withRoutes(routes) });

  it("puts a placeholder shaped like the host's credentials in the variable, never the token", () => {
    const plan = planOf(config());
    const env = envOf(plan);
    assert.match(env.GITHUB_TOKEN ?? "", new RegExp(`^ghp_${PLACEHOLDER_MARK}[0-9A-Za-z]{19}$`));
    assert.match(env.ANTHROPIC_API_KEY ?? "", new RegExp(`^sk-ant-api03-${PLACEHOLDER_MARK}[0-9A-Za-z]{76}AA$`));
    assert.match(env.OTHER_KEY ?? "", new RegExp(`^bb-${PLACEHOLDER_MARK}[0-9A-Za-z]{23}$`));
    const all = JSON.stringify(plan);
    for (const t of [...Object.values(FAKE_TOKENS), OTHER_TOKEN]) assert.ok(!all.includes(t), "a token is in the plan");
  });

  it("writes the placeholder on every route of its token_ref, Basic ones included, and is the same on every run", () => {
    const a = planOf(config());
    const b = planOf(config());
    const doc = a.routes.document as { routes: Array<{ host: string; auth?: Record<string, unknown> }> };
    const gh = doc.routes.map((r) => r.auth?.placeholder);
    assert.equal(gh[0], envOf(a).GITHUB_TOKEN);
    assert.equal(gh[1], gh[0], "github.com shares api.github.com's secret, so its placeholder");
    assert.deepEqual(doc.routes[1]?.auth?.basic, { username: "x-access-token" });
    assert.notEqual(gh[2], gh[0]);
    assert.equal(a.routes.content, b.routes.content);
    assert.deepEqual(envOf(a), envOf(b));
    assert.notEqual(placeholderFor("dev", "api.github.com", "githubToken"), placeholderFor("prod", "api.github.com", "githubToken"));
  });

  it("refuses one variable for two secrets, a variable agent.env also sets, and a name the bottle sets", () => {
    const errors = errorsOf(withRoutes([
      { host: "a.example.com", auth: { scheme: "Bearer", token_ref: "githubToken", agent_env: "TOKEN" } },
      { host: "b.example.com", auth: { scheme: "Bearer", token_ref: "anthropicKey", agent_env: "TOKEN" } },
      { host: "c.example.com", auth: { scheme: "Bearer", token_ref: "githubToken", agent_env: "GIT_TOKEN" } },
      { host: "d.example.com", auth: { scheme: "Bearer", token_ref: "githubToken", agent_env: "HTTPS_PROXY" } },
    ], agentWith({ GIT_TOKEN: "x" })));
    assert.ok(errors.some((e) => /routes\[1\]\.auth\.agent_env: is also the agent_env of routes\[0\], which carries another secret/.test(e)), errors.join("\n"));
    assert.ok(errors.some((e) => /routes\[2\]\.auth\.agent_env: is also set in agent\.env; drop it there/.test(e)), errors.join("\n"));
    assert.ok(errors.some((e) => /routes\[3\]\.auth\.agent_env: is set by the bottle/.test(e)), errors.join("\n"));
  });
});

describe("auth.basic", () => {
  it("renders Basic with the user name and the plain token's slot", () => {
    const plan = planOf(withRoutes([{ host: "github.com", auth: { basic: { username: "x-access-token" }, token_ref: "githubToken" } }]));
    const doc = plan.routes.document as { routes: Array<{ auth?: Record<string, unknown> }> };
    assert.deepEqual(doc.routes[0]?.auth, { basic: { username: "x-access-token" }, token_env: "EGRESS_PROXY_TOKEN_1" });
    assert.deepEqual(plan.egressPolicy.routes[0]?.auth, { header: "authorization", scheme: "Basic", username: "x-access-token", token_ref: "githubToken" });
  });

  it("refuses a hand-encoded `scheme: Basic`, a user name with `:`, and two forms at once, with the fix", () => {
    const errors = errorsOf(withRoutes([
      { host: "a.example.com", auth: { scheme: "basic", token_ref: "githubToken" } },
      { host: "b.example.com", auth: { basic: { username: "a:b" }, token_ref: "anthropicKey" } },
      { host: "c.example.com", auth: { basic: { username: "u" }, header: "x-k", token_ref: "anthropicKey" } as never },
    ]));
    assert.ok(errors.some((e) => /routes\[0\]\.auth\.scheme: Basic takes a user name and the token encoded together; write `basic: \{username: <user>\}`/.test(e)), errors.join("\n"));
    assert.ok(errors.some((e) => /routes\[1\]\.auth\.basic\.username: must be 1-256 printable ASCII characters without `:`/.test(e)), errors.join("\n"));
    assert.ok(errors.some((e) => /routes\[2\]\.auth: needs exactly one of `scheme`.*`basic: \{username\}`/.test(e)), errors.join("\n"));
  });
});

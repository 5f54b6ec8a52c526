/**
 * The world of the workday e2e suite: the test-agent image, the local servers a coding agent
 * talks to (servers in test/e2e/workday/), and which fields of the stack config this checkout's
 * schema accepts, found by trying `loadStack` (the real validation), not by a flag.
 */
import path from "node:path";
import { loadStack } from "../../../components/load-config";
import { tokensFromRecord } from "../../../components/token-source";
import { buildCached } from "./apply-image";
import { inspect } from "./docker-cli";

/** Built by scripts/test-agent-image.sh (setup.sh runs it). */
export const TEST_AGENT_IMAGE = "bot-bottle/test-agent:bookworm";
export const WORKDAY_SERVERS_IMAGE = "bot-bottle/e2e-workday-servers:local";
export const GIT_HOST = "git.e2e.test";
export const NPM_HOST = "registry.e2e.test";
export const PYPI_HOST = "pypi.e2e.test";
export const EVENTS_HOST = "events.e2e.test";
export const WORKDAY_HOSTS = [GIT_HOST, NPM_HOST, PYPI_HOST, EVENTS_HOST] as const;
export const GIT_USER = "x-access-token";

/** Build the servers image on the test-agent image; rebuilt when that image changes. */
export async function buildWorkdayServers(): Promise<void> {
  const base = await inspect("image", TEST_AGENT_IMAGE);
  const id = typeof base?.Id === "string" ? base.Id : "";
  if (!id) throw new Error(`image ${TEST_AGENT_IMAGE} is missing; run: bash scripts/test-agent-image.sh`);
  const context = path.resolve(__dirname, "..", "workday");
  await buildCached(WORKDAY_SERVERS_IMAGE, context, path.join(context, "Dockerfile"), { BASE_IMAGE: TEST_AGENT_IMAGE, BASE_ID: id });
}

/** What the stack config accepts in this checkout (fields of the workday contract). */
export interface Accepted {
  /** `auth: {basic: {username}, token_ref}`. */
  basic: boolean;
  /** `auth.agent_env` on a basic route. */
  agentEnv: boolean;
  /** `agent.workspace`. */
  workspace: boolean;
  /** The agent's planned environment carries JAVA_TOOL_OPTIONS. */
  javaToolOptions: boolean;
}

function probeConfig(agent: Record<string, unknown>, auth: Record<string, unknown>): Record<string, unknown> {
  return { bottles: [{ name: "probe", agent: { image: TEST_AGENT_IMAGE, ...agent }, pipelock: { url: "http://hop:3128" }, egress_proxy: { routes: [{ host: GIT_HOST, auth }] } }] };
}

/** Try each contract field on a config that is valid without it. */
export function acceptedFields(): Accepted {
  const tokens = tokensFromRecord({ probeToken: "FAKE-probe-token-0000-do-not-leak" });
  const hand = { scheme: "Basic", token_ref: "probeToken" };
  const basic = { basic: { username: GIT_USER }, token_ref: "probeToken" };
  const baseline = loadStack(probeConfig({}, hand), tokens);
  if (!baseline.ok) throw new Error(`the probe config is refused: ${baseline.errors.join("; ")}`);
  const agentEnvNames = baseline.value.plans[0]?.containers.find((c) => c.role === "agent")?.env.map((e) => e.name) ?? [];
  return {
    basic: loadStack(probeConfig({}, basic), tokens).ok,
    agentEnv: loadStack(probeConfig({}, { ...basic, agent_env: "GITHUB_TOKEN" }), tokens).ok,
    workspace: loadStack(probeConfig({ workspace: { path: "/workspace" } }, hand), tokens).ok,
    javaToolOptions: agentEnvNames.includes("JAVA_TOOL_OPTIONS"),
  };
}

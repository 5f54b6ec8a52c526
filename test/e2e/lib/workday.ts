/**
 * The world of the workday e2e suite: the test-agent image, the local servers a coding agent
 * talks to (servers in test/e2e/workday/).
 */
import path from "node:path";
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

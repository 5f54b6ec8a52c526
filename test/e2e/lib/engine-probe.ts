/**
 * Whether the e2e suite can run: a Docker engine answers and the local images it builds on
 * exist. Without them it skips with one line, except in CI (`CI=true`), where it fails.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { docker, inspect } from "./docker-cli";
import { BASE_IMAGE } from "./fixtures";

/** Why the suite cannot run here, or undefined when it can. */
export async function missingPrerequisite(): Promise<string | undefined> {
  const v = await docker(["version", "--format", "{{.Server.Version}}"], { allowFailure: true, timeoutMs: 10_000 }).catch((e: Error) => ({ code: -1, stderr: e.message, stdout: "" }));
  if (v.code !== 0) return `no Docker engine answers at ${process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock"} (run: bash scripts/setup.sh)`;
  if (!(await inspect("image", BASE_IMAGE))) return `image ${BASE_IMAGE} is missing (run: bash scripts/setup.sh)`;
  if (!existsSync(path.resolve(__dirname, "../../../proxy/dist/main.js"))) return "proxy/dist is not built (run: npm run build:proxy)";
  return undefined;
}

/** In a `before` hook: skip the suite with one line, or fail under CI=true. */
export async function requireEngine(ctx: Mocha.Context, suite: string): Promise<void> {
  const why = await missingPrerequisite();
  if (why === undefined) return;
  if (process.env.CI === "true") throw new Error(`${suite}: CI=true and ${why}; the e2e suite must run in CI`);
  console.log(`    ${suite}: SKIPPED, ${why}`);
  ctx.skip();
}

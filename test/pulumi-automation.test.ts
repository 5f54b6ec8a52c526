/**
 * `pulumi up`, outputs and `pulumi destroy` of one real bottle through the Automation API, with
 * a local file backend in a temp dir and passphrase secrets. Needs the pulumi CLI with the
 * docker and tls plugins, a Docker engine, the local images and a built proxy; anywhere one is
 * missing it prints one line saying which, and skips.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { FAKE_GITHUB_TOKEN, bottle } from "./components/fixtures";

const ROOT = path.resolve(__dirname, "..");
const AGENT_IMAGE = "bot-bottle/base:bookworm";
const PIPELOCK_IMAGE = "bot-bottle/pipelock:2.3.0";
const PLUGINS = { docker: "5.2.0", tls: "5.6.1" };

function run(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
  } catch {
    return undefined;
  }
}

const hasImage = (ref: string) => run("docker", ["image", "inspect", ref]) !== undefined;

/** Why this test cannot run here, or undefined when it can. */
function missingPrerequisite(): string | undefined {
  if (run("pulumi", ["version"]) === undefined) return "no `pulumi` CLI on PATH";
  if (run("docker", ["info", "--format", "{{.ServerVersion}}"]) === undefined) return "no Docker engine answering (scripts/docker-engine.sh)";
  const plugins = JSON.parse(run("pulumi", ["plugin", "ls", "--json"]) ?? "[]") as { name: string; kind: string; version: string }[];
  for (const [name, version] of Object.entries(PLUGINS)) {
    if (!plugins.some((p) => p.kind === "resource" && p.name === name && p.version === version)) {
      return `pulumi resource plugin ${name} v${version} is not installed (pulumi plugin install resource ${name} ${version})`;
    }
  }
  if (!hasImage(AGENT_IMAGE)) return `no local image ${AGENT_IMAGE} (scripts/base-image.sh)`;
  if (!existsSync(path.join(ROOT, "proxy", "Dockerfile"))) return "no proxy/Dockerfile";
  if (!existsSync(path.join(ROOT, "proxy", "dist", "main.js"))) return "proxy not built (npm run build:proxy)";
  return undefined;
}

/** Every file under `dir`, for grepping state. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

const labelled = (name: string) =>
  (run("docker", ["ps", "-a", "--filter", `label=bot-bottle.bottle=${name}`, "--format", "{{.Names}}"]) ?? "").split("\n").filter(Boolean).sort();

describe("Automation API: pulumi up, outputs, destroy @e2e", function () {
  this.timeout(15 * 60_000);

  before(function () {
    const missing = missingPrerequisite();
    if (missing) {
      console.log(`    skipped: ${missing}`);
      this.skip();
    }
  });

  it("brings one bottle up, reports how to use it, keeps the token out of plain state, and tears it down", async () => {
    const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
    const c = await import("../components");
    const name = `auto${process.pid % 100000}`;
    const withPipelock = hasImage(PIPELOCK_IMAGE);
    const stateDir = mkdtempSync(path.join(tmpdir(), "bb-pulumi-state-"));
    const b = bottle(name, withPipelock ? {} : { pipelock: { url: "http://pipelock.invalid:8888" } });
    if (!withPipelock) console.log(`    note: no ${PIPELOCK_IMAGE}; using pipelock by URL`);

    const stack = await LocalWorkspace.createOrSelectStack(
      {
        stackName: "automation",
        projectName: "bot-bottle",
        program: async () => {
          const config = new pulumi.Config();
          return { bottles: c.defineBottles(c.readStackConfig(config), c.tokensFromConfig(config)).outputs };
        },
      },
      {
        projectSettings: { name: "bot-bottle", runtime: "nodejs", backend: { url: `file://${stateDir}` } },
        secretsProvider: "passphrase",
        envVars: { PULUMI_CONFIG_PASSPHRASE: "bot-bottle-automation-test", PULUMI_SKIP_UPDATE_CHECK: "true" },
      },
    );
    try {
      await stack.setAllConfig({
        "bot-bottle:bottles": { value: JSON.stringify([b]) },
        "bot-bottle:proxyBaseImage": { value: AGENT_IMAGE },
        "bot-bottle:githubToken": { value: FAKE_GITHUB_TOKEN, secret: true },
        "bot-bottle:anthropicKey": { value: "FAKE-TOKEN-do-not-leak-5678", secret: true },
      });
      const up = await stack.up();
      const bottles = up.outputs.bottles?.value as Record<string, { enter: string; auditLog: string }>;
      assert.equal(bottles[name]?.enter, `docker exec -it bb-${name}-agent sh`);
      assert.equal(bottles[name]?.auditLog, `docker logs -f bb-${name}-egress-proxy`);

      const expected = [`bb-${name}-agent`, `bb-${name}-egress-proxy`, ...(withPipelock ? [`bb-${name}-pipelock`] : [])].sort();
      assert.deepEqual(labelled(name), expected);
      const agentEnv = run("docker", ["inspect", "--format", "{{json .Config.Env}}", `bb-${name}-agent`]) ?? "";
      assert.ok(agentEnv.includes("HTTPS_PROXY=http://egress-proxy:8080"), agentEnv);
      assert.ok(!agentEnv.includes("FAKE-TOKEN"), "a token reached the agent's env");
      for (const file of filesUnder(stateDir)) {
        assert.ok(!readFileSync(file, "utf8").includes("FAKE-TOKEN"), `plaintext token in ${file}`);
      }

      await stack.destroy();
      assert.deepEqual(labelled(name), []);
    } finally {
      // leave nothing behind even when an assertion failed half-way
      await stack.destroy().catch(() => undefined);
      await stack.workspace.removeStack("automation").catch(() => undefined);
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

/**
 * The real toolchain on one bottle through the Automation API, with a local file backend in a
 * temp dir and passphrase secrets: `up`, a second `up` that changes nothing, a route change that
 * reads in clear in the preview diff and replaces only the proxy, the policy output, `destroy`. Needs the pulumi CLI with the
 * docker and tls plugins, a Docker engine, the local images and a built proxy; anywhere one is
 * missing it prints one line saying which, and skips.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { EgressPolicy } from "../components/egress-policy";
import { bottle } from "./components/fixtures";
import { FAKE_TOKENS, LEAK_MARKER } from "./helpers/fake-tokens";

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

/** Container ids of a bottle by role, to tell a kept container from a replaced one. */
function containerIds(bottleName: string): Record<string, string> {
  const out = run("docker", ["ps", "-a", "--filter", `label=bot-bottle.bottle=${bottleName}`, "--format", '{{.ID}} {{.Label "bot-bottle.role"}}']) ?? "";
  return Object.fromEntries(out.split("\n").filter(Boolean).map((l) => l.split(" ").reverse() as [string, string]));
}

/** No secret in any file of the state, outside Pulumi's encryption. */
function assertNoPlainSecret(stateDir: string, secrets: readonly string[]): void {
  for (const file of filesUnder(stateDir)) {
    const text = readFileSync(file, "utf8");
    for (const s of secrets) assert.ok(!text.includes(s), `plaintext secret in ${file}`);
  }
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

  it("brings a bottle up, changes nothing on a second up, shows a route change in clear, outputs its policy, tears it down", async () => {
    const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
    const c = await import("../components");
    const name = `auto${process.pid % 100000}`;
    const withPipelock = hasImage(PIPELOCK_IMAGE);
    const stateDir = mkdtempSync(path.join(tmpdir(), "bb-pulumi-state-"));
    const b = bottle(name, withPipelock ? {} : { pipelock: { url: "http://pipelock.invalid:8888" } });
    if (!withPipelock) console.log(`    note: no ${PIPELOCK_IMAGE}; using pipelock by URL`);
    const configOf = (bottles: unknown[]) => ({
      "bot-bottle:bottles": { value: JSON.stringify(bottles) },
      "bot-bottle:proxyBaseImage": { value: AGENT_IMAGE },
      "bot-bottle:githubToken": { value: FAKE_TOKENS.github, secret: true },
      "bot-bottle:anthropicKey": { value: FAKE_TOKENS.anthropic, secret: true },
    });
    const secrets = [FAKE_TOKENS.github, FAKE_TOKENS.anthropic, "PRIVATE KEY-----\nMI"];

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
    const timed = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
      const t0 = Date.now();
      const out = await f();
      console.log(`      ${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      return out;
    };
    try {
      await stack.setAllConfig(configOf([b]));
      const up = await timed("first up", () => stack.up());
      const bottles = up.outputs.bottles?.value as Record<string, { enter: string; auditLog: string; egressPolicy: EgressPolicy }>;
      assert.equal(bottles[name]?.enter, `docker exec -it bb-${name}-agent sh`);
      assert.equal(bottles[name]?.auditLog, `docker logs -f bb-${name}-egress-proxy`);
      assert.deepEqual(bottles[name]?.egressPolicy.routes[0]?.auth, { header: "authorization", scheme: "Bearer", token_ref: "githubToken" });

      const expected = [`bb-${name}-agent`, `bb-${name}-egress-proxy`, ...(withPipelock ? [`bb-${name}-pipelock`] : []), `bb-${name}-workspace-init`].sort();
      assert.deepEqual(labelled(name), expected);
      // the workspace by default: a volume the init step handed to the agent's user, its working directory
      const workspace = run("docker", ["exec", `bb-${name}-agent`, "sh", "-c", 'stat -c %u "$BOT_BOTTLE_WORKSPACE" && pwd && touch "$BOT_BOTTLE_WORKSPACE/work" && echo written']) ?? "";
      assert.deepEqual(workspace.trim().split("\n"), ["10001", "/workspace", "written"]);
      const agentEnv = run("docker", ["inspect", "--format", "{{json .Config.Env}}", `bb-${name}-agent`]) ?? "";
      assert.ok(agentEnv.includes("HTTPS_PROXY=http://egress-proxy:8080"), agentEnv);
      assert.ok(!agentEnv.includes(LEAK_MARKER), "a token reached the agent's env");
      assertNoPlainSecret(stateDir, secrets);

      // the same program again: nothing to do, the agent keeps its container
      const ids = containerIds(name);
      await timed("preview with no change expected", () => stack.preview({ expectNoChanges: true }));
      const again = await timed("second up", () => stack.up());
      assert.deepEqual(Object.keys(again.summary.resourceChanges ?? {}), ["same"], JSON.stringify(again.summary.resourceChanges));
      assert.deepEqual(containerIds(name), ids);

      // a route change: readable in the diff, only the proxy replaced
      const changedPath = "/repos/acme/gadget/**";
      const widened = { ...b, egress_proxy: { ...b.egress_proxy, routes: b.egress_proxy.routes.map((r, i) => (i === 0 ? { ...r, path_allowlist: [...(r.path_allowlist ?? []), changedPath] } : r)) } };
      await stack.setAllConfig(configOf([widened]));
      let diff = "";
      const preview = await stack.preview({ diff: true, onOutput: (o) => (diff += o) });
      assert.ok(diff.includes(changedPath), `the preview diff does not show the new path:\n${diff}`);
      for (const s of secrets) assert.ok(!diff.includes(s), "a secret in the preview diff");
      assert.deepEqual(preview.changeSummary, { same: Object.values(preview.changeSummary).reduce((a, n) => a + n, 0) - 1, replace: 1 });
      const changed = await timed("up with a route change", () => stack.up());
      const after = containerIds(name);
      for (const role of Object.keys(ids)) {
        if (role === "egress-proxy") assert.notEqual(after[role], ids[role], "the proxy kept its container");
        else assert.equal(after[role], ids[role], `${role} was replaced by a route change`);
      }
      const policy = (changed.outputs.bottles?.value as Record<string, { egressPolicy: EgressPolicy }>)[name]?.egressPolicy;
      assert.ok(policy?.routes[0]?.paths.includes(changedPath), "the policy output lacks the new path");
      assertNoPlainSecret(stateDir, secrets);

      const kept = run("docker", ["exec", `bb-${name}-agent`, "ls", "/workspace"]) ?? "";
      assert.match(kept, /^work$/m, "the workspace lost its file across the proxy's replacement");

      await timed("destroy", () => stack.destroy());
      assert.deepEqual(labelled(name), []);
      // retain_on_destroy defaults to true: the user's work outlives the bottle
      assert.equal(run("docker", ["volume", "inspect", "--format", "{{.Name}}", `bb-${name}-workspace`])?.trim(), `bb-${name}-workspace`);
    } finally {
      // leave nothing behind even when an assertion failed half-way
      await stack.destroy().catch(() => undefined);
      await stack.workspace.removeStack("automation").catch(() => undefined);
      run("docker", ["volume", "rm", "-f", `bb-${name}-workspace`]);
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

/**
 * The policy pack under the real toolchain: `pulumi preview --policy-pack policy` (through the
 * Automation API) on the demo stack, which passes, and on stacks that break the mandatory
 * policies a stack config can break, which fail naming each one. The project is a temp directory
 * whose Pulumi.yaml points `main` at this repository, with a local file backend in the temp dir;
 * the stack files are Pulumi.demo.yaml and variants of it (same passphrase, `bot-bottle-demo`).
 * Needs the pulumi CLI on PATH with its Node language host, the docker and
 * tls plugins, a Docker engine (the preview builds the proxy image), the demo's base image and a
 * built proxy; anywhere one is missing it prints one line saying which, and skips.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { DEMO_STACK_FILE, ROOT, demoBottle, withRoute, type BottleInput } from "./stacks";

const POLICY_DIR = path.join(ROOT, "policy");
const PLUGINS = { docker: "5.2.0", tls: "5.6.1" };
/** Pulumi.demo.yaml says why this passphrase may be public. */
const DEMO_PASSPHRASE = "bot-bottle-demo";

function run(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
  } catch {
    return undefined;
  }
}

/** The pulumi CLI on PATH, as the Automation API finds it too. */
function findCli(): { bin: string } | undefined {
  return run("pulumi", ["version"]) !== undefined ? { bin: "pulumi" } : undefined;
}

/** Why this test cannot run here, or undefined when it can. */
function missingPrerequisite(cli: { bin: string } | undefined, baseImage: string | undefined): string | undefined {
  if (cli === undefined) return "no `pulumi` CLI on PATH";
  if (run("pulumi-language-nodejs", ["-version"]) === undefined) return "no pulumi-language-nodejs (the Node language host) on PATH";
  const plugins = JSON.parse(run(cli.bin, ["plugin", "ls", "--json"]) ?? "[]") as { name: string; kind: string; version: string }[];
  for (const [name, version] of Object.entries(PLUGINS)) {
    if (!plugins.some((p) => p.kind === "resource" && p.name === name && p.version === version)) {
      return `pulumi resource plugin ${name} v${version} is not installed (pulumi plugin install resource ${name} ${version})`;
    }
  }
  if (!existsSync(path.join(POLICY_DIR, "node_modules", "@pulumi", "policy"))) return "policy/node_modules is not installed (npm install at the root)";
  if (run("docker", ["info", "--format", "{{.ServerVersion}}"]) === undefined) return "no Docker engine answering (the preview builds the proxy image; scripts/docker-engine.sh)";
  if (baseImage !== undefined && run("docker", ["image", "inspect", baseImage]) === undefined) return `no local image ${baseImage} (scripts/base-image.sh)`;
  if (!existsSync(path.join(ROOT, "proxy", "dist", "main.js"))) return "proxy not built (npm run build:proxy)";
  return undefined;
}

interface StackFile {
  encryptionsalt?: string;
  config: Record<string, unknown>;
}

describe("policy pack under the real pulumi CLI: preview --policy-pack @e2e", function () {
  this.timeout(10 * 60_000);
  const demoFile = parse(readFileSync(DEMO_STACK_FILE, "utf8")) as StackFile;
  const cli = findCli();
  let workDir = "";

  before(function () {
    const base = demoFile.config["bot-bottle:proxyBaseImage"];
    const missing = missingPrerequisite(cli, typeof base === "string" ? base : undefined);
    if (missing) {
      console.log(`    skipped: ${missing}`);
      this.skip();
    }
    workDir = mkdtempSync(path.join(tmpdir(), "bb-policy-cli-"));
    // the program is this repository (its package.json main, index.ts); state and stack files stay in the temp dir
    writeFileSync(path.join(workDir, "Pulumi.yaml"), stringify({ name: "bot-bottle", runtime: { name: "nodejs", options: { typescript: true } }, main: ROOT }));
  });

  after(() => {
    if (workDir !== "") rmSync(workDir, { recursive: true, force: true });
  });

  /** Preview stack `name` with `bottles` (the demo's secret and base image kept) and the pack; what pulumi printed, and whether it failed. */
  async function preview(name: string, bottles: BottleInput[] | undefined, packConfig?: Record<string, unknown>): Promise<{ failed: boolean; output: string }> {
    const { LocalWorkspace, PulumiCommand } = await import("@pulumi/pulumi/automation");
    const file: StackFile = { ...demoFile, config: { ...demoFile.config, ...(bottles !== undefined ? { "bot-bottle:bottles": bottles } : {}) } };
    writeFileSync(path.join(workDir, `Pulumi.${name}.yaml`), stringify(file));
    const configFiles: string[] = [];
    if (packConfig !== undefined) {
      const p = path.join(workDir, `policy-config.${name}.json`);
      writeFileSync(p, JSON.stringify(packConfig));
      configFiles.push(p);
    }
    const pulumiCommand = await PulumiCommand.get();
    const envVars = { PULUMI_BACKEND_URL: `file://${workDir}`, PULUMI_CONFIG_PASSPHRASE: DEMO_PASSPHRASE, PULUMI_SKIP_UPDATE_CHECK: "true" };
    const stack = await LocalWorkspace.createOrSelectStack({ stackName: name, workDir }, { pulumiCommand, envVars, secretsProvider: "passphrase" });
    let output = "";
    try {
      await stack.preview({ policyPacks: [POLICY_DIR], policyPackConfigs: configFiles, onOutput: (o) => (output += o) });
      return { failed: false, output };
    } catch (e) {
      return { failed: true, output: `${output}\n${(e as Error).message}` };
    }
  }

  /** The `[level]  policy` lines pulumi prints under "Policies:", once each (the error repeats what was printed). */
  const reported = (output: string) => [...new Set([...output.matchAll(/\[(mandatory|advisory)\]\s+(bottle-[a-z-]+)/g)].map((m) => `${m[2]} ${m[1]}`))];

  it("passes the demo stack: no mandatory violation", async () => {
    const { failed, output } = await preview("demo", undefined);
    assert.equal(failed, false, output);
    assert.deepEqual(reported(output).filter((r) => r.endsWith("mandatory")), [], output);
    assert.match(output, /bot-bottle@v0\.1\.0/, "the pack was loaded");
  });

  it("fails a stack whose agent runs as root, naming bottle-non-root-user and agent.user", async () => {
    const { failed, output } = await preview("rootagent", [demoBottle((b) => ({ ...b, agent: { ...b.agent, user: "0" } }))]);
    assert.equal(failed, true, output);
    assert.deepEqual(reported(output).filter((r) => r.endsWith("mandatory")), ["bottle-non-root-user mandatory"], output);
    assert.match(output, /bottle "demo", agent container bb-demo-agent runs as root \(user "0"\)\. Fix: set bot-bottle:bottles, the bottle named "demo": agent\.user/);
  });

  it("fails a stack that breaks every mandatory rule a stack config can break, naming each policy", async () => {
    const broken = withRoute({ host: "*.githubusercontent.com", methods: ["GET"], auth: { scheme: "token", token_ref: "demoToken" } });
    const bottle: BottleInput = {
      ...broken,
      agent: { ...broken.agent, image: "bot-bottle/base" },
      pipelock: { url: "http://pipelock.corp.example:8888", network: "corp-egress" },
      egress_proxy: { ...broken.egress_proxy, routes: [...broken.egress_proxy.routes, { host: "api.anthropic.com", auth: { header: "x-api-key", token_ref: "demoToken" } }] },
    };
    const { failed, output } = await preview("broken", [bottle], { "bottle-route-auth-scoped": "mandatory" });
    assert.equal(failed, true, output);
    const mandatory = reported(output).filter((r) => r.endsWith("mandatory")).map((r) => r.split(" ")[0]);
    assert.deepEqual(mandatory.sort(), ["bottle-images-pinned", "bottle-isolation-topology", "bottle-route-auth-exact-host", "bottle-route-auth-scoped"], output);
    assert.match(output, /agent\.image to a pinned image/);
    assert.match(output, /joins network corp-egress, which this stack does not declare/);
  });
});

/**
 * The pack as a product: stable, unique names; a description that says why; default levels and
 * config as policy/README.md documents them; pinned dependencies installed by the root's
 * `npm install`; and a test of its own for every policy.
 */
import * as assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import * as path from "node:path";
import { policies } from "../../policy/policies";
import { ROOT } from "./stacks";

const POLICY_DIR = path.join(ROOT, "policy");
const readJson = (file: string) => JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;

/** The rows of README.md's policy table: name, default level, config keys. */
function readmeTable(): { name: string; level: string; config: string[] }[] {
  const readme = readFileSync(path.join(POLICY_DIR, "README.md"), "utf8");
  return [...readme.matchAll(/^\| `(bottle-[a-z-]+)` \| (\w+) \| ([^|]*) \|/gm)].map((m) => ({
    name: m[1] ?? "",
    level: m[2] ?? "",
    config: [...(m[3] ?? "").matchAll(/`([A-Za-z]+)`/g)].map((c) => c[1] ?? ""),
  }));
}

describe("policy pack: the pack itself", () => {
  it("names every policy stably, once, and says why in its description", () => {
    const names = policies.map((p) => p.name);
    assert.equal(new Set(names).size, names.length, "duplicate policy names");
    for (const p of policies) {
      assert.match(p.name, /^bottle-[a-z]+(?:-[a-z]+)*$/, p.name);
      assert.ok(p.description.length >= 100, `${p.name}: the description should say why`);
      assert.ok(p.enforcementLevel === "mandatory" || p.enforcementLevel === "advisory", p.name);
      assert.ok(!("enforcementLevel" in (p.configSchema?.properties ?? {})), `${p.name}: enforcementLevel is reserved`);
    }
  });

  it("documents every policy, its default level and its config in policy/README.md", () => {
    const expected = policies.map((p) => ({ name: p.name, level: p.enforcementLevel ?? "", config: Object.keys(p.configSchema?.properties ?? {}) }));
    assert.deepEqual(readmeTable(), expected);
  });

  it("has unit tests for every policy", () => {
    const dir = path.join(ROOT, "test", "policy");
    const tests = readdirSync(dir).filter((f) => f.endsWith(".test.ts") && f !== "pack.test.ts").map((f) => readFileSync(path.join(dir, f), "utf8")).join("\n");
    for (const p of policies) assert.ok(tests.includes(`describe("${p.name}`), `no describe("${p.name}...") block in test/policy`);
  });

  it("pins its dependencies, @pulumi/pulumi as the program does, and is installed by the root's npm install", () => {
    const pack = readJson(path.join(POLICY_DIR, "package.json"));
    const deps = pack.dependencies as Record<string, string>;
    for (const [name, version] of Object.entries(deps)) assert.match(version, /^\d+\.\d+\.\d+$/, `${name} is not pinned`);
    const root = readJson(path.join(ROOT, "package.json"));
    assert.equal(deps["@pulumi/pulumi"], (root.dependencies as Record<string, string>)["@pulumi/pulumi"]);
    assert.equal(deps.zod, (root.dependencies as Record<string, string>).zod);
    const lock = readJson(path.join(POLICY_DIR, "package-lock.json"));
    const locked = lock.packages as Record<string, { version?: string }>;
    for (const [name, version] of Object.entries(deps)) assert.equal(locked[`node_modules/${name}`]?.version, version, `package-lock.json: ${name}`);
    assert.match((root.scripts as Record<string, string>).postinstall ?? "", /npm --prefix policy install/);
  });
});

import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { loadStack, tokensFromRecord, type BottlePlan } from "../../components";
import { FAKE_TOKENS, bottle, stack } from "./fixtures";

function planOf(config: unknown): BottlePlan {
  const result = loadStack(config, tokensFromRecord(FAKE_TOKENS));
  if (!result.ok) assert.fail(result.errors.join("\n"));
  return result.value.plans[0]!;
}

describe("pipelock config", () => {
  it("is strict, forward proxy on, DLP on, allowlist = route hosts then extra hosts (deduplicated)", () => {
    const plan = planOf(stack(bottle("dev", { pipelock: { extra_hosts: ["*.githubusercontent.com", "api.github.com"] } })));
    assert.deepEqual(plan.pipelockConfig, {
      version: 1,
      mode: "strict",
      api_allowlist: ["api.github.com", "api.anthropic.com", "uploads.github.com", "registry.npmjs.org", "*.githubusercontent.com"],
      forward_proxy: { enabled: true, max_tunnel_seconds: 3600, idle_timeout_seconds: 600 },
      dlp: { include_defaults: true },
      logging: { format: "json", output: "stdout", include_allowed: true, include_blocked: true },
    });
    const pipelock = plan.containers.find((c) => c.role === "pipelock")!;
    const upload = pipelock.uploads[0]!;
    assert.equal(upload.file, "/etc/pipelock/pipelock.yaml");
    assert.deepEqual(upload.content.kind === "text" && JSON.parse(upload.content.text), plan.pipelockConfig);
  });

  it("carries trusted domains, SSRF allowlist and tunnel limit for test upstreams", () => {
    const plan = planOf(stack(bottle("dev", { pipelock: { trusted_domains: ["Upstream.Test"], ssrf_ip_allowlist: ["172.30.0.0/16"], max_tunnel_seconds: 7200 } })));
    assert.deepEqual(plan.pipelockConfig?.trusted_domains, ["upstream.test"]);
    assert.deepEqual(plan.pipelockConfig?.ssrf, { ip_allowlist: ["172.30.0.0/16"] });
    assert.equal(plan.pipelockConfig?.forward_proxy.max_tunnel_seconds, 7200);
  });

  it("is absent with pipelock by URL", () => {
    const plan = planOf(stack(bottle("dev", { pipelock: { url: "http://pipelock.internal:8888/" } })));
    assert.equal(plan.pipelockConfig, undefined);
    assert.equal(plan.pipelockUrl, "http://pipelock.internal:8888");
  });
});

describe("pipelock config, checked by pipelock itself", () => {
  // the binary scripts/pipelock-image.sh leaves behind; PIPELOCK overrides, as in pipelock-verify.sh
  const binary = process.env.PIPELOCK ?? path.join(process.env.BB_CACHE_DIR ?? "/var/cache/bot-bottle", "bin", "pipelock");

  it("passes `pipelock check`", function () {
    if (!existsSync(binary)) {
      console.log(`    skipped: no pipelock binary at ${binary} (run scripts/pipelock-image.sh)`);
      this.skip();
    }
    const plan = planOf(stack(bottle("dev", { pipelock: { extra_hosts: ["*.example.com"], trusted_domains: ["upstream.test"], ssrf_ip_allowlist: ["172.30.0.0/24"] } })));
    const pipelock = plan.containers.find((c) => c.role === "pipelock")!;
    const content = pipelock.uploads[0]!.content;
    assert.equal(content.kind, "text");
    const dir = mkdtempSync(path.join(tmpdir(), "bb-pipelock-"));
    try {
      const file = path.join(dir, "pipelock.yaml");
      writeFileSync(file, content.kind === "text" ? content.text : "");
      execFileSync(binary, ["check", "--config", file], { stdio: "pipe", timeout: 20_000 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { BottlePlan, PipelockFile } from "../../components";
import { defaultTunnelsPerMinute } from "../../components/pipelock-config";
import { bottle, planOf, stack } from "./fixtures";

/** The single file uploaded into the pipelock container. */
function pipelockUpload(plan: BottlePlan) {
  const pipelock = plan.containers.find((c) => c.role === "pipelock");
  assert.ok(pipelock, "no pipelock container");
  const upload = pipelock.uploads[0];
  assert.ok(upload, "no upload into pipelock");
  return upload;
}

describe("pipelock config", () => {
  it("is strict, forward proxy on, DLP on, allowlist = route hosts then extra hosts (deduplicated)", () => {
    const plan = planOf(stack(bottle("dev", { pipelock: { extra_hosts: ["*.githubusercontent.com", "api.github.com"] } })));
    assert.deepEqual(plan.pipelockConfig, {
      version: 1,
      mode: "strict",
      api_allowlist: ["api.github.com", "api.anthropic.com", "uploads.github.com", "registry.npmjs.org", "*.githubusercontent.com"],
      forward_proxy: { enabled: true, max_tunnel_seconds: 3600, idle_timeout_seconds: 600 },
      // api.github.com and uploads.github.com share pipelock's github.com budget
      fetch_proxy: { monitoring: { max_requests_per_minute: 1200 } },
      metrics_listen: "127.0.0.1:9090",
      dlp: { include_defaults: true },
      logging: { format: "json", output: "stdout", include_allowed: true, include_blocked: true },
    });
    const upload = pipelockUpload(plan);
    assert.equal(upload.file, "/etc/pipelock/pipelock.yaml");
    assert.deepEqual(upload.content.kind === "text" && JSON.parse(upload.content.text), plan.pipelockConfig);
  });

  it("carries trusted domains, SSRF allowlist and tunnel limit for test upstreams", () => {
    const plan = planOf(stack(bottle("dev", { pipelock: { trusted_domains: ["Upstream.Test"], ssrf_ip_allowlist: ["172.30.0.0/16"], max_tunnel_seconds: 7200 } })));
    assert.deepEqual(plan.pipelockConfig?.trusted_domains, ["upstream.test"]);
    assert.deepEqual(plan.pipelockConfig?.ssrf, { ip_allowlist: ["172.30.0.0/16"] });
    assert.equal(plan.pipelockConfig?.forward_proxy.max_tunnel_seconds, 7200);
  });

  it("takes the tunnel rate limit from config", () => {
    const plan = planOf(stack(bottle("dev", { pipelock: { max_tunnels_per_minute: 5000 } })));
    assert.equal(plan.pipelockConfig?.fetch_proxy.monitoring.max_requests_per_minute, 5000);
  });

  const defaults: { hosts: string[]; expect: number; why: string }[] = [
    { hosts: [], expect: 600, why: "never below one host's budget" },
    { hosts: ["api.example.com"], expect: 600, why: "one host" },
    { hosts: ["a.example.com", "b.example.com", "example.org"], expect: 1200, why: "two hosts share example.com" },
    { hosts: ["*.example.com", "api.example.com", "x.y.example.com"], expect: 1800, why: "a wildcard counts once, under its domain" },
    { hosts: ["a.b.co.uk", "c.d.co.uk"], expect: 1200, why: "grouped more coarsely than pipelock's eTLD+1: never below it" },
    { hosts: ["10.0.0.1", "10.0.0.2"], expect: 600, why: "IP literals are their own key" },
    { hosts: Array.from({ length: 200 }, (_, i) => `h${i}.example.com`), expect: 60_000, why: "capped at the schema's maximum" },
  ];
  for (const d of defaults) {
    it(`derives the default tunnel limit: ${d.why}`, () => assert.equal(defaultTunnelsPerMinute(d.hosts), d.expect));
  }

  it("is absent with pipelock by URL", () => {
    const plan = planOf(stack(bottle("dev", { pipelock: { url: "http://pipelock.internal:8888/" } })));
    assert.equal(plan.pipelockConfig, undefined);
    assert.equal(plan.pipelockUrl, "http://pipelock.internal:8888");
  });
});

/** A pipelock binary: PIPELOCK, else `pipelock` on PATH, else where scripts/pipelock-image.sh leaves it. */
function findPipelock(): string {
  if (process.env.PIPELOCK) return process.env.PIPELOCK;
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir !== "" && existsSync(path.join(dir, "pipelock"))) return path.join(dir, "pipelock");
  }
  return path.join(process.env.BB_CACHE_DIR ?? "/var/cache/bot-bottle", "bin", "pipelock");
}

/** `pipelock check` on `file`: its exit status and the output's last line. */
function pipelockCheck(binary: string, file: PipelockFile | string): { ok: boolean; said: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "bb-pipelock-"));
  try {
    const config = path.join(dir, "pipelock.yaml");
    writeFileSync(config, typeof file === "string" ? file : JSON.stringify(file));
    const run = spawnSync(binary, ["check", "--config", config], { encoding: "utf8", timeout: 20_000 });
    const said = `${run.stdout}${run.stderr}`.trim().split("\n").pop() ?? "";
    return { ok: run.status === 0, said };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("pipelock config, checked by pipelock itself", () => {
  const binary = findPipelock();
  if (!existsSync(binary)) {
    it.skip(`pipelock check: no pipelock binary at ${binary} (set PIPELOCK, or run scripts/pipelock-image.sh)`, () => undefined);
    return;
  }

  /** A bottle using every option the config renders. */
  const everyOption = () => planOf(stack(bottle("dev", {
    pipelock: {
      extra_hosts: ["*.example.com", "203.0.113.7"],
      trusted_domains: ["upstream.test", "*.upstream.example"],
      ssrf_ip_allowlist: ["172.30.0.0/24", "fd00:bb::/64"],
      max_tunnel_seconds: 7200,
      max_tunnels_per_minute: 900,
    },
  })));

  it("accepts a rendered config using every option", () => {
    const plan = everyOption();
    const file = plan.pipelockConfig;
    assert.ok(file, "no pipelock config");
    assert.equal(file.fetch_proxy.monitoring.max_requests_per_minute, 900);
    assert.equal(file.metrics_listen, "127.0.0.1:9090");
    // the uploaded text itself, not a re-serialisation
    const content = pipelockUpload(plan).content;
    assert.equal(content.kind, "text");
    const result = pipelockCheck(binary, content.kind === "text" ? content.text : "");
    assert.ok(result.ok, `pipelock check refused the rendered config: ${result.said}`);
  });

  // values the schema refuses, written into the rendered file past the schema: pipelock refuses
  // the same ones, or (IP literals as trusted domains, broad allowlist wildcards) accepts them
  // and then ignores them or lets too much through, which is why the schema refuses them
  const bypasses: { name: string; edit: (f: PipelockFile) => void; refusal?: RegExp }[] = [
    { name: "CIDR with host bits", edit: (f) => { f.ssrf = { ip_allowlist: ["10.0.0.1/8"] }; }, refusal: /has host bits set/ },
    { name: "catch-all CIDR", edit: (f) => { f.ssrf = { ip_allowlist: ["0.0.0.0/0"] }; }, refusal: /catch-all/ },
    { name: "trusted wildcard on a top-level domain", edit: (f) => { f.trusted_domains = ["*.test"]; }, refusal: /concrete domain/ },
    { name: "IP literal as a trusted domain", edit: (f) => { f.trusted_domains = ["10.1.2.3"]; } },
    { name: "allowlist wildcard on a top-level domain", edit: (f) => { f.api_allowlist.push("*.test"); } },
    { name: "metrics on the proxy's own port", edit: (f) => { f.metrics_listen = "127.0.0.1:8888"; }, refusal: /collides/ },
  ];
  for (const b of bypasses) {
    it(`${b.refusal ? "refuses" : "accepts, but the schema refuses"}: ${b.name}`, () => {
      const rendered = everyOption().pipelockConfig;
      assert.ok(rendered, "no pipelock config");
      const file = structuredClone(rendered);
      b.edit(file);
      const result = pipelockCheck(binary, file);
      if (b.refusal) assert.match(result.said, b.refusal, "pipelock check refused it for another reason");
      assert.equal(result.ok, b.refusal === undefined, `pipelock check said: ${result.said}`);
    });
  }
});

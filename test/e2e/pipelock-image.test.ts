/**
 * End to end with the bottle's own pipelock container (`pipelock: { image }`), the variant the
 * component supports besides `pipelock: { url }`. It needs a local `bot-bottle/pipelock:*`
 * image: scripts/pipelock-image.sh wraps a pipelock 2.3.0 binary or image given to it (the
 * project builds none). Without one the suite skips with one line (fails when
 * BB_REQUIRE_PIPELOCK=1). It has run against real pipelock 2.3.0, wrapped from a binary built
 * outside the project from its public source, with its version flags: every test passed, and
 * pipelock's own log showed the tunnels, the SSRF refusal and no rate-limit block in the bursts.
 *
 *   agent ─▶ egress-proxy ─▶ pipelock ─▶ upstream (joined to the bottle's outbound network)
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { FAKE_TOKENS } from "../helpers/fake-tokens";
import { agentCurl } from "./lib/agent";
import { docker, idsByLabel } from "./lib/docker-cli";
import { api } from "./lib/engine-api";
import { requireEngine } from "./lib/engine-probe";
import { jsonLines } from "./lib/fixtures";
import { applyProgram } from "./lib/run-program";
import {
  API_HOST, bottleConfig, cleanupScenario, prepareScenario, REFUSED_BY_HOP_HOST, TOKEN_REF, upstreamRequests, waitHealthy,
  type Scenario,
} from "./lib/scenario";

const sha256 = (v: string) => createHash("sha256").update(v).digest("hex");

/** The newest local pipelock image, if any. */
async function localPipelockImage(): Promise<string | undefined> {
  const r = await docker(["images", "bot-bottle/pipelock", "--format", "{{.Repository}}:{{.Tag}}"], { timeoutMs: 20_000 });
  return r.stdout.split("\n").map((l) => l.trim()).find((l) => l && !l.endsWith(":<none>"));
}

describe("@e2e bottle with its own pipelock container (pipelock: { image })", function () {
  this.timeout(120_000);
  let s: Scenario | undefined;
  let agent = "";
  let pipelock = "";
  let outboundNet = "";
  let destroyed = false;
  const sc = (): Scenario => {
    if (!s) throw new Error("scenario not prepared");
    return s;
  };

  before(async function () {
    this.timeout(360_000);
    await requireEngine(this, "@e2e pipelock by image");
    const image = await localPipelockImage();
    if (!image) {
      const why = "no local image bot-bottle/pipelock:* (scripts/pipelock-image.sh wraps one when given a pipelock 2.3.0 binary or image)";
      if (process.env.BB_REQUIRE_PIPELOCK === "1") throw new Error(`@e2e pipelock by image: BB_REQUIRE_PIPELOCK=1 and ${why}`);
      console.log(`    @e2e pipelock by image: SKIPPED, ${why}`);
      this.skip();
    }
    s = await prepareScenario("e2ep");
    // api.e2e.test resolves to a private address: pipelock's SSRF check must trust it by name;
    // blocked.e2e.test is not trusted, so pipelock itself refuses it
    const config = bottleConfig(s, { image, trusted_domains: [API_HOST] }, [
      { host: API_HOST, path_allowlist: ["/allowed/**"], methods: ["GET"], auth: { scheme: "Bearer", token_ref: TOKEN_REF } },
      { host: REFUSED_BY_HOP_HOST },
    ]);
    const out = (await applyProgram(s.mocks, config, { [TOKEN_REF]: FAKE_TOKENS.github })) as {
      outputs: Record<string, { containers: Record<string, string>; networks: Record<string, string> }>;
    };
    const mine = out.outputs[s.bottle];
    agent = mine?.containers.agent ?? "";
    pipelock = mine?.containers.pipelock ?? "";
    outboundNet = mine?.networks.outbound ?? "";
    assert.ok(agent && pipelock && outboundNet, "the bottle has an agent, a pipelock and an outbound network");
    // "the internet" of this test: the upstream joins the network pipelock leads out through
    await api("POST", `/networks/${encodeURIComponent(outboundNet)}/connect`, { Container: s.upstream, EndpointConfig: { Aliases: [API_HOST, REFUSED_BY_HOP_HOST] } });
    await waitHealthy(mine?.containers["egress-proxy"] ?? "");
  });

  after(async function () {
    this.timeout(120_000);
    if (s && !destroyed) {
      await api("POST", `/networks/${encodeURIComponent(outboundNet)}/disconnect`, { Container: s.upstream, Force: true }, { accept: [404, 500] }).catch(() => undefined);
      await s.mocks.destroy().catch((e: Error) => console.error(`    e2e teardown: ${e.message}`));
    }
    // the workspace is kept on destroy by default: this run's is removed here
    if (s) await api("DELETE", `/volumes/${encodeURIComponent(`bb-${s.bottle}-workspace`)}`, undefined, { accept: [404] }).catch(() => undefined);
    await cleanupScenario(s);
  });

  it("serves an allowed route through pipelock with the credential injected once", async () => {
    const before = (await upstreamRequests(sc())).length;
    const r = await agentCurl(agent, `https://${API_HOST}/allowed/via-pipelock`);
    assert.equal(r.status, 200, `curl: ${r.stderr}`);
    const seen = (await upstreamRequests(sc())).slice(before);
    assert.deepEqual(seen.map((l) => [l.path, l.authorization_sha256]), [["/allowed/via-pipelock", [sha256(`Bearer ${FAKE_TOKENS.github}`)]]]);
    const logs = await jsonLines(pipelock);
    assert.ok(logs.some((l) => JSON.stringify(l).includes(API_HOST) && l.event !== "blocked"), "pipelock logged the tunnel to the upstream");
  });

  it("serves bursts of concurrent requests through pipelock with no 502: few tunnels, no rate-limit block", async function () {
    this.timeout(180_000);
    const logsBefore = (await jsonLines(pipelock)).length;
    const statuses: string[] = [];
    // 3 bursts of 120 concurrent requests from inside the agent, as parallel tool calls would
    // send, 4.5 s apart (the real run that found the 502s): longer than the proxy keeps an unused
    // tunnel, so every burst opens tunnels again. The gap shapes the load; it synchronises nothing.
    for (let burst = 0; burst < 3; burst++) {
      if (burst > 0) await new Promise((resolve) => setTimeout(resolve, 4_500));
      const script = `i=0; while [ $i -lt 120 ]; do curl -s -o /dev/null -w '%{http_code}\\n' --max-time 60 https://${API_HOST}/allowed/burst-${burst} & i=$((i+1)); done; wait`;
      const r = await docker(["exec", agent, "sh", "-c", script], { timeoutMs: 90_000 });
      statuses.push(...r.stdout.split("\n").filter(Boolean));
    }
    const counts = statuses.reduce<Record<string, number>>((m, st) => ({ ...m, [st]: (m[st] ?? 0) + 1 }), {});
    assert.deepEqual(counts, { "200": 360 }, "every request of every burst answered 200");
    const lines = (await jsonLines(pipelock)).slice(logsBefore);
    const opened = lines.filter((l) => l.event === "tunnel_open" && JSON.stringify(l).includes(API_HOST)).length;
    const rateLimited = lines.filter((l) => JSON.stringify(l).includes("ratelimit")).length;
    console.log(`      pipelock: ${opened} tunnels opened for 360 requests, ${rateLimited} rate-limit blocks`);
    assert.equal(rateLimited, 0, "pipelock refused tunnels for the rate limit");
    // the proxy keeps at most 32 tunnels per origin; the origin may close some between bursts
    assert.ok(opened > 0 && opened <= 96, `pipelock opened ${opened} tunnels for 360 requests`);
  });

  it("answers 502 when pipelock refuses a routed host (SSRF: private address, not trusted)", async () => {
    const before = (await upstreamRequests(sc())).length;
    const r = await agentCurl(agent, `https://${REFUSED_BY_HOP_HOST}/x`);
    assert.equal(r.status, 502, `the proxy answered ${JSON.stringify(r.body.trim())}`);
    assert.ok((await jsonLines(pipelock)).some((l) => l.event === "blocked" && JSON.stringify(l).includes(REFUSED_BY_HOP_HOST)), "pipelock logged the block");
    assert.equal((await upstreamRequests(sc())).length, before, "upstream saw nothing");
  });

  it("tears down every container and network of the bottle, and keeps its workspace volume", async () => {
    await api("POST", `/networks/${encodeURIComponent(outboundNet)}/disconnect`, { Container: sc().upstream, Force: true });
    await sc().mocks.destroy();
    destroyed = true;
    const label = `bot-bottle.bottle=${sc().bottle}`;
    for (const kind of ["container", "network"] as const) {
      assert.deepEqual(await idsByLabel(kind, label), [], `${kind}s left`);
    }
    // retain_on_destroy defaults to true; the test removes what destroy kept
    assert.deepEqual(await idsByLabel("volume", label), [`bb-${sc().bottle}-workspace`]);
    await api("DELETE", `/volumes/${encodeURIComponent(`bb-${sc().bottle}-workspace`)}`);
    assert.deepEqual(await idsByLabel("volume", label), []);
  });
});

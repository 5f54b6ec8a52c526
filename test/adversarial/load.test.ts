/**
 * Load: 200 concurrent agents (each with its own kept-alive intercepted tunnel, plus fresh
 * connections for the requests that must be refused) against the real proxy, mixed allowed and
 * denied traffic; zero wrong verdicts, zero errors, no crash, bounded memory, peak RSS reported.
 *
 * `npm test` runs it for 5 s. The soak run is 60 s:
 *   BOT_BOTTLE_SOAK=1 npx mocha --no-config -r ts-node/register/transpile-only --extension ts --timeout 300000 test/adversarial/load.test.ts
 */
import assert from "node:assert/strict";
import { proxyOutput } from "../helpers/proxy-fixture";
import { FAKE_TOKENS } from "../helpers/fake-tokens";
import { openFds, rssMb, type AdversarialFixture, useCorpusFixture } from "./lib/adversarial-fixture";
import { runAgent, summarise, type TrafficStats } from "./lib/traffic";

const SOAK = process.env.BOT_BOTTLE_SOAK === "1";
const DURATION_MS = Number(process.env.BOT_BOTTLE_LOAD_MS ?? (SOAK ? 60_000 : 5_000));
const AGENTS = Number(process.env.BOT_BOTTLE_LOAD_AGENTS ?? "200");
/** The proxy's resident memory must stay under this (streaming test measured ~150 MB for 1 GiB). */
const RSS_LIMIT_MB = 400;

describe(`adversarial: load, ${AGENTS} concurrent agents for ${DURATION_MS / 1000} s`, function () {
  this.timeout(DURATION_MS + 120_000);
  let f: AdversarialFixture;
  useCorpusFixture((started) => (f = started));

  it("gives every request its verdict under mixed load, without errors, crash or unbounded memory", async () => {
    const pid = f.proxy.child.pid ?? 0;
    const fdsBefore = openFds(pid) ?? 0;
    const seenBefore = f.seen.length;
    const stats: TrafficStats = { outcomes: [], wrong: [] };
    const started = Date.now();
    const end = started + DURATION_MS;
    let peakRss = 0;
    let peakFds = 0;
    const timeline: number[] = [];
    // Sampling, not synchronisation: the agents run on their own deadline.
    const sampler = setInterval(() => {
      const rss = rssMb(pid).rss;
      peakRss = Math.max(peakRss, rss);
      peakFds = Math.max(peakFds, openFds(pid) ?? 0);
      const quarter = Math.floor(((Date.now() - started) / DURATION_MS) * 4);
      if (quarter < 4 && timeline[quarter] === undefined) timeline[quarter] = Math.round(rss);
    }, 250);
    try {
      await Promise.all(
        Array.from({ length: AGENTS }, (_, id) =>
          runAgent(id, { proxyPort: f.proxy.port, ca: f.bottleCa.cert, until: () => Date.now() > end, stats, expectHealthy: () => true }),
        ),
      );
    } finally {
      clearInterval(sampler);
    }
    const elapsed = (Date.now() - started) / 1000;
    const hwm = rssMb(pid).peak;
    const latencies = stats.outcomes.map((o) => o.ms).sort((a, b) => a - b);
    const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
    const summary = summarise(stats.outcomes);
    console.log(
      `      ${stats.outcomes.length} requests in ${elapsed.toFixed(1)} s (${(stats.outcomes.length / elapsed).toFixed(0)}/s) from ${AGENTS} agents; ` +
        `wrong verdicts ${stats.wrong.length}; latency p50 ${p(0.5)} ms p99 ${p(0.99)} ms max ${p(1)} ms; ` +
        `proxy RSS peak ${hwm.toFixed(0)} MB (sampled ${peakRss.toFixed(0)} MB; at each quarter ${timeline.join(", ")} MB); descriptors peak ${peakFds}\n      ${JSON.stringify(summary)}`,
    );

    if (stats.wrong.length > 0) {
      const errors = f.proxy.events("decision").filter((d) => d.verdict === "error");
      console.log(`      wrong verdicts: ${JSON.stringify(stats.wrong.slice(0, 3))}; proxy error lines: ${JSON.stringify(errors.slice(0, 3))}; stderr: ${f.proxy.stderr.slice(-5).join(" | ")}`);
    }
    assert.equal(f.proxy.child.exitCode, null, "the proxy crashed under load");
    assert.deepEqual(stats.wrong.slice(0, 5), [], `${stats.wrong.length} wrong verdicts`);
    assert.ok(stats.outcomes.length > AGENTS, "the agents made too few requests");
    assert.ok(hwm < RSS_LIMIT_MB, `proxy peak RSS ${hwm.toFixed(0)} MB >= ${RSS_LIMIT_MB} MB`);
    assert.ok(peakFds >= Math.min(AGENTS, 100) + fdsBefore, `expected the ${AGENTS} agents' connections to be open at once (peak ${peakFds} descriptors)`);

    // Exactly the allowed requests reached the upstream, each once; no refused one did.
    const allowed = stats.outcomes.filter((o) => o.status === 200).length;
    const seen = f.seen.slice(seenBefore);
    assert.equal(seen.length, allowed, "upstream request count differs from the allowed responses");
    assert.ok(seen.every((s) => s.path.startsWith("/repos/acme/widget/issues") || s.path === "/load"), "a refused path reached the upstream");
    const out = proxyOutput(f);
    for (const t of Object.values(FAKE_TOKENS)) assert.ok(!out.includes(t));
  });
});

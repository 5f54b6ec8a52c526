/**
 * The audit log tells the truth: for every corpus request that reached the policy, exactly one
 * decision line, whose status is the status the agent saw, whose verdict matches (allow for a
 * forward, deny with the same reason as the denial header, error for a 502), and which holds
 * no query string. Requests the HTTP parser refused never reach the policy and log nothing.
 */
import assert from "node:assert/strict";
import { pollUntil } from "../helpers/deadline";
import { type AdversarialFixture, useCorpusFixture } from "./lib/adversarial-fixture";
import { loadCorpus } from "./lib/corpus";
import { classifiedExchange, openTransport, renderRequest } from "./lib/transports";

describe("adversarial: one truthful decision line per request", function () {
  this.timeout(60_000);
  let f: AdversarialFixture;
  useCorpusFixture((started) => (f = started));

  /**
   * Send a case on a fresh connection, then a probe whose own (denied) line proves that the log
   * has caught up: the proxy writes lines once per event-loop turn, so they may trail the reply.
   * Returns the case's lines, those logged between the two.
   */
  const PROBE_PATH = "/audit-log-probe";
  async function runLogged(c: (typeof cases)[number]) {
    const before = f.proxy.events("decision").length;
    const socket = await openTransport(c.request, c.transport, f.proxy.port, f.bottleCa.cert);
    const x = await classifiedExchange(socket, renderRequest(c.request, c.transport, c.id), 8000);
    socket.destroy();
    const probe = await openTransport({ host: "evil.test" }, "http-absolute", f.proxy.port, f.bottleCa.cert);
    await classifiedExchange(probe, `GET http://evil.test${PROBE_PATH} HTTP/1.1\r\nHost: evil.test\r\n\r\n`);
    probe.destroy();
    const lines = await pollUntil(`${c.id}: the probe's line`, () => {
      const now = f.proxy.events("decision").slice(before);
      const at = now.findIndex((l) => l.host === "evil.test" && l.path === PROBE_PATH);
      return at === -1 ? undefined : now.slice(0, at);
    });
    return { x, lines };
  }

  const cases = loadCorpus().filter((c) => !c.knownBypass && c.routes === "corpus");

  it(`logs each policy verdict of the ${cases.length} corpus requests as the agent saw it`, async () => {
    const mismatches: string[] = [];
    let checked = 0;
    for (const c of cases) {
      if (c.expect.verdict === "refused") continue; // parser refusals and fallthroughs: see below
      const before = f.proxy.events("decision").length;
      const socket = await openTransport(c.request, c.transport, f.proxy.port, f.bottleCa.cert);
      const x = await classifiedExchange(socket, renderRequest(c.request, c.transport, c.id), 8000);
      socket.destroy();
      const lines = await pollUntil(`${c.id}: its decision line`, () => {
        const now = f.proxy.events("decision").slice(before);
        return now.length >= 1 ? now : undefined;
      }, 5000);
      checked++;
      const line = lines[0];
      assert.ok(line, `${c.id}: no decision line`);
      const expectedVerdict = x.layer === "proxy" ? "deny" : x.status === 502 ? "error" : "allow";
      const problems = [
        lines.length !== 1 && `${lines.length} lines`,
        line.verdict !== expectedVerdict && `verdict ${String(line.verdict)} (agent saw ${x.status} ${x.layer})`,
        x.layer === "proxy" && line.reason !== x.denial && `reason ${String(line.reason)} vs header ${x.denial}`,
        // WebSocket decisions are logged at admission; an allowed upgrade has no status yet.
        !(x.status === 101 && line.status === null) && line.status !== x.status && `status ${String(line.status)} vs ${x.status}`,
        String(line.path).includes("?") && "query string logged",
      ].filter(Boolean);
      if (problems.length) mismatches.push(`${c.id}: ${problems.join(", ")}`);
    }
    assert.ok(checked > 250, `only ${checked} cases checked`);
    assert.deepEqual(mismatches, []);
  });

  it("never logs a request the HTTP layer refused as allowed", async () => {
    // Cases marked forwardProxyContact "tolerated" are the exception: the policy allowed the head
    // before the parser refused the body framing, and the line says so.
    const refused = cases.filter((k) => k.expect.verdict === "refused" && k.expect.layer === "parser" && k.expect.forwardProxyContact === undefined);
    assert.ok(refused.length > 20);
    for (const c of refused) {
      const { x, lines } = await runLogged(c);
      assert.equal(x.layer, "parser", c.id);
      for (const l of lines) assert.notEqual(l.verdict, "allow", `${c.id} was logged as allowed`);
    }
  });

  // Requests mockttp cannot pre-process used to be answered outside the rules (connect's 404
  // page echoing method and path, or mockttp's bare 400) and logged as status 200.
  it("a request mockttp cannot pre-process gets a 400, never connect's 404 page, and a decision line with the status sent", async () => {
    for (const c of cases.filter((k) => k.expect.verdict === "refused")) {
      const { x, lines } = await runLogged(c);
      assert.notEqual(x.layer, "fallthrough", `${c.id}: answered by connect's 404 page`);
      const line = lines[0];
      if (line) assert.equal(line.status, x.status, `${c.id}: logged ${String(line.status)}, sent ${x.status}`);
    }
  });
});

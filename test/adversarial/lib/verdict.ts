/**
 * Run one corpus case against the live proxy and check its verdict, including the parts a status
 * code alone does not show: what reached the forward proxy (pipelock) and the upstream, which
 * credential the upstream saw, and that a refusal echoes nothing the agent sent.
 */
import assert from "node:assert/strict";
import { FAKE_TOKENS } from "../../helpers/fake-tokens";
import type { AdversarialFixture, SeenRequest } from "./adversarial-fixture";
import type { CorpusCase } from "./corpus";
import { authorityOf, classifiedExchange, openTransport, renderRequest, type Exchange } from "./transports";

/** Agent-sent credentials in the corpus carry this marker; it must never reach the upstream. */
export const AGENT_CREDENTIAL_MARKER = "agent-cred";

export interface CaseOutcome {
  exchange: Exchange;
  /** CONNECTs the forward proxy saw before the case (tunnels the proxy may still keep open). */
  forwardEarlier: string[];
  forwardTargets: string[];
  upstream: SeenRequest[];
}

/** Send the case's request on a fresh connection and collect what happened on every side. */
export async function runCase(f: AdversarialFixture, c: CorpusCase): Promise<CaseOutcome> {
  const forwardBefore = f.forward.targets.length;
  const seenBefore = f.seen.length;
  const wsBefore = f.seenWebSockets.length;
  const socket = await openTransport(c.request, c.transport, f.proxy.port, f.bottleCa.cert);
  try {
    const x = await classifiedExchange(socket, renderRequest(c.request, c.transport, c.id), 8000);
    return {
      exchange: x,
      forwardEarlier: f.forward.targets.slice(0, forwardBefore),
      forwardTargets: f.forward.targets.slice(forwardBefore),
      upstream: [...f.seen.slice(seenBefore), ...f.seenWebSockets.slice(wsBefore)],
    };
  } finally {
    socket.destroy();
  }
}

const CREDENTIAL_HEADERS = /^(authorization|proxy-authorization|x-api-key)$/i;

/** Assert the outcome matches the case's expectation; the message names the case and what was seen. */
export function checkOutcome(c: CorpusCase, o: CaseOutcome): void {
  const x = o.exchange;
  const seen = `got ${x.status} (${x.layer}${x.denial ? `: ${x.denial}` : ""}), forward proxy saw [${o.forwardTargets.join(", ")}], upstream saw [${o.upstream.map((u) => `${u.method} ${u.path}`).join(", ")}]`;
  const everything = `${x.head}\r\n\r\n${x.body}`;
  for (const token of Object.values(FAKE_TOKENS)) assert.ok(!everything.includes(token), `${c.id}: a token reached the agent; ${seen}`);
  const e = c.expect;

  if (e.verdict === "forwarded") {
    assert.equal(x.status, e.status ?? 200, `${c.id}: expected forwarding; ${seen}; body ${x.body.slice(0, 200)}`);
    assert.equal(x.layer, "upstream", seen);
    const mine = o.upstream.filter((u) => u.probe === c.id);
    assert.equal(mine.length, 1, `${c.id}: upstream must see the request exactly once; ${seen}`);
    const up = mine[0];
    assert.ok(up, `${c.id}: upstream must see the request exactly once; ${seen}`);
    if (e.status !== 101) {
      assert.equal(up.path, e.path ?? c.request.target ?? "/", `${c.id}: path upstream`);
      assert.equal(up.method, e.method ?? c.request.method ?? "GET", `${c.id}: method upstream`);
    }
    checkCredential(c, up);
    // The proxy keeps upstream tunnels alive and reuses them for the same canonical host and
    // port: a forwarded request opens at most one tunnel, to exactly that destination, or rides
    // one an earlier request opened to it.
    const connect = e.connect ?? `${c.request.host}:${c.request.port ?? (c.transport === "https-intercepted" ? 443 : 80)}`;
    assert.ok(o.forwardTargets.length <= 1 && o.forwardTargets.every((t) => t === connect), `${c.id}: the forward proxy may see one CONNECT, to ${connect}; ${seen}`);
    if (o.forwardTargets.length === 0) assert.ok(o.forwardEarlier.includes(connect), `${c.id}: forwarded with no tunnel to ${connect}, new or earlier; ${seen}`);
    return;
  }

  // Refusals: nothing upstream, nothing echoed.
  assert.equal(o.upstream.length, 0, `${c.id}: a refused request reached the upstream; ${seen}`);
  const tolerated = e.verdict === "refused" && e.forwardProxyContact === "tolerated";
  if (!tolerated) assert.deepEqual(o.forwardTargets, [], `${c.id}: a refused request reached the forward proxy; ${seen}`);
  assert.ok(!everything.includes(c.id), `${c.id}: the refusal echoes the request (probe header found)`);
  assert.ok(!everything.includes(AGENT_CREDENTIAL_MARKER), `${c.id}: the refusal echoes an agent credential`);

  if (e.verdict === "denied") {
    assert.equal(x.layer, "proxy", `${c.id}: expected a policy denial (${e.status} ${e.reason}); ${seen}`);
    assert.equal(x.status, e.status, `${c.id}: status; ${seen}`);
    assert.equal(x.denial, e.reason, `${c.id}: reason; ${seen}`);
    if (x.body.length > 0) assert.deepEqual(JSON.parse(x.body), { error: "denied by egress proxy", reason: e.reason });
    return;
  }
  assert.equal(x.layer, e.layer, `${c.id}: expected a refusal by the ${e.layer} layer; ${seen}`);
  if (e.layer === "parser") assert.ok(x.status === 400 || x.status === 431, seen);
}

/** Exactly the route's credential upstream (never over plain HTTP), and none of the agent's. */
function checkCredential(c: CorpusCase, up: SeenRequest): void {
  const expected = c.expect.verdict === "forwarded" ? c.expect.credential : "none";
  // The proxy never injects over plain HTTP, whatever the route says.
  const credential = c.transport === "https-intercepted" ? expected : "none";
  const creds = up.rawHeaders.filter(([k]) => CREDENTIAL_HEADERS.test(k)).map(([k, v]) => `${k.toLowerCase()}: ${v}`);
  const want = credential === "github" ? [`authorization: Bearer ${FAKE_TOKENS.github}`] : credential === "anthropic" ? [`x-api-key: ${FAKE_TOKENS.anthropic}`] : [];
  assert.deepEqual(creds, want, `${c.id}: credential headers upstream`);
  for (const [k, v] of [...up.rawHeaders, ...up.rawTrailers]) {
    assert.ok(!`${k}: ${v}`.toLowerCase().includes(AGENT_CREDENTIAL_MARKER), `${c.id}: an agent credential reached the upstream in ${k}`);
  }
}

/** A one-line description of where a case goes, for test titles. */
export function describeCase(c: CorpusCase): string {
  const e = c.expect;
  const verdict = e.verdict === "denied" ? `${e.status} ${e.reason}` : e.verdict === "refused" ? `refused by ${e.layer}` : `forwarded (${e.credential === "none" ? "no credential" : `${e.credential} credential`})`;
  return `${c.id} [${c.transport} ${authorityOf(c.request, c.transport)}] ${c.name}: ${verdict}`;
}

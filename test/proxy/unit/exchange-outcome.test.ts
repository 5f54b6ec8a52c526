/**
 * The one function that turns what the request path learnt into an audit line: which finding
 * names the verdict and the reason, as a table, and the reasons a line can give as a closed set.
 */
import assert from "node:assert/strict";
import { OUTCOME_REASONS, type AuditRecord } from "../../../proxy/src/audit/audit-log";
import { DENY_REASONS } from "../../../proxy/src/route/decide";
import { exchangeOutcome, type ExchangeEnd, type ExchangeFindings } from "../../../proxy/src/audit/exchange-outcome";

const allowed: AuditRecord = { bottle: "b", method: "POST", host: "api.example.test", path: "/v1", route: 0, verdict: "allow", reason: "route matched", status: null, bytes: null, duration_ms: null };
const denied: AuditRecord = { ...allowed, route: null, verdict: "deny", reason: "path not allowed" };
const answered: ExchangeEnd = { status: 200, bytes: 12, durationMs: 3.14159 };
const blockedSecret = { action: "blocked" as const, rule: "github-token", where: "body@10" };
const loggedSecret = { action: "logged" as const, rule: "github-token", where: "body@10" };
const placeholder = { route: 1, where: "body@4" };
const tokenEcho: NonNullable<ExchangeFindings["echo"]> = { action: "blocked", found: [{ route: 0, token_env: "EGRESS_PROXY_TOKEN_1", where: "body", encoding: "raw" }], count: 1 };
const injection = { action: "blocked" as const, rule: "ignore-previous" };

describe("exchange outcome: one line from all that was found", () => {
  const cases: [string, AuditRecord, ExchangeFindings, ExchangeEnd, AuditRecord["verdict"], AuditRecord["reason"]][] = [
    ["an allowed exchange answered", allowed, {}, answered, "allow", "route matched"],
    ["a refusal keeps its reason", denied, {}, { status: 403, bytes: 0, durationMs: 1 }, "deny", "path not allowed"],
    ["a logged secret changes nothing", allowed, { body: loggedSecret }, answered, "allow", "route matched"],
    ["a blocked secret in the body is a denial", allowed, { body: blockedSecret }, answered, "deny", "secret in request"],
    ["a placeholder outranks a secret", allowed, { body: blockedSecret, placeholder }, answered, "deny", "credential placeholder outside its route"],
    ["the upstream failing outranks what the body held", allowed, { placeholder }, { ...answered, status: 502, upstreamFailure: "unreachable" }, "error", "upstream unreachable"],
    ["the upstream proxy refusing", allowed, {}, { ...answered, status: 502, upstreamFailure: "refused" }, "error", "upstream proxy refused"],
    ["the proxy's own failure", allowed, { internal: true }, answered, "error", "internal error"],
    ["a secret found before the failure still names the line", allowed, { internal: true, body: blockedSecret }, answered, "deny", "secret in request"],
    ["the agent leaving an allowed exchange", allowed, {}, { ...answered, aborted: true }, "allow", "aborted"],
    ["the agent leaving a refusal", denied, {}, { ...answered, aborted: true }, "deny", "path not allowed"],
    ["an answer blocked for a token keeps the verdict", allowed, { echo: tokenEcho }, answered, "allow", "answer blocked: it carried a token or could not be searched"],
    ["an injection outranks a token", allowed, { echo: tokenEcho, injection }, answered, "allow", "answer blocked: prompt injection"],
  ];
  for (const [what, decided, found, end, verdict, reason] of cases) {
    it(what, () => {
      const line = exchangeOutcome(decided, found, end);
      assert.equal(line.verdict, verdict);
      assert.equal(line.reason, reason);
      assert.equal(line.status, end.status);
      if (found.body) assert.deepEqual(line.dlp, found.body);
      if (found.placeholder) assert.deepEqual(line.placeholder, found.placeholder);
    });
  }

  it("rounds the duration and leaves the decided record as it was", () => {
    const decided = { ...allowed };
    const line = exchangeOutcome(decided, { body: blockedSecret }, answered);
    assert.equal(line.duration_ms, 3.14);
    assert.deepEqual(decided, allowed);
  });

  it("gives reasons from one closed set: the decision's refusals and the outcomes", () => {
    const all = new Set<string>([...Object.keys(DENY_REASONS), ...OUTCOME_REASONS]);
    for (const [, decided, found, end] of cases) assert.ok(all.has(exchangeOutcome(decided, found, end).reason));
    assert.equal(all.size, Object.keys(DENY_REASONS).length + OUTCOME_REASONS.length, "no reason is both a refusal and an outcome");
  });
});

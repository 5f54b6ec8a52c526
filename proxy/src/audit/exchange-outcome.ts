/**
 * How an exchange ended, from everything the request path learnt about it, as one audit record:
 * the decision, what request inspection and the placeholder canary found in the body, what the
 * answer carried (tokens, a prompt injection), and how the upstream and the agent behaved. One
 * pure function says which of these names the line's verdict and reason, so that the order of
 * precedence is written once and tested as a table. Pure.
 */
import type { AuditRecord, InjectionAudit } from "./audit-log";
import type { DlpAudit } from "../inspect/dlp-scan";
import type { EchoAudit } from "../echo/echo-ledger";
import type { PlaceholderAudit } from "../route/placeholder-canary";

/** What became of the answer (transport/response-observer.ts), and when the exchange ended. */
export interface ExchangeEnd {
  status: number | null;
  bytes: number | null;
  durationMs: number | null;
  /** The agent left before the answer was complete. */
  aborted?: boolean;
  /** The upstream could not be reached: refused by the upstream proxy, or unreachable. */
  upstreamFailure?: "refused" | "unreachable" | undefined;
}

/** What was found after the decision: each at most once, the first of its kind. */
export interface ExchangeFindings {
  /** A secret in the body (a finding in the head is already part of the decided record). */
  body?: DlpAudit;
  /** A placeholder in the body, which stopped it. */
  placeholder?: PlaceholderAudit;
  /** A prompt injection in the answer, on a route with `response_scan`. */
  injection?: InjectionAudit;
  /** Tokens found in the answer, or an answer that could not be searched. */
  echo?: EchoAudit;
  /** The proxy failed itself after the decision. */
  internal?: boolean;
}

/**
 * The line of one exchange: `decided` (the decision, with any finding in the head) and what
 * came after. Verdict and reason from the first that applies: the answer blocked (a prompt
 * injection, then a token: the verdict stays); the upstream failing; a placeholder in the body;
 * a secret in the body under `block`; the proxy's own failure; the agent leaving an allowed
 * exchange; the decision.
 */
export function exchangeOutcome(decided: AuditRecord, found: ExchangeFindings, end: ExchangeEnd): AuditRecord {
  let record: AuditRecord = { ...decided };
  if (found.body) record = { ...record, dlp: found.body };
  if (found.placeholder) record = { ...record, placeholder: found.placeholder };
  if (found.echo) record = { ...record, echo: found.echo };
  if (found.injection) record = { ...record, response_scan: found.injection };
  record = { ...record, status: end.status, bytes: end.bytes, duration_ms: end.durationMs === null ? null : Math.round(end.durationMs * 100) / 100 };
  return { ...record, ...verdictOf(decided, found, end) };
}

function verdictOf(decided: AuditRecord, found: ExchangeFindings, end: ExchangeEnd): Pick<AuditRecord, "verdict" | "reason"> {
  const verdict = refusalOf(decided, found, end);
  // the proxy cut or refused the answer itself: not the agent leaving, not the upstream failing
  if (found.injection?.action === "blocked") return { verdict: verdict.verdict, reason: "answer blocked: prompt injection" };
  if (found.echo?.action === "blocked") return { verdict: verdict.verdict, reason: "answer blocked: it carried a token or could not be searched" };
  return verdict;
}

function refusalOf(decided: AuditRecord, found: ExchangeFindings, end: ExchangeEnd): Pick<AuditRecord, "verdict" | "reason"> {
  const failure = end.upstreamFailure;
  if (failure) return { verdict: "error", reason: failure === "refused" ? "upstream proxy refused" : "upstream unreachable" };
  if (found.placeholder) return { verdict: "deny", reason: "credential placeholder outside its route" };
  if (found.body?.action === "blocked") return { verdict: "deny", reason: "secret in request" };
  if (found.internal) return { verdict: "error", reason: "internal error" };
  if (end.aborted && decided.verdict === "allow") return { verdict: "allow", reason: "aborted" };
  return { verdict: decided.verdict, reason: decided.reason };
}

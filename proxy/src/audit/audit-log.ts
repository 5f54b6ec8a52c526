/**
 * One canonical JSON line per decision, with constant field names (after smokescreen's
 * CANONICAL-PROXY-DECISION). Never a header value, never a token: only what is listed here.
 */
import type { Admission } from "../route/admission";
import type { DenyReason } from "../route/decide";
import type { DlpAudit } from "../inspect/dlp-scan";
import type { EchoAudit } from "../echo/echo-ledger";
import { PLACEHOLDER_DENIAL, type PlaceholderAudit } from "../route/placeholder-canary";

/** The reason of a line whose request went on, or failed for a reason of its own. */
export const OUTCOME_REASONS = [
  "route matched",
  "secret in request",
  "internal error",
  "upstream proxy refused",
  "upstream unreachable",
  "aborted",
  "answer blocked: it carried a token or could not be searched",
  "answer blocked: prompt injection",
] as const;

/** Every reason an audit line can give: a decision's refusal (decide.ts) or one of OUTCOME_REASONS. */
export type AuditReason = DenyReason | (typeof OUTCOME_REASONS)[number];

export interface AuditRecord {
  bottle: string;
  method: string;
  host: string;
  path: string;
  route: number | null;
  verdict: "allow" | "deny" | "error";
  reason: AuditReason;
  status: number | null;
  bytes: number | null;
  duration_ms: number | null;
  /** Present when the response carried one of the bottle's tokens (echo-ledger.ts). */
  echo?: EchoAudit;
  /** Present when request inspection found a secret: which rule, where, and whether it stopped the request. */
  dlp?: DlpAudit;
  /** Present when a route's response scan found a prompt injection in the answer. */
  response_scan?: InjectionAudit;
  /** Present when the request carried a route's placeholder out of place: whose, and where. */
  placeholder?: PlaceholderAudit;
}

/** A prompt-injection pattern in an answer, on a route with `response_scan`. */
export interface InjectionAudit {
  action: "blocked" | "logged";
  rule: string;
}

/** The record of a decision before its response is known. */
export function auditRecord(bottle: string, admission: Admission): AuditRecord {
  const d = admission.decision;
  return {
    bottle,
    method: admission.method,
    host: admission.host,
    path: admission.path,
    route: d.verdict === "allow" ? d.routeIndex : admission.matched ?? null,
    verdict: d.verdict,
    reason: d.verdict === "allow" ? "route matched" : d.reason,
    status: null,
    bytes: null,
    duration_ms: null,
    ...(admission.placeholder ? { placeholder: admission.placeholder } : {}),
  };
}

export type AuditSink = (line: string) => void;

/** Render a record as one JSON line (the path truncated). */
export function auditLine(record: AuditRecord, now: Date = new Date()): string {
  return JSON.stringify({
    time: now.toISOString(),
    event: "decision",
    ...record,
    path: shortPath(record.path),
  });
}

/** A token found in what a WebSocket's upstream sent, after the upgrade's own line was written. */
export function echoLine(exchange: Pick<AuditRecord, "bottle" | "method" | "host" | "path" | "route">, echo: EchoAudit, now: Date = new Date()): string {
  return JSON.stringify({ time: now.toISOString(), event: "echo", ...exchange, path: shortPath(exchange.path), echo });
}

/** A huge URL cannot flood the log. */
function shortPath(path: string): string {
  return path.length > 512 ? `${path.slice(0, 512)}...` : path;
}

/** A secret found in what the agent sent on a WebSocket, after the upgrade's own line was written. */
export function dlpLine(exchange: Pick<AuditRecord, "bottle" | "method" | "host" | "path" | "route">, dlp: DlpAudit, now: Date = new Date()): string {
  return JSON.stringify({ time: now.toISOString(), event: "dlp", ...exchange, path: shortPath(exchange.path), dlp });
}

/** A placeholder the agent sent on a WebSocket, after the upgrade's own line was written. */
export function placeholderLine(exchange: Pick<AuditRecord, "bottle" | "method" | "host" | "path" | "route">, placeholder: PlaceholderAudit, now: Date = new Date()): string {
  return JSON.stringify({ time: now.toISOString(), event: "placeholder", ...exchange, path: shortPath(exchange.path), reason: PLACEHOLDER_DENIAL, placeholder });
}

/** Operational events (start, reload, stop) in the same JSON-lines stream. */
export function eventLine(event: string, fields: Record<string, string | number | boolean>, now: Date = new Date()): string {
  return JSON.stringify({ time: now.toISOString(), event, ...fields });
}

/**
 * A sink that gathers the lines of one turn of the event loop into one write. Under load the
 * proxy decides many requests per turn, and a write to a pipe is a system call each (Node writes
 * pipes synchronously on Linux): per line it cost about a tenth of the proxy's time. Lines keep
 * their order; `flush` writes what is pending (on exit, so nothing is lost when the process ends).
 */
export function batchedSink(write: (chunk: string) => void, maxPending = 256): AuditSink & { flush(): void } {
  let pending: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const chunk = `${pending.join("\n")}\n`;
    pending = [];
    write(chunk);
  };
  const sink = (line: string) => {
    pending.push(line);
    if (pending.length >= maxPending) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  return Object.assign(sink, { flush });
}

/**
 * The request path of every plain HTTP request, inside a CONNECT tunnel or in absolute form.
 * mockttp terminates the agent's connections and TLS (leaf certificates from the bottle CA) and
 * Node parses each request; from there this module handles it whole: decide, refuse or forward,
 * and write one audit line. mockttp's own request pipeline (pre-processing, rule matching, its
 * passthrough step, response tracking) is not on this path: it cost about three quarters of the
 * proxy's time per request (bench/RESULTS.md), and it is the part whose defaults had to be
 * worked around one by one (design.md section 4).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { admit, type Admitted } from "../policy/admission";
import { auditRecord, type AuditRecord } from "../policy/audit-log";
import { holdWhileAnswering } from "./connection-limits";
import { DENY_REASONS } from "../policy/decide";
import { denialBody, denialHeaders } from "../policy/denial";
import { EchoLedger } from "../policy/echo-ledger";
import { forward } from "./forward";
import { closeIfBodyUnread, expectsContinue, formSource } from "./request-body";
import { httpRequestFacts, parseTarget } from "./request-facts";
import { watchResponse, type ResponseSummary } from "./response-observer";
import type { RouteTable } from "../policy/route-table";
import { searchableCodingsOnly, upstreamRequestHeaders } from "../policy/upstream-headers";
import type { UpstreamAgents } from "./upstream-agents";

export interface ExchangeContext {
  /** The route table in force (a reload swaps it; requests already admitted keep theirs). */
  table(): RouteTable;
  agents: UpstreamAgents;
  bottle: string;
  /** An upstream exchange with no traffic for this long is abandoned (502, or the stream cut). */
  idleTimeoutMs: number;
  log(record: AuditRecord): void;
}

/**
 * Handle one request. Never throws: a throw here would end the process, and every bottle's
 * egress. Every request gets exactly one audit line, an internal failure included.
 */
export function handleExchange(ctx: ExchangeContext, req: IncomingMessage, res: ServerResponse): void {
  try {
    exchange(ctx, req, res);
  } catch {
    // failed before the response was watched: nothing else will log this request
    ctx.log(internalError(ctx.bottle, req));
    res.destroy();
  }
}

function exchange(ctx: ExchangeContext, req: IncomingMessage, res: ServerResponse): void {
  res.sendDate = false;
  // Watched from the start, so that an agent leaving while its form body is read is logged too
  // (its line waits for the decision, or for the failure that replaces it).
  let record: AuditRecord | undefined;
  let early: ResponseSummary | undefined;
  // the table of the request's arrival: its tokens are the ones sent, and the ones looked for
  const table = ctx.table();
  const echo = table.echo && { policy: table.echo, ledger: new EchoLedger(table.echo.routeOf) };
  const log = (r: AuditRecord, s: ResponseSummary) => ctx.log(finalRecord(r, s, echo?.ledger));
  const watch = watchResponse(req, res, (s) => (record ? log(record, s) : (early = s)));
  const settle = (r: AuditRecord): boolean => {
    record = r;
    if (early) log(r, early);
    return early !== undefined;
  };
  // a throw before or after the decision: the line says so, with whatever was already known
  const fail = () => {
    const known = record ?? internalError(ctx.bottle, req);
    settle({ ...known, verdict: "error", reason: "internal error" });
    res.destroy();
  };

  try {
    const parsed = parseTarget(req.url ?? "");
    const facts = httpRequestFacts(req, parsed);
    const proceed = ({ admission, body }: Admitted) => {
      if (settle(auditRecord(ctx.bottle, admission))) return;
      const d = admission.decision;
      if (d.verdict === "deny") {
        closeIfBodyUnread(req, res);
        res.writeHead(DENY_REASONS[d.reason], denialHeaders(d.reason));
        res.end(denialBody(d.reason));
        return;
      }
      if (body === undefined && expectsContinue(req)) res.writeContinue();
      const release = holdWhileAnswering(req.socket, ctx.idleTimeoutMs);
      res.once("close", release);
      // The schema already forbids credentials on plain-HTTP routes; never in clear text regardless.
      const headers = upstreamRequestHeaders(req.rawHeaders, table.stripped, facts.scheme === "https" ? table.credentials[d.routeIndex] : undefined);
      forward({ req, res, watch, agents: ctx.agents, target: parsed.target, scheme: facts.scheme, host: d.host, port: d.port, body,
        idleTimeoutMs: ctx.idleTimeoutMs, echo, headers: echo ? searchableCodingsOnly(headers) : headers });
    };
    const result = admit(facts, table, formSource(req, res));
    if (result instanceof Promise) result.then(proceed).catch(fail);
    else proceed(result);
  } catch {
    fail();
  }
}

/** The line of a request the proxy failed itself: no decision was reached, or acting on it threw. */
function internalError(bottle: string, req: IncomingMessage): AuditRecord {
  return { bottle, method: (req.method ?? "").slice(0, 32), host: "", path: "", route: null, verdict: "error", reason: "internal error", status: null, bytes: null, duration_ms: null };
}

function finalRecord(record: AuditRecord, s: ResponseSummary, ledger: EchoLedger | undefined): AuditRecord {
  const failure = s.upstreamFailure;
  const echo = ledger?.audit();
  return {
    ...record,
    ...(echo ? { echo } : {}),
    ...(failure ? { verdict: "error", reason: failure === "refused" ? "upstream proxy refused" : "upstream unreachable" } : {}),
    ...(s.aborted && !failure && record.verdict === "allow" ? { reason: "aborted" } : {}),
    // the proxy cut or refused the answer itself: not the agent leaving, not the upstream failing
    ...(echo?.action === "blocked" ? { reason: "answer blocked: it carried a token or could not be searched" } : {}),
    status: s.status,
    bytes: s.bytes,
    duration_ms: Math.round(s.durationMs * 100) / 100,
  };
}

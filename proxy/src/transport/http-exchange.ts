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
import { admit, isStrippedHeader, withPlaceholder, type Admitted } from "../route/admission";
import { auditRecord, type AuditRecord, type DlpAudit, type InjectionAudit } from "../audit/audit-log";
import { exchangeOutcome, type ExchangeFindings } from "../audit/exchange-outcome";
import { promptInjectionIn } from "../echo/prompt-injection";
import { DLP_DENIAL, dlpAudit, dlpDenialReason, inspectHead, type DlpFinding } from "../inspect/dlp-scan";
import { DlpStream } from "../inspect/dlp-stream";
import { holdWhileAnswering } from "./connection-limits";
import type { ConnectionView } from "./connection-view";
import { DENY_REASONS } from "../route/decide";
import { EchoLedger } from "../echo/echo-ledger";
import { PLACEHOLDER_DENIAL, type PlaceholderAudit } from "../route/placeholder-canary";
import { forward } from "./forward";
import { announcesBody, answerDenial, expectsContinue, formSource, inflateRequestBody, MAX_COMPRESSED_REQUEST, requestCoding } from "./request-body";
import { httpRequestFacts, parseTarget } from "./request-facts";
import { watchResponse, type ResponseSummary } from "./response-observer";
import type { RouteTable } from "../route/route-table";
import { identityOnly, searchableCodingsOnly, upstreamRequestHeaders } from "../route/upstream-headers";
import type { UpstreamAgents } from "./upstream-agents";

export interface ExchangeContext {
  /** The route table in force (a reload swaps it; requests already admitted keep theirs). */
  table(): RouteTable;
  agents: UpstreamAgents;
  bottle: string;
  /** An upstream exchange with no traffic for this long is abandoned (502, or the stream cut). */
  idleTimeoutMs: number;
  /** What the library recorded about each agent connection (mockttp/internals.ts). */
  connections: ConnectionView;
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
  // a secret found in the body, after the line's decision was settled
  let inBody: DlpAudit | undefined;
  // a prompt injection found in the answer (a route's response_scan)
  let injected: InjectionAudit | undefined;
  // a placeholder found in the body, which stopped it
  let placed: PlaceholderAudit | undefined;
  // the proxy's own failure, after the decision
  let internal = false;
  const log = (r: AuditRecord, s: ResponseSummary) => {
    const echoed = echo?.ledger.audit();
    const found: ExchangeFindings = { internal, ...(inBody ? { body: inBody } : {}), ...(placed ? { placeholder: placed } : {}), ...(injected ? { injection: injected } : {}), ...(echoed ? { echo: echoed } : {}) };
    ctx.log(exchangeOutcome(r, found, { status: s.status, bytes: s.bytes, durationMs: s.durationMs, aborted: s.aborted, ...(s.upstreamFailure ? { upstreamFailure: s.upstreamFailure } : {}) }));
  };
  const watch = watchResponse(req, res, (s) => (record ? log(record, s) : (early = s)));
  const settle = (r: AuditRecord): boolean => {
    record = r;
    if (early) log(r, early);
    return early !== undefined;
  };
  // a throw before or after the decision: the line says so, with whatever was already known
  const fail = () => {
    internal = true;
    settle(record ?? internalError(ctx.bottle, req));
    res.destroy();
  };

  try {
    const parsed = parseTarget(req.url ?? "");
    const facts = httpRequestFacts(req, parsed, ctx.connections.facts(req.socket));
    /** The route's request inspection, unless the request is denied or the route inspects nothing. */
    const inspectorOf = (d: Admitted["admission"]["decision"]) => {
      const scanner = d.verdict === "allow" ? table.dlp[d.routeIndex] : undefined;
      return scanner && scanner.mode !== "off" ? scanner : undefined;
    };
    const proceed = ({ admission, body }: Admitted) => {
      const d = admission.decision;
      const inspecting = inspectorOf(d);
      // before anything leaves: the target and the headers the agent wrote
      const secret = inspecting && inspectHead(inspecting, parsed.target, req.rawHeaders, (name) => isStrippedHeader(name, table.stripped));
      const found = secret && inspecting ? dlpAudit(inspecting.mode, secret) : undefined;
      const decided = auditRecord(ctx.bottle, admission);
      if (settle(found ? withHeadDlp(decided, found) : decided)) return;
      if (d.verdict === "deny") return answerDenial(req, res, DENY_REASONS[d.reason], d.reason);
      if (found?.action === "blocked") return answerDenial(req, res, 403, dlpDenialReason(found));
      if (body === undefined && expectsContinue(req)) res.writeContinue();
      const release = holdWhileAnswering(ctx.connections.tunnelChain(req.socket), ctx.idleTimeoutMs);
      res.once("close", release);
      // The schema already forbids credentials on plain-HTTP routes; never in clear text regardless.
      const headers = upstreamRequestHeaders(req.rawHeaders, table.stripped, facts.scheme === "https" ? table.credentials[d.routeIndex] : undefined);
      const dlp = inspecting && {
        scanner: inspecting,
        found: (finding: DlpFinding) => {
          inBody ??= dlpAudit(inspecting.mode, finding);
        },
      };
      const scan = table.routes[d.routeIndex]?.response_scan ?? "off";
      const injection = scan === "off" ? undefined : {
        found: (text: string) => {
          const rule = promptInjectionIn(text);
          if (rule === undefined) return false;
          injected ??= { action: scan === "block" ? "blocked" : "logged", rule };
          return scan === "block";
        },
      };
      const canary = table.canaries && {
        canaries: table.canaries,
        found: (placeholder: PlaceholderAudit) => {
          placed ??= placeholder;
        },
      };
      forward({ req, res, watch, agents: ctx.agents, target: parsed.target, scheme: facts.scheme, host: d.host, port: d.port, body,
        idleTimeoutMs: ctx.idleTimeoutMs, echo, dlp, injection, canary,
        headers: injection ? identityOnly(headers) : echo ? searchableCodingsOnly(headers) : headers });
    };
    /**
     * A compressed body is read and searched whole before the rest (request-body.ts): on an
     * inspecting route, and for placeholders on any route when its length says it fits the bound.
     * On a route that inspects nothing, one that cannot be read or inflated goes unsearched.
     */
    const inspectCompressed = (admitted: Admitted) => {
      const d = admitted.admission.decision;
      const scanner = inspectorOf(d);
      const canaries = d.verdict === "allow" ? table.canaries : undefined;
      const coding = requestCoding(req);
      const fits = Number(req.headers["content-length"] ?? Infinity) <= MAX_COMPRESSED_REQUEST;
      if ((!scanner && !(canaries && fits)) || coding === undefined || admitted.body !== undefined || !announcesBody(req)) return proceed(admitted);
      void formSource(req, res).read(MAX_COMPRESSED_REQUEST).then((body) => {
        const inflated = body && coding !== "other" ? inflateRequestBody(body, coding) : undefined;
        const placeholder = inflated && canaries?.inBytes(inflated, "body");
        if (placeholder) {
          settle(auditRecord(ctx.bottle, withPlaceholder(admitted.admission, placeholder)));
          return answerDenial(req, res, 403, PLACEHOLDER_DENIAL);
        }
        if (!scanner) return proceed({ admission: admitted.admission, body });
        const finding = inflated === undefined ? { rule: "uninspectable", where: "body" } : DlpStream.scanAll(scanner, inflated);
        if (finding) {
          inBody = dlpAudit(scanner.mode, finding);
          if (inBody.action === "blocked") {
            settle(auditRecord(ctx.bottle, admitted.admission));
            return answerDenial(req, res, 403, dlpDenialReason(finding));
          }
        }
        proceed({ admission: admitted.admission, body });
      }).catch(fail);
    };
    /** Before anything else is read: a placeholder in the target or a header refuses the request (route/placeholder-canary.ts). */
    const checkHead = (admitted: Admitted) => {
      const d = admitted.admission.decision;
      // the target as sent: an absolute-form URL with its userinfo, not only the path the policy reads
      const found = table.canaries?.inHead(d.verdict === "allow" ? d.routeIndex : undefined, req.url ?? parsed.target, req.rawHeaders);
      inspectCompressed(found ? { ...admitted, admission: withPlaceholder(admitted.admission, found) } : admitted);
    };
    const result = admit(facts, table, formSource(req, res));
    if (result instanceof Promise) result.then(checkHead).catch(fail);
    else checkHead(result);
  } catch {
    fail();
  }
}

/** A record with what request inspection found in the head; a blocked request is a denial. */
function withHeadDlp(record: AuditRecord, dlp: DlpAudit): AuditRecord {
  return { ...record, dlp, ...(dlp.action === "blocked" ? { verdict: "deny", reason: DLP_DENIAL } : {}) };
}

/** The line of a request the proxy failed itself: no decision was reached, or acting on it threw. */
function internalError(bottle: string, req: IncomingMessage): AuditRecord {
  return { bottle, method: (req.method ?? "").slice(0, 32), host: "", path: "", route: null, verdict: "error", reason: "internal error", status: null, bytes: null, duration_ms: null };
}

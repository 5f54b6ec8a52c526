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
import { auditRecord, type AuditRecord } from "../audit/audit-log";
import { exchangeOutcome, type ExchangeFindings } from "../audit/exchange-outcome";
import { promptInjectionIn } from "../echo/prompt-injection";
import { DLP_DENIAL, dlpAudit, dlpDenialReason, inspectHead, type DlpAudit, type DlpFinding } from "../inspect/dlp-scan";
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
    new Exchange(ctx, req, res).start();
  } catch {
    // failed before the response was watched: nothing else will log this request
    ctx.log(internalError(ctx.bottle, req));
    res.destroy();
  }
}

/**
 * One request, in the order its steps run: `start` (watch the answer, parse, admit), `checkHead`
 * (placeholders in the target and headers), `inspectCompressed` (a compressed body read whole),
 * `proceed` (the head's inspection, a refusal or the forward). The line is written once, by
 * `settle` and the answer's end together, from what the steps found (audit/exchange-outcome.ts).
 */
class Exchange {
  /** The table of the request's arrival: its tokens are the ones sent, and the ones looked for. */
  readonly #table: RouteTable;
  readonly #echo: { policy: NonNullable<RouteTable["echo"]>; ledger: EchoLedger } | undefined;
  /** The decided record, once the decision is made. */
  #record: AuditRecord | undefined;
  /** The answer's end, when it came before the decision (the agent left while its body was read). */
  #early: ResponseSummary | undefined;
  /** What was found after the decision, each the first of its kind. */
  readonly #found: ExchangeFindings = {};
  readonly #watch: ReturnType<typeof watchResponse>;

  constructor(private readonly ctx: ExchangeContext, private readonly req: IncomingMessage, private readonly res: ServerResponse) {
    this.#table = ctx.table();
    this.#echo = this.#table.echo && { policy: this.#table.echo, ledger: new EchoLedger(this.#table.echo.routeOf) };
    res.sendDate = false;
    // Watched from the start, so that an agent leaving while its form body is read is logged too
    // (its line waits for the decision, or for the failure that replaces it).
    this.#watch = watchResponse(req, res, (s) => (this.#record ? this.#log(this.#record, s) : (this.#early = s)));
  }

  start(): void {
    const { req, res } = this;
    try {
      const parsed = parseTarget(req.url ?? "");
      const facts = httpRequestFacts(req, parsed, this.ctx.connections.facts(req.socket));
      const steps = { parsed, scheme: facts.scheme };
      const result = admit(facts, this.#table, formSource(req, res));
      if (result instanceof Promise) result.then((admitted) => this.#checkHead(admitted, steps)).catch(() => this.#fail());
      else this.#checkHead(result, steps);
    } catch {
      this.#fail();
    }
  }

  /** Before anything else is read: a placeholder in the target or a header refuses the request (route/placeholder-canary.ts). */
  #checkHead(admitted: Admitted, steps: Steps): void {
    const d = admitted.admission.decision;
    // the target as sent: an absolute-form URL with its userinfo, not only the path the policy reads
    const found = this.#table.canaries?.inHead(d.verdict === "allow" ? d.routeIndex : undefined, this.req.url ?? steps.parsed.target, this.req.rawHeaders);
    this.#inspectCompressed(found ? { ...admitted, admission: withPlaceholder(admitted.admission, found) } : admitted, steps);
  }

  /**
   * A compressed body is read and searched whole before the rest (request-body.ts): on an
   * inspecting route, and for placeholders on any route when its length says it fits the bound.
   * On a route that inspects nothing, one that cannot be read or inflated goes unsearched.
   */
  #inspectCompressed(admitted: Admitted, steps: Steps): void {
    const { req, res } = this;
    const d = admitted.admission.decision;
    const scanner = this.#inspectorOf(d);
    const canaries = d.verdict === "allow" ? this.#table.canaries : undefined;
    const coding = requestCoding(req);
    const fits = Number(req.headers["content-length"] ?? Infinity) <= MAX_COMPRESSED_REQUEST;
    if ((!scanner && !(canaries && fits)) || coding === undefined || admitted.body !== undefined || !announcesBody(req)) return this.#proceed(admitted, steps);
    void formSource(req, res).read(MAX_COMPRESSED_REQUEST).then((body) => {
      const inflated = body && coding !== "other" ? inflateRequestBody(body, coding) : undefined;
      const placeholder = inflated && canaries?.inBytes(inflated, "body");
      if (placeholder) {
        this.#settle(auditRecord(this.ctx.bottle, withPlaceholder(admitted.admission, placeholder)));
        return answerDenial(req, res, 403, PLACEHOLDER_DENIAL);
      }
      if (!scanner) return this.#proceed({ admission: admitted.admission, body }, steps);
      const finding = inflated === undefined ? { rule: "uninspectable", where: "body" } : DlpStream.scanAll(scanner, inflated);
      if (finding) {
        this.#found.body = dlpAudit(scanner.mode, finding);
        if (this.#found.body.action === "blocked") {
          this.#settle(auditRecord(this.ctx.bottle, admitted.admission));
          return answerDenial(req, res, 403, dlpDenialReason(finding));
        }
      }
      this.#proceed({ admission: admitted.admission, body }, steps);
    }).catch(() => this.#fail());
  }

  /** The head's inspection, then the refusal or the forward. */
  #proceed({ admission, body }: Admitted, steps: Steps): void {
    const { req, res, ctx } = this;
    const table = this.#table;
    const d = admission.decision;
    const inspecting = this.#inspectorOf(d);
    // before anything leaves: the target and the headers the agent wrote
    const secret = inspecting && inspectHead(inspecting, steps.parsed.target, req.rawHeaders, (name) => isStrippedHeader(name, table.stripped));
    const found = secret && inspecting ? dlpAudit(inspecting.mode, secret) : undefined;
    const decided = auditRecord(ctx.bottle, admission);
    if (this.#settle(found ? withHeadDlp(decided, found) : decided)) return;
    if (d.verdict === "deny") return answerDenial(req, res, DENY_REASONS[d.reason], d.reason);
    if (found?.action === "blocked") return answerDenial(req, res, 403, dlpDenialReason(found));
    if (body === undefined && expectsContinue(req)) res.writeContinue();
    const release = holdWhileAnswering(ctx.connections.tunnelChain(req.socket), ctx.idleTimeoutMs);
    res.once("close", release);
    // The schema already forbids credentials on plain-HTTP routes; never in clear text regardless.
    const headers = upstreamRequestHeaders(req.rawHeaders, table.stripped, steps.scheme === "https" ? table.credentials[d.routeIndex] : undefined);
    const scan = table.routes[d.routeIndex]?.response_scan ?? "off";
    const echo = this.#echo;
    forward({
      req, res, watch: this.#watch, agents: ctx.agents, target: steps.parsed.target, scheme: steps.scheme, host: d.host, port: d.port, body,
      idleTimeoutMs: ctx.idleTimeoutMs, echo,
      dlp: inspecting && { scanner: inspecting, found: (finding: DlpFinding) => void (this.#found.body ??= dlpAudit(inspecting.mode, finding)) },
      injection: scan === "off" ? undefined : { found: (text: string) => this.#injectionIn(text, scan) },
      canary: table.canaries && { canaries: table.canaries, found: (placeholder: PlaceholderAudit) => void (this.#found.placeholder ??= placeholder) },
      headers: scan !== "off" ? identityOnly(headers) : echo ? searchableCodingsOnly(headers) : headers,
    });
  }

  /** A prompt injection in the answer, on a route with `response_scan`: whether it stops the answer. */
  #injectionIn(text: string, scan: "block" | "log"): boolean {
    const rule = promptInjectionIn(text);
    if (rule === undefined) return false;
    this.#found.injection ??= { action: scan === "block" ? "blocked" : "logged", rule };
    return scan === "block";
  }

  /** The route's request inspection, unless the request is denied or the route inspects nothing. */
  #inspectorOf(d: Admitted["admission"]["decision"]) {
    const scanner = d.verdict === "allow" ? this.#table.dlp[d.routeIndex] : undefined;
    return scanner && scanner.mode !== "off" ? scanner : undefined;
  }

  /** The decision is known: the line goes now if the answer has already ended (then nothing more is done). */
  #settle(record: AuditRecord): boolean {
    this.#record = record;
    if (this.#early) this.#log(record, this.#early);
    return this.#early !== undefined;
  }

  /** A throw before or after the decision: the line says so, with whatever was already known. */
  #fail(): void {
    this.#found.internal = true;
    this.#settle(this.#record ?? internalError(this.ctx.bottle, this.req));
    this.res.destroy();
  }

  #log(record: AuditRecord, end: ResponseSummary): void {
    const echoed = this.#echo?.ledger.audit();
    this.ctx.log(exchangeOutcome(record, echoed ? { ...this.#found, echo: echoed } : this.#found, end));
  }
}

/** What the first step read of the request, for the steps after it. */
interface Steps {
  parsed: ReturnType<typeof parseTarget>;
  scheme: ReturnType<typeof httpRequestFacts>["scheme"];
}

/** A record with what request inspection found in the head; a blocked request is a denial. */
function withHeadDlp(record: AuditRecord, dlp: DlpAudit): AuditRecord {
  return { ...record, dlp, ...(dlp.action === "blocked" ? { verdict: "deny", reason: DLP_DENIAL } : {}) };
}

/** The line of a request the proxy failed itself: no decision was reached, or acting on it threw. */
function internalError(bottle: string, req: IncomingMessage): AuditRecord {
  return { bottle, method: (req.method ?? "").slice(0, 32), host: "", path: "", route: null, verdict: "error", reason: "internal error", status: null, bytes: null, duration_ms: null };
}

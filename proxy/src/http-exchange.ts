/**
 * The request path of every plain HTTP request, inside a CONNECT tunnel or in absolute form.
 * mockttp terminates the agent's connections and TLS (leaf certificates from the bottle CA) and
 * Node parses each request; from there this module handles it whole: decide, refuse or forward,
 * and write one audit line. mockttp's own request pipeline (pre-processing, rule matching, its
 * passthrough step, response tracking) is not on this path: it cost four fifths of the proxy's
 * time per request (bench/RESULTS.md), and it is the part whose defaults had to be worked
 * around one by one (design.md section 4).
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import { admit, type Admitted } from "./admission";
import { auditRecord, type AuditRecord } from "./audit-log";
import { holdWhileAnswering } from "./connection-limits";
import { DENY_REASONS } from "./decide";
import { isIpLiteral } from "./host";
import { denialBody, denialHeaders } from "./denial";
import { announcesBody, closeIfBodyUnread, expectsContinue, formSource } from "./request-body";
import { httpRequestFacts, parseTarget } from "./request-facts";
import { watchResponse, type ResponseSummary, type ResponseWatch } from "./response-observer";
import type { RouteTable } from "./route-table";
import { agentResponseHeaders, upstreamRequestHeaders } from "./upstream-headers";
import { UpstreamError, type UpstreamAgents, type UpstreamFailure } from "./upstream-agents";

export interface ExchangeContext {
  /** The route table in force (a reload swaps it; requests already admitted keep theirs). */
  table(): RouteTable;
  agents: UpstreamAgents;
  bottle: string;
  /** An upstream exchange with no traffic for this long is abandoned (502, or the stream cut). */
  idleTimeoutMs: number;
  log(record: AuditRecord): void;
}

const FAILURE_BODY: Record<UpstreamFailure, string> = {
  refused: JSON.stringify({ error: "upstream unavailable", reason: "the upstream proxy (pipelock) refused the connection" }),
  unreachable: JSON.stringify({ error: "upstream unavailable", reason: "the upstream proxy or server could not be reached" }),
};

/** Handle one request. Never throws: a throw here would end the process, and every bottle's egress. */
export function handleExchange(ctx: ExchangeContext, req: IncomingMessage, res: ServerResponse): void {
  try {
    exchange(ctx, req, res);
  } catch {
    res.destroy();
  }
}

function exchange(ctx: ExchangeContext, req: IncomingMessage, res: ServerResponse): void {
  res.sendDate = false;
  const table = ctx.table();
  const parsed = parseTarget(req.url ?? "");
  const facts = httpRequestFacts(req, parsed);

  // Watched from the start, so that an agent leaving while its form body is read is logged too
  // (its line waits for the decision).
  let record: AuditRecord | undefined;
  let early: ResponseSummary | undefined;
  const log = (r: AuditRecord, s: ResponseSummary) => ctx.log(finalRecord(r, s));
  const watch = watchResponse(req, res, (s) => (record ? log(record, s) : (early = s)));

  const proceed = ({ admission, body }: Admitted) => {
    record = auditRecord(ctx.bottle, admission);
    if (early) return log(record, early);
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
    forward({ req, res, watch, agents: ctx.agents, target: parsed.target, scheme: facts.scheme, host: d.host, port: d.port, body,
      idleTimeoutMs: ctx.idleTimeoutMs,
      // The schema already forbids credentials on plain-HTTP routes; never in clear text regardless.
      headers: upstreamRequestHeaders(req.rawHeaders, table.stripped, facts.scheme === "https" ? table.credentials[d.routeIndex] : undefined) });
  };
  const result = admit(facts, table, formSource(req, res));
  if (result instanceof Promise) {
    result.then(proceed).catch(() => res.destroy());
  } else {
    proceed(result);
  }
}

function finalRecord(record: AuditRecord, s: ResponseSummary): AuditRecord {
  const failure = s.upstreamFailure;
  return {
    ...record,
    ...(failure ? { verdict: "error", reason: failure === "refused" ? "upstream proxy refused" : "upstream unreachable" } : {}),
    ...(s.aborted && !failure && record.verdict === "allow" ? { reason: "aborted" } : {}),
    status: s.status,
    bytes: s.bytes,
    duration_ms: Math.round(s.durationMs * 100) / 100,
  };
}

interface Forwarding {
  req: IncomingMessage;
  res: ServerResponse;
  watch: ResponseWatch;
  agents: UpstreamAgents;
  scheme: "http" | "https";
  /** Canonical host (IPv6 in brackets) and port, as decided. */
  host: string;
  port: number;
  target: string;
  headers: string[];
  /** The body when admission already read it (form posts on method-limited routes). */
  body: Buffer | undefined;
  idleTimeoutMs: number;
}

/** Send the request upstream and relay the response as it arrives: nothing is held whole. */
function forward(f: Forwarding): void {
  const { req, res } = f;
  const hostname = f.host.startsWith("[") ? f.host.slice(1, -1) : f.host;
  const options: https.RequestOptions = {
    agent: f.scheme === "https" ? f.agents.https : f.agents.http,
    host: hostname,
    port: f.port,
    method: req.method,
    path: f.target,
    headers: f.headers as unknown as http.OutgoingHttpHeaders,
    // The agent's Host was checked against the destination: it goes upstream as sent.
    setHost: false,
    // Redirects are relayed, never followed, and IP literals carry no SNI (RFC 6066).
    ...(f.scheme === "https" ? { servername: isIpLiteral(f.host) ? "" : hostname } : {}),
  };
  const upstream = (f.scheme === "https" ? https : http).request(options);
  // Node only reports an idle socket; a stalled upstream must not hold the agent's request forever.
  upstream.setTimeout(f.idleTimeoutMs, () => upstream.destroy(new UpstreamError("unreachable", "upstream idle")));

  let answered = false;
  let relayed = false;
  let failed = false;
  const fail = (err: unknown) => {
    if (failed || relayed) return;
    failed = true;
    req.unpipe(upstream);
    upstream.destroy();
    if (res.headersSent) return void res.destroy();
    const failure: UpstreamFailure = err instanceof UpstreamError ? err.failure : "unreachable";
    f.watch.failed(failure);
    closeIfBodyUnread(req, res);
    res.writeHead(502, "Bad Gateway", { "content-type": "application/json", "cache-control": "no-store", "content-length": String(Buffer.byteLength(FAILURE_BODY[failure])) });
    res.end(FAILURE_BODY[failure]);
  };

  upstream.on("response", (answer) => {
    answered = true;
    try {
      // Node's client accepts what its server refuses to write (a status under 100, a reason
      // with control bytes): such an answer is the upstream's failure, not a crash of ours.
      res.writeHead(answer.statusCode ?? 0, answer.statusMessage, agentResponseHeaders(answer.rawHeaders));
    } catch (e) {
      answer.destroy();
      return fail(e);
    }
    answer.pipe(res, { end: false });
    answer.once("end", () => {
      relayed = true;
      const trailers = answer.rawTrailers;
      if (trailers.length) res.addTrailers(pairs(trailers));
      res.end();
    });
    answer.once("error", () => res.destroy());
    answer.once("aborted", () => res.destroy());
  });
  // No upgrade was asked for (the Upgrade header is hop-by-hop): a 101 is a broken answer.
  upstream.on("upgrade", (_answer, socket) => {
    socket.destroy();
    fail(new UpstreamError("unreachable", "unexpected protocol switch"));
  });
  upstream.on("error", fail);
  // Whatever else ends the exchange upstream without an answer (Node closes on some broken
  // replies without an error) still answers the agent. After an answer, 'close' may come before
  // the answer's last bytes are relayed (a close-delimited body): the answer's own events rule.
  upstream.once("close", () => {
    if (!answered) fail(new UpstreamError("unreachable", "upstream closed"));
  });
  // The agent went away: stop the upstream exchange too.
  res.once("close", () => {
    if (!res.writableFinished) upstream.destroy();
  });

  if (f.body !== undefined) upstream.end(f.body);
  // No body announced: end at once, so Node frames the request as empty rather than chunked.
  else if (!announcesBody(req)) upstream.end();
  else req.pipe(upstream);
}

function pairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

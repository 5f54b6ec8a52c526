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
import { admit, type Admitted, type FormBodySource } from "./admission";
import { auditRecord, type AuditRecord } from "./audit-log";
import { holdWhileAnswering } from "./connection-limits";
import { DENY_REASONS } from "./decide";
import { isIpLiteral } from "./host";
import { denialBody, denialHeaders } from "./denial";
import { httpRequestFacts, parseTarget } from "./request-facts";
import { watchResponse, type ResponseWatch } from "./response-observer";
import type { RouteTable } from "./route-table";
import { agentResponseHeaders, upstreamRequestHeaders } from "./upstream-headers";
import { UpstreamError, type ConnectionAgents, type UpstreamAgents, type UpstreamFailure } from "./upstream-agents";

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

/** Handle one request; never throws (a failure becomes a 502 or a closed connection). */
export function handleExchange(ctx: ExchangeContext, req: IncomingMessage, res: ServerResponse): void {
  res.sendDate = false;
  const table = ctx.table();
  const parsed = parseTarget(req.url ?? "");
  const facts = httpRequestFacts(req, parsed);
  const expectsContinue = /^\s*100-continue\s*$/i.test(req.headers.expect ?? "");
  const result = admit(facts, table, formSource(req, res, expectsContinue));
  const proceed = ({ admission, body }: Admitted) => {
    const record = auditRecord(ctx.bottle, admission);
    const watch = watchResponse(req, res, (s) => {
      const failure = s.upstreamFailure;
      ctx.log({
        ...record,
        ...(failure ? { verdict: "error", reason: failure === "refused" ? "upstream proxy refused" : "upstream unreachable" } : {}),
        ...(s.aborted && !failure && record.verdict === "allow" ? { reason: "aborted" } : {}),
        status: s.status,
        bytes: s.bytes,
        duration_ms: Math.round(s.durationMs * 100) / 100,
      });
    });
    const d = admission.decision;
    if (d.verdict === "deny") {
      res.writeHead(DENY_REASONS[d.reason], denialHeaders(d.reason));
      res.end(denialBody(d.reason));
      return;
    }
    if (expectsContinue && body === undefined) res.writeContinue();
    const release = holdWhileAnswering(req.socket, ctx.idleTimeoutMs);
    res.once("close", release);
    forward({ req, res, watch, agents: ctx.agents.of(req.socket), target: parsed.target, scheme: facts.scheme, host: d.host, port: d.port, body,
      idleTimeoutMs: ctx.idleTimeoutMs,
      // The schema already forbids credentials on plain-HTTP routes; never in clear text regardless.
      headers: upstreamRequestHeaders(req.rawHeaders, table.stripped, facts.scheme === "https" ? table.credentials[d.routeIndex] : undefined) });
  };
  if (result instanceof Promise) result.then(proceed, () => res.destroy());
  else proceed(result);
}

interface Forwarding {
  req: IncomingMessage;
  res: ServerResponse;
  watch: ResponseWatch;
  agents: ConnectionAgents;
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

  upstream.on("response", (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage, agentResponseHeaders(answer.rawHeaders));
    answer.pipe(res, { end: false });
    answer.once("end", () => {
      const trailers = answer.rawTrailers;
      if (trailers.length) res.addTrailers(pairs(trailers));
      res.end();
    });
    answer.once("error", () => res.destroy());
    answer.once("aborted", () => res.destroy());
  });
  upstream.on("error", (err) => {
    req.unpipe(upstream);
    if (res.headersSent) return void res.destroy();
    const failure: UpstreamFailure = err instanceof UpstreamError ? err.failure : "unreachable";
    f.watch.failed(failure);
    res.writeHead(502, "Bad Gateway", { "content-type": "application/json", "cache-control": "no-store", "content-length": String(Buffer.byteLength(FAILURE_BODY[failure])) });
    res.end(FAILURE_BODY[failure]);
  });
  // The agent went away: stop the upstream exchange too.
  res.once("close", () => {
    if (!res.writableFinished) upstream.destroy();
  });

  if (f.body !== undefined) upstream.end(f.body);
  else req.pipe(upstream);
}

function pairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

/** The request body as admission may read it, with 100 Continue sent first when asked for. */
function formSource(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): FormBodySource {
  return {
    contentType: req.headers["content-type"],
    contentLength: req.headers["content-length"],
    read: (limit) =>
      new Promise((resolve) => {
        if (expectsContinue) res.writeContinue();
        const chunks: Buffer[] = [];
        let size = 0;
        const finish = (body: Buffer | undefined) => {
          req.off("data", onData);
          req.off("end", onEnd);
          req.off("error", onFail);
          req.off("close", onFail);
          if (body === undefined) req.pause();
          resolve(body);
        };
        const onData = (chunk: Buffer) => {
          size += chunk.length;
          if (size > limit) finish(undefined);
          else chunks.push(chunk);
        };
        const onEnd = () => finish(Buffer.concat(chunks));
        const onFail = () => finish(undefined);
        req.on("data", onData);
        req.once("end", onEnd);
        req.once("error", onFail);
        req.once("close", onFail);
      }),
  };
}

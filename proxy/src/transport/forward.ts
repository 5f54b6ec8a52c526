/**
 * Forward one admitted request upstream and relay the answer as it arrives: nothing is held
 * whole. Anything that goes wrong before the answer's head is relayed becomes a 502 with a short
 * reason; after it, the agent's connection is cut, so a truncated body never looks complete.
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import { isIpLiteral } from "../route/host";
import { dlpDenialReason } from "../inspect/dlp-scan";
import { PLACEHOLDER_DENIAL } from "../route/placeholder-canary";
import { bodyCoding, EchoRefusal, guardHeaders, guardText, relayGuarded, type EchoGuard, type InjectionScan } from "./echo-guard";
import { announcesBody, answerDenial, closeIfBodyUnread } from "./request-body";
import { checkWholeBody, sendBody, type BodyCanary, type BodyInspection, type BodyStop } from "./request-upload";
import type { ResponseWatch } from "./response-observer";
import { UpstreamError, type UpstreamAgents, type UpstreamFailure } from "./upstream-agents";
import { agentResponseHeaders, headerPairs } from "../route/upstream-headers";

const FAILURE_BODY: Record<UpstreamFailure, string> = {
  refused: JSON.stringify({ error: "upstream unavailable", reason: "the upstream proxy (pipelock) refused the connection" }),
  unreachable: JSON.stringify({ error: "upstream unavailable", reason: "the upstream proxy or server could not be reached" }),
};

/**
 * A kept-alive upstream connection may have been closed by the server just as a request was
 * written to it. Such a request never reached the server; it is sent again on another
 * connection, at most this many times, but only when that is harmless: a safe method, no body.
 */
const RESENDS_ON_STALE_CONNECTION = 2;
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export interface Forwarding {
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
  /** Set when the bottle has tokens: every answer is cleared of them on its way (echo-guard.ts). */
  echo: EchoGuard | undefined;
  /** Set when the route inspects requests: the body is searched before it leaves (inspect/dlp-scan.ts). */
  dlp: BodyInspection | undefined;
  /** Set when the route scans answers for prompt injection (`response_scan`). */
  injection: InjectionScan | undefined;
  /** Set when the bottle has placeholders: the body is searched for them, whatever `dlp` says. */
  canary: BodyCanary | undefined;
}

const REFUSED_BODY = JSON.stringify({ error: "upstream response refused", reason: "it carried a credential of this bottle, or a body the proxy cannot search for one" });

/** Statuses and methods whose answer has no body, whatever its headers say. */
const BODILESS_STATUS = new Set([204, 304]);

export function forward(f: Forwarding): void {
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
  const hasBody = announcesBody(req);
  const resendable = SAFE_METHODS.has(req.method ?? "") && f.body === undefined && !hasBody;
  // One pool per scheme (upstream-agents.ts): the origin of a connection slot says which.
  const origin = `${f.scheme}|${hostname}|${f.port}`;

  let upstream: http.ClientRequest | undefined;
  let withdraw: (() => void) | undefined;
  let answer: IncomingMessage | undefined;
  let relayed = false;
  let failed = false;
  /** End the upstream side, whether it is waiting for a connection slot or under way. */
  const stopUpstream = () => {
    withdraw?.();
    upstream?.destroy();
  };
  const fail = (err: unknown) => {
    if (failed || relayed) return;
    failed = true;
    if (upstream) req.unpipe(upstream);
    stopUpstream();
    if (res.headersSent) {
      // A parse error after a complete answer (bytes after its end) leaves the answer to finish.
      if (!answer?.complete) res.destroy();
      return;
    }
    const failure: UpstreamFailure = err instanceof UpstreamError ? err.failure : "unreachable";
    f.watch.failed(failure);
    closeIfBodyUnread(req, res);
    res.writeHead(502, "Bad Gateway", { "content-type": "application/json", "cache-control": "no-store", "content-length": String(Buffer.byteLength(FAILURE_BODY[failure])) });
    res.end(FAILURE_BODY[failure]);
  };

  // Each attempt first waits for a connection slot of its origin, as long as it may wait for an
  // answer; the attempt it replaces is no longer current meanwhile.
  const send = (resends: number) => {
    upstream = undefined;
    const gaveUp = () => fail(new UpstreamError("unreachable", "no upstream connection came free"));
    withdraw = f.agents.slot(origin, f.idleTimeoutMs, (release) => sendOn(resends, release), gaveUp);
  };

  const sendOn = (resends: number, release: () => void) => {
    withdraw = undefined;
    if (failed) return release();
    let attempt: http.ClientRequest;
    try {
      attempt = (f.scheme === "https" ? https : http).request(options);
    } catch (e) {
      release();
      return fail(e);
    }
    // Every request emits 'close' once it is done with its socket, answered or not.
    attempt.once("close", release);
    upstream = attempt;
    const current = () => upstream === attempt && !failed;
    // Node only reports an idle socket; a stalled upstream must not hold the agent's request forever.
    attempt.setTimeout(f.idleTimeoutMs, () => attempt.destroy(new UpstreamError("unreachable", "upstream idle")));
    attempt.on("response", (a) => {
      if (!current()) return void a.destroy();
      answer = a;
      relay(a);
    });
    // No upgrade was asked for (the Upgrade header is hop-by-hop): a 101 is a broken answer.
    attempt.on("upgrade", (_a, socket) => {
      socket.destroy();
      if (current()) fail(new UpstreamError("unreachable", "unexpected protocol switch"));
    });
    const failedAttempt = (err: unknown) => {
      if (!current() || answer) return;
      if (resendable && resends < RESENDS_ON_STALE_CONNECTION && attempt.reusedSocket && !(err instanceof UpstreamError)) return send(resends + 1);
      fail(err);
    };
    attempt.on("error", failedAttempt);
    // Whatever else ends the exchange upstream without an answer (Node closes on some broken
    // replies without an error) still answers the agent. After an answer, 'close' may come before
    // the answer's last bytes are relayed (a close-delimited body): the answer's own events rule.
    attempt.once("close", () => {
      if (!answer) failedAttempt(new UpstreamError("unreachable", "upstream closed"));
    });
    if (f.body !== undefined) attempt.end(f.body);
    // No body announced: end at once, so Node frames the request as empty rather than chunked.
    else if (!hasBody) attempt.end();
    else sendBody(req, attempt, f.canary, f.dlp, refuseBody);
  };

  /** A placeholder or a secret in the body: the upstream never gets the whole request, the agent gets the refusal. */
  const refuseBody = (why: BodyStop) => {
    if (failed || relayed) return;
    failed = true;
    stopUpstream();
    if (res.headersSent) return void res.destroy();
    answerDenial(req, res, 403, "placeholder" in why ? PLACEHOLDER_DENIAL : dlpDenialReason(why.secret));
  };

  /** The answer carried a token and the bottle blocks echoes, or cannot be searched: a 502 in its place. */
  const refuse = () => {
    if (failed || relayed) return;
    failed = true;
    stopUpstream();
    closeIfBodyUnread(req, res);
    res.writeHead(502, "Bad Gateway", { "content-type": "application/json", "cache-control": "no-store", "content-length": String(Buffer.byteLength(REFUSED_BODY)) });
    res.end(REFUSED_BODY);
  };

  const relay = (a: IncomingMessage) => {
    const echo = f.echo;
    let coding: ReturnType<typeof bodyCoding> = "identity";
    try {
      let status = a.statusMessage;
      let headers: readonly string[] = agentResponseHeaders(a.rawHeaders);
      const bodiless = req.method === "HEAD" || BODILESS_STATUS.has(a.statusCode ?? 0);
      coding = bodiless ? "identity" : bodyCoding(a.headers["content-encoding"]);
      // prompt-injection scanning reads identity bodies only (the request asked for nothing else)
      if (f.injection && coding !== "identity") {
        echo?.ledger.blocked("content-encoding the proxy cannot search");
        throw new EchoRefusal("content-encoding the proxy cannot search");
      }
      if (echo) {
        if (coding === undefined) {
          echo.ledger.blocked("content-encoding the proxy cannot search");
          throw new EchoRefusal("content-encoding the proxy cannot search");
        }
        if (status) status = guardText(echo, "status", status);
        headers = guardHeaders(echo, "header", headers);
      }
      // Node's client accepts what its server refuses to write (a status under 100, a reason
      // with control bytes): such an answer is the upstream's failure, not a crash of ours.
      // Node reads the list, never changes it
      res.writeHead(a.statusCode ?? 0, status, headers as string[]);
    } catch (e) {
      a.destroy();
      return e instanceof EchoRefusal ? refuse() : fail(e);
    }
    const ended = () => {
      relayed = true;
      const trailers = a.rawTrailers;
      try {
        if (trailers.length) res.addTrailers(headerPairs(echo ? guardHeaders(echo, "trailer", trailers) : trailers));
      } catch {
        return void res.destroy();
      }
      res.end();
    };
    if (echo || f.injection) {
      // the guard stopped the answer: cut the agent's connection, never end it as if complete
      relayGuarded(a, res, echo, f.injection, coding ?? "identity", ended, () => {
        a.destroy();
        res.destroy();
      });
    } else {
      a.pipe(res, { end: false });
      a.once("end", ended);
    }
    a.once("error", () => res.destroy());
    a.once("aborted", () => res.destroy());
  };

  // The agent went away: stop the upstream exchange too.
  res.once("close", () => {
    if (!res.writableFinished) stopUpstream();
  });
  // Also when the answer came before the agent's upload ended: Node then no longer tells the
  // request that its connection closed, and the upstream would wait for the rest of the body.
  if (hasBody && !req.complete) {
    const agentLeft = () => {
      if (!req.complete) stopUpstream();
    };
    req.socket.once("close", agentLeft);
    req.once("end", () => req.socket.off("close", agentLeft));
  }
  // a body that admission read whole is searched whole, before anything leaves
  const stopped = f.body === undefined ? undefined : checkWholeBody(f.body, f.canary, f.dlp);
  if (stopped) return refuseBody(stopped);
  send(0);
}

/**
 * Sees each HTTP response from start to finish, which mockttp's public events cannot do without
 * buffering whole bodies. It is installed as the first middleware of mockttp's connect app and:
 * - reports status, bytes and duration when the response is done (for the audit line);
 * - replaces mockttp's own error replies (`e.toString()` of an upstream failure) with a short
 *   JSON reason, so that no internal detail reaches the agent;
 * - drains mockttp's response tracking stream, which otherwise holds every byte of every
 *   response in memory when nobody reads it (a 1 GiB download would cost 1 GiB).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Mockttp } from "mockttp";
import { REFUSED_TUNNEL } from "./upstream-proxy-refusal";

export interface ResponseSummary {
  status: number;
  bytes: number;
  durationMs: number;
  /** Set when the proxy itself failed the request: the upstream proxy refused the tunnel, or an upstream was unreachable. */
  upstreamFailure: "refused" | "unreachable" | undefined;
  /** True when the agent's connection closed before the response finished. */
  aborted: boolean;
}

/** mockttp writes these status messages on its own error paths (request-step-impls, mockttp-server). */
const MOCKTTP_ERROR_MESSAGES = new Set(["Error communicating with upstream server", "Server error"]);
const FAILURE_BODY = {
  refused: JSON.stringify({ error: "upstream unavailable", reason: "the upstream proxy (pipelock) refused the connection" }),
  unreachable: JSON.stringify({ error: "upstream unavailable", reason: "the upstream proxy or server could not be reached" }),
} as const;

type Middleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;
interface ConnectApp {
  stack: { route: string; handle: Middleware }[];
}

/** Install the observer; `done` runs once per response. Throws if mockttp's internals moved. */
export function observeResponses(server: Mockttp, done: (req: IncomingMessage, summary: ResponseSummary) => void): void {
  const app = (server as unknown as { app?: ConnectApp }).app;
  if (!app || !Array.isArray(app.stack)) {
    throw new Error("mockttp internals changed: no connect app to observe responses; pin mockttp to the tested version");
  }
  app.stack.unshift({ route: "", handle: (req, res, next) => {
    watch(req, res, done);
    next();
  } });
}

function watch(req: IncomingMessage, res: ServerResponse, done: (req: IncomingMessage, s: ResponseSummary) => void): void {
  const started = process.hrtime.bigint();
  const bytesAtStart = req.socket.bytesWritten;
  let upstreamFailure: ResponseSummary["upstreamFailure"];

  type Variadic = (this: ServerResponse, ...args: unknown[]) => ServerResponse;
  const writeHead = res.writeHead as unknown as Variadic;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    if (typeof args[1] === "string" && MOCKTTP_ERROR_MESSAGES.has(args[1])) {
      upstreamFailure = "unreachable";
      return writeHead.call(this, 502, "Bad Gateway", { "content-type": "application/json", "cache-control": "no-store" });
    }
    return writeHead.apply(this, args);
  } as unknown as ServerResponse["writeHead"];
  const end = res.end as unknown as Variadic;
  res.end = function (this: ServerResponse, ...args: unknown[]) {
    if (!upstreamFailure) return end.apply(this, args);
    // mockttp ends its error reply with the error's text: the only place the cause is visible.
    if (typeof args[0] === "string" && args[0].includes(REFUSED_TUNNEL)) upstreamFailure = "refused";
    return end.call(this, FAILURE_BODY[upstreamFailure]);
  } as unknown as ServerResponse["end"];

  // mockttp assigns `res.body` after this middleware; start draining it the moment it does.
  let body: unknown;
  Object.defineProperty(res, "body", {
    configurable: true,
    get: () => body,
    set: (value: { asBuffer?: () => Promise<unknown> }) => {
      body = value;
      value?.asBuffer?.().catch(() => undefined);
    },
  });

  let reported = false;
  const report = (aborted: boolean) => {
    if (reported) return;
    reported = true;
    done(req, {
      // When mockttp cannot pre-process a request it writes `400 Bad Request` straight to the
      // socket, past this response object, which then still says 200.
      status: res.headersSent ? res.statusCode : 400,
      bytes: Math.max(0, req.socket.bytesWritten - bytesAtStart),
      durationMs: Number(process.hrtime.bigint() - started) / 1e6,
      upstreamFailure,
      aborted,
    });
  };
  res.once("finish", () => report(false));
  res.once("close", () => report(!res.writableFinished));
}

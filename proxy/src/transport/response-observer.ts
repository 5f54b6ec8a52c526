/**
 * Sees each HTTP response from start to finish and reports status, bytes and duration once, when
 * it is done or the agent's connection closed first: the facts of the audit line.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { UpstreamFailure } from "./upstream-agents";

export interface ResponseSummary {
  /** null when nothing was sent: the agent left, or the proxy dropped the connection, before any answer. */
  status: number | null;
  bytes: number;
  durationMs: number;
  /** Set when the proxy itself failed the request: the upstream proxy refused the tunnel, or an upstream was unreachable. */
  upstreamFailure: UpstreamFailure | undefined;
  /** True when the agent's connection closed before the response finished. */
  aborted: boolean;
}

export interface ResponseWatch {
  /** Record that the request failed upstream (the reply is the proxy's own 502). */
  failed(failure: UpstreamFailure): void;
}

/** Watch one response; `done` runs exactly once. */
export function watchResponse(req: IncomingMessage, res: ServerResponse, done: (summary: ResponseSummary) => void): ResponseWatch {
  const started = process.hrtime.bigint();
  const bytesAtStart = req.socket.bytesWritten;
  let upstreamFailure: UpstreamFailure | undefined;
  let reported = false;
  const report = (aborted: boolean) => {
    if (reported) return;
    reported = true;
    const bytes = Math.max(0, req.socket.bytesWritten - bytesAtStart);
    done({
      // No head sent but bytes written: Node's parser refused the rest of the request (a bad
      // body framing) and mockttp answered a bare 400 straight on the socket. Nothing written:
      // no status was sent, and the line must not claim one.
      status: res.headersSent ? res.statusCode : bytes > 0 ? 400 : null,
      bytes,
      durationMs: Number(process.hrtime.bigint() - started) / 1e6,
      upstreamFailure,
      aborted,
    });
  };
  res.once("finish", () => report(false));
  res.once("close", () => report(!res.writableFinished));
  return {
    failed: (failure) => {
      upstreamFailure = failure;
    },
  };
}

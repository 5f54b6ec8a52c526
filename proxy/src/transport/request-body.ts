/**
 * The agent's request body as the request path needs it: whether one is still to come, and a
 * bounded read of a form for admission (admission.ts), with `100 Continue` sent first when the
 * agent waits for it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import zlib from "node:zlib";
import type { FormBodySource } from "../route/admission";
import { denialBody, denialHeaders } from "../route/denial";

/** True when the request announced a body (by length or chunked framing). */
export function announcesBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

/**
 * Answering while part of the body is unread would leave the rest in the connection, where the
 * next request's parser waits behind it: such an answer closes the connection instead.
 */
export function closeIfBodyUnread(req: IncomingMessage, res: ServerResponse): void {
  if (announcesBody(req) && !req.complete) res.shouldKeepAlive = false;
}

/** Answer with the proxy's refusal (route/denial.ts), closing the connection if the body is unread. */
export function answerDenial(req: IncomingMessage, res: ServerResponse, status: number, reason: string): void {
  closeIfBodyUnread(req, res);
  res.writeHead(status, denialHeaders(reason));
  res.end(denialBody(reason));
}

/** Node's own test for a request that waits for `100 Continue` (it then emits `checkContinue`). */
const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;

export function expectsContinue(req: IncomingMessage): boolean {
  return req.httpVersion === "1.1" && CONTINUE.test(req.headers.expect ?? "");
}

/** The body as admission may read it; `100 Continue` is sent first when the agent waits for it. */
export function formSource(req: IncomingMessage, res: ServerResponse): FormBodySource {
  return {
    contentType: req.headers["content-type"],
    contentLength: req.headers["content-length"],
    compressed: requestCoding(req) !== undefined,
    read: (limit) =>
      new Promise((resolve) => {
        if (expectsContinue(req)) res.writeContinue();
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

/** Compressed request bodies are read whole to be searched, up to this size... */
export const MAX_COMPRESSED_REQUEST = 8 << 20;
/** ...and inflated up to this size: past it (a bomb, or just too large) they are refused. */
export const MAX_INFLATED_REQUEST = 64 << 20;

/**
 * The request's content coding when it has one (`gzip`, `deflate`, `br`; `other` for anything
 * else, several included), or undefined for an identity body.
 */
export function requestCoding(req: IncomingMessage): "gzip" | "deflate" | "br" | "other" | undefined {
  const codings = (req.headers["content-encoding"] ?? "").split(",").map((c) => c.trim().toLowerCase()).filter((c) => c && c !== "identity");
  if (codings.length === 0) return undefined;
  const only = codings.length === 1 ? codings[0] : undefined;
  return only === "gzip" || only === "x-gzip" ? "gzip" : only === "deflate" || only === "br" ? only : "other";
}

/**
 * The inflated body, or undefined when it does not inflate within the bound, or when bytes
 * follow the end of the compressed stream (a second stream the upstream would get, uninflated
 * by this check).
 */
export function inflateRequestBody(body: Buffer, coding: "gzip" | "deflate" | "br"): Buffer | undefined {
  const options = { maxOutputLength: MAX_INFLATED_REQUEST, info: true } as const;
  const whole = (r: { buffer: Buffer; engine: { bytesWritten: number } }) => (r.engine.bytesWritten === body.length ? r.buffer : undefined);
  try {
    if (coding === "gzip") return whole(zlib.gunzipSync(body, options) as unknown as { buffer: Buffer; engine: zlib.Gunzip });
    if (coding === "br") return whole(zlib.brotliDecompressSync(body, options) as unknown as { buffer: Buffer; engine: zlib.BrotliDecompress });
    // RFC 9110's deflate is zlib-wrapped; some clients send it raw
    try {
      return whole(zlib.inflateSync(body, options) as unknown as { buffer: Buffer; engine: zlib.Inflate });
    } catch {
      return whole(zlib.inflateRawSync(body, options) as unknown as { buffer: Buffer; engine: zlib.InflateRaw });
    }
  } catch {
    return undefined;
  }
}

/**
 * The agent's request body as the request path needs it: whether one is still to come, and a
 * bounded read of a form for admission (admission.ts), with `100 Continue` sent first when the
 * agent waits for it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FormBodySource } from "../policy/admission";

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

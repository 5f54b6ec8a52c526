/**
 * Requests as an agent in a bottle makes them: HTTPS through a CONNECT tunnel to the proxy with
 * the bottle CA trusted, or plain HTTP in absolute form. Every part (CONNECT target, SNI, Host,
 * raw headers, raw path) can be set on its own, so tests can make them disagree.
 */
import http from "node:http";
import net from "node:net";
import tls from "node:tls";
import type { Readable } from "node:stream";

export interface AgentRequest {
  proxyPort: number;
  /** Bottle CA the agent trusts (PEM). */
  ca: string;
  scheme?: "https" | "http";
  host: string;
  port?: number;
  method?: string;
  /** Raw origin-form target, sent as is. */
  target?: string;
  /** Raw headers, in order, duplicates allowed. `Host` is added from host/port unless present. */
  headers?: [string, string][];
  body?: string | Buffer | Readable;
  /** CONNECT target, default `host:port`. */
  connect?: string;
  /** TLS SNI, default `host` (undefined sends none). */
  sni?: string | null;
  /** Reuse an already tunnelled TLS socket (keep-alive tests). */
  socket?: tls.TLSSocket;
  /** Called with the response as soon as its head arrives (streaming tests). */
  onResponse?: (res: http.IncomingMessage) => void;
  /** Receives the body chunks instead of keeping them (large transfers). */
  sink?: (chunk: Buffer) => void;
  timeoutMs?: number;
}

export interface AgentResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  socket: net.Socket;
}

/** Open a CONNECT tunnel through the proxy and start TLS inside it. */
export async function tunnel(proxyPort: number, connectTarget: string, sni: string | null, ca: string): Promise<tls.TLSSocket> {
  const raw = net.connect(proxyPort, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    raw.once("error", reject);
    raw.once("connect", () => resolve());
  });
  raw.write(`CONNECT ${connectTarget} HTTP/1.1\r\nHost: ${connectTarget}\r\n\r\n`);
  const head = await readHead(raw);
  if (!/^HTTP\/1\.[01] 200/.test(head)) throw new Error(`CONNECT refused: ${head.split("\r\n")[0]}`);
  const options: tls.ConnectionOptions = { socket: raw, ca, ...(sni === null ? {} : { servername: sni }) };
  const secure = tls.connect(options);
  await new Promise<void>((resolve, reject) => {
    secure.once("secureConnect", () => resolve());
    secure.once("error", reject);
  });
  return secure;
}

function readHead(socket: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf("\r\n\r\n");
      if (end !== -1) {
        socket.off("data", onData);
        const rest = buf.subarray(end + 4);
        if (rest.length) socket.unshift(rest);
        resolve(buf.subarray(0, end).toString("latin1"));
      }
    };
    socket.on("data", onData);
    socket.once("error", reject);
    socket.once("end", () => reject(new Error("connection ended before CONNECT reply")));
  });
}

/** Send one request as the agent and collect the whole response. */
export async function agentRequest(r: AgentRequest): Promise<AgentResponse> {
  const scheme = r.scheme ?? "https";
  const port = r.port ?? (scheme === "https" ? 443 : 80);
  const authority = (scheme === "https" && port === 443) || (scheme === "http" && port === 80) ? r.host : `${r.host}:${port}`;
  const headers: [string, string][] = [...(r.headers ?? [])];
  if (!headers.some(([k]) => k.toLowerCase() === "host")) headers.unshift(["Host", authority]);
  const target = r.target ?? "/";

  let socket: net.Socket;
  let path = target;
  if (scheme === "https") {
    socket = r.socket ?? (await tunnel(r.proxyPort, r.connect ?? `${r.host}:${port}`, r.sni === undefined ? r.host : r.sni, r.ca));
  } else {
    socket = net.connect(r.proxyPort, "127.0.0.1");
    path = `http://${authority}${target}`;
  }
  return new Promise<AgentResponse>((resolve, reject) => {
    const req = http.request({
      createConnection: () => socket,
      method: r.method ?? "GET",
      path,
      headers: headers.flat(),
      setHost: false,
    });
    const timer = setTimeout(() => req.destroy(new Error("agent request timed out")), r.timeoutMs ?? 15_000);
    req.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.once("response", (res) => {
      r.onResponse?.(res);
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => (r.sink ? r.sink(c) : chunks.push(c)));
      res.once("end", () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), socket });
      });
      res.once("error", reject);
    });
    if (r.body === undefined) req.end();
    else if (typeof r.body === "string" || Buffer.isBuffer(r.body)) req.end(r.body);
    else r.body.pipe(req);
  });
}

/** The reason of a denial: the JSON body's, which must agree with the denial header. */
export function denialReason(res: AgentResponse): string | undefined {
  const header = res.headers["x-egress-proxy-denial"];
  if (res.body.length === 0) return typeof header === "string" ? header : undefined;
  try {
    return (JSON.parse(res.body.toString("utf8")) as { reason?: string }).reason;
  } catch {
    return undefined;
  }
}

/**
 * Send raw request bytes on an open socket and read one response (status line, headers and a
 * Content-Length body). For requests no well-behaved client would send, and for reusing a
 * connection across a reload.
 */
export function rawExchange(socket: net.Socket, request: string | Buffer, timeoutMs = 10_000): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new Error("raw exchange timed out")), timeoutMs);
    const finish = (err?: Error, value?: { status: number; head: string; body: string }) => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", onClose);
      if (err) reject(err);
      else if (value) resolve(value);
    };
    const tryParse = (closed: boolean) => {
      const end = buf.indexOf("\r\n\r\n");
      if (end === -1) return closed ? finish(new Error(`connection closed: ${buf.toString("latin1").slice(0, 80)}`)) : undefined;
      const head = buf.subarray(0, end).toString("latin1");
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? "NaN");
      const body = buf.subarray(end + 4);
      if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
        // Enough for tests: wait for the last chunk; the body is returned still chunk-framed.
        if (body.includes("0\r\n\r\n") || closed) finish(undefined, { status, head, body: body.toString("utf8") });
      } else if (Number.isNaN(length) ? closed : body.length >= length) {
        finish(undefined, { status, head, body: body.subarray(0, Number.isNaN(length) ? body.length : length).toString("utf8") });
      }
      return undefined;
    };
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      tryParse(false);
    };
    const onClose = () => tryParse(true);
    socket.on("data", onData);
    socket.once("close", onClose);
    socket.write(request);
  });
}

/**
 * Requests as an agent in a bottle makes them: HTTPS through a CONNECT tunnel to the proxy with
 * the bottle CA trusted, or plain HTTP in absolute form. Every part (CONNECT target, SNI, Host,
 * raw headers, raw path) can be set on its own, so tests can make them disagree. Node's HTTP
 * client writes the request and parses the answer; for bytes it would refuse, use raw-http.
 */
import http from "node:http";
import type net from "node:net";
import type tls from "node:tls";
import type { Readable } from "node:stream";
import { connectPlain, tunnel } from "./raw-http";

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
  /** TLS SNI, default `host` (null sends none). */
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
    socket = await connectPlain(r.proxyPort);
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

/**
 * Byte-exact requests as a hostile agent sends them, over each transport the proxy accepts:
 * intercepted HTTPS (CONNECT, then TLS with any SNI and ALPN), plain HTTP in absolute form,
 * origin form straight at the proxy, and plain HTTP inside a CONNECT tunnel. Nothing here
 * normalises anything: the request line and header block go out as written.
 */
import net from "node:net";
import tls from "node:tls";
import { rawExchange, tunnel } from "../../helpers/agent-client";

export type Transport = "https-intercepted" | "http-absolute" | "http-origin" | "http-in-tunnel";

/** One request as the agent writes it. Placeholders `{authority}`, `{target}`, `{probe}` work in raw text. */
export interface RawRequest {
  method?: string;
  /** Destination host: default for CONNECT target, SNI, Host and absolute URL. */
  host: string;
  port?: number;
  /** Origin-form target (path and query), raw. */
  target?: string;
  /** http-absolute only: the whole absolute-form request target, raw (replaces `http://{authority}{target}`). */
  url?: string;
  /** The whole request line, raw (replaces method, target and version). */
  requestLine?: string;
  /** Host header value(s): undefined = the authority, null = none, array = several. */
  hostHeader?: string | string[] | null;
  headers?: [string, string][];
  /** Header lines appended verbatim (obs-fold, bare LF, odd spacing...), each ending as written. */
  rawHeaderLines?: string;
  body?: string;
  /** Do not add Content-Length for the body (framing given by the row). */
  noAutoLength?: boolean;
  /** The whole message, raw; replaces everything above except host, port, connect and sni. */
  raw?: string;
  /** CONNECT target (https-intercepted, http-in-tunnel); default `host:port`. */
  connect?: string;
  /** TLS SNI; default `host`; null sends none. */
  sni?: string | null;
  /** ALPN protocols offered (default: none offered). */
  alpn?: string[];
}

export interface Exchange {
  status: number;
  head: string;
  body: string;
  /**
   * Which layer answered: our policy (denial header); the HTTP parser (400/431, no denial
   * header); the connect router's default 404 when mockttp gave up on the request
   * (`fallthrough`); the upstream; or nobody (`closed`).
   */
  layer: "proxy" | "parser" | "fallthrough" | "upstream" | "closed";
  denial: string | undefined;
}

const DEFAULT_PORT: Record<Transport, number> = { "https-intercepted": 443, "http-absolute": 80, "http-origin": 80, "http-in-tunnel": 80 };

/** The authority as a URL writes it: the port only when it is not the transport's default. */
export function authorityOf(req: RawRequest, transport: Transport): string {
  const port = req.port ?? DEFAULT_PORT[transport];
  return port === DEFAULT_PORT[transport] ? req.host : `${req.host}:${port}`;
}

/** Render the bytes the agent sends. */
export function renderRequest(req: RawRequest, transport: Transport, probe: string): string {
  const authority = authorityOf(req, transport);
  const target = req.target ?? "/";
  const fill = (s: string) => s.split("{authority}").join(authority).split("{target}").join(target).split("{probe}").join(probe);
  if (req.raw !== undefined) return fill(req.raw);
  const requestTarget = transport === "http-absolute" ? (req.url !== undefined ? fill(req.url) : `http://${authority}${target}`) : target;
  const line = req.requestLine !== undefined ? fill(req.requestLine) : `${req.method ?? "GET"} ${requestTarget} HTTP/1.1`;
  const hosts = req.hostHeader === undefined ? [authority] : req.hostHeader === null ? [] : Array.isArray(req.hostHeader) ? req.hostHeader : [req.hostHeader];
  const headers: [string, string][] = [...hosts.map((h): [string, string] => ["Host", fill(h)]), ...(req.headers ?? []).map(([k, v]): [string, string] => [k, fill(v)]), ["X-Corpus-Case", probe]];
  const framed = headers.some(([k]) => /^(content-length|transfer-encoding)$/i.test(k)) || /content-length|transfer-encoding/i.test(req.rawHeaderLines ?? "");
  if (req.body !== undefined && !framed && !req.noAutoLength) headers.push(["Content-Length", String(Buffer.byteLength(req.body))]);
  return `${line}\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join("")}${fill(req.rawHeaderLines ?? "")}\r\n${req.body ?? ""}`;
}

/**
 * The address load tests connect from. mockttp's passthrough-loop guard compares an incoming
 * socket's remote address:port with its own outgoing sockets' local ones; on loopback, Linux
 * reuses an ephemeral port for different destinations, so an agent on 127.0.0.1 is sometimes
 * taken for a loop (502). In a bottle the agent and the proxy never share an address.
 */
export const AGENT_ADDRESS = "127.0.0.2";

/** CONNECT through the proxy and return the plain tunnel socket (no TLS). */
export async function rawConnect(proxyPort: number, target: string, localAddress?: string): Promise<net.Socket> {
  const socket = net.connect({ port: proxyPort, host: "127.0.0.1", ...(localAddress ? { localAddress } : {}) });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.once("connect", () => resolve());
  });
  socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
  const head = await new Promise<string>((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf("\r\n\r\n");
      if (end === -1) return;
      socket.off("data", onData);
      if (buf.length > end + 4) socket.unshift(buf.subarray(end + 4));
      resolve(buf.subarray(0, end).toString("latin1"));
    };
    socket.on("data", onData);
    socket.once("close", () => reject(new Error("closed before CONNECT reply")));
  });
  if (!/^HTTP\/1\.[01] 200/.test(head)) throw new Error(`CONNECT refused: ${head.split("\r\n")[0]}`);
  return socket;
}

/** TLS over an open tunnel with a chosen SNI and ALPN, trusting only the bottle CA. */
export async function tlsOver(socket: net.Socket, sni: string | null, ca: string, alpn?: string[]): Promise<tls.TLSSocket> {
  const secure = tls.connect({
    socket,
    ca,
    ...(sni === null ? {} : { servername: sni }),
    ...(alpn ? { ALPNProtocols: alpn } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    secure.once("secureConnect", () => resolve());
    secure.once("error", reject);
  });
  return secure;
}

/** Open the agent's connection for a transport (tunnel and TLS included). */
export async function openTransport(req: RawRequest, transport: Transport, proxyPort: number, ca: string): Promise<net.Socket> {
  const connectTarget = req.connect ?? `${req.host}:${req.port ?? DEFAULT_PORT[transport]}`;
  if (transport === "https-intercepted") {
    const sni = req.sni === undefined ? req.host : req.sni;
    if (req.alpn) return tlsOver(await rawConnect(proxyPort, connectTarget), sni, ca, req.alpn);
    return tunnel(proxyPort, connectTarget, sni, ca);
  }
  if (transport === "http-in-tunnel") return rawConnect(proxyPort, connectTarget);
  const socket = net.connect(proxyPort, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.once("connect", () => resolve());
  });
  return socket;
}

/**
 * Send one raw request and classify the answer. A `101` resolves on its head (the socket stays
 * open); a socket closed without any response is `closed`.
 */
export async function exchange(socket: net.Socket, bytes: string, timeoutMs = 10_000): Promise<Exchange> {
  socket.on("error", () => undefined);
  let res: { status: number; head: string; body: string };
  try {
    const headOnly = bytes.startsWith("HEAD ");
    res = await (headOnly || /\r\n(upgrade|expect):/i.test(bytes) ? interimExchange(socket, bytes, timeoutMs, headOnly) : rawExchange(socket, bytes, timeoutMs));
  } catch (e) {
    if (/connection closed/.test((e as Error).message)) return { status: 0, head: "", body: "", layer: "closed", denial: undefined };
    throw e;
  }
  const denial = /\r\nx-egress-proxy-denial: *([^\r\n]*)/i.exec(res.head)?.[1];
  const layer =
    denial !== undefined
      ? "proxy"
      : (res.status === 400 || res.status === 431) && /\r\nconnection: close/i.test(res.head) && !/content-length/i.test(res.head)
        ? "parser"
        : res.status === 404 && !/x-recording-upstream/i.test(res.head) && /<pre>Cannot /.test(res.body)
          ? "fallthrough"
          : "upstream";
  return { ...res, layer, denial };
}

/** Like rawExchange, but a 101 (or any reply to HEAD) resolves on its head and a 100 Continue is skipped. */
function interimExchange(socket: net.Socket, bytes: string, timeoutMs: number, headOnly = false): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => done(new Error("upgrade exchange timed out")), timeoutMs);
    const done = (err?: Error, v?: { status: number; head: string; body: string }) => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", onClose);
      if (err) reject(err);
      else if (v) resolve(v);
    };
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      let end = buf.indexOf("\r\n\r\n");
      if (end === -1) return;
      if (/^HTTP\/1\.[01] 100/.test(buf.subarray(0, end).toString("latin1"))) {
        buf = buf.subarray(end + 4);
        end = buf.indexOf("\r\n\r\n");
        if (end === -1) return;
      }
      const head = buf.subarray(0, end).toString("latin1");
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? "0");
      const body = buf.subarray(end + 4);
      if (status === 101 || headOnly) done(undefined, { status, head, body: "" });
      else if (body.length >= length) done(undefined, { status, head, body: body.subarray(0, length).toString("utf8") });
    };
    const onClose = () => done(new Error(`connection closed: ${buf.toString("latin1").slice(0, 80)}`));
    socket.on("data", onData);
    socket.once("close", onClose);
    socket.write(bytes);
  });
}

/**
 * Byte-exact requests as a hostile agent sends them, over each transport the proxy accepts:
 * intercepted HTTPS (CONNECT, then TLS with any SNI and ALPN), plain HTTP in absolute form,
 * origin form straight at the proxy, and plain HTTP inside a CONNECT tunnel. Nothing here
 * normalises anything: the request line and header block go out as written, over the raw
 * client in test/helpers/raw-http.ts; what comes back is sorted by the layer that answered.
 */
import type net from "node:net";
import { connectPlain, connectTunnel, exchange, tunnel, type RawResponse } from "../../helpers/raw-http";

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

export interface Exchange extends RawResponse {
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

/** Open the agent's connection for a transport (tunnel and TLS included). */
export async function openTransport(req: RawRequest, transport: Transport, proxyPort: number, ca: string): Promise<net.Socket> {
  const connectTarget = req.connect ?? `${req.host}:${req.port ?? DEFAULT_PORT[transport]}`;
  if (transport === "https-intercepted") return tunnel(proxyPort, connectTarget, req.sni === undefined ? req.host : req.sni, ca, req.alpn ? { alpn: req.alpn } : {});
  if (transport === "http-in-tunnel") return connectTunnel(proxyPort, connectTarget);
  return connectPlain(proxyPort);
}

/**
 * Send one raw request and classify the answer. A `101` resolves on its head (the socket stays
 * open), a 100 Continue is read past; a socket closed without any response is `closed`.
 */
export async function classifiedExchange(socket: net.Socket, bytes: string, timeoutMs = 10_000): Promise<Exchange> {
  socket.on("error", () => undefined);
  let res: RawResponse;
  try {
    res = await exchange(socket, bytes, { timeoutMs });
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

/**
 * The one raw HTTP/1.1 client of the tests: open a connection to the proxy (plain, or a CONNECT
 * tunnel with TLS inside), write bytes exactly as given, and read answers off the socket without
 * Node's HTTP parser, which would refuse or normalise what these tests need to see.
 */
import net from "node:net";
import tls from "node:tls";

/** One answer as it came off the wire. */
export interface RawResponse {
  status: number;
  /** Status line and header lines, without the blank line. */
  head: string;
  /** The body (utf8); a chunked body stays chunk-framed. */
  body: string;
}

export interface ReadOptions {
  timeoutMs?: number;
  /** The request was HEAD: the answer has no body whatever its headers say. */
  headOnly?: boolean;
  /**
   * Interim answers: `skip` (default) reads past any 1xx but 101 to the final answer; `return`
   * gives a 1xx back on its head, for tests that must see the 100 Continue before sending a body.
   * A 101 is always returned on its head: the socket then speaks another protocol.
   */
  interim?: "skip" | "return";
}

/** Where to connect from: the agent's own address in load tests. */
export interface ConnectOptions {
  host?: string;
  localAddress?: string;
}

/** Open a TCP connection to the proxy (127.0.0.1 unless `host` says otherwise). */
export function connectPlain(port: number, opts: ConnectOptions = {}): Promise<net.Socket> {
  const socket = net.connect({ port, host: opts.host ?? "127.0.0.1", ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
  return new Promise((resolve, reject) => {
    // stays attached, as a one-shot guard: a late error must not crash the run
    socket.once("error", reject);
    socket.once("connect", () => resolve(socket));
  });
}

/** CONNECT through the proxy and return the plain tunnel socket (no TLS). */
export async function connectTunnel(proxyPort: number, target: string, opts: ConnectOptions = {}): Promise<net.Socket> {
  const socket = await connectPlain(proxyPort, opts);
  socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
  const head = await readHead(socket);
  if (!/^HTTP\/1\.[01] 200/.test(head)) throw new Error(`CONNECT refused: ${head.split("\r\n")[0]}`);
  return socket;
}

/** TLS over an open socket with a chosen SNI (null: none) and ALPN, trusting only `ca`. */
export async function startTls(socket: net.Socket, sni: string | null, ca: string, alpn?: string[]): Promise<tls.TLSSocket> {
  const secure = tls.connect({ socket, ca, ...(sni === null ? {} : { servername: sni }), ...(alpn ? { ALPNProtocols: alpn } : {}) });
  await new Promise<void>((resolve, reject) => {
    secure.once("secureConnect", () => resolve());
    secure.once("error", reject);
  });
  return secure;
}

/** A CONNECT tunnel through the proxy with TLS inside: what an agent's HTTPS request rides on. */
export async function tunnel(proxyPort: number, target: string, sni: string | null, ca: string, opts: ConnectOptions & { alpn?: string[] } = {}): Promise<tls.TLSSocket> {
  return startTls(await connectTunnel(proxyPort, target, opts), sni, ca, opts.alpn);
}

/** Read up to the blank line after a head; bytes past it are put back on the socket. */
export function readHead(socket: net.Socket, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => done(new Error("no complete head in time")), timeoutMs);
    const done = (err: Error | undefined, head?: string) => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("error", done);
      socket.off("end", onEnd);
      socket.off("close", onEnd);
      if (head !== undefined) resolve(head);
      else reject(err ?? new Error("no head"));
    };
    const onEnd = () => done(new Error(`connection ended before a complete head: ${buf.toString("latin1").slice(0, 80)}`));
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf("\r\n\r\n");
      if (end === -1) return;
      done(undefined, buf.subarray(0, end).toString("latin1"));
      // after `done` took this listener off, or the put-back bytes come straight back to it
      if (buf.length > end + 4) socket.unshift(buf.subarray(end + 4));
    };
    socket.on("data", onData);
    socket.once("error", done);
    socket.once("end", onEnd);
    socket.once("close", onEnd);
  });
}

/**
 * Send raw request bytes on an open socket and read one answer. For requests no well-behaved
 * client would send, and for reusing a connection across requests.
 */
export async function exchange(socket: net.Socket, request: string | Buffer, opts: ReadOptions = {}): Promise<RawResponse> {
  const headOnly = opts.headOnly ?? (typeof request === "string" ? request : request.toString("latin1", 0, 5)).startsWith("HEAD ");
  const [res] = await readResponses(socket, 1, { ...opts, headOnly }, request);
  if (!res) throw new Error("no response");
  return res;
}

/**
 * Read `count` answers from one socket (pipelined requests), writing `request` first if given.
 * Framing: 1xx, 204 and 304 and answers to HEAD have no body; then chunked (up to the last
 * chunk), Content-Length, or else everything until the server closes. A close before a complete
 * head rejects with "connection closed"; one inside a framed body, with its own message. Bytes
 * after the last answer (a WebSocket's first frames) are dropped.
 */
export function readResponses(socket: net.Socket, count: number, opts: ReadOptions = {}, request?: string | Buffer): Promise<RawResponse[]> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const out: RawResponse[] = [];
    const timer = setTimeout(() => finish(new Error(`raw exchange timed out (${out.length} of ${count} answers)`)), timeoutMs);
    const finish = (err?: Error) => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", onClose);
      if (err) reject(err);
      else resolve(out);
    };
    const parse = (closed: boolean) => {
      while (out.length < count) {
        const next = parseResponse(buf, closed, opts);
        if (next instanceof Error) return finish(next);
        if (next === undefined) return undefined;
        buf = buf.subarray(next.used);
        if (next.response) out.push(next.response);
      }
      return finish();
    };
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      parse(false);
    };
    const onClose = () => parse(true);
    socket.on("data", onData);
    socket.once("close", onClose);
    if (request !== undefined) socket.write(request);
  });
}

/**
 * One answer at the start of `buf`: the bytes it used and the answer (none for a skipped 1xx),
 * undefined while more bytes may come, or an error once the server has closed.
 */
function parseResponse(buf: Buffer, closed: boolean, opts: ReadOptions): { used: number; response?: RawResponse } | Error | undefined {
  const end = buf.indexOf("\r\n\r\n");
  if (end === -1) return closed ? new Error(`connection closed: ${buf.toString("latin1").slice(0, 80)}`) : undefined;
  const head = buf.subarray(0, end).toString("latin1");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
  const rest = buf.subarray(end + 4);
  const noBody = (status >= 100 && status < 200) || status === 204 || status === 304 || opts.headOnly === true;
  if (status >= 100 && status < 200 && status !== 101 && (opts.interim ?? "skip") === "skip") return { used: end + 4 };
  if (noBody) return { used: end + 4, response: { status, head, body: "" } };
  if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
    // the body is returned still chunk-framed, with its trailers
    const used = chunkedLength(rest);
    if (used === undefined) return closed ? { used: buf.length, response: { status, head, body: rest.toString("utf8") } } : undefined;
    return { used: end + 4 + used, response: { status, head, body: rest.subarray(0, used).toString("utf8") } };
  }
  const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
  if (length === undefined) return closed ? { used: buf.length, response: { status, head, body: rest.toString("utf8") } } : undefined;
  if (rest.length < Number(length)) return closed ? new Error(`closed after ${rest.length} of ${length} body bytes`) : undefined;
  return { used: end + 4 + Number(length), response: { status, head, body: rest.subarray(0, Number(length)).toString("utf8") } };
}

/** Length of a complete chunked body (chunks, last chunk, trailers, blank line), or undefined while it is incomplete. */
function chunkedLength(body: Buffer): number | undefined {
  let at = 0;
  for (;;) {
    const eol = body.indexOf("\r\n", at);
    if (eol === -1) return undefined;
    const size = parseInt(body.toString("latin1", at, eol).split(";")[0] ?? "", 16);
    if (Number.isNaN(size)) return undefined;
    if (size === 0) {
      // trailer lines, then the blank line
      const blank = body.indexOf("\r\n\r\n", eol);
      if (body.subarray(eol, eol + 4).toString("latin1") === "\r\n\r\n") return eol + 4;
      return blank === -1 ? undefined : blank + 4;
    }
    at = eol + 2 + size + 2;
    if (at > body.length) return undefined;
  }
}

/** What `readUntilClose` collected: every byte, and whether the deadline cut it short. */
export interface UntilClose {
  bytes: Buffer;
  timedOut: boolean;
}

/**
 * Write `bytes` (if any) and collect what comes back until the server closes (a reset or other
 * socket error counts as a close), or with `untilHead` until a complete head has arrived; the
 * socket is destroyed at the end. Never rejects: a deadline sets `timedOut`.
 */
export function readUntilClose(socket: net.Socket, bytes?: string | Buffer, opts: { timeoutMs?: number; untilHead?: boolean } = {}): Promise<UntilClose> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      finish();
    }, opts.timeoutMs ?? 5000);
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ bytes: Buffer.concat(chunks), timedOut });
    };
    socket.on("data", (d: Buffer) => {
      chunks.push(d);
      if (opts.untilHead && Buffer.concat(chunks).includes("\r\n\r\n")) finish();
    });
    socket.once("close", finish);
    socket.on("error", finish);
    if (bytes !== undefined) socket.write(bytes);
  });
}

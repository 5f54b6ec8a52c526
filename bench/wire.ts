/**
 * A lean HTTP/1.1 client for the load generator: raw request bytes out, a small incremental
 * response parser in (Content-Length, chunked, or close-delimited bodies). Node's `http` client
 * costs several times more CPU per request, and on two cores every cycle the client spends is
 * taken from the proxy under test.
 */
import net from "node:net";
import tls from "node:tls";

/** How the client reaches the upstream: straight to it, or through a CONNECT proxy. */
export interface Target {
  name: string;
  /** CONNECT proxy on 127.0.0.1; undefined = connect to the upstream port directly. */
  proxyPort?: number;
  upstreamPort: number;
  /** Host name for CONNECT, SNI and `Host`. */
  host: string;
  /** CA the client trusts (PEM): the upstream CA end to end, the bottle CA when intercepted. */
  ca: string;
}

export interface ResponseHead {
  status: number;
  /** Header block as received (latin1), for the few checks that need it. */
  head: string;
}

/** Open TCP (+ CONNECT) + TLS; resolves once the TLS handshake is done. */
export async function openConnection(t: Target): Promise<tls.TLSSocket> {
  if (t.proxyPort === undefined) {
    const s = tls.connect({ host: "127.0.0.1", port: t.upstreamPort, servername: t.host, ca: t.ca });
    s.setNoDelay(true);
    await once(s, "secureConnect");
    return s;
  }
  const raw = net.connect(t.proxyPort, "127.0.0.1");
  raw.setNoDelay(true);
  await once(raw, "connect");
  raw.write(`CONNECT ${t.host}:443 HTTP/1.1\r\nHost: ${t.host}:443\r\n\r\n`);
  const head = await readConnectReply(raw);
  if (!/^HTTP\/1\.[01] 200/.test(head)) {
    raw.destroy();
    throw new Error(`CONNECT refused: ${head.split("\r\n")[0]}`);
  }
  const s = tls.connect({ socket: raw, servername: t.host, ca: t.ca });
  await once(s, "secureConnect");
  return s;
}

function once(s: net.Socket, event: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = () => {
      s.off("error", bad);
      resolve();
    };
    const bad = (e: Error) => {
      s.off(event, ok);
      reject(e);
    };
    s.once(event, ok);
    s.once("error", bad);
  });
}

function readConnectReply(s: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      const end = buf.indexOf("\r\n\r\n");
      if (end === -1) return;
      cleanup();
      // Nothing follows a CONNECT reply before our TLS ClientHello; keep it anyway.
      if (end + 4 < buf.length) s.unshift(buf.subarray(end + 4));
      resolve(buf.subarray(0, end).toString("latin1"));
    };
    const onEnd = () => {
      cleanup();
      reject(new Error("connection ended before the CONNECT reply"));
    };
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    const cleanup = () => {
      s.off("data", onData);
      s.off("end", onEnd);
      s.off("error", onError);
    };
    s.on("data", onData);
    s.once("end", onEnd);
    s.once("error", onError);
  });
}

type BodyMode = "length" | "chunked" | "close";

interface Pending {
  onHead?: (h: ResponseHead) => void;
  onBody?: (chunk: Buffer) => void;
  resolve: (r: { head: ResponseHead; bodyBytes: number; closed: boolean }) => void;
  reject: (e: Error) => void;
}

/**
 * One keep-alive connection with one request in flight at a time. `exchange` writes the request
 * and resolves when the whole response has arrived; the body is counted, or handed to `onBody`.
 */
export class Connection {
  private buf: Buffer | null = null;
  private pending: Pending | null = null;
  private headDone = false;
  private head: ResponseHead = { status: 0, head: "" };
  private mode: BodyMode = "length";
  private left = 0;
  private chunkState: "size" | "data" | "crlf" | "trailer" = "size";
  private bodyBytes = 0;
  private closeAfter = false;
  closed = false;

  constructor(readonly socket: tls.TLSSocket) {
    socket.on("data", (d: Buffer) => this.onData(d));
    socket.on("close", () => this.onClose());
    socket.on("error", (e) => this.fail(e));
  }

  exchange(request: Buffer | string, opts: { onHead?: (h: ResponseHead) => void; onBody?: (chunk: Buffer) => void } = {}) {
    return new Promise<{ head: ResponseHead; bodyBytes: number; closed: boolean }>((resolve, reject) => {
      if (this.closed) return reject(new Error("connection closed"));
      this.pending = { ...opts, resolve, reject };
      this.headDone = false;
      this.bodyBytes = 0;
      this.socket.write(request);
    });
  }

  /** Like `exchange`, but the request body is written by `writeBody` (backpressure is its job). */
  exchangeStreaming(head: string, writeBody: (s: tls.TLSSocket) => void) {
    const p = this.exchange(head);
    writeBody(this.socket);
    return p;
  }

  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private fail(e: Error): void {
    this.closed = true;
    const p = this.pending;
    this.pending = null;
    p?.reject(e);
  }

  private onClose(): void {
    this.closed = true;
    if (this.pending && this.headDone && this.mode === "close") return this.finish(true);
    this.fail(new Error("connection closed mid-response"));
  }

  private finish(closed: boolean): void {
    const p = this.pending;
    this.pending = null;
    if (this.closeAfter && !closed) this.destroy();
    p?.resolve({ head: this.head, bodyBytes: this.bodyBytes, closed: closed || this.closeAfter });
  }

  private onData(d: Buffer): void {
    if (!this.pending) return;
    let data = d;
    if (!this.headDone) {
      data = this.buf ? Buffer.concat([this.buf, d]) : d;
      const end = data.indexOf("\r\n\r\n");
      if (end === -1) {
        this.buf = data;
        return;
      }
      this.buf = null;
      this.parseHead(data.toString("latin1", 0, end));
      data = data.subarray(end + 4);
      this.pending.onHead?.(this.head);
      if (this.mode === "length" && this.left === 0) return this.finish(false);
    }
    this.body(data);
  }

  private parseHead(text: string): void {
    this.headDone = true;
    const status = Number(text.slice(9, 12));
    this.head = { status, head: text };
    const lower = text.toLowerCase();
    this.closeAfter = /\r\nconnection: *close/.test(lower);
    const cl = /\r\ncontent-length: *(\d+)/.exec(lower);
    if (/\r\ntransfer-encoding: *chunked/.test(lower)) {
      this.mode = "chunked";
      this.chunkState = "size";
    } else if (cl?.[1] !== undefined) {
      this.mode = "length";
      this.left = Number(cl[1]);
    } else if (status === 204 || status === 304) {
      this.mode = "length";
      this.left = 0;
    } else {
      this.mode = "close";
    }
  }

  private body(data: Buffer): void {
    if (data.length === 0) return;
    if (this.mode === "close") {
      this.deliver(data);
      return;
    }
    if (this.mode === "length") {
      const take = Math.min(this.left, data.length);
      this.deliver(data.subarray(0, take));
      this.left -= take;
      if (this.left === 0) this.finish(false);
      return;
    }
    this.chunked(data);
  }

  private deliver(chunk: Buffer): void {
    this.bodyBytes += chunk.length;
    this.pending?.onBody?.(chunk);
  }

  /** Chunked decoding; size and trailer lines are assumed not to straddle reads more than once. */
  private chunked(input: Buffer): void {
    let data = this.buf ? Buffer.concat([this.buf, input]) : input;
    this.buf = null;
    while (data.length > 0 && this.pending) {
      if (this.chunkState === "data") {
        const take = Math.min(this.left, data.length);
        this.deliver(data.subarray(0, take));
        this.left -= take;
        data = data.subarray(take);
        if (this.left === 0) this.chunkState = "crlf";
        continue;
      }
      const eol = data.indexOf("\r\n");
      if (eol === -1) {
        this.buf = data;
        return;
      }
      const line = data.toString("latin1", 0, eol);
      data = data.subarray(eol + 2);
      if (this.chunkState === "crlf") {
        this.chunkState = "size";
      } else if (this.chunkState === "size") {
        const size = parseInt(line, 16);
        if (size === 0) this.chunkState = "trailer";
        else {
          this.left = size;
          this.chunkState = "data";
        }
      } else if (line === "") {
        this.finish(false);
        return;
      }
    }
  }
}

/**
 * Connections upstream for allowed requests: two keep-alive agents, one per scheme, so that an
 * `http:` request can never ride a TLS connection or the reverse. An idle upstream connection is
 * reused by the next request for the same host, port and TLS name, whichever of the agent's
 * connections it comes from: a proxy serves one bottle, that is one agent, and no credential
 * lives on a connection, only on each request. (mockttp keeps one pool per agent connection, as
 * a proxy of many unrelated clients must; here that made every new agent connection pay a new
 * tunnel and TLS handshake upstream, about half the cost of a new connection.)
 *
 * Every new upstream connection is a CONNECT tunnel through the upstream proxy (pipelock) to the
 * route's canonical host name, never an IP the proxy resolved (pipelock checks names); plain
 * `http:` routes are tunnelled too, so pipelock sees every destination the same way.
 *
 * pipelock limits new tunnels per domain per minute and refuses more with 429: a request takes
 * one of its origin's few connection slots first, and waits for one when all are busy, so that a
 * burst reuses the same tunnels instead of opening one per concurrent request.
 */
import http from "node:http";
import https from "node:https";
import net from "node:net";
import tls from "node:tls";
import type { Duplex } from "node:stream";

/** The message prefix of a refused tunnel, here and in the patched agent of mockttp/internals.ts. */
export const REFUSED_TUNNEL = "upstream proxy refused the tunnel";

/** Why a request could not be sent upstream, as the audit line and the 502 body say it. */
export type UpstreamFailure = "refused" | "unreachable";

/** An error that says which failure it is. */
export class UpstreamError extends Error {
  constructor(readonly failure: UpstreamFailure, message: string) {
    super(message);
    this.name = "UpstreamError";
  }
}

/**
 * How long an unused upstream connection is kept. pipelock keeps an idle tunnel far longer (a
 * bottle's `idle_timeout_seconds`, components/pipelock-config.ts): the limit that matters is the
 * origin's keep-alive, 5 s by default in Node's server (a shorter `Keep-Alive: timeout=N` is
 * honoured by Node's agent). Keeping longer meets origins' own drops, and a POST written to a
 * dropped connection fails: only bodiless GET/HEAD/OPTIONS are sent again.
 */
const IDLE_POOLED_MS = 4000;

/**
 * Upstream connections (tunnels) per origin at most; a request beyond them waits for a free one
 * instead of opening another. A slot opens a new tunnel only after its last one sat unused for
 * IDLE_POOLED_MS (or the origin closed it): at most 32 x (60 s / 4 s + 1) = 512 a minute, within
 * the 600 per domain a bottle's pipelock allows. Far below pipelock's 1024 tunnels in all, far
 * above what an agent's parallel calls need. Origins of one registrable domain (api.x.com,
 * uploads.x.com; http and https) share pipelock's budget.
 */
export const MAX_TUNNELS_PER_ORIGIN = 32;

/** A CONNECT reply larger than this is not a proxy speaking HTTP. */
const MAX_CONNECT_REPLY = 16 * 1024;

/** The agents of one proxy process. */
export interface UpstreamAgents {
  http: http.Agent;
  https: https.Agent;
  /**
   * Take a connection slot of `origin` (scheme, host and port): `granted` runs once one is free,
   * with the function that gives it back (after the request's 'close'); `gaveUp` runs instead
   * after `waitMs` without one. Returns the function that withdraws the wait.
   */
  slot(origin: string, waitMs: number, granted: (release: () => void) => void, gaveUp: () => void): () => void;
  /** Close every upstream connection and end every wait (on shutdown). */
  destroy(): void;
}

type Done = (err: Error | null, socket?: Duplex) => void;
interface ConnectOptions {
  host?: string | null;
  port?: number | string | null;
  servername?: string;
}

/** `proxyUrl` undefined means direct egress (EGRESS_PROXY_UPSTREAM=direct). */
export function upstreamAgents(proxyUrl: string | undefined, idleMs: number): UpstreamAgents {
  const proxy = proxyUrl === undefined ? undefined : upstreamProxy(proxyUrl);
  const sessions = new TlsSessions();
  // An idle connection is closed after IDLE_POOLED_MS (or sooner, as the server's Keep-Alive
  // hint says): servers and pipelock drop idle connections on their own clocks, and a request
  // written to one they just closed fails. LIFO: the most recently used connection is the one
  // least likely to be closed; the others time out. Requests in flight have the idle limit.
  const common = { keepAlive: true, timeout: Math.min(IDLE_POOLED_MS, idleMs), scheduling: "lifo" as const };
  const plain = new http.Agent(common);
  const secure = new https.Agent({ ...common, ALPNProtocols: ["http/1.1"] });
  // Every connection, direct or tunnelled, is bounded by the idle limit from its first byte:
  // Node's agent only times out sockets it has handed to a request, after TLS is up.
  const connect = (opts: ConnectOptions, done: Done) => (proxy ? tunnel(proxy, opts, idleMs, done) : direct(opts, idleMs, done));
  plain.createConnection = ((opts: ConnectOptions, done: Done) => void connect(opts, done)) as unknown as typeof plain.createConnection;
  secure.createConnection = ((opts: ConnectOptions & tls.ConnectionOptions, done: Done) => {
    connect(opts, (err, raw) => {
      if (err || !raw) return done(err ?? new UpstreamError("unreachable", "no connection"));
      const key = `${opts.servername ?? ""}|${opts.host ?? ""}|${opts.port ?? ""}`;
      const socket = tls.connect({ ...opts, socket: raw, session: sessions.get(key) });
      socket.on("session", (session: Buffer) => sessions.set(key, session));
      let connected = false;
      socket.once("secureConnect", () => {
        connected = true;
        done(null, socket);
      });
      socket.once("error", (e) => {
        // A session the server no longer takes must not be offered again.
        sessions.delete(key);
        if (!connected) done(e);
      });
    });
  }) as unknown as typeof secure.createConnection;
  const slots = new OriginSlots(MAX_TUNNELS_PER_ORIGIN);
  return {
    http: plain,
    https: secure,
    slot: (origin, waitMs, granted, gaveUp) => slots.take(origin, waitMs, granted, gaveUp),
    destroy: () => {
      slots.endWaits();
      plain.destroy();
      secure.destroy();
    },
  };
}

type Waiter = { granted: (release: () => void) => void; gaveUp: () => void; timer: NodeJS.Timeout };

/**
 * The connection slots of each origin. A request holds one from before it asks the agent for a
 * socket until it closes, so an origin never has more sockets than slots, counting tunnels still
 * being opened: Node's own `maxSockets` counts a socket only once an asynchronous
 * createConnection (our CONNECT) has finished, so it lets a burst open a tunnel per request. Its
 * queue has no deadline either: here a waiter gives up after its wait limit (the idle limit), so
 * a pool kept busy by endless streams answers 502 rather than holding a request forever.
 * First come, first served.
 */
class OriginSlots {
  private readonly origins = new Map<string, { busy: number; waiting: Set<Waiter> }>();
  constructor(private readonly max: number) {}

  take(origin: string, waitMs: number, granted: (release: () => void) => void, gaveUp: () => void): () => void {
    let o = this.origins.get(origin);
    if (!o) this.origins.set(origin, (o = { busy: 0, waiting: new Set() }));
    if (o.busy < this.max) {
      o.busy += 1;
      granted(this.releaser(origin));
      return () => undefined;
    }
    const waiting = o.waiting;
    const w: Waiter = { granted, gaveUp, timer: setTimeout(() => void (waiting.delete(w), gaveUp()), waitMs) };
    waiting.add(w);
    return () => {
      clearTimeout(w.timer);
      waiting.delete(w);
    };
  }

  /** Give up every wait at once (shutdown). */
  endWaits(): void {
    for (const o of this.origins.values()) {
      for (const w of o.waiting) {
        clearTimeout(w.timer);
        w.gaveUp();
      }
      o.waiting.clear();
    }
  }

  private releaser(origin: string): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // A request's 'close' comes just before its socket is back in the agent's free list: the
      // next request asks for a socket after that, and reuses it instead of opening a tunnel.
      process.nextTick(() => this.handOn(origin));
    };
  }

  private handOn(origin: string): void {
    const o = this.origins.get(origin);
    if (!o) return;
    const next = o.waiting.values().next();
    if (next.done) {
      o.busy -= 1;
      if (o.busy === 0) this.origins.delete(origin);
      return;
    }
    o.waiting.delete(next.value);
    clearTimeout(next.value.timer);
    next.value.granted(this.releaser(origin));
  }
}

/** A TCP connection straight to the upstream (EGRESS_PROXY_UPSTREAM=direct). */
function direct(opts: ConnectOptions, idleMs: number, done: Done): void {
  const socket = net.connect(Number(opts.port), opts.host ?? "");
  socket.setNoDelay(true);
  socket.setTimeout(idleMs, () => socket.destroy(new UpstreamError("unreachable", "upstream timed out")));
  const onError = (e: Error) => done(e instanceof UpstreamError ? e : new UpstreamError("unreachable", "upstream unreachable"));
  socket.once("error", onError);
  socket.once("connect", () => {
    socket.off("error", onError);
    socket.on("error", () => undefined);
    done(null, socket);
  });
}

/**
 * TLS sessions of upstream servers: a new upstream connection resumes the last session of the
 * same server instead of a full handshake. Keyed by TLS name, host and port; a session is only
 * ever offered to the server identity that issued it. (Overriding createConnection leaves Node's
 * own session cache of the agent unused.)
 */
class TlsSessions {
  private readonly byKey = new Map<string, Buffer>();
  constructor(private readonly max = 256) {}
  get(key: string): Buffer | undefined {
    return this.byKey.get(key);
  }
  set(key: string, session: Buffer): void {
    this.byKey.delete(key);
    this.byKey.set(key, session);
    if (this.byKey.size > this.max) this.byKey.delete(this.byKey.keys().next().value as string);
  }
  delete(key: string): void {
    this.byKey.delete(key);
  }
}

/** The upstream proxy's address and the credential line of its CONNECTs, worked out once. */
interface UpstreamProxy {
  tls: boolean;
  host: string;
  port: number;
  authLine: string;
}

function upstreamProxy(proxyUrl: string): UpstreamProxy {
  const url = new URL(proxyUrl);
  let authLine = "";
  if (url.username) {
    let user: string;
    let password: string;
    try {
      user = decodeURIComponent(url.username);
      password = decodeURIComponent(url.password);
    } catch {
      throw new Error("HTTPS_PROXY: the user or password has a broken percent-escape; encode it with encodeURIComponent");
    }
    authLine = `Proxy-Authorization: Basic ${Buffer.from(`${user}:${password}`).toString("base64")}\r\n`;
  }
  const tlsToProxy = url.protocol === "https:";
  return { tls: tlsToProxy, host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port || (tlsToProxy ? 443 : 80)), authLine };
}

/** Open `CONNECT host:port` through the proxy; `done` gets the tunnel once the proxy said 200. */
function tunnel(proxy: UpstreamProxy, opts: ConnectOptions, idleMs: number, done: Done): void {
  const host = opts.host ?? "";
  const authority = `${host.includes(":") ? `[${host}]` : host}:${opts.port}`;
  const socket: net.Socket = proxy.tls
    ? tls.connect({ host: proxy.host, port: proxy.port, servername: net.isIP(proxy.host) ? undefined : proxy.host })
    : net.connect(proxy.port, proxy.host);
  socket.setNoDelay(true);
  socket.setTimeout(idleMs, () => socket.destroy(new UpstreamError("unreachable", "upstream proxy timed out")));

  let settled = false;
  const settle = (err: Error | null, rest?: Buffer) => {
    if (settled) return;
    settled = true;
    socket.off("readable", onReadable);
    socket.off("error", onError);
    socket.off("close", onClose);
    if (err) {
      socket.destroy();
      done(err);
    } else {
      // With no 'readable' listener left the socket is neither flowing nor paused: whoever
      // takes it (TLS, the HTTP client) starts reading, and any bytes after the reply wait for it.
      if (rest?.length) socket.unshift(rest);
      // TLS on top reads this socket's handle, not its events: an error here must not go unheard
      // (and end the process); the TLS socket or HTTP client sees the failure as a close.
      socket.on("error", () => undefined);
      done(null, socket);
    }
  };
  const onError = (e: Error) => settle(e instanceof UpstreamError ? e : new UpstreamError("unreachable", "upstream proxy unreachable"));
  const onClose = () => settle(new UpstreamError("unreachable", "upstream proxy closed the connection"));
  let head: Buffer = Buffer.alloc(0);
  const onReadable = () => {
    let chunk: Buffer | null;
    while (!settled && (chunk = socket.read() as Buffer | null) !== null) {
      head = head.length ? Buffer.concat([head, chunk]) : chunk;
      const end = head.indexOf("\r\n\r\n");
      if (end === -1) {
        if (head.length > MAX_CONNECT_REPLY) settle(new UpstreamError("unreachable", "upstream proxy sent an oversized reply"));
        continue;
      }
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.toString("latin1", 0, Math.min(end, 64)))?.[1];
      if (status !== "200") return settle(new UpstreamError("refused", `${REFUSED_TUNNEL} (${status ?? "no status"})`));
      return settle(null, head.subarray(end + 4));
    }
  };
  socket.on("readable", onReadable);
  socket.once("error", onError);
  socket.once("close", onClose);
  socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${proxy.authLine}\r\n`);
}

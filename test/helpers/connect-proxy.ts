/**
 * A minimal forward proxy standing in for pipelock in loopback tests: it answers CONNECT,
 * resolves test host names to 127.0.0.1 ports from a table it is given (never DNS), refuses
 * everything else with 403, and records every CONNECT target so tests can prove the chain.
 * With `maxTunnelsPerMinute` it also refuses new tunnels beyond pipelock's per-minute limit.
 */
import http from "node:http";
import net from "node:net";

export interface ConnectProxyOptions {
  /**
   * pipelock's `fetch_proxy.monitoring.max_requests_per_minute`: tunnels opened per domain in
   * any sliding 60 s; one more is answered 429. Unset: no limit.
   */
  maxTunnelsPerMinute?: number;
}

export interface ConnectProxy {
  url: string;
  port: number;
  /** Every CONNECT target, refused ones included, in order. */
  targets: string[];
  /** Targets of the tunnels that were opened (answered 200), in order. */
  opened: string[];
  /** Targets refused with 429 by the per-minute limit. */
  rateLimited: string[];
  /** Tunnels open now, per target. */
  openNow(target: string): number;
  close(): Promise<void>;
}

/**
 * pipelock's per-minute tunnel limit as seen from outside (v2.3.0, commit 7a3b7de,
 * `internal/scanner/ratelimit.go` and `checkRateLimit` in `internal/scanner/scanner.go`): a
 * sliding window of the last 60 s per registrable domain; only tunnels it allows are counted,
 * so refusals do not extend the wait; one past the limit gets 429.
 */
class TunnelRate {
  private readonly opened = new Map<string, number[]>();
  constructor(private readonly maxPerMinute: number) {}

  /** Count the tunnel and return true when the domain is under its limit. */
  admit(host: string, now = Date.now()): boolean {
    const key = registrableDomain(host);
    const recent = (this.opened.get(key) ?? []).filter((t) => t > now - 60_000);
    const allowed = recent.length < this.maxPerMinute;
    if (allowed) recent.push(now);
    this.opened.set(key, recent);
    return allowed;
  }
}

/**
 * pipelock keys its limit by eTLD+1 (the public suffix list), so that rotating subdomains does
 * not multiply the budget; the last two labels are the same thing for the test names (`*.test`).
 */
function registrableDomain(host: string): string {
  const name = host.toLowerCase().replace(/\.$/, "");
  if (net.isIP(name)) return name;
  return name.split(".").slice(-2).join(".");
}

/** The host of a CONNECT target `name:port` or `[v6]:port`. */
function targetHost(target: string): string {
  const v6 = /^\[([^\]]*)\](?::\d*)?$/.exec(target)?.[1];
  if (v6 !== undefined) return v6;
  const i = target.lastIndexOf(":");
  return i === -1 ? target : target.slice(0, i);
}

/** Start on a random loopback port; `hosts` maps `name:port` to the loopback port that serves it. */
export async function startConnectProxy(hosts: Record<string, number>, port = 0, options: ConnectProxyOptions = {}): Promise<ConnectProxy> {
  const targets: string[] = [];
  const opened: string[] = [];
  const rateLimited: string[] = [];
  const open = new Map<string, number>();
  const rate = options.maxTunnelsPerMinute === undefined ? undefined : new TunnelRate(options.maxTunnelsPerMinute);
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => {
    res.writeHead(405).end();
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("connect", (req, client, head) => {
    const target = req.url ?? "";
    targets.push(target);
    const local = hosts[target];
    if (local === undefined) {
      client.end("HTTP/1.1 403 Forbidden\r\n\r\n");
      return;
    }
    // As pipelock: the allowlist first, then the rate, before any connection upstream.
    if (rate && !rate.admit(targetHost(target))) {
      rateLimited.push(target);
      client.end("HTTP/1.1 429 Too Many Requests\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    const upstream = net.connect(local, "127.0.0.1", () => {
      opened.push(target);
      open.set(target, (open.get(target) ?? 0) + 1);
      upstream.once("close", () => open.set(target, (open.get(target) ?? 1) - 1));
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    targets,
    opened,
    rateLimited,
    openNow: (target) => open.get(target) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

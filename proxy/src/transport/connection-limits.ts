/**
 * Limits on the agent's connections. mockttp sets no timeouts, so a connection that never
 * finishes a request (silent, half a head, half a TLS handshake, a stalled upload, a silent
 * tunnel) was held forever: an agent could exhaust its own proxy's descriptors.
 */
import type { Socket } from "node:net";
import type { ConnectionSource } from "./connection-view";
import { unmapped } from "./agent-network";

/** Close any agent connection, and any tunnel inside one, after `idleMs` without traffic. */
export function closeIdleConnections(connections: ConnectionSource, idleMs: number): void {
  connections.on("connection", (socket) => {
    socket.setTimeout(idleMs, () => socket.destroy());
  });
}

/**
 * Destroy, before a byte is read, every TCP connection that did not arrive at one of `accepted`
 * (agent-network.ts says why). A socket unwrapped from a tunnel reports its TCP connection's
 * address or none; either way that connection was checked when it was accepted.
 */
export function acceptOnlyAt(connections: ConnectionSource, accepted: ReadonlySet<string>, refused: (local: string, remote: string) => void): void {
  connections.on("connection", (socket) => {
    const local = unmapped(socket.localAddress);
    if (local === undefined || accepted.has(local)) return;
    refused(local, unmapped(socket.remoteAddress) ?? "?");
    socket.destroy();
  });
}

/** Exchanges in progress per socket: pipelined requests overlap, and the last one restores. */
const answering = new WeakMap<Socket, number>();

/**
 * While the proxy itself owes the agent an answer, the agent's silence is not idleness: the
 * connection (and the tunnel under it) stays open, and the exchange's own upstream timeout
 * bounds the wait with a 502 instead. `chain` is the request's socket and the tunnels under it.
 * Returns the function that restores the idle limit.
 */
export function holdWhileAnswering(chain: readonly Socket[], idleMs: number): () => void {
  for (const s of chain) {
    answering.set(s, (answering.get(s) ?? 0) + 1);
    s.setTimeout(0);
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    for (const s of chain) {
      const left = (answering.get(s) ?? 1) - 1;
      answering.set(s, left);
      if (left === 0 && !s.destroyed) s.setTimeout(idleMs);
    }
  };
}

/**
 * ALPN: HTTP/1.1 only. mockttp, even with HTTP/2 off, picks the client's first protocol when it
 * offers no HTTP/1.1; an h2-only client now fails the handshake instead of reaching the rules.
 */
export function http1Only({ protocols }: { servername: string; protocols: string[] }): string | undefined {
  return protocols.find((p) => p === "http/1.1" || p === "http/1.0");
}

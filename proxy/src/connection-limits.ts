/**
 * Limits on the agent's connections. mockttp sets no timeouts, so a connection that never
 * finishes a request (silent, half a head, half a TLS handshake, a stalled upload, a silent
 * tunnel) was held forever: an agent could exhaust its own proxy's descriptors.
 */
import type { Socket } from "node:net";
import type { Mockttp } from "mockttp";

/** Close any agent connection, and any tunnel inside one, after `idleMs` without traffic. */
export function closeIdleConnections(server: Mockttp, idleMs: number): void {
  const listener = (server as unknown as { server?: { on(event: "connection", cb: (s: Socket) => void): void } }).server;
  if (!listener || typeof listener.on !== "function") {
    throw new Error("mockttp internals changed: no server to set idle timeouts on; pin mockttp to the tested version");
  }
  // mockttp emits every accepted socket, and every socket unwrapped from a tunnel, as a connection.
  listener.on("connection", (socket) => {
    socket.setTimeout(idleMs, () => socket.destroy());
  });
}

/**
 * ALPN: HTTP/1.1 only. mockttp, even with HTTP/2 off, picks the client's first protocol when it
 * offers no HTTP/1.1; an h2-only client now fails the handshake instead of reaching the rules.
 */
export function http1Only({ protocols }: { servername: string; protocols: string[] }): string | undefined {
  return protocols.find((p) => p === "http/1.1" || p === "http/1.0");
}

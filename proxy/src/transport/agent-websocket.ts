/** One end of a relayed WebSocket, as far as the relay uses it (the `ws` package's WebSocket). */
export interface AgentWebSocket {
  send(data: unknown, options?: unknown, cb?: unknown): void;
  close(code?: number, reason?: unknown): void;
  ping(data?: unknown, mask?: unknown, cb?: unknown): void;
  pong(data?: unknown, mask?: unknown, cb?: unknown): void;
}

/**
 * What the agent sends on a WebSocket, searched for the routes' placeholders
 * (route/placeholder-canary.ts): WebSocket routes carry no credential, so a placeholder in any
 * message or control frame is out of place. The message that completes one (read with the end
 * of the messages before it) is not sent, and both ends are closed (1008), whatever the route's
 * request inspection says.
 */
import type { AgentWebSocket } from "./agent-websocket";
import type { Canaries, PlaceholderAudit } from "../route/placeholder-canary";
import { asBuffer, POLICY_VIOLATION } from "./websocket-data";

export function watchPlaceholders(agent: AgentWebSocket, upstream: AgentWebSocket, canaries: Canaries, report: (found: PlaceholderAudit) => void): void {
  const send = upstream.send.bind(upstream);
  const ping = upstream.ping.bind(upstream);
  const pong = upstream.pong.bind(upstream);
  const close = upstream.close.bind(upstream);
  let context: Buffer = Buffer.alloc(0);
  let offset = 0;
  let stopped = false;
  const refuse = (found: PlaceholderAudit) => {
    stopped = true;
    report(found);
    close(POLICY_VIOLATION, "credential placeholder");
    agent.close(POLICY_VIOLATION, "credential placeholder");
  };
  /** True when `data` may go: it completes no placeholder. */
  const clear = (data: unknown, where: string, joined: boolean): boolean => {
    if (stopped) return false;
    const bytes = asBuffer(data);
    const text = joined ? Buffer.concat([context, bytes]) : bytes;
    // the stream offset of text's first byte
    const base = offset - context.length;
    const hit = canaries.find(text);
    if (joined) {
      context = Buffer.from(text.subarray(-canaries.window));
      offset += bytes.length;
    }
    if (!hit) return true;
    refuse({ route: hit.route, where: joined ? `${where}@${base + hit.at}` : where });
    return false;
  };
  upstream.send = (data: unknown, options?: unknown, cb?: unknown) => {
    if (clear(data, "ws", true)) send(data, options, cb);
  };
  // control frames carry up to 125 bytes of the agent's own: searched each on its own
  upstream.ping = (data?: unknown, mask?: unknown, cb?: unknown) => {
    if (clear(data, "ws-ping", false)) ping(data, mask, cb);
  };
  upstream.pong = (data?: unknown, mask?: unknown, cb?: unknown) => {
    if (clear(data, "ws-pong", false)) pong(data, mask, cb);
  };
  upstream.close = (code?: number, reason?: unknown) => {
    if (stopped) return;
    // a reason with a placeholder: the refusal closed both ends already
    if (reason === undefined || clear(reason, "ws-close", false)) close(code, reason);
  };
}

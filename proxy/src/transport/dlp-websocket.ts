/**
 * What the agent sends on a WebSocket, inspected like a request body (inspect/dlp-scan.ts): each
 * message whole (the WebSocket layer joins its fragments), read together with the end of the
 * messages before it, so that a secret cut across messages is found when its last part comes.
 * With `block`, the message that completes a secret is not sent and both ends are closed (1008);
 * the parts sent before it have left.
 */
import type { DlpAudit } from "../inspect/dlp-scan";
import { dlpAudit, type DlpScanner } from "../inspect/dlp-scan";
import { DlpStream } from "../inspect/dlp-stream";
import type { AgentWebSocket } from "./agent-websocket";
import { asBuffer, POLICY_VIOLATION } from "./websocket-data";

export function inspectAgentMessages(agent: AgentWebSocket, upstream: AgentWebSocket, scanner: DlpScanner, report: (dlp: DlpAudit) => void): void {
  const send = upstream.send.bind(upstream);
  const ping = upstream.ping.bind(upstream);
  const pong = upstream.pong.bind(upstream);
  const close = upstream.close.bind(upstream);
  let context: Buffer = Buffer.alloc(0);
  let stopped = false;
  let reported = false;
  let offset = 0;
  upstream.send = (data: unknown, options?: unknown, cb?: unknown) => {
    if (stopped) return;
    const message = asBuffer(data);
    const finding = DlpStream.scanAll(scanner, Buffer.concat([context, message]));
    offset += message.length;
    context = Buffer.from(Buffer.concat([context, message]).subarray(-DlpStream.WINDOW));
    if (finding && refused(finding.rule, `ws@${offset - message.length}`)) return;
    send(data, options, cb);
  };
  /** Report the first finding; with `block`, close both ends. True when the data must not go. */
  const refused = (rule: string, where: string): boolean => {
    if (!reported) {
      reported = true;
      report(dlpAudit(scanner.mode, { rule, where }));
    }
    if (scanner.mode !== "block") return false;
    stopped = true;
    close(POLICY_VIOLATION, "secret in request");
    agent.close(POLICY_VIOLATION, "secret in request");
    return true;
  };
  // control frames carry up to 125 bytes of the agent's own: searched each on its own
  const inspected = (where: string, data: unknown): boolean => {
    const bytes = asBuffer(data);
    const rule = bytes.length ? scanner.find(bytes.toString("latin1")) : undefined;
    return stopped || (rule !== undefined && refused(rule, where));
  };
  upstream.ping = (data?: unknown, mask?: unknown, cb?: unknown) => {
    if (!inspected("ws-ping", data)) ping(data, mask, cb);
  };
  upstream.pong = (data?: unknown, mask?: unknown, cb?: unknown) => {
    if (!inspected("ws-pong", data)) pong(data, mask, cb);
  };
  upstream.close = (code?: number, reason?: unknown) => {
    if (stopped) return;
    close(code, reason !== undefined && inspected("ws-close", reason) ? undefined : reason);
  };
}

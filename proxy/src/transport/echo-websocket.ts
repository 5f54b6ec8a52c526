/**
 * A WebSocket's upstream-to-agent direction, cleared of the bottle's tokens like every HTTP
 * answer (echo-guard.ts). Before the upgrade completes, the bytes written to the agent's socket
 * (an upstream's refusal is relayed raw) are searched as a stream. After it, each message from
 * upstream (whole: fragments are joined by the WebSocket layer) is searched as part of one
 * stream of all of them, so that a token split across messages is found too: a message whose
 * end may begin a token waits for the next, for the close, or at most MESSAGE_HOLD_MS (a
 * request-and-answer protocol would otherwise wait for a message that only its answer brings).
 * Ping, pong and close data are searched each on its own. With `on_echo: block` a finding
 * closes the WebSocket (1008).
 */
import type { Duplex } from "node:stream";
import { EchoLedger, type EchoAudit } from "../echo/echo-ledger";
import { EchoStream } from "../echo/echo-scan";
import type { EchoPolicy } from "../route/route-table";
import type { AgentWebSocket } from "./agent-websocket";
import { asBuffer, POLICY_VIOLATION } from "./websocket-data";

/** How long a message whose end may begin a token waits for the next one. */
export const MESSAGE_HOLD_MS = 250;

type Callback = (err?: Error) => void;

/** Search what is written to the agent's socket until `upgraded` is called (then it is the WebSocket's). */
export function guardUpgradeAnswer(socket: Duplex, policy: EchoPolicy, report: (audit: EchoAudit) => void): { upgraded(): void } {
  const stream = new EchoStream(policy.patterns);
  const ledger = new EchoLedger(policy.routeOf);
  // the socket's own methods, called as a stream's writer would (chunk, then a callback)
  const write = socket.write as (this: Duplex, chunk: Buffer, cb?: Callback) => boolean;
  const end = socket.end as (this: Duplex, ...args: unknown[]) => Duplex;
  let done = false;
  const restore = () => {
    socket.write = write as Duplex["write"];
    socket.end = end as Duplex["end"];
  };
  socket.write = function (this: Duplex, chunk: unknown, ...rest: unknown[]): boolean {
    const cb = rest.find((r): r is Callback => typeof r === "function");
    const { out, found } = stream.push(asBuffer(chunk));
    if (found.length) {
      ledger.add("upgrade-answer", found, true);
      if (policy.action === "block") {
        ledger.blocked();
        restore();
        socket.destroy();
        return false;
      }
    }
    return write.call(this, out, cb);
  } as Duplex["write"];
  socket.end = function (this: Duplex, ...args: unknown[]): Duplex {
    const chunk = typeof args[0] === "function" ? undefined : args[0];
    if (chunk !== undefined && chunk !== null) socket.write(chunk);
    const rest = stream.end();
    restore();
    if (rest.length) write.call(this, rest);
    return end.call(this, ...args.filter((a) => typeof a === "function"));
  } as Duplex["end"];
  socket.once("close", () => {
    if (!done) finish();
  });
  const finish = () => {
    done = true;
    const audit = ledger.audit();
    if (audit) report(audit);
  };
  return {
    upgraded: () => {
      // the handshake the WebSocket layer wrote ends in a blank line: nothing is held
      const rest = stream.end();
      restore();
      if (rest.length) write.call(socket, rest);
      finish();
    },
  };
}

/** Wrap the methods the relay uses to hand upstream data to the agent's WebSocket. */
export function guardMessages(ws: AgentWebSocket, policy: EchoPolicy, report: (audit: EchoAudit) => void): void {
  const send = ws.send.bind(ws);
  const close = ws.close.bind(ws);
  const ping = ws.ping.bind(ws);
  const pong = ws.pong.bind(ws);
  const stream = new EchoStream(policy.patterns);
  /** Messages received but not yet sent, and the searched bytes ready for them. */
  let waiting: { length: number; options: unknown; cb: unknown }[] = [];
  let ready: Buffer[] = [];
  let stopped = false;

  /** One report per finding message (or control frame), so each says where it was. */
  const found = (where: string, findings: Parameters<EchoLedger["add"]>[1], withOffset: boolean): boolean => {
    const ledger = new EchoLedger(policy.routeOf);
    ledger.add(where, findings, withOffset);
    if (policy.action === "block") ledger.blocked();
    const audit = ledger.audit();
    if (audit) report(audit);
    if (policy.action !== "block") return false;
    stopped = true;
    waiting = [];
    ready = [];
    close(POLICY_VIOLATION, "response carried a credential");
    return true;
  };

  let holding: NodeJS.Timeout | undefined;
  const sendReady = () => {
    let bytes = Buffer.concat(ready);
    while (waiting[0] && waiting[0].length <= bytes.length) {
      const { length, options, cb } = waiting.shift() as (typeof waiting)[number];
      send(bytes.subarray(0, length), options, cb);
      bytes = bytes.subarray(length);
    }
    ready = bytes.length ? [bytes] : [];
    if (waiting.length === 0) {
      clearTimeout(holding);
      holding = undefined;
    } else {
      // what is held began no token after all if nothing comes to finish it
      holding ??= setTimeout(() => {
        holding = undefined;
        if (stopped) return;
        ready.push(stream.end());
        sendReady();
      }, MESSAGE_HOLD_MS);
    }
  };

  ws.send = (data: unknown, options?: unknown, cb?: unknown) => {
    if (stopped) return;
    const message = asBuffer(data);
    const r = stream.push(message);
    if (r.found.length && found("ws", r.found, true)) return;
    const callback = typeof options === "function" ? options : cb;
    waiting.push({ length: message.length, options: typeof options === "function" ? {} : options, cb: callback });
    ready.push(r.out);
    sendReady();
  };
  const control = (where: string, data: unknown): Buffer | undefined => {
    const r = policy.patterns.redactText(asBuffer(data).toString("latin1"));
    if (r.found.length && found(where, r.found, false)) return undefined;
    return Buffer.from(r.text, "latin1");
  };
  ws.ping = (data?: unknown, mask?: unknown, cb?: unknown) => {
    const clean = control("ws-ping", data);
    if (clean) ping(clean, mask, cb);
  };
  ws.pong = (data?: unknown, mask?: unknown, cb?: unknown) => {
    const clean = control("ws-pong", data);
    if (clean) pong(clean, mask, cb);
  };
  ws.close = (code?: number, reason?: unknown) => {
    // already closed for an echo: the upstream's own close (and its reason) has nothing to add
    if (stopped) return;
    clearTimeout(holding);
    // the stream ended: what was held began no token
    ready.push(stream.end());
    sendReady();
    const clean = reason === undefined ? undefined : control("ws-close", reason);
    if (stopped) return;
    close(code, clean);
  };
}

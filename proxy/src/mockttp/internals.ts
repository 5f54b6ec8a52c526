/**
 * Every use of a private part of mockttp 4.6.5, or of the https-proxy-agent it loads, in one
 * place. Each accessor fails at start-up, naming what moved, if the part is not there; and
 * `selfCheck` (run once the proxy listens) drives a real request through them, so that a part
 * that is there but behaves otherwise fails the start too, not a request later.
 *
 *   server.app                  mockttp's request listener, replaced by our request path
 *   server.server               its listening server, whose `connection` and `tlsClientError` events we watch
 *   util/socket-extensions.js   the socket symbols under which it records CONNECT target, SNI, TLS
 *   socket._parent              the tunnel socket under each TLS socket it unwraps
 *   HttpsProxyAgent.connect     patched so that a refused tunnel is an error, not a fake response
 *   WsStepLookup                its table of WebSocket step implementations, given one of ours
 *   'ws-upgrade'                the event on the agent's socket that hands over its WebSocket
 */
import type { ClientRequest, IncomingMessage, RequestListener } from "node:http";
import type { Socket } from "node:net";
import path from "node:path";
import type { Mockttp } from "mockttp";
import type { AgentWebSocket } from "../transport/agent-websocket";
import type { ConnectionFacts, ConnectionSource, ConnectionView } from "../transport/connection-view";
import { REFUSED_TUNNEL } from "../transport/upstream-agents";

const MOVED = "pin mockttp to the tested version (4.6.5)";

/** Put `listener` in place of mockttp's request listener; call before `start()`. */
export function takeRequestPath(server: Mockttp, listener: RequestListener): void {
  const holder = server as unknown as { app?: unknown };
  if (typeof holder.app !== "function") throw new Error(`mockttp internals changed: no request listener (server.app) to replace; ${MOVED}`);
  holder.app = listener;
}

/** mockttp's listening server (after `start()`): it emits every accepted socket and every socket unwrapped from a tunnel. */
export function connectionEvents(server: Mockttp): ConnectionSource {
  const listener = (server as unknown as { server?: ConnectionSource }).server;
  if (!listener || typeof listener.on !== "function") throw new Error(`mockttp internals changed: no server (server.server) to watch connections on; ${MOVED}`);
  return listener;
}

type TlsErrorSource = { on(event: "tlsClientError", cb: (error: Error & { code?: string }, socket: Socket) => void): void };

/**
 * Every failed TLS handshake with an agent's client, with Node's error (which names the alert the
 * client sent) and the socket. mockttp's own `tls-client-error` event keeps only a coarse cause,
 * and prints the error as text when it cannot classify it (main.ts routes that text).
 */
export function onTlsClientError(server: Mockttp, failed: (error: Error & { code?: string }, socket: Socket) => void): void {
  const listener = (server as unknown as { server?: TlsErrorSource }).server;
  if (!listener || typeof listener.on !== "function") throw new Error(`mockttp internals changed: no server (server.server) to watch TLS failures on; ${MOVED}`);
  listener.on("tlsClientError", failed);
}

interface SocketSymbols {
  LastTunnelAddress: symbol;
  LastHopEncrypted: symbol;
  TlsMetadata: symbol;
}
// The package's export map hides util/, so resolve the file next to its entry point.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a file the export map does not list
const symbols: SocketSymbols = require(path.join(path.dirname(require.resolve("mockttp")), "util", "socket-extensions.js"));
if (![symbols.LastTunnelAddress, symbols.LastHopEncrypted, symbols.TlsMetadata].every((s) => typeof s === "symbol")) {
  throw new Error(`mockttp internals changed: socket-extensions symbols not found; ${MOVED}`);
}

export function connectionFacts(socket: object): ConnectionFacts {
  const s = socket as Record<symbol, unknown>;
  const tunnel = s[symbols.LastTunnelAddress];
  const tls = s[symbols.TlsMetadata] as { sniHostname?: string } | undefined;
  return { connectAuthority: typeof tunnel === "string" ? tunnel : undefined, sni: tls?.sniHostname || undefined, encrypted: s[symbols.LastHopEncrypted] === true };
}

/** The SNI and CONNECT target of a connection whose TLS handshake failed: what mockttp recorded on it or the tunnel under it. */
export function failedHandshakeFacts(socket: Socket): { sni: string | undefined; connectAuthority: string | undefined } {
  const chain = tunnelChain(socket).map(connectionFacts);
  const servername = (socket as Socket & { servername?: unknown }).servername;
  return {
    sni: chain.find((f) => f.sni)?.sni ?? (typeof servername === "string" && servername !== "" ? servername : undefined),
    connectAuthority: chain.find((f) => f.connectAuthority)?.connectAuthority,
  };
}

/** A socket and the tunnel sockets under it: mockttp wraps each intercepted tunnel in a TLSSocket whose `_parent` is the tunnel. */
export function tunnelChain(socket: Socket): Socket[] {
  const chain: Socket[] = [];
  for (let s: Socket | undefined = socket; s && chain.length < 4; s = (s as Socket & { _parent?: Socket })._parent) chain.push(s);
  return chain;
}

/** The connection facts and tunnel chains above, as the interface transport reads them through. */
export const connectionView: ConnectionView = { facts: connectionFacts, tunnelChain };

interface AgentModule {
  HttpsProxyAgent: { prototype: { connect(req: ClientRequest, opts: unknown): Promise<{ destroy(): void }> } };
}

let refusalPatched = false;

/**
 * When the upstream proxy (pipelock) refuses a tunnel, https-proxy-agent hands the client a fake
 * socket that replays the refusal, so mockttp relayed pipelock's bare 403 to the agent as if the
 * upstream API had sent it. Patch the agent that mockttp loads (idempotent) so that a refusal is
 * an error: mockttp fails the WebSocket upgrade as an upstream failure instead.
 */
export function refuseReplayedTunnelRefusals(): void {
  if (refusalPatched) return;
  const fromMockttp = require.resolve("https-proxy-agent", { paths: [path.dirname(require.resolve("mockttp"))] });
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the copy mockttp itself loads, found by path
  const { HttpsProxyAgent } = require(fromMockttp) as AgentModule;
  const connect = HttpsProxyAgent.prototype.connect;
  if (typeof connect !== "function") throw new Error(`https-proxy-agent internals changed: no connect(); ${MOVED}`);
  HttpsProxyAgent.prototype.connect = async function (this: unknown, req: ClientRequest, opts: unknown) {
    let refusedWith: number | undefined;
    const onConnect = (res: Pick<IncomingMessage, "statusCode">) => {
      if (res.statusCode !== 200) refusedWith = res.statusCode;
    };
    req.once("proxyConnect", onConnect);
    try {
      const socket = await connect.call(this, req, opts);
      if (refusedWith !== undefined) {
        socket.destroy();
        throw Object.assign(new Error(`${REFUSED_TUNNEL} (${refusedWith})`), { code: "E_UPSTREAM_PROXY_REFUSED" });
      }
      return socket;
    } finally {
      req.off("proxyConnect", onConnect);
    }
  };
  refusalPatched = true;
}

/** A WebSocket rule step of ours: runs `run(req, socket)` and lets the rule go on to its next step. */
export interface ContinueStep {
  readonly type: typeof CONTINUE_STEP;
  run(req: unknown, socket: unknown): void;
  explain(): string;
}

const CONTINUE_STEP = "bot-bottle-continue";

interface StepTable {
  [type: string]: { isFinal?: boolean; prototype: object };
}

let stepRegistered = false;

/**
 * A step that runs our code before a WebSocket rule's final step. mockttp has no public hook
 * between a rule's matching and its passthrough; its rules build each step from the
 * implementation its lookup table names, and copy the step's fields onto it, so a non-final
 * implementation of ours in that table runs `run` (a field of the step) and continues.
 */
export function continueStep(label: string, run: (req: unknown, socket: unknown) => void): ContinueStep {
  if (!stepRegistered) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a file the export map does not list
    const impls = require(path.join(path.dirname(require.resolve("mockttp")), "rules", "websockets", "websocket-step-impls.js")) as { WsStepLookup?: StepTable };
    const table = impls.WsStepLookup;
    if (!table || typeof table["ws-passthrough"]?.prototype !== "object") throw new Error(`mockttp internals changed: no WebSocket step table (WsStepLookup); ${MOVED}`);
    class ContinueStepImpl {
      static readonly isFinal = false;
      declare run: (req: unknown, socket: unknown) => void;
      handle(req: unknown, socket: unknown): Promise<{ continue: true }> {
        this.run(req, socket);
        return Promise.resolve({ continue: true });
      }
      // mockttp disposes every step of the rules a reload replaces
      dispose(): void {}
    }
    table[CONTINUE_STEP] = ContinueStepImpl;
    stepRegistered = true;
  }
  return { type: CONTINUE_STEP, run, explain: () => label };
}

/** The upstream end that mockttp paired with the agent's WebSocket (it relays agent messages to its `send`). */
export function upstreamWebSocketOf(ws: AgentWebSocket): AgentWebSocket {
  const upstream = (ws as { upstreamWebSocket?: AgentWebSocket }).upstreamWebSocket;
  if (typeof upstream?.send !== "function") throw new Error(`mockttp internals changed: no upstreamWebSocket on the agent's WebSocket; ${MOVED}`);
  return upstream;
}

/**
 * Call `paired(ws)` with the agent's WebSocket once the passthrough has it, before it starts
 * relaying: mockttp emits it on the agent's socket as 'ws-upgrade', then wires both directions.
 */
export function onAgentWebSocket(socket: unknown, paired: (ws: AgentWebSocket) => void): void {
  const s = socket as { once?: (event: string, cb: (ws: AgentWebSocket) => void) => void };
  if (typeof s.once !== "function") throw new Error(`mockttp internals changed: a WebSocket step was given no socket; ${MOVED}`);
  s.once("ws-upgrade", (ws) => {
    if (typeof ws?.send !== "function" || typeof ws.close !== "function") throw new Error(`mockttp internals changed: 'ws-upgrade' carried no WebSocket; ${MOVED}`);
    paired(ws);
  });
}

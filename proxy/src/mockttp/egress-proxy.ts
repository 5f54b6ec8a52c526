/**
 * The egress proxy: mockttp terminates the agent's connections (CONNECT, TLS with leaf
 * certificates minted from the bottle CA); plain requests then take our own request path
 * (transport/http-exchange.ts) and WebSocket upgrades take mockttp's rules. One audit line per decision.
 * Reloading swaps the route table; connections already open stay open and their next request
 * meets the new table.
 */
import * as mockttp from "mockttp";
import type { Admission } from "../route/admission";
import type { Duplex } from "node:stream";
import { auditLine, auditRecord, dlpLine, echoLine, eventLine, placeholderLine, type AuditSink } from "../audit/audit-log";
import type { EchoAudit } from "../echo/echo-ledger";
import { guardMessages, guardUpgradeAnswer } from "../transport/echo-websocket";
import { DENY_REASONS } from "../route/decide";
import { handleExchange, type ExchangeContext } from "../transport/http-exchange";
import { policyRules } from "./policy-rules";
import { acceptOnlyAt, closeIdleConnections, http1Only } from "../transport/connection-limits";
import { connectionEvents, connectionView, failedHandshakeFacts, onAgentWebSocket, onTlsClientError, refuseReplayedTunnelRefusals, takeRequestPath, upstreamWebSocketOf } from "./internals";
import { describeTlsFailure } from "../audit/tls-failure";
import { inspectAgentMessages } from "../transport/dlp-websocket";
import { watchPlaceholders } from "../transport/canary-websocket";
import { upstreamAgents, type UpstreamAgents } from "../transport/upstream-agents";
import type { RouteTable } from "../route/route-table";
import { prepareUpgrade, webSocketAdmitter } from "./websocket-admission";

export interface EgressProxyOptions {
  /** Port to listen on (all interfaces: mockttp binds no specific address); 0 picks a free one. */
  port: number;
  /** The bottle CA, PEM. Leaf certificates for each host are minted from it. */
  ca: { cert: string; key: string };
  /** Where every allowed request goes (pipelock); undefined only when direct egress was asked for. */
  upstreamProxy: string | undefined;
  bottle: string;
  sink: AuditSink;
  /** A connection (or tunnel) with no traffic for this long is closed. */
  idleTimeoutMs: number;
  /** When given, connections that arrive at any other local address are refused (transport/agent-network.ts). */
  acceptedAddresses?: ReadonlySet<string>;
}

/** mockttp as the proxy runs it; the start-up self-check (self-check.ts) runs the same. */
export function serverOptions(ca: { cert: string; key: string }): mockttp.MockttpOptions {
  return {
    https: {
      cert: ca.cert,
      key: ca.key,
      // mockttp spreads these into tls.createServer; its type lists only minVersion.
      tlsServerOptions: { minVersion: "TLSv1.2", ...({ ALPNCallback: http1Only } as object) },
    },
    http2: false,
    recordTraffic: false,
    // Only WebSocket upgrades are pre-processed by mockttp, and they have no body to keep.
    maxBodySize: 0,
    cors: false,
    suggestChanges: false,
  };
}

export class EgressProxy {
  private readonly server: mockttp.Mockttp;
  private readonly agents: UpstreamAgents;
  private table: RouteTable;

  constructor(table: RouteTable, private readonly options: EgressProxyOptions) {
    this.table = table;
    refuseReplayedTunnelRefusals();
    this.agents = upstreamAgents(options.upstreamProxy, options.idleTimeoutMs);
    this.server = mockttp.getLocal(serverOptions(options.ca));
    const context: ExchangeContext = {
      table: () => this.table,
      agents: this.agents,
      bottle: options.bottle,
      idleTimeoutMs: options.idleTimeoutMs,
      connections: connectionView,
      log: (record) => options.sink(auditLine(record)),
    };
    takeRequestPath(this.server, (req, res) => handleExchange(context, req, res));
  }

  /** Start listening; resolves with the port. */
  async start(): Promise<number> {
    await this.server.start(this.options.port === 0 ? undefined : this.options.port);
    closeIdleConnections(connectionEvents(this.server), this.options.idleTimeoutMs);
    // a client that refuses the bottle's certificate, or shares no TLS version or protocol with it, fails here
    onTlsClientError(this.server, (error, socket) => {
      const { sni, connectAuthority } = failedHandshakeFacts(socket);
      const failure = describeTlsFailure(error.code, error.message);
      this.event("tls_failed", {
        reason: failure.reason,
        // a name the agent sent, bounded like the host of a decision line
        sni: (sni ?? "").slice(0, 255),
        connect: (connectAuthority ?? "").slice(0, 261),
        ...(failure.alert ? { alert: failure.alert } : {}),
        ...(failure.error ? { error: failure.error } : {}),
      });
    });
    if (this.options.acceptedAddresses) {
      acceptOnlyAt(connectionEvents(this.server), this.options.acceptedAddresses, (local, remote) =>
        this.event("connection_refused", { reason: "not on the agent network", local, remote }),
      );
    }
    await this.install(this.table);
    return this.server.port;
  }

  /** Number of routes in force. */
  get routeCount(): number {
    return this.table.routes.length;
  }

  /** Put a new table in force (already validated: a bad file never gets here). */
  async apply(table: RouteTable): Promise<void> {
    await this.install(table);
    this.table = table;
  }

  async stop(): Promise<void> {
    await this.server.stop();
    this.agents.destroy();
  }

  private async install(table: RouteTable): Promise<void> {
    const rules = policyRules(table, webSocketAdmitter(table), this.options.upstreamProxy, (req, admission, socket) => {
      this.logWebSocket(admission);
      prepareUpgrade(req, admission, table);
      if (admission.decision.verdict === "allow") this.guardWebSocket(socket, table, admission, admission.decision.routeIndex);
    });
    await this.server.setRequestRules(...rules.request);
    await this.server.setWebSocketRules(...rules.webSocket);
  }

  /** WebSocket upgrades are logged when admitted: after that the connection is a tunnel of frames. */
  private logWebSocket(admission: Admission): void {
    const d = admission.decision;
    const status = d.verdict === "deny" ? DENY_REASONS[d.reason] : null;
    this.options.sink(auditLine({ ...auditRecord(this.options.bottle, admission), status }));
  }

  /**
   * An admitted WebSocket: what its upstream sends is cleared of the bottle's tokens
   * (transport/echo-websocket.ts), what the agent sends is inspected for secrets (dlp-websocket.ts)
   * and searched for placeholders (canary-websocket.ts).
   */
  private guardWebSocket(socket: unknown, table: RouteTable, admission: Admission, route: number): void {
    const exchange = { bottle: this.options.bottle, method: admission.method, host: admission.host, path: admission.path, route };
    const policy = table.echo;
    const scanner = table.dlp[route];
    const answer = policy && guardUpgradeAnswer(socket as Duplex, policy, (echo) => this.options.sink(echoLine(exchange, echo)));
    onAgentWebSocket(socket, (ws) => {
      if (policy && answer) {
        answer.upgraded();
        guardMessages(ws, policy, (echo: EchoAudit) => this.options.sink(echoLine(exchange, echo)));
      }
      if (scanner && scanner.mode !== "off") inspectAgentMessages(ws, upstreamWebSocketOf(ws), scanner, (dlp) => this.options.sink(dlpLine(exchange, dlp)));
      // wrapped last, so it runs first: a placeholder stops a message before request inspection reads it
      const canaries = table.canaries;
      if (canaries) watchPlaceholders(ws, upstreamWebSocketOf(ws), canaries, (found) => this.options.sink(placeholderLine(exchange, found)));
    });
  }

  /** Log an operational event in the audit stream. */
  event(name: string, fields: Record<string, string | number | boolean> = {}): void {
    this.options.sink(eventLine(name, { bottle: this.options.bottle, ...fields }));
  }
}


/**
 * The egress proxy: mockttp as the HTTP(S) engine, our admission and rules as the policy, one
 * audit line per decision. Reloading swaps the rule set; connections already open stay open and
 * their next request meets the new rules.
 */
import type { IncomingMessage } from "node:http";
import * as mockttp from "mockttp";
import { admitter, MAX_INSPECTED_FORM, type Admission } from "./admission";
import { DENY_REASONS } from "./decide";
import { auditLine, eventLine, type AuditRecord, type AuditSink } from "./audit-log";
import type { MockttpRequest } from "./mockttp-types";
import { policyRules } from "./policy-rules";
import { closeIdleConnections, http1Only } from "./connection-limits";
import { guardUnparseableTargets } from "./target-guard";
import { refuseReplayedTunnelRefusals } from "./upstream-proxy-refusal";
import { observeResponses, type ResponseSummary } from "./response-observer";
import type { RouteTable } from "./route-table";

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
}

/**
 * Largest body prefix mockttp keeps per message; beyond it, bodies stream and are not kept.
 * Form bodies that admission reads for `_method` must fit in it.
 */
const MAX_KEPT_BODY = MAX_INSPECTED_FORM;

export class EgressProxy {
  private readonly server: mockttp.Mockttp;
  private readonly admissions = new WeakMap<object, Admission | Promise<Admission>>();
  private readonly unparseable = new WeakSet<object>();
  private table: RouteTable;

  constructor(table: RouteTable, private readonly options: EgressProxyOptions) {
    this.table = table;
    refuseReplayedTunnelRefusals();
    this.server = mockttp.getLocal({
      https: {
        cert: options.ca.cert,
        key: options.ca.key,
        // mockttp spreads these into tls.createServer; its type lists only minVersion.
        tlsServerOptions: { minVersion: "TLSv1.2", ...({ ALPNCallback: http1Only } as object) },
      },
      http2: false,
      recordTraffic: false,
      maxBodySize: MAX_KEPT_BODY,
      cors: false,
      suggestChanges: false,
    });
    observeResponses(this.server, (req, summary) => this.logHttp(req, summary));
    guardUnparseableTargets(this.server, this.unparseable);
  }

  /** Start listening; resolves with the port. */
  async start(): Promise<number> {
    await this.server.start(this.options.port === 0 ? undefined : this.options.port);
    closeIdleConnections(this.server, this.options.idleTimeoutMs);
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
  }

  private async install(table: RouteTable): Promise<void> {
    const admit = admitter(table, this.admissions, this.unparseable, (req, a) => this.logWebSocket(req, a));
    const rules = policyRules(table, admit, this.options.upstreamProxy);
    await this.server.setRequestRules(...rules.request);
    await this.server.setWebSocketRules(...rules.webSocket);
  }

  private logHttp(req: IncomingMessage, s: ResponseSummary): void {
    const known = this.admissions.get(req);
    // A pending admission (a form body still being read) has been answered before it settled.
    const admission = known instanceof Promise ? undefined : known;
    const base = this.record(admission, req);
    let verdict = base.verdict;
    let reason = base.reason;
    if (s.upstreamFailure) {
      verdict = "error";
      reason = s.upstreamFailure === "refused" ? "upstream proxy refused" : "upstream unreachable";
    } else if (s.aborted && verdict === "allow") {
      reason = "aborted";
    }
    this.options.sink(auditLine({ ...base, verdict, reason, status: s.status, bytes: s.bytes, duration_ms: Math.round(s.durationMs * 100) / 100 }));
  }

  /** WebSocket upgrades bypass the connect app, so they are logged when admitted. */
  private logWebSocket(req: MockttpRequest, admission: Admission): void {
    if (req.protocol !== "ws" && req.protocol !== "wss") return;
    const d = admission.decision;
    const status = d.verdict === "deny" ? DENY_REASONS[d.reason] : null;
    this.options.sink(auditLine({ ...this.record(admission, req), status }));
  }

  private record(admission: Admission | undefined, req: { method?: string }): AuditRecord {
    if (!admission) {
      return { bottle: this.options.bottle, method: req.method ?? "", host: "", path: "", route: null, verdict: "deny", reason: "malformed request", status: null, bytes: null, duration_ms: null };
    }
    const d = admission.decision;
    return {
      bottle: this.options.bottle,
      method: admission.method,
      host: admission.host,
      path: admission.path,
      route: d.verdict === "allow" ? d.routeIndex : null,
      verdict: d.verdict,
      reason: d.verdict === "allow" ? "route matched" : d.reason,
      status: null,
      bytes: null,
      duration_ms: null,
    };
  }

  /** Log an operational event in the audit stream. */
  event(name: string, fields: Record<string, string | number | boolean> = {}): void {
    this.options.sink(eventLine(name, { bottle: this.options.bottle, ...fields }));
  }
}

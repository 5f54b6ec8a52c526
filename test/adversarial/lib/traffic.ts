/**
 * Simulated agents for load and fault tests: each keeps one kept-alive intercepted tunnel for its
 * allowed API calls and opens fresh connections for the requests the policy must refuse, and
 * checks every verdict as it goes. Nothing here sleeps: agents run until their deadline.
 */
import type tls from "node:tls";
import { connectPlain, exchange, tunnel, type RawResponse } from "../../helpers/raw-http";
import { AGENT_ADDRESS } from "./transports";

/** Every connection of a simulated agent comes from the agent's own address (see AGENT_ADDRESS). */
const FROM_AGENT = { localAddress: AGENT_ADDRESS };

/** One kind of request and the verdict it must get while the upstream side is healthy. */
interface Kind {
  name: string;
  /** Expected status and denial reason (undefined reason: forwarded). */
  status: number;
  reason?: string;
  weight: number;
}

export const KINDS: Kind[] = [
  { name: "allowed https (kept alive)", status: 200, weight: 10 },
  { name: "allowed plain http", status: 200, weight: 2 },
  { name: "denied path", status: 403, reason: "path not allowed", weight: 2 },
  { name: "denied host mismatch", status: 403, reason: "destination mismatch", weight: 1 },
  { name: "denied host", status: 403, reason: "host not allowed", weight: 1 },
  { name: "denied IP literal", status: 403, reason: "IP literal not allowed", weight: 1 },
  { name: "denied dot segments", status: 400, reason: "non-canonical path", weight: 1 },
];
const SCHEDULE = KINDS.flatMap((k) => Array.from({ length: k.weight }, () => k));

export interface Outcome {
  kind: string;
  status: number;
  reason: string | undefined;
  ms: number;
  error?: string;
  /** The caller's label (e.g. the fault phase) when the request ended. */
  tag?: string;
}

export interface TrafficStats {
  outcomes: Outcome[];
  /** Outcomes whose verdict differs from the kind's expectation (while `expectHealthy`). */
  wrong: Outcome[];
}

export interface AgentOptions {
  proxyPort: number;
  ca: string;
  until: () => boolean;
  stats: TrafficStats;
  /** Verdicts are checked only while this says the upstream side is up. */
  expectHealthy: () => boolean;
  /** Only kept-alive allowed calls (fault tests). */
  allowedOnly?: boolean;
  timeoutMs?: number;
  /** Labels each outcome when its request ends. */
  tag?: () => string;
}

const denial = (head: string) => /\r\nx-egress-proxy-denial: *([^\r\n]*)/i.exec(head)?.[1];

async function plain(port: number, request: string, timeoutMs: number): Promise<RawResponse> {
  const socket = await connectPlain(port, FROM_AGENT);
  socket.on("error", () => undefined);
  try {
    return await exchange(socket, request, { timeoutMs });
  } finally {
    socket.destroy();
  }
}

async function freshTls(o: AgentOptions, connect: string, sni: string, request: string, timeoutMs: number): Promise<RawResponse> {
  const socket = await tunnel(o.proxyPort, connect, sni, o.ca, FROM_AGENT);
  socket.on("error", () => undefined);
  try {
    return await exchange(socket, request, { timeoutMs });
  } finally {
    socket.destroy();
  }
}

/** Run one agent until `until()`; `id` staggers the schedule so agents do not move in step. */
export async function runAgent(id: number, o: AgentOptions): Promise<void> {
  let kept: tls.TLSSocket | undefined;
  const timeoutMs = o.timeoutMs ?? 15_000;
  for (let i = id; !o.until(); i++) {
    const kind = o.allowedOnly ? KINDS[0] : SCHEDULE[i % SCHEDULE.length];
    if (kind === undefined) throw new Error("no traffic kinds");
    const started = Date.now();
    const healthy = o.expectHealthy();
    let res: RawResponse | undefined;
    let error: string | undefined;
    try {
      switch (kind.name) {
        case "allowed https (kept alive)":
          if (!kept || kept.destroyed) {
            kept = await tunnel(o.proxyPort, "api.github.test:443", "api.github.test", o.ca, FROM_AGENT);
            kept.on("error", () => undefined);
          }
          res = await exchange(kept, `GET /repos/acme/widget/issues?agent=${id} HTTP/1.1\r\nHost: api.github.test\r\n\r\n`, { timeoutMs });
          if (res.status !== 200) kept.destroy(); // refusals and 502s end the connection
          break;
        case "allowed plain http":
          res = await plain(o.proxyPort, `GET http://plain.test/load HTTP/1.1\r\nHost: plain.test\r\nConnection: close\r\n\r\n`, timeoutMs);
          break;
        case "denied path":
          res = await freshTls(o, "api.github.test:443", "api.github.test", "GET /repos/other/secret HTTP/1.1\r\nHost: api.github.test\r\n\r\n", timeoutMs);
          break;
        case "denied host mismatch":
          res = await freshTls(o, "open.test:443", "open.test", "GET /user HTTP/1.1\r\nHost: api.github.test\r\n\r\n", timeoutMs);
          break;
        case "denied host":
          res = await plain(o.proxyPort, "GET http://evil.test/ HTTP/1.1\r\nHost: evil.test\r\n\r\n", timeoutMs);
          break;
        case "denied IP literal":
          res = await plain(o.proxyPort, "GET http://169.254.169.254/latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n", timeoutMs);
          break;
        case "denied dot segments":
          res = await freshTls(o, "api.github.test:443", "api.github.test", "GET /repos/acme/widget/../../x HTTP/1.1\r\nHost: api.github.test\r\n\r\n", timeoutMs);
          break;
      }
    } catch (e) {
      error = (e as Error).message;
      kept?.destroy();
      kept = undefined;
    }
    const outcome: Outcome = { kind: kind.name, status: res?.status ?? 0, reason: res ? denial(res.head) : undefined, ms: Date.now() - started };
    if (error !== undefined) outcome.error = error;
    if (o.tag) outcome.tag = o.tag();
    o.stats.outcomes.push(outcome);
    if (healthy && o.expectHealthy() && (outcome.status !== kind.status || outcome.reason !== kind.reason)) o.stats.wrong.push(outcome);
  }
  kept?.destroy();
}

/** Counts per kind and status, for the report line. */
export function summarise(outcomes: readonly Outcome[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const o of outcomes) {
    const byStatus = (out[o.kind] ??= {});
    const key = o.error ? `error: ${o.error.slice(0, 40)}` : String(o.status);
    byStatus[key] = (byStatus[key] ?? 0) + 1;
  }
  return out;
}

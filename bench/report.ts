/**
 * Turns the figures of one run into markdown: one table per measurement, ratios against direct
 * and against mitmproxy, the targets with met / not met. The same text is printed and,
 * for full runs, appended to bench/RESULTS.md.
 */
import type { BenchConfig, PathName } from "./config";
import { fmt, median, ratio } from "./stats";

type ProxyName = "ours" | "cand" | "mitm";

export interface KeepAlive { rps: number; p50Ms: number; p99Ms: number; errors: number; non200: number; problems: string[]; clientCpuMs: number }
export interface NewConn { rate: number; p50Ms: number; p99Ms: number; errors: number; non200: number }
export interface Sse { coldFirstP50Ms: number; warmFirstP50Ms: number; deliveryP50Ms: number; deliveryP99Ms: number; gapExcessP50Ms: number }
export interface Transfer { mbps: number; peakRssMb?: number }
/** CPU used by each process during a measurement, in % of one core. */
export type CpuShare = Record<string, number>;

export interface Results {
  keepalive: Record<number, Partial<Record<PathName, { runs: KeepAlive[]; cpu: CpuShare[] }>>>;
  /** JSON POSTs of `postKib` KiB at the largest connection count. */
  posts: Partial<Record<PathName, { runs: KeepAlive[]; cpu: CpuShare[] }>>;
  newconn: Partial<Record<PathName, { runs: NewConn[]; cpu: CpuShare[] }>>;
  sse: Partial<Record<PathName, Sse[]>>;
  download: Partial<Record<PathName, Transfer[]>>;
  upload: Partial<Record<PathName, Transfer[]>>;
  startupMs: Partial<Record<ProxyName, number[]>>;
  /** VmHWM over the load phases, before the transfers (MB). */
  peakRssLoadMb: Partial<Record<ProxyName, number>>;
  decisions: Partial<Record<ProxyName, number>>;
}

const med = <T>(runs: T[] | undefined, f: (r: T) => number): number => (runs && runs.length ? median(runs.map(f)) : NaN);

function table(head: string[], rows: string[][]): string[] {
  return [`| ${head.join(" | ")} |`, `| ${head.map(() => "---").join(" | ")} |`, ...rows.map((r) => `| ${r.join(" | ")} |`)];
}

export interface Verdicts { lines: string[]; met: number; total: number }

/** The targets, checked on this run's medians. */
export function targets(r: Results, cfg: BenchConfig): Verdicts {
  const lines: string[] = [];
  let met = 0;
  let total = 0;
  const check = (what: string, value: string, ok: boolean | undefined) => {
    if (ok === undefined) return lines.push(`- ${what}: not measured in this run`);
    total++;
    if (ok) met++;
    return lines.push(`- ${ok ? "MET" : "NOT MET"}: ${what}: ${value}`);
  };
  const maxC = Math.max(...cfg.connections);
  const ka = r.keepalive[maxC] ?? {};
  const rps = (p: PathName) => med(ka[p]?.runs, (x) => x.rps);
  const c1 = r.keepalive[1] ?? {};
  const p50 = (p: PathName) => med(c1[p]?.runs, (x) => x.p50Ms);
  const has = (...xs: number[]) => xs.every((x) => Number.isFinite(x));
  const vsDirect = rps("ours") / rps("direct");
  check(`requests/s at ${maxC} connections >= 0.5x direct`, ratio(rps("ours"), rps("direct")), has(vsDirect) ? vsDirect >= 0.5 : undefined);
  const vsMitm = rps("ours") / rps("mitm");
  check(`requests/s at ${maxC} connections >= 10x mitmproxy`, ratio(rps("ours"), rps("mitm")), has(vsMitm) ? vsMitm >= 10 : undefined);
  const added = p50("ours") - p50("direct");
  check("p50 added latency at 1 connection < 1 ms", `${fmt(added)} ms`, has(added) ? added < 1 : undefined);
  const sseCold = med(r.sse.ours, (x) => x.coldFirstP50Ms) - med(r.sse.direct, (x) => x.coldFirstP50Ms);
  const sseWarm = med(r.sse.ours, (x) => x.warmFirstP50Ms) - med(r.sse.direct, (x) => x.warmFirstP50Ms);
  check("SSE first event within 5 ms of direct (new connection)", `+${fmt(sseCold)} ms`, has(sseCold) ? sseCold <= 5 : undefined);
  check("SSE first event within 5 ms of direct (open connection)", `+${fmt(sseWarm)} ms`, has(sseWarm) ? sseWarm <= 5 : undefined);
  const peak = Math.max(...[...(r.download.ours ?? []), ...(r.upload.ours ?? [])].map((t) => t.peakRssMb ?? NaN));
  const gib = cfg.transferBytes >= 1024 * 1048576;
  check(`peak RSS during ${fmt(cfg.transferBytes / 1048576)} MiB transfers < 200 MB${gib ? "" : " (smaller than the 1 GiB of the target)"}`, `${fmt(peak)} MB`, has(peak) ? peak < 200 : undefined);
  return { lines, met, total };
}

/** The whole run as markdown. */
export function render(r: Results, cfg: BenchConfig): string[] {
  const out: string[] = [];
  const paths = cfg.paths;
  for (const c of cfg.connections) {
    const ka = r.keepalive[c] ?? {};
    const d = (f: (x: KeepAlive) => number) => med(ka.direct?.runs, f);
    out.push("", `Small GETs, ${c} keep-alive connection${c > 1 ? "s" : ""} (median of ${cfg.rounds} rounds of ${cfg.durationMs / 1000} s):`, "");
    out.push(...table(["path", "req/s", "p50 ms", "p99 ms", "req/s vs direct", "p50 added ms", "errors"], paths.map((p) => {
      const runs = ka[p]?.runs;
      const rps = med(runs, (x) => x.rps);
      const p50 = med(runs, (x) => x.p50Ms);
      return [p, fmt(rps), fmt(p50), fmt(med(runs, (x) => x.p99Ms)), ratio(rps, d((x) => x.rps)), fmt(p50 - d((x) => x.p50Ms)), String((runs ?? []).reduce((s, x) => s + x.errors + x.non200, 0))];
    })));
    const procs = [...new Set(paths.flatMap((p) => (ka[p]?.cpu ?? []).flatMap((s) => Object.keys(s))))];
    out.push("", `CPU during those runs, % of one core (2 cores = 200 %):`, "");
    out.push(...table(["path", ...procs], paths.map((p) => [p, ...procs.map((n) => fmt(med(ka[p]?.cpu, (s) => s[n] ?? NaN)))])));
  }
  if (cfg.postKib > 0) {
    const pd = med(r.posts.direct?.runs, (x) => x.rps);
    out.push("", `POSTs of ${cfg.postKib} KiB JSON, ${Math.max(...cfg.connections)} keep-alive connections (median of ${cfg.rounds} rounds of ${cfg.durationMs / 1000} s):`, "");
    out.push(...table(["path", "req/s", "p50 ms", "p99 ms", "req/s vs direct", "proxy CPU %", "errors"], paths.map((p) => {
      const runs = r.posts[p]?.runs;
      const rps = med(runs, (x) => x.rps);
      return [p, fmt(rps), fmt(med(runs, (x) => x.p50Ms)), fmt(med(runs, (x) => x.p99Ms)), ratio(rps, pd), fmt(med(r.posts[p]?.cpu, (s) => s[p] ?? NaN)), String((runs ?? []).reduce((s, x) => s + x.errors + x.non200, 0))];
    })));
  }
  out.push("", `New connection per request (TCP + CONNECT + TLS + GET, ${cfg.newConnConcurrency} at a time, ${cfg.newConnMs / 1000} s x ${cfg.rounds}):`, "");
  const nd = med(r.newconn.direct?.runs, (x) => x.rate);
  out.push(...table(["path", "conn/s", "p50 ms", "p99 ms", "vs direct", "errors"], paths.map((p) => {
    const runs = r.newconn[p]?.runs;
    const rate = med(runs, (x) => x.rate);
    return [p, fmt(rate), fmt(med(runs, (x) => x.p50Ms)), fmt(med(runs, (x) => x.p99Ms)), ratio(rate, nd), String((runs ?? []).reduce((s, x) => s + x.errors + x.non200, 0))];
  })));
  out.push("", `SSE (${cfg.sseStreams} streams x ${cfg.rounds} rounds, ${cfg.sseEvents} events ${cfg.sseIntervalMs} ms apart; first event from request start, delivery = upstream write to client read):`, "");
  out.push(...table(["path", "first event, new conn ms", "first event, open conn ms", "delivery p50 ms", "delivery p99 ms", "gap excess p50 ms"], paths.map((p) => {
    const s = r.sse[p];
    return [p, fmt(med(s, (x) => x.coldFirstP50Ms)), fmt(med(s, (x) => x.warmFirstP50Ms)), fmt(med(s, (x) => x.deliveryP50Ms)), fmt(med(s, (x) => x.deliveryP99Ms)), fmt(med(s, (x) => x.gapExcessP50Ms))];
  })));
  const mib = fmt(cfg.transferBytes / 1048576);
  out.push("", `Transfers of ${mib} MiB, one connection (peak RSS of the proxy during each transfer; proxies restarted before this phase):`, "");
  const dd = med(r.download.direct, (x) => x.mbps);
  const ud = med(r.upload.direct, (x) => x.mbps);
  out.push(...table(["path", "download MiB/s", "vs direct", "peak RSS MB", "upload MiB/s", "vs direct", "peak RSS MB"], paths.map((p) => {
    const dl = med(r.download[p], (x) => x.mbps);
    const ul = med(r.upload[p], (x) => x.mbps);
    const peak = (t: Transfer[] | undefined) => fmt(Math.max(...(t ?? []).map((x) => x.peakRssMb ?? NaN)));
    return [p, fmt(dl), ratio(dl, dd), peak(r.download[p]), fmt(ul), ratio(ul, ud), peak(r.upload[p])];
  })));
  out.push("", "Start-up, spawn to first served request through the chain (median):", "");
  out.push(...table(["proxy", "ms", "runs", "peak RSS under load MB", "decision lines"], (["ours", "cand", "mitm"] as const).filter((p) => paths.includes(p)).map((p) => [p, fmt(med(r.startupMs[p], (x) => x)), String(r.startupMs[p]?.length ?? 0), fmt(r.peakRssLoadMb[p]), String(r.decisions[p] ?? "-")])));
  const maxC = Math.max(...cfg.connections);
  const rps = (p: PathName) => med(r.keepalive[maxC]?.[p]?.runs, (x) => x.rps);
  out.push("", `Ratios: ours/direct req/s at ${maxC} conns ${ratio(rps("ours"), rps("direct"))}; ours/mitmproxy ${ratio(rps("ours"), rps("mitm"))}; ours/forward-only ${ratio(rps("ours"), rps("forward"))}; new conns ours/mitmproxy ${ratio(med(r.newconn.ours?.runs, (x) => x.rate), med(r.newconn.mitm?.runs, (x) => x.rate))}.`);
  if (paths.includes("cand")) {
    const c1 = (p: PathName) => med(r.keepalive[1]?.[p]?.runs, (x) => x.p50Ms);
    const posts = (p: PathName) => med(r.posts[p]?.runs, (x) => x.rps);
    out.push("", `Candidate (cand) against ours: req/s at ${maxC} conns ${ratio(rps("cand"), rps("ours"))}, ${cfg.postKib} KiB POSTs ${ratio(posts("cand"), posts("ours"))}, cand/mitmproxy ${ratio(rps("cand"), rps("mitm"))}, cand/direct ${ratio(rps("cand"), rps("direct"))}; p50 added at 1 conn ${fmt(c1("cand") - c1("direct"))} ms (ours ${fmt(c1("ours") - c1("direct"))} ms).`);
  }
  const t = targets(r, cfg);
  out.push("", `Targets (${t.met} of ${t.total} met):`, "", ...t.lines);
  return out;
}

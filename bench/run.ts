/**
 * `npm run bench`: direct, forward-proxy-only, our proxy and mitmproxy against one local HTTPS
 * upstream, on loopback, in one run. Every measurement is taken round-robin across the paths
 * (the order rotates each round), so a drift of the machine hits all paths alike.
 *
 * Processes: this orchestrator; the upstream; the forward proxy standing in for pipelock (shared
 * by the three chained paths, one at a time); the load client; our proxy; mitmdump.
 * Settings: bench/config.ts (BENCH_QUICK=1 for a short smoke run).
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { makeTestCa } from "../test/helpers/test-ca";
import { loadConfig, type BenchConfig, type PathName } from "./config";
import { cpuMs, freePort, lifetimePeakMb, LoadClient, machineBusyMs, mitmConfdir, startMitm, startOurProxy, startTsChild, watchPeakRss, type ProxyUnderTest } from "./processes";
import { render, type CpuShare, type KeepAlive, type NewConn, type Results, type Sse, type Transfer } from "./report";
import { Connection, openConnection, type Target } from "./wire";

const HOST = "bench.test";
type ProxyName = "ours" | "cand" | "mitm";
const ROOT = path.resolve(__dirname, "..");
const log = (s: string) => process.stdout.write(`${s}\n`);

/** Order of the paths in round `i`: rotated, so no path always runs first or right after another. */
const rotate = <T>(xs: T[], i: number): T[] => xs.map((_, k) => xs[(k + i) % xs.length] as T);

/** Spawn-to-first-200 through a proxy: poll with a real request every 5 ms. */
async function firstServed(target: Target, since: number, timeoutMs = 30_000): Promise<number> {
  for (;;) {
    try {
      const c = new Connection(await openConnection(target));
      const r = await c.exchange(`GET /small HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
      c.destroy();
      if (r.head.status === 200) return performance.now() - since;
    } catch {
      /* not listening yet */
    }
    if (performance.now() - since > timeoutMs) throw new Error(`${target.name}: nothing served within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function machine(): string {
  const cpus = os.cpus();
  let mitm = "absent";
  try {
    mitm = execFileSync("mitmdump", ["--version"], { encoding: "utf8" }).split("\n")[0]?.trim() ?? "";
  } catch {
    /* reported as absent */
  }
  let commit = "unknown";
  try {
    commit = execFileSync("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    if (execFileSync("git", ["-C", ROOT, "status", "--porcelain", "proxy/src"], { encoding: "utf8" }).trim()) commit += " (proxy/src modified)";
  } catch {
    /* not a checkout */
  }
  return `${cpus.length} x ${cpus[0]?.model ?? "?"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}, Node ${process.version}, ${mitm}, commit ${commit}`;
}

async function main(): Promise<void> {
  const cfg = loadConfig();
  const began = Date.now();
  let proxyMain = cfg.proxyMain;
  if (!proxyMain) {
    log("building the proxy (tsc -p proxy)...");
    execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", path.join(ROOT, "proxy")], { stdio: "inherit" });
    proxyMain = path.join(ROOT, "proxy", "dist", "main.js");
  }
  const [bottleCa, upstreamCa] = await Promise.all([makeTestCa("bench bottle CA"), makeTestCa("bench upstream CA")]);
  const token = `bench-${randomBytes(12).toString("hex")}`;
  const upstream = await startTsChild("upstream.ts", { BENCH_UPSTREAM_CA_CERT: upstreamCa.certFile, BENCH_UPSTREAM_CA_KEY: upstreamCa.keyFile, BENCH_HOST: HOST, BENCH_TOKEN: token });
  const forward = await startTsChild("forward.ts", { BENCH_HOST: HOST, BENCH_UPSTREAM_PORT: String(upstream.port) });
  const forwardUrl = `http://127.0.0.1:${forward.port}`;
  const client = new LoadClient();
  const routesFile = path.join(mkdtempSync(path.join(os.tmpdir(), "bench-routes-")), "routes.yaml");
  const route = { host: HOST, path_allowlist: ["/small", "/whoami", "/download", "/upload", "/sse"], methods: ["GET", "POST"], auth: { scheme: "Bearer", token_env: "EGRESS_PROXY_TOKEN_1" } };
  writeFileSync(routesFile, JSON.stringify({ version: 1, routes: [route] }), { mode: 0o600 });
  // the same route with request inspection off: what `cand` runs with BENCH_CANDIDATE_DLP_OFF=1
  const dlpOffRoutesFile = `${routesFile}.dlp-off`;
  writeFileSync(dlpOffRoutesFile, JSON.stringify({ version: 1, routes: [{ ...route, dlp: { mode: "off" } }] }), { mode: 0o600 });
  const confdir = mitmConfdir(bottleCa.certFile, bottleCa.keyFile);
  const launch = async (which: ProxyName, extraFlags: string[] = []): Promise<ProxyUnderTest> => {
    const port = await freePort();
    if (which === "mitm") return startMitm({ port, confdir, forwardUrl, upstreamCaFile: upstreamCa.certFile, host: HOST, token });
    const main = which === "ours" ? (proxyMain as string) : (cfg.candidateMain ?? (proxyMain as string));
    const routes = which === "cand" && cfg.candidateDlpOff ? dlpOffRoutesFile : routesFile;
    return startOurProxy({ name: which, port, routesFile: routes, caCertFile: bottleCa.certFile, caKeyFile: bottleCa.keyFile, forwardUrl, upstreamCaFile: upstreamCa.certFile, token, main, nodeFlags: extraFlags });
  };
  const viaProxy = (name: string, port: number): Target => ({ name, proxyPort: port, upstreamPort: upstream.port, host: HOST, ca: bottleCa.cert });
  const results: Results = { keepalive: {}, posts: {}, newconn: {}, sse: {}, download: {}, upload: {}, startupMs: {}, peakRssLoadMb: {}, decisions: {} };
  const running: ProxyUnderTest[] = [];

  try {
    const proxies = cfg.paths.filter((p): p is ProxyName => p === "ours" || p === "cand" || p === "mitm");
    log(`start-up (${cfg.startups} each)...`);
    for (let i = 0; i < cfg.startups; i++) {
      for (const which of rotate(proxies, i)) {
        const t0 = performance.now();
        const p = await launch(which);
        const ms = await firstServed(viaProxy(which, p.port), t0);
        await p.stop();
        (results.startupMs[which] ??= []).push(ms);
      }
    }

    const prof = cfg.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${cfg.cpuProfDir}`] : [];
    for (const which of proxies) running.push(await launch(which, which === "mitm" ? [] : prof));
    for (const p of running) await firstServed(viaProxy(p.name, p.port), performance.now());
    const portOf = (name: ProxyName) => running.find((p) => p.name === name)?.port ?? 0;
    const targets: Record<PathName, Target> = {
      direct: { name: "direct", upstreamPort: upstream.port, host: HOST, ca: upstreamCa.cert },
      forward: { name: "forward", proxyPort: forward.port, upstreamPort: upstream.port, host: HOST, ca: upstreamCa.cert },
      ours: viaProxy("ours", portOf("ours")),
      cand: viaProxy("cand", portOf("cand")),
      mitm: viaProxy("mitm", portOf("mitm")),
    };
    await sanity(client, cfg, targets);

    const pids: Record<string, number> = { client: client.pid, upstream: upstream.child.pid ?? 0, forward: forward.child.pid ?? 0 };
    for (const p of running) pids[p.name] = p.child.pid ?? 0;
    const withCpu = async <T>(fn: () => Promise<T>): Promise<{ value: T; cpu: CpuShare }> => {
      const before = Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, cpuMs(pid)]));
      const busy0 = machineBusyMs();
      const t0 = performance.now();
      const value = await fn();
      const wall = performance.now() - t0;
      const cpu: CpuShare = Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, ((cpuMs(pid) - (before[n] ?? 0)) / wall) * 100]));
      // Everything else on the machine (other work shares these cores): a noise indicator.
      cpu.other = Math.max(0, ((machineBusyMs() - busy0) / wall) * 100 - Object.values(cpu).reduce((a, b) => a + b, 0));
      return { value, cpu };
    };

    log("warm-up...");
    for (const p of cfg.paths) await client.run({ op: "keepalive", target: targets[p], connections: 32, warmupMs: 0, durationMs: cfg.quick ? 300 : 1000, path: "/small" });

    for (const c of cfg.connections) {
      log(`keep-alive, ${c} connection(s)...`);
      const byPath: Results["keepalive"][number] = (results.keepalive[c] = {});
      for (let i = 0; i < cfg.rounds; i++) {
        for (const p of rotate(cfg.paths, i)) {
          const { value, cpu } = await withCpu(() => client.run<KeepAlive>({ op: "keepalive", target: targets[p], connections: c, warmupMs: cfg.warmupMs, durationMs: cfg.durationMs, path: "/small" }));
          const slot = (byPath[p] ??= { runs: [], cpu: [] });
          if (value.errors + value.non200 > 0) log(`  ${p}, ${c} conn(s): ${value.errors} failed, ${value.non200} non-200 (${value.problems.join("; ")})`);
          slot.runs.push(value);
          slot.cpu.push(cpu);
        }
      }
    }

    if (cfg.postKib > 0) {
      const c = Math.max(...cfg.connections);
      log(`${cfg.postKib} KiB POSTs, ${c} connections...`);
      for (let i = 0; i < cfg.rounds; i++) {
        for (const p of rotate(cfg.paths, i)) {
          const { value, cpu } = await withCpu(() => client.run<KeepAlive>({ op: "keepalive", target: targets[p], connections: c, warmupMs: cfg.warmupMs, durationMs: cfg.durationMs, path: "/upload", postBytes: cfg.postKib * 1024 }));
          if (value.errors + value.non200 > 0) log(`  ${p}, POSTs: ${value.errors} failed, ${value.non200} non-200 (${value.problems.join("; ")})`);
          const slot = (results.posts[p] ??= { runs: [], cpu: [] });
          slot.runs.push(value);
          slot.cpu.push(cpu);
        }
      }
    }

    log("new connections...");
    for (let i = 0; i < cfg.rounds; i++) {
      for (const p of rotate(cfg.paths, i)) {
        const { value, cpu } = await withCpu(() => client.run<NewConn>({ op: "newconn", target: targets[p], concurrency: cfg.newConnConcurrency, durationMs: cfg.newConnMs, path: "/small" }));
        const slot = (results.newconn[p] ??= { runs: [], cpu: [] });
        slot.runs.push(value);
        slot.cpu.push(cpu);
      }
    }

    log("SSE...");
    for (let i = 0; i < cfg.rounds; i++) {
      for (const p of rotate(cfg.paths, i)) {
        (results.sse[p] ??= []).push(await client.run<Sse>({ op: "sse", target: targets[p], streams: cfg.sseStreams, events: cfg.sseEvents, intervalMs: cfg.sseIntervalMs }));
      }
    }

    // Transfers run on fresh proxy processes, so that their peak RSS is theirs alone and not the
    // heap the small-request phases left behind.
    for (const [i, p] of running.entries()) {
      results.peakRssLoadMb[p.name as ProxyName] = lifetimePeakMb(p.child.pid ?? 0);
      results.decisions[p.name as ProxyName] = p.decisions();
      await p.stop();
      const fresh = await launch(p.name as ProxyName, p.name === "mitm" ? [] : prof);
      running[i] = fresh;
      targets[p.name as ProxyName] = viaProxy(p.name, fresh.port);
      await firstServed(targets[p.name as ProxyName], performance.now());
    }

    log(`transfers of ${cfg.transferBytes / 1048576} MiB...`);
    for (let i = 0; i < cfg.transferRounds; i++) {
      for (const op of ["download", "upload"] as const) {
        for (const p of rotate(cfg.paths, i)) {
          const proxy = running.find((x) => x.name === p);
          const peak = proxy ? watchPeakRss(proxy.child.pid ?? 0) : undefined;
          const value = await client.run<Transfer>({ op, target: targets[p], bytes: cfg.transferBytes });
          (results[op][p] ??= []).push({ ...value, ...(peak ? { peakRssMb: peak().peakMb } : {}) });
        }
      }
    }
    for (const p of running) results.decisions[p.name as ProxyName] = (results.decisions[p.name as ProxyName] ?? 0) + p.decisions();
  } finally {
    for (const p of running) await p.stop();
    client.stop();
    upstream.child.kill("SIGTERM");
    forward.child.kill("SIGTERM");
  }

  const when = new Date().toISOString().slice(0, 16).replace("T", " ");
  const seconds = Math.round((Date.now() - began) / 1000);
  const lines = [
    `### ${when} UTC${cfg.quick ? " (quick)" : ""}${cfg.label ? `: ${cfg.label}` : ""}`,
    "",
    `Machine: ${machine()}. Bench wall time ${seconds} s.${cfg.proxyMain ? ` ours = ${cfg.proxyMain}.` : ""}${cfg.candidateMain ? ` cand = ${cfg.candidateMain}.` : ""}${cfg.candidateDlpOff ? " cand = ours with request inspection off." : ""}`,
    ...render(results, cfg),
  ];
  log("");
  log(lines.join("\n"));
  if (cfg.cpuProfDir && existsSync(cfg.cpuProfDir)) log(`\nCPU profile(s) of our proxy: ${readdirSync(cfg.cpuProfDir).map((f) => path.join(cfg.cpuProfDir as string, f)).join(", ")}`);
  if (cfg.record) {
    appendFileSync(path.join(__dirname, "RESULTS.md"), `\n${lines.join("\n")}\n`);
    log("\n(appended to bench/RESULTS.md)");
  }
}

/** Before measuring: each path reaches the upstream, and the two proxies inject and refuse alike. */
async function sanity(client: LoadClient, cfg: BenchConfig, targets: Record<PathName, Target>): Promise<void> {
  for (const p of cfg.paths) {
    const who = await client.run<{ status: number; body: string }>({ op: "probe", target: targets[p], path: "/whoami", headers: "Authorization: Bearer agent-placeholder\r\n" });
    const seen = JSON.parse(who.body) as { credential: boolean; authorization_headers: number };
    const intercepting = p === "ours" || p === "cand" || p === "mitm";
    if (who.status !== 200 || seen.credential !== intercepting || seen.authorization_headers !== 1) {
      throw new Error(`sanity: ${p} /whoami gave ${who.status} ${who.body}; expected the credential ${intercepting ? "injected" : "absent"}, one Authorization header`);
    }
    if (intercepting) {
      const denied = await client.run<{ status: number }>({ op: "probe", target: targets[p], path: "/not-allowed" });
      if (denied.status !== 403) throw new Error(`sanity: ${p} /not-allowed gave ${denied.status}, expected 403`);
    }
  }
  log(`sanity: credential injected and /not-allowed refused by ${cfg.paths.filter((p) => p === "ours" || p === "cand" || p === "mitm").join(", ") || "no proxy"}`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});

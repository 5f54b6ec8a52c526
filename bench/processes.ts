/**
 * Starting and watching the bench's processes: TypeScript children (upstream, forward proxy,
 * load client), our proxy as the container runs it, and mitmdump; plus what /proc tells about
 * each (CPU ticks, RSS, peak RSS).
 */
import { spawn, fork, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Job } from "./load-client";

const TS_NODE = ["-r", "ts-node/register/transpile-only"];

/** Resolve with the first JSON line a child prints on stdout that has a `port`. */
function portLine(child: ChildProcess, what: string, timeoutMs = 30_000): Promise<number> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error(`${what}: no port within ${timeoutMs} ms`)), timeoutMs);
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (d: string) => {
      buf += d;
      const m = /\{"port":(\d+)\}/.exec(buf);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before listening`));
    });
  });
}

/** Run bench/<file>.ts as a child process; resolves with its pid and port. */
export async function startTsChild(file: string, env: Record<string, string>): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [...TS_NODE, path.join(__dirname, file)], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
  const port = await portLine(child, file);
  return { child, port };
}

/** The load generator: a forked child answering jobs over IPC. */
export class LoadClient {
  private readonly child: ChildProcess;
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor() {
    this.child = fork(path.join(__dirname, "load-client.ts"), [], { execArgv: TS_NODE, stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.child.on("message", (m: { id: number; result?: unknown; error?: string }) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.error !== undefined) w?.reject(new Error(m.error));
      else w?.resolve(m.result);
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  run<T>(job: Job): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, job });
    });
  }

  stop(): void {
    this.child.disconnect();
  }
}

/** A free loopback port (for proxies whose start-up is timed from spawn to first answer). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface ProxyUnderTest {
  name: string;
  child: ChildProcess;
  port: number;
  /** Decision lines seen on stdout (the audit stream is read, as Docker would). */
  decisions(): number;
  stop(): Promise<void>;
}

function countLines(child: ChildProcess): () => number {
  let n = 0;
  child.stdout?.on("data", (d: Buffer) => {
    for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) n++;
  });
  return () => n;
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill("SIGTERM");
    });
}

export interface OurProxyOptions {
  /** Path name in the report (`ours`, or `cand` for a candidate build). */
  name: string;
  port: number;
  routesFile: string;
  caCertFile: string;
  caKeyFile: string;
  forwardUrl: string;
  upstreamCaFile: string;
  token: string;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeFlags?: string[];
  main: string;
}

/** Our proxy, started as the container starts it (node dist/main.js, settings by env). */
export function startOurProxy(o: OurProxyOptions): ProxyUnderTest {
  const child = spawn(process.execPath, [...(o.nodeFlags ?? []), o.main], {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      EGRESS_PROXY_ROUTES: o.routesFile,
      EGRESS_PROXY_CA_CERT: o.caCertFile,
      EGRESS_PROXY_CA_KEY: o.caKeyFile,
      EGRESS_PROXY_LISTEN: String(o.port),
      EGRESS_PROXY_HEALTH_LISTEN: "127.0.0.1:0",
      EGRESS_PROXY_BOTTLE: "bench",
      HTTPS_PROXY: o.forwardUrl,
      NODE_EXTRA_CA_CERTS: o.upstreamCaFile,
      EGRESS_PROXY_TOKEN_1: o.token,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stderr?.on("data", (d: Buffer) => process.stderr.write(`[${o.name}] ${d.toString()}`));
  return { name: o.name, child, port: o.port, decisions: countLines(child), stop: stopper(child) };
}

export interface MitmOptions {
  port: number;
  confdir: string;
  forwardUrl: string;
  upstreamCaFile: string;
  host: string;
  token: string;
}

/** A mitmproxy confdir whose CA is the bottle CA (mitmproxy-ca.pem holds key and cert). */
export function mitmConfdir(caCertFile: string, caKeyFile: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "bench-mitm-"));
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "mitmproxy-ca.pem"), readFileSync(caKeyFile, "utf8") + readFileSync(caCertFile, "utf8"), { mode: 0o600 });
  return dir;
}

/** mitmdump chained to the forward proxy, with the bench addon; bodies over 1 MiB stream. */
export function startMitm(o: MitmOptions): ProxyUnderTest {
  const args = [
    "--mode", `upstream:${o.forwardUrl}`,
    "--listen-host", "127.0.0.1",
    "--listen-port", String(o.port),
    "--set", `confdir=${o.confdir}`,
    "--set", `ssl_verify_upstream_trusted_ca=${o.upstreamCaFile}`,
    "--set", "stream_large_bodies=1m",
    "--set", "flow_detail=0",
    "--set", "termlog_verbosity=error",
    "-s", path.join(__dirname, "mitm_addon.py"),
  ];
  const child = spawn("mitmdump", args, {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: o.confdir, BENCH_HOST: o.host, BENCH_TOKEN: o.token },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stderr?.on("data", (d: Buffer) => process.stderr.write(`[mitm] ${d.toString()}`));
  return { name: "mitm", child, port: o.port, decisions: countLines(child), stop: stopper(child) };
}

/** utime + stime of a process, in ms (from /proc/<pid>/stat, clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/** Busy CPU time of the whole machine, ms (from /proc/stat: all but idle and iowait). */
export function machineBusyMs(): number {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  const total = f.reduce((a, b) => a + b, 0);
  return (total - (f[3] ?? 0) - (f[4] ?? 0)) * 10;
}

function statusKb(pid: number, field: "VmRSS" | "VmHWM"): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m?.[1] ? Number(m[1]) : NaN;
}

/**
 * Peak RSS of a process over a span: VmHWM reset first (clear_refs 5, root only) and read at the
 * end, and VmRSS sampled every 50 ms as a fallback; the larger of the two, in MB.
 */
export function watchPeakRss(pid: number): () => { peakMb: number; hwmReset: boolean } {
  let hwmReset = true;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
  } catch {
    hwmReset = false;
  }
  let sampled = statusKb(pid, "VmRSS");
  const timer = setInterval(() => {
    try {
      sampled = Math.max(sampled, statusKb(pid, "VmRSS"));
    } catch {
      /* process gone */
    }
  }, 50);
  return () => {
    clearInterval(timer);
    const hwm = hwmReset ? statusKb(pid, "VmHWM") : NaN;
    return { peakMb: Math.max(sampled, Number.isNaN(hwm) ? 0 : hwm) / 1024, hwmReset };
  };
}

/** VmHWM over the whole life of a process, MB. */
export function lifetimePeakMb(pid: number): number {
  return statusKb(pid, "VmHWM") / 1024;
}

/**
 * What the DNS tests need around a bottle: a canary resolver on loopback (scripts/dns-canary.js),
 * the host's resolver pointed at it while containers start (the engine reads it then), and the
 * probe that looks names up from inside a container (dns-probe.js).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pollUntil } from "../../helpers/deadline";
import { runTool } from "./run-tool";

export const CANARY_SCRIPT = path.resolve(__dirname, "../../../scripts/dns-canary.js");
const PROBE_SCRIPT = path.resolve(__dirname, "dns-probe.js");
/** The files an engine may read the host's resolvers from (systemd-resolved's upstream list too). */
const HOST_RESOLVER_FILES = ["/etc/resolv.conf", "/run/systemd/resolve/resolv.conf"];

export interface CanaryQuery {
  proto: "udp" | "tcp";
  from: string;
  name: string;
}

export interface DnsCanary {
  readonly address: string;
  /** Every query received so far. */
  queries(): CanaryQuery[];
  stop(): Promise<void>;
}

/** Start the canary on a loopback address; resolves once it listens on UDP and TCP port 53. */
export async function startCanary(address: string): Promise<DnsCanary> {
  const child: ChildProcess = spawn(process.execPath, [CANARY_SCRIPT, "--listen", address, "--seconds", "600"], { stdio: ["ignore", "pipe", "pipe"] });
  const lines: Record<string, unknown>[] = [];
  let stderr = "";
  let pending = "";
  child.stdout?.on("data", (c: Buffer) => {
    pending += c.toString("utf8");
    const parts = pending.split("\n");
    pending = parts.pop() ?? "";
    for (const l of parts) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
  });
  child.stderr?.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await pollUntil("the DNS canary to listen", () => {
    if (child.exitCode !== null) throw new Error(`dns canary exited ${child.exitCode}: ${stderr.trim()}`);
    return lines.some((l) => l.event === "listening") ? true : undefined;
  });
  return {
    address,
    queries: () => lines.filter((l) => l.event === "query").map((l) => ({ proto: l.proto as CanaryQuery["proto"], from: String(l.from), name: String(l.name) })),
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** `mount` or `umount`, bounded. */
async function mountTool(bin: "mount" | "umount", args: readonly string[]): Promise<void> {
  await runTool(bin, bin, args, { PATH: process.env.PATH ?? "/usr/bin:/bin" }, { timeoutMs: 10_000 });
}

/**
 * Run `fn` with the host's resolver files bind-mounted to name only `address`, then restore
 * them, whatever `fn` does. Keep `fn` short: every program on the host resolves through the
 * canary meanwhile.
 */
export async function withHostResolver<T>(address: string, fn: () => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(tmpdir(), "bb-resolv-"));
  const file = path.join(dir, "resolv.conf");
  writeFileSync(file, `nameserver ${address}\n`);
  const mounted: string[] = [];
  try {
    for (const target of HOST_RESOLVER_FILES.filter((f) => existsSync(f))) {
      await mountTool("mount", ["--bind", file, target]);
      mounted.push(target);
    }
    if (mounted.length === 0) throw new Error("no host resolver file to point at the canary");
    if (!readFileSync("/etc/resolv.conf", "utf8").includes(address)) throw new Error("the bind mount did not take");
    return await fn();
  } finally {
    for (const target of mounted.reverse()) await mountTool("umount", [target]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Whether an engine of this version forwards an internal-only container's queries from the
 * host's namespace to a loopback host resolver (CVE-2024-29018: fixed in 26.0.0, 25.0.4, 23.0.11).
 */
export function engineForwardsToHostLoopback(version: string): boolean {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!m) throw new Error(`unreadable engine version ${JSON.stringify(version)}`);
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (major < 23) return true;
  if (major === 23) return minor === 0 && patch < 11;
  if (major === 24) return true;
  if (major === 25) return minor === 0 && patch < 4;
  return false;
}

/** What each way of looking a name up in the container gave (`answer ...`, `timeout`, `error ...`). */
export type ProbeOutcomes = Readonly<Record<string, string>>;

/**
 * Look up names carrying `label` from inside a container, through `exec` (`docker exec -i <c>`,
 * `kubectl exec -i ...`): raw UDP and TCP queries to each server, getaddrinfo and gethostbyname
 * (through getent) and the resolver of resolv.conf; and `expect` through gethostbyname.
 */
export async function probeNames(
  exec: (argv: readonly string[], input: string) => Promise<{ code: number; stdout: string; stderr: string }>,
  label: string,
  expect: string,
  servers: readonly string[],
): Promise<ProbeOutcomes> {
  const r = await exec(["node", "-", label, expect, ...servers], readFileSync(PROBE_SCRIPT, "utf8"));
  if (r.code !== 0) throw new Error(`dns probe exited ${r.code}: ${r.stderr.trim().slice(0, 500)}`);
  return JSON.parse(r.stdout) as ProbeOutcomes;
}

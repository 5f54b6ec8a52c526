/**
 * Runs the real proxy (`proxy/dist/main.js`) as a child process, the way the container runs it,
 * and gives tests its port, its output lines and a way to signal it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestCa } from "./test-ca";
import { pollUntil } from "./deadline";

export const PROXY_MAIN = path.resolve(__dirname, "../../proxy/dist/main.js");

export interface ProxyProcess {
  port: number;
  healthPort: number;
  routesFile: string;
  stdout: string[];
  stderr: string[];
  child: ChildProcess;
  /** Parsed JSON lines of stdout with the given event. */
  events(event: string): Record<string, unknown>[];
  writeRoutes(doc: unknown): void;
  stop(): Promise<number | null>;
}

export interface ProxyProcessOptions {
  routes: unknown;
  ca: TestCa;
  /** Extra environment (token slots, HTTPS_PROXY, NODE_EXTRA_CA_CERTS...). */
  env: Record<string, string>;
  bottle?: string;
}

/** Start the proxy and wait (with a deadline) for its `started` line. */
export async function startProxyProcess(opts: ProxyProcessOptions): Promise<ProxyProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), "bot-bottle-proxy-"));
  const routesFile = path.join(dir, "routes.yaml");
  writeFileSync(routesFile, JSON.stringify(opts.routes), { mode: 0o600 });
  const child = spawn(process.execPath, [PROXY_MAIN], {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      EGRESS_PROXY_ROUTES: routesFile,
      EGRESS_PROXY_CA_CERT: opts.ca.certFile,
      // as a bottle passes it: the PEM in the environment, not a file
      EGRESS_PROXY_CA_KEY_PEM: readFileSync(opts.ca.keyFile, "utf8"),
      EGRESS_PROXY_LISTEN: "0",
      EGRESS_PROXY_HEALTH_LISTEN: "127.0.0.1:0",
      EGRESS_PROXY_BOTTLE: opts.bottle ?? "test",
      ...opts.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  collectLines(child.stdout, stdout);
  collectLines(child.stderr, stderr);
  let exited = false;
  child.once("exit", () => (exited = true));
  const parsed = (event: string) =>
    stdout.flatMap((l) => {
      try {
        const j = JSON.parse(l) as Record<string, unknown>;
        return j.event === event ? [j] : [];
      } catch {
        return [];
      }
    });
  const started = await pollUntil("proxy start", () => {
    if (exited) throw new Error(`proxy exited during start-up: ${stderr.join("\n")}`);
    return parsed("started")[0];
  });
  return {
    port: Number(started.port),
    healthPort: Number(started.health_port),
    routesFile,
    stdout,
    stderr,
    child,
    events: parsed,
    writeRoutes: (doc) => writeFileSync(routesFile, JSON.stringify(doc), { mode: 0o600 }),
    stop: async () => {
      if (exited) return child.exitCode;
      // 'close', not 'exit': the last lines the proxy wrote are read by then.
      const done = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      const code = await done;
      clearTimeout(timer);
      return code;
    },
  };
}

/**
 * The environment of a proxy run to be refused at start-up: `routes` (a document, or the text of
 * the file) and the CA in files, loopback listeners, an upstream proxy nobody listens on, no
 * tokens. Tests add or override what the refusal is about.
 */
export function startupEnv(ca: TestCa, routes: unknown): Record<string, string> {
  return {
    EGRESS_PROXY_ROUTES: tempFile("routes.yaml", typeof routes === "string" ? routes : JSON.stringify(routes)),
    EGRESS_PROXY_CA_CERT: ca.certFile,
    EGRESS_PROXY_CA_KEY: ca.keyFile,
    EGRESS_PROXY_LISTEN: "0",
    EGRESS_PROXY_HEALTH_LISTEN: "127.0.0.1:0",
    HTTPS_PROXY: "http://127.0.0.1:9",
  };
}

/** Run the proxy expecting it to refuse to start; resolves with its exit code and stderr. */
export async function runProxyExpectingFailure(env: Record<string, string>, args: string[] = []): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = spawn(process.execPath, [PROXY_MAIN, ...args], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const out: string[] = [];
  const err: string[] = [];
  collectLines(child.stdout, out);
  collectLines(child.stderr, err);
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  const code = await new Promise<number | null>((resolve) => child.once("close", (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stderr: err.join("\n"), stdout: out.join("\n") };
}

function collectLines(stream: NodeJS.ReadableStream | null, into: string[]): void {
  if (!stream) return;
  let buf = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    buf += chunk;
    let i;
    while ((i = buf.indexOf("\n")) !== -1) {
      into.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
}

/** A temp file path holding `content`, for CA bundles and the like. */
export function tempFile(name: string, content: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "bot-bottle-")), name);
  writeFileSync(file, content);
  return file;
}

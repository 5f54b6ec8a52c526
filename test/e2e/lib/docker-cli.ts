/**
 * The docker CLI as the e2e suite uses it: argument arrays (no shell), a deadline on every call,
 * and errors that name the command but never its input (which may carry a token).
 */
import { spawn } from "node:child_process";

/** Debian's client matches the 20.10 daemon; the newer one on PATH negotiates too. */
export const DOCKER_BIN = process.env.BB_DOCKER ?? "docker";

export interface DockerResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface DockerOptions {
  /** Written to stdin (e.g. a tar stream for `docker cp -`). */
  input?: Buffer | string;
  timeoutMs?: number;
  /** Resolve with the exit code instead of throwing on non-zero. */
  allowFailure?: boolean;
  /** Called with stdout chunks instead of collecting them (large outputs: `docker export`). */
  onStdout?: (chunk: Buffer) => void;
}

/** The environment of every docker call: the local socket, the legacy builder (no network). */
function dockerEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/root",
    DOCKER_HOST: process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock",
    DOCKER_BUILDKIT: "0",
  };
}

/** Run `docker <args>`; throws with the first two arguments and stderr on failure or timeout. */
export function docker(args: readonly string[], opts: DockerOptions = {}): Promise<DockerResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const what = `docker ${args.slice(0, 2).join(" ")}`;
  return new Promise((resolve, reject) => {
    const child = spawn(DOCKER_BIN, args, { env: dockerEnv(), stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => (opts.onStdout ? opts.onStdout(c) : out.push(c)));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${what}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`${what}: ${e.message}`));
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      const result = { code: code ?? -1, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
      if (result.code !== 0 && !opts.allowFailure) {
        reject(new Error(`${what} exited ${result.code}: ${result.stderr.trim().slice(0, 2000)}`));
      } else resolve(result);
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.input);
  });
}

/** `docker inspect` of one object as parsed JSON, or undefined when it does not exist. */
export async function inspect(kind: "container" | "network" | "image" | "volume", id: string): Promise<Record<string, unknown> | undefined> {
  const sub = kind === "container" ? ["container", "inspect"] : [kind, "inspect"];
  const r = await docker([...sub, id], { allowFailure: true, timeoutMs: 20_000 });
  if (r.code !== 0) return undefined;
  const parsed = JSON.parse(r.stdout) as Record<string, unknown>[];
  return parsed[0];
}

/** Ids of containers, networks or volumes carrying `label` (key=value). */
export async function idsByLabel(kind: "container" | "network" | "volume", label: string): Promise<string[]> {
  const args =
    kind === "container"
      ? ["ps", "-a", "-q", "--no-trunc", "--filter", `label=${label}`]
      : [kind, "ls", "-q", "--filter", `label=${label}`];
  const r = await docker(args, { timeoutMs: 20_000 });
  return r.stdout.split("\n").map((s) => s.trim()).filter(Boolean);
}

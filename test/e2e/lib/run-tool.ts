/**
 * A command-line tool as the e2e suites use one (docker, kubectl): argument arrays (no shell),
 * a deadline on every call, and errors that name the command but never its input (which may
 * carry a token).
 */
import { spawn } from "node:child_process";

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ToolOptions {
  /** Written to stdin (a tar stream, a manifest). */
  input?: Buffer | string;
  timeoutMs?: number;
  /** Resolve with the exit code instead of throwing on non-zero. */
  allowFailure?: boolean;
  /** Called with stdout chunks instead of collecting them (large outputs). */
  onStdout?: (chunk: Buffer) => void;
}

/** Run `bin <args>`; throws with `name`, the first two arguments and stderr on failure or timeout. */
export function runTool(bin: string, name: string, args: readonly string[], env: NodeJS.ProcessEnv, opts: ToolOptions = {}): Promise<ToolResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const what = `${name} ${args.slice(0, 2).join(" ")}`;
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, stdio: ["pipe", "pipe", "pipe"] });
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

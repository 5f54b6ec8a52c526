/**
 * The docker CLI as the e2e suite uses it: argument arrays (no shell), a deadline on every call,
 * and errors that name the command but never its input (which may carry a token).
 */
import { runTool, type ToolOptions, type ToolResult } from "./run-tool";

/** Debian's client matches the 20.10 daemon; the newer one on PATH negotiates too. */
export const DOCKER_BIN = process.env.BB_DOCKER ?? "docker";

export type DockerResult = ToolResult;
export type DockerOptions = ToolOptions;

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
  return runTool(DOCKER_BIN, "docker", args, dockerEnv(), opts);
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

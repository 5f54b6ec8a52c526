/** Commands run inside the bottle's agent container (or Pod), as the agent would run them. */
import { docker } from "./docker-cli";
import type { ToolOptions, ToolResult } from "./run-tool";

/** Runs argv inside a container: `docker exec`, `kubectl exec`. */
export type Exec = (argv: readonly string[], opts: ToolOptions) => Promise<ToolResult>;

export interface CurlOptions {
  method?: string;
  headers?: string[];
  direct?: boolean;
  maxTimeS?: number;
  proxy?: string;
}

export interface CurlResult {
  /** curl's exit code (0 = an HTTP response arrived). */
  exit: number;
  /** HTTP status, 0 when there was none. */
  status: number;
  body: string;
  stderr: string;
  /** curl's time_total, in seconds. */
  seconds: number;
}

const PROXY_VARS = ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"];

/**
 * `curl` from the agent with its own environment (proxy variables, CA bundle), or with the
 * proxy variables removed (`direct`). Bounded by curl's own timeouts and the exec deadline.
 */
export function agentCurl(agent: string, url: string, opts: CurlOptions = {}): Promise<CurlResult> {
  return curlIn((argv, o) => docker(["exec", agent, ...argv], o), url, opts);
}

/** `curl` run by `exec` in a container, as agentCurl describes. */
export async function curlIn(exec: Exec, url: string, opts: CurlOptions = {}): Promise<CurlResult> {
  const maxTime = opts.maxTimeS ?? 15;
  const curl = ["curl", "-sS", "--connect-timeout", String(Math.min(5, maxTime)), "--max-time", String(maxTime), "-o", "-", "-w", "\n%{http_code} %{time_total}"];
  if (opts.method) curl.push("-X", opts.method);
  for (const h of opts.headers ?? []) curl.push("-H", h);
  if (opts.direct) curl.push("--noproxy", "*");
  // a proxy of the caller's choosing, and no CA check: the point is whether anything answers
  if (opts.proxy) curl.push("--proxy", opts.proxy, "--insecure");
  const argv = opts.direct ? ["env", ...PROXY_VARS.flatMap((v) => ["-u", v]), ...curl, url] : [...curl, url];
  const r = await exec(argv, { allowFailure: true, timeoutMs: (maxTime + 10) * 1000 });
  const cut = r.stdout.lastIndexOf("\n");
  const [status, seconds] = r.stdout.slice(cut + 1).split(" ");
  return { exit: r.code, status: Number(status) || 0, body: r.stdout.slice(0, Math.max(cut, 0)), stderr: r.stderr, seconds: Number(seconds) || 0 };
}

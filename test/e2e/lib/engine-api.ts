/**
 * The Docker Engine API over the local unix socket, for what the CLI cannot say exactly (a
 * healthcheck in CMD form, ulimits, env without a process list or env file) and to keep token
 * values out of argv. Errors name the method and path, never the request body.
 */
import http from "node:http";

const SOCKET = (process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock").replace(/^unix:\/\//, "");
/** Docker 20.10 speaks 1.41; newer daemons still accept it. */
const API = "/v1.41";

export interface ApiResult {
  status: number;
  body: unknown;
}

/** One API call; non-2xx statuses throw unless listed in `accept`. */
export function api(method: string, path: string, body?: unknown, opts: { accept?: number[]; raw?: Buffer; timeoutMs?: number } = {}): Promise<ApiResult> {
  const payload = opts.raw ?? (body === undefined ? undefined : Buffer.from(JSON.stringify(body)));
  const headers: Record<string, string> = {};
  if (payload) {
    headers["Content-Type"] = opts.raw ? "application/x-tar" : "application/json";
    headers["Content-Length"] = String(payload.length);
  }
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: SOCKET, method, path: `${API}${path}`, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.once("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let parsed: unknown = text;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          // plain-text answers (e.g. `OK`) stay strings
        }
        const status = res.statusCode ?? 0;
        if ((status < 200 || status > 299) && !(opts.accept ?? []).includes(status)) {
          const message = (parsed as { message?: string } | undefined)?.message ?? text;
          reject(new Error(`engine ${method} ${path.split("?")[0]}: ${status} ${String(message).slice(0, 500)}`));
        } else resolve({ status, body: parsed });
      });
    });
    req.setTimeout(opts.timeoutMs ?? 60_000, () => req.destroy(new Error(`engine ${method} ${path.split("?")[0]}: no answer in time`)));
    req.once("error", reject);
    req.end(payload);
  });
}

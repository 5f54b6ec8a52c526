/**
 * The health endpoint, on its own listener (127.0.0.1 by default, for Docker's healthcheck):
 * it answers `/healthz` and nothing else, so it can never be a way upstream.
 */
import http from "node:http";

/** Start the health listener; `status` is asked on each probe. */
export async function startHealthServer(
  host: string,
  port: number,
  status: () => { ok: boolean; routes: number },
): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((req, res) => {
    const s = status();
    const healthz = req.method === "GET" && req.url === "/healthz";
    res.writeHead(healthz ? (s.ok ? 200 : 503) : 404, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(healthz ? JSON.stringify({ status: s.ok ? "ok" : "starting", routes: s.routes }) : JSON.stringify({ error: "not found" }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return { server, port: typeof address === "object" && address ? address.port : port };
}

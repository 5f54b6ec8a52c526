/**
 * The bench's HTTPS upstream, run as its own process so that it never shares an event loop with
 * the load generator. Leaf certificate from the private upstream CA, nothing kept per request:
 * - GET  /small            a fixed small body (BENCH_SMALL_BYTES)
 * - GET  /whoami           whether the bench credential arrived, and how many Authorization headers
 * - GET  /download?bytes=N N bytes from one precomputed chunk, with backpressure
 * - POST /upload           counts the body, answers {"bytes": N}
 * - GET  /sse?events=K&interval_ms=T  K events, the first at once; each carries the send time
 *   (process.hrtime, CLOCK_MONOTONIC, comparable across processes on one machine)
 * Env: BENCH_UPSTREAM_CA_CERT, BENCH_UPSTREAM_CA_KEY, BENCH_HOST, BENCH_TOKEN, BENCH_SMALL_BYTES.
 * Prints `{"port":N}` on stdout once listening.
 */
import https from "node:https";
import path from "node:path";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { sendPattern } from "../test/helpers/stream-upstream";

interface CaApi {
  getCA(o: { cert: string; key: string; keyLength?: number }): Promise<{ generateCertificate(domain: string): Promise<{ key: string; cert: string }> }>;
}
// mockttp's leaf-certificate helper, which its export map does not expose (as test/helpers does).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const caApi: CaApi = require(path.join(path.dirname(require.resolve("mockttp")), "util", "certificates.js"));

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

async function main(): Promise<void> {
  const ca = await caApi.getCA({ cert: readFileSync(env("BENCH_UPSTREAM_CA_CERT"), "utf8"), key: readFileSync(env("BENCH_UPSTREAM_CA_KEY"), "utf8"), keyLength: 2048 });
  const leaf = await ca.generateCertificate(env("BENCH_HOST"));
  const expected = `Bearer ${env("BENCH_TOKEN")}`;
  const small = Buffer.alloc(Number(process.env.BENCH_SMALL_BYTES ?? "128"), "x");
  const chunk = Buffer.alloc(64 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31 + 7) & 0xff;

  const server = https.createServer({ key: leaf.key, cert: leaf.cert, noDelay: true, keepAliveTimeout: 60_000 }, (req, res) => {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const pathname = q === -1 ? url : url.slice(0, q);
    const params = new URLSearchParams(q === -1 ? "" : url.slice(q + 1));
    if (req.method === "GET" && pathname === "/small") {
      res.writeHead(200, { "content-type": "text/plain", "content-length": small.length });
      res.end(small);
    } else if (req.method === "GET" && pathname === "/whoami") {
      const auth = req.headersDistinct.authorization ?? [];
      const body = JSON.stringify({ credential: auth.length === 1 && auth[0] === expected, authorization_headers: auth.length });
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(body);
    } else if (req.method === "GET" && pathname === "/download") {
      const total = Number(params.get("bytes") ?? "0");
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": total });
      sendPattern(res, total, chunk);
    } else if (req.method === "POST" && pathname === "/upload") {
      let bytes = 0;
      req.on("data", (d: Buffer) => (bytes += d.length));
      req.on("end", () => {
        const body = JSON.stringify({ bytes });
        res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
        res.end(body);
      });
    } else if (req.method === "GET" && pathname === "/sse") {
      let left = Number(params.get("events") ?? "10");
      const interval = Number(params.get("interval_ms") ?? "20");
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      const send = () => {
        res.write(`data: ${process.hrtime.bigint()}\n\n`);
        if (--left <= 0) return void res.end();
        timer = setTimeout(send, interval);
      };
      let timer = setTimeout(send, 0);
      res.on("close", () => clearTimeout(timer));
    } else {
      res.writeHead(404, { "content-length": 0 }).end();
    }
  });
  server.listen(0, "127.0.0.1", () => {
    process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
  });
  process.on("SIGTERM", () => process.exit(0));
}

main().catch((e: unknown) => {
  process.stderr.write(`upstream failed: ${String(e)}\n`);
  process.exit(1);
});

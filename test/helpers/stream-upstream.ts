/**
 * A streaming HTTPS upstream for transfer tests, signed by the private upstream CA. Unlike a
 * mockttp upstream it keeps nothing: downloads are generated on the fly with backpressure,
 * uploads are counted and hashed as they arrive, and SSE events go out when the test says so.
 */
import { createHash } from "node:crypto";
import https from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";
import tls from "node:tls";
import type { ServerResponse } from "node:http";
import type { TestCa } from "./test-ca";

interface CaApi {
  getCA(o: { cert: string; key: string; keyLength?: number }): Promise<{ generateCertificate(domain: string): Promise<{ key: string; cert: string }> }>;
}
// Leaf certificates come from mockttp's CA helper, which its export map does not expose.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const caApi: CaApi = require(path.join(path.dirname(require.resolve("mockttp")), "util", "certificates.js"));

export interface StreamUpstream {
  port: number;
  /** Send one SSE event to every open /sse stream. */
  sendEvent(data: string): void;
  /** End every open /sse stream. */
  endEvents(): void;
  openEventStreams(): number;
  uploads: { bytes: number; sha256: string }[];
  close(): Promise<void>;
}

/** A deterministic byte pattern, so both ends can hash what was sent. */
export function patternChunk(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

/** Write `total` bytes of `chunk` repeated, honouring backpressure, then end the response. */
export function sendPattern(res: ServerResponse, total: number, chunk: Buffer): void {
  let left = total;
  const pump = () => {
    while (left > 0) {
      const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= part.length;
      if (!res.write(part)) return void res.once("drain", pump);
    }
    res.end();
  };
  pump();
}

/** TLS server options that answer each of `hosts` with a leaf certificate from `ca`. */
export async function hostCertificates(ca: TestCa, hosts: string[]): Promise<https.ServerOptions> {
  const authority = await caApi.getCA({ cert: ca.cert, key: ca.key, keyLength: 2048 });
  const contexts = new Map<string, tls.SecureContext>();
  for (const h of hosts) {
    const leaf = await authority.generateCertificate(h);
    contexts.set(h, tls.createSecureContext({ key: leaf.key, cert: leaf.cert }));
  }
  return { SNICallback: (name, cb) => cb(null, contexts.get(name)) };
}

export async function startStreamUpstream(ca: TestCa, hosts: string[]): Promise<StreamUpstream> {
  const sse = new Set<ServerResponse>();
  const uploads: { bytes: number; sha256: string }[] = [];
  const server = https.createServer(await hostCertificates(ca, hosts), (req, res) => {
    const url = new URL(req.url ?? "/", "https://x");
    if (req.method === "GET" && url.pathname === "/download") {
      const total = Number(url.searchParams.get("bytes") ?? "0");
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(total) });
      sendPattern(res, total, patternChunk(64 * 1024));
    } else if (req.method === "POST" && url.pathname === "/upload") {
      const hash = createHash("sha256");
      let bytes = 0;
      req.on("data", (d: Buffer) => {
        bytes += d.length;
        hash.update(d);
      });
      req.on("end", () => {
        const result = { bytes, sha256: hash.digest("hex") };
        uploads.push(result);
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(result));
      });
    } else if (req.method === "GET" && url.pathname === "/sse") {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      res.flushHeaders();
      sse.add(res);
      res.on("close", () => sse.delete(res));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    sendEvent: (data) => {
      for (const r of sse) r.write(`data: ${data}\n\n`);
    },
    endEvents: () => {
      for (const r of sse) r.end();
    },
    openEventStreams: () => sse.size,
    uploads,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * An HTTPS (and WebSocket) upstream that echoes the credential the proxy injected, the way
 * debug endpoints and error pages do: in any place of its answer (status line, a header value
 * or name, the body, a trailer), in any encoding of echo-encodings.ts, with the body split into
 * two writes at a chosen offset, plain or compressed. Its WebSocket side sends tokens it was
 * given (a server that learned them elsewhere), split across messages, in pings and close reasons.
 *
 *   GET /echo?enc=<encoding>&in=<body|header|header-name|status|trailer>&at=<offset>
 *            &framing=<length|chunked>&coding=<gzip|deflate|deflate-raw|br|gzip-name|gzip-twice|deflate-twice|zstd>
 *   GET /bomb                   a gzip body that inflates 1024:1
 *   GET /ws?enc=<encoding>&at=<offset>   (WebSocket) the token in two messages, split at `at`
 */
import https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import zlib from "node:zlib";
import { WebSocketServer } from "ws";
import { echoEncodings } from "./echo-encodings";
import { hostCertificates } from "./stream-upstream";
import type { TestCa } from "./test-ca";

export interface EchoUpstream {
  port: number;
  /** `accept-encoding` of each request, as it arrived. */
  acceptEncodings: (string | undefined)[];
  close(): Promise<void>;
}

/** Text around the echo, so that it sits inside a larger body as it would in a real answer. */
export const ECHO_PREFIX = '{"debug":true,"request":{"headers":';
export const ECHO_SUFFIX = "}}\n";

/** The echoed form of `token` under `encoding` (a name from echoEncodings). */
export function encoded(token: string, encoding: string): string {
  const found = echoEncodings(token).find(([name]) => name === encoding);
  if (!found) throw new Error(`no echo encoding named ${encoding}`);
  return found[1];
}

/** A gzip member whose header names the file `name` (RFC 1952 FNAME): text the inflater never returns. */
function gzipNamed(body: Buffer, name: string): Buffer {
  const plain = zlib.gzipSync(body);
  const header = Buffer.from([0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 0xff]);
  return Buffer.concat([header, Buffer.from(`${name}\0`, "latin1"), plain.subarray(10)]);
}

function compress(body: Buffer, coding: string, token: string): { bytes: Buffer; header: string } {
  switch (coding) {
    case "gzip": return { bytes: zlib.gzipSync(body), header: "gzip" };
    case "gzip-name": return { bytes: gzipNamed(Buffer.from("{}"), token), header: "gzip" };
    case "deflate": return { bytes: zlib.deflateSync(body), header: "deflate" };
    case "deflate-raw": return { bytes: zlib.deflateRawSync(body), header: "deflate" };
    case "br": return { bytes: zlib.brotliCompressSync(body), header: "br" };
    case "zstd": return { bytes: body, header: "zstd" };
    // a first stream without the token, then one with it after the first one's end
    case "gzip-twice": return { bytes: Buffer.concat([zlib.gzipSync("{}"), Buffer.from([0]), zlib.gzipSync(body)]), header: "gzip" };
    case "deflate-twice": return { bytes: Buffer.concat([zlib.deflateSync("{}"), zlib.deflateSync(body)]), header: "deflate" };
    default: throw new Error(`unknown coding ${coding}`);
  }
}

/** Write `body` in two parts split at `at`, the second only once the first has left. */
function writeSplit(res: ServerResponse, body: Buffer, at: number, end: () => void): void {
  const cut = Math.max(0, Math.min(at, body.length));
  res.write(body.subarray(0, cut), () => setImmediate(() => {
    res.write(body.subarray(cut));
    end();
  }));
}

function answer(req: IncomingMessage, res: ServerResponse, bomb: Buffer): void {
  const url = new URL(req.url ?? "/", "https://x");
  if (url.pathname === "/bomb") {
    res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip", "content-length": String(bomb.length) });
    return void res.end(bomb);
  }
  // `/echo/<label>` too: a test tells its own audit lines apart by path (the log omits queries)
  if (url.pathname !== "/echo" && !url.pathname.startsWith("/echo/")) return void res.writeHead(404).end();
  const token = String(req.headers["x-api-key"] ?? "");
  const text = encoded(token, url.searchParams.get("enc") ?? "raw");
  const place = url.searchParams.get("in") ?? "body";
  const at = Number(url.searchParams.get("at") ?? "0");
  const coding = url.searchParams.get("coding");
  const chunked = url.searchParams.get("framing") === "chunked" || place === "trailer";
  const body = Buffer.from(place === "body" ? `${ECHO_PREFIX}"${text}"${ECHO_SUFFIX}` : `${ECHO_PREFIX}null${ECHO_SUFFIX}`, "latin1");
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (place === "header") headers["x-echo"] = text;
  if (place === "header-name") headers[`x-echo-${text}`] = "1";
  if (place === "trailer") headers.trailer = "x-echo-trailer";
  let out: Buffer = body;
  if (coding) {
    const c = compress(body, coding, token);
    out = c.bytes;
    headers["content-encoding"] = c.header;
  }
  if (!chunked) headers["content-length"] = String(out.length);
  res.writeHead(200, place === "status" ? text : "OK", headers);
  writeSplit(res, out, ECHO_PREFIX.length + 1 + at, () => {
    if (place === "trailer") res.addTrailers({ "x-echo-trailer": text });
    res.end();
  });
}

export async function startEchoUpstream(ca: TestCa, hosts: string[], wsTokens: readonly string[]): Promise<EchoUpstream> {
  const bomb = zlib.gzipSync(Buffer.alloc(64 << 20));
  const acceptEncodings: (string | undefined)[] = [];
  const server = https.createServer(await hostCertificates(ca, hosts), (req, res) => {
    acceptEncodings.push(req.headers["accept-encoding"]);
    answer(req, res, bomb);
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on("upgrade", (req: IncomingMessage, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      const url = new URL(req.url ?? "/", "https://x");
      const enc = url.searchParams.get("enc") ?? "raw";
      const at = Number(url.searchParams.get("at") ?? "0");
      for (const token of wsTokens) {
        const text = encoded(token, enc);
        ws.send(`start ${text.slice(0, at)}`);
        ws.send(`${text.slice(at)} end`);
        ws.send(Buffer.from(`binary ${text}`), { binary: true });
        if (text.length <= 120) ws.ping(Buffer.from(text));
      }
      const reason = encoded(wsTokens[0] ?? "", "raw");
      ws.send("last", () => ws.close(4000, reason.slice(0, 120)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    acceptEncodings,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

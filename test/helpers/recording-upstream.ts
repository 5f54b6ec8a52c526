/**
 * An HTTPS upstream that records every request it receives (so that a test can assert that a
 * refused one never arrived, not one byte of its body) and answers in two ways:
 *
 *   GET /basic-echo?enc=<encoding>&in=<body|header>   decodes the Basic credential the proxy
 *        injected and echoes its password (the raw token) under an encoding of echo-encodings.ts,
 *        as a server that reflects what it parsed would
 *   anything else                                    200 `ok`, once the whole body has come
 */
import https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { encoded } from "./echo-upstream";
import { hostCertificates } from "./stream-upstream";
import type { TestCa } from "./test-ca";

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** Bytes of the body that arrived (also for a request cut short). */
  body: Buffer;
}

export interface RecordingUpstream {
  port: number;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

function answer(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", "https://x");
  if (url.pathname !== "/basic-echo") return void res.writeHead(200, { "content-type": "text/plain", "content-length": "2" }).end("ok");
  const auth = String(req.headers.authorization ?? "");
  const pair = Buffer.from(auth.replace(/^Basic /, ""), "base64").toString("latin1");
  const password = pair.slice(pair.indexOf(":") + 1);
  const text = encoded(password, url.searchParams.get("enc") ?? "raw");
  // the echo as the encoder wrote it, not escaped once more
  const body = url.searchParams.get("in") === "header" ? "{}" : `{"user":"${pair.slice(0, pair.indexOf(":"))}","echo":"${text}"}`;
  const headers: Record<string, string> = { "content-type": "application/json", "content-length": String(Buffer.byteLength(body, "latin1")) };
  if (url.searchParams.get("in") === "header") headers["x-echo"] = text;
  res.writeHead(200, headers);
  res.end(Buffer.from(body, "latin1"));
}

export async function startRecordingUpstream(ca: TestCa, hosts: string[]): Promise<RecordingUpstream> {
  const requests: RecordedRequest[] = [];
  const server = https.createServer(await hostCertificates(ca, hosts), (req, res) => {
    const record: RecordedRequest = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.alloc(0) };
    requests.push(record);
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => {
      chunks.push(c);
      record.body = Buffer.concat(chunks);
    });
    req.once("end", () => answer(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

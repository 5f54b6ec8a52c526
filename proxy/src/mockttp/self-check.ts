/**
 * The start-up check of mockttp's private parts by what they do, not by their presence: a
 * throwaway mockttp, set up as the proxy's, takes one CONNECT and one intercepted HTTPS request
 * on loopback. The request must reach the listener put in place of mockttp's own (server.app),
 * on a TLS leaf minted from the bottle CA, with the CONNECT target, SNI and encryption recorded
 * under mockttp's socket symbols, a tunnel socket under the TLS one (`_parent`), and the
 * accepted socket announced as a `connection`. The proxy's own server and audit log see nothing.
 */
import net from "node:net";
import tls from "node:tls";
import * as mockttp from "mockttp";
import { serverOptions } from "./egress-proxy";
import type { ConnectionFacts } from "../transport/connection-view";
import { connectionEvents, connectionFacts, takeRequestPath, tunnelChain } from "./internals";

const PROBE_HOST = "self-check.egress-proxy.invalid";
const DEADLINE_MS = 10_000;

interface Seen {
  facts: ConnectionFacts;
  chain: number;
}

/** Resolves when mockttp behaves as the proxy relies on; rejects naming the part that did not. */
export async function selfCheck(ca: { cert: string; key: string }): Promise<void> {
  const server = mockttp.getLocal(serverOptions(ca));
  let seen: Seen | undefined;
  takeRequestPath(server, (req, res) => {
    seen = { facts: connectionFacts(req.socket), chain: tunnelChain(req.socket).length };
    res.writeHead(204).end();
  });
  await server.start();
  let connections = 0;
  connectionEvents(server).on("connection", () => connections++);
  let deadline: NodeJS.Timeout | undefined;
  try {
    const status = await Promise.race([
      probe(server.port, ca.cert),
      new Promise<never>((_, reject) => {
        deadline = setTimeout(() => reject(new Error(`no answer within ${DEADLINE_MS / 1000} s`)), DEADLINE_MS);
      }),
    ]);
    const problems = [
      ...(status === 204 && seen ? [] : [`the request did not reach the listener put in place of mockttp's own: status ${status}`]),
      ...(seen?.facts.connectAuthority === `${PROBE_HOST}:443` ? [] : ["the CONNECT target was not recorded under mockttp's socket symbol"]),
      ...(seen?.facts.sni === PROBE_HOST ? [] : ["the TLS SNI was not recorded under mockttp's socket symbol"]),
      ...(seen?.facts.encrypted === true ? [] : ["the encrypted hop was not recorded under mockttp's socket symbol"]),
      ...(seen && seen.chain >= 2 ? [] : ["no tunnel socket found under the TLS socket"]),
      ...(connections >= 1 ? [] : ["no connection event for the accepted socket"]),
    ];
    if (problems.length > 0) throw new Error(problems.join("; "));
  } finally {
    clearTimeout(deadline);
    await server.stop();
  }
}

/** CONNECT, TLS verified against the bottle CA for the probe name, one GET; resolves with the status. */
function probe(port: number, caCert: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const raw = net.connect(port, "127.0.0.1");
    raw.once("error", reject);
    raw.once("connect", () => raw.write(`CONNECT ${PROBE_HOST}:443 HTTP/1.1\r\nHost: ${PROBE_HOST}:443\r\n\r\n`));
    let head = "";
    const onConnectAnswer = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      raw.off("data", onConnectAnswer);
      if (!/^HTTP\/1\.[01] 200/.test(head)) return reject(new Error(`CONNECT answered ${head.split("\r\n")[0] ?? ""}`));
      const secure = tls.connect({ socket: raw, servername: PROBE_HOST, ca: caCert, ALPNProtocols: ["http/1.1"] });
      secure.once("error", (e) => reject(new Error(`TLS with a leaf from the bottle CA failed: ${e.message}`)));
      secure.once("secureConnect", () => secure.write(`GET / HTTP/1.1\r\nHost: ${PROBE_HOST}\r\nConnection: close\r\n\r\n`));
      let answer = "";
      secure.on("data", (d: Buffer) => {
        answer += d.toString("latin1");
        const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1];
        if (status !== undefined) {
          secure.destroy();
          resolve(Number(status));
        }
      });
    };
    raw.on("data", onConnectAnswer);
  });
}

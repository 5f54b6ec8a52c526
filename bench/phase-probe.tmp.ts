// scratch: phase timings of one new-connection request through the proxy (not committed)
import tls from "node:tls";
import net from "node:net";
import https from "node:https";
import { makeTestCa } from "../test/helpers/test-ca";
import { startConnectProxy } from "../test/helpers/connect-proxy";
import { startProxyProcess } from "../test/helpers/proxy-process";
import * as mockttp from "mockttp";

async function main() {
  const bottle = await makeTestCa("b"); const up = await makeTestCa("u");
  const ca = await mockttp.generateCACertificate({ subject: { commonName: "x" }, bits: 2048 });
  void ca;
  // upstream: node https with leaf from mockttp CA util
  const caApi = require("../proxy/node_modules/mockttp/dist/util/certificates.js");
  const upCa = await caApi.getCA({ cert: up.cert, key: up.key, keyLength: 2048 });
  const leaf = await upCa.generateCertificate("sse.test");
  const server = https.createServer({ key: leaf.key, cert: leaf.cert }, (req, res) => { res.writeHead(200, { "content-type": "text/event-stream" }); res.write("data: hi\n\n"); setTimeout(() => res.end(), 5); });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const upPort = (server.address() as net.AddressInfo).port;
  const fwd = await startConnectProxy({ "sse.test:443": upPort });
  const proxy = await startProxyProcess({ routes: { version: 1, routes: [{ host: "sse.test" }] }, ca: bottle, env: { HTTPS_PROXY: fwd.url, NODE_EXTRA_CA_CERTS: up.certFile } });
  const now = () => Number(process.hrtime.bigint()) / 1e6;
  const runOnce = async (viaProxy: boolean) => {
    const t0 = now();
    const raw = net.connect(viaProxy ? proxy.port : upPort, "127.0.0.1");
    raw.setNoDelay(true);
    await new Promise((r) => raw.once("connect", r));
    const t1 = now();
    if (viaProxy) {
      raw.write("CONNECT sse.test:443 HTTP/1.1\r\nHost: sse.test:443\r\n\r\n");
      await new Promise((r) => raw.once("data", r));
    }
    const t2 = now();
    const s = tls.connect({ socket: raw, servername: "sse.test", ca: viaProxy ? bottle.cert : up.cert });
    await new Promise((r) => s.once("secureConnect", r));
    const t3 = now();
    s.write("GET /sse HTTP/1.1\r\nHost: sse.test\r\n\r\n");
    await new Promise((r) => s.once("data", r));
    const t4 = now();
    s.destroy();
    return [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0];
  };
  for (const via of [false, true]) {
    const rows: number[][] = [];
    for (let i = 0; i < 40; i++) rows.push(await runOnce(via));
    const med = (k: number) => rows.map((r) => r[k]!).sort((a, b) => a - b)[20]!.toFixed(2);
    console.log(via ? "proxy " : "direct", "tcp", med(0), "connect", med(1), "tls", med(2), "req->first byte", med(3), "total", med(4));
  }
  await proxy.stop(); await fwd.close(); server.close();
}
main().then(() => process.exit(0));

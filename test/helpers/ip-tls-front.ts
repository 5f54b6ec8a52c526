/**
 * A front for a test upstream reached by IP literal. The proxy verifies an upstream reached by
 * IP against the certificate's IP addresses, and mockttp's generated leaves carry DNS names
 * only; so this front terminates TLS with a leaf for the IP (issued by the test upstream CA with
 * the openssl CLI) and relays the plaintext to the backend. Plain HTTP is relayed as it is.
 */
import net from "node:net";
import tls from "node:tls";
import { leafCertificate, type TestCa } from "./test-ca";

/** Start the front on loopback; TLS (first byte 0x16) is terminated, anything else relayed raw. */
export async function startIpTlsFront(ca: TestCa, ip: string, backendPort: number): Promise<{ port: number; close(): Promise<void> }> {
  const context = tls.createSecureContext(leafCertificate(ca, `IP:${ip}`));
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.once("close", () => sockets.delete(client));
    client.once("error", () => client.destroy());
    client.once("readable", () => {
      const first = client.read(1) as Buffer | null;
      if (first === null) return void client.destroy();
      client.unshift(first);
      const front: net.Socket = first[0] === 0x16 ? new tls.TLSSocket(client, { isServer: true, secureContext: context }) : client;
      const backend = net.connect(backendPort, "127.0.0.1");
      sockets.add(backend);
      backend.once("close", () => sockets.delete(backend));
      for (const s of [front, backend]) s.once("error", () => { front.destroy(); backend.destroy(); });
      front.pipe(backend).pipe(front);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A minimal forward proxy standing in for pipelock in loopback tests: it answers CONNECT,
 * resolves test host names to 127.0.0.1 ports from a table it is given (never DNS), refuses
 * everything else with 403, and records every CONNECT target so tests can prove the chain.
 */
import http from "node:http";
import net from "node:net";

export interface ConnectProxy {
  url: string;
  port: number;
  targets: string[];
  close(): Promise<void>;
}

/** Start on a random loopback port; `hosts` maps `name:port` to the loopback port that serves it. */
export async function startConnectProxy(hosts: Record<string, number>, port = 0): Promise<ConnectProxy> {
  const targets: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => {
    res.writeHead(405).end();
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("connect", (req, client, head) => {
    const target = req.url ?? "";
    targets.push(target);
    const local = hosts[target];
    if (local === undefined) {
      client.end("HTTP/1.1 403 Forbidden\r\n\r\n");
      return;
    }
    const upstream = net.connect(local, "127.0.0.1", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    targets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

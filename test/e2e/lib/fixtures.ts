/**
 * What the e2e test itself runs around a bottle: the test-forward-proxy (the upstream-proxy
 * hop, not pipelock), the upstream, a canary on a network of its own, and listeners on the
 * host's bridge addresses. Everything carries the run's label and is removed by `removeRun`.
 */
import { execFile } from "node:child_process";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { buildCached } from "./apply-image";
import { createContainer } from "./apply-container";
import { docker, idsByLabel } from "./docker-cli";
import { api } from "./engine-api";
import { StrictInputs } from "./strict-inputs";

const execFileAsync = promisify(execFile);

export const RUN_LABEL = "bot-bottle.e2e.run";
export const BASE_IMAGE = "bot-bottle/base:bookworm";
export const FORWARD_PROXY_IMAGE = "bot-bottle/e2e-forward-proxy:local";
export const UPSTREAM_IMAGE = "bot-bottle/e2e-upstream:local";

/** Build the fixture images (skipped when their content hash is unchanged). */
export async function buildFixtureImages(): Promise<void> {
  for (const [tag, dir] of [[FORWARD_PROXY_IMAGE, "forward-proxy"], [UPSTREAM_IMAGE, "upstream"]] as const) {
    const context = path.resolve(__dirname, "..", dir);
    await buildCached(tag, context, path.join(context, "Dockerfile"), { BASE_IMAGE });
  }
}

export async function createRunNetwork(runId: string, name: string, internal: boolean): Promise<string> {
  const r = await api("POST", "/networks/create", { Name: name, Driver: "bridge", Internal: internal, Labels: { [RUN_LABEL]: runId }, CheckDuplicate: true });
  return (r.body as { Id: string }).Id;
}

export interface FixtureSpec {
  name: string;
  image: string;
  networks: { name: string; aliases: string[] }[];
  env?: Record<string, string>;
  files?: { file: string; content: string; permissions: string }[];
  /** Overrides the image's command (e.g. keep a probe container idle for `docker exec`). */
  command?: string[];
}

/** Start a fixture container through the same applier the bottle uses, hardened the same way. */
export async function runFixture(runId: string, spec: FixtureSpec): Promise<string> {
  const inputs = {
    name: spec.name,
    image: spec.image,
    ...(spec.command ? { command: spec.command } : {}),
    envs: Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${v}`),
    uploads: spec.files ?? [],
    networksAdvanced: spec.networks,
    labels: [{ label: RUN_LABEL, value: runId }],
    capabilities: { drops: ["ALL"] },
    securityOpts: ["no-new-privileges:true"],
    memory: 256,
    mustRun: true,
  };
  const applied = await createContainer(new StrictInputs(`fixture ${spec.name}`, inputs), inputs, (t) => t);
  return applied.id;
}

/** The JSON lines a container wrote on stdout. */
export async function jsonLines(container: string): Promise<Record<string, unknown>[]> {
  const r = await docker(["logs", container], { timeoutMs: 20_000 });
  return r.stdout.split("\n").flatMap((l) => {
    try {
      return l.trim() ? [JSON.parse(l) as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}

/** A container's address on one network. */
export async function addressOn(container: string, network: string): Promise<string> {
  const info = (await api("GET", `/containers/${container}/json`)).body as { NetworkSettings: { Networks: Record<string, { IPAddress: string }> } };
  const ip = info.NetworkSettings.Networks[network]?.IPAddress;
  if (!ip) throw new Error(`container ${container.slice(0, 12)} has no address on ${network}`);
  return ip;
}

/**
 * The host's IPv4 address on a Docker network's bridge, if it holds one. Read from the bridge
 * interface, not from IPAM: a fresh Debian dockerd reports the default bridge's `Subnet` but no
 * `Gateway`, and a bridge with `inhibit_ipv4` has a gateway in IPAM that the host never holds.
 */
export async function gatewayOf(network: string): Promise<string | undefined> {
  const info = (await api("GET", `/networks/${encodeURIComponent(network)}`)).body as { Id: string; Options?: Record<string, string> };
  // Docker names a bridge `br-<first 12 of the id>` unless the network says otherwise
  const bridge = info.Options?.["com.docker.network.bridge.name"] ?? `br-${info.Id.slice(0, 12)}`;
  // `ip`, not os.networkInterfaces(): libuv skips interfaces without carrier, and docker0 has
  // none while no container is attached to it
  const { stdout } = await execFileAsync("ip", ["-4", "-o", "addr", "show", "dev", bridge], { timeout: 5_000 }).catch(() => ({ stdout: "" }));
  return /\binet (\d+\.\d+\.\d+\.\d+)\//.exec(stdout)?.[1];
}

/** The gateways a network's IPAM names (the host may not hold them: `inhibit_ipv4`). */
export async function ipamGateways(network: string): Promise<string[]> {
  const info = (await api("GET", `/networks/${encodeURIComponent(network)}`)).body as { IPAM?: { Config?: { Gateway?: string }[] | null } };
  return (info.IPAM?.Config ?? []).flatMap((c) => (c.Gateway ? [c.Gateway] : []));
}

export interface HostListener {
  address: string;
  port: number;
  /** Remote addresses of every TCP connection accepted. */
  connections: string[];
  close(): Promise<void>;
}

/**
 * An HTTP server on one of the host's bridge addresses (never a public one). Resolves
 * undefined when the host does not hold that address (e.g. a bridge without an IPv4 gateway).
 */
export function listenOnHost(address: string): Promise<HostListener | undefined> {
  const connections: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => res.end("host\n"));
  server.on("connection", (s) => {
    connections.push(s.remoteAddress ?? "?");
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  return new Promise((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) => (e.code === "EADDRNOTAVAIL" ? resolve(undefined) : reject(e)));
    server.listen(0, address, () => {
      resolve({
        address,
        port: (server.address() as net.AddressInfo).port,
        connections,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Remove every container, then every network, carrying this run's label. */
export async function removeRun(runId: string): Promise<void> {
  for (const id of await idsByLabel("container", `${RUN_LABEL}=${runId}`)) {
    await api("DELETE", `/containers/${id}?force=1&v=1`, undefined, { accept: [404] });
  }
  for (const id of await idsByLabel("network", `${RUN_LABEL}=${runId}`)) {
    await api("DELETE", `/networks/${id}`, undefined, { accept: [404] });
  }
}

/**
 * Only the agent may use the proxy. The proxy also sits on the egress network, which with
 * `pipelock: { url, network }` is one the user shares with other containers; a connection that
 * arrives there could otherwise have the bottle's credentials injected. So the proxy accepts a
 * connection only when it arrived at one of its own addresses under the name the agent uses
 * (the `egress-proxy` alias exists on the bottle's internal network alone).
 */
import { lookup } from "node:dns/promises";
import { networkInterfaces } from "node:os";

/** This container's addresses that `alias` resolves to; empty when none (the caller refuses to start). */
export async function addressesOfAlias(alias: string): Promise<ReadonlySet<string>> {
  const resolved = await lookup(alias, { all: true }).catch(() => []);
  const own = new Set(Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address)));
  // another container on a shared network may claim the same alias: only our own addresses count
  return new Set(resolved.map((r) => r.address).filter((a) => own.has(a)));
}

/** A socket's address without the IPv4-mapped prefix a dual-stack listener gives it. */
export function unmapped(address: string | undefined): string | undefined {
  return address?.startsWith("::ffff:") ? address.slice(7) : address;
}

/**
 * The world around one e2e bottle: an "outside" network with the upstream (a private-CA HTTPS
 * server answering as api.e2e.test and blocked.e2e.test), the bottle's config, and helpers to
 * read what each party saw. Shared by the e2e test files.
 */
import { randomBytes } from "node:crypto";
import { pollUntil } from "../../helpers/deadline";
import { api } from "./engine-api";
import { EngineMocks } from "./engine-mocks";
import { BASE_IMAGE, buildFixtureImages, createRunNetwork, jsonLines, removeRun, runFixture, UPSTREAM_IMAGE } from "./fixtures";
import { makeUpstreamTls, type UpstreamTls } from "./upstream-ca";

/** The stack secret of the bottle's one credentialed route; it holds FAKE_TOKENS.github, which must reach the upstream and nothing else. */
export const TOKEN_REF = "e2eToken";
export const API_HOST = "api.e2e.test";
/** Allowed by the bottle's routes, refused by the upstream-proxy hop. */
export const REFUSED_BY_HOP_HOST = "blocked.e2e.test";
export const PROXY_IMAGE = "bot-bottle/egress-proxy:e2e";

export interface Scenario {
  runId: string;
  bottle: string;
  mocks: EngineMocks;
  tls: UpstreamTls;
  outsideNet: string;
  upstream: string;
}

/**
 * Build the fixture images, make the upstream CA, start the outside network and the upstream.
 * `extraNames` join the upstream certificate's names, for servers of the caller's own that
 * present the same certificate (`tls.cert`, `tls.key`).
 */
export async function prepareScenario(prefix: string, extraNames: readonly string[] = []): Promise<Scenario> {
  const runId = randomBytes(3).toString("hex");
  const bottle = `${prefix}-${runId}`;
  await buildFixtureImages();
  const tls = await makeUpstreamTls([API_HOST, REFUSED_BY_HOP_HOST, ...extraNames]);
  const outsideNet = `${bottle}-outside`;
  await createRunNetwork(runId, outsideNet, true);
  const upstream = await runFixture(runId, {
    name: `${bottle}-upstream`,
    image: UPSTREAM_IMAGE,
    networks: [{ name: outsideNet, aliases: [API_HOST, REFUSED_BY_HOP_HOST] }],
    files: [
      { file: "/srv/tls/cert.pem", content: tls.cert, permissions: "0444" },
      // a throwaway test key, readable by the server's non-root user
      { file: "/srv/tls/key.pem", content: tls.key, permissions: "0444" },
    ],
  });
  await pollUntil("upstream listening on 443", async () => ((await jsonLines(upstream)).some((l) => l.event === "started" && l.port === 443) ? true : undefined), 15_000);
  return { runId, bottle, mocks: new EngineMocks(), tls, outsideNet, upstream };
}

export interface RouteSpec {
  host: string;
  path_allowlist?: string[];
  methods?: string[];
  auth?: { scheme: string; token_ref: string };
}

/** The stack config of the bottle, in the shape of `bot-bottle:*`. */
export function bottleConfig(s: Scenario, pipelock: Record<string, unknown>, routes: RouteSpec[]): Record<string, unknown> {
  return {
    proxyImageName: PROXY_IMAGE,
    proxyBaseImage: BASE_IMAGE,
    bottles: [{ name: s.bottle, agent: { image: BASE_IMAGE }, pipelock, egress_proxy: { routes, upstream_ca_pem: s.tls.caCert } }],
  };
}

/** Poll the Docker healthcheck of a container until healthy. */
export async function waitHealthy(container: string, timeoutMs = 60_000): Promise<void> {
  await pollUntil(`${container} healthy`, async () => {
    const info = (await api("GET", `/containers/${encodeURIComponent(container)}/json`)).body as { State: { Running: boolean; Health?: { Status: string } } };
    if (!info.State.Running) throw new Error(`${container} stopped while waiting for it to be healthy`);
    return info.State.Health?.Status === "healthy" ? true : undefined;
  }, timeoutMs);
}

/** The upstream's request lines. */
export async function upstreamRequests(s: Scenario): Promise<Record<string, unknown>[]> {
  return (await jsonLines(s.upstream)).filter((l) => l.event === "request");
}

/** The egress proxy's decision lines. */
export async function decisions(proxy: string): Promise<Record<string, unknown>[]> {
  return (await jsonLines(proxy)).filter((l) => l.event === "decision");
}

/** Remove the run's own containers and networks (the bottle is the applier's to destroy). */
export async function cleanupScenario(s: Scenario | undefined): Promise<void> {
  if (!s) return;
  // destroy keeps a bottle's workspace by default (retain_on_destroy): the run's own goes here
  await api("DELETE", `/volumes/${encodeURIComponent(`bb-${s.bottle}-workspace`)}`, undefined, { accept: [404, 409] }).catch(() => undefined);
  await removeRun(s.runId);
}

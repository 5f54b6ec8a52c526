/**
 * The config file of a bottle's own pipelock. Keys follow scripts/pipelock-notes.md and
 * pipelock v2.3.0's config struct (`internal/config/schema.go`); pipelock rejects unknown keys,
 * so add nothing unverified: test/components/pipelock-config.test.ts runs `pipelock check` on a
 * config using every option. JSON content: valid YAML for pipelock.
 */
import { isIP } from "node:net";
import type { PipelockConfig } from "./config-schema";
import {
  PIPELOCK_METRICS_LISTEN, PIPELOCK_TUNNELS_PER_MINUTE_MAX, PIPELOCK_TUNNELS_PER_MINUTE_PER_HOST,
  TUNNEL_IDLE_TIMEOUT_SECONDS,
} from "./constants";

type ContainerPipelock = Extract<PipelockConfig, { kind: "container" }>;

/** The rendered pipelock config as data. */
export interface PipelockFile {
  version: 1;
  /** `api_allowlist` is enforced only in strict mode; balanced lets every domain pass. */
  mode: "strict";
  api_allowlist: string[];
  forward_proxy: { enabled: true; max_tunnel_seconds: number; idle_timeout_seconds: number };
  /** New CONNECT tunnels per registrable domain per minute (pipelock's default, 60, refuses bursts). */
  fetch_proxy: { monitoring: { max_requests_per_minute: number } };
  /** `/metrics` and `/stats` on loopback, not on the bottle's networks. */
  metrics_listen: string;
  dlp: { include_defaults: true };
  trusted_domains?: string[];
  ssrf?: { ip_allowlist: string[] };
  logging: { format: "json"; output: "stdout"; include_allowed: true; include_blocked: true };
}

function unique(values: Iterable<string>): string[] {
  return [...new Set(values)];
}

/**
 * pipelock counts tunnels per registrable domain (public-suffix eTLD+1, `baseDomain` in its
 * `internal/scanner/scanner.go`), so api.github.com and uploads.github.com share one budget. The
 * last two labels group hosts at least as coarsely as eTLD+1 does, so the count below is never
 * lower than pipelock's. A wildcard counts as one host: raise the limit in config if it covers
 * many busy ones.
 */
function rateLimitKey(pattern: string): string {
  const host = pattern.replace(/^\*\./, "");
  return isIP(host) !== 0 ? host : host.split(".").slice(-2).join(".");
}

/** The default limit: a per-host budget for each allowlisted host sharing the busiest key. */
export function defaultTunnelsPerMinute(allowlist: ReadonlyArray<string>): number {
  const perKey = new Map<string, number>();
  for (const pattern of allowlist) {
    const key = rateLimitKey(pattern);
    perKey.set(key, (perKey.get(key) ?? 0) + 1);
  }
  const busiest = Math.max(1, ...perKey.values());
  return Math.min(PIPELOCK_TUNNELS_PER_MINUTE_MAX, busiest * PIPELOCK_TUNNELS_PER_MINUTE_PER_HOST);
}

/** pipelock's config for a bottle: allowlist = the routes' hosts, then the extra hosts. */
export function renderPipelockConfig(pipelock: ContainerPipelock, routeHosts: ReadonlyArray<string>): { file: PipelockFile; content: string } {
  const allowlist = unique([...routeHosts, ...pipelock.extra_hosts]);
  const file: PipelockFile = {
    version: 1,
    mode: "strict",
    api_allowlist: allowlist,
    forward_proxy: {
      enabled: true,
      max_tunnel_seconds: pipelock.max_tunnel_seconds,
      idle_timeout_seconds: TUNNEL_IDLE_TIMEOUT_SECONDS,
    },
    fetch_proxy: { monitoring: { max_requests_per_minute: pipelock.max_tunnels_per_minute ?? defaultTunnelsPerMinute(allowlist) } },
    metrics_listen: PIPELOCK_METRICS_LISTEN,
    dlp: { include_defaults: true },
    logging: { format: "json", output: "stdout", include_allowed: true, include_blocked: true },
  };
  // SSRF protection blocks private addresses (test upstreams on Docker networks) unless trusted
  if (pipelock.trusted_domains.length > 0) file.trusted_domains = unique(pipelock.trusted_domains);
  if (pipelock.ssrf_ip_allowlist.length > 0) file.ssrf = { ip_allowlist: unique(pipelock.ssrf_ip_allowlist) };
  return { file, content: `${JSON.stringify(file, null, 2)}\n` };
}

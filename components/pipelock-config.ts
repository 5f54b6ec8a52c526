/**
 * The config file of a bottle's own pipelock. Keys follow scripts/pipelock-notes.md and the
 * minimal config that scripts/pipelock-verify.sh checks with `pipelock check` (pipelock
 * rejects unknown keys, so add nothing unverified). JSON content: valid YAML for pipelock.
 */
import type { PipelockConfig } from "./config-schema";
import { TUNNEL_IDLE_TIMEOUT_SECONDS } from "./constants";

type ContainerPipelock = Extract<PipelockConfig, { kind: "container" }>;

/** The rendered pipelock config as data. */
export interface PipelockFile {
  version: 1;
  /** `api_allowlist` is enforced only in strict mode; balanced lets every domain pass. */
  mode: "strict";
  api_allowlist: string[];
  forward_proxy: { enabled: true; max_tunnel_seconds: number; idle_timeout_seconds: number };
  dlp: { include_defaults: true };
  trusted_domains?: string[];
  ssrf?: { ip_allowlist: string[] };
  logging: { format: "json"; output: "stdout"; include_allowed: true; include_blocked: true };
}

function unique(values: Iterable<string>): string[] {
  return [...new Set(values)];
}

/** pipelock's config for a bottle: allowlist = the routes' hosts, then the extra hosts. */
export function renderPipelockConfig(pipelock: ContainerPipelock, routeHosts: ReadonlyArray<string>): { file: PipelockFile; content: string } {
  const file: PipelockFile = {
    version: 1,
    mode: "strict",
    api_allowlist: unique([...routeHosts, ...pipelock.extra_hosts]),
    forward_proxy: {
      enabled: true,
      max_tunnel_seconds: pipelock.max_tunnel_seconds,
      idle_timeout_seconds: TUNNEL_IDLE_TIMEOUT_SECONDS,
    },
    dlp: { include_defaults: true },
    logging: { format: "json", output: "stdout", include_allowed: true, include_blocked: true },
  };
  // SSRF protection blocks private addresses (test upstreams on Docker networks) unless trusted
  if (pipelock.trusted_domains.length > 0) file.trusted_domains = unique(pipelock.trusted_domains);
  if (pipelock.ssrf_ip_allowlist.length > 0) file.ssrf = { ip_allowlist: unique(pipelock.ssrf_ip_allowlist) };
  return { file, content: `${JSON.stringify(file, null, 2)}\n` };
}

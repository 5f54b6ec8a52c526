/**
 * The proxy's start-up settings, from flags first and the environment second, validated with zod.
 * Every problem names the variable or flag and how to fix it.
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { formatIssue } from "./route/routes-schema";

export interface ProxySettings {
  routesFile: string;
  caCertFile: string;
  /** Where the CA key comes from: a file, or the PEM itself (a bottle passes it as a secret env var). */
  caKey: { file: string } | { pem: string };
  port: number;
  health: { host: string; port: number };
  bottle: string;
  /** The upstream proxy URL (pipelock), or undefined when EGRESS_PROXY_UPSTREAM=direct. */
  upstreamProxy: string | undefined;
  idleTimeoutMs: number;
  /** The name the agent reaches the proxy by; when set, only connections to it are accepted. */
  agentAlias: string | undefined;
}

const listenSchema = (what: string) =>
  z.string().regex(/^(?:(\[[0-9a-fA-F:]+\]|[0-9.]+|localhost|\*):)?([0-9]{1,5})$/, `${what} must be [host:]port, e.g. 127.0.0.1:9090`);

const settingsSchema = z.strictObject({
  EGRESS_PROXY_ROUTES: z.string().min(1),
  EGRESS_PROXY_CA_CERT: z.string().min(1),
  EGRESS_PROXY_CA_KEY: z.string().min(1),
  EGRESS_PROXY_LISTEN: listenSchema("EGRESS_PROXY_LISTEN").refine(
    (v) => !v.includes(":") || /^(0\.0\.0\.0|\*|\[::\]):/.test(v),
    "EGRESS_PROXY_LISTEN: the proxy listens on all interfaces (mockttp binds no address); use 0.0.0.0:<port> or just <port>",
  ),
  EGRESS_PROXY_HEALTH_LISTEN: listenSchema("EGRESS_PROXY_HEALTH_LISTEN"),
  EGRESS_PROXY_BOTTLE: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "EGRESS_PROXY_BOTTLE must be a lower-case name (letters, digits, dashes)"),
  EGRESS_PROXY_IDLE_TIMEOUT_S: z.string().regex(/^[1-9][0-9]{0,5}$/, "EGRESS_PROXY_IDLE_TIMEOUT_S must be a whole number of seconds from 1, e.g. 120"),
  EGRESS_PROXY_UPSTREAM: z.enum(["proxy", "direct"], "EGRESS_PROXY_UPSTREAM must be `proxy` (default: via HTTPS_PROXY) or `direct`"),
  EGRESS_PROXY_AGENT_ALIAS: z.string().regex(/^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/, "EGRESS_PROXY_AGENT_ALIAS must be a DNS name such as egress-proxy").optional(),
  HTTPS_PROXY: z.url({ protocol: /^https?$/, error: "HTTPS_PROXY must be an http:// or https:// proxy URL such as http://pipelock:8888" }).optional(),
  HTTP_PROXY: z.url({ protocol: /^https?$/, error: "HTTP_PROXY must be an http:// or https:// proxy URL" }).optional(),
});

/** Each setting's value when neither a flag nor the environment gives one (README, "Settings"). */
export const DEFAULTS = {
  EGRESS_PROXY_ROUTES: "/etc/egress-proxy/routes.yaml",
  EGRESS_PROXY_CA_CERT: "/etc/egress-proxy/ca.pem",
  EGRESS_PROXY_CA_KEY: "/etc/egress-proxy/ca-key.pem",
  EGRESS_PROXY_LISTEN: "8080",
  EGRESS_PROXY_HEALTH_LISTEN: "127.0.0.1:9090",
  EGRESS_PROXY_BOTTLE: "bottle",
  EGRESS_PROXY_UPSTREAM: "proxy",
  // pipelock's own default idle limit; a bottle sets the same value it gives its pipelock.
  EGRESS_PROXY_IDLE_TIMEOUT_S: "120",
} as const;

/** Flag -> the variable it sets. */
export const FLAGS = {
  routes: "EGRESS_PROXY_ROUTES",
  "ca-cert": "EGRESS_PROXY_CA_CERT",
  "ca-key": "EGRESS_PROXY_CA_KEY",
  listen: "EGRESS_PROXY_LISTEN",
  "health-listen": "EGRESS_PROXY_HEALTH_LISTEN",
  bottle: "EGRESS_PROXY_BOTTLE",
  upstream: "EGRESS_PROXY_UPSTREAM",
  "idle-timeout": "EGRESS_PROXY_IDLE_TIMEOUT_S",
} as const;

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("; "));
    this.name = "SettingsError";
  }
}

/** Resolve settings from argv (`--routes FILE`, ...) over env over defaults; throws SettingsError. */
export function loadSettings(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ProxySettings {
  let flags: Record<string, string | undefined>;
  try {
    flags = parseArgs({
      args: [...argv],
      options: Object.fromEntries(Object.keys(FLAGS).map((k) => [k, { type: "string" as const }])),
      strict: true,
      allowPositionals: false,
    }).values as Record<string, string | undefined>;
  } catch (e) {
    throw new SettingsError([`command line: ${(e as Error).message}; flags are ${Object.keys(FLAGS).map((f) => `--${f}`).join(", ")}`]);
  }
  const pick = (name: keyof typeof DEFAULTS) => {
    const flag = (Object.keys(FLAGS) as (keyof typeof FLAGS)[]).find((f) => FLAGS[f] === name);
    return (flag && flags[flag]) || env[name] || DEFAULTS[name];
  };
  const raw = {
    ...Object.fromEntries((Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]).map((k) => [k, pick(k)])),
    EGRESS_PROXY_AGENT_ALIAS: env.EGRESS_PROXY_AGENT_ALIAS || undefined,
    HTTPS_PROXY: env.HTTPS_PROXY || env.https_proxy || undefined,
    HTTP_PROXY: env.HTTP_PROXY || env.http_proxy || undefined,
  };
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) throw new SettingsError(parsed.error.issues.map(formatIssue));
  const s = parsed.data;
  const caKey = caKeySource(env.EGRESS_PROXY_CA_KEY_PEM, flags["ca-key"] ?? env.EGRESS_PROXY_CA_KEY, s.EGRESS_PROXY_CA_KEY);

  let upstreamProxy: string | undefined;
  if (s.EGRESS_PROXY_UPSTREAM === "proxy") {
    if (!s.HTTPS_PROXY && !s.HTTP_PROXY) {
      throw new SettingsError(["HTTPS_PROXY: unset; every allowed request goes through the upstream proxy (pipelock): set HTTPS_PROXY=http://pipelock:8888, or EGRESS_PROXY_UPSTREAM=direct to send traffic straight out"]);
    }
    if (s.HTTPS_PROXY && s.HTTP_PROXY && s.HTTPS_PROXY !== s.HTTP_PROXY) {
      throw new SettingsError(["HTTP_PROXY: differs from HTTPS_PROXY; the proxy sends all traffic through one upstream proxy, so set both to the same URL"]);
    }
    upstreamProxy = s.HTTPS_PROXY ?? s.HTTP_PROXY;
  }
  return {
    routesFile: s.EGRESS_PROXY_ROUTES,
    caCertFile: s.EGRESS_PROXY_CA_CERT,
    caKey,
    port: listenPort(s.EGRESS_PROXY_LISTEN),
    health: { host: listenHost(s.EGRESS_PROXY_HEALTH_LISTEN) ?? "127.0.0.1", port: listenPort(s.EGRESS_PROXY_HEALTH_LISTEN) },
    bottle: s.EGRESS_PROXY_BOTTLE,
    upstreamProxy,
    idleTimeoutMs: Number(s.EGRESS_PROXY_IDLE_TIMEOUT_S) * 1000,
    agentAlias: s.EGRESS_PROXY_AGENT_ALIAS,
  };
}

/** The PEM in EGRESS_PROXY_CA_KEY_PEM, or the key file; never both, so that no key is silently ignored. */
function caKeySource(pem: string | undefined, explicitFile: string | undefined, file: string): ProxySettings["caKey"] {
  if (pem === undefined) return { file };
  if (explicitFile) throw new SettingsError(["EGRESS_PROXY_CA_KEY: set together with EGRESS_PROXY_CA_KEY_PEM; give the CA key once, as a file or as the PEM"]);
  // checked without echoing a byte of it
  if (!/^-----BEGIN [A-Z ]*PRIVATE KEY-----\r?\n/.test(pem)) {
    throw new SettingsError(["EGRESS_PROXY_CA_KEY_PEM: not a PEM private key; give the bottle CA's key in PEM form"]);
  }
  return { pem };
}

function listenPort(value: string): number {
  return Number(value.slice(value.lastIndexOf(":") + 1));
}

function listenHost(value: string): string | undefined {
  const i = value.lastIndexOf(":");
  if (i === -1) return undefined;
  const host = value.slice(0, i).replace(/^\[|\]$/g, "");
  return host === "*" ? "0.0.0.0" : host;
}

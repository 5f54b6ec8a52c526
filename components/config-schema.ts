/**
 * The stack configuration of bot-bottle (`bot-bottle:bottles` and friends), as a zod schema.
 *
 * This schema checks the shape of the config and the fields that only the Pulumi side knows
 * (names, images, limits, pipelock). What a route may say (hostnames, path patterns, methods,
 * auth schemes) is checked by the shared `routes.yaml` schema in `proxy/src/route/routes-schema.ts`
 * when the routes are rendered (see `routes-file.ts`), so that both sides agree by construction.
 *
 * Custom messages read `<what is wrong>; <how to fix>`; `config-errors.ts` adds the field path.
 */
import { isIP } from "node:net";
import { z } from "zod";
import {
  AGENT_DEFAULT_LIMITS, AGENT_DEFAULT_USER, PIPELOCK_DEFAULT_IMAGE, PIPELOCK_DEFAULT_MAX_TUNNEL_SECONDS,
  PIPELOCK_TUNNELS_PER_MINUTE_MAX, PIPELOCK_TUNNELS_PER_MINUTE_MIN, PIPELOCK_TUNNELS_PER_MINUTE_PER_HOST,
  PROXY_DEFAULT_IMAGE_NAME,
} from "./constants";
import { agentEnvSchema, envNameProblem } from "./agent-env-schema";
import { cpusAsReadBack } from "./docker-readback";
import { backendSchema, kubernetesSchema } from "./kubernetes/settings";
import { hostPatternProblem, ssrfCidrProblem, type HostPatternField } from "./pipelock-rules";
import { workspaceSchema } from "./workspace-schema";

/** Bottle names become Docker names (`bb-<name>-egress-proxy`): short DNS labels. */
const BOTTLE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
/** A Pulumi config key in the project namespace (`pulumi config set --secret <key>`). */
const CONFIG_KEY = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
/** pipelock host patterns: exact hosts or `*.example.com`. */
const HOST_PATTERN = new RegExp(`^(?:\\*\\.)?(?:${LABEL}\\.)*${LABEL}$`);
/** `uid`, `uid:gid`, `name` or `name:group`, as `docker run --user` takes it. */
const USER = /^(?:[0-9]+|[a-z_][a-z0-9_-]*)(?::(?:[0-9]+|[a-z_][a-z0-9_-]*))?$/;
const IMAGE_REF = /^[A-Za-z0-9][A-Za-z0-9._/:@-]*$/;

/** A required string: says whether it is missing or of the wrong type, then how to fix it. */
function text(fix: string) {
  return z
    .string({ error: (iss) => `${iss.input === undefined ? "is required" : "must be a string"}; ${fix}` })
    .min(1, `must not be empty; ${fix}`);
}

function imageRef(fix: string) {
  return text(fix).refine((s) => s === "" || IMAGE_REF.test(s), `must be a Docker image reference without spaces; ${fix}`);
}

/** An image is pinned when it names a digest, or a tag other than `latest`. */
export function isPinnedImage(ref: string): boolean {
  if (ref.includes("@sha256:")) return true;
  const last = ref.slice(ref.lastIndexOf("/") + 1);
  const colon = last.lastIndexOf(":");
  return colon > 0 && last.slice(colon + 1) !== "latest";
}

/** A host pattern for pipelock, checked with pipelock's own rules for the field it goes to. */
function hostPattern(field: HostPatternField) {
  return z
    .string()
    .transform((h) => h.toLowerCase())
    .superRefine((h, ctx) => {
      const message = HOST_PATTERN.test(h) || isIP(h) === 4
        ? hostPatternProblem(h, field)
        : "must be a hostname (optionally `*.` for subdomains) or an IPv4 address; drop any scheme, port or path";
      if (message !== undefined) ctx.addIssue({ code: "custom", message });
    });
}

/** A CIDR for pipelock's `ssrf.ip_allowlist` (not secret: the message may show the network). */
const ssrfCidr = z.string().superRefine((c, ctx) => {
  const message = ssrfCidrProblem(c);
  if (message !== undefined) ctx.addIssue({ code: "custom", message });
});

const TUNNELS_RANGE = `a whole number from ${PIPELOCK_TUNNELS_PER_MINUTE_MIN} to ${PIPELOCK_TUNNELS_PER_MINUTE_MAX}`;
/** New tunnels per minute pipelock allows per registrable domain (see constants.ts). */
const tunnelsPerMinute = z.number().superRefine((n, ctx) => {
  const issue = (message: string) => ctx.addIssue({ code: "custom", message });
  const omit = `or omit it for the default (${PIPELOCK_TUNNELS_PER_MINUTE_PER_HOST} per host the bottle reaches)`;
  if (!Number.isInteger(n)) issue(`must be a whole number; give ${TUNNELS_RANGE}, ${omit}`);
  else if (n <= 0) issue(`cannot turn the limit off: pipelock replaces 0 or less with its default of 60; give ${TUNNELS_RANGE}, ${omit}`);
  else if (n < PIPELOCK_TUNNELS_PER_MINUTE_MIN) issue(`is below pipelock's own default of 60, which already refuses an agent's bursts; give ${TUNNELS_RANGE}, ${omit}`);
  else if (n > PIPELOCK_TUNNELS_PER_MINUTE_MAX) issue(`is above ${PIPELOCK_TUNNELS_PER_MINUTE_MAX}, where the limit means nothing; give ${TUNNELS_RANGE}, ${omit}`);
});

const limits = z
  .strictObject({
    memory_mb: z.number().int().min(64, "must be at least 64; give the agent's memory limit in MB").max(1 << 20)
      .default(AGENT_DEFAULT_LIMITS.memory_mb),
    cpus: z.number().positive("must be positive; give a CPU count such as 1.5").max(1024)
      .superRefine((cpus, ctx) => {
        const read = cpusAsReadBack(cpus);
        if (!read.ok) ctx.addIssue({ code: "custom", message: `${cpus} ${read.why}; give a CPU count such as 0.25, 0.5, 1 or 1.5` });
      })
      .default(AGENT_DEFAULT_LIMITS.cpus),
    // no default here: a root agent must be able to leave it out (below); the plan applies it
    pids: z.number().int().min(16, "must be at least 16; give the agent's process limit").max(1 << 22).optional(),
  })
  .prefault({});

const agent = z.strictObject(
  {
    image: imageRef("set agent.image to the agent's image, e.g. bot-bottle/base:bookworm"),
    command: z.array(z.string()).min(1, "must not be empty; omit it to keep the container idle for `docker exec`").optional(),
    user: z.string().regex(USER, "must be a uid, uid:gid or user name; e.g. 10001").default(AGENT_DEFAULT_USER),
    limits,
    /** Plain variables (agent-env-schema.ts); credentials go to a route's auth, with `agent_env`. */
    env: agentEnvSchema.optional(),
    workspace: workspaceSchema,
  },
  { error: (iss) => (iss.code === "invalid_type" ? "is required; set agent: { image: <image> }" : undefined) },
).superRefine((a, ctx) => {
  // the provider has no cgroup pids limit, and the kernel does not hold uid 0 to RLIMIT_NPROC
  if (isRootUser(a.user) && a.limits.pids !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["limits", "pids"],
      message: "cannot be applied to a root agent (the kernel exempts uid 0 from the process limit); run the agent as a non-root user, or drop limits.pids to run root without one",
    });
  }
});

/** A uid 0 or root user, as `docker run --user` takes it. */
export function isRootUser(user: string): boolean {
  const who = user.split(":")[0];
  return who === "0" || who === "root";
}

const pipelock = z
  .strictObject({
    url: z.string().optional(),
    network: text("name an existing Docker network that reaches the pipelock at `url`").optional(),
    image: imageRef("give a pinned pipelock image, e.g. " + PIPELOCK_DEFAULT_IMAGE).optional(),
    extra_hosts: z.array(hostPattern("extra_hosts")).optional(),
    trusted_domains: z.array(hostPattern("trusted_domains")).optional(),
    ssrf_ip_allowlist: z.array(ssrfCidr).optional(),
    max_tunnel_seconds: z.number().int().min(1).max(7 * 86400).optional(),
    max_tunnels_per_minute: tunnelsPerMinute.optional(),
  })
  .prefault({})
  .superRefine((p, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    if (p.url !== undefined) {
      const problem = pipelockUrlProblem(p.url);
      if (problem) issue("url", problem);
      for (const key of ["image", "extra_hosts", "trusted_domains", "ssrf_ip_allowlist", "max_tunnel_seconds", "max_tunnels_per_minute"] as const) {
        if (p[key] !== undefined) issue(key, "only applies to a pipelock container the bottle runs; drop it or drop `url`");
      }
    } else {
      if (p.network !== undefined) issue("network", "only applies with `url` (an existing pipelock); drop it or set `url`");
      if (p.image !== undefined && !isPinnedImage(p.image)) {
        issue("image", "is not pinned; give a tag other than latest or a @sha256: digest");
      }
    }
  })
  .transform((p) =>
    p.url !== undefined
      ? { kind: "url" as const, url: normalisePipelockUrl(p.url), network: p.network }
      : {
          kind: "container" as const,
          image: p.image ?? PIPELOCK_DEFAULT_IMAGE,
          extra_hosts: p.extra_hosts ?? [],
          trusted_domains: p.trusted_domains ?? [],
          ssrf_ip_allowlist: p.ssrf_ip_allowlist ?? [],
          max_tunnel_seconds: p.max_tunnel_seconds ?? PIPELOCK_DEFAULT_MAX_TUNNEL_SECONDS,
          /** Unset: derived from the bottle's hosts when the config is rendered (pipelock-config.ts). */
          max_tunnels_per_minute: p.max_tunnels_per_minute,
        },
  );

/** Why `url` cannot name a pipelock, or undefined. Never echoes the URL: it might hold a password. */
function pipelockUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "is not a URL; write it as http://<host>:<port>";
  }
  if (u.protocol !== "http:") return "must use http:// (pipelock's forward proxy speaks plain HTTP and CONNECT); write http://<host>:<port>";
  if (u.username || u.password) return "must not carry credentials; remove user:password from the URL";
  if ((u.pathname !== "/" && u.pathname !== "") || u.search || u.hash) return "must not have a path, query or fragment; write http://<host>:<port>";
  return undefined;
}

function normalisePipelockUrl(url: string): string {
  const u = new URL(url);
  return `http://${u.host}`;
}

/** `basic`: the proxy sends `Authorization: Basic base64(username:token)`. */
const basicAuth = z.strictObject({
  username: text("give the user name the upstream expects with the token, e.g. x-access-token for GitHub")
    .refine((u) => /^[\x21-\x7e]{1,256}$/.test(u) && !u.includes(":"), {
      message: "must be 1-256 printable ASCII characters without `:` or spaces; e.g. x-access-token",
    }),
});

const routeAuth = z
  .strictObject({
    scheme: z.string().optional(),
    header: z.string().optional(),
    basic: basicAuth.optional(),
    token_ref: text("name the Pulumi config secret that holds the token, e.g. githubToken")
      .regex(CONFIG_KEY, "must be a Pulumi config key (a letter, then letters, digits, - or _); e.g. githubToken"),
    /** The agent's variable that holds a placeholder for this credential (placeholders.ts). */
    agent_env: z.string().superRefine((name, ctx) => {
      const problem = envNameProblem(name);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }).optional(),
  })
  .superRefine((a, ctx) => {
    const forms = [a.scheme, a.header, a.basic].filter((f) => f !== undefined).length;
    if (forms !== 1) {
      ctx.addIssue({
        code: "custom",
        path: [],
        message: "needs exactly one of `scheme` (Authorization: <scheme> <token>), `header` (<header>: <token>) or `basic: {username}` (Authorization: Basic of username:token); set one",
      });
    }
    if (a.scheme !== undefined && a.scheme.toLowerCase() === "basic") {
      ctx.addIssue({
        code: "custom",
        path: ["scheme"],
        message: "Basic takes a user name and the token encoded together; write `basic: {username: <user>}` and keep the plain token in the secret (e.g. username x-access-token for GitHub)",
      });
    }
  });

/** Request inspection settings: field types only; the shared routes schema checks the values. */
const dlpConfig = z.strictObject({
  mode: z.string().optional(),
  rules: z.array(z.string()).optional(),
  allow: z.array(z.string()).optional(),
});

/** Field types only: the shared routes schema checks the values (see routes-file.ts). */
export const routeConfigSchema = z.strictObject({
  host: text("name the upstream host, e.g. api.github.com"),
  port: z.number().optional(),
  path_allowlist: z.array(z.string()).optional(),
  methods: z.array(z.string()).optional(),
  websocket: z.boolean().optional(),
  plain_http: z.boolean().optional(),
  auth: routeAuth.optional(),
  dlp: dlpConfig.optional(),
  response_scan: z.string().optional(),
  allow_double_encoding: z.boolean().optional(),
});

const upstreamCaPem = z
  .string()
  .refine((pem) => !/PRIVATE KEY/.test(pem), {
    message: "looks like a private key; give only the CA certificate (never put keys in plain config)",
  })
  .refine((pem) => /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(pem), {
    message: "must be one or more PEM certificates (-----BEGIN CERTIFICATE-----); paste the CA certificate",
  });

const egressProxy = z.strictObject(
  {
    routes: z.array(routeConfigSchema, { error: "must be a list of routes; see components/README.md" })
      .min(1, "must list at least one route; a bottle without routes can reach nothing"),
    upstream_ca_pem: upstreamCaPem.optional(),
    /** What the proxy does with an answer that carries one of the bottle's tokens; checked by the routes schema. */
    on_echo: z.string().optional(),
    /** Request inspection for every route of the bottle; checked by the routes schema. */
    dlp: dlpConfig.optional(),
  },
  { error: (iss) => (iss.code === "invalid_type" ? "is required; set egress_proxy: { routes: [...] }" : undefined) },
);

/** One bottle, as listed in `bot-bottle:bottles`. */
export const bottleSchema = z.strictObject({
  name: text("give the bottle a short name such as dev")
    .regex(BOTTLE_NAME, "must be a DNS label of at most 32 characters (a-z, 0-9, -); e.g. dev"),
  agent,
  pipelock,
  egress_proxy: egressProxy,
  /** Where this bottle runs; the stack's `backend` when absent. */
  backend: backendSchema.optional(),
}).superRefine((b, ctx) => {
  // each placeholder variable once, and never one that agent.env also sets
  const first = new Map<string, number>();
  b.egress_proxy.routes.forEach((r, i) => {
    const name = r.auth?.agent_env;
    if (name === undefined) return;
    const path = ["egress_proxy", "routes", i, "auth", "agent_env"];
    const j = first.get(name);
    if (j !== undefined && b.egress_proxy.routes[j]?.auth?.token_ref !== r.auth?.token_ref) {
      ctx.addIssue({ code: "custom", path, message: `is also the agent_env of routes[${j}], which carries another secret; give each credential its own variable` });
    } else if (j === undefined) first.set(name, i);
    if (b.agent.env?.[name] !== undefined) {
      ctx.addIssue({ code: "custom", path, message: "is also set in agent.env; drop it there: the bottle puts the placeholder in it" });
    }
  });
});

const bottles = z
  .array(bottleSchema, { error: "must be a list of bottles; set it in the stack file (see Pulumi.dev.yaml.example)" })
  .min(1, "must list at least one bottle; see Pulumi.dev.yaml.example")
  .superRefine((list, ctx) => {
    const first = new Map<string, number>();
    list.forEach((b, i) => {
      const j = first.get(b.name);
      if (j === undefined) first.set(b.name, i);
      else ctx.addIssue({ code: "custom", path: [i, "name"], message: `repeats the name of bottles[${j}]; give each bottle its own name` });
    });
  });

/** The whole stack config: what `index.ts` reads from Pulumi config, or what a test passes. */
export const stackConfigSchema = z.strictObject({
  bottles,
  proxyImageName: imageRef("name the local proxy image, e.g. " + PROXY_DEFAULT_IMAGE_NAME).default(PROXY_DEFAULT_IMAGE_NAME),
  proxyBaseImage: imageRef("name a local Node 20 image, e.g. bot-bottle/base:bookworm").optional(),
  /** Where bottles run unless a bottle says otherwise. */
  backend: backendSchema.default("docker"),
  /** How the Kubernetes backend reaches its cluster (kubernetes/settings.ts). */
  kubernetes: kubernetesSchema,
});

export type StackConfigInput = z.input<typeof stackConfigSchema>;
export type StackConfig = z.output<typeof stackConfigSchema>;
export type BottleConfig = StackConfig["bottles"][number];
export type RouteConfig = BottleConfig["egress_proxy"]["routes"][number];
export type PipelockConfig = BottleConfig["pipelock"];
export type AgentLimits = BottleConfig["agent"]["limits"];

/**
 * The three containers of a bottle as plan data: the agent, the egress proxy and (unless given
 * by URL) pipelock. Every container drops all capabilities, sets no-new-privileges, publishes
 * no port and carries the bottle's labels.
 */
import { isRootUser, type BottleConfig } from "./config-schema";
import {
  AGENT_CA_FILE, AGENT_JAVA_TRUSTSTORE_FILE, PIPELOCK_CONFIG_FILE, PIPELOCK_LIMITS, PIPELOCK_PORT, PIPELOCK_USER, PROXY_ALIAS,
  PROXY_CA_CERT_FILE, PROXY_HEALTHCHECK, PROXY_HEALTH_LISTEN, PROXY_LIMITS, PROXY_PORT,
  PROXY_ROUTES_FILE, PROXY_UPSTREAM_CA_FILE, PROXY_USER, TUNNEL_IDLE_TIMEOUT_SECONDS, AGENT_DEFAULT_COMMAND, PIPELOCK_ALIAS,
  PIPELOCK_HEALTHCHECK, PIPELOCK_HEALTHCHECK_TIMING, AGENT_DEFAULT_LIMITS, WORKSPACE_ENV,
} from "./constants";
import { agentRuntimeEnv } from "./agent-runtime-env";
import { cpusAsReadBack } from "./docker-readback";
import { containerName, labelsFor, resourceName, type ContainerRole } from "./naming";
import type { AttachmentPlan, ContainerPlan, EnvVar, NetworkRef, UploadPlan, WorkspacePlan } from "./plan-types";
import { gitCloneCommand } from "./plan-workspace";
import type { TokenSlot } from "./token-slots";

const HARDENING = {
  capDrop: ["ALL"],
  securityOpts: ["no-new-privileges:true"],
  restart: "unless-stopped",
} as const;

function text(name: string, value: string): EnvVar {
  return { name, value: { kind: "text", text: value } };
}

function base(bottle: string, role: ContainerRole) {
  return { role, resourceName: resourceName(bottle, role), name: containerName(bottle, role), labels: labelsFor(bottle, role), ...HARDENING };
}

/** Memory, swap and CPUs in the form the provider reads back, so that a second `up` changes nothing. */
function resources(limits: { memory_mb: number; cpus: number }) {
  const cpus = cpusAsReadBack(limits.cpus);
  // config-schema.ts refuses such values with the field's path; the fixed limits are tested
  if (!cpus.ok) throw new Error(`internal: cpus ${limits.cpus} ${cpus.why}`);
  // swap equal to memory: no swap. Left out, Docker gives twice the memory, which the provider
  // reads back as a change on every run
  return { memoryMb: limits.memory_mb, memorySwapMb: limits.memory_mb, cpus: cpus.text };
}


/**
 * The agent: internal network only, no alias, no token anywhere (placeholders are none), the
 * bottle CA as its whole trust store. SSL_CERT_FILE replaces the system store rather than adding
 * to it; that is right here, because every TLS peer the agent can reach is the proxy, whose leaf
 * certificates the bottle CA signs.
 */
export function planAgent(bottle: BottleConfig, workspace?: WorkspacePlan, placeholders: ReadonlyArray<readonly [string, string]> = []): ContainerPlan {
  const { agent } = bottle;
  // the schema keeps these three sets of names apart (agent-env-schema.ts, config-schema.ts)
  const env: EnvVar[] = [
    ...agentRuntimeEnv().map(([n, v]) => text(n, v)),
    ...(workspace ? [text(WORKSPACE_ENV, workspace.path)] : []),
    ...placeholders.map(([n, v]) => text(n, v)),
    ...Object.entries(agent.env ?? {}).map(([n, v]) => text(n, v)),
  ];
  const command = agent.command ?? AGENT_DEFAULT_COMMAND;
  return {
    ...base(bottle.name, "agent"),
    image: { kind: "ref", ref: agent.image },
    command: workspace?.git ? gitCloneCommand(workspace.git, command) : command,
    // the agent starts in its workspace (plan-workspace.ts)
    ...(workspace ? { workspace: { path: workspace.path, readOnly: workspace.readOnly } } : {}),
    user: agent.user,
    env,
    uploads: [
      { file: AGENT_CA_FILE, content: { kind: "ca-cert" }, permissions: "0444" },
      { file: AGENT_JAVA_TRUSTSTORE_FILE, content: { kind: "ca-truststore" }, permissions: "0444" },
    ],
    networks: [{ network: { kind: "bottle", role: "internal" }, aliases: [] }],
    ...resources(agent.limits),
    names: "bottle",
    // @pulumi/docker 5.2.0 has no cgroup pids limit; RLIMIT_NPROC counts the agent uid's
    // processes, and binds no root agent (config-schema.ts refuses `pids` for one)
    ...(isRootUser(agent.user) ? {} : { nproc: agent.limits.pids ?? AGENT_DEFAULT_LIMITS.pids }),
  };
}

/**
 * The egress proxy, as a non-root uid with ALL capabilities dropped and no-new-privileges.
 * Its secrets (the token slots and the CA key) reach it in the environment, a secret input in
 * Pulumi state and readable only by its own uid in the container (/proc/<pid>/environ). Its
 * files hold none: the provider uploads them owned by root, so they are world-readable, and
 * being plain inputs, a route change reads in clear in `pulumi preview --diff`.
 * Build context: see proxy-image.ts.
 */
export function planProxy(
  bottle: BottleConfig,
  routesContent: string,
  slots: ReadonlyArray<TokenSlot>,
  egress: NetworkRef,
  pipelockUrl: string,
): ContainerPlan {
  const upstreamCa = bottle.egress_proxy.upstream_ca_pem;
  const env: EnvVar[] = [
    text("EGRESS_PROXY_ROUTES", PROXY_ROUTES_FILE),
    text("EGRESS_PROXY_CA_CERT", PROXY_CA_CERT_FILE),
    { name: "EGRESS_PROXY_CA_KEY_PEM", value: { kind: "ca-key" } },
    text("EGRESS_PROXY_LISTEN", `0.0.0.0:${PROXY_PORT}`),
    text("EGRESS_PROXY_HEALTH_LISTEN", PROXY_HEALTH_LISTEN),
    text("EGRESS_PROXY_BOTTLE", bottle.name),
    // only connections to the proxy's address on the agent's network get the bottle's credentials
    text("EGRESS_PROXY_AGENT_ALIAS", PROXY_ALIAS),
    text("EGRESS_PROXY_IDLE_TIMEOUT_S", String(TUNNEL_IDLE_TIMEOUT_SECONDS)),
    text("HTTPS_PROXY", pipelockUrl),
    text("HTTP_PROXY", pipelockUrl),
    ...(upstreamCa !== undefined ? [text("NODE_EXTRA_CA_CERTS", PROXY_UPSTREAM_CA_FILE)] : []),
    ...slots.map((s): EnvVar => ({ name: s.slot, value: { kind: "token", tokenRef: s.tokenRef } })),
  ];
  const uploads: UploadPlan[] = [
    { file: PROXY_ROUTES_FILE, content: { kind: "text", text: routesContent }, permissions: "0444" },
    { file: PROXY_CA_CERT_FILE, content: { kind: "ca-cert" }, permissions: "0444" },
    ...(upstreamCa !== undefined
      ? [{ file: PROXY_UPSTREAM_CA_FILE, content: { kind: "text", text: upstreamCa }, permissions: "0444" } as const]
      : []),
  ];
  const networks: AttachmentPlan[] = [
    { network: { kind: "bottle", role: "internal" }, aliases: [PROXY_ALIAS] },
    { network: egress, aliases: [] },
  ];
  return {
    ...base(bottle.name, "egress-proxy"),
    image: { kind: "proxy-image" },
    user: PROXY_USER,
    env,
    uploads,
    networks,
    ...resources(PROXY_LIMITS),
    // it reaches pipelock by its alias (or a pipelock URL's address) and resolves nothing else
    names: "bottle",
    healthcheck: { tests: PROXY_HEALTHCHECK, interval: "10s", timeout: "3s", retries: 3, startPeriod: "5s" },
  };
}

/** The bottle's own pipelock: egress network (alias `pipelock`) and its outbound network. */
export function planPipelock(bottle: BottleConfig, image: string, configContent: string): ContainerPlan {
  return {
    ...base(bottle.name, "pipelock"),
    image: { kind: "ref", ref: image },
    command: ["run", "--config", PIPELOCK_CONFIG_FILE, "--listen", `0.0.0.0:${PIPELOCK_PORT}`],
    user: PIPELOCK_USER,
    env: [],
    // no secrets in it, and pipelock runs as a non-root uid that must read it
    uploads: [{ file: PIPELOCK_CONFIG_FILE, content: { kind: "text", text: configContent }, permissions: "0444" }],
    networks: [
      { network: { kind: "bottle", role: "egress" }, aliases: [PIPELOCK_ALIAS] },
      { network: { kind: "bottle", role: "outbound" }, aliases: [] },
    ],
    ...resources(PIPELOCK_LIMITS),
    names: "outside",
    // the proxy's tunnels fail until pipelock answers: let `docker ps` and the bottle say so
    healthcheck: { tests: PIPELOCK_HEALTHCHECK, ...PIPELOCK_HEALTHCHECK_TIMING },
  };
}

/**
 * planBottle: the whole plan of one bottle from its validated config, without Pulumi.
 *
 *   internal network (internal) : agent, egress-proxy (alias egress-proxy)
 *   egress network   (internal) : egress-proxy, pipelock (alias pipelock)
 *   outbound network            : pipelock only
 *
 * With pipelock given by URL there is no pipelock container and no outbound network; the proxy
 * joins the named existing network, or the bottle's egress network (connect the pipelock to it).
 */
import type { BottleConfig } from "./config-schema";
import { PIPELOCK_ALIAS, PIPELOCK_PORT, LABEL_BOTTLE } from "./constants";
import { egressPolicy } from "./egress-policy";
import { labelsFor, networkName, resourceName, containerName, type NetworkRole } from "./naming";
import { planAgent, planPipelock, planProxy } from "./plan-containers";
import { planWorkspace } from "./plan-workspace";
import { kubernetesCommands, namespaceOf } from "./kubernetes/names";
import type { BottlePlan, ContainerPlan, NetworkPlan, NetworkRef, PlanTarget } from "./plan-types";
import { renderPipelockConfig, type PipelockFile } from "./pipelock-config";
import { bottlePlaceholders } from "./placeholders";
import { renderRoutesFile } from "./routes-file";
import { assignTokenSlots, slotByRef, tokenSlotConflicts } from "./token-slots";

export type PlanResult = { ok: true; plan: BottlePlan } | { ok: false; errors: string[] };

const CA_VALIDITY_HOURS = 5 * 365 * 24;
const CA_EARLY_RENEWAL_HOURS = 30 * 24;

function network(bottle: string, role: NetworkRole): NetworkPlan {
  return {
    role,
    resourceName: resourceName(bottle, role),
    name: networkName(bottle, role),
    // only pipelock's own network leads out; published ports would bypass `internal`, so none exist
    internal: role !== "outbound",
    // `internal` stops forwarding, not the host's own addresses: with an IPv4 address on the
    // bridge, a container reaches every host service through the gateway. No address, no route.
    options: role === "outbound" ? {} : { "com.docker.network.bridge.inhibit_ipv4": "true" },
    labels: labelsFor(bottle, role),
  };
}

/** Plan one bottle; `index` is its position in `bot-bottle:bottles`, for error paths. */
export function planBottle(bottle: BottleConfig, index: number, target: PlanTarget = { backend: "docker" }): PlanResult {
  const { name } = bottle;
  const routesPath = ["bottles", index, "egress_proxy"];
  const slots = assignTokenSlots(bottle.egress_proxy.routes.map((r) => r.auth?.token_ref));
  const { on_echo, dlp } = bottle.egress_proxy;
  const placeholders = bottlePlaceholders(name, bottle.egress_proxy.routes);
  const rendered = renderRoutesFile(bottle.egress_proxy.routes, slotByRef(slots), routesPath, { ...(on_echo === undefined ? {} : { on_echo }), ...(dlp === undefined ? {} : { dlp }) }, placeholders.byRef);
  if (!rendered.ok) return { ok: false, errors: rendered.errors };
  const routes = rendered.value;

  const used = routes.parsed.routes.flatMap((r) => (r.auth ? [r.auth.token_env] : []));
  const conflicts = tokenSlotConflicts(slots, used);
  if (conflicts.length > 0) throw new Error(`internal: token slots of bottle ${name} disagree: ${conflicts.join("; ")}`);

  const workspace = planWorkspace(bottle, index, target.backend, routes.parsed.routes);
  if (!workspace.ok) return { ok: false, errors: workspace.errors };

  const networks: NetworkPlan[] = [network(name, "internal")];
  const containers: ContainerPlan[] = [planAgent(bottle, workspace.plan, placeholders.env)];
  const pl = bottle.pipelock;
  let pipelockUrl: string;
  let egress: NetworkRef = { kind: "bottle", role: "egress" };
  let pipelockConfig: PipelockFile | undefined;
  if (pl.kind === "container") {
    pipelockUrl = `http://${PIPELOCK_ALIAS}:${PIPELOCK_PORT}`;
    const rendered = renderPipelockConfig(pl, routes.parsed.routes.map((r) => r.host));
    pipelockConfig = rendered.file;
    networks.push(network(name, "egress"), network(name, "outbound"));
    containers.push(planProxy(bottle, routes.content, slots, egress, pipelockUrl));
    containers.push(planPipelock(bottle, pl.image, rendered.content));
  } else {
    pipelockUrl = pl.url;
    if (pl.network !== undefined) egress = { kind: "existing", name: pl.network };
    else networks.push(network(name, "egress"));
    containers.push(planProxy(bottle, routes.content, slots, egress, pipelockUrl));
  }

  const plan: BottlePlan = {
    name,
    target,
    networks,
    containers,
    ca: {
      keyResourceName: resourceName(name, "ca", "-key"),
      certResourceName: resourceName(name, "ca", "-cert"),
      commonName: `bot-bottle ${name} egress CA`,
      validityHours: CA_VALIDITY_HOURS,
      earlyRenewalHours: CA_EARLY_RENEWAL_HOURS,
    },
    tokenSlots: slots,
    routes,
    egressPolicy: egressPolicy(
      routes.parsed,
      bottle.egress_proxy.routes,
      pl.kind !== "container" ? `pipelock at ${pipelockUrl}`
        : target.backend === "kubernetes" ? `pipelock Deployment ${containerName(name, "pipelock")} in namespace ${namespaceOf(name, target.settings)}`
        : `pipelock container ${containerName(name, "pipelock")}`,
    ),
    pipelockUrl,
    commands: target.backend === "kubernetes" ? kubernetesCommands(name, target.settings, pl.kind === "container") : {
      enter: `docker exec -it ${containerName(name, "agent")} sh`,
      auditLog: `docker logs -f ${containerName(name, "egress-proxy")}`,
      list: `docker ps -a --filter label=${LABEL_BOTTLE}=${name}`,
      ...(pl.kind === "container" ? { pipelockLog: `docker logs -f ${containerName(name, "pipelock")}` } : {}),
    },
    ...(pipelockConfig ? { pipelockConfig } : {}),
    ...(workspace.plan ? { workspace: workspace.plan } : {}),
  };
  return { ok: true, plan };
}

/**
 * The bottle as a whole, from the stack's final resources (their outputs): who can reach whom.
 *
 *   internal network (internal) : agent, its egress proxy, nobody else
 *   egress network   (internal) : the egress proxy, the bottle's pipelock, nobody else
 *   outbound network            : pipelock only (not checked: pipelock is the way out)
 *
 * A container's networks are its `networksAdvanced` names; a network is found by its Docker name
 * among the stack's docker Networks, whose `internal` flag says whether it leads out. A network
 * the stack does not declare cannot be checked: the agent may never join one, and the proxy only
 * one the platform team lists in `trustedExternalNetworks` (an existing pipelock's network,
 * `pipelock.network` in the stack config).
 */
import { z } from "zod";
import { stackPolicy, type StackResource } from "./define";
import {
  NOT_A_STACK_SETTING, describe, identifyContainer, identifyNetwork, stackField, type ContainerRole, type Identity, type NetworkRole,
} from "./identity";
import { TYPES, containerField, networkField } from "./resource-view";

interface ContainerNode {
  readonly id: Identity<ContainerRole>;
  readonly urn: string;
  readonly networks: readonly string[];
}

interface NetworkNode {
  readonly id: Identity<NetworkRole>;
  readonly internal: boolean;
}

const topologyConfig = z.strictObject({
  trustedExternalNetworks: z
    .array(z.string().min(1))
    .default([])
    .describe("Docker networks not declared in the stack that the egress proxy may join (an existing pipelock's internal network), by name."),
});

function graph(resources: readonly StackResource[]) {
  const containers: ContainerNode[] = resources
    .filter((r) => r.type === TYPES.container)
    .map((r) => ({ id: identifyContainer(r.props, r.name), urn: r.urn, networks: (containerField(r.props, "networksAdvanced") ?? []).map((n) => n.name) }));
  const networks = new Map<string, NetworkNode>();
  for (const r of resources.filter((x) => x.type === TYPES.network)) {
    const id = identifyNetwork(r.props, r.name);
    if (id.dockerName !== undefined) networks.set(id.dockerName, { id, internal: networkField(r.props, "internal") === true });
  }
  return { containers, networks, on: (net: string) => containers.filter((c) => c.networks.includes(net)) };
}

const isOf = (c: ContainerNode, bottle: string, role: ContainerRole) => c.id.bottle === bottle && c.id.role === role;

export const isolationTopology = stackPolicy({
  name: "bottle-isolation-topology",
  description:
    "Each bottle is sealed as a whole: its agent's only network neighbour is its own egress proxy, on internal networks only, and the proxy's only " +
    "other neighbour is the bottle's pipelock, on internal networks only. Anything else on those networks could be reached by the agent, or could " +
    "reach the proxy and have the bottle's credentials injected; a network that is not internal is a way out that skips pipelock.",
  enforcementLevel: "mandatory",
  config: topologyConfig,
  check: (resources, { config, report }) => {
    const { containers, networks, on } = graph(resources);
    const bottles = [...new Set(containers.flatMap((c) => (c.id.bottle !== undefined ? [c.id.bottle] : [])))].sort();
    for (const bottle of bottles) {
      const agents = containers.filter((c) => isOf(c, bottle, "agent"));
      const proxies = containers.filter((c) => isOf(c, bottle, "egress-proxy"));
      if (agents.length > 0 && proxies.length !== 1) {
        const urn = agents[0]?.urn;
        report(`bottle "${bottle}" has ${proxies.length} egress proxies; exactly one must stand between its agent and the network. Fix: ${NOT_A_STACK_SETTING}.`, urn);
      }
      const agentNets = new Set(agents.flatMap((a) => a.networks));
      for (const agent of agents) {
        if (agent.networks.length === 0) {
          report(`${describe(agent.id)} joins no declared network, so Docker puts it on the default bridge, which leads out. Fix: ${NOT_A_STACK_SETTING}.`, agent.urn);
        }
        for (const net of agent.networks) {
          const n = networks.get(net);
          if (n === undefined) {
            report(`${describe(agent.id)} joins network ${net}, which this stack does not declare, so nothing shows that it is internal or who else is on it. Fix: ${NOT_A_STACK_SETTING}.`, agent.urn);
            continue;
          }
          if (!n.internal) report(`${describe(agent.id)} joins network ${net}, which is not internal: a route out past the egress proxy. Fix: ${NOT_A_STACK_SETTING}.`, agent.urn);
          for (const other of on(net).filter((c) => c !== agent && !isOf(c, bottle, "egress-proxy"))) {
            report(`${describe(agent.id)} shares network ${net} with ${describe(other.id)}; the agent's only neighbour must be its egress proxy. Fix: ${NOT_A_STACK_SETTING}.`, other.urn);
          }
        }
      }
      for (const proxy of proxies) {
        for (const net of proxy.networks.filter((x) => !agentNets.has(x))) {
          const n = networks.get(net);
          if (n === undefined) {
            if (!config.trustedExternalNetworks.includes(net)) {
              report(
                `${describe(proxy.id)} joins network ${net}, which this stack does not declare, so nothing shows that its only way out is pipelock. ` +
                  `Fix: if ${stackField(bottle, "pipelock.network")} names it, make sure it is an internal network that only the pipelock shares, ` +
                  `then have the platform team list "${net}" in trustedExternalNetworks of bottle-isolation-topology in the policy pack config; or drop pipelock.network.`,
                proxy.urn,
              );
            }
            continue;
          }
          if (!n.internal) report(`${describe(proxy.id)} joins network ${net}, which is not internal: a way out that skips pipelock. Fix: ${NOT_A_STACK_SETTING}.`, proxy.urn);
          for (const other of on(net).filter((c) => c !== proxy && !isOf(c, bottle, "pipelock"))) {
            report(
              `${describe(proxy.id)} shares its egress network ${net} with ${describe(other.id)}; only the bottle's pipelock belongs there ` +
                `(anything else could bypass pipelock's checks or reach the proxy). Fix: ${NOT_A_STACK_SETTING}.`,
              other.urn,
            );
          }
        }
      }
    }
  },
});

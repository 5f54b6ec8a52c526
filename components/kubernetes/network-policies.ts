/**
 * The NetworkPolicies of one bottle: Kubernetes' stand-in for Docker's `internal` networks.
 *
 *   default-deny   every Pod of the bottle: no ingress, no egress, unless a rule below allows it
 *   agent          egress to the proxy's Pods on the proxy port; nothing else, not even DNS
 *   egress-proxy   ingress from the agent's Pod alone (no other Pod borrows the credentials);
 *                  egress to pipelock's Pods, or to pipelock's address when given by URL
 *   pipelock       ingress from the proxy alone; egress anywhere but the link-local range
 *                  (cloud metadata): pipelock is the bottle's one way out, and checks it
 *
 * Rules select Pods by the bottle's labels in the bottle's namespace only, so bottles that share
 * a namespace stay apart, and Pods of other namespaces match nothing.
 */
import type * as k8s from "@pulumi/kubernetes";
import { PIPELOCK_PORT, PROXY_PORT } from "../constants";
import type { ContainerRole } from "../naming";
import type { BottlePlan } from "../plan-types";
import { bottleLabels, bottleSelector, kubeLabels, namespaceOf, podSelector } from "./names";
import type { KubernetesSettings } from "./settings";

type NetworkPolicyArgs = k8s.networking.v1.NetworkPolicyArgs;
type Peer = k8s.types.input.networking.v1.NetworkPolicyPeer;

/** Link-local addresses, where clouds answer metadata requests with credentials. */
export const METADATA_RANGES = { v4: "169.254.0.0/16", v6: "fe80::/10" } as const;

export interface NamedPolicy {
  /** Suffix of the Pulumi resource and of the object name. */
  readonly id: string;
  readonly args: NetworkPolicyArgs;
}

function tcp(port: number) {
  return [{ protocol: "TCP", port }];
}

function pods(bottle: string, role: ContainerRole): Peer {
  return { podSelector: { matchLabels: podSelector(bottle, role) } };
}

/** The proxy's upstream: pipelock's Pods, or the one address of a pipelock given by URL. */
function pipelockPeer(plan: BottlePlan): { peer: Peer; port: number } {
  if (plan.pipelockConfig !== undefined) return { peer: pods(plan.name, "pipelock"), port: PIPELOCK_PORT };
  const url = new URL(plan.pipelockUrl);
  const ip = url.hostname.replace(/^\[|\]$/g, "");
  // kubernetes/settings.ts refuses a name here; the URL always has a port once normalised
  const port = url.port === "" ? 80 : Number(url.port);
  return { peer: { ipBlock: { cidr: ip.includes(":") ? `${ip}/128` : `${ip}/32` } }, port };
}

export function networkPolicies(plan: BottlePlan, settings: Pick<KubernetesSettings, "namespace">): NamedPolicy[] {
  const b = plan.name;
  const namespace = namespaceOf(b, settings);
  const policy = (id: string, role: ContainerRole | undefined, spec: NetworkPolicyArgs["spec"]): NamedPolicy => ({
    id,
    args: {
      metadata: { name: `bb-${b}-${id}`, namespace, labels: role ? kubeLabels(b, role) : bottleLabels(b) },
      spec,
    },
  });
  const upstream = pipelockPeer(plan);
  const list: NamedPolicy[] = [
    policy("default-deny", undefined, { podSelector: { matchLabels: bottleSelector(b) }, policyTypes: ["Ingress", "Egress"] }),
    policy("agent", "agent", {
      podSelector: { matchLabels: podSelector(b, "agent") },
      policyTypes: ["Ingress", "Egress"],
      egress: [{ to: [pods(b, "egress-proxy")], ports: tcp(PROXY_PORT) }],
    }),
    policy("egress-proxy", "egress-proxy", {
      podSelector: { matchLabels: podSelector(b, "egress-proxy") },
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ from: [pods(b, "agent")], ports: tcp(PROXY_PORT) }],
      egress: [{ to: [upstream.peer], ports: tcp(upstream.port) }],
    }),
  ];
  if (plan.pipelockConfig !== undefined) {
    list.push(
      policy("pipelock", "pipelock", {
        podSelector: { matchLabels: podSelector(b, "pipelock") },
        policyTypes: ["Ingress", "Egress"],
        ingress: [{ from: [pods(b, "egress-proxy")], ports: tcp(PIPELOCK_PORT) }],
        egress: [{
          to: [
            { ipBlock: { cidr: "0.0.0.0/0", except: [METADATA_RANGES.v4] } },
            { ipBlock: { cidr: "::/0", except: [METADATA_RANGES.v6] } },
          ],
        }],
      }),
    );
  }
  return list;
}

/**
 * No name leaves a bottle through DNS: its agent and egress proxy resolve the bottle's own names
 * and nothing else. On Docker the component sets their `dns` to the container's own loopback, so
 * that the engine's embedded resolver still answers the bottle's aliases and has nowhere to
 * forward the rest (an engine before 26.0.0 / 25.0.4 / 23.0.11 forwards an internal-only
 * container's queries from the host's namespace to a loopback host resolver: CVE-2024-29018).
 * On Kubernetes their Pods have `dnsPolicy: None` and the same loopback nameserver. A network
 * that is not internal, the other way names could leave, is refused by bottle-isolation-topology.
 */
import { resourcePolicy } from "./define";
import { NOT_A_STACK_SETTING, describe, identifyContainer } from "./identity";
import { KUBE_TYPES, deploymentSchema, describeDeployment, read, roleOf } from "./kubernetes-policies";
import { TYPES, containerField } from "./resource-view";

/** A loopback address: inside the container's own network namespace, nothing it does not run itself. */
export function isLoopbackAddress(address: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address) || address === "::1";
}

/** What is wrong with a resolver list, or undefined when it reaches nothing outside the container. */
function outsideResolvers(nameservers: readonly string[] | null | undefined): string | undefined {
  if (nameservers === undefined || nameservers === null || nameservers.length === 0) return "no resolver of its own, so the engine's or cluster's resolver forwards its queries";
  const outside = nameservers.filter((n) => !isLoopbackAddress(n));
  return outside.length > 0 ? `resolvers outside the container (${JSON.stringify(outside)})` : undefined;
}

export const noOutsideDns = resourcePolicy({
  name: "bottle-no-outside-dns",
  description:
    "A bottle's agent and egress proxy resolve only the bottle's own names: their resolver is the container's own loopback (Docker `dns`, " +
    "Kubernetes `dnsPolicy: None`), so no query they send is forwarded to a resolver outside the bottle. A name is data: an agent that can have " +
    "its queries forwarded can send anything out, past the proxy and pipelock.",
  enforcementLevel: "mandatory",
  type: [TYPES.container, KUBE_TYPES.deployment],
  check: (props, { resourceName, resourceType, report }) => {
    if (resourceType === TYPES.container) {
      const id = identifyContainer(props, resourceName);
      if (id.role !== "agent" && id.role !== "egress-proxy") return;
      const dns = containerField(props, "dns");
      const problem = outsideResolvers(dns);
      if (problem) report(`${describe(id)} has ${problem} (dns: ${JSON.stringify(dns ?? null)}; expected ["127.0.0.1"]). Fix: ${NOT_A_STACK_SETTING}.`);
      return;
    }
    const d = read(deploymentSchema, props, "spec");
    const role = roleOf(d.spec.template.metadata?.labels ?? d.metadata?.labels).role;
    if (role !== "agent" && role !== "egress-proxy") return;
    const pod = d.spec.template.spec;
    const who = describeDeployment(d, resourceName);
    const fix = "the KubernetesBottle component sets dnsPolicy None with a loopback nameserver (components/kubernetes/pod-spec.ts); remove the code change or transformation that changes it";
    if (pod.dnsPolicy !== "None") report(`${who} uses dnsPolicy ${JSON.stringify(pod.dnsPolicy ?? "ClusterFirst")}, which resolves through the cluster's resolver. Fix: ${fix}.`);
    const problem = outsideResolvers(pod.dnsConfig?.nameservers);
    if (pod.dnsPolicy === "None" && problem) report(`${who} has ${problem}. Fix: ${fix}.`);
  },
});

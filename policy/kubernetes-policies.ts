/**
 * Policies on the Kubernetes backend's objects: the same guarantees the container policies
 * give on Docker, said of Deployments and NetworkPolicies. The KubernetesBottle component meets
 * them by construction (components/kubernetes/); they exist so that a change to it, a
 * transformation, or a stack that bypasses it cannot loosen a bottle unnoticed.
 */
import { z } from "zod";
import { resourcePolicy, stackPolicy } from "./define";
import { CONTAINER_ROLES, LABEL_BOTTLE, LABEL_ROLE, type ContainerRole } from "./identity";
import { MalformedProperty, type Props } from "./resource-view";

export const KUBE_TYPES = {
  deployment: "kubernetes:apps/v1:Deployment",
  networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
} as const;

const FIX = "no stack setting declares this; the KubernetesBottle component never does (components/kubernetes/pod-spec.ts), so remove the code change or transformation that adds it";

const labels = z.record(z.string(), z.string()).nullish();
const containerSchema = z.object({
  name: z.string(),
  securityContext: z.object({
    privileged: z.boolean().nullish(),
    allowPrivilegeEscalation: z.boolean().nullish(),
    runAsUser: z.number().nullish(),
    runAsNonRoot: z.boolean().nullish(),
    capabilities: z.object({ add: z.array(z.string()).nullish(), drop: z.array(z.string()).nullish() }).nullish(),
  }).nullish(),
});
/** The parts of a Deployment the pack reads. */
export const deploymentSchema = z.object({
  metadata: z.object({ name: z.string().nullish(), labels }).nullish(),
  spec: z.object({
    template: z.object({
      metadata: z.object({ labels }).nullish(),
      spec: z.object({
        hostNetwork: z.boolean().nullish(),
        hostPID: z.boolean().nullish(),
        hostIPC: z.boolean().nullish(),
        automountServiceAccountToken: z.boolean().nullish(),
        securityContext: z.object({ runAsNonRoot: z.boolean().nullish(), runAsUser: z.number().nullish() }).nullish(),
        containers: z.array(containerSchema),
        initContainers: z.array(containerSchema).nullish(),
        volumes: z.array(z.object({ name: z.string(), hostPath: z.unknown().optional() })).nullish(),
        dnsPolicy: z.string().nullish(),
        dnsConfig: z.object({ nameservers: z.array(z.string()).nullish() }).nullish(),
      }),
    }),
  }),
});

/** A Deployment's (or NetworkPolicy's) `metadata` and `spec` through `schema`; what does not fit fails closed. */
export function read<S extends z.ZodType>(schema: S, props: Props, what: string): z.output<S> {
  const parsed = schema.safeParse({ metadata: props.metadata, spec: props.spec });
  if (!parsed.success) throw new MalformedProperty(what, parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  return parsed.data;
}

/** The bottle and role its labels name. */
export function roleOf(l: Readonly<Record<string, string>> | null | undefined): { bottle?: string; role?: ContainerRole } {
  const role = CONTAINER_ROLES.find((r) => r === l?.[LABEL_ROLE]);
  return { ...(l?.[LABEL_BOTTLE] !== undefined ? { bottle: l[LABEL_BOTTLE] } : {}), ...(role ? { role } : {}) };
}

/** How messages name a Deployment: by bottle and role when its labels say them. */
export function describeDeployment(d: z.output<typeof deploymentSchema>, resourceName: string): string {
  const id = roleOf(d.spec.template.metadata?.labels ?? d.metadata?.labels);
  return id.bottle !== undefined && id.role !== undefined
    ? `bottle "${id.bottle}", ${id.role} Deployment ${d.metadata?.name ?? resourceName}`
    : `Deployment ${d.metadata?.name ?? resourceName} (Pulumi name ${resourceName})`;
}

export const kubernetesPodHardening = resourcePolicy({
  name: "bottle-kubernetes-pod-hardening",
  description:
    "Every Deployment's Pods run as a non-root uid with no privilege escalation, all capabilities dropped, no host network, PID or IPC namespace, " +
    "no host paths and no service account token: each of these turns the agent's Pod into a way onto the node or into the cluster's API.",
  enforcementLevel: "mandatory",
  type: KUBE_TYPES.deployment,
  check: (props, { resourceName, report }) => {
    const d = read(deploymentSchema, props, "spec");
    const pod = d.spec.template.spec;
    const who = describeDeployment(d, resourceName);
    for (const k of ["hostNetwork", "hostPID", "hostIPC"] as const) if (pod[k] === true) report(`${who} shares the node's namespace (${k}: true). Fix: ${FIX}.`);
    for (const v of pod.volumes ?? []) if (v.hostPath !== undefined && v.hostPath !== null) report(`${who} mounts a host path (volume ${v.name}). Fix: ${FIX}.`);
    if (pod.automountServiceAccountToken !== false) report(`${who} mounts a service account token (automountServiceAccountToken is not false). Fix: ${FIX}.`);
    for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
      const sc = c.securityContext;
      const where = `${who}, container ${c.name}`;
      if (sc?.privileged === true) report(`${where} runs privileged. Fix: ${FIX}.`);
      if (sc?.allowPrivilegeEscalation !== false) report(`${where} may gain privileges (allowPrivilegeEscalation is not false). Fix: ${FIX}.`);
      if (!(sc?.capabilities?.drop ?? []).includes("ALL")) report(`${where} keeps capabilities (capabilities.drop lacks ALL). Fix: ${FIX}.`);
      if ((sc?.capabilities?.add ?? []).length > 0) report(`${where} adds capabilities (${JSON.stringify(sc?.capabilities?.add)}). Fix: ${FIX}.`);
      const uid = sc?.runAsUser ?? pod.securityContext?.runAsUser;
      const nonRoot = sc?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot;
      if (uid === 0 || uid === undefined || uid === null || nonRoot !== true) {
        report(`${where} may run as root (runAsUser ${uid ?? "unset"}, runAsNonRoot ${nonRoot ?? "unset"}). Fix: set the bottle's agent.user to a non-root uid such as 10001.`);
      }
    }
  },
});

const peer = z.object({ podSelector: z.object({ matchLabels: labels }).nullish(), namespaceSelector: z.unknown().optional(), ipBlock: z.unknown().optional() });
const rule = z.object({ to: z.array(peer).nullish(), from: z.array(peer).nullish(), ports: z.unknown().optional() });
const policySchema = z.object({
  metadata: z.object({ name: z.string().nullish() }).nullish(),
  spec: z.object({
    podSelector: z.object({ matchLabels: labels }),
    policyTypes: z.array(z.string()).nullish(),
    ingress: z.array(rule).nullish(),
    egress: z.array(rule).nullish(),
  }),
});
type Policy = z.output<typeof policySchema>;

/** Whether `selector` picks Pods of `bottle` (and of `role`, when given). */
function selects(selector: Readonly<Record<string, string>> | null | undefined, bottle: string, role?: ContainerRole): boolean {
  if (selector?.[LABEL_BOTTLE] !== bottle) return false;
  return role === undefined || selector[LABEL_ROLE] === undefined || selector[LABEL_ROLE] === role;
}

/** Every peer a policy of `bottle`'s `role` opens, ingress or egress. */
function peers(list: readonly Policy[], bottle: string, role: ContainerRole, direction: "ingress" | "egress") {
  return list.filter((p) => selects(p.spec.podSelector.matchLabels, bottle, role)).flatMap((p) =>
    (p.spec[direction] ?? []).flatMap((r) => (direction === "ingress" ? r.from : r.to) ?? [{ podSelector: null, namespaceSelector: undefined, ipBlock: undefined }]));
}

export const kubernetesIsolation = stackPolicy({
  name: "bottle-kubernetes-isolation",
  description:
    "Each Kubernetes bottle is sealed by NetworkPolicies: one denies all traffic of the bottle's Pods by default, the agent's Pod may reach its own " +
    "egress proxy only, and the proxy admits its own agent only. Without them the agent reaches anything the cluster network does, and any Pod " +
    "may have the bottle's credentials injected.",
  enforcementLevel: "mandatory",
  config: z.strictObject({}),
  check: (resources, { report }) => {
    const deployments = resources.filter((r) => r.type === KUBE_TYPES.deployment).map((r) => ({ r, d: read(deploymentSchema, r.props, "spec") }));
    const policies = resources.filter((r) => r.type === KUBE_TYPES.networkPolicy).map((r) => read(policySchema, r.props, "spec"));
    const bottles = new Set(deployments.map(({ d }) => roleOf(d.spec.template.metadata?.labels).bottle).filter((b): b is string => b !== undefined));
    for (const bottle of bottles) {
      const urn = deployments.find(({ d }) => roleOf(d.spec.template.metadata?.labels).bottle === bottle)?.r.urn;
      const denyAll = policies.some((p) => selects(p.spec.podSelector.matchLabels, bottle) && p.spec.podSelector.matchLabels?.[LABEL_ROLE] === undefined
        && (p.spec.policyTypes ?? []).includes("Ingress") && (p.spec.policyTypes ?? []).includes("Egress") && !p.spec.ingress?.length && !p.spec.egress?.length);
      if (!denyAll) report(`bottle "${bottle}" has no NetworkPolicy that denies all ingress and egress of its Pods by default. Fix: ${FIX}.`, urn);
      const onlyPods = (list: ReturnType<typeof peers>, role: ContainerRole) =>
        list.every((p) => p.ipBlock === undefined && p.namespaceSelector === undefined && selects(p.podSelector?.matchLabels, bottle, role) && p.podSelector?.matchLabels?.[LABEL_ROLE] === role);
      if (!onlyPods(peers(policies, bottle, "agent", "egress"), "egress-proxy")) report(`bottle "${bottle}": a NetworkPolicy lets the agent reach more than its egress proxy. Fix: ${FIX}.`, urn);
      if (!onlyPods(peers(policies, bottle, "egress-proxy", "ingress"), "agent")) report(`bottle "${bottle}": a NetworkPolicy lets more than the agent reach the egress proxy. Fix: ${FIX}.`, urn);
      if (peers(policies, bottle, "agent", "ingress").length > 0) report(`bottle "${bottle}": a NetworkPolicy admits traffic to the agent. Fix: ${FIX}.`, urn);
    }
  },
});

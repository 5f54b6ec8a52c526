/**
 * The Kubernetes objects of one bottle, as the arguments of their Pulumi resources: plain data
 * but for the deploy-time values in `refs` (plain strings in tests). Every decision comes from
 * the bottle's plan (plan.ts); network rules are in network-policies.ts, Pod details in pod-spec.ts.
 *
 *   Namespace        bb-<bottle> (or the stack's), restricted Pod Security level
 *   ConfigMap        per role: its files (routes.yaml and the CA certificate for the proxy)
 *   Secret           the route tokens and the CA key, as the proxy's env
 *   Service          egress-proxy and pipelock, cluster-internal
 *   Deployment       per role, one replica, recreated rather than rolled (never two proxies)
 *   PersistentVolumeClaim  the agent's workspace (kept on destroy unless asked)
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { PIPELOCK_PORT, PROXY_PORT } from "../constants";
import type { ContainerRole } from "../naming";
import type { BottlePlan, ContainerPlan, FileContent, WorkspacePlan } from "../plan-types";
import { kubeLabels, namespaceOf, objectName, podSelector } from "./names";
import { configMapFile, podSpec, type PodOptions, type PodRefs } from "./pod-spec";
import type { KubernetesSettings } from "./settings";

/** The secret values of the bottle's Secret. */
export interface SecretRefs {
  readonly caKeyPem: pulumi.Input<string>;
  readonly token: (tokenRef: string) => pulumi.Input<string>;
}

export interface DeploymentRefs extends PodRefs {
  /** Changes when the local proxy image is rebuilt under the same tag, to roll the proxy's Pod. */
  readonly proxyImageId?: pulumi.Input<string>;
}

/** Pod Security Admission: the namespace admits only Pods that meet the restricted level. */
export const POD_SECURITY_LABELS = {
  "pod-security.kubernetes.io/enforce": "restricted",
  "pod-security.kubernetes.io/enforce-version": "latest",
} as const;
/** Pod template annotation carrying the proxy image id. */
export const PROXY_IMAGE_ANNOTATION = "bot-bottle.proxy-image-id";
const PORTS: Partial<Record<ContainerRole, number>> = { "egress-proxy": PROXY_PORT, pipelock: PIPELOCK_PORT };

export function namespaceArgs(name: string, labels: Readonly<Record<string, string>>): k8s.core.v1.NamespaceArgs {
  return { metadata: { name, labels: { ...labels, ...POD_SECURITY_LABELS } } };
}

function metadata(plan: BottlePlan, role: ContainerRole, settings: Pick<KubernetesSettings, "namespace">, name?: string) {
  return { ...(name !== undefined ? { name } : {}), namespace: namespaceOf(plan.name, settings), labels: kubeLabels(plan.name, role) };
}

/** Text files go in `data`, the binary trust store in `binaryData` (base64). */
function contentOf(content: FileContent, ca: CaFiles): { text: pulumi.Input<string> } | { base64: pulumi.Input<string> } {
  switch (content.kind) {
    case "text":
      return { text: content.text };
    case "ca-cert":
      return { text: ca.certPem };
    case "ca-truststore":
      return { base64: ca.trustStoreBase64 };
  }
}

/** The bottle CA's forms that files hold. */
export interface CaFiles {
  readonly certPem: pulumi.Input<string>;
  readonly trustStoreBase64: pulumi.Input<string>;
}

/**
 * A role's files. No name: Pulumi names it and replaces it when its content changes, so the
 * Deployment that mounts it rolls (a file changed in place reaches a running Pod late, or never
 * for a file the process read at start).
 */
export function configMapArgs(plan: BottlePlan, c: ContainerPlan, ca: CaFiles, settings: Pick<KubernetesSettings, "namespace">): k8s.core.v1.ConfigMapArgs {
  const data: Record<string, pulumi.Input<string>> = {};
  const binaryData: Record<string, pulumi.Input<string>> = {};
  for (const u of c.uploads) {
    const content = contentOf(u.content, ca);
    if ("text" in content) data[configMapFile(u.file).key] = content.text;
    else binaryData[configMapFile(u.file).key] = content.base64;
  }
  return { metadata: metadata(plan, c.role, settings), data, ...(Object.keys(binaryData).length ? { binaryData } : {}) };
}

/** The proxy's secret env by variable name (tokens, CA key); empty when the role has none. */
export function secretData(c: ContainerPlan, refs: SecretRefs): Record<string, pulumi.Input<string>> {
  const data: Record<string, pulumi.Input<string>> = {};
  for (const e of c.env) {
    if (e.value.kind === "token") data[e.name] = refs.token(e.value.tokenRef);
    else if (e.value.kind === "ca-key") data[e.name] = refs.caKeyPem;
  }
  return data;
}

/** The bottle's Secret (auto-named like the ConfigMaps); the component marks it secret as a whole. */
export function secretArgs(plan: BottlePlan, proxy: ContainerPlan, refs: SecretRefs, settings: Pick<KubernetesSettings, "namespace">): k8s.core.v1.SecretArgs {
  return { metadata: metadata(plan, proxy.role, settings), type: "Opaque", stringData: secretData(proxy, refs) };
}

/** The roles others connect to: the proxy (from the agent) and pipelock (from the proxy). */
export function servedRoles(plan: BottlePlan): ContainerRole[] {
  return plan.containers.map((c) => c.role).filter((r) => PORTS[r] !== undefined);
}

export function servicePort(role: ContainerRole): number {
  const port = PORTS[role];
  if (port === undefined) throw new Error(`internal: ${role} serves no port`);
  return port;
}

/**
 * The provider's wait for a Service (an endpoint, then a fixed 10 s) would hold back the agent,
 * which needs only the cluster address assigned at creation; the role's Deployment is waited for.
 */
export const SERVICE_ANNOTATIONS = { "pulumi.com/skipAwait": "true" } as const;

export function serviceArgs(plan: BottlePlan, role: ContainerRole, settings: Pick<KubernetesSettings, "namespace">): k8s.core.v1.ServiceArgs {
  const port = servicePort(role);
  return {
    metadata: { ...metadata(plan, role, settings, objectName(plan.name, role)), annotations: SERVICE_ANNOTATIONS },
    spec: { type: "ClusterIP", selector: podSelector(plan.name, role), ports: [{ name: "proxy", port, targetPort: port, protocol: "TCP" }] },
  };
}

export function deploymentArgs(
  plan: BottlePlan,
  c: ContainerPlan,
  refs: DeploymentRefs,
  settings: Pick<KubernetesSettings, "namespace">,
  options: PodOptions,
): k8s.apps.v1.DeploymentArgs {
  const annotations = c.image.kind === "proxy-image" && refs.proxyImageId !== undefined ? { [PROXY_IMAGE_ANNOTATION]: refs.proxyImageId } : undefined;
  return {
    metadata: metadata(plan, c.role, settings, objectName(plan.name, c.role)),
    spec: {
      replicas: 1,
      strategy: { type: "Recreate" },
      selector: { matchLabels: podSelector(plan.name, c.role) },
      template: {
        metadata: { labels: kubeLabels(plan.name, c.role), ...(annotations ? { annotations } : {}) },
        spec: podSpec(c, refs, options),
      },
    },
  };
}

/**
 * Waiting for a claim to be bound would hold `pulumi up` forever with a storage class that binds
 * on first use (WaitForFirstConsumer, as local volumes do): the agent's Pod is what binds it.
 */
export const CLAIM_ANNOTATIONS = { "pulumi.com/skipAwait": "true" } as const;

/** The agent's workspace claim: one writer (the agent's single Pod, recreated rather than rolled). */
export function workspaceClaimArgs(plan: BottlePlan, workspace: WorkspacePlan, settings: Pick<KubernetesSettings, "namespace">): k8s.core.v1.PersistentVolumeClaimArgs {
  const source = workspace.source;
  if (source.kind !== "volume") throw new Error(`internal: bottle ${plan.name} plans a host directory on Kubernetes`);
  return {
    metadata: { name: source.name, namespace: namespaceOf(plan.name, settings), labels: { ...source.labels }, annotations: CLAIM_ANNOTATIONS },
    spec: {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: `${source.sizeGb ?? 1}Gi` } },
      ...(source.storageClass !== undefined ? { storageClassName: source.storageClass } : {}),
    },
  };
}

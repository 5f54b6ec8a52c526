/**
 * What the Kubernetes bottles of a stack share: the provider that reaches the cluster, and the
 * stack's namespace when `kubernetes.namespace` names one.
 */
import * as k8s from "@pulumi/kubernetes";
import { LABEL_MANAGED } from "../constants";
import { namespaceArgs } from "./objects";
import type { KubernetesSettings } from "./settings";

export interface KubernetesBase {
  readonly provider: k8s.Provider;
  readonly namespace?: k8s.core.v1.Namespace;
}

export function declareKubernetesBase(settings: KubernetesSettings): KubernetesBase {
  const provider = new k8s.Provider("kubernetes", {
    ...(settings.kubeconfig !== undefined ? { kubeconfig: settings.kubeconfig } : {}),
    ...(settings.context !== undefined ? { context: settings.context } : {}),
  });
  if (settings.namespace === undefined) return { provider };
  const namespace = new k8s.core.v1.Namespace("stack-namespace", namespaceArgs(settings.namespace, { [LABEL_MANAGED]: "true" }), {
    provider,
    deleteBeforeReplace: true,
  });
  return { provider, namespace };
}

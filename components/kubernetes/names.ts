/**
 * Names, labels and commands of a bottle's Kubernetes objects. Object names are the Docker
 * names (`bb-<bottle>-<role>`), so that one bottle reads the same on either backend; the agent
 * still reaches its proxy as `egress-proxy` and the proxy its pipelock as `pipelock` (host
 * aliases, as Docker's network aliases). Labels are the Docker labels, so one selector lists
 * everything of a bottle.
 */
import { DOCKER_NAME_PREFIX, LABEL_BOTTLE, LABEL_MANAGED, LABEL_ROLE } from "../constants";
import { containerName, labelsFor, type ContainerRole } from "../naming";
import type { BottleCommands } from "../plan-types";
import type { KubernetesSettings } from "./settings";

/** The namespace a bottle lives in: its own (`bb-<bottle>`), or the stack's when one is named. */
export function namespaceOf(bottle: string, settings: Pick<KubernetesSettings, "namespace">): string {
  return settings.namespace ?? `${DOCKER_NAME_PREFIX}-${bottle}`;
}

/** The name of a role's Deployment, Service, ConfigMap and Secret (each kind has its own names). */
export function objectName(bottle: string, role: ContainerRole): string {
  return containerName(bottle, role);
}

/** The labels on every object of a role; Pods carry them too. */
export function kubeLabels(bottle: string, role: ContainerRole): Record<string, string> {
  return labelsFor(bottle, role);
}

/** The labels of an object of the whole bottle (its namespace, its default-deny policy). */
export function bottleLabels(bottle: string): Record<string, string> {
  return { [LABEL_BOTTLE]: bottle, [LABEL_MANAGED]: "true" };
}

/** What selects a role's Pods (in Deployments, Services, NetworkPolicies). */
export function podSelector(bottle: string, role: ContainerRole): Record<string, string> {
  return { [LABEL_BOTTLE]: bottle, [LABEL_ROLE]: role };
}

/** Every Pod of a bottle. */
export function bottleSelector(bottle: string): Record<string, string> {
  return { [LABEL_BOTTLE]: bottle };
}

/** `kubectl` with the stack's kubeconfig and context, so that a shown command reaches the right cluster. */
function kubectl(settings: Pick<KubernetesSettings, "kubeconfig" | "context">, namespace: string): string {
  const parts = ["kubectl"];
  if (settings.kubeconfig !== undefined) parts.push(`--kubeconfig ${shellWord(settings.kubeconfig)}`);
  if (settings.context !== undefined) parts.push(`--context ${shellWord(settings.context)}`);
  parts.push(`-n ${namespace}`);
  return parts.join(" ");
}

/** A word as a POSIX shell reads it back unchanged. */
function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:@=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function kubernetesCommands(
  bottle: string,
  settings: Pick<KubernetesSettings, "kubeconfig" | "context" | "namespace">,
  withPipelock: boolean,
): BottleCommands {
  const k = kubectl(settings, namespaceOf(bottle, settings));
  return {
    enter: `${k} exec -it deploy/${objectName(bottle, "agent")} -- sh`,
    auditLog: `${k} logs -f deploy/${objectName(bottle, "egress-proxy")}`,
    list: `${k} get deployments,pods,services,networkpolicies,configmaps,secrets -l ${LABEL_BOTTLE}=${bottle}`,
    ...(withPipelock ? { pipelockLog: `${k} logs -f deploy/${objectName(bottle, "pipelock")}` } : {}),
  };
}

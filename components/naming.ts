/**
 * Names and labels of a bottle's objects. Pulumi names (`${bottle}-<role>`) identify resources
 * in state; Docker names (`bb-<bottle>-<role>`) are what a user types; labels let
 * `docker ps -a --filter label=bot-bottle.bottle=<name>` list everything of one bottle.
 */
import { DOCKER_NAME_PREFIX, LABEL_BOTTLE, LABEL_MANAGED, LABEL_ROLE } from "./constants";

export type ContainerRole = "agent" | "egress-proxy" | "pipelock";
export type NetworkRole = "internal" | "egress" | "outbound";
/** The workspace's volume or claim, and on Docker the step that gives it to the agent's user. */
export type WorkspaceRole = "workspace" | "workspace-init";
export type Role = ContainerRole | NetworkRole | WorkspaceRole | "ca" | "namespace" | "policy";

/** The Pulumi resource name of one part of a bottle: stable as long as the bottle's name is. */
export function resourceName(bottle: string, role: Role, suffix = ""): string {
  return `${bottle}-${role}${suffix}`;
}

/** The Docker container name of one role of a bottle. */
export function containerName(bottle: string, role: ContainerRole): string {
  return `${DOCKER_NAME_PREFIX}-${bottle}-${role}`;
}

/** The Docker name of the workspace volume (or claim) and of its init step. */
export function workspaceName(bottle: string, role: WorkspaceRole): string {
  return `${DOCKER_NAME_PREFIX}-${bottle}-${role}`;
}

/** The Docker network name of one role of a bottle. */
export function networkName(bottle: string, role: NetworkRole): string {
  return `${DOCKER_NAME_PREFIX}-${bottle}-${role}`;
}

/** The labels on every Docker object of a bottle. */
export function labelsFor(bottle: string, role: ContainerRole | NetworkRole | WorkspaceRole): Record<string, string> {
  return { [LABEL_BOTTLE]: bottle, [LABEL_ROLE]: role, [LABEL_MANAGED]: "true" };
}

/**
 * Which bottle, and which part of it, a resource is; and how messages name it and the stack
 * config field that fixes it.
 *
 * A bottle's containers and networks carry the labels `bot-bottle.bottle` and `bot-bottle.role`
 * and are named `bb-<bottle>-<role>` (components/naming.ts); the labels win, the name is the
 * fallback. A resource with neither is still checked by every policy that applies to any
 * container; messages then name it by its Pulumi and Docker names.
 */
import { z } from "zod";
import { containerField, labelMap, networkField, type Props } from "./resource-view";

export const LABEL_BOTTLE = "bot-bottle.bottle";
export const LABEL_ROLE = "bot-bottle.role";
/** The stack config key that lists the bottles (project namespace `bot-bottle`). */
export const BOTTLES_KEY = "bot-bottle:bottles";

export const CONTAINER_ROLES = ["agent", "egress-proxy", "pipelock"] as const;
export type ContainerRole = (typeof CONTAINER_ROLES)[number];
export const NETWORK_ROLES = ["internal", "egress", "outbound"] as const;
export type NetworkRole = (typeof NETWORK_ROLES)[number];

export interface Identity<R extends string> {
  /** The Pulumi resource name. */
  readonly resourceName: string;
  /** The Docker name, when declared. */
  readonly dockerName?: string;
  readonly bottle?: string;
  readonly role?: R;
}

function fromNames<R extends string>(roles: readonly R[], labels: Readonly<Record<string, string>>, dockerName: string | undefined) {
  const labelled = labels[LABEL_ROLE];
  const labelRole = roles.find((r) => r === labelled);
  if (labels[LABEL_BOTTLE] !== undefined && labelRole !== undefined) return { bottle: labels[LABEL_BOTTLE], role: labelRole };
  for (const role of roles) {
    const suffix = `-${role}`;
    if (dockerName?.startsWith("bb-") && dockerName.endsWith(suffix) && dockerName.length > 3 + suffix.length) {
      return { bottle: dockerName.slice(3, -suffix.length), role };
    }
  }
  return {};
}

export function identifyContainer(props: Props, resourceName: string): Identity<ContainerRole> {
  const dockerName = containerField(props, "name");
  return { resourceName, ...(dockerName !== undefined ? { dockerName } : {}), ...fromNames(CONTAINER_ROLES, labelMap(containerField(props, "labels")), dockerName) };
}

export function identifyNetwork(props: Props, resourceName: string): Identity<NetworkRole> {
  const dockerName = networkField(props, "name");
  return { resourceName, ...(dockerName !== undefined ? { dockerName } : {}), ...fromNames(NETWORK_ROLES, labelMap(networkField(props, "labels")), dockerName) };
}

/** A Kubernetes object of a bottle (its ConfigMap), by its labels; it has no Docker name. */
export function identifyConfigMap(props: Props, resourceName: string): Identity<ContainerRole> {
  const parsed = z.record(z.string(), z.string()).safeParse((props.metadata as { labels?: unknown } | undefined)?.labels);
  const labels = parsed.success ? parsed.data : {};
  return { resourceName, ...fromNames(CONTAINER_ROLES, labels, undefined) };
}

/** `bottle "dev", agent container bb-dev-agent`, or the names of an unlabelled container. */
export function describe(id: Identity<string>, kind = "container"): string {
  const docker = id.dockerName !== undefined ? ` ${id.dockerName}` : "";
  if (id.bottle !== undefined && id.role !== undefined) return `bottle "${id.bottle}", ${id.role} ${kind}${docker}`;
  return `${kind}${docker} (Pulumi name ${id.resourceName}; not labelled as part of a bottle)`;
}

/** Where in the stack config a bottle's field lives: `bot-bottle:bottles, bottle "dev": agent.user`. */
export function stackField(bottle: string | undefined, field: string): string {
  return bottle !== undefined ? `${BOTTLES_KEY}, the bottle named "${bottle}": ${field}` : `${BOTTLES_KEY}: ${field}`;
}

/** The fix for something no stack setting controls: the Bottle component never declares it. */
export const NOT_A_STACK_SETTING =
  "no stack setting declares this; the Bottle component never does (components/plan-containers.ts), so remove the code change or transformation that adds it";

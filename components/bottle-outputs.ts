/** What every bottle outputs, whichever backend runs it: how to use it, and what it can reach. */
import * as pulumi from "@pulumi/pulumi";
import type { EgressPolicy } from "./egress-policy";
import type { BottlePlan } from "./plan-types";

export interface CommonBottleOutputs<B extends string> {
  readonly backend: pulumi.Output<B>;
  readonly enter: pulumi.Output<string>;
  readonly auditLog: pulumi.Output<string>;
  readonly list: pulumi.Output<string>;
  /** What the agent can reach, route by route (`token_ref` names, never values). */
  readonly egressPolicy: pulumi.Output<EgressPolicy>;
}

/** The commands wait for `workloads`, so that a shown command names something that exists. */
export function commonOutputs<B extends string>(backend: B, { commands, egressPolicy }: BottlePlan, workloads: readonly pulumi.Input<unknown>[]): CommonBottleOutputs<B> {
  const after = <T>(value: T) => pulumi.all([...workloads]).apply(() => value);
  return {
    backend: pulumi.output(backend) as pulumi.Output<B>,
    enter: after(commands.enter),
    auditLog: after(commands.auditLog),
    list: after(commands.list),
    egressPolicy: pulumi.output(egressPolicy),
  };
}

/** Each role's object name, as one Output. */
export function namesByRole<K extends string, R>(m: Partial<Record<K, R>>, name: (r: R) => pulumi.Input<string>): pulumi.Output<Partial<Record<K, string>>> {
  const entries = Object.entries(m) as Array<[K, R]>;
  return pulumi.all(Object.fromEntries(entries.map(([k, r]) => [k, name(r)]))) as pulumi.Output<Partial<Record<K, string>>>;
}

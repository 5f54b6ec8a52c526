/**
 * Stack configs for the policy tests: the demo stack as Pulumi.demo.yaml declares it, and
 * variants of it that a developer could write, each breaking (or not) one rule.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import type { StackConfigInput } from "../../components";

export type BottleInput = StackConfigInput["bottles"][number];
type RouteInput = BottleInput["egress_proxy"]["routes"][number];

export const ROOT = path.resolve(__dirname, "..", "..");
export const DEMO_STACK_FILE = path.join(ROOT, "Pulumi.demo.yaml");

/** The `bot-bottle:*` keys of Pulumi.demo.yaml (its one secret, demoToken, comes from the test's tokens). */
export function demoStack(): StackConfigInput {
  const doc = parse(readFileSync(DEMO_STACK_FILE, "utf8")) as { config: Record<string, unknown> };
  const bottles = doc.config["bot-bottle:bottles"] as BottleInput[];
  const base = doc.config["bot-bottle:proxyBaseImage"];
  return { bottles, ...(typeof base === "string" ? { proxyBaseImage: base } : {}) };
}

/** The demo stack's first bottle, with `change` applied to a copy. */
export function demoBottle(change: (b: BottleInput) => BottleInput = (b) => b): BottleInput {
  const first = demoStack().bottles[0];
  if (first === undefined) throw new Error(`${DEMO_STACK_FILE} lists no bottle`);
  return change(structuredClone(first));
}

/** The demo stack with its bottles replaced. */
export function stackOf(...bottles: BottleInput[]): StackConfigInput {
  return { ...demoStack(), bottles };
}

/** The demo bottle with one more route. */
export function withRoute(route: RouteInput, name = "demo"): BottleInput {
  return demoBottle((b) => ({ ...b, name, egress_proxy: { ...b.egress_proxy, routes: [...b.egress_proxy.routes, route] } }));
}

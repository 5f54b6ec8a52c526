/**
 * How the pack's policies are declared: a stable name, a description that says why, a default
 * enforcement level (overridable per policy in the pack's config, by @pulumi/policy itself), and
 * an optional config schema in zod, from which the JSON schema Pulumi validates is derived.
 *
 * Two rules hold for every policy here:
 * - A property the pack cannot read (present, but of an unexpected shape) is a violation: the
 *   pack fails closed.
 * - A property unknown during `pulumi preview` is not read around: the engine's proxy throws,
 *   and @pulumi/policy reports "can't run policy ... during preview" as advisory. The same
 *   policy runs in full at `pulumi up`, on known inputs, before the resource is created.
 */
import type {
  EnforcementLevel, PolicyConfigSchema, PolicyResource, ReportViolation, ResourceValidationPolicy, StackValidationPolicy,
} from "@pulumi/policy";
import { z } from "zod";
import { MalformedProperty, type Props } from "./resource-view";

export interface PolicyInfo {
  /** Stable: stacks name it in the pack's config. */
  readonly name: string;
  /** Why the rule exists. */
  readonly description: string;
  readonly enforcementLevel: EnforcementLevel;
}

type ConfigSchema = z.ZodObject;
const NO_CONFIG = z.strictObject({});

export interface ResourceCheckContext<C> {
  readonly resourceName: string;
  /** The resource's type token, for policies on several types. */
  readonly resourceType: string;
  readonly config: C;
  readonly report: (message: string) => void;
}

export interface StackResource {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly props: Props;
}

export interface StackCheckContext<C> {
  readonly config: C;
  readonly report: (message: string, urn?: string) => void;
}

/** The JSON schema Pulumi validates a policy's config with, from its zod schema. */
export function policyConfigSchema(schema: ConfigSchema): PolicyConfigSchema {
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "throw" }) as { properties?: unknown; required?: unknown };
  const properties = typeof json.properties === "object" && json.properties !== null ? json.properties : {};
  const required = Array.isArray(json.required) ? json.required.filter((r): r is string => typeof r === "string") : [];
  return { properties: properties as PolicyConfigSchema["properties"], ...(required.length > 0 ? { required } : {}) };
}

function parseConfig<S extends ConfigSchema>(policy: string, schema: S, raw: unknown): z.output<S> {
  const parsed = schema.safeParse(raw ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(config)"}: ${i.message}`).join("; ");
    throw new Error(`the policy pack config of ${policy} is invalid: ${problems}; fix it in the --policy-pack-config file (policy/README.md)`);
  }
  return parsed.data;
}

/** Run a check; what it cannot read is reported as a violation, since the pack fails closed. */
function failClosed(what: string, report: (message: string) => void, check: () => void): void {
  try {
    check();
  } catch (e) {
    if (!(e instanceof MalformedProperty)) throw e;
    report(`${what}: ${e.message}; the policy pack fails closed on what it cannot read`);
  }
}

/** What every policy of the pack says of itself. */
function described(spec: PolicyInfo & { readonly config?: ConfigSchema }) {
  return {
    name: spec.name,
    description: spec.description,
    enforcementLevel: spec.enforcementLevel,
    ...(spec.config !== undefined ? { configSchema: policyConfigSchema(spec.config) } : {}),
  };
}

/** A policy on every resource of `type` (or of each type listed); `check` reads `props` through resource-view.ts. */
export function resourcePolicy<S extends ConfigSchema = typeof NO_CONFIG>(spec: PolicyInfo & {
  readonly type: string | readonly string[];
  readonly config?: S;
  readonly check: (props: Props, ctx: ResourceCheckContext<z.output<S>>) => void;
}): ResourceValidationPolicy {
  const schema = spec.config ?? NO_CONFIG;
  return {
    ...described(spec),
    validateResource: (args, reportViolation: ReportViolation) => {
      if (typeof spec.type === "string" ? args.type !== spec.type : !spec.type.includes(args.type)) return;
      const config = parseConfig(spec.name, schema, args.getConfig()) as z.output<S>;
      const props: Props = args.props;
      failClosed(`resource ${args.name}`, (m) => reportViolation(m), () => spec.check(props, { resourceName: args.name, resourceType: args.type, config, report: (m) => reportViolation(m) }));
    },
  };
}

/** A policy on the whole stack, after every resource is known (its outputs). */
export function stackPolicy<S extends ConfigSchema = typeof NO_CONFIG>(spec: PolicyInfo & {
  readonly config?: S;
  readonly check: (resources: readonly StackResource[], ctx: StackCheckContext<z.output<S>>) => void;
}): StackValidationPolicy {
  const schema = spec.config ?? NO_CONFIG;
  return {
    ...described(spec),
    validateStack: (args, reportViolation: ReportViolation) => {
      const config = parseConfig(spec.name, schema, args.getConfig()) as z.output<S>;
      const resources = args.resources.map((r: PolicyResource): StackResource => ({ type: r.type, name: r.name, urn: r.urn, props: r.props }));
      failClosed("the stack", (m) => reportViolation(m), () => spec.check(resources, { config, report: (m, urn) => reportViolation(m, urn) }));
    },
  };
}

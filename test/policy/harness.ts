/**
 * Drives the policy pack with resources shaped exactly as the Bottle component declares them:
 * the real program runs under Pulumi mocks (test/components/mock-harness.ts), every registered
 * resource is recorded with its inputs, and the policies get those inputs the way
 * @pulumi/policy's analyzer server hands them over (policy/node_modules/@pulumi/policy/server.js):
 * secrets unwrapped, behind the SDK's own unknown-checking proxy, an UnknownValueError turned into
 * an advisory "can't run policy ... during preview", enforcement levels from the pack's config.
 */
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import * as policySdk from "../../policy/node_modules/@pulumi/policy";
import type {
  EnforcementLevel, PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy,
} from "../../policy/node_modules/@pulumi/policy";
import { PACK_NAME, policies } from "../../policy/policies";
import { installMocks, runProgram, unwrapSecrets } from "../components/mock-harness";

/** @pulumi/policy 1.21 exports these at run time; its proxy.d.ts declares none of them. */
const sdk = policySdk as unknown as {
  unknownCheckingProxy<T extends object>(value: T): T;
  UnknownValueError: new (...args: never[]) => Error;
};

/** What the engine sends for a value unknown during preview (Pulumi's wire protocol). */
export const UNKNOWN = unknownValue;

export const CONTAINER = "docker:index/container:Container";
export const NETWORK = "docker:index/network:Network";
export const CERT = "tls:index/selfSignedCert:SelfSignedCert";

/** A registered resource: its type, name, URN and plain inputs (secrets unwrapped, as the analyzer sees them). */
export interface Res {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly inputs: Record<string, unknown>;
}

export interface Violation {
  readonly policy: string;
  readonly level: EnforcementLevel;
  readonly message: string;
  /** The resource it was reported on (its name). */
  readonly resource?: string;
}

/** The pack's config as `--policy-pack-config` gives it: a level, or properties with an optional level. */
export type PackConfig = Record<string, EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)>;

/** Fake route tokens of these tests; each appears nowhere but in the proxy's secret env. */
export const POLICY_TEST_TOKENS = { demoToken: "FAKE-policy-demo-token-do-not-leak", githubToken: "FAKE-policy-gh-token-do-not-leak" } as const;

type Components = typeof import("../../components");
let components: Components | undefined;

/** Install the mocks, then load the program (mocks first: a resource created before them never resolves). */
async function program(): Promise<Components> {
  if (components === undefined) {
    await installMocks();
    components = await import("../../components");
  }
  return components;
}

function urnOf(type: string, name: string): string {
  const parent = type === "bot-bottle:index:Bottle" || type === "docker:index/image:Image" ? "" : "bot-bottle:index:Bottle$";
  return `urn:pulumi:mocktest::bot-bottle::${parent}${type}::${name}`;
}

/** Run the real program for `config` under mocks; every resource it registered, in order. */
export async function record(config: unknown): Promise<Res[]> {
  const { resources } = await runProgram(await program(), config, POLICY_TEST_TOKENS);
  return resources.map((r) => ({ type: r.type, name: r.name, urn: urnOf(r.type, r.name), inputs: unwrapSecrets(r.inputs) as Record<string, unknown> }));
}

/** A deep copy of `resources` with `change` applied to the inputs of the resource named `name` (which must exist). */
export function mutate(resources: readonly Res[], name: string, change: (inputs: Record<string, unknown>) => void): Res[] {
  if (!resources.some((r) => r.name === name)) throw new Error(`no resource named ${name}`);
  return resources.map((r) => {
    const copy = { ...r, inputs: structuredClone(r.inputs) };
    if (r.name === name) change(copy.inputs);
    return copy;
  });
}

/** `resources` plus one more. */
export function adding(resources: readonly Res[], extra: Omit<Res, "urn">): Res[] {
  return [...resources.map((r) => ({ ...r, inputs: structuredClone(r.inputs) })), { ...extra, urn: urnOf(extra.type, extra.name) }];
}

function levelOf(name: string, fallback: EnforcementLevel | undefined, config: PackConfig): EnforcementLevel {
  const entry = config[name];
  const configured = typeof entry === "string" ? entry : entry?.enforcementLevel;
  return configured ?? fallback ?? "mandatory";
}

function propertiesOf(name: string, config: PackConfig): Record<string, unknown> {
  const entry = config[name];
  if (entry === undefined || typeof entry === "string") return {};
  const { enforcementLevel: _level, ...properties } = entry;
  return properties;
}

class NotApplicable extends Error {}

const isResourcePolicy = (p: object): p is ResourceValidationPolicy => "validateResource" in p;
const isStackPolicy = (p: object): p is StackValidationPolicy => "validateStack" in p;

/**
 * Every violation the pack reports on `resources` with `config`, as the analyzer would: each
 * resource policy on each resource (inputs), then each stack policy on all of them (under mocks a
 * resource's outputs are its inputs).
 */
export async function runPack(resources: readonly Res[], config: PackConfig = {}): Promise<Violation[]> {
  const out: Violation[] = [];
  for (const p of policies) {
    let level = levelOf(p.name, p.enforcementLevel, config);
    if (level === "disabled") continue;
    if (level === "remediate") level = "mandatory";
    const getConfig = <T extends object>() => propertiesOf(p.name, config) as T;
    const notApplicable = (reason?: string): never => {
      throw new NotApplicable(reason);
    };
    const guarded = async (resource: string | undefined, run: (report: (message: string, urn?: string) => void) => unknown) => {
      const report = (message: string, urn?: string) => {
        out.push({ policy: p.name, level, message, resource: urn !== undefined ? resources.find((r) => r.urn === urn)?.name ?? urn : resource });
      };
      try {
        await Promise.resolve(run(report));
      } catch (e) {
        if (e instanceof sdk.UnknownValueError) {
          out.push({ policy: p.name, level: "advisory", message: `can't run policy '${p.name}' from policy pack '${PACK_NAME}' during preview: ${e.message}`, resource });
        } else if (!(e instanceof NotApplicable)) throw e;
      }
    };
    if (isResourcePolicy(p) && p.validateResource !== undefined) {
      const validations = Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource];
      for (const r of resources) {
        for (const validate of validations) {
          const args: ResourceValidationArgs = {
            type: r.type,
            props: sdk.unknownCheckingProxy(structuredClone(r.inputs)),
            urn: r.urn,
            name: r.name,
            opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
            stackTags: new Map(),
            isType: () => false,
            asType: () => undefined,
            getConfig,
            notApplicable,
          };
          await guarded(r.name, (report) => validate(args, report));
        }
      }
    }
    if (isStackPolicy(p)) {
      const stackResources = resources.map((r): PolicyResource => ({
        type: r.type,
        props: sdk.unknownCheckingProxy(structuredClone(r.inputs)),
        urn: r.urn,
        name: r.name,
        opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
        dependencies: [],
        propertyDependencies: {},
        isType: () => false,
        asType: () => undefined,
      }));
      const args: StackValidationArgs = { resources: stackResources, stackTags: new Map(), getConfig, notApplicable };
      await guarded(undefined, (report) => p.validateStack(args, report));
    }
  }
  return out;
}

/** The violations of one policy. */
export function of(violations: readonly Violation[], policy: string): Violation[] {
  return violations.filter((v) => v.policy === policy);
}

/** A named resource's inputs. */
export function inputsOf(resources: readonly Res[], name: string): Record<string, unknown> {
  const r = resources.find((x) => x.name === name);
  if (!r) throw new Error(`no resource named ${name}`);
  return r.inputs;
}

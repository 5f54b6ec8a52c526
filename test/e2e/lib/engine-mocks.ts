/**
 * Pulumi mocks that apply what the program declares to the local Docker engine, the way the
 * Docker and tls providers would, and keep state between applies like the engine does:
 *
 *   unchanged inputs      → nothing happens (same id)
 *   changed inputs        → Image: rebuilt in place; everything else: replaced (the providers force
 *                           a new resource on almost every input), deleting first when the program
 *                           asked for deleteBeforeReplace, creating first otherwise
 *   gone from the program → deleted at `finishApply`, newest first
 *   destroy               → everything deleted, newest first
 *
 * Secret inputs arrive wrapped; they are unwrapped for the engine and remembered so that every
 * error this file raises is redacted. Nothing here prints an input value.
 */
import * as pulumi from "@pulumi/pulumi";
import { applyImage } from "./apply-image";
import { createContainer, deleteContainer } from "./apply-container";
import { createNetwork, deleteNetwork, type Applied } from "./apply-network";
import { createPrivateKey, createSelfSignedCert } from "./apply-tls";
import { StrictInputs } from "./strict-inputs";

export const TYPES = {
  network: "docker:index/network:Network",
  image: "docker:index/image:Image",
  container: "docker:index/container:Container",
  privateKey: "tls:index/privateKey:PrivateKey",
  selfSignedCert: "tls:index/selfSignedCert:SelfSignedCert",
} as const;

export type Action = "create" | "same" | "update" | "replace" | "delete";

export interface LiveResource {
  readonly key: string;
  readonly type: string;
  readonly name: string;
  id: string;
  inputs: Record<string, unknown>;
  digest: string;
  state: Record<string, unknown>;
}

export interface ResourceOptionsSeen {
  deleteBeforeReplace: boolean;
}

function keyOf(type: string, name: string): string {
  return `${type}::${name}`;
}

/** Unwrap Pulumi's secret envelopes, collecting the secret strings. */
function unwrap(value: unknown, secrets: Set<string>, inSecret = false): unknown {
  if (pulumi.runtime.isRpcSecret(value)) return unwrap(pulumi.runtime.unwrapRpcSecret(value), secrets, true);
  if (Array.isArray(value)) return value.map((v) => unwrap(v, secrets, inSecret));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, unwrap(v, secrets, inSecret)]));
  }
  if (inSecret && typeof value === "string" && value.length >= 8) secrets.add(value);
  return value;
}

/** Stable JSON: object keys sorted, so that equal inputs compare equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export class EngineMocks implements pulumi.runtime.Mocks {
  private readonly live = new Map<string, LiveResource>();
  /** Keys in creation order; teardown walks it backwards. */
  private order: string[] = [];
  private seen = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly secrets = new Set<string>();
  /** Options the program gave each resource (recorded by run-program's stack transformation). */
  readonly options = new Map<string, ResourceOptionsSeen>();
  /** What each apply did, in order: tests assert on it. */
  readonly journal: { action: Action; type: string; name: string; id: string }[] = [];
  /** Errors raised while applying (Pulumi may swallow a rejected registration). */
  readonly failures: Error[] = [];

  /** Replace every secret value seen so far by `[secret]`. */
  redact = (text: string): string => {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join("[secret]");
    return out;
  };

  recordOptions(type: string, name: string, opts: ResourceOptionsSeen): void {
    this.options.set(keyOf(type, name), opts);
  }

  /** The live resource of a type and name, if applied. */
  get(type: string, name: string): LiveResource | undefined {
    return this.live.get(keyOf(type, name));
  }

  /** Every live resource, oldest first. */
  resources(): LiveResource[] {
    return this.order.map((k) => this.live.get(k)).filter((r): r is LiveResource => r !== undefined);
  }

  beginApply(): void {
    this.seen = new Set();
    this.failures.length = 0;
  }

  call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
    throw new Error(`e2e applier: the program invoked ${args.token}, which this applier does not implement`);
  }

  newResource(args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult> {
    // components (the stack, Bottle) have no engine side
    if (!args.custom) return Promise.resolve({ id: undefined, state: {} });
    const run = this.queue.then(() => this.apply(args));
    this.queue = run.catch(() => undefined);
    return run.catch((e: unknown) => {
      const err = new Error(this.redact(e instanceof Error ? e.message : String(e)));
      this.failures.push(err);
      throw err;
    });
  }

  private async apply(args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult> {
    const key = keyOf(args.type, args.name);
    if (this.seen.has(key)) throw new Error(`${key}: declared twice in one apply`);
    this.seen.add(key);
    const inputs = unwrap(args.inputs, this.secrets) as Record<string, unknown>;
    const digest = canonical(inputs);
    const prior = this.live.get(key);
    if (prior && prior.digest === digest) {
      this.journal.push({ action: "same", type: args.type, name: args.name, id: prior.id });
      return { id: prior.id, state: prior.state };
    }
    if (prior && args.type === TYPES.image) {
      const applied = await this.create(args.type, args.name, inputs);
      Object.assign(prior, { id: applied.id, inputs, digest, state: applied.state });
      this.journal.push({ action: "update", type: args.type, name: args.name, id: applied.id });
      return { id: applied.id, state: applied.state };
    }
    const deleteFirst = this.options.get(key)?.deleteBeforeReplace ?? false;
    if (prior && deleteFirst) await this.remove(prior);
    const applied = await this.create(args.type, args.name, inputs);
    if (prior && !deleteFirst) await this.remove(prior);
    this.live.set(key, { key, type: args.type, name: args.name, id: applied.id, inputs, digest, state: applied.state });
    this.order = [...this.order.filter((k) => k !== key), key];
    this.journal.push({ action: prior ? "replace" : "create", type: args.type, name: args.name, id: applied.id });
    return { id: applied.id, state: applied.state };
  }

  private async create(type: string, name: string, inputs: Record<string, unknown>): Promise<Applied> {
    const strict = new StrictInputs(`${type} ${name}`, inputs);
    switch (type) {
      case TYPES.network:
        return createNetwork(strict);
      case TYPES.image:
        return applyImage(strict);
      case TYPES.container:
        return createContainer(strict, inputs, this.redact);
      case TYPES.privateKey:
        return createPrivateKey(strict);
      case TYPES.selfSignedCert:
        return createSelfSignedCert(strict);
      default:
        throw new Error(`e2e applier: resource type ${type} (${name}) is not supported; add it to test/e2e/lib/engine-mocks.ts`);
    }
  }

  private async remove(r: LiveResource): Promise<void> {
    switch (r.type) {
      case TYPES.container:
        await deleteContainer(r.id);
        break;
      case TYPES.network:
        await deleteNetwork(r.id);
        break;
      // the Docker provider does not delete image tags on destroy; keys and certs live only in state
      default:
        break;
    }
    this.live.delete(r.key);
    this.order = this.order.filter((k) => k !== r.key);
    this.journal.push({ action: "delete", type: r.type, name: r.name, id: r.id });
  }

  /** After a program run: delete what it no longer declares, newest first. */
  async finishApply(): Promise<void> {
    await this.queue;
    for (const key of [...this.order].reverse()) {
      const r = this.live.get(key);
      if (r && !this.seen.has(key)) await this.remove(r);
    }
  }

  /** Delete everything, newest first; keeps going past errors and throws them together. */
  async destroy(): Promise<void> {
    await this.queue;
    const errors: string[] = [];
    for (const key of [...this.order].reverse()) {
      const r = this.live.get(key);
      if (!r) continue;
      try {
        await this.remove(r);
      } catch (e) {
        errors.push(this.redact(e instanceof Error ? e.message : String(e)));
      }
    }
    if (errors.length) throw new Error(`teardown: ${errors.join("; ")}`);
  }
}

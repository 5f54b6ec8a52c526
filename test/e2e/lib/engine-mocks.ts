/**
 * Pulumi mocks that apply what the program declares to the local Docker engine, the way the
 * Docker and tls providers would, and keep state between applies like the engine does. After a
 * container or network is created it is read back from the engine as the provider's Read does
 * (provider-readback.ts); a later apply diffs the inputs against that read-back state, and the
 * fields Read does not set against the previous inputs:
 *
 *   no change              → nothing happens (same id)
 *   no ForceNew change     → updated in place (same id; a container gets the provider's engine
 *                            update); Image: rebuilt in place
 *   a ForceNew change      → replaced, deleting first when the program asked for
 *                            deleteBeforeReplace, creating first otherwise
 *   gone from the program  → deleted at `finishApply`, newest first
 *   destroy                → everything deleted, newest first
 *
 * Each journal entry of an update or a replace names the changed fields, never their values.
 *
 * Secret inputs arrive wrapped; they are unwrapped for the engine and remembered so that every
 * error this file raises is redacted. Nothing here prints an input value.
 */
import * as pulumi from "@pulumi/pulumi";
import { applyImage } from "./apply-image";
import { createContainer, deleteContainer, updateContainer } from "./apply-container";
import { createNetwork, deleteNetwork, type Applied } from "./apply-network";
import { createPrivateKey, createSelfSignedCert } from "./apply-tls";
import { api } from "./engine-api";
import { diffAgainstRead, diffUnread, readContainer, readNetwork, type FieldChange, type ReadState } from "./provider-readback";
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
  state: Record<string, unknown>;
  /** What the provider's Read stored (containers, networks): what the next diff sees. */
  read: ReadState;
}

export interface JournalEntry {
  action: Action;
  type: string;
  name: string;
  id: string;
  /** For an update or a replace: the changed fields (names only). */
  fields?: string[];
}

export interface ResourceOptionsSeen {
  deleteBeforeReplace: boolean;
}

function keyOf(type: string, name: string): string {
  return `${type}::${name}`;
}

/** Unwrap Pulumi's secret envelopes, collecting the secret strings. */
export function unwrap(value: unknown, secrets: Set<string>, inSecret = false): unknown {
  if (pulumi.runtime.isRpcSecret(value)) return unwrap(pulumi.runtime.unwrapRpcSecret(value), secrets, true);
  if (Array.isArray(value)) return value.map((v) => unwrap(v, secrets, inSecret));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, unwrap(v, secrets, inSecret)]));
  }
  if (inSecret && typeof value === "string" && value.length >= 8) secrets.add(value);
  return value;
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
  readonly journal: JournalEntry[] = [];
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
    const prior = this.live.get(key);
    const changes = prior ? this.changes(prior, inputs) : [];
    const fields = [...new Set(changes.map((c) => c.field))];
    const entry = (action: Action, id: string): JournalEntry => ({ action, type: args.type, name: args.name, id, ...(fields.length > 0 ? { fields } : {}) });
    if (prior && changes.length === 0) {
      this.journal.push(entry("same", prior.id));
      return { id: prior.id, state: prior.state };
    }
    if (prior && args.type === TYPES.image) {
      const applied = await this.create(args.type, args.name, inputs);
      Object.assign(prior, { id: applied.id, inputs, state: applied.state });
      this.journal.push(entry("update", applied.id));
      return { id: applied.id, state: applied.state };
    }
    if (prior && changes.every((c) => c.kind === "update")) {
      await this.update(prior, inputs, changes);
      this.journal.push(entry("update", prior.id));
      return { id: prior.id, state: prior.state };
    }
    const deleteFirst = this.options.get(key)?.deleteBeforeReplace ?? false;
    if (prior && deleteFirst) await this.remove(prior);
    const applied = await this.create(args.type, args.name, inputs);
    if (prior && !deleteFirst) await this.remove(prior);
    const read = await this.readBack(args.type, applied.id, inputs);
    const state = { ...applied.state, ...read };
    this.live.set(key, { key, type: args.type, name: args.name, id: applied.id, inputs, state, read });
    this.order = [...this.order.filter((k) => k !== key), key];
    this.journal.push(entry(prior ? "replace" : "create", applied.id));
    return { id: applied.id, state };
  }

  /** What the provider would plan: read-back fields against the read state, the rest against the previous inputs. */
  private changes(prior: LiveResource, inputs: Record<string, unknown>): FieldChange[] {
    return [...diffUnread(prior.type, prior.inputs, inputs, prior.read), ...diffAgainstRead(prior.type, inputs, prior.read)];
  }

  /** The provider's Read, which its Create ends with. */
  private async readBack(type: string, id: string, inputs: Record<string, unknown>): Promise<ReadState> {
    if (type === TYPES.container) return readContainer((await api("GET", `/containers/${id}/json`)).body as Record<string, unknown>, inputs);
    if (type === TYPES.network) return readNetwork((await api("GET", `/networks/${id}`)).body as Record<string, unknown>);
    return {};
  }

  /**
   * An in-place update. The SDK then stores the planned state, not a new Read: a changed field
   * holds what was declared, or leaves the read state when no longer declared (later diffs then
   * compare it with the inputs).
   */
  private async update(prior: LiveResource, inputs: Record<string, unknown>, changes: readonly FieldChange[]): Promise<void> {
    const top = [...new Set(changes.map((c) => c.field.split(".")[0] ?? c.field))];
    if (prior.type === TYPES.container) await updateContainer(prior.id, inputs, top);
    const undeclared = new Set(top.filter((f) => inputs[f] === undefined));
    const read: ReadState = Object.fromEntries(Object.entries(prior.read).filter(([f]) => !undeclared.has(f)));
    for (const f of top) if (!undeclared.has(f)) read[f] = inputs[f];
    Object.assign(prior, { inputs, read, state: { ...prior.state, ...inputs, ...read } });
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

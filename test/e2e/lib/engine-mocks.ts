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
import type * as pulumi from "@pulumi/pulumi";
import { applyImage } from "./apply-image";
import { createContainer, deleteContainer, updateContainer } from "./apply-container";
import { createNetwork, deleteNetwork, type Applied } from "./apply-network";
import { createVolume, deleteVolume, readVolume } from "./apply-volume";
import { createPrivateKey, createSelfSignedCert } from "./apply-tls";
import { api } from "./engine-api";
import { diffAgainstRead, diffUnread, readContainer, readNetwork, type FieldChange, type ReadState } from "./provider-readback";
import { QueuedApplier, keyOf, unwrap, type Action, type JournalEntry } from "./queued-applier";
import { StrictInputs } from "./strict-inputs";

export type { Action, JournalEntry };

export const TYPES = {
  network: "docker:index/network:Network",
  image: "docker:index/image:Image",
  container: "docker:index/container:Container",
  volume: "docker:index/volume:Volume",
  privateKey: "tls:index/privateKey:PrivateKey",
  selfSignedCert: "tls:index/selfSignedCert:SelfSignedCert",
} as const;

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

export class EngineMocks extends QueuedApplier<LiveResource> {
  /** The live resource of a type and name, if applied. */
  get(type: string, name: string): LiveResource | undefined {
    return this.live.get(keyOf(type, name));
  }

  /** Every live resource, oldest first. */
  resources(): LiveResource[] {
    return this.order.map((k) => this.live.get(k)).filter((r): r is LiveResource => r !== undefined);
  }

  protected async apply(args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult> {
    const key = keyOf(args.type, args.name);
    this.declare(key);
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
    this.keep({ key, type: args.type, name: args.name, id: applied.id, inputs, state, read });
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
    if (type === TYPES.volume) return readVolume((await api("GET", `/volumes/${encodeURIComponent(id)}`)).body as Record<string, unknown>);
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
      case TYPES.volume:
        return createVolume(strict);
      case TYPES.privateKey:
        return createPrivateKey(strict);
      case TYPES.selfSignedCert:
        return createSelfSignedCert(strict);
      default:
        throw new Error(`e2e applier: resource type ${type} (${name}) is not supported; add it to test/e2e/lib/engine-mocks.ts`);
    }
  }

  protected async removeFromTarget(r: LiveResource): Promise<void> {
    switch (r.type) {
      case TYPES.container:
        await deleteContainer(r.id);
        break;
      case TYPES.network:
        await deleteNetwork(r.id);
        break;
      case TYPES.volume:
        await deleteVolume(r.id);
        break;
      // the Docker provider does not delete image tags on destroy; keys and certs live only in state
      default:
        break;
    }
  }
}

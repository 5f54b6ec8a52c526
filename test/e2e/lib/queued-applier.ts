/**
 * What the e2e appliers under Pulumi mocks share (EngineMocks for Docker, KubeMocks for a
 * cluster): registrations applied one at a time in declaration order, the live resources in
 * creation order, what each apply did (the journal), secret values remembered so that every
 * error is redacted, and deletion of what a later apply no longer declares, newest first.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ApplierMocks } from "./run-program";

export type Action = "create" | "same" | "update" | "replace" | "delete";

export interface JournalEntry {
  action: Action;
  type: string;
  name: string;
  id: string;
  /** For an update or a replace: the changed fields (names only). */
  fields?: string[];
  /** A delete of a resource declared with `retainOnDelete`: gone from state, left on the engine or cluster. */
  retained?: true;
}

/** The resource options an applier acts on, as the program gave them. */
export interface ResourceOptionsSeen {
  deleteBeforeReplace: boolean;
  retainOnDelete: boolean;
}

/** What the base needs of a live resource. */
export interface LiveEntry {
  readonly key: string;
  readonly type: string;
  readonly name: string;
  id: string;
}

export function keyOf(type: string, name: string): string {
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

export abstract class QueuedApplier<L extends LiveEntry> implements ApplierMocks {
  protected readonly live = new Map<string, L>();
  /** Keys in creation order; teardown walks it backwards. */
  protected order: string[] = [];
  protected seen = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();
  protected readonly secrets = new Set<string>();
  /** What each apply did, in order: tests assert on it. */
  readonly journal: JournalEntry[] = [];
  /** Errors raised while applying (Pulumi may swallow a rejected registration). */
  readonly failures: Error[] = [];

  /** Apply one registration (called one at a time, in order). */
  protected abstract apply(args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult>;
  /** Delete one resource from the engine or cluster (the base forgets it after). */
  protected abstract removeFromTarget(r: L): Promise<void>;
  /** Options the program gave each resource (recorded by run-program's stack transformation). */
  readonly options = new Map<string, ResourceOptionsSeen>();

  recordOptions(type: string, name: string, opts: ResourceOptionsSeen): void {
    this.options.set(keyOf(type, name), opts);
  }

  /** Replace every secret value seen so far by `[secret]`. */
  redact = (text: string): string => {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join("[secret]");
    return out;
  };

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

  /** Mark `key` declared in this apply; a second declaration is a program bug. */
  protected declare(key: string): void {
    if (this.seen.has(key)) throw new Error(`${key}: declared twice in one apply`);
    this.seen.add(key);
  }

  /** Record `entry` as live, newest. */
  protected keep(entry: L): void {
    this.live.set(entry.key, entry);
    this.order = [...this.order.filter((k) => k !== entry.key), entry.key];
  }

  /** Delete `r`, or with `retainOnDelete` only forget it, as the engine does (on destroy and on replacement). */
  protected async remove(r: L): Promise<void> {
    const retained = this.options.get(r.key)?.retainOnDelete === true;
    if (!retained) await this.removeFromTarget(r);
    this.live.delete(r.key);
    this.order = this.order.filter((k) => k !== r.key);
    this.journal.push({ action: "delete", type: r.type, name: r.name, id: r.id, ...(retained ? { retained: true as const } : {}) });
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

/**
 * Pulumi mocks that apply what the program declares to the local cluster, the way the
 * kubernetes, tls and docker providers would:
 *
 *   kubernetes:*   `kubectl apply --server-side` of the manifest (the inputs, as the SDK sends
 *                  them); an object declared without a name gets `<resource>-<8 hex>`, as the
 *                  provider names it; a Deployment counts as created once rolled out (the
 *                  provider's await); the applied object is the resource's state (a Service's
 *                  clusterIP among it)
 *   docker Image   built as by the Docker suite's applier, then imported into the cluster's
 *                  image store (what a single-node cluster needs for imagePullPolicy: Never)
 *   tls:*          as by the Docker suite's applier
 *
 * A later apply with the same inputs changes nothing; other inputs update a named object in
 * place and replace one the provider named (a new name, then the old one deleted), as the
 * provider does for ConfigMaps and Secrets. Destroy deletes newest first. Secret inputs are
 * unwrapped for the cluster and redacted from every error; nothing here prints a value.
 */
import { randomBytes } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import { applyImage } from "./apply-image";
import { createPrivateKey, createSelfSignedCert } from "./apply-tls";
import { TYPES } from "./engine-mocks";
import { importImages, kubectl } from "./kube-cli";
import { QueuedApplier, keyOf, unwrap, type Action, type JournalEntry } from "./queued-applier";
import { StrictInputs } from "./strict-inputs";

const PROVIDER = "pulumi:providers:kubernetes";
/** How long a Deployment may take to roll out; the provider waits up to 10 minutes. */
const ROLLOUT_TIMEOUT_S = 180;

interface Live {
  readonly key: string;
  readonly type: string;
  readonly name: string;
  id: string;
  inputs: string;
  state: Record<string, unknown>;
  /** kind/name and namespace, for objects in the cluster. */
  object?: { kind: string; name: string; namespace?: string };
}

type Manifest = Record<string, unknown> & { kind: string; metadata: { name?: string; namespace?: string } };

export class KubeMocks extends QueuedApplier<Live> {
  protected async apply(args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult> {
    const key = keyOf(args.type, args.name);
    this.declare(key);
    const inputs = unwrap(args.inputs, this.secrets) as Record<string, unknown>;
    const text = JSON.stringify(inputs);
    const prior = this.live.get(key);
    const entry = (action: Action, id: string): JournalEntry => ({ action, type: args.type, name: args.name, id });
    if (prior && prior.inputs === text) {
      this.journal.push(entry("same", prior.id));
      return { id: prior.id, state: prior.state };
    }
    const autoNamed = args.type.startsWith("kubernetes:") && (inputs.metadata as { name?: string } | undefined)?.name === undefined;
    const applied = await this.create(args.type, args.name, inputs, autoNamed ? prior?.object?.name : undefined, prior !== undefined && autoNamed);
    if (prior && autoNamed) await this.remove(prior);
    this.keep({ key, type: args.type, name: args.name, inputs: text, ...applied });
    this.journal.push(entry(prior ? (autoNamed ? "replace" : "update") : "create", applied.id));
    return { id: applied.id, state: applied.state };
  }

  private async create(type: string, name: string, inputs: Record<string, unknown>, priorName: string | undefined, rename: boolean): Promise<Pick<Live, "id" | "state" | "object">> {
    if (type === PROVIDER) return { id: `${name}-provider`, state: inputs };
    if (type === TYPES.image) {
      const built = await applyImage(new StrictInputs(`${type} ${name}`, inputs));
      await importImages(String(built.state.imageName));
      return built;
    }
    if (type === TYPES.privateKey) return createPrivateKey(new StrictInputs(`${type} ${name}`, inputs));
    if (type === TYPES.selfSignedCert) return createSelfSignedCert(new StrictInputs(`${type} ${name}`, inputs));
    if (!type.startsWith("kubernetes:")) throw new Error(`kubernetes e2e applier: resource type ${type} (${name}) is not supported; add it to test/e2e/lib/kube-mocks.ts`);
    const manifest = inputs as Manifest;
    if (typeof manifest.kind !== "string" || typeof manifest.apiVersion !== "string") throw new Error(`${type} ${name}: no apiVersion or kind in the inputs`);
    const objectName = manifest.metadata.name ?? (rename || priorName === undefined ? `${name}-${randomBytes(4).toString("hex")}` : priorName);
    const body = { ...manifest, metadata: { ...manifest.metadata, name: objectName } };
    const ns = manifest.metadata.namespace;
    const r = await kubectl(["apply", "--server-side", "--field-manager", "bot-bottle-e2e", "-o", "json", "-f", "-"], { input: JSON.stringify(body), timeoutMs: 60_000 });
    const state = JSON.parse(r.stdout) as Record<string, unknown>;
    if (manifest.kind === "Deployment") {
      await kubectl(["rollout", "status", `deployment/${objectName}`, "-n", String(ns), `--timeout=${ROLLOUT_TIMEOUT_S}s`], { timeoutMs: (ROLLOUT_TIMEOUT_S + 10) * 1000 })
        .catch(async (e: unknown) => {
          throw new Error(`${e instanceof Error ? e.message : String(e)}\n${await podTrouble(String(ns), objectName)}`);
        });
    }
    return { id: `${ns ? `${ns}/` : ""}${objectName}`, state, object: { kind: manifest.kind, name: objectName, ...(ns ? { namespace: ns } : {}) } };
  }

  protected async removeFromTarget(r: Live): Promise<void> {
    if (!r.object) return;
    const { kind, name, namespace } = r.object;
    await kubectl(["delete", kind, name, ...(namespace ? ["-n", namespace] : []), "--ignore-not-found", "--wait=true", "--timeout=120s"], { timeoutMs: 130_000 });
  }
}

/** Why a Deployment's Pods are not ready: their phase, container states and the namespace's recent events. */
async function podTrouble(namespace: string, deployment: string): Promise<string> {
  const pods = await kubectl(["get", "pods", "-n", namespace, "-o", "wide"], { allowFailure: true });
  const events = await kubectl(["get", "events", "-n", namespace, "--sort-by=.lastTimestamp"], { allowFailure: true });
  return `pods of ${deployment}'s namespace:\n${pods.stdout}${pods.stderr}\nevents:\n${events.stdout.split("\n").slice(-15).join("\n")}`;
}

/**
 * Pulumi mocks that record every registered resource with its inputs, secrets kept wrapped,
 * plus helpers to unwrap Outputs and to find values that escaped a secret.
 * Call `installMocks` before importing anything that declares resources.
 */
import * as pulumi from "@pulumi/pulumi";

export interface Recorded {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  /** When the engine was asked to create it, and when the creation answered (one counter). */
  readonly askedAt: number;
  answeredAt?: number;
}

let clock = 0;
/** NetworkPolicies answer late, so that a resource that waits for them shows it in `askedAt`. */
const SLOW_TYPES = new Set(["kubernetes:networking.k8s.io/v1:NetworkPolicy"]);

export const FAKE_CA_KEY = "-----BEGIN EC PRIVATE KEY-----\nFAKE-CA-KEY-do-not-leak\n-----END EC PRIVATE KEY-----\n";
export const FAKE_CA_KEY_PKCS8 = "-----BEGIN PRIVATE KEY-----\nFAKE-CA-KEY-PKCS8-do-not-leak\n-----END PRIVATE KEY-----\n";
/** A stand-in for the tls provider's certificate: base64 of "FAKE-CA-CERT", so that forms derived from it (the Java trust store) can be made. */
export const FAKE_CA_CERT = "-----BEGIN CERTIFICATE-----\nRkFLRS1DQS1DRVJU\n-----END CERTIFICATE-----\n";
export const FAKE_IMAGE_ID = "sha256:fake-egress-proxy-image";
/** An agent image whose one-shot containers exit 1 under these mocks (no `chown` in it). */
export const NO_CHOWN_IMAGE_MARK = "no-chown";

/** Every resource registered since `installMocks`, in order. */
export const recorded: Recorded[] = [];

/** A Service's cluster address in the mocks: one per Service, recognisable. */
export function fakeClusterIp(resourceName: string): string {
  let h = 0;
  for (const ch of resourceName) h = (h * 31 + ch.charCodeAt(0)) & 0xffff;
  return `10.96.${h >> 8}.${h & 0xff}`;
}

/** What the Kubernetes provider adds: names for objects declared without one, Services' addresses. */
function kubernetesState(name: string, type: string, state: Record<string, unknown>): void {
  const metadata = (state.metadata ?? {}) as Record<string, unknown>;
  if (type !== "pulumi:providers:kubernetes" && metadata.name === undefined) state.metadata = { ...metadata, name: `${name}-5f2a9c1e` };
  if (type === "kubernetes:core/v1:Service") state.spec = { ...(state.spec as Record<string, unknown>), clusterIP: fakeClusterIp(name) };
}

/** Install the recording mocks (idempotent per process: later calls reuse the first). */
export async function installMocks(): Promise<void> {
  await pulumi.runtime.setMocks(
    {
      async newResource(args) {
        const entry: Recorded = { type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown>, askedAt: ++clock };
        recorded.push(entry);
        if (SLOW_TYPES.has(args.type)) await new Promise((resolve) => setTimeout(resolve, 20));
        entry.answeredAt = ++clock;
        const state: Record<string, unknown> = { ...args.inputs };
        if (args.type === "tls:index/privateKey:PrivateKey") {
          state.privateKeyPem = FAKE_CA_KEY;
          state.privateKeyPemPkcs8 = FAKE_CA_KEY_PKCS8;
        }
        if (args.type === "tls:index/selfSignedCert:SelfSignedCert") state.certPem = FAKE_CA_CERT;
        if (args.type === "docker:index/image:Image") state.repoDigest = FAKE_IMAGE_ID;
        // a container run to its end (attach) reports its exit code; an image without chown fails it
        if (args.type === "docker:index/container:Container" && args.inputs.attach === true) {
          state.exitCode = String(args.inputs.image).includes(NO_CHOWN_IMAGE_MARK) ? 1 : 0;
        }
        if (args.type.startsWith("kubernetes:")) kubernetesState(args.name, args.type, state);
        return { id: `${args.name}-id`, state };
      },
      call: (args) => args.inputs,
    },
    "bot-bottle",
    "mocktest",
    false,
  );
}

/**
 * The value of an Output, as a promise. Uses the Output's own promise (an SDK internal), which
 * rejects when the Output fails, where a resolve() inside apply() would hang.
 */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return (output as unknown as { promise(): Promise<T> }).promise();
}

/** Whether an Output is a secret. */
export function isSecret(output: pulumi.Output<unknown>): Promise<boolean> {
  return (output as unknown as { isSecret: Promise<boolean> }).isSecret;
}

function isSecretWrapper(v: unknown): v is { value: unknown } {
  return typeof v === "object" && v !== null && (v as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig;
}

/** Paths in `value` where `needle` appears in a string outside any secret wrapper. */
export function plainOccurrences(value: unknown, needle: string, path = ""): string[] {
  if (isSecretWrapper(value)) return [];
  if (typeof value === "string") return value.includes(needle) ? [path || "(root)"] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => plainOccurrences(v, needle, `${path}[${i}]`));
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => plainOccurrences(v, needle, path ? `${path}.${k}` : k));
  }
  return [];
}

/** Whether any part of `value` is a secret: then Pulumi shows the whole input as `[secret]`. */
export function containsSecret(value: unknown): boolean {
  if (isSecretWrapper(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecret);
  if (typeof value === "object" && value !== null) return Object.values(value).some(containsSecret);
  return false;
}

/** Whether `needle` appears anywhere in `value`, secret or not. */
export function anyOccurrences(value: unknown, needle: string): boolean {
  return JSON.stringify(value).includes(needle);
}

/** `value` with secret wrappers replaced by their contents. */
export function unwrapSecrets(value: unknown): unknown {
  if (isSecretWrapper(value)) return unwrapSecrets(value.value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

type Components = typeof import("../../components");
export type Defined = ReturnType<Components["defineBottles"]>;

/**
 * Run the program `c` (loaded after installMocks) for `config` with `tokens`, and wait until
 * every resource it declared is registered; returns them in order.
 */
export async function runProgram(c: Components, config: unknown, tokens: Readonly<Record<string, string>>): Promise<{ defined: Defined; resources: Recorded[] }> {
  const before = recorded.length;
  const defined = c.defineBottles(config, c.tokensFromRecord(tokens), { proxyContext: "/nonexistent/proxy" });
  const all = Object.values(defined.bottles).flatMap((b) => [b.urn, ...b.resources.map((r) => r.id)]);
  await valueOf(pulumi.all([...(defined.proxyImage ? [defined.proxyImage.id] : []), ...all]));
  return { defined, resources: recorded.slice(before) };
}

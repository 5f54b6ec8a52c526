/**
 * Reading a resource's properties as the policy engine hands them over: plain JSON with secrets
 * already unwrapped (the engine sends secret values to analyzers; @pulumi/policy unwraps them),
 * behind a proxy that throws `UnknownValueError` when a value is unknown during `pulumi preview`.
 *
 * Each field is read on its own and checked with zod, so that a policy touches only the fields it
 * needs: an unknown `envs` (the proxy's secret env waits for the CA key, created at `up`) stops
 * only the policy that reads it, and @pulumi/policy reports that as "can't run policy ... during
 * preview" (advisory) instead of the policy passing. At `pulumi up` every input is known, and the
 * policy runs in full before the resource is created.
 */
import { z } from "zod";

/** Resource properties as a policy receives them. */
export type Props = Readonly<Record<string, unknown>>;

export const TYPES = {
  container: "docker:index/container:Container",
  network: "docker:index/network:Network",
  selfSignedCert: "tls:index/selfSignedCert:SelfSignedCert",
} as const;

/** A property that is present but not of the shape the pack understands: the policy fails closed. */
export class MalformedProperty extends Error {
  constructor(readonly property: string, readonly problem: string) {
    super(`cannot read \`${property}\` (${problem})`);
    this.name = "MalformedProperty";
  }
}

const strings = z.array(z.string());
const label = z.object({ label: z.string(), value: z.string() });

/** The docker Container inputs (and outputs) the policies read, in @pulumi/docker 5.x names. */
const containerFields = {
  name: z.string(),
  labels: z.array(label),
  image: z.string(),
  user: z.string(),
  command: strings,
  entrypoints: strings,
  envs: strings,
  privileged: z.boolean(),
  publishAllPorts: z.boolean(),
  ports: z.array(z.object({ internal: z.number().optional(), external: z.number().optional(), ip: z.string().optional() })),
  networkMode: z.string(),
  pidMode: z.string(),
  ipcMode: z.string(),
  usernsMode: z.string(),
  cgroupnsMode: z.string(),
  networksAdvanced: z.array(z.object({ name: z.string(), aliases: strings.nullish() })),
  capabilities: z.object({ adds: strings.nullish(), drops: strings.nullish() }),
  securityOpts: strings,
  dns: strings,
  volumes: z.array(z.object({
    hostPath: z.string().nullish(), containerPath: z.string().nullish(), fromContainer: z.string().nullish(), volumeName: z.string().nullish(),
  })),
  mounts: z.array(z.object({ type: z.string(), source: z.string().nullish(), target: z.string(), readOnly: z.boolean().nullish() })),
  workingDir: z.string(),
  mustRun: z.boolean(),
  devices: z.array(z.object({ hostPath: z.string(), containerPath: z.string().nullish() })),
  deviceCgroupRules: strings,
  /** Only `file`: an upload's content may be unknown during preview (the CA certificate). */
  uploads: z.array(z.object({ file: z.string() })),
} as const;

const networkFields = {
  name: z.string(),
  labels: z.array(label),
  internal: z.boolean(),
} as const;

const certFields = {
  validityPeriodHours: z.number(),
  isCaCertificate: z.boolean(),
} as const;

type Fields = Readonly<Record<string, z.ZodType>>;

function reader<F extends Fields>(fields: F) {
  /** The field, checked; undefined when absent or null. Throws UnknownValueError (preview) or MalformedProperty. */
  return <K extends keyof F & string>(props: Props, key: K): z.output<F[K]> | undefined => {
    // read through the engine's proxy: an unknown value throws here, and so do unknowns nested in it
    const value = props[key];
    if (value === undefined || value === null) return undefined;
    const schema: z.ZodType = fields[key] as F[K];
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new MalformedProperty(key, parsed.error.issues.map((i) => `${i.path.join(".") || "value"}: ${i.message}`).join("; "));
    return parsed.data as z.output<F[K]>;
  };
}

export const containerField = reader(containerFields);
export const networkField = reader(networkFields);
export const certField = reader(certFields);

/** The content of the upload to `file`, reading no other upload's content (those may be unknown in preview). */
export function uploadContent(props: Props, file: string): { found: false } | { found: true; content: string | undefined } {
  const uploads = containerField(props, "uploads") ?? [];
  const index = uploads.findIndex((u) => u.file === file);
  if (index === -1) return { found: false };
  const raw = props.uploads;
  if (!Array.isArray(raw)) return { found: false };
  const entry = z.object({ content: z.string().nullish(), contentBase64: z.string().nullish() }).safeParse(raw[index]);
  if (!entry.success) throw new MalformedProperty(`uploads[${index}]`, "content is not text");
  const { content, contentBase64 } = entry.data;
  if (content != null) return { found: true, content };
  if (contentBase64 != null) return { found: true, content: Buffer.from(contentBase64, "base64").toString("utf8") };
  return { found: true, content: undefined };
}

/** `NAME=value` entries: every value given for each name (Docker passes repeats on, and readers disagree on which wins). */
export function envValues(envs: readonly string[]): ReadonlyMap<string, readonly string[]> {
  const out = new Map<string, string[]>();
  for (const e of envs) {
    const eq = e.indexOf("=");
    const name = eq === -1 ? e : e.slice(0, eq);
    out.set(name, [...(out.get(name) ?? []), eq === -1 ? "" : e.slice(eq + 1)]);
  }
  return out;
}

/** Labels as a record. */
export function labelMap(labels: readonly { label: string; value: string }[] | undefined): Readonly<Record<string, string>> {
  return Object.fromEntries((labels ?? []).map((l) => [l.label, l.value]));
}

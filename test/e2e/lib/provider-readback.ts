/**
 * What the Docker provider keeps in state after it creates a container or a network, and how the
 * next `pulumi up` diffs the program's inputs against it. Pure: it takes `docker inspect` JSON.
 *
 * The provider's Create ends by calling Read, which stores what `docker inspect` reports, not
 * what the program declared: `cpus: "2"` is stored as "2.0", an undeclared `memorySwap` as
 * Docker's default of twice `memory`. The next diff follows terraform-plugin-sdk v2
 * (helper/schema/schema.go: `diffString`, `diffList`, `diffSet`, `diffMap`, `finalizeDiff`, and
 * the DiffSuppressFunc step of `schemaMap.diff`), with the flags in provider-schema.ts:
 *
 *   1. declared (or absent with a Default: the Default is declared) → compared with the state
 *   2. absent, Computed → no change
 *   3. absent, the state holds the zero value → no change
 *   4. absent otherwise → a "removed" change, unless a DiffSuppressFunc takes a new "" as the old
 *      value (user, working_dir: so an image's USER or WORKDIR read back is no change)
 *   5. declared "" on a Computed field whose state is not "" → no change (finalizeDiff)
 *   6. a change to a ForceNew field (or inside a ForceNew block) replaces; any other is an update
 *
 * Fields Read does not set keep what was declared, so they are diffed with the previous inputs
 * (`diffUnread`). A change names its field; values are shown only for SHOWN_FIELDS.
 */
import { CONTAINER_SCHEMA, NETWORK_SCHEMA, SHOWN_FIELDS, VOLUME_SCHEMA, type Field, type ResourceSchema, type Scalar } from "./provider-schema";

export type ChangeKind = "replace" | "update";

export interface FieldChange {
  readonly field: string;
  readonly kind: ChangeKind;
  /** Only for SHOWN_FIELDS; `(absent)` when the program does not declare it. */
  readonly declared?: string;
  readonly read?: string;
}

/** Provider state keyed by Pulumi input name; a field Read did not set is absent. */
export type ReadState = Record<string, unknown>;
type Json = Record<string, unknown>;

const SCHEMAS: Readonly<Record<string, ResourceSchema>> = {
  "docker:index/container:Container": CONTAINER_SCHEMA,
  "docker:index/network:Network": NETWORK_SCHEMA,
  "docker:index/volume:Volume": VOLUME_SCHEMA,
};

/** Stable JSON: object keys sorted, undefined dropped, so that equal values compare equal. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Json).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Go's time.Duration.String(), as Read writes healthcheck durations (`1m30s`, `500ms`, `0s`). */
export function goDuration(ns: number): string {
  if (ns === 0) return "0s";
  const sign = ns < 0 ? "-" : "";
  let n = Math.abs(ns);
  const frac = (v: number, unit: number): string => {
    const whole = Math.floor(v / unit);
    const rest = v - whole * unit;
    return rest === 0 ? String(whole) : `${whole}.${String(rest).padStart(String(unit).length - 1, "0").replace(/0+$/, "")}`;
  };
  if (n < 1e3) return `${sign}${n}ns`;
  if (n < 1e6) return `${sign}${frac(n, 1e3)}\u00b5s`;
  if (n < 1e9) return `${sign}${frac(n, 1e6)}ms`;
  const h = Math.floor(n / 3600e9);
  n -= h * 3600e9;
  const m = Math.floor(n / 60e9);
  const s = frac(n - m * 60e9, 1e9);
  return sign + (h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`);
}

/**
 * helpers.go `nanoInt64ToDecimalString`: nine decimals, then one decimal when the text holds
 * exactly nine zeros (2e9 → "2.0", 5e8 → "0.5"), else trailing zeros trimmed (1.5e9 → "1.5",
 * and 10e9 → "10.", its quirk).
 */
export function nanoCpusString(nano: number): string {
  if (nano === 0) return "0";
  const whole = Math.trunc(nano / 1e9);
  const text = `${whole}.${String(nano - whole * 1e9).padStart(9, "0")}`;
  if ((text.match(/0/g) ?? []).length === 9) {
    const tenths = Math.floor((nano + 5e7) / 1e8); // big.Rat.FloatString(1): halves away from zero
    return `${Math.floor(tenths / 10)}.${tenths % 10}`;
  }
  return text.replace(/0+$/, "");
}

const list = (v: unknown): string[] => (Array.isArray(v) ? v.map((x) => str(x)) : []);
const map = (v: unknown): Record<string, string> =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Json).map(([k, x]) => [k, str(x)])) : {};
const obj = (v: unknown): Json => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {});
const mb = (bytes: number): number => Math.trunc(bytes / 1024 / 1024);

/** A value as the SDK compares it (mapstructure.WeakDecode to a string). */
function str(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return "";
}

const ZERO: Record<Scalar, string> = { string: "", int: "0", bool: "false" };

/**
 * resource_docker_container_funcs.go `resourceDockerContainerRead` on an inspect JSON, keyed by
 * Pulumi input name. `declared` (the inputs at create time) decides the fields Read sets only
 * when configured (ulimits, logOpts, pidMode) and whether `image` is read as the image id.
 */
export function readContainer(inspect: Json, declared: Json): ReadState {
  const c = obj(inspect.Config);
  const h = obj(inspect.HostConfig);
  const num = (v: unknown): number => (typeof v === "number" ? v : 0);
  const state: ReadState = {
    name: str(inspect.Name).replace(/^\/+/, ""),
    image: str(declared.image).startsWith("sha256:") ? str(inspect.Image) : str(c.Image),
    hostname: str(c.Hostname),
    domainname: str(c.Domainname),
    command: list(c.Cmd),
    entrypoints: list(c.Entrypoint),
    user: str(c.User),
    dns: list(h.Dns),
    dnsOpts: list(h.DnsOptions),
    securityOpts: list(h.SecurityOpt),
    dnsSearches: list(h.DnsSearch),
    publishAllPorts: h.PublishAllPorts === true,
    restart: str(obj(h.RestartPolicy).Name),
    maxRetryCount: num(obj(h.RestartPolicy).MaximumRetryCount),
    init: h.Init === true,
    workingDir: str(c.WorkingDir),
    runtime: str(h.Runtime),
    platform: str(inspect.Platform),
    tmpfs: map(h.Tmpfs),
    hosts: list(h.ExtraHosts).map((e) => ({ host: e.split(":")[0] ?? "", ip: e.split(":")[1] ?? "" })),
    privileged: h.Privileged === true,
    memory: mb(num(h.Memory)),
    memoryReservation: num(h.MemoryReservation) > 0 ? mb(num(h.MemoryReservation)) : num(h.MemoryReservation),
    memorySwap: num(h.MemorySwap) > 0 ? mb(num(h.MemorySwap)) : num(h.MemorySwap),
    shmSize: mb(num(h.ShmSize)),
    cpuShares: num(h.CpuShares),
    cpuSet: str(h.CpusetCpus),
    logDriver: str(obj(h.LogConfig).Type),
    storageOpts: map(h.StorageOpt),
    networkMode: str(h.NetworkMode),
    usernsMode: str(h.UsernsMode),
    sysctls: map(h.Sysctls),
    ipcMode: str(h.IpcMode),
    groupAdds: list(h.GroupAdd),
    tty: c.Tty === true,
    stdinOpen: c.OpenStdin === true,
    stopSignal: str(c.StopSignal),
    stopTimeout: num(c.StopTimeout),
    rm: h.AutoRemove === true,
    readOnly: h.ReadonlyRootfs === true,
    mounts: (Array.isArray(h.Mounts) ? h.Mounts : []).map((raw) => readMount(obj(raw))),
  };
  // set only in these cases; otherwise the state keeps the declared value
  if (list(h.CapAdd).length > 0 || list(h.CapDrop).length > 0) state.capabilities = { adds: list(h.CapAdd), drops: list(h.CapDrop) };
  if (num(h.NanoCpus) > 0) state.cpus = nanoCpusString(num(h.NanoCpus));
  // d.GetOk: a configured, non-empty value
  if (Array.isArray(declared.ulimits) && declared.ulimits.length > 0) {
    state.ulimits = (Array.isArray(h.Ulimits) ? h.Ulimits : []).map((u) => ({ name: str(obj(u).Name), soft: num(obj(u).Soft), hard: num(obj(u).Hard) }));
  }
  if (Object.keys(map(declared.logOpts)).length > 0) state.logOpts = map(obj(h.LogConfig).Config);
  if (str(declared.pidMode) !== "") state.pidMode = str(h.PidMode);
  const hc = c.Healthcheck;
  if (hc !== null && typeof hc === "object") {
    const x = obj(hc);
    state.healthcheck = {
      tests: list(x.Test),
      interval: goDuration(num(x.Interval)),
      timeout: goDuration(num(x.Timeout)),
      startPeriod: goDuration(num(x.StartPeriod)),
      startInterval: goDuration(num(x.StartInterval)),
      retries: num(x.Retries),
    };
  }
  return state;
}

/** resource_docker_container_structures.go `getDockerContainerMounts`: one HostConfig.Mounts entry; options only when the engine has them. */
function readMount(m: Json): Json {
  const out: Json = { target: str(m.Target), source: str(m.Source), type: str(m.Type), readOnly: m.ReadOnly === true };
  if (m.BindOptions !== undefined && m.BindOptions !== null) out.bindOptions = [{ propagation: str(obj(m.BindOptions).Propagation) }];
  if (m.VolumeOptions !== undefined && m.VolumeOptions !== null) {
    const v = obj(m.VolumeOptions);
    const opt: Json = { noCopy: v.NoCopy === true, labels: Object.entries(map(v.Labels)).map(([label, volume]) => ({ label, volume })) };
    if (v.DriverConfig !== undefined && v.DriverConfig !== null) Object.assign(opt, { driverName: str(obj(v.DriverConfig).Name), driverOptions: map(obj(v.DriverConfig).Options) });
    if (str(v.Subpath) !== "") opt.subpath = str(v.Subpath);
    out.volumeOptions = [opt];
  }
  if (m.TmpfsOptions !== undefined && m.TmpfsOptions !== null) out.tmpfsOptions = [{ sizeBytes: obj(m.TmpfsOptions).SizeBytes, mode: obj(m.TmpfsOptions).Mode }];
  return out;
}

/** resource_docker_network_funcs.go `resourceDockerNetworkReadRefreshFunc` on an inspect JSON. */
export function readNetwork(inspect: Json): ReadState {
  const ipam = obj(inspect.IPAM);
  return {
    name: str(inspect.Name),
    labels: Object.entries(map(inspect.Labels)).map(([label, value]) => ({ label, value })),
    driver: str(inspect.Driver),
    internal: inspect.Internal === true,
    attachable: inspect.Attachable === true,
    ingress: inspect.Ingress === true,
    ipv6: inspect.EnableIPv6 === true,
    ipamDriver: str(ipam.Driver),
    ipamOptions: map(ipam.Options),
    options: map(inspect.Options),
    // resource_docker_network_structures.go flattenIpamConfigSpec: empty strings left out
    ipamConfigs: (Array.isArray(ipam.Config) ? ipam.Config : []).map((raw) => {
      const c = obj(raw);
      const aux = map(c.AuxAddress);
      const out: Json = {};
      if (str(c.Subnet)) out.subnet = str(c.Subnet);
      if (str(c.IPRange)) out.ipRange = str(c.IPRange);
      if (str(c.Gateway)) out.gateway = str(c.Gateway);
      if (Object.keys(aux).length > 0) out.auxAddress = aux;
      return out;
    }),
  };
}

/** One element of a block set, nested defaults applied and sets sorted, as a comparable string. */
function element(fields: Readonly<Record<string, Field>>, v: unknown): string {
  const o = obj(v);
  return canonical(Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, normal(f, o[k])])));
}

function normal(f: Field, v: unknown): unknown {
  switch (f.type) {
    case "list":
      return list(v);
    case "set":
      return list(v).sort();
    case "map":
      return map(v);
    case "block":
    case "blocks":
      return (Array.isArray(v) ? v : v === undefined ? [] : [v]).map((e) => (f.fields ? element(f.fields, e) : canonical(e))).sort();
    default:
      return v === undefined ? (f.default === undefined ? ZERO[f.type] : str(f.default)) : str(v);
  }
}

function isEmpty(f: Field, v: unknown): boolean {
  const n = normal(f, v);
  return Array.isArray(n) ? n.length === 0 : typeof n === "object" && n !== null ? Object.keys(n).length === 0 : n === ZERO[f.type as Scalar];
}

function change(field: string, kind: ChangeKind, declared: unknown, read: unknown): FieldChange {
  if (!SHOWN_FIELDS.has(field)) return { field, kind };
  return { field, kind, declared: declared === undefined ? "(absent)" : str(declared), read: read === undefined ? "(absent)" : str(read) };
}

function diffField(path: string, f: Field, declared: unknown, read: unknown, parentFn: boolean): FieldChange[] {
  const kind: ChangeKind = parentFn || f.fn ? "replace" : "update";
  const n = declared ?? f.default;
  if (n === undefined) {
    // rules 2-4
    if (f.computed || isEmpty(f, read) || f.emptyIsOld) return [];
    return [change(path, kind, undefined, read)];
  }
  if (f.type === "block" && f.fields && read !== undefined) {
    const d = obj(n);
    const r = obj(read);
    return Object.entries(f.fields).flatMap(([k, sub]) => diffField(`${path}.${k}`, sub, d[k], r[k], parentFn || f.fn === true));
  }
  const [ns, os] = [canonical(normal(f, n)), canonical(normal(f, read))];
  if (ns === os) return [];
  if (f.type === "string" && str(n) === "" && (f.emptyIsOld || (f.computed && str(read) !== ""))) return []; // rules 4, 5
  return [change(path, kind, n, read)];
}

/** The changes the provider would plan between the inputs and the read-back state (fields Read set only). */
export function diffAgainstRead(type: string, inputs: Json, state: ReadState): FieldChange[] {
  const schema = SCHEMAS[type];
  if (!schema) return [];
  return Object.entries(schema.read).flatMap(([field, f]) => (state[field] === undefined ? [] : diffField(field, f, inputs[field], state[field], false)));
}

/** The changes in fields Read did not set, against the previous inputs; an unknown field replaces. */
export function diffUnread(type: string, previous: Json, inputs: Json, state: ReadState): FieldChange[] {
  const schema = SCHEMAS[type];
  const fields = [...new Set([...Object.keys(previous), ...Object.keys(inputs)])].sort();
  return fields.flatMap((field) => {
    const f = schema?.read[field] ?? schema?.unread[field];
    if (state[field] !== undefined && schema?.read[field]) return [];
    // with a known schema: defaults applied, sets unordered; absent and Computed is no change
    const comparable = (v: unknown): string => canonical(f ? normal(f, v) : v);
    if (comparable(previous[field]) === comparable(inputs[field])) return [];
    if (f?.computed && inputs[field] === undefined) return [];
    const kind: ChangeKind = f && !f.fn ? "update" : "replace";
    return [change(field, kind, inputs[field], previous[field])];
  });
}

/** `field (kind[: declared X, read Y])`, one per change: safe to print (values only for SHOWN_FIELDS). */
export function describeChanges(changes: readonly FieldChange[]): string {
  return changes.map((c) => `${c.field} (${c.kind}${c.declared !== undefined ? `: declared ${c.declared}, read ${c.read}` : ""})`).join(", ");
}

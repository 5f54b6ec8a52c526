/**
 * `docker:index/container:Container` on the local engine, in the Docker provider's order
 * (resource_docker_container_funcs.go, Create): create in network mode `bridge` (its Default),
 * leave `bridge` and connect each of `networksAdvanced` with its aliases, upload files with their
 * exact modes, start, then check that it keeps running (`mustRun`). Never pulls an image.
 */
import { api } from "./engine-api";
import { readLabels, type Applied } from "./apply-network";
import type { StrictInputs } from "./strict-inputs";
import { tarFiles, type TarFile } from "./tar";
import { pollUntil } from "../../helpers/deadline";
import { docker } from "./docker-cli";

const MB = 1024 * 1024;

/** A Go duration as Docker's healthcheck takes it (`10s`, `500ms`, `1m30s`), in nanoseconds. */
export function durationNs(text: string, where: string): number {
  const units: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  if (!/^(?:\d+(?:\.\d+)?(?:ns|us|ms|s|m|h))+$/.test(text)) throw new Error(`${where}: \`${text}\` is not a duration this applier reads`);
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)/g)) total += Number(m[1]) * (units[m[2] ?? ""] ?? NaN);
  return Math.round(total);
}

function readHealthcheck(inputs: StrictInputs): Record<string, unknown> | undefined {
  const h = inputs.optObject("healthcheck");
  if (!h) return undefined;
  const ns = (f: string) => {
    const v = h.optString(f);
    return v === undefined ? undefined : durationNs(v, `${h.where}.${f}`);
  };
  const hc = { Test: h.optStrings("tests"), Interval: ns("interval"), Timeout: ns("timeout"), Retries: h.optNumber("retries"), StartPeriod: ns("startPeriod") };
  h.done();
  return hc;
}

function readUploads(inputs: StrictInputs): TarFile[] {
  return (inputs.optObjects("uploads") ?? []).map((u) => {
    const file = u.string("file");
    // the provider takes exactly one of `content` and `contentBase64` (binary files)
    const text = u.optString("content");
    const base64 = u.optString("contentBase64");
    const permissions = u.optString("permissions");
    u.done();
    if ((text === undefined) === (base64 === undefined)) throw new Error(`${u.where}: needs exactly one of content and contentBase64`);
    const content = text !== undefined ? Buffer.from(text, "utf8") : Buffer.from(base64 ?? "", "base64");
    if (permissions !== undefined && !/^0?[0-7]{3,4}$/.test(permissions)) throw new Error(`${u.where}: permissions must be octal`);
    // the provider's default mode for an upload is 0644, owned by root
    return { name: file, content, mode: permissions === undefined ? 0o644 : parseInt(permissions, 8) };
  });
}

function readNetworks(inputs: StrictInputs): { name: string; aliases: string[] }[] {
  return (inputs.optObjects("networksAdvanced") ?? []).map((n) => {
    const v = { name: n.string("name"), aliases: n.optStrings("aliases") ?? [] };
    n.done();
    return v;
  });
}

interface MountInput {
  Type: "volume" | "bind";
  Source: string;
  Target: string;
  ReadOnly: boolean;
  VolumeOptions?: { NoCopy: boolean };
}

/**
 * `mounts` as the provider sends them (resource_docker_container_funcs.go): type, source, target,
 * read-only. Any `volumeOptions` fails there on an engine before API 1.45: the provider reads
 * its `subpath` key, present in every options block, and refuses it on older engines (as the
 * real provider did here against Debian 12's 20.10, API 1.41).
 */
function readMounts(inputs: StrictInputs, engineApi: string): MountInput[] {
  return (inputs.optObjects("mounts") ?? []).map((m) => {
    const type = m.string("type");
    if (type !== "volume" && type !== "bind") throw new Error(`${m.where}: mount type ${type} is not one this applier supports`);
    const v: MountInput = { Type: type, Source: m.string("source"), Target: m.string("target"), ReadOnly: m.optBool("readOnly") ?? false };
    const options = m.optObject("volumeOptions");
    if (options) {
      if (apiBelow(engineApi, "1.45")) throw new Error(`${m.where}: Setting VolumeOptions.Subpath requires docker version 1.45 or higher (this engine speaks API ${engineApi}), as the provider says`);
      if (type !== "volume") throw new Error(`${m.where}: volumeOptions on a ${type} mount`);
      v.VolumeOptions = { NoCopy: options.optBool("noCopy") ?? false };
      options.done();
    }
    m.done();
    return v;
  });
}

/** `1.41` < `1.45`, compared as numbers per part. */
function apiBelow(version: string, than: string): boolean {
  const [a = 0, b = 0] = version.split(".").map(Number);
  const [c = 0, d = 0] = than.split(".").map(Number);
  return a < c || (a === c && b < d);
}

let engineApiVersion: Promise<string> | undefined;
/** The engine's API version, asked once. */
function engineApi(): Promise<string> {
  engineApiVersion ??= api("GET", "/version").then((r) => String((r.body as { ApiVersion?: string }).ApiVersion ?? "0"));
  return engineApiVersion;
}

/** Create, upload, connect and start one container; returns its real id and provider-like state. */
export async function createContainer(inputs: StrictInputs, raw: Record<string, unknown>, redact: (text: string) => string): Promise<Applied> {
  const name = inputs.string("name");
  const image = inputs.string("image");
  const command = inputs.optStrings("command");
  const user = inputs.optString("user");
  const env = inputs.optStrings("envs") ?? [];
  const uploads = readUploads(inputs);
  const networks = readNetworks(inputs);
  const labels = readLabels(inputs);
  const caps = inputs.optObject("capabilities");
  const capDrop = caps?.optStrings("drops") ?? [];
  const capAdd = caps?.optStrings("adds") ?? [];
  caps?.done();
  const mounts = readMounts(inputs, await engineApi());
  const workingDir = inputs.optString("workingDir");
  const networkMode = inputs.optString("networkMode") ?? "bridge";
  // the provider waits for an attached container to stop (ContainerWait, not-running) and keeps its exit code
  const attach = inputs.optBool("attach") ?? false;
  const securityOpts = inputs.optStrings("securityOpts") ?? [];
  const memoryMb = inputs.optNumber("memory");
  const memorySwapMb = inputs.optNumber("memorySwap");
  const cpus = inputs.optString("cpus");
  const ulimits = (inputs.optObjects("ulimits") ?? []).map((u) => {
    const v = { Name: u.string("name"), Soft: u.optNumber("soft"), Hard: u.optNumber("hard") };
    u.done();
    return v;
  });
  const healthcheck = readHealthcheck(inputs);
  const restart = inputs.optString("restart") ?? "no";
  const dns = inputs.optStrings("dns");
  const mustRun = inputs.optBool("mustRun") ?? true;
  inputs.done();

  // no published ports, no privileged mode: nothing here can ask for them
  if (networkMode !== "bridge" && networkMode !== "none") throw new Error(`${inputs.where}: networkMode ${networkMode} is not one this applier supports`);
  if (networkMode === "none" && networks.length > 0) throw new Error(`${inputs.where}: networkMode none with networksAdvanced`);
  if (networkMode === "bridge" && networks.length === 0) throw new Error(`${inputs.where}: no networksAdvanced; a bottle container must name its networks`);
  const imageFound = await api("GET", `/images/${encodeURIComponent(image)}/json`, undefined, { accept: [404] });
  if (imageFound.status === 404) throw new Error(`${inputs.where}: image ${image} is not present locally, and this suite never pulls`);

  const body = {
    Image: image,
    ...(command ? { Cmd: command } : {}),
    ...(user !== undefined ? { User: user } : {}),
    ...(workingDir !== undefined ? { WorkingDir: workingDir } : {}),
    Env: env,
    Labels: labels,
    ...(healthcheck ? { Healthcheck: healthcheck } : {}),
    HostConfig: {
      CapDrop: capDrop,
      ...(capAdd.length > 0 ? { CapAdd: capAdd } : {}),
      ...(mounts.length > 0 ? { Mounts: mounts } : {}),
      SecurityOpt: securityOpts,
      // the provider sends memory and swap only when non-zero (d.GetOk); a positive swap is in MB
      ...(memoryMb ? { Memory: memoryMb * MB } : {}),
      ...(memorySwapMb ? { MemorySwap: memorySwapMb > 0 ? memorySwapMb * MB : memorySwapMb } : {}),
      ...(cpus !== undefined ? { NanoCpus: Math.round(Number(cpus) * 1e9) } : {}),
      Ulimits: ulimits,
      RestartPolicy: { Name: restart },
      ...(dns ? { Dns: dns } : {}),
      NetworkMode: networkMode,
      Init: false,
    },
  };
  const created = await api("POST", `/containers/create?name=${encodeURIComponent(name)}`, body);
  const id = (created.body as { Id: string }).Id;
  try {
    // not started yet: the container never runs on the default bridge
    if (networkMode === "bridge") await api("POST", "/networks/bridge/disconnect", { Container: id, Force: false });
    for (const n of networks) {
      await api("POST", `/networks/${encodeURIComponent(n.name)}/connect`, { Container: id, EndpointConfig: { Aliases: n.aliases } });
    }
    for (const file of uploads) {
      // one archive per file, extracted at /, as the provider does
      await api("PUT", `/containers/${id}/archive?path=/`, undefined, { raw: tarFiles([file]) });
    }
    await api("POST", `/containers/${id}/start`);
    if (attach) await waitStopped(id, inputs.where);
    if (mustRun) await expectRunning(id, inputs.where, redact);
  } catch (e) {
    await deleteContainer(id);
    throw e;
  }
  const info = (await api("GET", `/containers/${id}/json`)).body as {
    NetworkSettings: { Networks: Record<string, { IPAddress: string; Gateway: string }> };
    State: { Running: boolean; ExitCode: number };
  };
  const networkDatas = Object.entries(info.NetworkSettings.Networks).map(([networkName, n]) => ({ networkName, ipAddress: n.IPAddress, gateway: n.Gateway }));
  // Read sets exit_code for a container that is not running
  return { id, state: { ...raw, name, networkDatas, ...(info.State.Running ? {} : { exitCode: info.State.ExitCode }) } };
}

/** The fields whose change makes the provider's Update call the engine. */
const UPDATED_IN_PLACE: readonly string[] = ["restart", "maxRetryCount", "cpuShares", "memory", "memoryReservation", "cpuSet", "memorySwap"];

/**
 * The provider's in-place Update (resource_docker_container_funcs.go): one engine update with the
 * restart policy and the resource limits, swap only when non-zero. Other fields it leaves alone.
 */
export async function updateContainer(id: string, inputs: Record<string, unknown>, changed: readonly string[]): Promise<void> {
  if (!changed.some((f) => UPDATED_IN_PLACE.includes(f))) return;
  const n = (field: string): number => (typeof inputs[field] === "number" ? (inputs[field] as number) : 0);
  const swap = n("memorySwap");
  await api("POST", `/containers/${id}/update`, {
    RestartPolicy: { Name: typeof inputs.restart === "string" ? inputs.restart : "no", MaximumRetryCount: n("maxRetryCount") },
    CpuShares: n("cpuShares"),
    Memory: n("memory") * MB,
    MemoryReservation: n("memoryReservation") * MB,
    CpusetCpus: typeof inputs.cpuSet === "string" ? inputs.cpuSet : "",
    ...(swap ? { MemorySwap: swap > 0 ? swap * MB : swap } : {}),
  });
}

/** An attached container, waited for until it stops (the provider's create timeout bounds it; here 120 s). */
async function waitStopped(id: string, where: string): Promise<void> {
  await pollUntil(`${where} to run to its end`, async () => {
    const s = ((await api("GET", `/containers/${id}/json`)).body as { State: { Running: boolean } }).State;
    return s.Running ? undefined : true;
  }, 120_000);
}

/** The provider re-reads a `mustRun` container until it runs (15 s); one that exited fails. */
async function expectRunning(id: string, where: string, redact: (text: string) => string): Promise<void> {
  const state = await pollUntil(`${where} running`, async () => {
    const s = ((await api("GET", `/containers/${id}/json`)).body as { State: { Running: boolean; Status: string; ExitCode: number } }).State;
    return s.Running || s.Status === "exited" || s.Status === "dead" ? s : undefined;
  }, 15_000);
  if (state.Running) return;
  const logs = await docker(["logs", "--tail", "20", id], { allowFailure: true, timeoutMs: 10_000 });
  throw new Error(`${where}: exited with code ${state.ExitCode} right after start; its last output:\n${redact(logs.stdout + logs.stderr)}`);
}

export async function deleteContainer(id: string): Promise<void> {
  // the provider's defaults: stop, then remove with its anonymous volumes
  await api("DELETE", `/containers/${id}?force=1&v=1`, undefined, { accept: [404], timeoutMs: 60_000 });
}

/**
 * `docker:index/volume:Volume` on the local engine, as the Docker provider creates, reads and
 * deletes it (kreuzwerker/terraform-provider-docker at 5074970c,
 * internal/provider/resource_docker_volume.go): create with name, labels, driver and options;
 * Read stores name, labels, driver, driver_opts (and the mountpoint, an output); Delete retries
 * for 30 s while a container still uses the volume.
 */
import { api } from "./engine-api";
import { readLabels, type Applied } from "./apply-network";
import type { StrictInputs } from "./strict-inputs";
import type { ReadState } from "./provider-readback";
import { pollUntil } from "../../helpers/deadline";

export async function createVolume(inputs: StrictInputs): Promise<Applied> {
  const name = inputs.string("name");
  const driver = inputs.optString("driver") ?? "local";
  const labels = readLabels(inputs);
  const driverOpts = inputs.optStringMap("driverOpts") ?? {};
  inputs.done();
  // the engine answers an existing name with that volume (what lets a retained workspace be found again)
  const created = (await api("POST", "/volumes/create", { Name: name, Driver: driver, Labels: labels, DriverOpts: driverOpts })).body as { Name: string; Mountpoint: string };
  return { id: created.Name, state: { name, driver, labels: Object.entries(labels).map(([label, value]) => ({ label, value })), driverOpts, mountpoint: created.Mountpoint } };
}

/** resourceDockerVolumeRead on an inspect JSON, keyed by Pulumi input name. */
export function readVolume(inspect: Record<string, unknown>): ReadState {
  const labels = (inspect.Labels ?? {}) as Record<string, string>;
  return {
    name: String(inspect.Name ?? ""),
    labels: Object.entries(labels).map(([label, value]) => ({ label, value })),
    driver: String(inspect.Driver ?? ""),
    driverOpts: (inspect.Options ?? {}) as Record<string, string>,
  };
}

export async function deleteVolume(name: string): Promise<void> {
  // the provider's Delete: retried while the volume is in use (409), for at most 30 s
  await pollUntil(`volume ${name} removed`, async () => {
    const r = await api("DELETE", `/volumes/${encodeURIComponent(name)}`, undefined, { accept: [404, 409] });
    return r.status === 409 ? undefined : true;
  }, 30_000);
}

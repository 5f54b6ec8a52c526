/** `docker:index/network:Network` on the local engine, as the Docker provider creates it. */
import { api } from "./engine-api";
import type { StrictInputs } from "./strict-inputs";

export interface Applied {
  id: string;
  state: Record<string, unknown>;
}

/** Labels as the provider takes them: a list of `{label, value}`. */
export function readLabels(inputs: StrictInputs): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const l of inputs.optObjects("labels") ?? []) {
    labels[l.string("label")] = l.string("value");
    l.done();
  }
  return labels;
}

export async function createNetwork(inputs: StrictInputs): Promise<Applied> {
  const name = inputs.string("name");
  inputs.expect("driver", [undefined, "bridge"]);
  const internal = inputs.optBool("internal") ?? false;
  const labels = readLabels(inputs);
  const options = inputs.optStringMap("options") ?? {};
  inputs.done();

  const created = await api("POST", "/networks/create", {
    Name: name,
    Driver: "bridge",
    Internal: internal,
    Labels: labels,
    Options: options,
    CheckDuplicate: true,
  });
  const id = (created.body as { Id: string }).Id;
  const inspected = (await api("GET", `/networks/${id}`)).body as { IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] }; Scope?: string };
  const ipamConfigs = (inspected.IPAM?.Config ?? []).map((c) => ({ subnet: c.Subnet, gateway: c.Gateway }));
  return {
    id,
    state: { name, driver: "bridge", internal, labels: Object.entries(labels).map(([label, value]) => ({ label, value })), options, ipamConfigs, scope: inspected.Scope ?? "local" },
  };
}

export async function deleteNetwork(id: string): Promise<void> {
  await api("DELETE", `/networks/${id}`, undefined, { accept: [404] });
}

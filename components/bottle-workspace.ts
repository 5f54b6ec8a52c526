/**
 * The agent's workspace on Docker, from its plan (plan-workspace.ts): the named volume (kept on
 * destroy unless `retain_on_destroy: false`), the one-shot step that gives a new volume to the
 * agent's user, and the mount and working directory the agent's container declares.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { WorkspacePlan } from "./plan-types";

export interface DockerWorkspace {
  readonly volume?: docker.Volume;
  readonly init?: docker.Container;
  /** The agent's `mounts` entry, in the form the provider reads back. */
  readonly mount: { type: "volume" | "bind"; source: pulumi.Input<string>; target: string; readOnly: boolean };
  /** The workspace path, known once the init step has handed the volume over (see below). */
  readonly workingDir: pulumi.Input<string>;
  readonly resources: readonly pulumi.CustomResource[];
}

function labelInputs(labels: Readonly<Record<string, string>>): { label: string; value: string }[] {
  return Object.entries(labels).map(([label, value]) => ({ label, value }));
}

/** The volume's resource options: `pulumi destroy` leaves it (and its data) unless the config says otherwise. */
export function workspaceVolumeOptions(plan: WorkspacePlan): { retainOnDelete: boolean } {
  return { retainOnDelete: plan.retainOnDestroy };
}

export function declareWorkspace(plan: WorkspacePlan, opts: { parent: pulumi.Resource }): DockerWorkspace {
  if (plan.source.kind === "host") {
    return { mount: { type: "bind", source: plan.source.hostPath, target: plan.path, readOnly: plan.readOnly }, workingDir: plan.path, resources: [] };
  }
  // a fixed name: a retained volume is found again by the next `pulumi up` of the same bottle
  // (the engine hands back an existing volume of that name rather than failing)
  const volume = new docker.Volume(
    plan.source.resourceName,
    { name: plan.source.name, driver: "local", labels: labelInputs(plan.source.labels) },
    { parent: opts.parent, ...workspaceVolumeOptions(plan) },
  );
  // no `volumeOptions`: the provider refuses any on engines before API 1.45; the init step's
  // marker file keeps the volume from being empty instead (constants.ts WORKSPACE_MARKER_FILE)
  const mount = { type: "volume" as const, source: volume.name, target: plan.path, readOnly: false };
  const i = plan.init;
  if (i === undefined) return { volume, mount, workingDir: plan.path, resources: [volume] };
  const init = new docker.Container(
    i.resourceName,
    {
      name: i.name,
      image: i.image,
      user: i.user,
      command: [...i.command],
      uploads: i.uploads.map((u) => ({ file: u.file, permissions: u.permissions, content: u.text })),
      // with the engine's copy: an image that ships files at the path puts them in a new volume, then the step hands it over
      mounts: [{ type: "volume", source: volume.name, target: plan.path, readOnly: false }],
      // no network namespace but its own loopback: the step reads nothing and sends nothing
      networkMode: "none",
      capabilities: { drops: [...i.capDrop], adds: [...i.capAdd] },
      securityOpts: [...i.securityOpts],
      labels: labelInputs(i.labels),
      memory: i.memoryMb,
      memorySwap: i.memorySwapMb,
      restart: "no",
      // run once to the end: the provider waits for it to exit and keeps its exit code
      mustRun: false,
      attach: true,
    },
    { parent: opts.parent, deleteBeforeReplace: true },
  );
  // the provider does not fail a step that exited non-zero; the agent's working directory
  // waits for the exit code, so a failed hand-over fails `pulumi up` before the agent starts
  const workingDir = pulumi.all([init.exitCode, init.name]).apply(([code, name]) => {
    if (code !== undefined && code !== null && code !== 0) {
      throw new Error(
        `bot-bottle: the workspace init step ${name} exited with code ${code}, so the workspace at ${plan.path} is still root's; ` +
          `see \`docker logs ${name}\`: the agent's image needs \`chown\` and must know the agent's user (agent.user); a new image replaces the step on the next \`pulumi up\``,
      );
    }
    return plan.path;
  });
  return { volume, init, mount, workingDir, resources: [volume, init] };
}

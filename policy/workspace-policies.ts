/**
 * The agent's workspace (components/plan-workspace.ts): a host directory mounted into the agent
 * only where the platform team allows it, and the one container that runs as root, the step
 * that gives a new workspace volume to the agent's user, confined to exactly that.
 *
 * The other container policies leave these two alone only in the shapes checked here:
 * `bottle-no-host-mounts` skips the agent's workspace bind mount (judged below), and
 * `bottle-non-root-user` and `bottle-drop-all-capabilities` accept a workspace init step that
 * `workspaceInitProblems` finds nothing wrong with.
 */
import { z } from "zod";
import { resourcePolicy } from "./define";
import { LABEL_BOTTLE, LABEL_ROLE, NOT_A_STACK_SETTING, describe, identifyContainer, stackField } from "./identity";
import { TYPES, containerField, labelMap, type Props } from "./resource-view";

export const WORKSPACE_INIT_ROLE = "workspace-init";

/** The bottle of a container labelled as a workspace init step, or undefined. */
export function workspaceInitBottle(props: Props): string | undefined {
  const labels = labelMap(containerField(props, "labels"));
  return labels[LABEL_ROLE] === WORKSPACE_INIT_ROLE ? labels[LABEL_BOTTLE] : undefined;
}

/**
 * What makes a workspace init step more than `chown` of its bottle's volume: each problem as
 * `<field>: <what>`. Empty for the step the component declares.
 */
export function workspaceInitProblems(props: Props, bottle: string): string[] {
  const problems: string[] = [];
  const volume = `bb-${bottle}-workspace`;
  if (containerField(props, "networkMode") !== "none") problems.push('networkMode: must be "none" (the step needs no network)');
  if ((containerField(props, "networksAdvanced") ?? []).length > 0) problems.push("networksAdvanced: must be empty");
  const caps = containerField(props, "capabilities");
  if (!(caps?.drops ?? []).some((c) => c.toUpperCase() === "ALL")) problems.push('capabilities.drops: must be ["ALL"]');
  if ((caps?.adds ?? []).some((c) => c.toUpperCase() !== "CHOWN")) problems.push('capabilities.adds: may hold "CHOWN" alone');
  if (!(containerField(props, "securityOpts") ?? []).includes("no-new-privileges:true")) problems.push('securityOpts: must hold "no-new-privileges:true"');
  const command = containerField(props, "command") ?? [];
  if (command[0] !== "chown" || command.some((a) => a === "-R" || a === "--recursive" || a.startsWith("--from") || a.startsWith("--reference"))) {
    problems.push("command: must be `chown -- <user> <path>` (not recursive)");
  }
  if ((containerField(props, "entrypoints") ?? []).length > 0) problems.push("entrypoints: must be empty");
  const mounts = containerField(props, "mounts") ?? [];
  if (mounts.length !== 1 || mounts[0]?.type !== "volume" || mounts[0]?.source !== volume) problems.push(`mounts: must be the volume ${volume} alone`);
  if ((containerField(props, "volumes") ?? []).length > 0 || (containerField(props, "devices") ?? []).length > 0) problems.push("volumes, devices: must be empty");
  if (containerField(props, "privileged") === true) problems.push("privileged: must not be set");
  if (containerField(props, "mustRun") !== false) problems.push("mustRun: must be false (a step that runs once)");
  return problems;
}

/** Whether this is a workspace init step of the confined shape (the exemption the other policies give). */
export function isConfinedWorkspaceInit(props: Props): boolean {
  const bottle = workspaceInitBottle(props);
  return bottle !== undefined && workspaceInitProblems(props, bottle).length === 0;
}

export const workspaceInitConfined = resourcePolicy({
  name: "bottle-workspace-init-confined",
  description:
    "The one-shot step that gives a new workspace volume to the agent's user runs as root, so it must do that and nothing else: " +
    "`chown` of its bottle's workspace volume, not recursive, no network, every capability dropped but CHOWN, no-new-privileges.",
  enforcementLevel: "mandatory",
  type: TYPES.container,
  check: (props, { resourceName, report }) => {
    const bottle = workspaceInitBottle(props);
    if (bottle === undefined) return;
    const problems = workspaceInitProblems(props, bottle);
    if (problems.length > 0) {
      const id = identifyContainer(props, resourceName);
      report(`${describe(id, "workspace init container")} of bottle "${bottle}" does more than hand the workspace over: ${problems.join("; ")}. Fix: ${NOT_A_STACK_SETTING}.`);
    }
  },
});

/** The agent's bind mount of its workspace: the one whose target is its working directory. */
export function workspaceBind(props: Props): { source: string; target: string; readOnly: boolean } | undefined {
  const workingDir = containerField(props, "workingDir");
  if (workingDir === undefined) return undefined;
  const m = (containerField(props, "mounts") ?? []).find((x) => x.type === "bind" && x.target === workingDir);
  return m ? { source: m.source ?? "", target: m.target, readOnly: m.readOnly === true } : undefined;
}

/** Host directories no workspace may be, whatever the pack's config says (the Docker socket, the host's system). */
const NEVER = /^\/$|^\/(bin|boot|dev|etc|lib|lib32|lib64|libx32|proc|run|sbin|sys|usr|var\/run|var\/lib\/docker|var\/lib\/containerd)(\/|$)|docker\.sock$/;

const hostPathConfig = z.strictObject({
  allowHostPathIn: z
    .array(z.string().min(1))
    .default([])
    .describe('Bottles whose agent may mount a host directory as its workspace (agent.workspace.host_path), by name; "*" allows every bottle. Empty by default.'),
  requireReadOnly: z.boolean().default(false).describe("Accept host directories only mounted read-only (agent.workspace.read_only: true)."),
});

export const workspaceHostPath = resourcePolicy({
  name: "bottle-workspace-host-path",
  description:
    "An agent's workspace is a volume of its own, not a host directory, unless the platform team allows it for the bottle: a host directory " +
    "puts the developer's files (and whatever else sits in it: keys, tokens, other checkouts) in reach of the code the agent runs.",
  enforcementLevel: "mandatory",
  type: TYPES.container,
  config: hostPathConfig,
  check: (props, { resourceName, config, report }) => {
    const id = identifyContainer(props, resourceName);
    if (id.role !== "agent") return;
    const bind = workspaceBind(props);
    if (bind === undefined) return;
    const field = stackField(id.bottle, "agent.workspace.host_path");
    if (NEVER.test(bind.source)) {
      report(`${describe(id)} mounts the host's ${bind.source} as its workspace, a system directory no bottle may have. Fix: set ${field} to a directory of its own, or drop it for a volume.`);
      return;
    }
    const allowed = id.bottle !== undefined && (config.allowHostPathIn.includes(id.bottle) || config.allowHostPathIn.includes("*"));
    if (!allowed) {
      report(
        `${describe(id)} mounts the host directory ${bind.source} as its workspace. Fix: drop ${field} to give the agent a volume of its own; ` +
          `if this bottle must work on a host directory, the platform team lists "${id.bottle ?? "<bottle>"}" in allowHostPathIn of bottle-workspace-host-path in the policy pack config.`,
      );
    } else if (config.requireReadOnly && !bind.readOnly) {
      report(`${describe(id)} mounts the host directory ${bind.source} writable, and this stack allows host directories read-only only (requireReadOnly). Fix: set ${stackField(id.bottle, "agent.workspace.read_only")} to true.`);
    }
  },
});

/**
 * Policies on every docker Container of the stack: a bottle's agent, egress proxy and pipelock,
 * and any other container a program adds beside them. The Bottle component satisfies all of
 * them by construction (components/plan-containers.ts); they exist so that a change to the
 * component, a transformation, or a stack that bypasses the component cannot loosen a bottle
 * unnoticed.
 */
import { z } from "zod";
import { resourcePolicy } from "./define";
import { NOT_A_STACK_SETTING, describe, identifyContainer, stackField, type ContainerRole, type Identity } from "./identity";
import { TYPES, containerField } from "./resource-view";
import { isConfinedWorkspaceInit, workspaceBind, workspaceInitBottle } from "./workspace-policies";

/** A `--security-opt` that turns a confinement off. */
const UNCONFINED = /^(seccomp|apparmor|systempaths)[=:]unconfined$|^label[=:]disable$/i;

export const notPrivileged = resourcePolicy({
  name: "bottle-not-privileged",
  description:
    "No container runs privileged or with a confinement turned off: `privileged` grants every capability and every host device, " +
    "which makes the agent's sandbox a host shell; unconfined seccomp/AppArmor and device cgroup rules open the same doors one by one.",
  enforcementLevel: "mandatory",
  type: TYPES.container,
  check: (props, { resourceName, report }) => {
    const id = identifyContainer(props, resourceName);
    if (containerField(props, "privileged") === true) {
      report(`${describe(id)} runs privileged (privileged: true), with every capability and host device. Fix: ${NOT_A_STACK_SETTING}.`);
    }
    for (const opt of (containerField(props, "securityOpts") ?? []).filter((o) => UNCONFINED.test(o))) {
      report(`${describe(id)} turns a confinement off (securityOpts: "${opt}"). Fix: ${NOT_A_STACK_SETTING}.`);
    }
    const rules = containerField(props, "deviceCgroupRules") ?? [];
    if (rules.length > 0) report(`${describe(id)} may use host devices (deviceCgroupRules: ${JSON.stringify(rules)}). Fix: ${NOT_A_STACK_SETTING}.`);
  },
});

/** `uid`, `uid:gid`, `name`, `name:group`: root when the user part is 0 or root. */
export function isRootUser(user: string): boolean {
  const who = user.split(":")[0]?.trim();
  return who === "0" || who === "root";
}

const nonRootConfig = z.strictObject({
  allowRootAgentIn: z
    .array(z.string().min(1))
    .default([])
    .describe('Bottles whose agent may run as root (uid 0), by name; "*" allows every bottle. Empty by default: no root agent anywhere.'),
});

function userFix(id: Identity<ContainerRole>): string {
  if (id.role === "agent") {
    return `set ${stackField(id.bottle, "agent.user")} to a non-root uid such as 10001, or omit it for the default 10001; ` +
      `if this bottle must run its agent as root, the platform team lists "${id.bottle ?? "<bottle>"}" in allowRootAgentIn of bottle-non-root-user in the policy pack config`;
  }
  if (id.role !== undefined) return `the Bottle component runs the ${id.role} as a fixed non-root uid (components/constants.ts); ${NOT_A_STACK_SETTING}`;
  return "give the container a non-root `user`";
}

export const nonRootUser = resourcePolicy({
  name: "bottle-non-root-user",
  description:
    "Every container runs as a non-root user, given explicitly: root in a container is one kernel bug or one mount away from root on the host, " +
    "and an unset user falls back to the image's USER, often root. A platform team may allow a root agent for named bottles in the pack config.",
  enforcementLevel: "mandatory",
  type: TYPES.container,
  config: nonRootConfig,
  check: (props, { resourceName, config, report }) => {
    const id = identifyContainer(props, resourceName);
    const user = containerField(props, "user");
    if (user === undefined || user.trim() === "") {
      report(`${describe(id)} sets no user, so the image's USER applies, which may be root. Fix: ${userFix(id)}.`);
      return;
    }
    if (!isRootUser(user)) return;
    // the step that gives a new workspace to the agent's user (bottle-workspace-init-confined)
    if (isConfinedWorkspaceInit(props)) return;
    const allowed = id.role === "agent" && id.bottle !== undefined && (config.allowRootAgentIn.includes(id.bottle) || config.allowRootAgentIn.includes("*"));
    if (!allowed) report(`${describe(id)} runs as root (user "${user}"). Fix: ${userFix(id)}.`);
  },
});

export const noPublishedPorts = resourcePolicy({
  name: "bottle-no-published-ports",
  description:
    "No container publishes a port on the host: a published port is forwarded by the host and bypasses the `internal` networks that seal a bottle, " +
    "in both directions (anyone who reaches the host reaches the agent or the proxy).",
  enforcementLevel: "mandatory",
  type: TYPES.container,
  check: (props, { resourceName, report }) => {
    const id = identifyContainer(props, resourceName);
    const ports = containerField(props, "ports") ?? [];
    if (ports.length > 0) {
      const list = ports.map((p) => `${p.ip ? `${p.ip}:` : ""}${p.external ?? "(any)"}->${p.internal ?? "?"}`).join(", ");
      report(`${describe(id)} publishes ports on the host (ports: ${list}). Fix: ${NOT_A_STACK_SETTING}; reach a bottle with \`docker exec\`.`);
    }
    if (containerField(props, "publishAllPorts") === true) {
      report(`${describe(id)} publishes every exposed port on the host (publishAllPorts: true). Fix: ${NOT_A_STACK_SETTING}.`);
    }
  },
});

/** `host` or `container:<other>`: the host's namespace, or another container's. */
function sharedNamespace(mode: string | undefined): boolean {
  return mode !== undefined && (mode === "host" || mode.startsWith("container:"));
}

export const noHostNamespaces = resourcePolicy({
  name: "bottle-no-host-namespaces",
  description:
    "No container joins the host's network, PID, IPC, user or cgroup namespace, or another container's network namespace: " +
    "`networkMode: host` puts the agent on every host interface, past the bottle's networks, and `container:<x>` gives it x's routes out.",
  enforcementLevel: "mandatory",
  type: TYPES.container,
  check: (props, { resourceName, report }) => {
    const id = identifyContainer(props, resourceName);
    for (const field of ["networkMode", "pidMode", "ipcMode", "usernsMode", "cgroupnsMode"] as const) {
      const mode = containerField(props, field);
      if (sharedNamespace(mode)) report(`${describe(id)} shares a namespace (${field}: "${mode ?? ""}"). Fix: ${NOT_A_STACK_SETTING}.`);
    }
  },
});

const DOCKER_SOCKET = /(^|\/)docker\.sock$|^\/(var\/)?run\/docker(\.sock)?\/?$|^\/var\/run\/?$|^\/run\/?$/;

export const noHostMounts = resourcePolicy({
  name: "bottle-no-host-mounts",
  description:
    "No container mounts a host path, the Docker socket, a host device, or another container's volumes: the Docker socket is root on the host, " +
    "and any host path is a way out of the bottle and into the developer's files and credentials. Named volumes and tmpfs stay allowed.",
  enforcementLevel: "mandatory",
  type: TYPES.container,
  check: (props, { resourceName, report }) => {
    const id = identifyContainer(props, resourceName);
    const hostPath = (path: string, where: string) => {
      const what = DOCKER_SOCKET.test(path) ? "the Docker socket (root on the host)" : "a host path";
      report(`${describe(id)} mounts ${what} (${where}: ${path}). Fix: ${NOT_A_STACK_SETTING}; give files to a bottle with \`uploads\`.`);
    };
    for (const v of containerField(props, "volumes") ?? []) {
      if (v.hostPath) hostPath(v.hostPath, "volumes[].hostPath");
      if (v.fromContainer) report(`${describe(id)} mounts the volumes of container ${v.fromContainer} (volumes[].fromContainer). Fix: ${NOT_A_STACK_SETTING}.`);
    }
    // an agent's workspace on a host directory is bottle-workspace-host-path's to judge
    const workspace = id.role === "agent" ? workspaceBind(props) : undefined;
    for (const m of containerField(props, "mounts") ?? []) {
      if (workspace !== undefined && m.type === "bind" && m.target === workspace.target) continue;
      if (m.type !== "volume" && m.type !== "tmpfs") hostPath(m.source ?? "(no source)", `mounts[] of type ${m.type}`);
    }
    for (const d of containerField(props, "devices") ?? []) {
      report(`${describe(id)} maps a host device (devices[].hostPath: ${d.hostPath}). Fix: ${NOT_A_STACK_SETTING}.`);
    }
  },
});

export const agentInternalNetworkOnly = resourcePolicy({
  name: "bottle-agent-internal-network-only",
  description:
    "The agent joins exactly one network, its bottle's internal network (bb-<bottle>-internal), so that the only thing it can reach is its egress proxy; " +
    "any other network, Docker's default bridge included, is a route out that skips the proxy's policy and pipelock.",
  enforcementLevel: "mandatory",
  type: TYPES.container,
  check: (props, { resourceName, report }) => {
    const id = identifyContainer(props, resourceName);
    if (id.role !== "agent" || id.bottle === undefined) return;
    const internal = `bb-${id.bottle}-internal`;
    const names = (containerField(props, "networksAdvanced") ?? []).map((n) => n.name);
    if (names.length !== 1 || names[0] !== internal) {
      report(
        `${describe(id)} joins ${names.length === 0 ? "no declared network (Docker then puts it on the default bridge, which leads out)" : `the networks ${JSON.stringify(names)}`}` +
          ` instead of ${internal} alone. Fix: ${NOT_A_STACK_SETTING}.`,
      );
    }
    const mode = containerField(props, "networkMode");
    // the provider's default is "bridge", which it disconnects once networksAdvanced attaches the container
    if (mode !== undefined && mode !== "bridge" && mode !== "default" && mode !== internal) {
      report(`${describe(id)} sets networkMode "${mode}"; the agent belongs on ${internal} only. Fix: ${NOT_A_STACK_SETTING}.`);
    }
  },
});

export const dropAllCapabilities = resourcePolicy({
  name: "bottle-drop-all-capabilities",
  description:
    "Every container drops ALL Linux capabilities and adds none back: the agent runs untrusted code, and the proxy and pipelock need none; " +
    "Docker's default set (NET_RAW, CHOWN, SETUID, ...) is attack surface for nothing.",
  enforcementLevel: "mandatory",
  type: TYPES.container,
  check: (props, { resourceName, report }) => {
    const id = identifyContainer(props, resourceName);
    const caps = containerField(props, "capabilities");
    const drops = caps?.drops ?? [];
    if (!drops.some((c) => c.toUpperCase() === "ALL")) {
      report(`${describe(id)} does not drop all capabilities (capabilities.drops: ${JSON.stringify(drops)}; expected ["ALL"]). Fix: ${NOT_A_STACK_SETTING}.`);
    }
    const adds = caps?.adds ?? [];
    // CAP_CHOWN alone, for the workspace init step of the confined shape (bottle-workspace-init-confined)
    if (adds.length > 0 && !isConfinedWorkspaceInit(props)) report(`${describe(id)} adds capabilities back (capabilities.adds: ${JSON.stringify(adds)}). Fix: ${NOT_A_STACK_SETTING}.`);
  },
});

const NO_NEW_PRIVILEGES = /^no-new-privileges(?:[:=](true|false))?$/i;

export const noNewPrivileges = resourcePolicy({
  name: "bottle-no-new-privileges",
  description:
    "Every container sets `no-new-privileges:true`, so that no process in it gains privileges through a setuid or file-capability binary " +
    "(sudo, su, ping in an agent image) even after capabilities are dropped.",
  enforcementLevel: "mandatory",
  type: TYPES.container,
  check: (props, { resourceName, report }) => {
    const id = identifyContainer(props, resourceName);
    const opts = containerField(props, "securityOpts") ?? [];
    const settings = opts.map((o) => NO_NEW_PRIVILEGES.exec(o.trim())).filter((m): m is RegExpExecArray => m !== null);
    const on = settings.length > 0 && settings.every((m) => (m[1] ?? "true").toLowerCase() === "true");
    if (!on) {
      report(`${describe(id)} does not set no-new-privileges (securityOpts: ${JSON.stringify(opts)}; expected "no-new-privileges:true"). Fix: ${NOT_A_STACK_SETTING}.`);
    }
  },
});

const HEX64 = "[0-9a-f]{64}";
const IMAGE_ID = new RegExp(`^sha256:${HEX64}$`);
const DIGEST = new RegExp(`@sha256:${HEX64}$`);

/** How an image reference is pinned: by content (digest or image id), by a tag other than latest, or not. */
export function imagePinning(ref: string): "digest" | "tag" | "unpinned" {
  if (IMAGE_ID.test(ref) || DIGEST.test(ref)) return "digest";
  if (ref.includes("@")) return "unpinned";
  const last = ref.slice(ref.lastIndexOf("/") + 1);
  const colon = last.lastIndexOf(":");
  return colon > 0 && colon < last.length - 1 && last.slice(colon + 1) !== "latest" ? "tag" : "unpinned";
}

function imageFix(id: Identity<ContainerRole>): string {
  switch (id.role) {
    case "agent":
      return `set ${stackField(id.bottle, "agent.image")} to a pinned image (a tag other than latest, or name@sha256:<digest>)`;
    case "pipelock":
      return `set ${stackField(id.bottle, "pipelock.image")} to a pinned pipelock image, e.g. bot-bottle/pipelock:2.3.0 or a @sha256: digest`;
    case "egress-proxy":
      return "the proxy runs the image this stack builds, by its sha256 id; a tag appears only when the build reported no id: set bot-bottle:proxyImageName to a tag other than latest";
    default:
      return "pin the container's image (a tag other than latest, or a @sha256: digest)";
  }
}

const pinnedConfig = z.strictObject({
  requireDigest: z.boolean().default(false).describe("Accept only content-addressed images (@sha256: digests or sha256: image ids), not tags."),
});

export const imagesPinned = resourcePolicy({
  name: "bottle-images-pinned",
  description:
    "Every container's image is pinned: a @sha256: digest, a sha256: image id (the egress proxy this stack builds), or a tag other than `latest`. " +
    "An unpinned image changes under a bottle without a diff, so a review of the stack no longer says what runs. `requireDigest` accepts digests only.",
  enforcementLevel: "mandatory",
  type: TYPES.container,
  config: pinnedConfig,
  check: (props, { resourceName, config, report }) => {
    const id = identifyContainer(props, resourceName);
    const image = containerField(props, "image");
    // the workspace init step runs the agent's image: the same field fixes both
    const initOf = workspaceInitBottle(props);
    const fix = initOf !== undefined ? `set ${stackField(initOf, "agent.image")} to a pinned image (the workspace init step runs the agent's image)` : imageFix(id);
    if (image === undefined || image === "") {
      report(`${describe(id)} names no image. Fix: ${fix}.`);
      return;
    }
    const pinning = imagePinning(image);
    if (pinning === "unpinned") report(`${describe(id)} runs an unpinned image ("${image}"). Fix: ${fix}.`);
    else if (pinning === "tag" && config.requireDigest) {
      report(`${describe(id)} runs an image pinned by tag only ("${image}"), and this stack requires digests (requireDigest). Fix: ${fix}, as name@sha256:<digest>.`);
    }
  },
});

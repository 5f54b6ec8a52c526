/**
 * planWorkspace: the agent's workspace from `agent.workspace` (workspace-schema.ts), for the
 * bottle's backend, checked against what only the backend and the routes can say.
 *
 *   Docker      a named volume `bb-<bottle>-workspace`, or a host directory (host_path, bind
 *               mount, read-only or not); a one-shot root step gives a new volume to the agent
 *   Kubernetes  a PersistentVolumeClaim `bb-<bottle>-workspace` in the bottle's namespace;
 *               the Pod's fsGroup gives it to the agent (kubernetes/pod-spec.ts)
 *
 * The agent's working directory is the workspace, and BOT_BOTTLE_WORKSPACE names it. With
 * `git`, the agent's first start clones the repository into the empty workspace, through the
 * proxy, as the agent's user (gitCloneCommand).
 */
import { hostMatches } from "../proxy/src/route/host";
import type { BottleConfig } from "./config-schema";
import { WORKSPACE_DEFAULT_SIZE_GB, WORKSPACE_MARKER_FILE } from "./constants";
import { formatPath } from "./config-errors";
import { labelsFor, resourceName, workspaceName } from "./naming";
import type { WorkspaceInitPlan, WorkspacePlan } from "./plan-types";
import type { Backend } from "./kubernetes/settings";
import type { WorkspaceSettings } from "./workspace-schema";

export type WorkspacePlanResult = { ok: true; plan?: WorkspacePlan } | { ok: false; errors: string[] };

/** A route as the workspace needs it: the rendered routes' host and port. */
export interface RouteHost {
  readonly host: string;
  readonly port?: number | undefined;
  readonly plain_http?: boolean | undefined;
}

const HTTPS_PORT = 443;

/** Why a route-less clone would fail, or undefined when a route of the bottle covers the URL's host and port. */
function gitRouteProblem(url: string, routes: readonly RouteHost[]): string | undefined {
  const u = new URL(url);
  const port = u.port === "" ? HTTPS_PORT : Number(u.port);
  const host = u.hostname.toLowerCase();
  if (routes.some((r) => !r.plain_http && hostMatches(r.host, host) && (r.port ?? HTTPS_PORT) === port)) return undefined;
  return `names host ${host}${port === HTTPS_PORT ? "" : ` port ${port}`}, which no route of this bottle allows, so the clone could not leave the bottle; ` +
    `add a route for it to egress_proxy.routes (with auth for a private repository), or drop workspace.git`;
}

/**
 * The init step of a new Docker volume. A volume the engine creates is owned by root (it copies
 * the image's directory only when the image has one at that path), and the agent runs as a
 * non-root user that could not write to it. Nothing else the provider offers sets a volume's
 * owner, so one short-lived container of the agent's own image runs `chown` on the volume's
 * root directory alone (not recursively: a retained workspace's files keep their owners) as
 * root, with every capability dropped but CAP_CHOWN, no-new-privileges, and no network at all.
 * The user is the agent's as `docker run --user` takes it, so names resolve in its image.
 */
function initPlan(bottle: BottleConfig, path: string): WorkspaceInitPlan {
  return {
    resourceName: resourceName(bottle.name, "workspace-init"),
    name: workspaceName(bottle.name, "workspace-init"),
    image: bottle.agent.image,
    user: "0:0",
    command: ["chown", "--", bottle.agent.user, path],
    uploads: [{ file: `${path}/${WORKSPACE_MARKER_FILE}`, text: WORKSPACE_MARKER_TEXT, permissions: "0444" }],
    capDrop: ["ALL"],
    capAdd: ["CHOWN"],
    securityOpts: ["no-new-privileges:true"],
    labels: labelsFor(bottle.name, "workspace-init"),
    memoryMb: 64,
    memorySwapMb: 64,
  };
}

const WORKSPACE_MARKER_TEXT = "This directory is a bot-bottle workspace. This file keeps the Docker engine from giving it back to root while it is otherwise empty; it may be deleted once the workspace holds anything else.\n";

/** Problems of settings that only one backend understands, each `[field, message]`. */
function backendProblems(w: WorkspaceSettings, backend: Backend): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  if (backend === "docker") {
    if (w.size_gb !== undefined) problems.push(["size_gb", "only applies on Kubernetes (a Docker volume has no size); drop it"]);
    if (w.storage_class !== undefined) problems.push(["storage_class", "only applies on Kubernetes; drop it"]);
  } else {
    if (w.host_path !== undefined) {
      problems.push(["host_path", "only applies on Docker (a Pod cannot mount this machine's directories); drop it, and use size_gb and storage_class for the claim"]);
    }
    if (w.read_only !== false) problems.push(["read_only", "only applies to a Docker host directory (host_path); drop it"]);
  }
  return problems;
}

/** The workspace of `bottle` on `backend`; `index` is its position in `bot-bottle:bottles`, for messages. */
export function planWorkspace(bottle: BottleConfig, index: number, backend: Backend, routes: readonly RouteHost[]): WorkspacePlanResult {
  const w = bottle.agent.workspace;
  if (w === false) return { ok: true };
  const at = (...field: string[]) => formatPath(["bottles", index, "agent", "workspace", ...field]);
  const errors = backendProblems(w, backend).map(([field, message]) => `${at(field)}: ${message}`);
  if (w.git !== undefined) {
    const problem = gitRouteProblem(w.git.url, routes);
    if (problem !== undefined) errors.push(`${at("git", "url")}: ${problem}`);
  }
  if (errors.length > 0) return { ok: false, errors };

  const root = bottle.agent.user.split(":")[0] === "0" || bottle.agent.user.split(":")[0] === "root";
  const plan: WorkspacePlan = {
    path: w.path,
    readOnly: w.read_only,
    retainOnDestroy: w.retain_on_destroy,
    source: w.host_path !== undefined
      ? { kind: "host", hostPath: w.host_path }
      : {
          kind: "volume",
          resourceName: resourceName(bottle.name, "workspace"),
          name: workspaceName(bottle.name, "workspace"),
          labels: labelsFor(bottle.name, "workspace"),
          ...(backend === "kubernetes" ? { sizeGb: w.size_gb ?? WORKSPACE_DEFAULT_SIZE_GB } : {}),
          ...(w.storage_class !== undefined ? { storageClass: w.storage_class } : {}),
        },
    // a host directory keeps the owner its user gave it; a root agent needs no change of owner
    ...(backend === "docker" && w.host_path === undefined && !root ? { init: initPlan(bottle, w.path) } : {}),
    ...(w.git !== undefined ? { git: { url: w.git.url, ...(w.git.ref !== undefined ? { ref: w.git.ref } : {}) } } : {}),
  };
  return { ok: true, plan };
}

/** How many times the first start tries the clone (2 s apart) before it gives up: the proxy may still be starting. */
export const GIT_CLONE_ATTEMPTS = 30;

/**
 * The first-start clone, as a POSIX shell script run in the agent before its own command:
 * only when the workspace is empty (a `lost+found` of a fresh file system and the bottle's
 * marker aside), with the
 * agent's user, environment and proxy, so that the route's credential is injected on the way.
 * It clones next to the files it then moves in, so that a clone cut short leaves nothing that
 * looks like a checkout; an image without git, or a clone that keeps failing, stops the agent
 * with a message that names the field and the fix (in `docker logs` / `kubectl logs`).
 * Arguments: $1 the URL, $2 the ref or "", then the agent's command.
 */
const CLONE_SCRIPT = [
  'set -u',
  'ws="$BOT_BOTTLE_WORKSPACE"; url="$1"; ref="$2"; shift 2',
  'tmp="$ws/.bot-bottle-clone"',
  `if [ -z "$(ls -A "$ws" | grep -v -x -e lost+found -e .bot-bottle-clone -e ${WORKSPACE_MARKER_FILE})" ]; then`,
  '  if ! command -v git >/dev/null 2>&1; then',
  '    echo "bot-bottle: agent.workspace.git is set, but the agent image has no git; install git in the image, or drop agent.workspace.git" >&2',
  '    exit 127',
  '  fi',
  '  n=0',
  '  while :; do',
  '    rm -rf "$tmp"',
  '    if [ -n "$ref" ]; then git clone --quiet --branch "$ref" -- "$url" "$tmp" && break; else git clone --quiet -- "$url" "$tmp" && break; fi',
  '    n=$((n + 1))',
  `    if [ "$n" -ge ${GIT_CLONE_ATTEMPTS} ]; then`,
  '      rm -rf "$tmp"',
  '      echo "bot-bottle: could not clone agent.workspace.git.url into $ws (git says why above); check that a route of the bottle allows the repository (host, path_allowlist, methods GET and POST, auth), then restart the agent" >&2',
  '      exit 1',
  '    fi',
  '    sleep 2',
  '  done',
  '  for e in "$tmp"/* "$tmp"/.[!.]* "$tmp"/..?*; do',
  '    if [ -e "$e" ] || [ -L "$e" ]; then mv -- "$e" "$ws/"; fi',
  '  done',
  '  rmdir "$tmp"',
  'fi',
  'exec "$@"',
].join("\n");

/** The agent's command wrapped by the first-start clone (see CLONE_SCRIPT). */
export function gitCloneCommand(git: NonNullable<WorkspacePlan["git"]>, command: readonly string[]): string[] {
  return ["sh", "-c", CLONE_SCRIPT, "bot-bottle-workspace", git.url, git.ref ?? "", ...command];
}

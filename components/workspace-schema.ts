/**
 * `bottles[i].agent.workspace`: where the agent keeps its work, as a zod schema.
 *
 * A bottle has a workspace unless it says `workspace: false`: a named volume (Docker) or a
 * PersistentVolumeClaim (Kubernetes) mounted at `path`, or on Docker a host directory
 * (`host_path`). What depends on the backend (size_gb and storage_class on Kubernetes only,
 * host_path and read_only on Docker only) and on the routes (git's host) is checked when the
 * bottle is planned (plan-workspace.ts), where the backend and the routes are known.
 *
 * Messages read `<what is wrong>; <how to fix>`; config-errors.ts adds the field path. No
 * message echoes a value: a URL may carry a password.
 */
import { z } from "zod";
import { WORKSPACE_DEFAULT_PATH } from "./constants";

/** Directories a workspace may not replace (exact) or sit in (prefix), in the agent or on the host. */
const SYSTEM_TREES = ["/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/run", "/sbin", "/sys", "/usr", "/var/run"];
const SYSTEM_DIRS = ["/", "/home", "/root", "/tmp", "/var", "/var/lib", "/var/tmp", "/opt", "/srv", "/mnt", "/media"];
/** On the host also the engine's own state (its volumes, its socket's directory is under /run). */
const HOST_SYSTEM_TREES = [...SYSTEM_TREES, "/var/lib/docker", "/var/lib/containerd", "/var/lib/kubelet"];
/** Plain path characters: no `:` or `,` (Docker's mount syntax), no space or control bytes. */
const PATH = /^(?:\/[A-Za-z0-9._@+-]+)+$|^\/$/;
/** A git ref name, conservatively: no leading `-` (an option to git), no `..`, no spaces. */
const GIT_REF = /^(?!-)(?!.*\.\.)(?!.*\/\/)[A-Za-z0-9._/-]{1,200}(?<![./])$/;

/** Why `p` cannot be a workspace path (`where`: "in the agent" or "on the host"), or undefined. */
export function workspacePathProblem(p: string, where: "agent" | "host"): string | undefined {
  const example = where === "agent" ? WORKSPACE_DEFAULT_PATH : "/srv/bot-bottle/dev";
  if (!p.startsWith("/")) return `must be an absolute path; write it from the root, e.g. ${example}`;
  if (!PATH.test(p) || p.split("/").some((s) => s === "." || s === "..")) {
    return `must be a plain absolute path (letters, digits, . _ @ + -; no trailing /, no // or . or .. segments, no : or spaces); e.g. ${example}`;
  }
  const trees = where === "agent" ? SYSTEM_TREES : HOST_SYSTEM_TREES;
  if (SYSTEM_DIRS.includes(p) || trees.some((t) => p === t || p.startsWith(`${t}/`))) {
    return `is a system directory ${where === "agent" ? "of the agent's image" : "of the host"}, which a workspace must not replace; choose a directory of its own, e.g. ${example}`;
  }
  return undefined;
}

function pathSchema(where: "agent" | "host") {
  return z.string({ error: `must be a string; give an absolute path${where === "host" ? " on the host" : ""}` }).superRefine((p, ctx) => {
    const message = workspacePathProblem(p, where);
    if (message !== undefined) ctx.addIssue({ code: "custom", message });
  });
}

/** Why `url` cannot be cloned by the bottle, or undefined (the route check is in plan-workspace.ts). */
export function gitUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "is not a URL; write it as https://<host>/<owner>/<repo>.git";
  }
  if (u.protocol !== "https:") return "must use https:// (the bottle reaches git through its proxy, which speaks HTTPS); write https://<host>/<owner>/<repo>.git";
  if (u.username || u.password) {
    return "must not carry credentials (they would be stored in the stack and in the workspace's .git/config); remove user:password and give the route of this host an auth block instead";
  }
  if (u.hash || u.search) return "must not have a query or fragment; write https://<host>/<owner>/<repo>.git";
  if (u.pathname === "/" || u.pathname === "") return "must name a repository; write https://<host>/<owner>/<repo>.git";
  return undefined;
}

const git = z.strictObject({
  url: z.string({ error: "is required; give the repository as https://<host>/<owner>/<repo>.git" }).superRefine((url, ctx) => {
    const message = gitUrlProblem(url);
    if (message !== undefined) ctx.addIssue({ code: "custom", message });
  }),
  /** A branch or tag; the remote's default branch when absent. */
  ref: z.string().regex(GIT_REF, "must be a branch or tag name (letters, digits, . _ / -; not starting with - or holding ..); e.g. main").optional(),
});

const settings = z
  .strictObject({
    path: pathSchema("agent").default(WORKSPACE_DEFAULT_PATH),
    /** False lets `pulumi destroy` delete the volume; by default a user's work outlives the stack. */
    retain_on_destroy: z.boolean({ error: "must be true or false; omit it to keep the workspace on destroy" }).default(true),
    /** Kubernetes only: the claim's request; the plan defaults it (a Docker volume has no size). */
    size_gb: z.number().int("must be a whole number of GiB; e.g. 10").min(1, "must be at least 1; e.g. 10").max(65536, "is above 65536 GiB; give a realistic size, e.g. 10").optional(),
    /** Kubernetes only: the claim's storage class; the cluster's default when absent. */
    storage_class: z.string().regex(/^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/, "must be a storage class name (a-z, 0-9, . and -); e.g. standard").optional(),
    /** Docker only: a host directory instead of a named volume. */
    host_path: pathSchema("host").optional(),
    read_only: z.boolean({ error: "must be true or false" }).optional(),
    git: git.optional(),
  })
  .superRefine((w, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    if (w.read_only !== undefined && w.host_path === undefined) {
      issue("read_only", "only applies to a host directory (host_path); drop it, or set host_path to mount a host directory read-only");
    }
    if (w.read_only === true && w.git !== undefined) {
      issue("git", "cannot clone into a read-only workspace; drop git, or set read_only: false");
    }
  })
  .transform((w) => ({ ...w, read_only: w.read_only ?? false }));

export type WorkspaceSettings = z.output<typeof settings>;

/**
 * `workspace`: absent or an object → the workspace with its defaults; `false` → none. Parsed by
 * hand rather than as a union, so that a wrong field inside the object is reported as itself
 * (zod's union would only say that neither branch matched).
 */
export const workspaceSchema = z.unknown().optional().transform((value, ctx): WorkspaceSettings | false => {
  if (value === false) return false;
  if (value === true) {
    ctx.addIssue({ code: "custom", message: "must be false (no workspace) or an object of settings; omit it for the default workspace at " + WORKSPACE_DEFAULT_PATH });
    return z.NEVER;
  }
  if (value !== undefined && (value === null || typeof value !== "object" || Array.isArray(value))) {
    ctx.addIssue({ code: "custom", message: `must be false (no workspace) or an object such as { path: ${WORKSPACE_DEFAULT_PATH} }; omit it for the default` });
    return z.NEVER;
  }
  const parsed = settings.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) ctx.addIssue({ ...issue } as Parameters<typeof ctx.addIssue>[0]);
  return z.NEVER;
});

export type WorkspaceConfig = z.output<typeof workspaceSchema>;

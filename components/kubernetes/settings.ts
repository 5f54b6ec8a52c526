/**
 * Where bottles run, and how the Kubernetes backend reaches its cluster: the `backend` and
 * `kubernetes` keys of the stack config, and what a bottle must not ask of a cluster.
 * Messages read `<what is wrong>; <how to fix>` like the rest of the config (config-errors.ts).
 */
import { isIP } from "node:net";
import { z } from "zod";

export const BACKENDS = ["docker", "kubernetes"] as const;
export type Backend = (typeof BACKENDS)[number];

export const backendSchema = z.enum(BACKENDS, {
  error: () => "must be docker or kubernetes; omit it for docker",
});

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const IMAGE_REF = /^[A-Za-z0-9][A-Za-z0-9._/:@-]*$/;
export const PULL_POLICIES = ["Always", "IfNotPresent", "Never"] as const;

export const kubernetesSchema = z
  .strictObject({
    /** A kubeconfig file; the provider's defaults (KUBECONFIG, ~/.kube/config) when absent. */
    kubeconfig: z
      .string({ error: "must be a string; give the path of a kubeconfig file" })
      .min(1, "must not be empty; give the path of a kubeconfig file, or omit it for the provider's defaults")
      // a kubeconfig's content carries credentials: never in plain stack config
      .refine((s) => !/\n|apiVersion\s*:|client-key-data|token\s*:/.test(s), {
        message: "looks like the content of a kubeconfig, which holds credentials; give its file path instead",
      })
      .optional(),
    context: z.string().min(1, "must not be empty; name a context of the kubeconfig, or omit it for its current context").optional(),
    /** Unset: a namespace per bottle (`bb-<bottle>`). Set: every bottle of the stack in this one. */
    namespace: z
      .string()
      .regex(LABEL, "must be a DNS label (a-z, 0-9, -, at most 63 characters); e.g. bot-bottle")
      .optional(),
    /** The proxy image as the cluster pulls it (pushed there by you); unset: the local build. */
    proxy_image: z
      .string()
      .regex(IMAGE_REF, "must be an image reference without spaces; e.g. registry.example.com/bot-bottle/egress-proxy:1.0")
      .optional(),
    /** For the agent and pipelock images; the local proxy build always uses Never. */
    image_pull_policy: z.enum(PULL_POLICIES, { error: () => "must be Always, IfNotPresent or Never" }).default("IfNotPresent"),
  })
  .prefault({});

export type KubernetesSettings = z.output<typeof kubernetesSchema>;

/** What a bottle asks that only Docker can give: `[path under the bottle, message]` each. */
export function kubernetesBottleProblems(bottle: {
  readonly agent: { readonly user: string; readonly limits: { readonly pids?: number | undefined } };
  readonly pipelock: { readonly kind: "url"; readonly url: string; readonly network?: string | undefined } | { readonly kind: "container" };
}): Array<[ReadonlyArray<string | number>, string]> {
  const problems: Array<[ReadonlyArray<string | number>, string]> = [];
  const [uid, gid] = bottle.agent.user.split(":");
  if (!/^[0-9]+$/.test(uid ?? "") || (gid !== undefined && !/^[0-9]+$/.test(gid))) {
    problems.push([["agent", "user"], "must be a numeric uid or uid:gid on Kubernetes, which runs containers by number; e.g. 10001"]);
  } else if (uid === "0" || gid === "0") {
    problems.push([["agent", "user"], "must not be root on Kubernetes (the namespace enforces the restricted Pod Security level); e.g. 10001"]);
  }
  if (bottle.agent.limits.pids !== undefined) {
    // a Pod has no process limit of its own: the kubelet's podPidsLimit bounds every Pod of a node
    problems.push([["agent", "limits", "pids"], "has no Pod equivalent on Kubernetes (the kubelet's podPidsLimit bounds every Pod of the node); drop it, and set podPidsLimit in the kubelet's configuration"]);
  }
  if (bottle.pipelock.kind === "url") {
    if (bottle.pipelock.network !== undefined) {
      problems.push([["pipelock", "network"], "names a Docker network, which Kubernetes does not have; drop it"]);
    }
    const host = new URL(bottle.pipelock.url).hostname.replace(/^\[|\]$/g, "");
    if (isIP(host) === 0) {
      problems.push([
        ["pipelock", "url"],
        "must name pipelock by IP address on Kubernetes, so that the proxy's NetworkPolicy allows that address alone; write http://<ip>:<port>, or drop url to run pipelock in the bottle",
      ]);
    }
  }
  return problems;
}

/**
 * A bottle container's plan (plan-containers.ts) as a Kubernetes Pod spec. The plan decides
 * image, user, env, files, limits and health check; this file only says them the Kubernetes
 * way, and adds what a Pod needs that Docker gave by other means:
 *
 * - files: each role's ConfigMap, mounted read-only per directory (Docker uploads them);
 * - secrets: env from the bottle's Secret, never a literal (Docker: a secret env input);
 * - names: host aliases to the Services' addresses (Docker: network aliases), and no resolver
 *   for the agent and the proxy, so no DNS query can carry data out of them;
 * - hardening: non-root, no privilege escalation, ALL capabilities dropped, the runtime's
 *   seccomp profile, no service account token, no service links in the environment.
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { NO_OUTSIDE_RESOLVER, PROXY_ALIAS, PIPELOCK_ALIAS } from "../constants";
import type { ContainerRole } from "../naming";
import type { ContainerPlan, EnvVar, HealthcheckPlan } from "../plan-types";

type PodSpec = k8s.types.input.core.v1.PodSpec;
type Container = k8s.types.input.core.v1.Container;
type EnvVarInput = k8s.types.input.core.v1.EnvVar;

/** Deploy-time values a Pod refers to, resolved by the component (or plain strings in tests). */
export interface PodRefs {
  /** The image of a role whose plan says "the stack's proxy image". */
  readonly proxyImage: pulumi.Input<string>;
  /** The name of a role's ConfigMap (auto-named: a change of content replaces it and rolls the Pods). */
  readonly configMapName: (role: ContainerRole) => pulumi.Input<string>;
  /** The name of the bottle's Secret (same). */
  readonly secretName: pulumi.Input<string>;
  /** A Service's cluster address, for the host aliases. */
  readonly serviceIp: (role: ContainerRole) => pulumi.Input<string>;
  /** The agent's workspace claim, when the bottle has one. */
  readonly workspaceClaim?: pulumi.Input<string>;
}

export interface PodOptions {
  readonly imagePullPolicy: string;
  /** Pull policy of the proxy image (Never for a local build imported into the node). */
  readonly proxyImagePullPolicy: string;
  /** The proxy's upstream is the bottle's pipelock Service (absent: pipelock by URL). */
  readonly pipelockInBottle: boolean;
}

/**
 * Docker-only: the proxy accepts connections only at its address on the agent's network. A Pod
 * has one address, and the proxy's NetworkPolicy admits the agent's Pod alone.
 */
const DOCKER_ONLY_ENV = new Set(["EGRESS_PROXY_AGENT_ALIAS"]);
const STOP_GRACE_SECONDS = 10;
/** Writable scratch for the roles whose root filesystem is read-only. */
const SCRATCH = "/tmp";

/** `10001` or `10001:10001` as runAsUser/runAsGroup; the config refuses names on Kubernetes. */
function ids(user: string): { runAsUser: number; runAsGroup?: number } {
  const [uid, gid] = user.split(":");
  const u = Number(uid);
  if (!Number.isInteger(u)) throw new Error(`internal: user ${user} is not numeric`);
  return gid === undefined ? { runAsUser: u } : { runAsUser: u, runAsGroup: Number(gid) };
}

/** A Go duration of the plan (`10s`, `1m30s`) in whole seconds, at least 1. */
export function seconds(duration: string): number {
  let total = 0;
  for (const [, n, unit] of duration.matchAll(/([0-9.]+)(ms|h|m|s)/g)) {
    total += Number(n) * ({ h: 3600, m: 60, s: 1, ms: 0.001 } as const)[unit as "h" | "m" | "s" | "ms"];
  }
  return Math.max(1, Math.round(total));
}

/** CPUs as millicores: Docker's read-back text (`2.0`, `10.`) is not a Kubernetes quantity. */
export function cpuQuantity(cpus: string): string {
  return `${Math.round(Number(cpus) * 1000)}m`;
}

function envOf(env: readonly EnvVar[], secretName: pulumi.Input<string>): EnvVarInput[] {
  return env
    .filter((e) => !DOCKER_ONLY_ENV.has(e.name))
    .map((e): EnvVarInput => {
      switch (e.value.kind) {
        case "text":
          return { name: e.name, value: e.value.text };
        case "token":
        case "ca-key":
          // the Secret's keys are the variables' names (secretData in objects.ts)
          return { name: e.name, valueFrom: { secretKeyRef: { name: secretName, key: e.name } } };
      }
    });
}

/** A planned file as its directory and its key in the role's ConfigMap (the file's name). */
export function configMapFile(file: string): { dir: string; key: string } {
  const slash = file.lastIndexOf("/");
  return { dir: file.slice(0, slash), key: file.slice(slash + 1) };
}

/** Directories of a role's files, each a volume of the role's ConfigMap holding those files. */
function fileDirectories(c: ContainerPlan): Array<{ dir: string; files: Array<{ key: string; mode: number }> }> {
  const dirs = new Map<string, Array<{ key: string; mode: number }>>();
  for (const u of c.uploads) {
    const { dir, key } = configMapFile(u.file);
    const list = dirs.get(dir) ?? [];
    list.push({ key, mode: parseInt(u.permissions, 8) });
    dirs.set(dir, list);
  }
  return [...dirs].map(([dir, files]) => ({ dir, files }));
}

function probe(h: HealthcheckPlan): k8s.types.input.core.v1.Probe {
  const [form, ...command] = h.tests;
  if (form !== "CMD") throw new Error(`internal: health check form ${String(form)} has no exec equivalent`);
  return {
    exec: { command },
    periodSeconds: seconds(h.interval),
    timeoutSeconds: seconds(h.timeout),
    failureThreshold: h.retries,
    initialDelaySeconds: seconds(h.startPeriod),
  };
}

/** Requests are what the scheduler reserves; limits are the plan's. A node need not hold every limit at once. */
function resources(c: ContainerPlan): k8s.types.input.core.v1.ResourceRequirements {
  return {
    limits: { cpu: cpuQuantity(c.cpus), memory: `${c.memoryMb}Mi` },
    requests: { cpu: "50m", memory: `${Math.min(c.memoryMb, 128)}Mi` },
  };
}

function hostAliases(role: ContainerRole, refs: PodRefs, options: PodOptions): k8s.types.input.core.v1.HostAlias[] {
  if (role === "agent") return [{ ip: refs.serviceIp("egress-proxy"), hostnames: [PROXY_ALIAS] }];
  if (role === "egress-proxy" && options.pipelockInBottle) return [{ ip: refs.serviceIp("pipelock"), hostnames: [PIPELOCK_ALIAS] }];
  return [];
}

/**
 * A new claim's volume is root's. The namespace's restricted Pod Security level admits no root
 * init container to change that, so the kubelet does it: with fsGroup it gives the volume's
 * files to the agent's group (its gid, or its uid when it has none), group-writable, and adds
 * that group to the agent's processes. OnRootMismatch: only when the volume's root is not yet
 * the group's, so a large workspace is not walked on every start. (Volume types without
 * ownership management, hostPath among them, ignore fsGroup: their directory must be the
 * agent's already.)
 */
function workspaceOwnership(user: string): { fsGroup: number; fsGroupChangePolicy: string } {
  const { runAsUser, runAsGroup } = ids(user);
  return { fsGroup: runAsGroup ?? runAsUser, fsGroupChangePolicy: "OnRootMismatch" };
}

/** The Pod spec of one container of the bottle. */
export function podSpec(c: ContainerPlan, refs: PodRefs, options: PodOptions): PodSpec {
  const dirs = fileDirectories(c);
  // the agent keeps a writable filesystem (it is a workstation); the proxy and pipelock write nothing
  const readOnlyRoot = c.role !== "agent";
  const volumes: k8s.types.input.core.v1.Volume[] = dirs.map((d, i) => ({
    name: `files-${i}`,
    configMap: { name: refs.configMapName(c.role), items: d.files.map((f) => ({ key: f.key, path: f.key, mode: f.mode })) },
  }));
  const mounts: k8s.types.input.core.v1.VolumeMount[] = dirs.map((d, i) => ({ name: `files-${i}`, mountPath: d.dir, readOnly: true }));
  if (readOnlyRoot) {
    volumes.push({ name: "scratch", emptyDir: { sizeLimit: "64Mi" } });
    mounts.push({ name: "scratch", mountPath: SCRATCH });
  }
  const workspace = c.workspace !== undefined && refs.workspaceClaim !== undefined ? c.workspace : undefined;
  if (workspace) {
    volumes.push({ name: "workspace", persistentVolumeClaim: { claimName: refs.workspaceClaim as pulumi.Input<string> } });
    mounts.push({ name: "workspace", mountPath: workspace.path, ...(workspace.readOnly ? { readOnly: true } : {}) });
  }
  const container: Container = {
    name: c.role,
    image: c.image.kind === "proxy-image" ? refs.proxyImage : c.image.ref,
    imagePullPolicy: c.image.kind === "proxy-image" ? options.proxyImagePullPolicy : options.imagePullPolicy,
    // Docker's `command` replaces the image's CMD and keeps its ENTRYPOINT: Kubernetes' args
    ...(c.command !== undefined ? { args: [...c.command] } : {}),
    env: envOf(c.env, refs.secretName),
    ...(workspace ? { workingDir: workspace.path } : {}),
    volumeMounts: mounts,
    resources: resources(c),
    securityContext: {
      ...ids(c.user),
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: [...c.capDrop] },
      readOnlyRootFilesystem: readOnlyRoot,
    },
    ...(c.healthcheck !== undefined ? { readinessProbe: probe(c.healthcheck) } : {}),
  };
  const aliases = hostAliases(c.role, refs, options);
  return {
    containers: [container],
    volumes,
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    // Docker's stop timeout: an agent's `sleep` as PID 1 ignores SIGTERM and would hold every
    // delete or restart for Kubernetes' default 30 s
    terminationGracePeriodSeconds: STOP_GRACE_SECONDS,
    securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" }, ...(workspace ? workspaceOwnership(c.user) : {}) },
    ...(aliases.length > 0 ? { hostAliases: aliases } : {}),
    // pipelock alone resolves names; the others reach what they need by host alias, and their
    // NetworkPolicies let no packet reach the cluster's resolver either
    ...(c.names === "outside" ? {} : { dnsPolicy: "None", dnsConfig: { nameservers: [NO_OUTSIDE_RESOLVER] } }),
  };
}

/**
 * What the Kubernetes e2e suite runs around a bottle, in a namespace of its own that carries
 * the run's label: the upstream (api.e2e.test, private CA), the test-forward-proxy standing in
 * for pipelock's hop, and idle prober Pods that show what a Pod without the bottle's policies
 * reaches. Also the stand-in for the cloud metadata address: 169.254.169.254 on this
 * machine's loopback interface, so that no packet leaves it.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { pollUntil } from "../../helpers/deadline";
import { kubectl } from "./kube-cli";

const execFileAsync = promisify(execFile);
export const RUN_LABEL = "bot-bottle.e2e.run";
export const METADATA_ADDRESS = "169.254.169.254";

export interface FixturePod {
  name: string;
  image: string;
  env?: Record<string, string>;
  /** Keep the Pod idle for `kubectl exec` (a prober). */
  idle?: boolean;
  /** Run this instead of the image's command. */
  command?: string[];
  /** ConfigMap whose keys appear as files under `dir`. */
  files?: { configMap: string; dir: string };
  hostAliases?: { ip: string; hostnames: string[] }[];
  /** Labels beside the run's. */
  labels?: Record<string, string>;
}

/** A Pod spec that the restricted Pod Security level admits (the bottle's namespace enforces it). */
function restrictedPod(namespace: string, runId: string, p: FixturePod): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: p.name, namespace, labels: { [RUN_LABEL]: runId, ...p.labels } },
    spec: {
      automountServiceAccountToken: false,
      // an idle `sleep` is PID 1 and ignores SIGTERM: do not wait the default 30 s for it
      terminationGracePeriodSeconds: 1,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 10001,
        seccompProfile: { type: "RuntimeDefault" },
        // the upstream listens on 443 as a non-root user, as Docker lets it by default
        sysctls: [{ name: "net.ipv4.ip_unprivileged_port_start", value: "0" }],
      },
      ...(p.hostAliases ? { hostAliases: p.hostAliases } : {}),
      containers: [{
        name: "main",
        image: p.image,
        imagePullPolicy: "Never",
        ...(p.idle ? { command: ["sleep", "infinity"] } : p.command ? { command: p.command } : {}),
        env: Object.entries(p.env ?? {}).map(([name, value]) => ({ name, value })),
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
        resources: { limits: { cpu: "500m", memory: "256Mi" }, requests: { cpu: "20m", memory: "64Mi" } },
        ...(p.files ? { volumeMounts: [{ name: "files", mountPath: p.files.dir, readOnly: true }] } : {}),
      }],
      ...(p.files ? { volumes: [{ name: "files", configMap: { name: p.files.configMap } }] } : {}),
    },
  };
}

async function applyObject(body: Record<string, unknown>): Promise<void> {
  await kubectl(["apply", "-f", "-"], { input: JSON.stringify(body) });
}

export async function createNamespace(name: string, runId: string): Promise<void> {
  await applyObject({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels: { [RUN_LABEL]: runId } } });
}

export async function createConfigMap(namespace: string, name: string, runId: string, data: Record<string, string>): Promise<void> {
  await applyObject({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace, labels: { [RUN_LABEL]: runId } }, data });
}

/** Start a Pod and wait until it is Ready; returns its address. */
export async function runPod(namespace: string, runId: string, p: FixturePod): Promise<string> {
  await applyObject(restrictedPod(namespace, runId, p));
  await kubectl(["wait", "--for=condition=Ready", `pod/${p.name}`, "-n", namespace, "--timeout=120s"], { timeoutMs: 130_000 });
  return podIp(namespace, p.name);
}

export async function podIp(namespace: string, pod: string): Promise<string> {
  const r = await kubectl(["get", "pod", pod, "-n", namespace, "-o", "jsonpath={.status.podIP}"]);
  if (!/^[0-9.]+$/.test(r.stdout)) throw new Error(`pod ${namespace}/${pod} has no IPv4 address`);
  return r.stdout;
}

/** The JSON lines a workload wrote on stdout (`pod/<name>` or `deploy/<name>`). */
export async function jsonLinesOf(namespace: string, workload: string): Promise<Record<string, unknown>[]> {
  const r = await kubectl(["logs", workload, "-n", namespace, "--tail=-1"], { timeoutMs: 30_000 });
  return r.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Delete every namespace carrying the run's label, and wait until they are gone. */
export async function removeRunNamespaces(runId: string): Promise<void> {
  await kubectl(["delete", "namespace", "-l", `${RUN_LABEL}=${runId}`, "--wait=true", "--timeout=120s"], { timeoutMs: 130_000, allowFailure: true });
}

/**
 * Add the metadata address to this machine's loopback interface (a dummy interface needs a
 * kernel module that some machines lack); a Pod's packet to it is delivered here, never sent
 * on. Returns a remover.
 */
export async function addMetadataStandIn(): Promise<() => Promise<void>> {
  const ip = (...args: string[]) => execFileAsync("ip", args, { timeout: 10_000 });
  await ip("addr", "del", `${METADATA_ADDRESS}/32`, "dev", "lo").catch(() => undefined);
  await ip("addr", "add", `${METADATA_ADDRESS}/32`, "dev", "lo");
  return async () => {
    await ip("addr", "del", `${METADATA_ADDRESS}/32`, "dev", "lo").catch(() => undefined);
  };
}

/** The host's address on the cluster's pod bridge, where a host listener can be reached by Pods. */
export async function podBridgeGateway(podAddress: string): Promise<string> {
  const { stdout } = await execFileAsync("ip", ["-4", "route", "get", podAddress], { timeout: 10_000 });
  const m = /\bsrc ([0-9.]+)/.exec(stdout);
  if (!m?.[1]) throw new Error(`no host address on the route to ${podAddress}`);
  return m[1];
}

export async function waitGone(kind: string, selector: string): Promise<void> {
  await pollUntil(`no ${kind} left with ${selector}`, async () => {
    const r = await kubectl(["get", kind, "-A", "-l", selector, "-o", "name"]);
    return r.stdout.trim() === "" ? true : undefined;
  }, 120_000);
}

export interface LocalStorage {
  /** The StorageClass a bottle's workspace names (`storage_class`). */
  readonly storageClass: string;
  readonly volume: string;
  /** The node directory behind the volume. */
  readonly dir: string;
  remove(): Promise<void>;
}

/**
 * A storage class of the run's own and one `local` PersistentVolume on this machine: the test
 * cluster has no dynamic provisioner. Static local volumes bind on first use
 * (WaitForFirstConsumer) and, unlike hostPath, take the Pod's fsGroup, as a provisioned disk
 * would. The directory is root's, so that only fsGroup can make it the agent's.
 */
export async function createLocalStorage(runId: string, node: string, sizeGi = 1): Promise<LocalStorage> {
  const { mkdir, rm } = await import("node:fs/promises");
  const storageClass = `bb-e2e-local-${runId}`;
  const volume = `bb-e2e-ws-${runId}`;
  const dir = `/var/lib/bot-bottle/kube-e2e-${runId}/workspace`;
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const labels = { [RUN_LABEL]: runId };
  await applyObject({
    apiVersion: "storage.k8s.io/v1", kind: "StorageClass", metadata: { name: storageClass, labels },
    provisioner: "kubernetes.io/no-provisioner", volumeBindingMode: "WaitForFirstConsumer", reclaimPolicy: "Retain",
  });
  await applyObject({
    apiVersion: "v1", kind: "PersistentVolume", metadata: { name: volume, labels },
    spec: {
      capacity: { storage: `${sizeGi}Gi` }, accessModes: ["ReadWriteOnce"], persistentVolumeReclaimPolicy: "Retain", storageClassName: storageClass,
      local: { path: dir },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [node] }] }] } },
    },
  });
  return {
    storageClass, volume, dir,
    async remove() {
      await kubectl(["delete", "persistentvolume", volume, "--ignore-not-found", "--wait=true", "--timeout=60s"], { timeoutMs: 70_000, allowFailure: true });
      await kubectl(["delete", "storageclass", storageClass, "--ignore-not-found"], { timeoutMs: 30_000, allowFailure: true });
      await rm(`/var/lib/bot-bottle/kube-e2e-${runId}`, { recursive: true, force: true });
    },
  };
}

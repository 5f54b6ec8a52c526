/**
 * kubectl as the Kubernetes e2e suite uses it, against the local cluster that
 * `scripts/kube/cluster.sh up` starts: its kubeconfig and the kubectl it built are found from
 * KUBECONFIG and BB_KUBECTL, or from `cluster.sh env`.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { runTool, type ToolOptions, type ToolResult } from "./run-tool";

const execFileAsync = promisify(execFile);
export const CLUSTER_SCRIPT = path.resolve(__dirname, "..", "..", "..", "scripts", "kube", "cluster.sh");

export interface Cluster {
  readonly kubectl: string;
  readonly kubeconfig: string;
}

let found: Cluster | undefined;

/** The local cluster, or why there is none to test on. */
export async function findCluster(): Promise<Cluster | { missing: string }> {
  let kubectl = process.env.BB_KUBECTL;
  let kubeconfig = process.env.KUBECONFIG;
  if (kubectl === undefined || kubeconfig === undefined) {
    const { stdout } = await execFileAsync("bash", [CLUSTER_SCRIPT, "env"], { timeout: 10_000 });
    const vars = Object.fromEntries([...stdout.matchAll(/^export ([A-Z_]+)=(.*)$/gm)].map(([, k, v]) => [k, (v ?? "").replace(/^'(.*)'$/, "$1")]));
    kubectl ??= vars.BB_KUBECTL;
    kubeconfig ??= vars.KUBECONFIG;
  }
  if (kubectl === undefined || !existsSync(kubectl)) return { missing: "no kubectl from `scripts/kube/cluster.sh build`" };
  if (kubeconfig === undefined || !existsSync(kubeconfig)) return { missing: "no cluster (run `bash scripts/kube/cluster.sh up`)" };
  const status = await execFileAsync("bash", [CLUSTER_SCRIPT, "status"], { timeout: 20_000 }).then(() => true, () => false);
  if (!status) return { missing: "the cluster is not Ready (`bash scripts/kube/cluster.sh status`)" };
  found = { kubectl, kubeconfig };
  return found;
}

function cluster(): Cluster {
  if (!found) throw new Error("internal: kubectl used before findCluster()");
  return found;
}

/** Run `kubectl <args>` against the local cluster. */
export function kubectl(args: readonly string[], opts: ToolOptions = {}): Promise<ToolResult> {
  const c = cluster();
  return runTool(c.kubectl, "kubectl", args, { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", KUBECONFIG: c.kubeconfig }, opts);
}

/** `kubectl get -o json` of one object, or undefined when it does not exist. */
export async function getObject(kind: string, name: string, namespace?: string): Promise<Record<string, unknown> | undefined> {
  const r = await kubectl(["get", kind, name, ...(namespace ? ["-n", namespace] : []), "-o", "json"], { allowFailure: true });
  if (r.code !== 0) {
    if (/NotFound|not found/.test(r.stderr)) return undefined;
    throw new Error(`kubectl get ${kind} ${name}: ${r.stderr.trim()}`);
  }
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** Copy local Docker images into the cluster's image store (Pods use imagePullPolicy: Never). */
export async function importImages(...images: string[]): Promise<void> {
  await execFileAsync("bash", [CLUSTER_SCRIPT, "import", ...images], { timeout: 300_000, maxBuffer: 1 << 24 });
}

/**
 * The plan of one bottle: every network, container, env var, upload and label, as plain data.
 * Values that only exist at deployment time (the CA, the tokens, the proxy image) appear as
 * references; `bottle.ts` resolves them into Pulumi inputs and declares nothing else.
 */
import type { EgressPolicy } from "./egress-policy";
import type { KubernetesSettings } from "./kubernetes/settings";
import type { ContainerRole, NetworkRole } from "./naming";
import type { PipelockFile } from "./pipelock-config";
import type { RenderedRoutes } from "./routes-file";
import type { TokenSlot } from "./token-slots";

/**
 * File content: literal text, the bottle CA's certificate, or the same as a Java trust store
 * (binary: java-truststore.ts). Nothing secret is a file.
 */
export type FileContent = { readonly kind: "text"; readonly text: string } | { readonly kind: "ca-cert" } | { readonly kind: "ca-truststore" };

export interface UploadPlan {
  readonly file: string;
  readonly content: FileContent;
  /** Octal mode; the provider uploads files owned by root. */
  readonly permissions: string;
}

/** An env value: literal text, the token under a Pulumi config key, or the bottle CA's key (both secrets). */
export type EnvValue =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "token"; readonly tokenRef: string }
  | { readonly kind: "ca-key" };

export interface EnvVar {
  readonly name: string;
  readonly value: EnvValue;
}

/** A network of this bottle, or an existing one named in config (pipelock by URL). */
export type NetworkRef = { readonly kind: "bottle"; readonly role: NetworkRole } | { readonly kind: "existing"; readonly name: string };

export interface AttachmentPlan {
  readonly network: NetworkRef;
  readonly aliases: readonly string[];
}

/** The container image: the stack's egress-proxy build, or an image reference. */
export type ImageRef = { readonly kind: "proxy-image" } | { readonly kind: "ref"; readonly ref: string };

export interface HealthcheckPlan {
  readonly tests: readonly string[];
  readonly interval: string;
  readonly timeout: string;
  readonly retries: number;
  readonly startPeriod: string;
}

export interface ContainerPlan {
  readonly role: ContainerRole;
  readonly resourceName: string;
  readonly name: string;
  readonly image: ImageRef;
  readonly command?: readonly string[];
  /** Always given: left out, the provider reads the image's USER back as a change. */
  readonly user: string;
  readonly env: readonly EnvVar[];
  readonly uploads: readonly UploadPlan[];
  readonly networks: readonly AttachmentPlan[];
  readonly labels: Readonly<Record<string, string>>;
  readonly capDrop: readonly string[];
  readonly securityOpts: readonly string[];
  readonly memoryMb: number;
  /** Equal to memoryMb: no swap (plan-containers.ts says why). */
  readonly memorySwapMb: number;
  /** Docker's `--cpus` in the form the provider reads back (docker-readback.ts). */
  readonly cpus: string;
  /** RLIMIT_NPROC: the provider has no cgroup pids limit (see plan.ts). */
  readonly nproc?: number;
  readonly healthcheck?: HealthcheckPlan;
  readonly restart: "unless-stopped";
  /**
   * Which names it may resolve: `bottle`, only those of the bottle itself (the proxy's, pipelock's),
   * with no resolver that forwards a query out (constants.ts NO_OUTSIDE_RESOLVER says why);
   * `outside`, any name (pipelock alone, which resolves upstream hosts on its outbound network).
   */
  readonly names: "bottle" | "outside";
  /** The agent alone: where its workspace is mounted (plan-workspace.ts); also its working directory. */
  readonly workspace?: WorkspaceMountPlan;
}

/** The workspace as the agent's container mounts it. */
export interface WorkspaceMountPlan {
  readonly path: string;
  readonly readOnly: boolean;
}

/** Where the workspace's data lives: a volume (or claim) of the bottle, or a host directory (Docker). */
export type WorkspaceSource =
  | {
      readonly kind: "volume";
      readonly resourceName: string;
      /** Docker volume or PersistentVolumeClaim name: fixed, so that a retained one is found again. */
      readonly name: string;
      readonly labels: Readonly<Record<string, string>>;
      /** Kubernetes only: the claim's request and class. */
      readonly sizeGb?: number;
      readonly storageClass?: string;
    }
  | { readonly kind: "host"; readonly hostPath: string };

/**
 * Docker only: the one-shot step that gives a new volume's root directory to the agent's user
 * (plan-workspace.ts says why it runs as root, and with what).
 */
export interface WorkspaceInitPlan {
  readonly resourceName: string;
  readonly name: string;
  readonly image: string;
  readonly user: string;
  readonly command: readonly string[];
  /** Put in the volume before the step starts (WORKSPACE_MARKER_FILE says why). */
  readonly uploads: ReadonlyArray<{ readonly file: string; readonly text: string; readonly permissions: string }>;
  readonly capDrop: readonly string[];
  readonly capAdd: readonly string[];
  readonly securityOpts: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly memoryMb: number;
  readonly memorySwapMb: number;
}

export interface WorkspacePlan extends WorkspaceMountPlan {
  readonly source: WorkspaceSource;
  /** `pulumi destroy` leaves the volume (and on Kubernetes the bottle's namespace holding it). */
  readonly retainOnDestroy: boolean;
  readonly init?: WorkspaceInitPlan;
  /** Cloned by the agent's first start into an empty workspace (plan-workspace.ts). */
  readonly git?: { readonly url: string; readonly ref?: string };
}

export interface NetworkPlan {
  readonly role: NetworkRole;
  readonly resourceName: string;
  readonly name: string;
  readonly internal: boolean;
  /** Bridge driver options (`docker network create -o`). */
  readonly options: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
}

export interface CaPlan {
  readonly keyResourceName: string;
  readonly certResourceName: string;
  readonly commonName: string;
  readonly validityHours: number;
  readonly earlyRenewalHours: number;
}

/** The backend a bottle is planned for, with what the Kubernetes backend needs to know. */
export type PlanTarget = { readonly backend: "docker" } | { readonly backend: "kubernetes"; readonly settings: KubernetesSettings };

/** How a user reaches a bottle: shell commands, shown as stack outputs. */
export interface BottleCommands {
  readonly enter: string;
  readonly auditLog: string;
  readonly list: string;
  readonly pipelockLog?: string;
}

export interface BottlePlan {
  readonly name: string;
  /** Where it runs; the networks are Docker's alone (Kubernetes: kubernetes/network-policies.ts). */
  readonly target: PlanTarget;
  readonly networks: readonly NetworkPlan[];
  readonly containers: readonly ContainerPlan[];
  readonly ca: CaPlan;
  readonly tokenSlots: readonly TokenSlot[];
  readonly routes: RenderedRoutes;
  /** What the agent can reach, for the stack output; no secret in it. */
  readonly egressPolicy: EgressPolicy;
  /** The rendered config of the bottle's own pipelock; absent with pipelock by URL. */
  readonly pipelockConfig?: PipelockFile;
  /** What the proxy uses as HTTPS_PROXY / HTTP_PROXY. */
  readonly pipelockUrl: string;
  readonly commands: BottleCommands;
  /** The agent's workspace; absent with `workspace: false`. */
  readonly workspace?: WorkspacePlan;
}

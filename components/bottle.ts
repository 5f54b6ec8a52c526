/**
 * The Bottle component: turns a bottle's plan (plan.ts) into tls and docker resources, and
 * nothing more. Every decision is in the plan; this file only resolves references (the CA,
 * the tokens, the proxy image) into Pulumi inputs.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { caKeyPem, caTrustStoreBase64, declareCa, type Ca } from "./bottle-ca";
import { NO_OUTSIDE_RESOLVER } from "./constants";
import { commonOutputs, namesByRole, type CommonBottleOutputs } from "./bottle-outputs";
import type { ContainerRole, NetworkRole } from "./naming";
import type { BottlePlan, ContainerPlan, EnvVar, FileContent, NetworkRef } from "./plan-types";
import { declareWorkspace, type DockerWorkspace } from "./bottle-workspace";
import type { TokenSource } from "./token-source";

export interface BottleArgs {
  /** The bottle's plan (planBottle); the component declares exactly this. */
  readonly plan: BottlePlan;
  /** The egress-proxy image containers run (declareProxyImage's `ref`). */
  readonly proxyImage: pulumi.Input<string>;
  /** Where the route tokens come from; each becomes a secret Output. */
  readonly tokens: Pick<TokenSource, "secret">;
}

/** What a user needs to use a bottle; exported per bottle by the stack. */
export interface BottleOutputs extends CommonBottleOutputs<"docker"> {
  readonly containers: pulumi.Output<Partial<Record<ContainerRole, string>>>;
  readonly networks: pulumi.Output<Partial<Record<NetworkRole, string>>>;
}

function labelInputs(labels: Readonly<Record<string, string>>): { label: string; value: string }[] {
  return Object.entries(labels).map(([label, value]) => ({ label, value }));
}

/** Env as `NAME=value`; a list holding a secret (a token, the CA key) is one secret Output as a whole. */
function envInputs(env: readonly EnvVar[], tokens: Pick<TokenSource, "secret">, ca: Ca): pulumi.Input<pulumi.Input<string>[]> {
  if (env.every((e) => e.value.kind === "text")) {
    return env.map((e) => `${e.name}=${e.value.kind === "text" ? e.value.text : ""}`);
  }
  const entries = env.map((e) => {
    switch (e.value.kind) {
      case "text":
        return pulumi.output(`${e.name}=${e.value.text}`);
      case "token":
        return pulumi.interpolate`${e.name}=${tokens.secret(e.value.tokenRef)}`;
      case "ca-key":
        return pulumi.interpolate`${e.name}=${caKeyPem(ca)}`;
    }
  });
  return pulumi.secret(pulumi.all(entries));
}

/** A file's content for the provider: text as `content`, the binary trust store as `contentBase64`. */
function contentInput(content: FileContent, ca: Ca): { content: pulumi.Input<string> } | { contentBase64: pulumi.Input<string> } {
  switch (content.kind) {
    case "text":
      return { content: content.text };
    case "ca-cert":
      return { content: ca.cert.certPem };
    case "ca-truststore":
      return { contentBase64: caTrustStoreBase64(ca) };
  }
}

export class Bottle extends pulumi.ComponentResource {
  readonly plan: BottlePlan;
  readonly ca: Ca;
  readonly networks: Readonly<Partial<Record<NetworkRole, docker.Network>>>;
  readonly containers: Readonly<Partial<Record<ContainerRole, docker.Container>>>;
  /** The agent's workspace volume and its init step, when the bottle has them. */
  readonly workspace?: DockerWorkspace;
  readonly outputs: BottleOutputs;
  /** Every resource the bottle declared, for callers that wait until all are registered. */
  readonly resources: readonly pulumi.CustomResource[];

  constructor(name: string, args: BottleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("bot-bottle:index:Bottle", name, {}, opts);
    const { plan } = args;
    this.plan = plan;

    this.ca = declareCa(plan.ca, this);

    // fixed Docker names: a replacement must delete the old object before creating the new one
    const named = { parent: this, deleteBeforeReplace: true };
    const networks: Partial<Record<NetworkRole, docker.Network>> = {};
    for (const n of plan.networks) {
      networks[n.role] = new docker.Network(
        n.resourceName,
        { name: n.name, driver: "bridge", internal: n.internal, options: { ...n.options }, labels: labelInputs(n.labels) },
        named,
      );
    }
    this.networks = networks;

    const networkInput = (ref: NetworkRef): pulumi.Input<string> => {
      if (ref.kind === "existing") return ref.name;
      const net = networks[ref.role];
      if (!net) throw new Error(`internal: plan of bottle ${plan.name} attaches to undeclared network ${ref.role}`);
      return net.name;
    };
    const workspace = plan.workspace ? declareWorkspace(plan.workspace, { parent: this }) : undefined;
    if (workspace) this.workspace = workspace;
    const containers: Partial<Record<ContainerRole, docker.Container>> = {};
    for (const c of plan.containers) {
      const mounted = c.workspace && workspace ? workspace : undefined;
      containers[c.role] = this.declareContainer(c, args, networkInput, mounted, { ...named, ...(mounted?.init ? { dependsOn: [mounted.init] } : {}) });
    }
    this.containers = containers;

    this.resources = [
      this.ca.key, this.ca.cert, ...Object.values(networks), ...(workspace ? workspace.resources : []), ...Object.values(containers),
    ].filter((r) => r !== undefined);
    this.outputs = outputsOf(plan, containers, networks);
    this.registerOutputs({ ...this.outputs });
  }

  private declareContainer(
    c: ContainerPlan,
    args: BottleArgs,
    networkInput: (ref: NetworkRef) => pulumi.Input<string>,
    workspace: DockerWorkspace | undefined,
    opts: pulumi.CustomResourceOptions,
  ): docker.Container {
    return new docker.Container(
      c.resourceName,
      {
        name: c.name,
        image: c.image.kind === "proxy-image" ? args.proxyImage : c.image.ref,
        ...(c.command !== undefined ? { command: [...c.command] } : {}),
        user: c.user,
        envs: envInputs(c.env, args.tokens, this.ca),
        uploads: c.uploads.map((u) => ({ file: u.file, permissions: u.permissions, ...contentInput(u.content, this.ca) })),
        networksAdvanced: c.networks.map((a) => ({ name: networkInput(a.network), aliases: [...a.aliases] })),
        labels: labelInputs(c.labels),
        capabilities: { drops: [...c.capDrop] },
        securityOpts: [...c.securityOpts],
        memory: c.memoryMb,
        memorySwap: c.memorySwapMb,
        cpus: c.cpus,
        ...(c.nproc !== undefined ? { ulimits: [{ name: "nproc", soft: c.nproc, hard: c.nproc }] } : {}),
        ...(c.healthcheck !== undefined ? { healthcheck: { ...c.healthcheck, tests: [...c.healthcheck.tests] } } : {}),
        restart: c.restart,
        ...(c.names === "bottle" ? { dns: [NO_OUTSIDE_RESOLVER] } : {}),
        ...(c.workspace && workspace ? { mounts: [workspace.mount], workingDir: workspace.workingDir } : {}),
        mustRun: true,
      },
      opts,
    );
  }
}

function outputsOf(
  plan: BottlePlan,
  containers: Partial<Record<ContainerRole, docker.Container>>,
  networks: Partial<Record<NetworkRole, docker.Network>>,
): BottleOutputs {
  return {
    ...commonOutputs("docker", plan, Object.values(containers).map((c) => c?.id)),
    containers: namesByRole(containers, (c) => c.name),
    networks: namesByRole(networks, (n) => n.name),
  };
}

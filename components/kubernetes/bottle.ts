/**
 * The KubernetesBottle component: a bottle's plan (plan.ts) declared on a cluster. Every object
 * comes from objects.ts and network-policies.ts; this file resolves the deploy-time values (the
 * CA, the tokens, the proxy image, the Services' addresses) and declares nothing else.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { caKeyPem, caTrustStoreBase64, declareCa, type Ca } from "../bottle-ca";
import { commonOutputs, namesByRole, type CommonBottleOutputs } from "../bottle-outputs";
import { resourceName, type ContainerRole } from "../naming";
import type { BottlePlan } from "../plan-types";
import type { TokenSource } from "../token-source";
import { bottleLabels, namespaceOf } from "./names";
import { networkPolicies } from "./network-policies";
import { configMapArgs, deploymentArgs, namespaceArgs, secretArgs, servedRoles, serviceArgs, workspaceClaimArgs, type DeploymentRefs } from "./objects";
import type { KubernetesSettings } from "./settings";

export interface KubernetesBottleArgs {
  readonly plan: BottlePlan;
  readonly settings: KubernetesSettings;
  /** The proxy image as the cluster pulls it, its pull policy, and (local build) its id. */
  readonly proxyImage: { readonly ref: pulumi.Input<string>; readonly pullPolicy: string; readonly id?: pulumi.Input<string> };
  readonly tokens: Pick<TokenSource, "secret">;
  readonly provider: k8s.Provider;
  /** The stack's shared namespace, when `kubernetes.namespace` names one. */
  readonly sharedNamespace?: k8s.core.v1.Namespace;
}

export interface KubernetesBottleOutputs extends CommonBottleOutputs<"kubernetes"> {
  readonly namespace: pulumi.Output<string>;
  readonly deployments: pulumi.Output<Partial<Record<ContainerRole, string>>>;
  readonly services: pulumi.Output<Partial<Record<ContainerRole, string>>>;
}

export class KubernetesBottle extends pulumi.ComponentResource {
  readonly plan: BottlePlan;
  readonly ca: Ca;
  readonly deployments: Readonly<Partial<Record<ContainerRole, k8s.apps.v1.Deployment>>>;
  /** The agent's workspace claim, when the bottle has one. */
  readonly workspaceClaim?: k8s.core.v1.PersistentVolumeClaim;
  readonly outputs: KubernetesBottleOutputs;
  /** Every resource the bottle declared, for callers that wait until all are registered. */
  readonly resources: readonly pulumi.CustomResource[];

  constructor(name: string, args: KubernetesBottleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("bot-bottle:index:KubernetesBottle", name, {}, opts);
    const { plan, settings } = args;
    this.plan = plan;
    this.ca = declareCa(plan.ca, this);
    const base = { parent: this, provider: args.provider };
    // deleting a namespace deletes every claim in it: a bottle's own namespace holding a
    // workspace that outlives the stack is kept with it (empty but for the claim)
    const retained = plan.workspace?.retainOnDestroy === true && plan.workspace.source.kind === "volume";
    const namespace = args.sharedNamespace ?? new k8s.core.v1.Namespace(resourceName(plan.name, "namespace"),
      namespaceArgs(namespaceOf(plan.name, settings), bottleLabels(plan.name)), { ...base, deleteBeforeReplace: true, ...(retained ? { retainOnDelete: true } : {}) });
    // fixed names: a replacement must delete the old object first; all live in the namespace
    const inNamespace = { ...base, dependsOn: [namespace] };
    const named = { ...inNamespace, deleteBeforeReplace: true };

    const proxy = required(plan.containers.find((c) => c.role === "egress-proxy"), "proxy container");
    const secretInput = secretArgs(plan, proxy, { caKeyPem: caKeyPem(this.ca), token: (ref) => args.tokens.secret(ref) }, settings);
    const secret = new k8s.core.v1.Secret(
      resourceName(plan.name, "egress-proxy", "-secrets"),
      { ...secretInput, stringData: pulumi.secret(secretInput.stringData ?? {}) },
      { ...inNamespace, additionalSecretOutputs: ["data", "stringData"] },
    );
    const configMaps: Partial<Record<ContainerRole, k8s.core.v1.ConfigMap>> = {};
    for (const c of plan.containers) {
      if (c.uploads.length === 0) continue;
      configMaps[c.role] = new k8s.core.v1.ConfigMap(resourceName(plan.name, c.role, "-files"), configMapArgs(plan, c, { certPem: this.ca.cert.certPem, trustStoreBase64: caTrustStoreBase64(this.ca) }, settings), inNamespace);
    }
    const services: Partial<Record<ContainerRole, k8s.core.v1.Service>> = {};
    for (const role of servedRoles(plan)) {
      services[role] = new k8s.core.v1.Service(resourceName(plan.name, role, "-service"), serviceArgs(plan, role, settings), named);
    }
    const claim = plan.workspace?.source.kind === "volume"
      ? new k8s.core.v1.PersistentVolumeClaim(plan.workspace.source.resourceName, workspaceClaimArgs(plan, plan.workspace, settings), {
          ...inNamespace,
          retainOnDelete: plan.workspace.retainOnDestroy,
        })
      : undefined;
    if (claim) this.workspaceClaim = claim;
    const refs: DeploymentRefs = {
      ...(claim ? { workspaceClaim: claim.metadata.name } : {}),
      proxyImage: args.proxyImage.ref,
      ...(args.proxyImage.id !== undefined ? { proxyImageId: args.proxyImage.id } : {}),
      configMapName: (role) => required(configMaps[role], `ConfigMap of ${role}`).metadata.name,
      secretName: secret.metadata.name,
      serviceIp: (role) => required(services[role], `Service of ${role}`).spec.clusterIP,
    };
    const podOptions = {
      imagePullPolicy: settings.image_pull_policy,
      proxyImagePullPolicy: args.proxyImage.pullPolicy,
      pipelockInBottle: plan.pipelockConfig !== undefined,
    };
    const policies = networkPolicies(plan, settings).map((p) =>
      new k8s.networking.v1.NetworkPolicy(resourceName(plan.name, "policy", `-${p.id}`), p.args, named));
    // no Pod of the bottle may run before the policies that seal it exist (and on destroy the
    // Pods go first): a Pod is unrestricted until a policy selects it
    const sealed = { ...named, dependsOn: [namespace, ...policies] };
    const deployments: Partial<Record<ContainerRole, k8s.apps.v1.Deployment>> = {};
    for (const c of plan.containers) {
      deployments[c.role] = new k8s.apps.v1.Deployment(resourceName(plan.name, c.role), deploymentArgs(plan, c, refs, settings, podOptions), sealed);
    }
    this.deployments = deployments;
    this.resources = [
      this.ca.key, this.ca.cert, ...(args.sharedNamespace ? [] : [namespace]), secret, ...(claim ? [claim] : []),
      ...Object.values(configMaps), ...Object.values(services), ...Object.values(deployments), ...policies,
    ];

    this.outputs = outputsOf(plan, namespace, deployments, services);
    this.registerOutputs({ ...this.outputs });
  }
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`internal: ${what} is not declared`);
  return value;
}

function outputsOf(
  plan: BottlePlan,
  namespace: k8s.core.v1.Namespace,
  deployments: Partial<Record<ContainerRole, k8s.apps.v1.Deployment>>,
  services: Partial<Record<ContainerRole, k8s.core.v1.Service>>,
): KubernetesBottleOutputs {
  return {
    ...commonOutputs("kubernetes", plan, Object.values(deployments).map((d) => d?.metadata.name)),
    namespace: namespace.metadata.name,
    deployments: namesByRole(deployments, (d) => d.metadata.name),
    services: namesByRole(services, (s) => s.metadata.name),
  };
}

/**
 * The bot-bottle program: validate the stack config, then declare the proxy image and one
 * bottle per configured bottle, on Docker or on Kubernetes as the config says. `defineBottles`
 * takes a plain config object, so a test or the e2e suites can run it without Pulumi config;
 * `index.ts` feeds it from the stack.
 */
import * as pulumi from "@pulumi/pulumi";
import { Bottle, type BottleOutputs } from "./bottle";
import { BottleConfigError } from "./config-errors";
import type { StackConfig } from "./config-schema";
import { declareKubernetesBase } from "./kubernetes/stack";
import { KubernetesBottle, type KubernetesBottleOutputs } from "./kubernetes/bottle";
import { loadStack } from "./load-config";
import type { BottlePlan } from "./plan-types";
import { declareProxyImage } from "./proxy-image";
import type { TokenSource } from "./token-source";
import type * as docker from "@pulumi/docker";

export interface DefineOptions {
  /** The proxy's build context; defaults to this repository's ./proxy. */
  readonly proxyContext?: string;
}

export interface DefinedBottles {
  readonly bottles: Readonly<Record<string, Bottle | KubernetesBottle>>;
  /** The local proxy build; absent when only Kubernetes bottles run an image pulled from a registry. */
  readonly proxyImage?: docker.Image;
  /** Per bottle: how to enter it, how to read its audit log, its object names, its egress policy. */
  readonly outputs: Readonly<Record<string, BottleOutputs | KubernetesBottleOutputs>>;
}

/** Whether the stack needs the local proxy build: a Docker bottle, or a Kubernetes one without a pushed image. */
function needsLocalBuild(stack: StackConfig, plans: readonly BottlePlan[]): boolean {
  return plans.some((p) => p.target.backend === "docker" || stack.kubernetes.proxy_image === undefined);
}

/** Declare every bottle of `config` (the shape of `bot-bottle:*`), or throw every config problem at once. */
export function defineBottles(config: unknown, tokens: TokenSource, options: DefineOptions = {}): DefinedBottles {
  const loaded = loadStack(config, tokens);
  if (!loaded.ok) throw new BottleConfigError(loaded.errors);
  const { config: stack, plans } = loaded.value;
  const local = needsLocalBuild(stack, plans)
    ? declareProxyImage({
        imageName: stack.proxyImageName,
        ...(stack.proxyBaseImage !== undefined ? { baseImage: stack.proxyBaseImage } : {}),
        ...(options.proxyContext !== undefined ? { context: options.proxyContext } : {}),
      })
    : undefined;
  const onKubernetes = plans.filter((p) => p.target.backend === "kubernetes");
  const cluster = onKubernetes.length > 0 ? declareKubernetesBase(stack.kubernetes) : undefined;
  const bottles: Record<string, Bottle | KubernetesBottle> = {};
  const outputs: Record<string, BottleOutputs | KubernetesBottleOutputs> = {};
  for (const plan of plans) {
    let bottle: Bottle | KubernetesBottle;
    if (plan.target.backend === "docker") {
      if (!local) throw new Error("internal: a Docker bottle without the local proxy build");
      bottle = new Bottle(plan.name, { plan, proxyImage: local.ref, tokens });
    } else {
      if (!cluster) throw new Error("internal: a Kubernetes bottle without a provider");
      const pushed = stack.kubernetes.proxy_image;
      bottle = new KubernetesBottle(plan.name, {
        plan,
        settings: plan.target.settings,
        // the local build is found in the node's image store by its tag; its id rolls the Pod on a rebuild
        proxyImage: pushed !== undefined
          ? { ref: pushed, pullPolicy: stack.kubernetes.image_pull_policy }
          : { ref: stack.proxyImageName, pullPolicy: "Never", ...(local ? { id: local.ref } : {}) },
        tokens,
        provider: cluster.provider,
        ...(cluster.namespace ? { sharedNamespace: cluster.namespace } : {}),
      });
    }
    bottles[plan.name] = bottle;
    outputs[plan.name] = bottle.outputs;
  }
  return { bottles, ...(local ? { proxyImage: local.image } : {}), outputs };
}

/** The stack's `bot-bottle:*` keys as a plain object for `defineBottles`; tokens are read separately. */
export function readStackConfig(config: pulumi.Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ["bottles", "kubernetes"]) {
    let value: unknown;
    try {
      value = config.getObject<unknown>(key);
    } catch {
      // not JSON: let validation say what it should be, without echoing the value
      value = config.get(key);
    }
    if (value !== undefined) out[key] = value;
  }
  for (const key of ["proxyImageName", "proxyBaseImage", "backend"]) {
    const value = config.get(key);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

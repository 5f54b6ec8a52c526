/**
 * The bot-bottle program: validate the stack config, then declare the proxy image and one
 * Bottle per configured bottle. `defineBottles` takes a plain config object, so a test or the
 * e2e suite can run it without Pulumi config; `index.ts` feeds it from the stack.
 */
import * as pulumi from "@pulumi/pulumi";
import { Bottle, type BottleOutputs } from "./bottle";
import { BottleConfigError } from "./config-errors";
import { loadStack } from "./load-config";
import { declareProxyImage } from "./proxy-image";
import type { TokenSource } from "./token-source";
import type * as docker from "@pulumi/docker";

export interface DefineOptions {
  /** The proxy's build context; defaults to this repository's ./proxy. */
  readonly proxyContext?: string;
}

export interface DefinedBottles {
  readonly bottles: Readonly<Record<string, Bottle>>;
  readonly proxyImage: docker.Image;
  /** Per bottle: how to enter it, how to read its audit log, its Docker names. */
  readonly outputs: Readonly<Record<string, BottleOutputs>>;
}

/** Declare every bottle of `config` (the shape of `bot-bottle:*`), or throw every config problem at once. */
export function defineBottles(config: unknown, tokens: TokenSource, options: DefineOptions = {}): DefinedBottles {
  const loaded = loadStack(config, tokens);
  if (!loaded.ok) throw new BottleConfigError(loaded.errors);
  const { config: stack, plans } = loaded.value;
  const { image, ref } = declareProxyImage({
    imageName: stack.proxyImageName,
    ...(stack.proxyBaseImage !== undefined ? { baseImage: stack.proxyBaseImage } : {}),
    ...(options.proxyContext !== undefined ? { context: options.proxyContext } : {}),
  });
  const bottles: Record<string, Bottle> = {};
  const outputs: Record<string, BottleOutputs> = {};
  for (const plan of plans) {
    const bottle = new Bottle(plan.name, { plan, proxyImage: ref, tokens });
    bottles[plan.name] = bottle;
    outputs[plan.name] = bottle.outputs;
  }
  return { bottles, proxyImage: image, outputs };
}

/** The stack's `bot-bottle:*` keys as a plain object for `defineBottles`; tokens are read separately. */
export function readStackConfig(config: pulumi.Config): Record<string, unknown> {
  let bottles: unknown;
  try {
    bottles = config.getObject<unknown>("bottles");
  } catch {
    // not JSON: let validation say what it should be, without echoing the value
    bottles = config.get("bottles");
  }
  const out: Record<string, unknown> = {};
  if (bottles !== undefined) out.bottles = bottles;
  for (const key of ["proxyImageName", "proxyBaseImage"]) {
    const value = config.get(key);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

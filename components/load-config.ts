/**
 * Validate a stack config and plan every bottle, collecting every problem before anything is
 * declared: config shape (zod), routes against the shared routes.yaml schema, and the token
 * secrets each route names. Nothing here creates a resource.
 */
import { CONFIG_NAMESPACE } from "./constants";
import { formatConfigIssues, formatPath } from "./config-errors";
import { z } from "zod";
import { bottleSchema, routeConfigSchema, stackConfigSchema, type StackConfig } from "./config-schema";
import { backendSchema, kubernetesBottleProblems, kubernetesSchema } from "./kubernetes/settings";
import { planBottle } from "./plan";
import { MIN_ECHO_TOKEN_LENGTH } from "../proxy/src/echo/echo-forms";
import { renderRoutesFile } from "./routes-file";
import { assignTokenSlots, slotByRef } from "./token-slots";
import type { BottlePlan } from "./plan-types";
import type { TokenSource } from "./token-source";

export interface LoadedStack {
  readonly config: StackConfig;
  readonly plans: readonly BottlePlan[];
}

export type LoadResult = { ok: true; value: LoadedStack } | { ok: false; errors: string[] };

/** Problems with the secrets a bottle's routes name, each reported once at its first use. */
function tokenProblems(plan: BottlePlan, index: number, tokens: Pick<TokenSource, "status">, reported: Set<string>): string[] {
  const problems: string[] = [];
  const routes = plan.routes.parsed.routes;
  for (const { tokenRef, slot } of plan.tokenSlots) {
    if (reported.has(tokenRef)) continue;
    const status = tokens.status(tokenRef);
    if (status === "set") continue;
    reported.add(tokenRef);
    const at = routes.findIndex((r) => r.auth?.token_env === slot);
    const path = formatPath(["bottles", index, "egress_proxy", "routes", at, "auth", "token_ref"]);
    const what = status === "unset" ? "is not set" : status === "empty" ? "is empty"
      : `is shorter than ${MIN_ECHO_TOKEN_LENGTH} characters, too short for the proxy to tell it apart from data in answers`;
    problems.push(`${path}: the secret ${CONFIG_NAMESPACE}:${tokenRef} ${what}; run \`pulumi config set --secret ${tokenRef}\``);
  }
  return problems;
}

/**
 * Route problems of a bottle that is invalid elsewhere: its routes are still checked against
 * the shared schema when their shape is right, so one run reports both kinds.
 */
function routeProblemsOfInvalidBottle(candidate: unknown, index: number): string[] {
  const proxy = (candidate as { egress_proxy?: { routes?: unknown; on_echo?: unknown; dlp?: unknown } } | null)?.egress_proxy;
  const routes = z.array(routeConfigSchema).safeParse(proxy?.routes);
  if (!routes.success) return [];
  const slots = assignTokenSlots(routes.data.map((r) => r.auth?.token_ref));
  const bottleWide = { ...(typeof proxy?.on_echo === "string" ? { on_echo: proxy.on_echo } : {}), ...(proxy?.dlp === undefined ? {} : { dlp: proxy.dlp }) };
  const rendered = renderRoutesFile(routes.data, slotByRef(slots), ["bottles", index, "egress_proxy"], bottleWide);
  return rendered.ok ? [] : rendered.errors;
}

/** Validate `raw` (the stack config object) and plan each bottle; fail with every problem at once. */
export function loadStack(raw: unknown, tokens: Pick<TokenSource, "status">): LoadResult {
  const parsed = stackConfigSchema.safeParse(raw);
  const errors: string[] = parsed.success ? [] : formatConfigIssues(parsed.error.issues);
  // plan each bottle that is valid on its own too, so that route and token problems show up
  // in the same run as shape problems elsewhere
  const candidates: unknown[] = parsed.success
    ? parsed.data.bottles
    : Array.isArray((raw as { bottles?: unknown } | null)?.bottles) ? (raw as { bottles: unknown[] }).bottles : [];
  // the stack's backend and cluster settings, or their defaults when the stack config is invalid
  const stackBackend = parsed.success ? parsed.data.backend : backendSchema.catch("docker").parse((raw as { backend?: unknown } | null)?.backend ?? "docker");
  const kubernetes = parsed.success ? parsed.data.kubernetes : kubernetesSchema.catch(kubernetesSchema.parse({})).parse((raw as { kubernetes?: unknown } | null)?.kubernetes);
  const plans: BottlePlan[] = [];
  const reported = new Set<string>();
  candidates.forEach((candidate, index) => {
    const bottle = parsed.success ? parsed.data.bottles[index] : bottleSchema.safeParse(candidate).data;
    if (bottle === undefined) {
      errors.push(...routeProblemsOfInvalidBottle(candidate, index));
      return;
    }
    const backend = bottle.backend ?? stackBackend;
    if (backend === "kubernetes") {
      const problems = kubernetesBottleProblems(bottle);
      if (problems.length > 0) {
        errors.push(...problems.map(([path, message]) => `${formatPath(["bottles", index, ...path])}: ${message}`));
        return;
      }
    }
    const result = planBottle(bottle, index, backend === "kubernetes" ? { backend, settings: kubernetes } : { backend });
    if (!result.ok) {
      errors.push(...result.errors);
      return;
    }
    errors.push(...tokenProblems(result.plan, index, tokens, reported));
    plans.push(result.plan);
  });
  if (!parsed.success || errors.length > 0) return { ok: false, errors: [...new Set(errors)] };
  return { ok: true, value: { config: parsed.data, plans } };
}

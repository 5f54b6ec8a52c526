/** bot-bottle's Pulumi side: what index.ts, tests and the e2e suite may use. */
export { Bottle, type BottleArgs, type BottleOutputs } from "./bottle";
export { BottleConfigError, formatConfigIssues } from "./config-errors";
export { stackConfigSchema, bottleSchema, isPinnedImage } from "./config-schema";
export type { StackConfig, StackConfigInput, BottleConfig, RouteConfig, PipelockConfig } from "./config-schema";
export * as constants from "./constants";
export { loadStack, type LoadedStack, type LoadResult } from "./load-config";
export { containerName, networkName, labelsFor, resourceName } from "./naming";
export { renderPipelockConfig, type PipelockFile } from "./pipelock-config";
export { planBottle, type PlanResult } from "./plan";
export type * from "./plan-types";
export { declareProxyImage, PROXY_CONTEXT } from "./proxy-image";
export { defineBottles, readStackConfig, type DefineOptions, type DefinedBottles } from "./program";
export { renderRoutesFile, type RenderedRoutes } from "./routes-file";
export { assignTokenSlots, tokenSlotConflicts, type TokenSlot } from "./token-slots";
export { tokensFromConfig, tokensFromRecord, type TokenSource, type TokenStatus } from "./token-source";

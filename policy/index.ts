/**
 * bot-bottle's policy pack: `pulumi preview --policy-pack policy` (README.md). Constructing the
 * pack starts the analyzer's gRPC server, so nothing else may import this file; tests import
 * policies.ts.
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, policies } from "./policies";

new PolicyPack(PACK_NAME, {
  description: "Guardrails for bot-bottle stacks: sealed agents, hardened containers, pinned images, narrow credentialed routes, pipelock in the path.",
  enforcementLevel: "mandatory",
  policies,
});

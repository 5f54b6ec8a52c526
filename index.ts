/**
 * bot-bottle stack program: reads `bot-bottle:*` from stack config, validates it (every problem
 * at once, nothing created on a bad config) and declares one Bottle per configured bottle.
 * See components/README.md.
 */
import * as pulumi from "@pulumi/pulumi";
import { defineBottles, readStackConfig, tokensFromConfig } from "./components";

const config = new pulumi.Config();
const defined = defineBottles(readStackConfig(config), tokensFromConfig(config));

/** Per bottle: `enter` (a shell in the agent), `auditLog` (the proxy's decisions), Docker names, `egressPolicy` (what the agent can reach). */
export const bottles = defined.outputs;

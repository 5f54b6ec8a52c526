/**
 * `agent.env`: plain variables for the agent. Plain means not secret: the values sit in the
 * stack file, in Pulumi state and in the agent. A value that the proxy's request inspection would
 * take for a credential is refused, with the way to give the agent that credential instead
 * (a route's `auth`, and `agent_env` for the variable the agent's tools read).
 */
import { z } from "zod";
import { DlpScanner } from "../proxy/src/inspect/dlp-scan";
import { BOTTLE_SET_VARIABLES } from "./agent-runtime-env";

/** POSIX shell-safe names: what every runtime can read back. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_VALUE = 32 * 1024;

/** The default rules, no stack additions: the same judgement as an agent request with the defaults. */
const secretRules = new DlpScanner({ mode: "block", rules: [], allow: [] }, []);

/** Runtimes differ in whether variable names are case-sensitive (Windows tools, some shells): compare without case. */
const BOTTLE_SET_UPPER: ReadonlySet<string> = new Set([...BOTTLE_SET_VARIABLES].map((n) => n.toUpperCase()));

/** Why `name` cannot be an agent variable, or undefined. */
export function envNameProblem(name: string): string | undefined {
  if (!ENV_NAME.test(name)) return "must be a variable name (a letter or _, then letters, digits or _); e.g. GIT_AUTHOR_NAME";
  if (BOTTLE_SET_UPPER.has(name.toUpperCase())) {
    return "is set by the bottle (proxy, CA or runtime settings: components/README.md, The agent's environment); choose another name";
  }
  return undefined;
}

/** The rule a value breaks, if it looks like a secret. Never returns the value. */
export function secretLookingValue(value: string): string | undefined {
  return secretRules.find(Buffer.from(value, "utf8").toString("latin1"));
}

export const agentEnvSchema = z
  .record(z.string(), z.string({ error: "must be a string; quote numbers and booleans, e.g. \"1\"" }).max(MAX_VALUE, `must be at most ${MAX_VALUE} characters`))
  .superRefine((env, ctx) => {
    for (const [name, value] of Object.entries(env)) {
      const problem = envNameProblem(name);
      if (problem) {
        ctx.addIssue({ code: "custom", path: [name], message: problem });
        continue;
      }
      const rule = secretLookingValue(value);
      if (rule !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: [name],
          message: `looks like a secret (request inspection rule ${rule}), and agent.env is plain config the agent can read; put the secret in a Pulumi config secret, give it to the route that needs it (auth.token_ref) and name this variable there with auth.agent_env, so that the agent holds a placeholder`,
        });
      }
    }
  });

export type AgentEnv = z.output<typeof agentEnvSchema>;

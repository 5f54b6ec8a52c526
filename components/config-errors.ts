/**
 * Config problems as one line each: `<field path>: <what is wrong>; <how to fix>`.
 * No message ever carries a config value: a user may have pasted a token into the wrong field.
 */
import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { CONFIG_NAMESPACE } from "./constants";

/** A config path as written in messages: `bot-bottle:bottles[0].egress_proxy.routes[2].host`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  path.forEach((p, i) => {
    if (typeof p === "number") out += `[${p}]`;
    else out += i === 0 ? `${CONFIG_NAMESPACE}:${String(p)}` : `.${String(p)}`;
  });
  return out || `${CONFIG_NAMESPACE}:(stack config)`;
}

/** zod's built-in messages, which name neither the problem plainly nor the fix. */
const ZOD_DEFAULT = /^(Invalid|Too (small|big)|Unrecognized key)/;

/** Our messages, and the shared routes schema's ("must be ..."), already say what to write; zod's defaults are rewritten. */
function describe(issue: z.core.$ZodIssue): string {
  if (!ZOD_DEFAULT.test(issue.message)) return issue.message;
  switch (issue.code) {
    case "unrecognized_keys":
      return `has unknown field(s) ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}; remove them or fix the spelling`;
    case "invalid_type":
      // zod strips `input` from reported issues; its default message names what it received
      return /received undefined/.test(issue.message)
        ? `is required; set it (a ${issue.expected})`
        : `must be a ${issue.expected}; change its type`;
    case "too_small":
      return issue.origin === "array"
        ? `must have at least ${String(issue.minimum)} item(s); add some or remove the field`
        : `is too small (minimum ${String(issue.minimum)}); raise it`;
    case "too_big":
      return issue.origin === "array"
        ? `must have at most ${String(issue.maximum)} item(s); remove some`
        : `is too large (maximum ${String(issue.maximum)}); lower it`;
    default:
      return `${issue.message.replace(/^Invalid input: /, "is invalid: ")}; fix this field`;
  }
}

/** One message per zod issue, with the config path in front. */
export function formatConfigIssues(issues: ReadonlyArray<z.core.$ZodIssue>, prefix: ReadonlyArray<PropertyKey> = []): string[] {
  return issues.map((issue) => `${formatPath([...prefix, ...issue.path])}: ${describe(issue)}`);
}

/** Every problem of a stack config, thrown once before anything is declared. */
export class BottleConfigError extends pulumi.RunError {
  constructor(readonly problems: readonly string[]) {
    super(
      `bot-bottle: the stack config has ${problems.length} problem(s); nothing was created:\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "BottleConfigError";
  }
}

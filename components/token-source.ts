/**
 * Where route tokens come from. In a stack: Pulumi config secrets (`token_ref` is the key in
 * the project namespace). In tests and the e2e suite: a plain record, wrapped as secrets.
 * Either way a token enters the program only as a secret Output.
 */
import * as pulumi from "@pulumi/pulumi";
import { MIN_ECHO_TOKEN_LENGTH } from "../proxy/src/echo/echo-forms";

/** `short`: the proxy would refuse it, since it searches answers for every token (echo-forms.ts). */
export type TokenStatus = "set" | "unset" | "empty" | "short";

export interface TokenSource {
  /** Whether the token under `key` can be used; the value is read only to test its length. */
  status(key: string): TokenStatus;
  /** The token as a secret Output; call only after `status` said "set". */
  secret(key: string): pulumi.Output<string>;
}

function statusOf(value: string | undefined): TokenStatus {
  if (value === undefined) return "unset";
  if (value.trim() === "") return "empty";
  return value.length < MIN_ECHO_TOKEN_LENGTH ? "short" : "set";
}

/** Tokens from the stack's config secrets (`pulumi config set --secret <key>`). */
export function tokensFromConfig(config: pulumi.Config): TokenSource {
  return {
    status: (key) => statusOf(config.get(key)),
    secret: (key) => config.requireSecret(key),
  };
}

/** Tokens from a record (tests, the e2e suite); each value becomes a secret Output. */
export function tokensFromRecord(values: Readonly<Record<string, string | undefined>>): TokenSource {
  return {
    status: (key) => statusOf(Object.prototype.hasOwnProperty.call(values, key) ? values[key] : undefined),
    secret: (key) => {
      const value = values[key];
      if (value === undefined) throw new Error(`internal: token ${key} used without a status check`);
      return pulumi.secret(value);
    },
  };
}

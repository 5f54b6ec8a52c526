/**
 * Credential placeholders: what the agent finds in a route's `agent_env` variable instead of the
 * credential. Not a secret: it is written in plain config, in `routes.yaml` and in the agent's
 * environment. SDKs and CLIs refuse to start without their key variable, and some check its
 * prefix, so the placeholder has the credential format's prefix and length where the route's
 * host names a known format. The proxy swaps it for the real credential on its own route and
 * refuses it anywhere else: seen elsewhere, it means the agent is copying its credentials.
 *
 * One a credential (a `token_ref`): routes that share a secret share its placeholder. Deterministic
 * (a hash of the bottle and the token_ref), so that a second `pulumi up` changes nothing in the
 * agent's environment.
 */
import { createHash } from "node:crypto";
import { hostMatches } from "../proxy/src/route/host";

/** Marks every placeholder, so that a human reading a log or an env dump knows it for one. */
export const PLACEHOLDER_MARK = "BottlePlaceholder";

interface Shape {
  /** Host patterns (exact, or `*.` for subdomains, as routes write them) whose credentials have this shape. */
  readonly hosts: readonly string[];
  readonly prefix: string;
  /** Characters after the prefix, the mark included. */
  readonly length: number;
  readonly suffix?: string;
}

/** Published prefixes and lengths of the credentials an SDK of that host reads from its variable. */
const SHAPES: readonly Shape[] = [
  { hosts: ["api.anthropic.com"], prefix: "sk-ant-api03-", length: 93, suffix: "AA" },
  { hosts: ["api.openai.com"], prefix: "sk-proj-", length: 156 },
  { hosts: ["github.com", "api.github.com", "*.githubusercontent.com"], prefix: "ghp_", length: 36 },
  { hosts: ["gitlab.com"], prefix: "glpat-", length: 20 },
  { hosts: ["huggingface.co", "*.huggingface.co"], prefix: "hf_", length: 34 },
  { hosts: ["registry.npmjs.org"], prefix: "npm_", length: 36 },
  { hosts: ["api.groq.com"], prefix: "gsk_", length: 52 },
  { hosts: ["api.replicate.com"], prefix: "r8_", length: 37 },
];

/** Any other host: long enough that the proxy can tell it apart from data. */
const GENERIC: Shape = { hosts: [], prefix: "bb-", length: 40 };

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function shapeOf(host: string): Shape {
  const h = host.toLowerCase().replace(/^\*\./, "");
  return SHAPES.find((s) => s.hosts.some((p) => hostMatches(p, h))) ?? GENERIC;
}

/** `length` base62 characters drawn from a hash of `seed` (repeated hashing for long shapes). */
function filler(seed: string, length: number): string {
  let out = "";
  for (let round = 0; out.length < length; round++) {
    const digest = createHash("sha256").update(`${seed}\0${round}`).digest();
    for (const byte of digest) {
      // 248 = 4 x 62: drop the bytes above it so that every character is equally likely
      if (byte < 248) out += BASE62[byte % 62];
    }
  }
  return out.slice(0, length);
}

/** The placeholder of the config secret `tokenRef` in `bottle`, shaped for the credentials of `host`. */
export function placeholderFor(bottle: string, host: string, tokenRef: string): string {
  const shape = shapeOf(host);
  const rest = filler(`bot-bottle placeholder\0${bottle}\0${tokenRef}`, shape.length - PLACEHOLDER_MARK.length);
  return `${shape.prefix}${PLACEHOLDER_MARK}${rest}${shape.suffix ?? ""}`;
}

/** A bottle's placeholders: by `token_ref` (for routes.yaml) and as the agent's variables. */
export interface BottlePlaceholders {
  readonly byRef: ReadonlyMap<string, string>;
  readonly env: ReadonlyArray<readonly [string, string]>;
}

/** Every `auth.agent_env` of the bottle's routes; the schema has refused a name used for two secrets. */
export function bottlePlaceholders(bottle: string, routes: ReadonlyArray<{ host: string; auth?: { token_ref: string; agent_env?: string } }>): BottlePlaceholders {
  const byRef = new Map<string, string>();
  const env = new Map<string, string>();
  for (const { host, auth } of routes) {
    if (auth?.agent_env === undefined) continue;
    const value = byRef.get(auth.token_ref) ?? placeholderFor(bottle, host, auth.token_ref);
    byRef.set(auth.token_ref, value);
    env.set(auth.agent_env, value);
  }
  return { byRef, env: [...env] };
}

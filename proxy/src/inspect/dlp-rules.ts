/**
 * The built-in secret rules of request inspection (DLP): one rule per published format, in
 * families (one file each), plus the generic keyword rule. Ids are stable: they appear in audit
 * lines and refusals and name rules in `dlp.allow`; README lists them (a test checks it). The
 * first rule that matches names a finding, so the more specific come first.
 */
import type { DlpRule } from "./dlp-rule";
import { AI_RULES } from "./dlp-rules-ai";
import { CLOUD_RULES } from "./dlp-rules-cloud";
import { CODE_RULES } from "./dlp-rules-code";
import { KEY_RULES } from "./dlp-rules-keys";
import { MESSAGING_RULES } from "./dlp-rules-messaging";
import { OBSERVABILITY_RULES } from "./dlp-rules-observability";
import { PAYMENT_RULES } from "./dlp-rules-payment";
import { REGISTRY_RULES } from "./dlp-rules-registry";
import { SECRETS_RULES } from "./dlp-rules-secrets";

export type { DlpRule } from "./dlp-rule";
export { cardValid, crc32TailValid, luhnValid, seedPhraseValid, wifValid } from "./dlp-checks";

export const BUILTIN_RULES: readonly DlpRule[] = [
  ...CLOUD_RULES, ...CODE_RULES, ...AI_RULES, ...PAYMENT_RULES, ...MESSAGING_RULES,
  ...REGISTRY_RULES, ...OBSERVABILITY_RULES, ...SECRETS_RULES, ...KEY_RULES,
];

/** The rule WIF keys found among encoded runs are reported under. */
export const WIF_RULE_ID = "crypto-private-key";

/**
 * The rule of high-entropy strings that match no named rule (dlp-entropy.ts). Off unless the
 * routes file names it in `rules`: LLM traffic is full of random-looking ids.
 */
export const ENTROPY_RULE_ID = "entropy";
/** Rules that are off by default and on where `dlp.rules` lists their id. */
export const OPT_IN_RULE_IDS: readonly string[] = [ENTROPY_RULE_ID];
/** The rule of the bottle's own route tokens on their way to another route's host. */
export const BOTTLE_TOKEN_RULE_ID = "bottle-token";
/** Extra rules of the stack config: `custom-<n>`, n counting from 0 in the order given. */
export const CUSTOM_RULE_PREFIX = "custom-";

/** Every rule id a config may name in `dlp.allow`. */
export const BUILTIN_RULE_IDS: readonly string[] = [...BUILTIN_RULES.map((r) => r.id), ENTROPY_RULE_ID, BOTTLE_TOKEN_RULE_ID];

/**
 * The built-in secret rules of request inspection (DLP): what agents find in workspaces and
 * could send out. Ids are stable: they appear in audit lines and refusals and name rules in
 * `dlp.allow`; README lists them. Every pattern is matched case-insensitively (an agent can change
 * the case of a key and change it back on the other side); a `valid` check removes look-alikes.
 */
import { createHash } from "node:crypto";
import { wordlist } from "@scure/bip39/wordlists/english";

export interface DlpRule {
  id: string;
  /** What it finds, for the README and error messages. */
  finds: string;
  pattern: string;
  /**
   * Lower-case strings every match contains: the rule's pattern runs only on text that holds one
   * (found for all rules at once, dlp-scan.ts). Without anchors it runs on every text.
   */
  anchors?: readonly string[];
  /**
   * Runs only on text that holds what the one pass of dlp-views.ts saw: `words`, 12 short words
   * in a row; `digits`, 13 digits in a row (single spaces or dashes between).
   */
  needs?: "words" | "digits";
  /** A further check of a match (a checksum, a word list); the match counts only if it passes. */
  valid?: (match: string) => boolean;
}

/**
 * A card number at the start of a match: some 13 to 19 of its first digits (separators ignored)
 * pass the Luhn check, so that an expiry date or a CVV after the number does not hide it.
 */
export function cardValid(text: string): boolean {
  const digits = text.replace(/[^0-9]/g, "");
  for (let length = Math.min(19, digits.length); length >= 13; length--) if (luhnValid(digits.slice(0, length))) return true;
  return false;
}

/** Luhn checksum over the digits of a text (separators ignored). */
export function luhnValid(text: string): boolean {
  const digits = text.replace(/[^0-9]/g, "");
  if (digits.length < 13 || digits.length > 19) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

const BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/** A Bitcoin WIF private key: base58 with a valid double-SHA-256 checksum and the 0x80 version byte. */
export function wifValid(text: string): boolean {
  let n = 0n;
  for (const ch of text) {
    const v = BASE58.indexOf(ch);
    if (v === -1) return false;
    n = n * 58n + BigInt(v);
  }
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const bytes = Buffer.from(hex, "hex");
  if (bytes.length !== 37 && bytes.length !== 38) return false;
  const body = bytes.subarray(0, bytes.length - 4);
  const check = createHash("sha256").update(createHash("sha256").update(body).digest()).digest().subarray(0, 4);
  return body[0] === 0x80 && check.equals(bytes.subarray(bytes.length - 4));
}

const BIP39 = new Set(wordlist);

/** At least 12 words in a row from the BIP-39 English list: the shortest seed phrase. */
export function seedPhraseValid(text: string): boolean {
  let run = 0;
  for (const w of text.toLowerCase().split(/[\s,"']+/)) {
    run = BIP39.has(w) ? run + 1 : 0;
    if (run >= 12) return true;
  }
  return false;
}

const WORD = "[a-z]{3,8}";

export const BUILTIN_RULES: readonly DlpRule[] = [
  { id: "aws-access-key-id", finds: "AWS access key ids (AKIA..., ASIA...)", pattern: "(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}", anchors: ["akia", "asia", "abia", "acca"] },
  { id: "aws-secret-access-key", finds: "an AWS secret access key next to its name", pattern: "aws.{0,24}?(?:secret|private).{0,24}?[\"'=:\\s]{1,4}[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])", anchors: ["aws"] },
  { id: "gcp-api-key", finds: "Google API keys (AIza...)", pattern: "AIza[0-9A-Za-z_-]{35}", anchors: ["aiza"] },
  { id: "gcp-service-account", finds: "Google service account key files", pattern: "\"private_key_id\"\\s*:\\s*\"[0-9a-f]{40}\"", anchors: ["private_key_id"] },
  { id: "azure-storage-key", finds: "Azure storage account keys and SAS signatures", pattern: "AccountKey=[A-Za-z0-9+/]{86}==|[?&]sig=[A-Za-z0-9%+/]{40,512}(?:%3D|=)", anchors: ["accountkey=", "sig="] },
  { id: "github-token", finds: "GitHub tokens (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_)", pattern: "gh[pousr]_[A-Za-z0-9]{36}|(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{60,255}", anchors: ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"] },
  { id: "gitlab-token", finds: "GitLab tokens (glpat-, gldt-, glrt-...)", pattern: "(?<![A-Za-z0-9_-])gl(?:pat|dt|rt|cbt|ptt|ft|imt|agent|oas|soat)-[A-Za-z0-9_-]{20,255}", anchors: ["glpat-", "gldt-", "glrt-", "glcbt-", "glptt-", "glft-", "glimt-", "glagent-", "gloas-", "glsoat-"] },
  { id: "slack-token", finds: "Slack tokens and webhook URLs", pattern: "(?<![A-Za-z0-9-])xox[abposr]-[A-Za-z0-9-]{10,255}|hooks\\.slack\\.com/services/T[A-Z0-9]{1,32}/B[A-Z0-9]{1,32}/[A-Za-z0-9]{20,64}", anchors: ["xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-", "hooks.slack.com"] },
  { id: "stripe-key", finds: "Stripe secret and restricted keys", pattern: "(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{24,255}", anchors: ["sk_live_", "rk_live_", "sk_test_", "rk_test_"] },
  { id: "anthropic-key", finds: "Anthropic API keys (sk-ant-...)", pattern: "(?<![A-Za-z0-9_-])sk-ant-[A-Za-z0-9_-]{32,255}", anchors: ["sk-ant-"] },
  { id: "openai-key", finds: "OpenAI API keys (sk-..., sk-proj-...)", pattern: "(?<![A-Za-z0-9_-])sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{40,255}", anchors: ["sk-"] },
  { id: "npm-token", finds: "npm access tokens (npm_...)", pattern: "npm_[A-Za-z0-9]{36}", anchors: ["npm_"] },
  { id: "pypi-token", finds: "PyPI API tokens (pypi-AgEIcHlwaS5vcmc...)", pattern: "(?<![A-Za-z0-9_-])pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{40,255}", anchors: ["pypi-ageichlwas5vcmc"] },
  { id: "jwt", finds: "JSON Web Tokens", pattern: "(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,4096}\\.eyJ[A-Za-z0-9_-]{8,4096}\\.[A-Za-z0-9_-]{16,}", anchors: ["eyj"] },
  { id: "ssh-private-key", finds: "OpenSSH and PuTTY private keys", pattern: "-----BEGIN OPENSSH PRIVATE KEY-----|PuTTY-User-Key-File-\\d+:", anchors: ["-----begin openssh private key-----", "putty-user-key-file-"] },
  { id: "private-key", finds: "PEM and PGP private keys", pattern: "-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----", anchors: ["private key"] },
  { id: "database-url", finds: "database URLs with a password", pattern: "(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\\+srv)?|rediss?|amqps?|mssql|sqlserver|clickhouse)://[^\\s:@/\"']{1,256}:[^\\s@/\"']{1,256}@[^\\s/\"']{1,256}", anchors: ["postgres://", "postgresql://", "mysql://", "mariadb://", "mongodb://", "mongodb+srv://", "redis://", "rediss://", "amqp://", "amqps://", "mssql://", "sqlserver://", "clickhouse://"] },
  { id: "card-number", finds: "payment card numbers (issuer prefix and Luhn check)", pattern: "\\b(?:4|5[1-5]|2[2-7]|3[47]|6[05])(?:[ -]?\\d){12,18}\\b", valid: cardValid, needs: "digits" },
  // WIF keys are found among the encoded runs (dlp-views.ts): a run of 51 or 52 base58 characters with a valid checksum
  { id: "crypto-private-key", finds: "Bitcoin WIF keys, and hex private keys named as such", pattern: "(?:priv(?:ate)?|secret)[_ -]?key[\"'\\s:=]{1,5}(?:0x)?[0-9a-f]{64}\\b", anchors: ["privkey", "priv_key", "priv-key", "priv key", "privatekey", "private_key", "private-key", "private key", "secretkey", "secret_key", "secret-key", "secret key"] },
  { id: "seed-phrase", finds: "BIP-39 seed phrases (12 to 24 words of its list)", pattern: `\\b${WORD}(?:[\\s,"']{1,4}${WORD}){11}`, valid: seedPhraseValid, needs: "words" },
];

/** The rule WIF keys found among encoded runs are reported under. */
export const WIF_RULE_ID = "crypto-private-key";

/** The rule of high-entropy strings that match no named rule (dlp-entropy.ts). */
export const ENTROPY_RULE_ID = "entropy";
/** The rule of the bottle's own route tokens on their way to another route's host. */
export const BOTTLE_TOKEN_RULE_ID = "bottle-token";
/** Extra rules of the stack config: `custom-<n>`, n counting from 0 in the order given. */
export const CUSTOM_RULE_PREFIX = "custom-";

/** Every rule id a config may name in `dlp.allow`. */
export const BUILTIN_RULE_IDS: readonly string[] = [...BUILTIN_RULES.map((r) => r.id), ENTROPY_RULE_ID, BOTTLE_TOKEN_RULE_ID];

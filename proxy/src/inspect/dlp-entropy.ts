/**
 * The entropy rule of request inspection (opt-in: `dlp.rules: [entropy]`): a string that looks
 * like a random key and matches no named rule. The thresholds are documented in the README; what
 * passes them is data that merely looks random (digests by name, public keys, provider ids,
 * encoded text). Pure.
 */
import { knownNonSecret, PUBLIC_BEFORE } from "./dlp-known-ids";

/** Entropy rule: runs of this many characters of the base64/base62 alphabets... */
export const ENTROPY_MIN_LENGTH = 24;
export const ENTROPY_MAX_LENGTH = 100;
/**
 * ...with at least this Shannon entropy per character: log2(length) - 0.85, at most 4.5 (what 99 %
 * of random base62 strings of that length reach: 3.7 bits at 24 characters, 4.15 at 32)...
 */
export function entropyThreshold(length: number): number {
  return Math.min(4.5, Math.log2(length) - 0.85);
}
/** ...and changing between upper case, lower case and digits this often (random: about 0.6; camelCase words: under 0.25). */
export const ENTROPY_MIN_SWITCHES = 0.35;

/** Stripe's publishable keys are public by design. */
const PUBLISHABLE = /^pk_(?:live|test)_/;

/** Shannon entropy of `s`, in bits per character. */
export function shannonEntropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** A string that looks random enough to be a key: upper, lower and digits, high entropy, not hex, not a digest. */
export function looksRandom(run: string, before: string): boolean {
  const core = run.replace(/=+$/, "");
  if (core.length < ENTROPY_MIN_LENGTH || core.length > ENTROPY_MAX_LENGTH) return false;
  if (!/[A-Z]/.test(core) || !/[a-z]/.test(core) || !/[0-9]/.test(core)) return false;
  if (/^[0-9a-f-]+$/i.test(core)) return false;
  if (PUBLISHABLE.test(core) || knownNonSecret(core) || PUBLIC_BEFORE.test(before) || encodesText(core)) return false;
  return classSwitches(core) >= ENTROPY_MIN_SWITCHES && shannonEntropy(core) >= entropyThreshold(core.length);
}

/**
 * Whether a base64 run decodes to mostly printable text (encoded JSON, a JWT header): that is
 * data, searched by the other rules once decoded, not a key. Random bytes are about a third printable.
 */
export function encodesText(run: string): boolean {
  const bytes = Buffer.from(run, "base64");
  if (bytes.length === 0) return false;
  let printable = 0;
  for (const b of bytes) if ((b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x0d || b === 0x09) printable++;
  return printable / bytes.length >= 0.6;
}

/** Share of neighbouring characters of different kinds (upper, lower, digit, other). */
export function classSwitches(s: string): number {
  const kind = (c: string) => (c >= "a" && c <= "z" ? 0 : c >= "A" && c <= "Z" ? 1 : c >= "0" && c <= "9" ? 2 : 3);
  let switches = 0;
  for (let i = 1; i < s.length; i++) if (kind(s[i] as string) !== kind(s[i - 1] as string)) switches++;
  return switches / Math.max(1, s.length - 1);
}

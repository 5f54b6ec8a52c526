/**
 * What a request-inspection rule is, and the small pattern helpers the rule tables share. A rule
 * per published format: its prefix, alphabet and length, a checksum where the format has one,
 * and the case as the format has it (a rule marked `anyCase` ignores case: keywords, schemes,
 * PEM armour, digits). Pure.
 */

/** The families of the README's rule table; each has its own file of rules. */
export const DLP_FAMILIES = ["cloud", "code", "ai", "payment", "messaging", "registry", "observability", "secrets", "keys", "generic"] as const;
export type DlpFamily = (typeof DLP_FAMILIES)[number];

export interface DlpRule {
  id: string;
  family: DlpFamily;
  /** What it finds, one line, for the README and error messages. */
  finds: string;
  pattern: string;
  /** Matched in any case (JavaScript's `i` flag); otherwise the case is the format's. */
  anyCase?: boolean;
  /**
   * Lower-case strings every match contains, in any case: the rule's pattern runs only on text
   * that holds one (found for all rules at once, dlp-scan.ts). Without anchors it runs on every text.
   */
  anchors?: readonly string[];
  /**
   * Runs only on text that holds what the one pass of dlp-views.ts saw: `words`, 12 short words
   * in a row; `digits`, 13 digits in a row (single spaces or dashes between); `dotted`, 24 token
   * characters before a dot.
   */
  needs?: "words" | "digits" | "dotted";
  /**
   * A further check of a match (a checksum, a word list, the name it is assigned to), given the
   * match and the text it is in; the match counts only if it passes. Without one, a match counts
   * unless its tail is a placeholder (`placeholderTail`).
   */
  valid?: (match: RegExpExecArray, text: string) => boolean;
  /**
   * A search of a whole text (its latin1 bytes) that the scanner runs instead of the pattern and
   * its check, for a rule that reads words, not characters: the pattern would be tried again at
   * every word of prose. The pattern and check still define a match (the tests hold the two to agree).
   */
  scan?: (bytes: Uint8Array) => boolean;
}

/** A literal in any case inside a case-sensitive pattern: `ci("aws")` is `[aA][wW][sS]`. */
export function ci(literal: string): string {
  return [...literal].map((c) => (/[a-z]/i.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&"))).join("");
}

/** The start of a token: no character of the usual token alphabets just before it. */
export const START = "(?<![A-Za-z0-9_-])";
/** The end of a token: no character of the usual token alphabets just after it. */
export const END = "(?![A-Za-z0-9_-])";

/**
 * A key's last characters that are a placeholder, not a key: `AKIAXXXXXXXXXXXXXXXX`,
 * `ghp_000000...`. Random keys have at least 6 different characters in any 16 (hex included).
 */
export function placeholderTail(match: string): boolean {
  return new Set(match.slice(-16)).size < 6;
}

/** Upper case, lower case and digits, each at least once: what a random base62 key of 20+ characters has. */
export function mixedCase(text: string): boolean {
  return /[A-Z]/.test(text) && /[a-z]/.test(text) && /[0-9]/.test(text);
}

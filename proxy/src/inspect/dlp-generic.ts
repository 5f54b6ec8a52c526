/**
 * The generic rule: a value that looks like a key, assigned to a name that says it is one
 * (`api_key = "..."`, `"client_secret": "..."`, `PASSWORD=...`, `Bearer ...`). Without the name
 * a random-looking string is no finding (LLM traffic is full of ids and hashes); with it, the
 * value must still look random, and must not be a placeholder, an identifier or a known
 * non-secret shape (dlp-known-ids.ts). Pure.
 */
import { knownNonSecret } from "./dlp-known-ids";
import { shannonEntropy } from "./dlp-entropy";

const KEYWORD = [
  String.raw`(?:(?:api|access|secret|private|client|auth|app|master|signing|encryption|session)[_.-]?(?:key|secret|token)`,
  String.raw`apikey|secret|token|passw(?:or)?d|passphrase|pwd|credentials?)`,
].join("|");
const QUOTE = String.raw`(?:\\?["'\x60])?`;
const VALUE = String.raw`([A-Za-z0-9+/=_.~-]{16,256})(?![A-Za-z0-9+/=_.~-])`;

/** The generic rule's pattern (any case): a keyword, then an assignment or an auth scheme, then the value (group 1). */
export const GENERIC_PATTERN = `(?:${KEYWORD}${QUOTE}[ \\t]{0,4}(?::=|=>|[:=])[ \\t]{0,4}${QUOTE}|(?:bearer|basic)[ \\t]+)${VALUE}`;
export const GENERIC_ANCHORS = ["key", "secret", "token", "passw", "pwd", "passphrase", "credential", "bearer", "basic"] as const;

/** Names that end in a keyword and hold no secret: pagination cursors, CSRF tokens, public keys, counts, hashes. */
const HARMLESS_NAME = /page|next|cursor|continu|sync|resume|csrf|xsrf|public|publishable|max|num|count|hash|limit|length|size|placeholder|example|dummy|sample/i;
/** Values that say they are not a real key. */
const PLACEHOLDER = /example|sample|dummy|placeholder|your|xxxx|changeme|redacted|insert|replace|fake|test|secret|token|password|undefined|null/i;
/** Words and short numbers joined by separators: an identifier, a path or a version, not a key. */
const WORDS = /^(?:[A-Za-z][a-z]*[0-9]{0,4}|[A-Z]+[0-9]{0,4}|[0-9]{1,4})$/;

/**
 * Whether most of a value is words: pieces of 3 or more letters (camelCase and snake_case split
 * apart) cover 70 % of it, as in `buildP256KeyFromScalar`; a random key is mostly 1- and 2-letter pieces.
 */
function mostlyWords(value: string): boolean {
  let inWords = 0;
  for (const piece of value.match(/[A-Z]?[a-z]+|[A-Z]+(?![a-z])/g) ?? []) if (piece.length >= 3) inWords += piece.length;
  return inWords >= 0.7 * value.length;
}

/** Whether a value assigned to a secret's name looks like a real key. */
export function genericValueValid(value: string): boolean {
  if (!/[0-9]/.test(value) || !/[A-Za-z]/.test(value)) return false;
  if (knownNonSecret(value) || PLACEHOLDER.test(value) || mostlyWords(value)) return false;
  const parts = value.split(/[/._~=+-]+/).filter((p) => p.length > 0);
  if (parts.every((p) => WORDS.test(p))) return false;
  return new Set(value).size >= 8 && shannonEntropy(value) >= 3.2;
}

/** The name the match is assigned to: the identifier that ends where the keyword ends. */
function nameOf(match: RegExpExecArray, text: string): string {
  const before = text.slice(Math.max(0, match.index - 48), match.index);
  const head = /^[A-Za-z0-9_.-]*/.exec(match[0])?.[0] ?? "";
  return `${/[A-Za-z0-9_.-]*$/.exec(before)?.[0] ?? ""}${head}`;
}

/** The generic rule's check of a match of GENERIC_PATTERN in `text`. */
export function genericValid(match: RegExpExecArray, text: string): boolean {
  const value = match[1] ?? "";
  const scheme = /^(?:bearer|basic)[ \t]/i.exec(match[0]);
  if (scheme && /^basic/i.test(scheme[0])) return /^[\x20-\x7e]+:[\x20-\x7e]{6,}$/.test(Buffer.from(value, "base64").toString("latin1"));
  if (!scheme && HARMLESS_NAME.test(nameOf(match, text))) return false;
  // a call (`token = makeToken2(...)`) is code, not a value
  if (text.charAt(match.index + match[0].length) === "(") return false;
  return genericValueValid(value);
}

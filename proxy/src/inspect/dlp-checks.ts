/**
 * The checks of request-inspection rules that a pattern alone cannot make: checksums published
 * with a format (Luhn for card numbers, base58check for WIF keys, the CRC32 tail of GitHub and
 * npm tokens) and word lists (BIP-39). Pure; each takes the matched text.
 */
import { createHash } from "node:crypto";
import { wordlist } from "@scure/bip39/wordlists/english";

/** Luhn checksum over the digits of a text (separators ignored), 13 to 19 digits. */
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

/**
 * The lengths each issuer's numbers have, by prefix (ISO/IEC 7812 ranges the networks publish):
 * a 13-digit run that starts with 5 is no Mastercard, whatever its Luhn sum.
 */
const CARD_LENGTHS: readonly (readonly [RegExp, readonly number[]])[] = [
  [/^4/, [16, 19]],
  [/^(?:5[1-5]|2(?:2[2-9]|[3-6]|7[01]|720))/, [16]],
  [/^3[47]/, [15]],
  [/^(?:6011|65|64[4-9])/, [16, 19]],
];

/** Groups as cards are printed: all of 4 but the last (1 to 4), or Amex's 4-6-5; or no separator at all. */
function cardGroups(groups: readonly string[]): boolean {
  if (groups.length === 1) return true;
  if (groups.map((g) => g.length).join("-") === "4-6-5") return true;
  return groups.slice(0, -1).every((g) => g.length === 4) && (groups.at(-1)?.length ?? 0) <= 4;
}

/** One candidate number: an issuer prefix with one of its lengths, card-like groups, a valid Luhn sum. */
function oneCard(groups: readonly string[]): boolean {
  const digits = groups.join("");
  const lengths = CARD_LENGTHS.find(([prefix]) => prefix.test(digits))?.[1];
  return lengths !== undefined && lengths.includes(digits.length) && cardGroups(groups) && luhnValid(digits);
}

/**
 * A card number at the start of a match: the whole, or its first groups, so that an expiry date
 * or a CVV after the number does not hide it. One separator (space or dash) throughout, or none.
 */
export function cardValid(text: string): boolean {
  if (new Set(text.replace(/[0-9]/g, "")).size > 1) return false;
  const groups = text.split(/[ -]/);
  for (let n = groups.length; n >= 1; n--) if (oneCard(groups.slice(0, n))) return true;
  return false;
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
/**
 * The list's words are told apart by their first 4 letters (3 for the shortest): those letters,
 * 5 bits each, index a bit table and the word they begin, so that a word of prose is looked up
 * without a string or a hash.
 */
const BIP39_BY_START = new Map<number, Uint8Array>();
const BIP39_START_BITS = new Uint32Array((1 << 20) >>> 5);
for (const w of wordlist) {
  const bytes = Buffer.from(w, "latin1");
  const code = startCode(bytes, 0, bytes.length);
  BIP39_BY_START.set(code, bytes);
  BIP39_START_BITS[code >>> 5] = (BIP39_START_BITS[code >>> 5] as number) | (1 << (code & 31));
}

/** The first 4 letters of bytes[start, end) (fewer if shorter), 5 bits each, case folded. */
function startCode(bytes: Uint8Array, start: number, end: number): number {
  let code = 0;
  for (let i = start; i < Math.min(end, start + 4); i++) code = (code << 5) | ((bytes[i] as number) & 0x1f);
  return code;
}

/** Whether bytes[start, end), letters only, is a word of the list, in any case. */
function listed(bytes: Uint8Array, start: number, end: number): boolean {
  const code = startCode(bytes, start, end);
  if (((BIP39_START_BITS[code >>> 5] as number) & (1 << (code & 31))) === 0) return false;
  const word = BIP39_BY_START.get(code);
  if (!word || word.length !== end - start) return false;
  for (let i = 4; i < word.length; i++) if (((bytes[start + i] as number) | 0x20) !== word[i]) return false;
  return true;
}

/** Words of a seed phrase in a row: the shortest phrase has 12. */
const SEED_WORDS = 12;
/** What may stand between two words of a phrase: 1 to 4 of white space, commas and quotes. */
const MAX_GAP = 4;

function isLetter(c: number): boolean {
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x7a;
}

function isGap(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x2c || c === 0x22 || c === 0x27;
}

function isWordChar(c: number): boolean {
  return isLetter(c) || (c >= 0x30 && c <= 0x39) || c === 0x5f;
}

/** Whether bytes[from, to) is 1 to MAX_GAP gap characters. */
function gapBetween(bytes: Uint8Array, from: number, to: number): boolean {
  if (to - from < 1 || to - from > MAX_GAP) return false;
  for (let i = from; i < to; i++) if (!isGap(bytes[i] as number)) return false;
  return true;
}

/**
 * Whether a text (as latin1 bytes) holds SEED_WORDS words of the BIP-39 English list in a row
 * (any case), 1 to MAX_GAP gap characters apart, the first at a word's start: what the rule's
 * pattern and seedPhraseValid find together (so the last word may be the first 8 letters of a
 * longer one). One pass over the words: the pattern would be tried again at every word of prose.
 */
export function seedPhraseIn(bytes: Uint8Array): boolean {
  const n = bytes.length;
  let run = 0;
  /** Where the last word of the run ended. */
  let lastEnd = -1;
  for (let i = 0; i < n; ) {
    if (!isLetter(bytes[i] as number)) {
      i++;
      continue;
    }
    const start = i;
    while (i < n && isLetter(bytes[i] as number)) i++;
    const length = i - start;
    if (length < 3) {
      run = 0;
      continue;
    }
    const joined = run > 0 && gapBetween(bytes, lastEnd, start);
    if (length <= 8 && listed(bytes, start, i)) {
      run = joined ? run + 1 : start === 0 || !isWordChar(bytes[start - 1] as number) ? 1 : 0;
      lastEnd = i;
      if (run >= SEED_WORDS) return true;
      continue;
    }
    if (length > 8 && joined && run + 1 >= SEED_WORDS && listed(bytes, start, start + 8)) return true;
    run = 0;
  }
  return false;
}

/** At least 12 words in a row from the BIP-39 English list: the shortest seed phrase. */
export function seedPhraseValid(text: string): boolean {
  let run = 0;
  for (const w of text.toLowerCase().split(/[\s,"']+/)) {
    run = BIP39.has(w) ? run + 1 : 0;
    if (run >= 12) return true;
  }
  return false;
}

const CRC_TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 (IEEE 802.3, as zlib computes it) of a latin1 text. */
export function crc32(text: string): number {
  let c = 0xffffffff;
  for (let i = 0; i < text.length; i++) c = (CRC_TABLE[(c ^ text.charCodeAt(i)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** `n` in base62 (digits, then upper case, then lower case), left-padded with `0` to `width`. */
export function base62(n: number, width: number): string {
  let out = "";
  for (let v = n; v > 0; v = Math.floor(v / 62)) out = `${BASE62[v % 62] as string}${out}`;
  return out.padStart(width, "0");
}

/**
 * GitHub's and npm's token formats (2021): a prefix, 30 random base62 characters, then the
 * CRC-32 of those 30 in 6 base62 characters. `prefixLength` counts the underscore.
 */
export function crc32TailValid(token: string, prefixLength: number): boolean {
  const body = token.slice(prefixLength, token.length - 6);
  return body.length === 30 && base62(crc32(body), 6) === token.slice(-6);
}

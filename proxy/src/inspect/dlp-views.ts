/**
 * The texts request inspection reads in one piece of a request: the bytes as sent, and what
 * they decode to under the encodings that hide a secret from a naive match: percent-encoding
 * (twice), base64 and base64url (at each alignment), hex, and Unicode tricks (zero-width
 * characters, compatibility forms, Latin look-alikes from Cyrillic and Greek). Pure; each view
 * is a latin1 string (one character a byte) or, for Unicode folding, the folded text.
 */
import { ENTROPY_MAX_LENGTH, ENTROPY_MIN_LENGTH, looksRandom } from "./dlp-entropy";
import { wifValid } from "./dlp-rules";

export interface View {
  /** How the view was made: for tests and the reasoning, not for the audit line. */
  how: "raw" | "url" | "url2" | "json" | "unicode" | "base64" | "hex";
  text: string;
  /** `text` as latin1 bytes, one a character (characters past latin1 as spaces): what anchors are found in. */
  bytes: Buffer;
  /** What the one pass over it saw: which rules have something to read. */
  facts: TextFacts;
}

const PERCENT = /%[0-9a-f]{2}/i;
/** A character past ASCII: a UTF-8 sequence in latin1 text, which Unicode tricks need. */
export const NON_ASCII = /[\u0080-\uffff]/;
/** Encoded runs shorter than this hold no secret's distinctive part. */
const MIN_RUN = 16;
const HEX_MIN_RUN = 32;
/** The shortest first part of a Discord bot token (its `[MNO]` and 23 more), before its first dot. */
const DOTTED_PART = 24;
/** Bits of each byte in a run: upper, lower, digit, other base64 (`+/_-`); NOT_HEX marks what no hex digit is. */
export const UPPER = 1;
export const LOWER = 2;
export const DIGIT = 4;
const OTHER = 8;
/** Marks a byte that is a base64 character but no hex digit: a run with one is not all hex. */
const NOT_HEX = 16;
const KIND = new Uint8Array(256);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZ") KIND[c.charCodeAt(0)] = UPPER;
for (const c of "abcdefghijklmnopqrstuvwxyz") KIND[c.charCodeAt(0)] = LOWER;
for (const c of "0123456789") KIND[c.charCodeAt(0)] = DIGIT;
for (const c of "+/_-") KIND[c.charCodeAt(0)] = OTHER;
for (const c of "ghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ+/_-") KIND[c.charCodeAt(0)] = (KIND[c.charCodeAt(0)] as number) | NOT_HEX;

/** What one pass over a text saw, beyond its runs: which views and which rules it needs. */
export interface TextFacts {
  /** 12 words of 3 to 8 letters in a row, one space or newline apart: a seed phrase could be there. */
  words: boolean;
  /** 13 digits in a row, single spaces or dashes between: a card number could be there. */
  digits: boolean;
  /** A run of DOTTED_PART or more token characters followed by `.`: a Discord bot token could be there. */
  dotted: boolean;
  percent: boolean;
  backslash: boolean;
  /** A byte past ASCII: Unicode tricks could be there. */
  high: boolean;
  /** Share of control bytes (not tab or line breaks): text in any script has next to none, binary data about 12 %. */
  control: number;
}

/**
 * One pass over `bytes`: each maximal run of base64 characters of at least `min` bytes goes to
 * `found` with the kinds of characters it has (UPPER | LOWER | DIGIT, and whether all are hex),
 * and the facts that say which views and rules the text needs.
 */
export function encodedRuns(bytes: Uint8Array, min: number, found: (start: number, end: number, allHex: boolean, kinds: number) => void): TextFacts {
  // locals only in the loop: it runs over every byte of every request body
  let start = -1;
  let kinds = 0;
  let wordLength = 0;
  let words = 0;
  let gap = 0;
  let digitRun = 0;
  let control = 0;
  let sawWords = false;
  let sawDigits = false;
  let sawDotted = false;
  let flags = 0;
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    let byte = bytes[i] as number;
    let kind = KIND[byte] as number;
    if (kind !== 0) {
      // a run, read to its end in a loop of its own: most bytes of a body are in one
      start = i;
      kinds = 0;
      do {
        kinds |= kind;
        if (++i === n) break;
        byte = bytes[i] as number;
        kind = KIND[byte] as number;
      } while (kind !== 0);
      if ((kinds & (DIGIT | OTHER)) === 0) {
        // letters only (a word, or most of a key): all of it is one word, and no digits go on
        wordLength = i - start;
        digitRun = 0;
      } else {
        // a run that mixes in digits or `+/_-` is read again for them: rarer, and short in text
        for (let j = start; j < i; j++) {
          const k = KIND[bytes[j] as number] as number;
          if ((k & DIGIT) !== 0) {
            if (++digitRun >= 13) sawDigits = true;
          } else {
            if ((k & (UPPER | LOWER)) !== 0) wordLength++;
            if (bytes[j] !== 0x2d) digitRun = 0;
          }
        }
      }
      if (i === n) break;
      // a token's first part before a dot, as in Discord's tokens
      if (byte === 0x2e && i - start >= DOTTED_PART) sawDotted = true;
      if (i - start >= min) found(start, i, (kinds & NOT_HEX) === 0, kinds);
      start = -1;
    }
    // a word ends: 3 to 8 letters count, anything else breaks the run of words
    if (wordLength > 0) {
      if (wordLength >= 3 && wordLength <= 8) {
        if (++words >= 12) sawWords = true;
      } else words = 0;
      wordLength = 0;
      gap = 0;
    }
    // what this byte is, from one table: fewer branches on binary data, where they are unpredictable
    const info = BETWEEN[byte] as number;
    flags |= info;
    control += info >>> 5;
    // between words: up to 4 of space, tab, line breaks, comma and quotes (a JSON array of words)
    if ((info & B_SEPARATOR) !== 0) {
      if (++gap > 4) words = 0;
    } else words = 0;
    // spaces may sit between a card number's digits
    if ((info & B_SPACE) === 0) digitRun = 0;
  }
  if (start !== -1 && n - start >= min) found(start, n, (kinds & NOT_HEX) === 0, kinds);
  if (wordLength >= 3 && wordLength <= 8 && words + 1 >= 12) sawWords = true;
  return { words: sawWords, digits: sawDigits, dotted: sawDotted, percent: (flags & B_PERCENT) !== 0, backslash: (flags & B_BACKSLASH) !== 0, high: (flags & B_HIGH) !== 0, control: n === 0 ? 0 : control / n };
}

/** What a byte outside a run is, for encodedRuns: bits of its flags, and the control mark as bit 5 (a count). */
const B_PERCENT = 1;
const B_BACKSLASH = 2;
const B_HIGH = 4;
const B_SEPARATOR = 8;
const B_SPACE = 16;
const B_CONTROL = 32;
const BETWEEN = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  if (b >= 0x80) BETWEEN[b] = B_HIGH;
  else if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) BETWEEN[b] = B_CONTROL;
  else if (b === 0x7f) BETWEEN[b] = B_CONTROL;
}
BETWEEN[0x25] = B_PERCENT;
BETWEEN[0x5c] = B_BACKSLASH;
for (const c of " \t\r\n,\"'") BETWEEN[c.charCodeAt(0)] = (BETWEEN[c.charCodeAt(0)] as number) | B_SEPARATOR;
BETWEEN[0x20] = (BETWEEN[0x20] as number) | B_SPACE;

const BASE58 = new Uint8Array(256);
for (const c of "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz") BASE58[c.charCodeAt(0)] = 1;

/** A run that could be a WIF key: 51 or 52 base58 characters starting with 5, K or L. */
function wifShaped(bytes: Uint8Array, start: number, end: number): boolean {
  const length = end - start;
  const first = bytes[start] as number;
  if ((length !== 51 && length !== 52) || (first !== 0x35 && first !== 0x4b && first !== 0x4c)) return false;
  for (let i = start; i < end; i++) if (!BASE58[bytes[i] as number]) return false;
  return true;
}

/** Decoded stretches shorter than this hold no secret's distinctive part. */
const MIN_STRETCH = 12;

/**
 * The printable stretches of decoded bytes (at least MIN_STRETCH long), each pushed as latin1
 * text: a secret encoded is text once decoded, wherever it sits among binary bytes (padding
 * does not hide it), while random data decodes to bytes no rule reads.
 */
function printableStretches(bytes: Uint8Array, into: string[]): void {
  let start = -1;
  for (let i = 0; i <= bytes.length; i++) {
    const b = i < bytes.length ? (bytes[i] as number) : 0;
    if ((b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d) {
      if (start === -1) start = i;
    } else if (start !== -1) {
      if (i - start >= MIN_STRETCH) into.push(Buffer.from(bytes.buffer, bytes.byteOffset + start, i - start).toString("latin1"));
      start = -1;
    }
  }
}

/** Invisible characters an agent can put inside a secret: zero-width, joiners, BOM, soft hyphen, and friends. */
const INVISIBLE = /[\u00ad\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]/g;

/** Cyrillic and Greek letters that look like Latin ones (after NFKC, which already folds full-width forms). */
const LOOK_ALIKES: Record<string, string> = {
  А: "A", В: "B", Е: "E", К: "K", М: "M", Н: "H", О: "O", Р: "P", С: "C", Т: "T", Х: "X", У: "Y", І: "I", Ј: "J", Ѕ: "S",
  а: "a", е: "e", о: "o", р: "p", с: "c", у: "y", х: "x", і: "i", ј: "j", ѕ: "s", һ: "h", ԁ: "d", ԛ: "q", ԝ: "w",
  Α: "A", Β: "B", Ε: "E", Ζ: "Z", Η: "H", Ι: "I", Κ: "K", Μ: "M", Ν: "N", Ο: "O", Ρ: "P", Τ: "T", Υ: "Y", Χ: "X",
  ο: "o", ν: "v", ρ: "p", τ: "t", υ: "u", χ: "x", ι: "i", κ: "k",
};
const LOOK_ALIKE = new RegExp(`[${Object.keys(LOOK_ALIKES).join("")}]`, "g");

/** `%XX` to the byte it names (as one latin1 character); anything else stays. */
export function percentDecode(text: string): string {
  return text.replace(/%([0-9a-f]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** Fold what hides a secret from a match, on text read as UTF-8: invisible characters out, compatibility forms and look-alikes to ASCII. */
export function foldUnicode(latin1: string): string {
  return fold(Buffer.from(latin1, "latin1").toString("utf8"));
}

function fold(text: string): string {
  return text.normalize("NFKC").replace(INVISIBLE, "").replace(LOOK_ALIKE, (c) => LOOK_ALIKES[c] ?? c);
}

/**
 * The text folded as foldUnicode does, or undefined when folding changes nothing: characters
 * past ASCII that no folding touches (accents, dashes, quotes, emoji) hide nothing from a rule,
 * and the view would be the text again.
 */
export function foldedIfChanged(latin1: string): string | undefined {
  const text = Buffer.from(latin1, "latin1").toString("utf8");
  const folded = fold(text);
  return folded === text ? undefined : folded;
}

/** The first character of a hex pair that can start a printable byte (`0` for tab and line breaks, `2` to `7`). */
const HEX_PRINTABLE_HIGH = new Uint8Array(256);
for (const c of "0234567") HEX_PRINTABLE_HIGH[c.charCodeAt(0)] = 1;

/**
 * Whether hex decoding of bytes[from, end) can give a printable stretch: each printable byte's
 * first hex digit is 0 or 2 to 7, so a stretch needs MIN_STRETCH such pairs in a row. Random
 * hex (digests) and long runs of one digit decode to nothing worth a view and are not decoded.
 */
function hexMayPrint(bytes: Uint8Array, from: number, end: number): boolean {
  let streak = 0;
  for (let i = from; i + 1 < end; i += 2) {
    if (HEX_PRINTABLE_HIGH[bytes[i] as number] === 0) streak = 0;
    else if (++streak >= MIN_STRETCH) return true;
  }
  return false;
}

/** MIN_STRETCH pairs that hexMayPrint accepts, at any alignment: one native search rules most runs out. */
const HEX_MAY_PRINT = /(?:[02-7][0-9a-fA-F]){12}/;

/** Value of each base64 (and base64url) character, as Node decodes them. */
const B64_VALUE = new Uint8Array(256);
[..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"].forEach((c, i) => (B64_VALUE[c.charCodeAt(0)] = i));
B64_VALUE["-".charCodeAt(0)] = 62;
B64_VALUE["_".charCodeAt(0)] = 63;

/**
 * Bit p of a base64 character's entry: the character may sit at position p of a quantum of a
 * printable stretch. A printable byte has its top bit clear, and that bit comes from one
 * character of each quantum's first three (bit 5 of the first, bit 3 of the second, bit 1 of the
 * third; the fourth gives none).
 */
const B64_PRINTABLE_AT = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  const v = B64_VALUE[b] as number;
  B64_PRINTABLE_AT[b] = (v < 32 ? 1 : 0) | ((v & 8) === 0 ? 2 : 0) | ((v & 2) === 0 ? 4 : 0) | 8;
}

/**
 * Which of the 4 alignments of bytes[start, end) (bit `lead`: decoding from start + lead) can
 * give a printable stretch: one needs MIN_STRETCH characters in a row that allow it, and at
 * least MIN_RUN characters to decode. One pass for all four, with a streak each.
 */
export function base64Leads(bytes: Uint8Array, start: number, end: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let leads = 0;
  for (let i = start; i < end; i++) {
    const ok = B64_PRINTABLE_AT[bytes[i] as number] as number;
    const offset = i - start;
    const phase = offset & 3;
    // alignment `lead` reads this character at quantum position (phase - lead) & 3
    s0 = ((ok >> phase) & 1) !== 0 ? s0 + 1 : 0;
    s1 = ((ok >> ((phase + 3) & 3)) & 1) !== 0 && offset >= 1 ? s1 + 1 : 0;
    s2 = ((ok >> ((phase + 2) & 3)) & 1) !== 0 && offset >= 2 ? s2 + 1 : 0;
    s3 = ((ok >> ((phase + 1) & 3)) & 1) !== 0 && offset >= 3 ? s3 + 1 : 0;
    if (s0 >= MIN_STRETCH) leads |= 1;
    if (s1 >= MIN_STRETCH) leads |= 2;
    if (s2 >= MIN_STRETCH) leads |= 4;
    if (s3 >= MIN_STRETCH) leads |= 8;
  }
  // an alignment with fewer than MIN_RUN characters left decodes nothing worth a view
  const length = end - start;
  for (let lead = 0; lead < 4; lead++) if (length - lead < MIN_RUN) leads &= ~(1 << lead);
  return leads;
}

/** What reading one text's runs gave: its bytes and facts, a random-looking key, a WIF key. */
interface RunsRead {
  bytes: Buffer;
  facts: TextFacts;
  random: boolean;
  wif: boolean;
}

/**
 * One pass over a text's encoded runs: decode each, at every alignment, into `base64` or `hex`
 * (the printable stretches, joined later into one view per encoding), and find what looks like a
 * random key (`judge`: this text is the one to judge, dlp-entropy.ts) or a WIF key.
 */
function readRuns(text: string, base64: string[], hex: string[], judge: boolean, final: boolean, latin1: Buffer | boolean): RunsRead {
  // characters past latin1 (a folded Unicode view, JSON's \u escapes) are no part of a run
  const bytes = typeof latin1 !== "boolean" ? latin1 : Buffer.from(!latin1 && WIDE.test(text) ? text.replace(WIDE_ALL, " ") : text, "latin1");
  let random = false;
  let wif = false;
  const facts = encodedRuns(bytes, MIN_RUN, (start, end, allHex, kinds) => {
    const length = end - start;
    // a run that reaches the end of what has come so far may go on: judged once it is whole
    const whole = final || end < bytes.length;
    if (judge && whole && !random && (kinds & (UPPER | LOWER | DIGIT)) === (UPPER | LOWER | DIGIT) && length >= ENTROPY_MIN_LENGTH && length <= ENTROPY_MAX_LENGTH + 2) {
      random = looksRandom(bytes.toString("latin1", start, end), bytes.toString("latin1", Math.max(0, start - 24), start));
    }
    if (whole && !wif && wifShaped(bytes, start, end)) wif = wifValid(bytes.toString("latin1", start, end));
    if (allHex) {
      // hex digits alone are hex, not base64; a printable byte's first hex digit is a digit, so
      // a run of the letters a-f alone (`deadbeef`, a run of `a`) decodes to nothing printable
      if (length >= HEX_MIN_RUN && (kinds & DIGIT) !== 0 && HEX_MAY_PRINT.test(text.slice(start, end))) for (let lead = 0; lead < 2; lead++) if (hexMayPrint(bytes, start + lead, end)) printableStretches(Buffer.from(bytes.toString("latin1", start + lead, end), "hex"), hex);
      return;
    }
    // a run inside a larger string may start at any of the 4 positions of a base64 quantum;
    // unpadded is fine: a trailing partial quantum yields its whole bytes
    const leads = base64Leads(bytes, start, end);
    for (let lead = 0; lead < 4; lead++) if ((leads & (1 << lead)) !== 0) printableStretches(Buffer.from(bytes.toString("latin1", start + lead, end), "base64"), base64);
  });
  return { bytes, facts, random, wif };
}

/** Characters past latin1. */
const WIDE = /[\u0100-\uffff]/;
const WIDE_ALL = /[\u0100-\uffff]/g;

const JSON_ESCAPE = /\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/;

/** JSON string escapes undone (`\"`, `\\`, `\/`, `\n`, `\u0041`): a secret quoted inside a JSON string, or in JSON twice. */
export function jsonUnescape(text: string): string {
  return text.replace(/\\(?:(["\\/])|([bfnrt])|u([0-9a-fA-F]{4}))/g, (_m, same: string | undefined, letter: string | undefined, code: string | undefined) =>
    same ?? (letter ? ({ b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" } as Record<string, string>)[letter] ?? "" : String.fromCharCode(parseInt(code ?? "0", 16))));
}

/** The views of a text, and what their runs held: a string that looks like a random key, a WIF key. */
export interface Views {
  list: View[];
  random: boolean;
  wif: boolean;
}

/**
 * Every view of `text` (latin1) worth searching. `final`: nothing follows (a stream passes false
 * for a window that more bytes will extend); `entropy`: judge runs for the opt-in entropy rule;
 * `bytes`: `text` as bytes, when the caller has them. The raw text is read once, in one pass
 * that also says which other views it needs; each view carries the facts its rules need.
 */
export function views(text: string, final = true, entropy = true, bytes?: Buffer): Views {
  const base64: string[] = [];
  const hex: string[] = [];
  const list: View[] = [];
  let random = false;
  let wif = false;
  // which views hold only latin1 characters: all but JSON's (`\u` escapes) and the folded one
  const wide = new Set<View>();
  const add = (how: View["how"], viewText: string, judge: boolean, latin1: Buffer | boolean): TextFacts => {
    const decoded = how === "base64" || how === "hex";
    const r = readRuns(viewText, decoded ? [] : base64, decoded ? [] : hex, judge && entropy, final, latin1);
    random ||= r.random;
    wif ||= r.wif;
    const view: View = { how, text: viewText, bytes: r.bytes, facts: r.facts };
    if (latin1 === false) wide.add(view);
    list.push(view);
    return r.facts;
  };
  // random keys are judged in the most decoded form of each text: percent-escapes cut runs apart
  const escaped = text.includes("%") && PERCENT.test(text);
  // text a caller gives as a string may hold any character; its bytes say it is latin1
  const rawLatin1 = bytes ?? !WIDE.test(text);
  const raw = add("raw", text, !escaped, rawLatin1);
  const decode = (t: string, tEscaped: boolean, facts: TextFacts, latin1: boolean) => {
    if (facts.backslash && JSON_ESCAPE.test(t)) add("json", jsonUnescape(t), true, false);
    if (tEscaped) {
      const url = percentDecode(t);
      const twice = PERCENT.test(url);
      add("url", url, !twice, latin1);
      if (twice) add("url2", percentDecode(url), true, latin1);
    }
  };
  if (raw.control <= 0.05) {
    decode(text, escaped, raw, rawLatin1 !== false);
    // each text so far, folded where it has characters past ASCII (in a latin1 text, a byte past 0x7f)
    for (const v of [...list]) {
      const folded = v.facts.high || (wide.has(v) && NON_ASCII.test(v.text)) ? foldedIfChanged(v.text) : undefined;
      if (folded !== undefined) add("unicode", folded, true, false);
    }
  } else {
    // binary data (an archive, an image) is not decoded whole, but text among it is: control
    // bytes added around an encoded secret do not hide it
    const stretches: string[] = [];
    printableStretches(bytes ?? Buffer.from(text, "latin1"), stretches);
    if (stretches.length) {
      const joined = stretches.join("\n");
      const facts = add("raw", joined, !PERCENT.test(joined), true);
      decode(joined, PERCENT.test(joined), facts, true);
    }
  }
  for (const [how, decoded] of [["base64", base64], ["hex", hex]] as const) {
    // a random key inside encoded text is judged there
    if (decoded.length) add(how, decoded.join("\n"), true, true);
  }
  return { list, random, wif };
}

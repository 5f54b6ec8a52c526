/**
 * The texts request inspection reads in one piece of a request: the bytes as sent, and what
 * they decode to under the encodings that hide a secret from a naive match: percent-encoding
 * (twice), base64 and base64url (at each alignment), hex, and Unicode tricks (zero-width
 * characters, compatibility forms, Latin look-alikes from Cyrillic and Greek). Pure; each view
 * is a latin1 string (one character a byte) or, for Unicode folding, the folded text.
 */
import { ENTROPY_MIN_LENGTH, looksRandom } from "./dlp-entropy";

export interface View {
  /** How the view was made: for tests and the reasoning, not for the audit line. */
  how: "raw" | "url" | "url2" | "json" | "unicode" | "base64" | "hex";
  text: string;
}

const PERCENT = /%[0-9a-f]{2}/i;
/** A character past ASCII: a UTF-8 sequence in latin1 text, which Unicode tricks need. */
export const NON_ASCII = /[\u0080-\uffff]/;
/** Encoded runs shorter than this hold no secret's distinctive part. */
const MIN_RUN = 16;
const HEX_MIN_RUN = 32;
/** Character classes by byte: 1 base64/base64url, 2 hex digit (also base64). */
const CLASS = new Uint8Array(256);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZghijklmnopqrstuvwxyz+/_-") CLASS[c.charCodeAt(0)] = 1;
for (const c of "0123456789abcdefABCDEF") CLASS[c.charCodeAt(0)] = 2;

/** Call `found` for each maximal run of base64 characters of at least `min` bytes, and whether it is all hex digits. One pass. */
export function encodedRuns(bytes: Uint8Array, min: number, found: (start: number, end: number, allHex: boolean) => void): void {
  let start = -1;
  let allHex = true;
  const n = bytes.length;
  for (let i = 0; i <= n; i++) {
    const cls = i < n ? (CLASS[bytes[i] as number] as number) : 0;
    if (cls !== 0) {
      if (start === -1) {
        start = i;
        allHex = true;
      }
      if (cls !== 2) allHex = false;
    } else if (start !== -1) {
      if (i - start >= min) found(start, i, allHex);
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
  const text = Buffer.from(latin1, "latin1").toString("utf8");
  return text.normalize("NFKC").replace(INVISIBLE, "").replace(LOOK_ALIKE, (c) => LOOK_ALIKES[c] ?? c);
}

/** Share of bytes that text is made of (printable ASCII, tab, line breaks). */
export function printableShare(bytes: Uint8Array): number {
  if (bytes.length === 0) return 0;
  let printable = 0;
  for (const b of bytes) if ((b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d) printable++;
  return printable / bytes.length;
}

/**
 * One pass over a text's encoded runs: decode each into `base64` or `hex` (joined later into one
 * view per encoding), and say whether one looks like a random key (`random`, dlp-entropy.ts).
 * Only what decodes to text is kept: a secret encoded is text once decoded, while digests,
 * images and other binary data decode to bytes no rule reads.
 */
function readRuns(text: string, base64: string[], hex: string[], judge: boolean, final: boolean): boolean {
  // characters past latin1 (a folded Unicode view) are no part of a run
  const bytes = Buffer.from(/[\u0100-\uffff]/.test(text) ? text.replace(/[\u0100-\uffff]/g, " ") : text, "latin1");
  const keep = (decoded: Buffer, into: string[]) => {
    if (printableShare(decoded) < 0.75) return false;
    into.push(decoded.toString("latin1"));
    return true;
  };
  let random = false;
  encodedRuns(bytes, MIN_RUN, (start, end, allHex) => {
    const run = bytes.toString("latin1", start, end);
    // a run that reaches the end of what has come so far may go on: judged once it is whole
    const whole = final || end < bytes.length;
    if (judge && whole && !random && run.length >= ENTROPY_MIN_LENGTH && looksRandom(run, bytes.toString("latin1", Math.max(0, start - 24), start))) random = true;
    if (allHex) {
      // hex digits alone are hex, not base64
      if (run.length >= HEX_MIN_RUN) for (let lead = 0; lead < 2; lead++) if (keep(Buffer.from(run.slice(lead), "hex"), hex)) break;
      return;
    }
    // a run inside a larger string may start at any of the 4 positions of a base64 quantum;
    // unpadded is fine: a trailing partial quantum yields its whole bytes
    for (let lead = 0; lead < 4 && run.length - lead >= MIN_RUN; lead++) if (keep(Buffer.from(run.slice(lead), "base64"), base64)) break;
  });
  return random;
}

const JSON_ESCAPE = /\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/;

/** JSON string escapes undone (`\"`, `\\`, `\/`, `\n`, `\u0041`): a secret quoted inside a JSON string, or in JSON twice. */
export function jsonUnescape(text: string): string {
  return text.replace(/\\(?:(["\\/])|([bfnrt])|u([0-9a-fA-F]{4}))/g, (_m, same: string | undefined, letter: string | undefined, code: string | undefined) =>
    same ?? (letter ? ({ b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" } as Record<string, string>)[letter] ?? "" : String.fromCharCode(parseInt(code ?? "0", 16))));
}

/** The views of a text, and whether any holds a string that looks like a random key. */
export interface Views {
  list: View[];
  random: boolean;
}

/**
 * Every view of `text` (latin1) worth searching. `final`: nothing follows (a stream passes false
 * for a window that more bytes will extend).
 */
export function views(text: string, final = true): Views {
  const list: View[] = [{ how: "raw", text }];
  // binary data (an archive, an image): only what it says as is, and its encoded runs
  const binary = printableShare(Buffer.from(text.slice(0, 4096), "latin1")) < 0.7;
  if (!binary) {
    if (JSON_ESCAPE.test(text)) list.push({ how: "json", text: jsonUnescape(text) });
    if (PERCENT.test(text)) {
      const url = percentDecode(text);
      list.push({ how: "url", text: url });
      if (PERCENT.test(url)) list.push({ how: "url2", text: percentDecode(url) });
    }
    // each text so far, folded where it has characters past ASCII
    for (const v of [...list]) if (NON_ASCII.test(v.text)) list.push({ how: "unicode", text: foldUnicode(v.text) });
  }
  const base64: string[] = [];
  const hex: string[] = [];
  let random = false;
  // random keys are judged in the most decoded form of each text: percent-escapes cut runs apart
  const decodedFurther = new Set<View["how"]>(list.filter((v) => v.how === "url" || v.how === "url2").map((v) => (v.how === "url" ? "raw" : "url")));
  for (const v of [...list]) random = readRuns(v.text, base64, hex, !decodedFurther.has(v.how), final) || random;
  for (const [how, decoded] of [["base64", base64], ["hex", hex]] as const) {
    if (decoded.length === 0) continue;
    const joined = decoded.join("\n");
    list.push({ how, text: joined });
    // a random key inside encoded text
    random = readRuns(joined, [], [], true, final) || random;
  }
  return { list, random };
}

/**
 * Find any of a fixed set of byte strings in a buffer, fast enough to sit on every response the
 * proxy relays (several GB/s here, bench/RESULTS.md). Wu-Manber's multi-pattern shift: look at
 * the two bytes that end a window of the shortest needle's length; where no needle has them, skip
 * ahead as far as that allows, often the whole window. Pure, no allocation per byte.
 */

/** Two bytes per shift-table entry: 65536 entries. */
const BLOCK = 2;

/** Byte to lower-case ASCII byte, for searches that ignore case. */
const TO_LOWER = new Uint8Array(256).map((_, b) => (b >= 0x41 && b <= 0x5a ? b + 32 : b));
const IDENTITY = new Uint8Array(256).map((_, b) => b);

export class NeedleSearch {
  /** Length of the shortest and the longest needle. */
  readonly minLength: number;
  readonly maxLength: number;
  readonly #needles: readonly Buffer[];
  /** How far the window may move when its last two bytes are this block (0: a needle may end here). */
  readonly #shift: Uint16Array;
  /** The needles whose first `minLength` bytes end in this block. */
  readonly #endingIn = new Map<number, number[]>();
  /** The needles that start with each byte value: for the held-back tail. */
  readonly #startingWith: (number[] | undefined)[] = new Array<number[] | undefined>(256).fill(undefined);
  /** How bytes are read: as they are, or lower-cased (`ignoreCase`). */
  readonly #fold: Uint8Array;

  /** With `ignoreCase`, ASCII letters match in either case (needles are lower-cased here). */
  constructor(needles: readonly Buffer[], ignoreCase = false) {
    if (needles.length === 0 || needles.some((n) => n.length < BLOCK)) throw new Error(`internal: needles must be at least ${BLOCK} bytes`);
    this.#fold = ignoreCase ? TO_LOWER : IDENTITY;
    needles = ignoreCase ? needles.map((n) => Buffer.from(n.map((b) => TO_LOWER[b] as number))) : needles;
    this.#needles = needles;
    this.minLength = Math.min(...needles.map((n) => n.length));
    this.maxLength = Math.max(...needles.map((n) => n.length));
    const m = this.minLength;
    this.#shift = new Uint16Array(1 << 16).fill(m - BLOCK + 1);
    needles.forEach((n, i) => {
      for (let j = BLOCK - 1; j < m; j++) {
        const block = ((n[j - 1] ?? 0) << 8) | (n[j] ?? 0);
        this.#shift[block] = Math.min(this.#shift[block] ?? 0, m - 1 - j);
      }
      const last = ((n[m - 2] ?? 0) << 8) | (n[m - 1] ?? 0);
      push(this.#endingIn, last, i);
      const first = n[0] ?? 0;
      (this.#startingWith[first] ??= []).push(i);
    });
  }

  /**
   * Call `found(needle, at)` for every occurrence that starts at or after `from` (an index of
   * `buf`) and ends within `buf`; occurrences may overlap.
   */
  forEach(buf: Uint8Array, from: number, found: (needle: number, at: number) => void): void {
    const m = this.minLength;
    const shift = this.#shift;
    const fold = this.#fold;
    const end = buf.length;
    let pos = from + m - 1;
    while (pos < end) {
      const block = ((fold[buf[pos - 1] as number] as number) << 8) | (fold[buf[pos] as number] as number);
      const s = shift[block] as number;
      if (s !== 0) {
        pos += s;
        continue;
      }
      const start = pos - m + 1;
      for (const i of this.#endingIn.get(block) ?? []) {
        if (matchesAt(buf, start, this.#needles[i] as Buffer, fold)) found(i, start);
      }
      pos += 1;
    }
  }

  /**
   * The length of the longest end of `buf` that is the beginning of some needle but not a whole
   * one: the bytes to hold back until the next chunk says whether a needle goes on there.
   */
  pendingTail(buf: Uint8Array): number {
    const len = buf.length;
    for (let at = Math.max(0, len - this.maxLength + 1); at < len; at++) {
      const candidates = this.#startingWith[buf[at] as number];
      if (!candidates) continue;
      for (const i of candidates) {
        const n = this.#needles[i] as Buffer;
        if (n.length > len - at && isPrefixAt(buf, at, n)) return len - at;
      }
    }
    return 0;
  }

  /** Length of needle `i`. */
  lengthOf(i: number): number {
    return (this.#needles[i] as Buffer).length;
  }
}

function push(map: Map<number, number[]>, key: number, value: number): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function matchesAt(buf: Uint8Array, at: number, needle: Uint8Array, fold: Uint8Array): boolean {
  if (at + needle.length > buf.length) return false;
  for (let k = 0; k < needle.length; k++) if (fold[buf[at + k] as number] !== needle[k]) return false;
  return true;
}

/** Whether `buf` from `at` to its end is the start of `needle`. */
function isPrefixAt(buf: Uint8Array, at: number, needle: Uint8Array): boolean {
  for (let k = 0; at + k < buf.length; k++) if (buf[at + k] !== needle[k]) return false;
  return true;
}

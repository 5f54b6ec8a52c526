/**
 * Every occurrence of a set of short strings (the rules' anchors and the bottle's tokens) in one
 * pass over a text's bytes, in any ASCII case. A table says which pairs of bytes start some
 * anchor, and a second which third bytes can follow that pair; only where both agree are anchors
 * compared, so a text with no anchor costs one table look-up a byte, whatever it repeats (a run
 * of `a` is no candidate for `:aa`), and prose's common pairs (`co`, `re`, `se`) cost a second. Pure.
 */

/** Byte to lower-case ASCII byte. */
const FOLD = new Uint8Array(256).map((_, b) => (b >= 0x41 && b <= 0x5a ? b + 32 : b));

export class AnchorSearch {
  readonly #anchors: readonly Uint8Array[];
  /** For each pair of bytes as they are (every case of each): 1 + the group of anchors that start with it, or 0. */
  readonly #pair = new Uint16Array(1 << 16);
  /** The anchors of each group, by index. */
  readonly #groups: Int32Array[] = [];
  /** For group g and a third byte b, at (g << 8) | b: 1 if some anchor of the group goes on with b (any b for a 2-byte anchor). */
  readonly #third: Uint8Array;

  /** `anchors`: at least 2 bytes each (latin1), matched in any ASCII case. */
  constructor(anchors: readonly string[]) {
    this.#anchors = anchors.map((a) => {
      if (a.length < 2) throw new Error(`internal: anchor "${a}" is shorter than 2 characters`);
      return Uint8Array.from(Buffer.from(a, "latin1"), (b) => FOLD[b] as number);
    });
    const byPair = new Map<number, number[]>();
    this.#anchors.forEach((a, i) => {
      const key = ((a[0] as number) << 8) | (a[1] as number);
      const list = byPair.get(key);
      if (list) list.push(i);
      else byPair.set(key, [i]);
    });
    this.#third = new Uint8Array(byPair.size << 8);
    for (const [key, list] of byPair) {
      const g = this.#groups.length;
      this.#groups.push(Int32Array.from(list));
      for (const a of cases(key >> 8)) for (const b of cases(key & 0xff)) this.#pair[(a << 8) | b] = g + 1;
      for (const i of list) {
        const a = this.#anchors[i] as Uint8Array;
        if (a.length === 2) this.#third.fill(1, g << 8, (g + 1) << 8);
        else this.#third[(g << 8) | (a[2] as number)] = 1;
      }
    }
  }

  /** Calls `found(anchor, at)` for every occurrence in `bytes`, in order of `at`; occurrences may overlap. */
  forEach(bytes: Uint8Array, found: (anchor: number, at: number) => void): void {
    const n = bytes.length;
    if (n < 2) return;
    const pair = this.#pair;
    let prev = bytes[0] as number;
    let i = 1;
    // two pairs a turn, one test for both: most turns find neither
    for (; i + 1 < n; i += 2) {
      const a = bytes[i] as number;
      const b = bytes[i + 1] as number;
      const first = pair[(prev << 8) | a] as number;
      const second = pair[(a << 8) | b] as number;
      prev = b;
      if ((first | second) === 0) continue;
      if (first !== 0) this.#startingAt(bytes, i - 1, first - 1, found);
      if (second !== 0) this.#startingAt(bytes, i, second - 1, found);
    }
    if (i < n) {
      const last = pair[(prev << 8) | (bytes[i] as number)] as number;
      if (last !== 0) this.#startingAt(bytes, i - 1, last - 1, found);
    }
  }

  /** The anchors of `group` (its first two bytes are at `at`) that occur at `at`. */
  #startingAt(bytes: Uint8Array, at: number, group: number, found: (anchor: number, at: number) => void): void {
    if (at + 2 < bytes.length && this.#third[(group << 8) | (FOLD[bytes[at + 2] as number] as number)] === 0) return;
    this.#verify(bytes, at, group, found);
  }

  #verify(bytes: Uint8Array, at: number, group: number, found: (anchor: number, at: number) => void): void {
    const list = this.#groups[group] as Int32Array;
    for (let k = 0; k < list.length; k++) {
      const i = list[k] as number;
      const a = this.#anchors[i] as Uint8Array;
      if (at + a.length > bytes.length) continue;
      let j = 2;
      while (j < a.length && FOLD[bytes[at + j] as number] === a[j]) j++;
      if (j === a.length) found(i, at);
    }
  }
}

/** A lower-case byte and, for a letter, its upper case. */
function cases(b: number): number[] {
  return b >= 0x61 && b <= 0x7a ? [b, b - 32] : [b];
}

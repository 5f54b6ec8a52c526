/**
 * What a rule's regular expression allows, read from its source: the longest text a match can
 * span and the literal strings every match starts with. The scanner (dlp-scan.ts) uses them to
 * run a rule only where an anchor was found: at the anchor when every match starts with one, or
 * in a bounded region around it otherwise. Reads the subset of JavaScript's syntax the rules
 * use; anything else gives "unbounded, no prefix", and the rule is searched over the whole text.
 * Pure.
 */

export interface PatternShape {
  /** Characters a match spans at most (Infinity: unbounded or not understood). */
  maxLength: number;
  /** Characters a lookaround reads around a match at most (before its start or past its end). */
  lookaround: number;
  /** Lower-case strings one of which starts every match; empty: not known. */
  prefixes: readonly string[];
}

/** A node's reading: longest span, the lookarounds' reach, and its literal strings when it is literal. */
interface Reading {
  max: number;
  around: number;
  /** Every string the node matches (lower-case), when it matches only literal text; else its literal prefixes. */
  strings: string[];
  /** `strings` are the whole of what the node matches (not just how it starts). */
  whole: boolean;
}

/** More alternatives than this and the prefix set is dropped (the rule runs in regions instead). */
const MAX_PREFIXES = 256;
/** A class with more characters than this is no literal (`[A-Za-z0-9]` starts no prefix). */
const MAX_CLASS = 8;

class Unsupported extends Error {}

/** Parse `source` (a JavaScript regular expression, no flags) and read its shape. */
export function patternShape(source: string): PatternShape {
  try {
    const p = new Parser(source);
    const r = p.alternation();
    if (p.at < source.length) throw new Unsupported();
    const prefixes = r.strings.includes("") ? [] : r.strings;
    return { maxLength: r.max, lookaround: r.around, prefixes };
  } catch (e) {
    if (!(e instanceof Unsupported)) throw e;
    return { maxLength: Infinity, lookaround: Infinity, prefixes: [] };
  }
}

/** The characters a class or escape stands for, lower-cased, or undefined when too many. */
type CharSet = Set<string> | undefined;

class Parser {
  at = 0;
  constructor(private readonly s: string) {}

  alternation(): Reading {
    const alts: Reading[] = [this.sequence()];
    while (this.s[this.at] === "|") {
      this.at++;
      alts.push(this.sequence());
    }
    const strings = [...new Set(alts.flatMap((a) => a.strings))];
    return {
      max: Math.max(...alts.map((a) => a.max)),
      around: Math.max(...alts.map((a) => a.around)),
      strings: strings.length > MAX_PREFIXES ? [""] : strings,
      whole: alts.every((a) => a.whole) && strings.length <= MAX_PREFIXES,
    };
  }

  sequence(): Reading {
    let max = 0;
    let around = 0;
    let strings = [""];
    let whole = true;
    while (this.at < this.s.length && this.s[this.at] !== "|" && this.s[this.at] !== ")") {
      const r = this.quantified();
      max += r.max;
      around = Math.max(around, r.around);
      if (!whole) continue;
      const joined = strings.flatMap((a) => r.strings.map((b) => a + b));
      if (joined.length > MAX_PREFIXES) {
        whole = false;
        continue;
      }
      strings = [...new Set(joined)];
      whole = r.whole;
    }
    return { max, around, strings, whole };
  }

  quantified(): Reading {
    const atom = this.atom();
    const q = this.quantifier();
    if (!q) return atom;
    const [min, max] = q;
    const reading: Reading = { max: max === 0 ? 0 : atom.max * max, around: atom.around, strings: [""], whole: false };
    // an atom repeated a fixed number of times, or optional, keeps its literal strings
    if (atom.whole && min === max && min <= 8) {
      let strings = [""];
      for (let i = 0; i < min && strings.length <= MAX_PREFIXES; i++) strings = strings.flatMap((a) => atom.strings.map((b) => a + b));
      if (strings.length <= MAX_PREFIXES) return { ...reading, strings: [...new Set(strings)], whole: true };
    }
    if (atom.whole && min === 0 && max === 1 && atom.strings.length < MAX_PREFIXES) return { ...reading, strings: ["", ...atom.strings], whole: true };
    if (min >= 1) return { ...reading, strings: atom.strings, whole: false };
    return reading;
  }

  /** `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}` (and a lazy `?` after it), as [min, max]. */
  quantifier(): [number, number] | undefined {
    const c = this.s[this.at];
    let q: [number, number] | undefined;
    if (c === "*") q = [0, Infinity];
    else if (c === "+") q = [1, Infinity];
    else if (c === "?") q = [0, 1];
    else if (c === "{") {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.s.slice(this.at));
      if (!m) throw new Unsupported();
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]);
      this.at += m[0].length - 1;
      q = [min, max];
    }
    if (!q) return undefined;
    this.at++;
    if (this.s[this.at] === "?") this.at++;
    return q;
  }

  atom(): Reading {
    const c = this.s[this.at];
    if (c === "(") return this.group();
    if (c === "[") return this.chars(this.klass());
    if (c === "\\") return this.escape();
    if (c === ".") {
      this.at++;
      return this.chars(undefined);
    }
    if (c === "^" || c === "$" || c === undefined || c === "*" || c === "+" || c === "?" || c === "{") throw new Unsupported();
    this.at++;
    return this.chars(new Set([c.toLowerCase()]));
  }

  chars(set: CharSet): Reading {
    return set && set.size <= MAX_CLASS ? { max: 1, around: 0, strings: [...set], whole: true } : { max: 1, around: 0, strings: [""], whole: false };
  }

  group(): Reading {
    const rest = this.s.slice(this.at);
    const head = /^\((\?(?::|<?[=!]))?/.exec(rest)?.[0] ?? "(";
    if (/^\(\?<[A-Za-z]/.test(rest)) throw new Unsupported();
    this.at += head.length;
    const inner = this.alternation();
    if (this.s[this.at] !== ")") throw new Unsupported();
    this.at++;
    // a lookaround matches nothing; what it reads is context around the match
    if (head.length === 4 || head === "(?=" || head === "(?!") return { max: 0, around: Math.max(inner.max, inner.around), strings: [""], whole: true };
    return inner;
  }

  escape(): Reading {
    const e = this.s[this.at + 1];
    if (e === undefined) throw new Unsupported();
    this.at += 2;
    if (e === "b" || e === "B") return { max: 0, around: 1, strings: [""], whole: true };
    if (/[dDsSwW]/.test(e)) return this.chars(undefined);
    if (/[1-9k]/.test(e)) throw new Unsupported();
    return this.chars(new Set([this.escapedChar(e).toLowerCase()]));
  }

  /** The character an escape stands for, after `\` and `e` were read. */
  escapedChar(e: string): string {
    if (e === "x" || e === "u") {
      const n = e === "x" ? 2 : 4;
      const hex = this.s.slice(this.at, this.at + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) throw new Unsupported();
      this.at += n;
      return String.fromCharCode(parseInt(hex, 16));
    }
    const named: Record<string, string> = { t: "\t", n: "\n", r: "\r", f: "\f", v: "\v", "0": "\0" };
    if (named[e] !== undefined) return named[e];
    if (/[A-Za-z]/.test(e)) throw new Unsupported();
    return e;
  }

  /** A class `[...]`: the characters it stands for (lower-cased), or undefined when negated or larger than MAX_CLASS. */
  klass(): CharSet {
    this.at++;
    const negated = this.s[this.at] === "^";
    if (negated) this.at++;
    const set = new Set<string>();
    let wide = false;
    if (this.s[this.at] === "]") throw new Unsupported();
    while (this.s[this.at] !== "]") {
      if (this.at >= this.s.length) throw new Unsupported();
      const lo = this.classChar();
      if (lo === undefined) {
        wide = true;
        continue;
      }
      if (this.s[this.at] === "-" && this.s[this.at + 1] !== "]" && this.at + 1 < this.s.length) {
        this.at++;
        const hi = this.classChar();
        if (hi === undefined) throw new Unsupported();
        const [a, b] = [lo.charCodeAt(0), hi.charCodeAt(0)];
        if (b - a > 64) wide = true;
        else for (let x = a; x <= b; x++) set.add(String.fromCharCode(x).toLowerCase());
      } else set.add(lo.toLowerCase());
    }
    this.at++;
    return negated || wide ? undefined : set;
  }

  /** One character of a class, or undefined for a class escape (`\s`, `\d`...). */
  classChar(): string | undefined {
    const c = this.s[this.at];
    if (c !== "\\") {
      this.at++;
      return c;
    }
    const e = this.s[this.at + 1];
    if (e === undefined) throw new Unsupported();
    this.at += 2;
    if (/[dDsSwW]/.test(e)) return undefined;
    if (e === "b") return "\b";
    return this.escapedChar(e);
  }
}

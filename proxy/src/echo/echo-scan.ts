/**
 * Finding the bottle's own tokens in what an upstream sends back, in every form of echo-forms.ts,
 * and removing them: in a whole string (status line, header, trailer, WebSocket control data) or
 * in a stream cut into chunks anywhere (bodies, WebSocket messages). Pure: bytes in, bytes and
 * findings out; what to do with a finding (redact, cut) is the caller's.
 */
import { inspect } from "node:util";
import { echoForms, type EchoEncoding } from "./echo-forms";
import { NeedleSearch } from "./needle-search";

/** What the bottle does when a response carries one of its tokens (routes.yaml `on_echo`). */
export type EchoAction = "redact" | "block";

/** One token found: which slot, in which encoding, where (an offset in the stream or string). Never the value. */
export interface EchoFinding {
  tokenEnv: string;
  encoding: EchoEncoding;
  at: number;
}

/** The replacement of a found form, byte for byte: same length, so framing and lengths stay true. */
const MARKER = Buffer.from("REDACTED", "latin1");

/**
 * The forms of every token of a bottle, searched at once. The needles hold the tokens, so they
 * stay in private fields: a log line or an error dump of this object shows the slots only.
 */
export class EchoPatterns {
  readonly #search: NeedleSearch;
  readonly #origin: readonly { tokenEnv: string; encoding: EchoEncoding }[];

  /**
   * `tokens`: slot name to the strings of its credential (the token, and for Basic the encoded
   * pair: credentials.ts `guardedSecrets`). Undefined when the bottle has none: nothing to look for.
   */
  static of(tokens: ReadonlyMap<string, readonly string[]>): EchoPatterns | undefined {
    return tokens.size === 0 ? undefined : new EchoPatterns(tokens);
  }

  private constructor(tokens: ReadonlyMap<string, readonly string[]>) {
    const needles: Buffer[] = [];
    const origin: { tokenEnv: string; encoding: EchoEncoding }[] = [];
    const seen = new Set<string>();
    for (const [tokenEnv, values] of tokens) {
      for (const value of values) {
        for (const form of echoForms(value)) {
          const key = form.bytes.toString("latin1");
          if (seen.has(key)) continue;
          seen.add(key);
          needles.push(form.bytes);
          origin.push({ tokenEnv, encoding: form.encoding });
        }
      }
    }
    this.#search = new NeedleSearch(needles);
    this.#origin = origin;
  }

  /** The longest form: a stream never holds back more than this, less one byte. */
  get window(): number {
    return this.#search.maxLength - 1;
  }

  /** Every form in `buf` that ends after `after` (bytes before it were searched already). */
  find(buf: Uint8Array, after: number, offset: number): { finding: EchoFinding; length: number }[] {
    const out: { finding: EchoFinding; length: number }[] = [];
    this.#search.forEach(buf, 0, (i, at) => {
      const length = this.#search.lengthOf(i);
      const origin = this.#origin[i];
      if (at + length > after && origin) out.push({ finding: { ...origin, at: offset + at }, length });
    });
    return out;
  }

  /** Whether any form occurs in `text` (latin1). */
  occursIn(text: string): boolean {
    let found = false;
    this.#search.forEach(Buffer.from(text, "latin1"), 0, () => {
      found = true;
    });
    return found;
  }

  pendingTail(buf: Uint8Array): number {
    return this.#search.pendingTail(buf);
  }

  /** A whole string (latin1, as Node gives header values): the tokens redacted, and what was found. */
  redactText(text: string): { text: string; found: EchoFinding[] } {
    const bytes = Buffer.from(text, "latin1");
    const hits = this.find(bytes, 0, 0);
    if (hits.length === 0) return { text, found: [] };
    for (const { finding, length } of hits) redactRange(bytes, 0, finding.at, finding.at + length);
    return { text: bytes.toString("latin1"), found: hits.map((h) => h.finding) };
  }

  toJSON(): string {
    return "EchoPatterns";
  }

  [inspect.custom](): string {
    return "EchoPatterns";
  }
}

/** Overwrite stream offsets [from, to) of `buf`, which starts at stream offset `base`, with the marker. */
function redactRange(buf: Buffer, base: number, from: number, to: number): void {
  for (let at = Math.max(from, base); at < Math.min(to, base + buf.length); at++) buf[at - base] = MARKER[(at - from) % MARKER.length] as number;
}

/**
 * One direction of a stream, chunk by chunk. A chunk's end that could begin a form is held back
 * until the next chunk (or the end) shows whether it does: at most `window` bytes, and only
 * then, so a stream whose chunks end in a newline (SSE) is never delayed.
 */
export class EchoStream {
  #held: Buffer = Buffer.alloc(0);
  /** Stream offset of the first held byte. */
  #heldAt = 0;
  /** Found forms not yet written out, as stream offsets. */
  #ranges: [number, number][] = [];

  constructor(private readonly patterns: EchoPatterns) {}

  /** Bytes that may go out now (tokens redacted), and the forms found in this chunk. */
  push(chunk: Buffer): { out: Buffer; found: EchoFinding[] } {
    const data = this.#held.length === 0 ? chunk : Buffer.concat([this.#held, chunk]);
    const base = this.#heldAt;
    const hits = this.patterns.find(data, this.#held.length, base);
    for (const { finding, length } of hits) this.#ranges.push([finding.at, finding.at + length]);
    const ready = data.length - this.patterns.pendingTail(data);
    // held bytes are copied: a slice would keep the whole chunk alive
    this.#held = Buffer.from(data.subarray(ready));
    this.#heldAt = base + ready;
    return { out: this.#release(data.subarray(0, ready), base), found: hits.map((h) => h.finding) };
  }

  /** The held bytes, at the end of the stream: they began no form after all. */
  end(): Buffer {
    const last = this.#release(this.#held, this.#heldAt);
    this.#held = Buffer.alloc(0);
    this.#heldAt += last.length;
    return last;
  }

  /** Total bytes not yet written out. */
  get held(): number {
    return this.#held.length;
  }

  #release(bytes: Buffer, base: number): Buffer {
    if (this.#ranges.length === 0) return bytes;
    const end = base + bytes.length;
    const out = Buffer.from(bytes);
    for (const [from, to] of this.#ranges) redactRange(out, base, from, to);
    this.#ranges = this.#ranges.filter(([, to]) => to > end);
    return out;
  }
}

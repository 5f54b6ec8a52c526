/**
 * A stream of one request's body, searched in windows as it comes (dlp-scan.ts reads each).
 * The windows sit on a fixed grid of body offsets, not where chunks happen to end: window k
 * covers [k·STEP − OVERLAP, (k+1)·STEP), searched once its last byte has come, and the last one
 * runs to the end of the body. So the verdict is the same however the body is split, memory
 * stays bounded (at most a step, its overlap and one chunk), and everything but the overlap
 * may go upstream once searched: a secret cut across chunks is found before any byte of it
 * leaves. Each window's edges move to the nearest separator (within a bound) so that a window
 * neither starts nor ends inside a token: a tail judged without its prefix (`sha512-...` cut
 * after the name) is no finding, and what an edge cuts lies whole in the neighbouring window.
 */
import type { DlpFinding, DlpScanner } from "./dlp-scan";

/** Bytes between separators no rule reads across a token: space, line breaks, quotes, brackets. */
const SEPARATOR = new Uint8Array(256);
for (const c of " \t\r\n\"'`,;()[]{}<>\\&") SEPARATOR[c.charCodeAt(0)] = 1;

/** The first position after a separator in [from, to), or `from`. */
function cutStart(data: Buffer, from: number, to: number): number {
  for (let i = from; i < to; i++) if (SEPARATOR[data[i] as number]) return i + 1;
  return from;
}

/** The last position after a separator in [from, to), or `to`. */
function cutEnd(data: Buffer, from: number, to: number): number {
  for (let i = to - 1; i >= from; i--) if (SEPARATOR[data[i] as number]) return i + 1;
  return to;
}

/** The pieces as one buffer: a single piece as it is (Buffer.concat copies even one). */
function joined(pieces: readonly Buffer[]): Buffer {
  return pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces);
}

export class DlpStream {
  /** Bytes every window shares with the one before: longer than any rule's match with its context. */
  static readonly WINDOW = 8192;
  /** The grid: a window ends at every multiple of this offset (searches have a fixed cost each). */
  static readonly BATCH = 64 * 1024;
  /** How far a window's start may move forward, and its end back, to a separator. */
  static readonly START_SLACK = 1024;
  static readonly END_SLACK = 2048;
  /** Bytes not yet released, from body offset `#at`. */
  #held: Buffer[] = [];
  #heldBytes = 0;
  #at = 0;
  /** The body offset where the next window ends. */
  #next = DlpStream.BATCH;

  constructor(private readonly scanner: DlpScanner) {}

  /** The bytes that may go upstream now, or the finding that stops the body. */
  push(chunk: Buffer): { release: Buffer; finding?: DlpFinding } {
    this.#held.push(chunk);
    this.#heldBytes += chunk.length;
    if (this.#at + this.#heldBytes < this.#next) return { release: Buffer.alloc(0) };
    const whole = joined(this.#held);
    let data = whole;
    const released: Buffer[] = [];
    while (this.#at + data.length >= this.#next) {
      const end = this.#next - this.#at;
      const finding = this.#search(data, end, false);
      // found: nothing goes; all of it stays for `drop` (a logged finding lets the body go on)
      if (finding) {
        this.#keep(whole);
        return { release: Buffer.alloc(0), finding };
      }
      // what the next window starts with stays; held bytes are copied, a slice would keep the chunk alive
      const ready = end - DlpStream.WINDOW;
      released.push(data.subarray(0, ready));
      data = data.subarray(ready);
      this.#at += ready;
      this.#next += DlpStream.BATCH;
    }
    this.#keep(Buffer.from(data));
    return { release: joined(released) };
  }

  /** Search the window that ends at `end` of `data` (`data` starts at body offset `#at`). */
  #search(data: Buffer, end: number, final: boolean): DlpFinding | undefined {
    const from = this.#at === 0 ? 0 : cutStart(data, 0, Math.min(end, DlpStream.START_SLACK));
    const to = final ? end : cutEnd(data, Math.max(from, end - DlpStream.END_SLACK), end);
    const bytes = data.subarray(from, to);
    const rule = to > from ? this.scanner.find(bytes.toString("latin1"), final, undefined, bytes) : undefined;
    return rule ? { rule, where: `body@${this.#at + from}` } : undefined;
  }

  #keep(data: Buffer): void {
    this.#held = [data];
    this.#heldBytes = data.length;
  }

  /** A whole body, searched window by window as if it streamed in: memory stays bounded for any size. */
  static scanAll(scanner: DlpScanner, body: Buffer): DlpFinding | undefined {
    const stream = new DlpStream(scanner);
    for (let at = 0; at < body.length; at += DlpStream.BATCH) {
      const r = stream.push(body.subarray(at, at + DlpStream.BATCH));
      if (r.finding) return r.finding;
    }
    return stream.end().finding;
  }

  /** What is held, unsearched: for a body that goes on unsearched after a logged finding. */
  drop(): Buffer {
    const rest = joined(this.#held);
    this.#keep(Buffer.alloc(0));
    return rest;
  }

  /**
   * The rest, at the end of the body, searched as whole (a run at its end is judged now). With
   * a finding, `release` still holds the rest: the caller sends it only if it only logs.
   */
  end(): { release: Buffer; finding?: DlpFinding } {
    const rest = joined(this.#held);
    this.#keep(Buffer.alloc(0));
    const finding = rest.length ? this.#search(rest, rest.length, true) : undefined;
    return finding ? { release: rest, finding } : { release: rest };
  }
}

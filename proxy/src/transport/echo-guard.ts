/**
 * Every response on its way to the agent, cleared of the bottle's tokens (echo/echo-scan.ts):
 * the head before it is written, the body as it streams, the trailers at its end. Redacted in
 * place by default; with `on_echo: block`, or in a compressed body (refused rather than
 * re-encoded), the response is refused or cut before the token's first byte goes out.
 */
import { Transform, type Readable, type TransformCallback, type Writable } from "node:stream";
import zlib from "node:zlib";
import type { EchoLedger } from "../echo/echo-ledger";
import { EchoStream, type EchoFinding } from "../echo/echo-scan";
import type { EchoPolicy } from "../route/route-table";

/** A response the guard stopped: the reason is for the audit line, never a value. */
export class EchoRefusal extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "EchoRefusal";
  }
}

export interface EchoGuard {
  policy: EchoPolicy;
  ledger: EchoLedger;
}

/** Compressed bodies are inflated to be searched; past this ratio (and 1 MiB) they are refused as bombs. */
export const MAX_INFLATION_RATIO = 100;
const INFLATION_ALLOWANCE = 1 << 20;

type Coding = "identity" | "gzip" | "deflate" | "br";

/**
 * A route's `response_scan`: `found(text)` records what it finds and says whether the answer
 * must stop there (`block`).
 */
export interface InjectionScan {
  found(text: string): boolean;
}

/** Characters of the text before a chunk that a phrase may have begun in. */
const INJECTION_CONTEXT = 512;

/** A compressed body held back this long while its text may begin a token is refused instead. */
const MAX_HELD_COMPRESSED = 1 << 20;

/**
 * The body's coding, or undefined when it is one the guard cannot search (several, or unknown;
 * `accept-encoding` upstream is narrowed to the others, route/upstream-headers.ts).
 */
export function bodyCoding(contentEncoding: string | undefined): Coding | undefined {
  const codings = (contentEncoding ?? "").split(",").map((c) => c.trim().toLowerCase()).filter((c) => c !== "" && c !== "identity");
  if (codings.length === 0) return "identity";
  if (codings.length > 1) return undefined;
  const only = codings[0];
  return only === "gzip" || only === "x-gzip" ? "gzip" : only === "deflate" || only === "br" ? only : undefined;
}

/**
 * A header list with the tokens redacted (names and values), or an EchoRefusal when the bottle
 * blocks echoes and one was found. One search over all of it first: no token holds a newline,
 * and an answer without a token (nearly all) costs no more than that.
 */
export function guardHeaders(guard: EchoGuard, place: "header" | "trailer", raw: readonly string[]): readonly string[] {
  if (!guard.policy.patterns.occursIn(raw.join("\n"))) return raw;
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = guardText(guard, place, raw[i] ?? "");
    out.push(name, guardText(guard, `${place}:${name.toLowerCase()}`, raw[i + 1] ?? ""));
  }
  return out;
}

/** One string of the head (`where` names it in the audit line). */
export function guardText(guard: EchoGuard, where: string, text: string): string {
  const { text: redacted, found } = guard.policy.patterns.redactText(text);
  if (found.length) record(guard, where, found, false);
  return redacted;
}

function record(guard: EchoGuard, where: string, found: readonly EchoFinding[], withOffset: boolean): void {
  guard.ledger.add(where, found, withOffset);
  if (guard.policy.action === "block") {
    guard.ledger.blocked();
    throw new EchoRefusal("response carried a credential of this bottle");
  }
}

/**
 * Relay the answer's body to the agent, searched on the way; `ended` once it all went out,
 * `cut` when the guard stopped it (the agent's connection must then be cut, never ended).
 * An identity body is searched chunk by chunk as it is written, with the same backpressure as a
 * pipe and no stream in between (this is every answer's path); a compressed one goes through
 * CompressedBody.
 */
export function relayGuarded(answer: Readable, res: Writable, guard: EchoGuard | undefined, injection: InjectionScan | undefined, coding: Coding, ended: () => void, cut: () => void): void {
  if (coding !== "identity" && guard) {
    const body = new CompressedBody(guard, coding);
    body.once("error", cut);
    res.once("close", () => body.destroy());
    answer.pipe(body).pipe(res, { end: false });
    body.once("end", ended);
    return;
  }
  const stream = guard && new EchoStream(guard.policy.patterns);
  let context = "";
  const write = (bytes: Buffer) => {
    if (bytes.length && !res.write(bytes)) {
      answer.pause();
      res.once("drain", () => answer.resume());
    }
  };
  answer.on("data", (chunk: Buffer) => {
    let out = chunk;
    try {
      if (injection) {
        // read with the end of the text before it, so a phrase cut in two is found at its end
        const text = context + chunk.toString("latin1");
        context = text.slice(-INJECTION_CONTEXT);
        if (injection.found(text)) return cut();
      }
      if (guard && stream) {
        const r = stream.push(chunk);
        if (r.found.length) record(guard, "body", r.found, true);
        out = r.out;
      }
    } catch {
      return cut();
    }
    write(out);
  });
  answer.once("end", () => {
    if (stream) write(stream.end());
    ended();
  });
}

/**
 * A compressed body goes out as it came, chunk by chunk, but each chunk only once the text it
 * inflates to was searched, and held while that text ends in what may begin a token. Its bytes
 * as sent are searched too (gzip header fields, trailing bytes). Any token found refuses the
 * rest, whatever `on_echo` says: a compressed body cannot be redacted in place.
 */
class CompressedBody extends Transform {
  readonly #sent: EchoStream;
  readonly #inflated: EchoStream;
  #inflater: zlib.Inflate | zlib.InflateRaw | zlib.Gunzip | zlib.BrotliDecompress | undefined;
  /** Bytes of a deflate body before the two that say whether it has a zlib header. */
  #lead: Buffer = Buffer.alloc(0);
  #queue: Buffer[] = [];
  #queued = 0;
  #compressedBytes = 0;
  #inflatedBytes = 0;
  #failure: Error | undefined;

  constructor(private readonly guard: EchoGuard, private readonly coding: "gzip" | "deflate" | "br") {
    super();
    const patterns = guard.policy.patterns;
    this.#sent = new EchoStream(patterns);
    this.#inflated = new EchoStream(patterns);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#compressedBytes += chunk.length;
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    this.#check(() => this.#sent.push(chunk).found, "body");
    if (this.#failure) return done(this.#failure);
    this.#inflate(chunk, () => {
      // bytes after the end of the compressed stream (a second stream) are not inflated here,
      // but an agent's client could read them: refused
      const inflater = this.#inflater;
      if (inflater && inflater.bytesWritten + this.#lead.length < this.#compressedBytes) this.#refuse(`bytes after the end of the ${this.coding} body`);
      // the inflated text so far ends where no token could begin: what produced it may go
      if (this.#failure) return done(this.#failure);
      if (this.#inflated.held === 0 && this.#sent.held === 0) this.#release();
      else if (this.#queued > MAX_HELD_COMPRESSED) this.#refuse("compressed body held back too long");
      done(this.#failure);
    });
  }

  override _flush(done: TransformCallback): void {
    if (this.#failure) return done(this.#failure);
    if (this.#compressedBytes === 0) return done();
    // what is held began no token: the stream ended there
    this.#sent.end();
    const started = this.#inflater;
    const inflater = started ?? this.#start(this.#lead);
    inflater.once("close", () => {
      this.#inflated.end();
      if (!this.#failure) this.#release();
      done(this.#failure);
    });
    inflater.end(started ? undefined : this.#lead);
  }

  override _destroy(err: Error | null, done: (error?: Error | null) => void): void {
    this.#inflater?.destroy();
    done(err);
  }

  #release(): void {
    for (const chunk of this.#queue) this.push(chunk);
    this.#queue = [];
    this.#queued = 0;
  }

  #check(find: () => readonly EchoFinding[], where: string): void {
    if (this.#failure) return;
    const found = find();
    if (found.length === 0) return;
    this.guard.ledger.add(`${where}(${this.coding})`, found, true);
    this.guard.ledger.blocked();
    this.#failure ??= new EchoRefusal("compressed response carried a credential of this bottle");
  }

  /** The body cannot be searched (any further): refuse the rest, saying why. */
  #refuse(reason: string): void {
    if (this.#failure) return;
    this.guard.ledger.blocked(reason);
    this.#failure = new EchoRefusal(reason);
  }

  #inflate(chunk: Buffer, then: () => void): void {
    let inflater = this.#inflater;
    if (!inflater) {
      this.#lead = Buffer.concat([this.#lead, chunk]);
      if (this.coding === "deflate" && this.#lead.length < 2) return then();
      inflater = this.#start(this.#lead);
      chunk = this.#lead;
      this.#lead = Buffer.alloc(0);
    }
    inflater.write(chunk, (err) => {
      if (err) this.#refuse(`${this.coding} body could not be inflated`);
      this.#drain(inflater);
      then();
    });
  }

  #start(lead: Buffer): zlib.Inflate | zlib.InflateRaw | zlib.Gunzip | zlib.BrotliDecompress {
    const inflater = this.coding === "gzip" ? zlib.createGunzip()
      : this.coding === "br" ? zlib.createBrotliDecompress()
      : hasZlibHeader(lead) ? zlib.createInflate() : zlib.createInflateRaw();
    inflater.on("readable", () => this.#drain(inflater));
    inflater.on("error", () => this.#refuse(`${this.coding} body could not be inflated`));
    this.#inflater = inflater;
    return inflater;
  }

  /** Search everything the inflater has produced; it is read as it comes, so memory stays bounded. */
  #drain(inflater: zlib.Inflate | zlib.InflateRaw | zlib.Gunzip | zlib.BrotliDecompress): void {
    for (let piece = inflater.read() as Buffer | null; piece !== null; piece = inflater.read() as Buffer | null) {
      this.#inflatedBytes += piece.length;
      if (this.#inflatedBytes > INFLATION_ALLOWANCE && this.#inflatedBytes > MAX_INFLATION_RATIO * this.#compressedBytes) {
        this.#refuse(`${this.coding} body inflates more than ${MAX_INFLATION_RATIO}:1`);
      }
      const text = piece;
      // after a refusal the rest is read and dropped: the write under way still gets its callback
      this.#check(() => this.#inflated.push(text).found, "body");
    }
  }
}

/** RFC 1950: a zlib stream starts with CM=8 and a header check that makes the first two bytes a multiple of 31. */
function hasZlibHeader(lead: Buffer): boolean {
  const [cmf = 0, flg = 0] = lead;
  return (cmf & 0x0f) === 8 && ((cmf << 8) | flg) % 31 === 0;
}

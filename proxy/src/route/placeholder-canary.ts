/**
 * The placeholders of `auth.placeholder` as canaries. The agent holds a placeholder in place of
 * each credential; on its own routes (every route that carries it: routes that inject one
 * credential share its placeholder), in such a route's credential header, the proxy strips it
 * like any agent credential. Anywhere else (another route, the target, any other header, the body) it
 * can only be the agent copying its credentials out, so the request is refused before anything
 * leaves, whatever the route's request inspection says. Each placeholder is looked for in every
 * form of echo-forms.ts (raw, percent-encoded, base64 at each alignment, hex, JSON, HTML), so that
 * `Basic base64(user:placeholder)` is found as it is. Pure: text and bytes in, findings out.
 */
import { inspect } from "node:util";
import { credentialHeader } from "./credentials";
import type { DenyReason } from "./decide";
import { echoForms } from "../echo/echo-forms";
import { NeedleSearch } from "../echo/needle-search";
import type { Route } from "./routes-schema";

/** What the audit line says of a placeholder found: whose it is and where. Never its value. */
export interface PlaceholderAudit {
  /** The first route that carries the placeholder. */
  route: number;
  /** `target`, `header:<name>`, `header-name`, `body@<offset>`, `ws@<offset>`. */
  where: string;
}

/** The refusal's reason, one of decide.ts's DENY_REASONS. */
export const PLACEHOLDER_DENIAL = "credential placeholder outside its route" satisfies DenyReason;

/** Percent-decoding applied at most this often: `%2541` is `%41` once decoded, `A` twice. */
const MAX_DECODINGS = 3;

export class Canaries {
  readonly #search: NeedleSearch;
  /** The owner of each needle: the first route that carries its placeholder. */
  readonly #routeOf: readonly number[];
  /** Per route index, the owner of its placeholder (undefined: it has none). */
  readonly #ownerOf: readonly (number | undefined)[];
  /** Per route index, the headers its own placeholder may come in (undefined: none). */
  readonly #ownHeaders: readonly (ReadonlySet<string> | undefined)[];

  /** Undefined when no route has a placeholder: nothing to look for. */
  static of(routes: readonly Route[]): Canaries | undefined {
    return routes.some((r) => r.auth?.placeholder !== undefined) ? new Canaries(routes) : undefined;
  }

  private constructor(routes: readonly Route[]) {
    const needles: Buffer[] = [];
    const routeOf: number[] = [];
    const owner = new Map<string, number>();
    routes.forEach((r, i) => {
      const placeholder = r.auth?.placeholder;
      if (placeholder === undefined || owner.has(placeholder)) return;
      owner.set(placeholder, i);
      for (const form of echoForms(placeholder)) {
        needles.push(form.bytes);
        routeOf.push(i);
      }
    });
    this.#search = new NeedleSearch(needles);
    this.#routeOf = routeOf;
    this.#ownerOf = routes.map((r) => (r.auth?.placeholder === undefined ? undefined : owner.get(r.auth.placeholder)));
    // Authorization in any scheme (an SDK may send Bearer where the route injects a header), or the route's header
    this.#ownHeaders = routes.map((r) => (r.auth?.placeholder === undefined ? undefined : new Set(["authorization", credentialHeader(r.auth)])));
  }

  /** The longest form: a stream never holds back more than this, less one byte. */
  get window(): number {
    return this.#search.maxLength - 1;
  }

  /** The owner of a placeholder that occurs in `buf` (from `from`), other than `except`; with where in `buf`. */
  find(buf: Uint8Array, except?: number, from = 0): { route: number; at: number } | undefined {
    let hit: { route: number; at: number } | undefined;
    this.#search.forEach(buf, from, (i, at) => {
      const route = this.#routeOf[i] as number;
      if (route !== except && (hit === undefined || at < hit.at)) hit = { route, at };
    });
    return hit;
  }

  /** A whole body or message: the first placeholder in it. */
  inBytes(bytes: Uint8Array, place: "body" | "ws"): PlaceholderAudit | undefined {
    const hit = this.find(bytes);
    return hit && { route: hit.route, where: `${place}@${hit.at}` };
  }

  /** The length of the end of `buf` that may begin a placeholder form (held back in streams). */
  pendingTail(buf: Uint8Array): number {
    return this.#search.pendingTail(buf);
  }

  /** The owner of a placeholder that a whole string (latin1) carries, other than `except`. */
  findText(text: string, except?: number): number | undefined {
    return this.find(Buffer.from(text, "latin1"), except)?.route;
  }

  /**
   * The first placeholder in what a request says before its body, sent on `route` (undefined
   * when the request is refused anyway: then every placeholder is out of place). The target is
   * read raw and percent-decoded; each header by name and by value, and a header that carries
   * the route's own credential may carry the route's own placeholder.
   */
  inHead(route: number | undefined, target: string, rawHeaders: readonly string[]): PlaceholderAudit | undefined {
    for (const text of decodings(target)) {
      const found = this.findText(text);
      if (found !== undefined) return { route: found, where: "target" };
    }
    const own = route === undefined ? undefined : this.#ownHeaders[route];
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      const name = rawHeaders[i] ?? "";
      // a name made of a placeholder is not repeated in the audit line
      const inName = this.findText(name);
      if (inName !== undefined) return { route: inName, where: "header-name" };
      const lower = name.toLowerCase();
      // as CGI front ends read names (admission.ts isStrippedHeader): `x_api_key` is `x-api-key`
      const found = this.findText(rawHeaders[i + 1] ?? "", own?.has(lower.replace(/_/g, "-")) && route !== undefined ? this.#ownerOf[route] : undefined);
      if (found !== undefined) return { route: found, where: `header:${lower}` };
    }
    return undefined;
  }

  toJSON(): string {
    return "Canaries";
  }

  [inspect.custom](): string {
    return "Canaries";
  }
}

/** `text`, then each percent-decoding of it that changes it (lenient: a bad escape stays as it is). */
function decodings(text: string): string[] {
  const out = [text];
  for (let n = 0, t = text; n < MAX_DECODINGS && t.includes("%"); n++) {
    const next = t.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    if (next === t) break;
    out.push(next);
    t = next;
  }
  return out;
}

/**
 * A body (or a WebSocket's messages), chunk by chunk. A chunk's end that could begin a
 * placeholder is held back until the next chunk shows whether it does: at most `window` bytes,
 * so a placeholder cut across chunks is found before its first byte leaves.
 */
export class CanaryStream {
  #held: Buffer = Buffer.alloc(0);
  /** Stream offset of the first held byte. */
  #heldAt = 0;

  constructor(private readonly canaries: Canaries, private readonly place: "body" | "ws") {}

  /** Bytes that may go on now, or the placeholder that stops the stream. */
  push(chunk: Buffer): { out: Buffer; found?: PlaceholderAudit } {
    const data = this.#held.length === 0 ? chunk : Buffer.concat([this.#held, chunk]);
    const base = this.#heldAt;
    const hit = this.canaries.find(data);
    if (hit) return { out: Buffer.alloc(0), found: { route: hit.route, where: `${this.place}@${base + hit.at}` } };
    const ready = data.length - this.canaries.pendingTail(data);
    // held bytes are copied: a slice would keep the whole chunk alive
    this.#held = Buffer.from(data.subarray(ready));
    this.#heldAt = base + ready;
    return { out: data.subarray(0, ready) };
  }

  /** The held bytes, at the end: they began no placeholder after all. */
  end(): Buffer {
    const last = this.#held;
    this.#heldAt += last.length;
    this.#held = Buffer.alloc(0);
    return last;
  }
}

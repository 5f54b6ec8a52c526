/**
 * Request inspection (DLP): does this piece of a request carry a secret? Every rule of
 * dlp-rules.ts, the route's extra rules and the bottle's own tokens of other routes, over every
 * view of dlp-views.ts. Pure. A finding names the rule and never the text it matched.
 */
import { BOTTLE_TOKEN_RULE_ID, BUILTIN_RULES, CUSTOM_RULE_PREFIX, ENTROPY_RULE_ID, WIF_RULE_ID, type DlpRule } from "./dlp-rules";
import type { DlpAudit } from "./audit-log";
import { views, type View } from "./dlp-views";

/** The anchor mark of the bottle's own tokens: found means refused, no pattern to confirm. */
const TOKEN = -1;
import { NeedleSearch } from "./needle-search";

export type DlpMode = "block" | "log" | "off";

/** What the routes file says for one route, its own settings over the bottle's. */
export interface DlpSettings {
  mode: DlpMode;
  /** Extra patterns (JavaScript regular expressions, matched case-insensitively). */
  rules: readonly string[];
  /** Rule ids switched off. */
  allow: readonly string[];
}

export interface DlpFinding {
  rule: string;
  /** `path`, `query`, `header:<name>`, `headers` (split across several), `body@<offset>`, `ws`. */
  where: string;
}

interface Compiled {
  id: string;
  /** The rule's pattern, global and case-insensitive. */
  re: RegExp;
  /** False for a rule without anchors: it runs on every text. */
  anchored: boolean;
  needs: DlpRule["needs"];
  valid?: (match: string) => boolean;
}

/** The inspection of one route: which rules, which tokens, what to do. */
export class DlpScanner {
  readonly mode: DlpMode;
  readonly #rules: Compiled[];
  /** Every anchor of every rule, searched at once; `#anchorRule[i]` is the rule of anchor i. */
  readonly #anchors: NeedleSearch | undefined;
  readonly #anchorRule: number[];
  readonly #entropy: boolean;
  readonly #wif: boolean;

  /** `foreignTokens`: the values of the bottle's tokens that this route does not carry. */
  constructor(settings: DlpSettings, foreignTokens: readonly string[]) {
    this.mode = settings.mode;
    const allowed = new Set(settings.allow);
    const rules: DlpRule[] = [
      ...BUILTIN_RULES.filter((r) => !allowed.has(r.id)),
      ...settings.rules.map((pattern, i) => ({ id: `${CUSTOM_RULE_PREFIX}${i}`, finds: "a rule of the stack", pattern })),
    ];
    this.#rules = rules.map((r) => ({ id: r.id, re: new RegExp(r.pattern, "gi"), anchored: r.anchors !== undefined, needs: r.needs, ...(r.valid ? { valid: r.valid } : {}) }));
    const anchors: Buffer[] = [];
    this.#anchorRule = [];
    rules.forEach((r, i) => {
      for (const a of r.anchors ?? []) {
        anchors.push(Buffer.from(a, "latin1"));
        this.#anchorRule.push(i);
      }
    });
    // the other routes' tokens are anchors that are findings in themselves
    if (!allowed.has(BOTTLE_TOKEN_RULE_ID)) {
      for (const t of foreignTokens) {
        anchors.push(Buffer.from(t, "latin1"));
        this.#anchorRule.push(TOKEN);
      }
    }
    this.#anchors = anchors.length ? new NeedleSearch(anchors, true) : undefined;
    this.#entropy = !allowed.has(ENTROPY_RULE_ID);
    this.#wif = !allowed.has(WIF_RULE_ID);
  }

  /**
   * The first rule `text` (latin1) breaks in any view, or undefined. The named rules and the
   * bottle's tokens go over every view first: a key in base64 is found as that key, not as noise.
   */
  find(text: string, final = true): string | undefined {
    const all = views(text, final);
    for (const view of all.list) {
      const hit = this.#findIn(view);
      if (hit) return hit;
    }
    if (all.wif && this.#wif) return WIF_RULE_ID;
    return this.#entropy && all.random ? ENTROPY_RULE_ID : undefined;
  }

  #findIn(view: View): string | undefined {
    const text = view.text;
    // which anchored rules can match at all: one pass over the text for every anchor, any case
    const present = new Set<number>();
    this.#anchors?.forEach(Buffer.from(text, "latin1"), 0, (i) => present.add(this.#anchorRule[i] as number));
    if (present.has(TOKEN)) return BOTTLE_TOKEN_RULE_ID;
    for (let i = 0; i < this.#rules.length; i++) {
      const rule = this.#rules[i] as Compiled;
      if ((rule.anchored && !present.has(i)) || (rule.needs !== undefined && !view.facts[rule.needs])) continue;
      rule.re.lastIndex = 0;
      for (let m = rule.re.exec(text); m; m = rule.re.exec(text)) {
        if (!rule.valid || rule.valid(m[0])) return rule.id;
        // a look-alike (a number that fails Luhn): go on from the next character
        rule.re.lastIndex = m.index + 1;
      }
    }
    return undefined;
  }

}


/** A custom rule that compiles, or the problem with it (for the routes schema). */
export function customRuleProblem(pattern: string): string | undefined {
  let re: RegExp;
  try {
    re = new RegExp(pattern, "gi");
  } catch {
    return "is not a valid regular expression";
  }
  if (re.test("")) return "matches the empty string, which would refuse every request";
  return undefined;
}

/**
 * A stream of one request's body, searched in windows as it comes: everything but the last
 * `WINDOW` bytes may go on once searched; those wait for the next chunk, so a secret cut across
 * chunks is found before any byte of it leaves. Small chunks (TLS records are 16 KiB) are
 * gathered up to `BATCH` bytes first: each search has a fixed cost, and the window is searched
 * again with every batch.
 */
/** Slices a whole body is searched in. */
const SLICE = 64 * 1024;

export class DlpStream {
  static readonly WINDOW = 4096;
  static readonly BATCH = 64 * 1024;
  #held: Buffer = Buffer.alloc(0);
  #heldAt = 0;
  /** Chunks gathered since the last search, after the held window. */
  #gathered: Buffer[] = [];
  #gatheredBytes = 0;

  constructor(private readonly scanner: DlpScanner) {}

  /** The bytes that may go upstream now, or the finding that stops the body. */
  push(chunk: Buffer): { release: Buffer; finding?: DlpFinding } {
    this.#gathered.push(chunk);
    this.#gatheredBytes += chunk.length;
    if (this.#gatheredBytes < DlpStream.BATCH) return { release: Buffer.alloc(0) };
    return this.#search();
  }

  #search(): { release: Buffer; finding?: DlpFinding } {
    const parts = this.#held.length ? [this.#held, ...this.#gathered] : this.#gathered;
    const data = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    this.#gathered = [];
    this.#gatheredBytes = 0;
    const base = this.#heldAt;
    const rule = this.scanner.find(data.toString("latin1"), false);
    // found: nothing goes; all of it stays for `drop` (a logged finding lets the body go on)
    if (rule) {
      this.#held = data;
      return { release: Buffer.alloc(0), finding: { rule, where: `body@${base}` } };
    }
    const ready = Math.max(0, data.length - DlpStream.WINDOW);
    // held bytes are copied: a slice would keep the whole chunk alive
    this.#held = Buffer.from(data.subarray(ready));
    this.#heldAt = base + ready;
    return { release: data.subarray(0, ready) };
  }

  /** A whole body, searched window by window as if it streamed in: memory stays bounded for any size. */
  static scanAll(scanner: DlpScanner, body: Buffer): DlpFinding | undefined {
    const stream = new DlpStream(scanner);
    for (let at = 0; at < body.length; at += SLICE) {
      const r = stream.push(body.subarray(at, at + SLICE));
      if (r.finding) return r.finding;
    }
    return stream.end().finding;
  }

  /** What is held and gathered, unsearched: for a body that goes on unsearched after a logged finding. */
  drop(): Buffer {
    const rest = Buffer.concat([this.#held, ...this.#gathered]);
    this.#held = Buffer.alloc(0);
    this.#gathered = [];
    this.#gatheredBytes = 0;
    return rest;
  }

  /**
   * The rest, at the end of the body, searched as whole (a run at its end is judged now). With
   * a finding, `release` still holds the rest: the caller sends it only if it only logs.
   */
  end(): { release: Buffer; finding?: DlpFinding } {
    const rest = Buffer.concat([this.#held, ...this.#gathered]);
    const at = this.#heldAt;
    this.#held = Buffer.alloc(0);
    this.#gathered = [];
    this.#gatheredBytes = 0;
    const rule = rest.length ? this.scanner.find(rest.toString("latin1")) : undefined;
    return rule ? { release: rest, finding: { rule, where: `body@${at}` } } : { release: rest };
  }
}

/**
 * The first secret in what a request says before its body: path, query, each header that goes
 * upstream (name and value), and all their values joined (a secret cut across headers).
 * `stripped` headers never leave, and Host was checked against the route.
 */
export function inspectHead(scanner: DlpScanner, target: string, rawHeaders: readonly string[], isStripped: (name: string) => boolean): DlpFinding | undefined {
  const q = target.indexOf("?");
  const path = q === -1 ? target : target.slice(0, q);
  let rule = scanner.find(path);
  if (rule) return { rule, where: "path" };
  if (q !== -1 && (rule = scanner.find(target.slice(q + 1)))) return { rule, where: "query" };
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? "";
    const lower = name.toLowerCase();
    if (lower === "host" || isStripped(name)) continue;
    // a name that is itself a secret is not named in the audit line
    if ((rule = scanner.find(name))) return { rule, where: "header-name" };
    const value = rawHeaders[i + 1] ?? "";
    if ((rule = scanner.find(value))) return { rule, where: `header:${lower}` };
    values.push(value);
  }
  // a secret cut in two across neighbouring headers
  for (let i = 0; i + 1 < values.length; i++) {
    if ((rule = scanner.find(`${values[i]}${values[i + 1]}`))) return { rule, where: "headers" };
  }
  return undefined;
}

/** The reason of a request refused for a secret; refusals add `: <rule> in <where>`. */
export const DLP_DENIAL = "secret in request";

/** The refusal's reason, as the agent reads it in the body and the denial header. */
export function dlpDenialReason(finding: DlpFinding): string {
  return `${DLP_DENIAL}: ${finding.rule} in ${finding.where}`;
}

/** What the audit line says of a finding under `mode` (never `off`: nothing is searched then). */
export function dlpAudit(mode: DlpMode, finding: DlpFinding): DlpAudit {
  return { action: mode === "block" ? "blocked" : "logged", rule: finding.rule, where: finding.where };
}

/** A route's inspection settings: its own mode over the bottle's (default `block`); rules and exceptions of both. */
export function effectiveDlp(bottle: Partial<DlpSettings> | undefined, route: Partial<DlpSettings> | undefined): DlpSettings {
  return {
    mode: route?.mode ?? bottle?.mode ?? "block",
    rules: [...(bottle?.rules ?? []), ...(route?.rules ?? [])],
    allow: [...(bottle?.allow ?? []), ...(route?.allow ?? [])],
  };
}

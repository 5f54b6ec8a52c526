/**
 * Request inspection (DLP): does this piece of a request carry a secret? Every rule of
 * dlp-rules.ts, the route's extra rules and the bottle's own tokens of other routes, over every
 * view of dlp-views.ts. Pure. A finding names the rule and never the text it matched.
 */
import { BOTTLE_TOKEN_RULE_ID, BUILTIN_RULES, CUSTOM_RULE_PREFIX, ENTROPY_RULE_ID, OPT_IN_RULE_IDS, WIF_RULE_ID, type DlpRule } from "./dlp-rules";
import { placeholderTail } from "./dlp-rule";
import { AnchorSearch } from "./dlp-anchors";
import { patternShape } from "./dlp-pattern-shape";
import { views, type View } from "./dlp-views";

/** The anchor mark of the bottle's own tokens: found means refused, no pattern to confirm. */
const TOKEN = -1;

/**
 * Characters around a match that a rule reads beyond the match itself: its lookarounds and its
 * check (`insideBase64Run` reads up to twice a key's length, the keyword rule 48 before).
 * Regions around anchors keep this much on either side of every match they judge.
 */
const CONTEXT = 256;
/** A rule whose lookarounds read further than this is searched over the whole text instead. */
const MAX_LOOKAROUND = 64;
/** Derived anchors (a pattern's literal prefixes) shorter than this would match too often to help. */
const MIN_PREFIX = 3;

export type DlpMode = "block" | "log" | "off";

/** What the routes file says for one route, its own settings over the bottle's. */
export interface DlpSettings {
  mode: DlpMode;
  /** Extra patterns (JavaScript regular expressions, matched case-insensitively), or the id of an opt-in rule (`entropy`) to turn on. */
  rules: readonly string[];
  /** Rule ids switched off. */
  allow: readonly string[];
}

/** What an audit line says of a finding: which rule, where, and whether it stopped the request. */
export interface DlpAudit {
  action: "blocked" | "logged";
  rule: string;
  where: string;
}

export interface DlpFinding {
  rule: string;
  /** `path`, `query`, `header:<name>`, `headers` (split across several), `body@<offset>`, `ws`. */
  where: string;
}

/**
 * How a rule is searched, from its pattern's shape (dlp-pattern-shape.ts):
 * - `start`: every match starts with one of its anchors, so the pattern is tried at each anchor
 *   found and nowhere else (a sticky match, no scan);
 * - `region`: every match contains an anchor and spans at most `maxLength`, so the pattern
 *   scans only the stretch around each anchor that such a match can cover;
 * - `full`: the whole text, when an anchor is there (or always, for a rule without anchors).
 */
type Plan = "start" | "region" | "full";

interface Compiled {
  id: string;
  plan: Plan;
  /** The rule's pattern, global (sticky for `start`), case-insensitive where the rule says so. */
  re: RegExp;
  /** The strings whose occurrences say where to search; none: search every text. */
  anchors: readonly string[];
  maxLength: number;
  needs: DlpRule["needs"];
  valid: (match: RegExpExecArray, text: string) => boolean;
  scan: DlpRule["scan"];
}

/**
 * A rule's check, and for a token format also that the match does not end in a placeholder
 * (`XXXX...`, `0000...`); keys, phrases, numbers and the rules of the stack have checks of their own.
 */
function withPlaceholderCheck(r: DlpRule): Compiled["valid"] {
  const own = r.valid ?? (() => true);
  if (r.family === "keys" || r.family === "generic") return own;
  return (m, text) => own(m, text) && !placeholderTail(m[0]);
}

/** How each built-in rule is searched, worked out once per pattern (routes share the rules). */
const PLANS = new Map<string, Pick<Compiled, "plan" | "anchors" | "maxLength">>();

/** The way to search a rule (see Plan); a rule of the stack has no anchors and is searched whole. */
function planOf(r: DlpRule): Pick<Compiled, "plan" | "anchors" | "maxLength"> {
  const known = PLANS.get(r.pattern);
  if (known && r.anchors !== undefined) return known;
  const declared = r.anchors ?? [];
  let plan: Pick<Compiled, "plan" | "anchors" | "maxLength"> = { plan: "full", anchors: declared, maxLength: Infinity };
  if (declared.length) {
    const shape = patternShape(r.pattern);
    const ascii = shape.prefixes.every((p) => !/[\u0080-\uffff]/.test(p));
    const startsWithAnchor = ascii && shape.prefixes.length > 0 && shape.prefixes.every((p) => declared.some((a) => p.startsWith(a)));
    if (startsWithAnchor) plan = { plan: "start", anchors: declared, maxLength: shape.maxLength };
    else if (shape.maxLength < Infinity && shape.lookaround <= MAX_LOOKAROUND) plan = { plan: "region", anchors: declared, maxLength: shape.maxLength };
    // the pattern's own literal starts are anchors too: every match starts with one
    else if (ascii && shape.prefixes.length > 0 && shape.prefixes.every((p) => p.length >= MIN_PREFIX)) plan = { plan: "start", anchors: shape.prefixes, maxLength: shape.maxLength };
    PLANS.set(r.pattern, plan);
  }
  return plan;
}

/** The inspection of one route: which rules, which tokens, what to do. */
export class DlpScanner {
  readonly mode: DlpMode;
  readonly #rules: Compiled[];
  /** Every anchor of every rule, searched at once; `#anchorRule[i]` is the rule of anchor i. */
  readonly #anchors: AnchorSearch | undefined;
  readonly #anchorRule: number[];
  readonly #anchorLength: number[];
  /** Per rule, where its anchors were found in the view being searched (start, length, ...). */
  readonly #hits: number[][];
  /** The rules with hits in the last view searched (their lists are emptied before the next). */
  readonly #touched: number[] = [];
  /** The rules without anchors: they run on every text. */
  readonly #everywhere: number[];
  readonly #entropy: boolean;
  readonly #wif: boolean;

  /** `foreignTokens`: the values of the bottle's tokens that this route does not carry. */
  constructor(settings: DlpSettings, foreignTokens: readonly string[]) {
    this.mode = settings.mode;
    const allowed = new Set(settings.allow);
    // an entry of `rules` that names an opt-in rule turns it on; the others are patterns, numbered by place
    const custom: DlpRule[] = settings.rules.flatMap((pattern, i) =>
      OPT_IN_RULE_IDS.includes(pattern) ? [] : [{ id: `${CUSTOM_RULE_PREFIX}${i}`, family: "generic" as const, finds: "a rule of the stack", pattern, anyCase: true }]);
    const rules: DlpRule[] = [...BUILTIN_RULES.filter((r) => !allowed.has(r.id)), ...custom];
    this.#rules = rules.map((r) => {
      const plan = planOf(r);
      const flags = `${r.anyCase ? "i" : ""}${plan.plan === "start" ? "y" : "g"}`;
      return { id: r.id, ...plan, re: new RegExp(r.pattern, flags), needs: r.needs, valid: withPlaceholderCheck(r), scan: r.scan };
    });
    const anchors: string[] = [];
    this.#anchorRule = [];
    this.#anchorLength = [];
    const add = (anchor: string, rule: number) => {
      anchors.push(anchor);
      this.#anchorRule.push(rule);
      this.#anchorLength.push(anchor.length);
    };
    this.#rules.forEach((r, i) => r.anchors.forEach((a) => add(a, i)));
    // the other routes' tokens are anchors that are findings in themselves
    if (!allowed.has(BOTTLE_TOKEN_RULE_ID)) for (const t of foreignTokens) if (t.length >= 2) add(t, TOKEN);
    this.#anchors = anchors.length ? new AnchorSearch(anchors) : undefined;
    this.#hits = this.#rules.map(() => []);
    this.#everywhere = this.#rules.flatMap((r, i) => (r.anchors.length ? [] : [i]));
    this.#entropy = settings.rules.includes(ENTROPY_RULE_ID) && !allowed.has(ENTROPY_RULE_ID);
    this.#wif = !allowed.has(WIF_RULE_ID);
  }

  /**
   * The first rule `text` (latin1) breaks in any view, or undefined; `skip` names rules not to
   * apply here; `bytes`, when given, are `text` as bytes (saves a copy). The named rules and the
   * bottle's tokens go over every view first: a key in base64 is found as that key, not as noise.
   */
  find(text: string, final = true, skip?: ReadonlySet<string>, bytes?: Buffer): string | undefined {
    const entropy = this.#entropy && !skip?.has(ENTROPY_RULE_ID);
    const all = views(text, final, entropy, bytes);
    for (const view of all.list) {
      const hit = this.#findIn(view, skip);
      if (hit) return hit;
    }
    if (all.wif && this.#wif) return WIF_RULE_ID;
    return entropy && all.random ? ENTROPY_RULE_ID : undefined;
  }

  #findIn(view: View, skip: ReadonlySet<string> | undefined): string | undefined {
    const text = view.text;
    // where each anchored rule can match at all: one pass over the text for every anchor, any case
    const hits = this.#hits;
    const touched = this.#touched;
    for (const r of touched) (hits[r] as number[]).length = 0;
    touched.length = 0;
    let token = false;
    this.#anchors?.forEach(view.bytes, (i, at) => {
      const rule = this.#anchorRule[i] as number;
      if (rule === TOKEN) return void (token = true);
      const list = hits[rule] as number[];
      if (list.length === 0) touched.push(rule);
      list.push(at, this.#anchorLength[i] as number);
    });
    if (token) return BOTTLE_TOKEN_RULE_ID;
    // the rules that can match here, in the rules' order: the first that does names the finding
    const candidates = touched.length ? [...touched, ...this.#everywhere].sort((a, b) => a - b) : this.#everywhere;
    for (const i of candidates) {
      const rule = this.#rules[i] as Compiled;
      const at = hits[i] as number[];
      if ((rule.needs !== undefined && !view.facts[rule.needs]) || skip?.has(rule.id)) continue;
      const found = rule.scan ? rule.scan(view.bytes) : rule.plan === "start" ? startsAt(rule, text, at) : rule.plan === "region" ? inRegions(rule, text, at) : matchIn(rule, text, 0, text.length);
      if (found) return rule.id;
    }
    return undefined;
  }
}

/** A valid match of a `start` rule at one of the anchors found (`at`: start, length, ...; in order). */
function startsAt(rule: Compiled, text: string, at: readonly number[]): boolean {
  let last = -1;
  for (let k = 0; k < at.length; k += 2) {
    const p = at[k] as number;
    if (p === last) continue;
    last = p;
    rule.re.lastIndex = p;
    const m = rule.re.exec(text);
    if (m && rule.valid(m, text)) return true;
  }
  return false;
}

/**
 * A valid match of a `region` rule around the anchors found: a match that holds the anchor at p
 * (of length l) starts in [p + l - maxLength, p]; each such stretch is searched with CONTEXT
 * characters on either side, and overlapping stretches as one.
 */
function inRegions(rule: Compiled, text: string, at: readonly number[]): boolean {
  const n = text.length;
  const span = rule.maxLength;
  let lo = -1;
  let hi = -1;
  for (let k = 0; k < at.length; k += 2) {
    const p = at[k] as number;
    const l = Math.max(0, p + (at[k + 1] as number) - span - CONTEXT);
    const h = Math.min(n, p + span + CONTEXT);
    if (lo !== -1 && l <= hi) {
      hi = Math.max(hi, h);
      continue;
    }
    if (lo !== -1 && inRegion(rule, text, lo, hi)) return true;
    lo = l;
    hi = h;
  }
  return lo !== -1 && inRegion(rule, text, lo, hi);
}

/**
 * A valid match in text[lo, hi), judged on that stretch: only matches that start where the
 * stretch holds all they read (CONTEXT before, their longest span and CONTEXT after, unless the
 * stretch reaches the text's edge) count, and those are exactly the text's own matches there.
 */
function inRegion(rule: Compiled, text: string, lo: number, hi: number): boolean {
  const n = text.length;
  const part = lo === 0 && hi === n ? text : text.slice(lo, hi);
  const first = lo === 0 ? 0 : CONTEXT;
  const last = hi === n ? part.length : part.length - rule.maxLength - CONTEXT;
  return matchIn(rule, part, first, last);
}

/** A valid match of a global rule in `text` that starts in [first, last]. */
function matchIn(rule: Compiled, text: string, first: number, last: number): boolean {
  const re = rule.re;
  re.lastIndex = first;
  for (let m = re.exec(text); m && m.index <= last; m = re.exec(text)) {
    if (rule.valid(m, text)) return true;
    // a look-alike (a number that fails Luhn): go on from the next character
    re.lastIndex = m.index + 1;
  }
  return false;
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

/** What a join of two headers never applies: entropy, and card numbers when digits meet digits. */
const JOIN_SKIP = new Set([ENTROPY_RULE_ID]);
const JOIN_SKIP_DIGITS = new Set([ENTROPY_RULE_ID, "card-number"]);
const TOKEN_CHAR = /[A-Za-z0-9_+/=-]/;

/**
 * The first secret in what a request says before its body: path, query, each header that goes
 * upstream (its name alone, then name and value, so that `X-Api-Key: ...` is read as assigned),
 * and neighbouring values joined where a token could go on across them (a secret cut in two).
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
    if ((rule = scanner.find(`${name}: ${value}`))) return { rule, where: `header:${lower}` };
    values.push(value);
  }
  for (let i = 0; i + 1 < values.length; i++) {
    const [a = "", b = ""] = [values[i], values[i + 1]];
    const last = a.slice(-1);
    const first = b.slice(0, 1);
    // only a token that goes on across the join is cut in two; digits meeting digits are two numbers
    if (!TOKEN_CHAR.test(last) || !TOKEN_CHAR.test(first)) continue;
    const skip = /[0-9]/.test(last) && /[0-9]/.test(first) ? JOIN_SKIP_DIGITS : JOIN_SKIP;
    if ((rule = scanner.find(`${a}${b}`, true, skip))) return { rule, where: "headers" };
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

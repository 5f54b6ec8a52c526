/**
 * Request inspection (DLP): does this piece of a request carry a secret? Every rule of
 * dlp-rules.ts, the route's extra rules and the bottle's own tokens of other routes, over every
 * view of dlp-views.ts. Pure. A finding names the rule and never the text it matched.
 */
import { BOTTLE_TOKEN_RULE_ID, BUILTIN_RULES, CUSTOM_RULE_PREFIX, ENTROPY_RULE_ID, OPT_IN_RULE_IDS, WIF_RULE_ID, type DlpRule } from "./dlp-rules";
import { placeholderTail } from "./dlp-rule";
import type { DlpAudit } from "./audit-log";
import { views, type View } from "./dlp-views";
import { NeedleSearch } from "./needle-search";

/** The anchor mark of the bottle's own tokens: found means refused, no pattern to confirm. */
const TOKEN = -1;

export type DlpMode = "block" | "log" | "off";

/** What the routes file says for one route, its own settings over the bottle's. */
export interface DlpSettings {
  mode: DlpMode;
  /** Extra patterns (JavaScript regular expressions, matched case-insensitively), or the id of an opt-in rule (`entropy`) to turn on. */
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
  /** The rule's pattern, global, case-insensitive where the rule says so. */
  re: RegExp;
  /** False for a rule without anchors: it runs on every text. */
  anchored: boolean;
  needs: DlpRule["needs"];
  valid: (match: RegExpExecArray, text: string) => boolean;
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
    // an entry of `rules` that names an opt-in rule turns it on; the others are patterns, numbered by place
    const custom: DlpRule[] = settings.rules.flatMap((pattern, i) =>
      OPT_IN_RULE_IDS.includes(pattern) ? [] : [{ id: `${CUSTOM_RULE_PREFIX}${i}`, family: "generic" as const, finds: "a rule of the stack", pattern, anyCase: true }]);
    const rules: DlpRule[] = [...BUILTIN_RULES.filter((r) => !allowed.has(r.id)), ...custom];
    this.#rules = rules.map((r) => ({
      id: r.id,
      re: new RegExp(r.pattern, r.anyCase ? "gi" : "g"),
      anchored: r.anchors !== undefined,
      needs: r.needs,
      valid: withPlaceholderCheck(r),
    }));
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
    this.#entropy = settings.rules.includes(ENTROPY_RULE_ID) && !allowed.has(ENTROPY_RULE_ID);
    this.#wif = !allowed.has(WIF_RULE_ID);
  }

  /**
   * The first rule `text` (latin1) breaks in any view, or undefined; `skip` names rules not to
   * apply here. The named rules and the bottle's tokens go over every view first: a key in
   * base64 is found as that key, not as noise.
   */
  find(text: string, final = true, skip?: ReadonlySet<string>): string | undefined {
    const entropy = this.#entropy && !skip?.has(ENTROPY_RULE_ID);
    const all = views(text, final, entropy);
    for (const view of all.list) {
      const hit = this.#findIn(view, skip);
      if (hit) return hit;
    }
    if (all.wif && this.#wif) return WIF_RULE_ID;
    return entropy && all.random ? ENTROPY_RULE_ID : undefined;
  }

  #findIn(view: View, skip: ReadonlySet<string> | undefined): string | undefined {
    const text = view.text;
    // which anchored rules can match at all: one pass over the text for every anchor, any case
    const present = new Set<number>();
    this.#anchors?.forEach(Buffer.from(text, "latin1"), 0, (i) => present.add(this.#anchorRule[i] as number));
    if (present.has(TOKEN)) return BOTTLE_TOKEN_RULE_ID;
    for (let i = 0; i < this.#rules.length; i++) {
      const rule = this.#rules[i] as Compiled;
      if ((rule.anchored && !present.has(i)) || (rule.needs !== undefined && !view.facts[rule.needs]) || skip?.has(rule.id)) continue;
      rule.re.lastIndex = 0;
      for (let m = rule.re.exec(text); m; m = rule.re.exec(text)) {
        if (rule.valid(m, text)) return rule.id;
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

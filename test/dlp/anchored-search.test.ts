/**
 * The scanner runs each rule only at or around its anchors (dlp-scan.ts, from the pattern's
 * shape, dlp-pattern-shape.ts). Checked here: the shapes read from patterns, and that searching
 * at anchors finds exactly what searching every rule over the whole text finds, on texts built
 * of corpus files with every rule's fake and near-misses cut in at random places.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { placeholderTail } from "../../proxy/src/inspect/dlp-rule";
import { BUILTIN_RULES, type DlpRule } from "../../proxy/src/inspect/dlp-rules";
import { patternShape } from "../../proxy/src/inspect/dlp-pattern-shape";
import { DlpScanner } from "../../proxy/src/inspect/dlp-scan";
import { views } from "../../proxy/src/inspect/dlp-views";
import { FAKE_WORKSPACE_SECRETS } from "../helpers/fake-tokens";
import { corpusFiles } from "./lib/corpus-files";

/** Whether `rule` has a valid match anywhere in `text`: every match start, over the whole text. */
function wholeTextFinds(rule: DlpRule, text: string): boolean {
  const re = new RegExp(rule.pattern, rule.anyCase ? "gi" : "g");
  const own = rule.valid ?? (() => true);
  const placeholder = rule.family !== "keys" && rule.family !== "generic";
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (own(m, text) && !(placeholder && placeholderTail(m[0]))) return true;
    re.lastIndex = m.index + 1;
  }
  return false;
}

/** One scanner per rule (all others allowed), so that each rule's answer is seen alone. */
const ALONE = new Map(BUILTIN_RULES.map((r) => [r.id, new DlpScanner({ mode: "block", rules: [], allow: BUILTIN_RULES.filter((o) => o.id !== r.id).map((o) => o.id) }, [])]));

/** Where the anchored search and the whole-text search disagree on `text`, by rule and view. */
function disagreements(text: string): string[] {
  const out: string[] = [];
  for (const view of views(text, true, false).list) {
    for (const rule of BUILTIN_RULES) {
      if (rule.needs !== undefined && !view.facts[rule.needs]) continue;
      const fast = ALONE.get(rule.id)?.find(view.text, true, undefined) !== undefined;
      // the scanner reads every view of the view's text too: compare on the raw view alone
      const whole = wholeTextFinds(rule, view.text);
      if (whole && !fast) out.push(`${rule.id} missed in ${view.how}`);
    }
  }
  return out;
}

describe("request inspection: rules searched at their anchors", () => {
  it("reads the longest span and the literal starts of a pattern", () => {
    assert.deepEqual(patternShape("ghp_[A-Za-z0-9]{36}"), { maxLength: 40, lookaround: 0, prefixes: ["ghp_"] });
    assert.deepEqual(patternShape("(?<![a-z])(?:sk|rk)_(?:live|test)_x{2,5}").prefixes, ["sk_live_x", "sk_test_x", "rk_live_x", "rk_test_x"]);
    assert.equal(patternShape("(?<![a-z])(?:sk|rk)_x{2,5}(?![0-9]{3})").maxLength, 8);
    assert.equal(patternShape("(?<![a-z])(?:sk|rk)_x{2,5}(?![0-9]{3})").lookaround, 3);
    assert.equal(patternShape("a[ \\t]+b").maxLength, Infinity);
    assert.deepEqual(patternShape("[A-Z]{4}x").prefixes, [], "a wide class starts no literal");
    assert.deepEqual([...patternShape("[aA][wW][sS]-?k").prefixes].sort(), ["aws-k", "awsk"]);
    assert.deepEqual([...patternShape("\\\\?\"id").prefixes].sort(), ["\"id", "\\\"id"]);
    assert.deepEqual(patternShape("a(?<name>b)"), { maxLength: Infinity, lookaround: Infinity, prefixes: [] }, "what it does not read is unbounded");
    assert.deepEqual(patternShape("a\\1"), { maxLength: Infinity, lookaround: Infinity, prefixes: [] });
  });

  it("gives every rule a bounded plan: each built-in rule's pattern is read", () => {
    for (const r of BUILTIN_RULES) {
      const s = patternShape(r.pattern);
      assert.ok(s.lookaround <= 64, `${r.id}: lookaround ${s.lookaround}`);
      assert.ok(s.prefixes.length > 0 || s.maxLength < Infinity || r.anchors === undefined, `${r.id}: neither a literal start nor a bounded span`);
    }
  });

  it("finds what a search of the whole text finds, rule by rule, with fakes cut into corpus text", () => {
    const files = corpusFiles().filter((_, i) => i % 23 === 0);
    const fakes = Object.values(FAKE_WORKSPACE_SECRETS);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: files.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: fakes.length - 1 }), fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 6 }),
        (f, cuts) => {
          let text = (files[f]?.text ?? "").slice(0, 12_000);
          for (const [at, which, how] of cuts) {
            const fake = fakes[which] as string;
            // the fake, its start alone, its end alone, or glued to its neighbours
            const piece = [fake, fake.slice(0, 9), fake.slice(-12), `x${fake}9`][how] as string;
            const p = at % (text.length + 1);
            text = `${text.slice(0, p)}${piece}${text.slice(p)}`;
          }
          const bytes = Buffer.from(text, "utf8").toString("latin1");
          assert.deepEqual(disagreements(bytes), []);
        },
      ),
      { numRuns: 60, seed: 2126 },
    );
  });
});

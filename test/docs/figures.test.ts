/**
 * The docs quote figures of the code and the corpus: counts, rule families, log events, default
 * settings, the scripts there are. Each check here reads the text as written and computes the
 * figure from the code, so a change to either side that leaves them apart fails here. Figures
 * measured by running the proxy (timings, throughput) are not checked: their tests print them.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { DEFAULTS, FLAGS } from "../../proxy/src/config";
import { DLP_FAMILIES } from "../../proxy/src/inspect/dlp-rule";
import { BUILTIN_RULES } from "../../proxy/src/inspect/dlp-rules";
import { loadCorpus } from "../adversarial/lib/corpus";
import { benignCases, ENCODINGS, exfiltrationCases } from "../adversarial/lib/dlp-corpus";

const ROOT = path.resolve(__dirname, "../..");
const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");
/** Markdown wraps lines: read a doc as one line of text. */
const flat = (text: string) => text.replace(/\s+/g, " ");
const num = (text: string | undefined) => Number((text ?? "NaN").replace(/,/g, ""));
const WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"];

/** The groups of `pattern` in `text`; fails naming the pattern when the doc no longer says it. */
function quoted(text: string, pattern: RegExp): string[] {
  const m = pattern.exec(text);
  assert.ok(m, `the doc no longer matches ${pattern}: reword the test with the doc`);
  return m.slice(1).map((g) => g ?? "");
}

describe("docs quote the code", () => {
  const security = flat(read("SECURITY.md"));
  const readme = read("README.md");

  describe("SECURITY.md", () => {
    const corpus = loadCorpus();
    const runnable = corpus.filter((c) => !c.knownBypass);

    it("states the bypass corpus's rows, classes, runs and verdicts", () => {
      const [rows, classes, runs, pass, denied, parser, forwarded, tolerated] = quoted(
        security,
        /Bypass corpus \| ([\d,]+) rows in (\d+) classes, ([\d,]+) runs .*?: all ([\d,]+) pass, .*?Verdicts: (\d+) refused by the policy .*?, (\d+) refused with a bare 400 before the policy .*?, (\d+) forwarded .*?except (\d+) framing cases/,
      ).map(num);
      const rowIds = new Set(corpus.map((c) => c.id.replace(/[hs]$/, "")));
      const refusedBy = (layer: string) => runnable.filter((c) => c.expect.verdict === "refused" && c.expect.layer === layer);
      assert.deepEqual(
        { rows, classes, runs, pass, denied, parser, forwarded, tolerated },
        {
          rows: rowIds.size,
          classes: new Set(corpus.map((c) => c.class)).size,
          runs: corpus.length,
          pass: runnable.length,
          denied: runnable.filter((c) => c.expect.verdict === "denied").length,
          parser: refusedBy("parser").length,
          forwarded: runnable.filter((c) => c.expect.verdict === "forwarded").length,
          tolerated: runnable.filter((c) => c.expect.verdict === "refused" && c.expect.forwardProxyContact === "tolerated").length,
        },
      );
      if (security.includes("no known bypass left skipped")) assert.equal(corpus.length - runnable.length, 0, "known bypasses are skipped");
    });

    it("states how many corpus requests the leak and audit checks send", () => {
      const [leaks] = quoted(security, /every reply \(([\d,]+) corpus requests plus 502s\)/).map(num);
      const [audit] = quoted(security, /equal to what the agent saw \(([\d,]+) requests\)/).map(num);
      // leaks.test.ts sends every runnable case; audit.test.ts those on the `corpus` route set
      assert.equal(leaks, runnable.length);
      assert.equal(audit, runnable.filter((c) => c.routes === "corpus").length);
    });

    it("states the rules, families, encodings and cases of request inspection", () => {
      const [rules, families] = quoted(security, /(\d+) rules, one per published format in (\w+) families/);
      const [encodings] = quoted(security, /in the body under (\d+) encodings/).map(num);
      const [refused, of] = quoted(security, /([\d,]+) of ([\d,]+) exfiltration cases refused/).map(num);
      const [benign] = quoted(security, /0 of ([\d,]+) benign look-alikes refused/).map(num);
      assert.equal(num(rules), BUILTIN_RULES.length);
      assert.equal(families, WORDS[DLP_FAMILIES.length]);
      assert.equal(encodings, Object.keys(ENCODINGS).length);
      assert.deepEqual([refused, of], [exfiltrationCases().length, exfiltrationCases().length]);
      assert.equal(benign, benignCases().length);
    });
  });

  describe("README.md", () => {
    it("lists every log event the proxy writes, and no other", () => {
      const [list] = quoted(flat(readme), /- Every line names its `event`: (.*?)\. /);
      const listed = [...(list ?? "").matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
      const written = new Set<string>();
      for (const file of tsFilesUnder("proxy/src")) {
        const text = read(file);
        // the event of a record (`event: "decision"`, not a parameter `on(event: "connection"`) or of an operational line (`event("started"`)
        for (const m of text.matchAll(/(?<!\()\bevent: "([a-z_]+)"/g)) written.add(m[1] as string);
        for (const m of text.matchAll(/\b(?:event|eventLine)\(\s*"([a-z_]+)"/g)) written.add(m[1] as string);
      }
      assert.ok(written.has("decision") && written.has("started"), "the scan of proxy/src finds events");
      assert.deepEqual([...listed].sort(), [...written].sort());
      const named = [...readme.matchAll(/"event":"([a-z_]+)"/g)].map((m) => m[1] as string);
      assert.deepEqual(named.filter((e) => !written.has(e)), [], "events the README names that nothing writes");
    });

    it("gives each setting the flag and default of the code", () => {
      const rows = [...readme.matchAll(/^\| `(EGRESS_PROXY_[A-Z_]+)` \| (?:`--([a-z-]+)`)? \| (?:`([^`]*)`)? \|/gm)];
      const table = Object.fromEntries(rows.map((m) => [m[1], { flag: m[2], default: m[3] }]));
      for (const [name, value] of Object.entries(DEFAULTS)) assert.equal(table[name]?.default, value, name);
      for (const [flag, name] of Object.entries(FLAGS)) assert.equal(table[name]?.flag, flag, name);
    });
  });

  it("scripts/README.md names every script, and kube/README.md every one of kube/", () => {
    for (const dir of ["scripts", "scripts/kube"]) {
      const doc = read(path.join(dir, "README.md"));
      const scripts = readdirSync(path.join(ROOT, dir)).filter((f) => /\.(sh|js)$/.test(f));
      assert.ok(scripts.length > 3, dir);
      assert.deepEqual(scripts.filter((s) => !doc.includes(`| \`${s}\` |`)), [], `scripts without a row in ${dir}/README.md`);
    }
  });
});

function tsFilesUnder(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFilesUnder(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : [],
  );
}

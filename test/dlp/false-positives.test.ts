/**
 * The false-positive corpus: real files no one here wrote (lib/corpus-files.ts), each sent as an
 * Anthropic Messages and an OpenAI chat request (lib/llm-requests.ts) through the scanner with the
 * default settings, head and body, as the proxy reads them. Target: at most 1 wrongly refused
 * request in 1,000. Every refusal is printed by rule and file; a file that holds a real key (a
 * vendor's published test key is one) is a true positive and listed in TRUE_POSITIVES with why.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { DlpScanner, inspectHead } from "../../proxy/src/inspect/dlp-scan";
import { DlpStream } from "../../proxy/src/inspect/dlp-stream";
import { corpusFiles } from "./lib/corpus-files";
import { anthropicRequest, openaiRequest, type LlmRequest } from "./lib/llm-requests";

/** Files whose refusal is right: `file` (a suffix of its name) and the reason. */
export const TRUE_POSITIVES: readonly { file: string; rule: string; why: string }[] = [
  { file: "@scure/bip39/index.js", rule: "seed-phrase", why: "a BIP-39 test-vector mnemonic in its doc comments: a real, published seed phrase" },
  { file: "python3-jwt/README.rst", rule: "jwt", why: "an example token of the library's README: a real, signed JWT" },
  { file: "@js-sdsl/ordered-map/README.md", rule: "generic-secret", why: "a badge URL with a `?token=` of a rating service: a real token, published" },
];

const DEFAULTS = { mode: "block", rules: [], allow: [] } as const;

/** The rule and place that refuse a request, or undefined. */
export function verdict(scanner: DlpScanner, r: LlmRequest): { rule: string; where: string } | undefined {
  return inspectHead(scanner, r.target, r.rawHeaders, () => false) ?? DlpStream.scanAll(scanner, r.body);
}

describe("request inspection: false positives on real files sent as LLM requests", function () {
  this.timeout(120_000);

  it("refuses at most 1 request in 1,000 wrongly, and lists every refusal", () => {
    const started = Date.now();
    const scanner = new DlpScanner(DEFAULTS, []);
    const files = corpusFiles();
    assert.ok(files.length >= 2000, `only ${files.length} files`);
    let requests = 0;
    let bytes = 0;
    const wrong: string[] = [];
    const right: string[] = [];
    files.forEach((f, i) => {
      for (const r of [anthropicRequest(f.name, f.text, i), openaiRequest(f.name, f.text, i)]) {
        requests++;
        bytes += r.body.length;
        const v = verdict(scanner, r);
        if (!v) continue;
        const line = `${v.rule} in ${v.where} (${r.api}): ${f.name}`;
        const known = TRUE_POSITIVES.find((t) => f.name.endsWith(t.file) && t.rule === v.rule);
        (known ? right : wrong).push(known ? `${line}: ${known.why}` : line);
      }
    });
    const seconds = (Date.now() - started) / 1000;
    console.log(`      ${files.length} files, ${requests} requests, ${(bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(1)} s: ${wrong.length} wrongly refused, ${right.length} true positives`);
    for (const l of right) console.log(`      true positive: ${l}`);
    for (const l of wrong) console.log(`      REFUSED: ${l}`);
    assert.ok(wrong.length <= requests / 1000, `${wrong.length} of ${requests} refused wrongly`);
  });

  it("gives every corpus body the same verdict however it is split into chunks (1 B to 16 KiB)", function () {
    this.timeout(120_000);
    const scanner = new DlpScanner(DEFAULTS, []);
    // the largest bodies cross many windows; the refused ones must stay refused
    const files = corpusFiles().sort((a, b) => b.text.length - a.text.length || (a.name < b.name ? -1 : 1));
    const refused = files.filter((f) => TRUE_POSITIVES.some((t) => f.name.endsWith(t.file)));
    const bodies = [...files.slice(0, 30), ...refused].map((f, i) => anthropicRequest(f.name, f.text, i).body);
    const whole = bodies.map((b) => DlpStream.scanAll(scanner, b)?.rule);
    let runs = 0;
    fc.assert(
      fc.property(fc.nat({ max: bodies.length - 1 }), fc.array(fc.integer({ min: 1, max: 16 * 1024 }), { minLength: 1, maxLength: 64 }), (which, sizes) => {
        runs++;
        const body = bodies[which] as Buffer;
        const stream = new DlpStream(scanner);
        let found: string | undefined;
        for (let at = 0, k = 0; at < body.length && !found; k++) {
          const size = sizes[k % sizes.length] as number;
          found = stream.push(body.subarray(at, at + size)).finding?.rule;
          at += size;
        }
        found ??= stream.end().finding?.rule;
        assert.equal(found, whole[which]);
      }),
      { numRuns: 200, seed: 21 },
    );
    console.log(`      ${runs} random chunkings of ${bodies.length} bodies (${refused.length} refused whole): verdict unchanged`);
  });
});

/**
 * The false-positive corpus: real files no one here wrote (lib/corpus-files.ts), each sent as an
 * Anthropic Messages and an OpenAI chat request (lib/llm-requests.ts) through the scanner with the
 * default settings, head and body, as the proxy reads them. Target: at most 1 wrongly refused
 * request in 1,000. Every refusal is printed by rule and file; a file that holds a real key (a
 * vendor's published test key is one) is a true positive and listed in TRUE_POSITIVES with why.
 */
import assert from "node:assert/strict";
import { DlpScanner, inspectHead } from "../../proxy/src/policy/dlp-scan";
import { DlpStream } from "../../proxy/src/policy/dlp-stream";
import { corpusFiles } from "./lib/corpus-files";
import { anthropicRequest, openaiRequest, type LlmRequest } from "./lib/llm-requests";

/** Files whose refusal is right: `file` (a suffix of its name) and the reason. */
export const TRUE_POSITIVES: readonly { file: string; rule: string; why: string }[] = [];

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
});

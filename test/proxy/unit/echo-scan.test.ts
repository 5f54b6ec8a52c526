/**
 * The pure core of echo removal: the forms a token takes when echoed, the multi-needle search,
 * and the stream that holds back only what may begin a token. Properties run over random data,
 * random insert offsets and random chunkings.
 */
import assert from "node:assert/strict";
import { inspect } from "node:util";
import fc from "fast-check";
import { echoForms } from "../../../proxy/src/echo/echo-forms";
import { EchoPatterns, EchoStream } from "../../../proxy/src/echo/echo-scan";
import { NeedleSearch } from "../../../proxy/src/echo/needle-search";
import { ECHO_TOKEN, echoEncodings } from "../../helpers/echo-encodings";
import { FAKE_TOKENS } from "../../helpers/fake-tokens";

const patternsOf = (...tokens: string[]) => {
  const p = EchoPatterns.of(new Map(tokens.map((t, i) => [`EGRESS_PROXY_TOKEN_${i + 1}`, [t]])));
  if (!p) throw new Error("no patterns");
  return p;
};

/** Run a whole byte string through a stream cut at `cuts`; the output and what was found. */
function streamed(patterns: EchoPatterns, data: Buffer, cuts: number[]): { out: Buffer; found: number[]; maxHeld: number } {
  const s = new EchoStream(patterns);
  const outs: Buffer[] = [];
  const found: number[] = [];
  let maxHeld = 0;
  let from = 0;
  for (const to of [...cuts.filter((c) => c > 0 && c < data.length).sort((a, b) => a - b), data.length]) {
    const r = s.push(data.subarray(from, to));
    outs.push(r.out);
    found.push(...r.found.map((f) => f.at));
    maxHeld = Math.max(maxHeld, s.held);
    from = to;
  }
  outs.push(s.end());
  return { out: Buffer.concat(outs), found, maxHeld };
}

describe("echo forms", () => {
  it("every echo encoding of a token with awkward characters contains one of its forms", () => {
    const forms = echoForms(ECHO_TOKEN).map((f) => f.bytes.toString("latin1"));
    for (const [name, encoded] of echoEncodings(ECHO_TOKEN)) {
      assert.ok(forms.some((f) => encoded.includes(f)), `${name}: no form found in ${encoded.length} bytes`);
    }
  });

  it("names each form's encoding and lists each form once", () => {
    const forms = echoForms(FAKE_TOKENS.github);
    const texts = forms.map((f) => f.bytes.toString("latin1"));
    assert.equal(new Set(texts).size, texts.length);
    assert.equal(forms[0]?.encoding, "raw");
    for (const e of ["url", "base64", "hex", "json", "html"]) assert.ok(forms.some((f) => f.encoding === e), e);
  });

  it("keeps its needles out of logs and JSON", () => {
    const p = patternsOf(FAKE_TOKENS.github);
    assert.ok(!inspect(p, { showHidden: true, depth: 5 }).includes("do-not-leak"));
    assert.ok(!JSON.stringify({ p }).includes("do-not-leak"));
  });
});

describe("needle search", () => {
  it("finds overlapping and adjacent needles of different lengths", () => {
    const s = new NeedleSearch([Buffer.from("abcabcab"), Buffer.from("cabcabxyz-long"), Buffer.from("zzzzzzzz")]);
    const hits: [number, number][] = [];
    s.forEach(Buffer.from("--abcabcabcabxyz-long--zzzzzzzzz"), 0, (i, at) => hits.push([i, at]));
    assert.deepEqual(hits.sort((a, b) => a[1] - b[1] || a[0] - b[0]), [[0, 2], [0, 5], [1, 7], [2, 23], [2, 24]]);
  });

  it("holds back the longest end that begins a needle, and nothing after a newline", () => {
    const s = new NeedleSearch([Buffer.from("secret-token-1"), Buffer.from("s3cr3t-other")]);
    assert.equal(s.pendingTail(Buffer.from("data: x secret-to")), "secret-to".length);
    assert.equal(s.pendingTail(Buffer.from("data: x s")), 1);
    assert.equal(s.pendingTail(Buffer.from("data: {\"a\":1}\n\n")), 0);
    assert.equal(s.pendingTail(Buffer.from("secret-token-1")), 0, "a whole needle is found, not held");
  });
});

describe("echo stream", () => {
  const patterns = patternsOf(FAKE_TOKENS.github, ECHO_TOKEN);
  const forms = [FAKE_TOKENS.github, ECHO_TOKEN].flatMap((t) => echoForms(t).map((f) => f.bytes));

  it("finds a form inserted at any offset of random data cut into random chunks, and redacts it in place", function () {
    this.timeout(20_000);
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 3000 }),
        fc.nat({ max: forms.length - 1 }),
        fc.nat(),
        fc.array(fc.nat({ max: 4000 }), { maxLength: 40 }),
        (noise, which, offset, cuts) => {
          const form = forms[which] as Buffer;
          const at = noise.length ? offset % (noise.length + 1) : 0;
          const data = Buffer.concat([Buffer.from(noise.subarray(0, at)), form, Buffer.from(noise.subarray(at))]);
          const r = streamed(patterns, data, cuts);
          assert.ok(r.found.includes(at), `not found at ${at}`);
          assert.equal(r.out.length, data.length, "redaction keeps the length");
          assert.ok(!r.out.includes(form), "the form went out");
          assert.deepEqual(r.out.subarray(0, at), data.subarray(0, at), "bytes before it changed");
          assert.ok(r.maxHeld <= patterns.window, "held more than the window");
        },
      ),
      { numRuns: 400 },
    );
  });

  it("leaves data without tokens byte for byte as it came, whatever the chunking", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), fc.array(fc.nat({ max: 5000 }), { maxLength: 30 }), (noise, cuts) => {
        const data = Buffer.from(noise);
        const r = streamed(patterns, data, cuts);
        assert.deepEqual(r.found, []);
        assert.deepEqual(r.out, data);
      }),
      { numRuns: 300 },
    );
  });

  it("finds a token split at every offset between two chunks, once", () => {
    const data = Buffer.from(`{"echo":"${FAKE_TOKENS.github}"}`);
    for (let cut = 1; cut < data.length; cut++) {
      const r = streamed(patterns, data, [cut]);
      assert.deepEqual(r.found, [9], `cut at ${cut}`);
      assert.ok(!r.out.toString().includes(FAKE_TOKENS.github));
    }
  });

  it("keeps memory bounded for any body size: what it holds never exceeds the window", () => {
    const s = new EchoStream(patterns);
    const prefix = Buffer.from(FAKE_TOKENS.github.slice(0, -1));
    for (let i = 0; i < 2000; i++) {
      // every chunk ends in all of a token but its last byte: the most it can ever hold
      s.push(Buffer.concat([Buffer.alloc(1000, 0x61), prefix]));
      assert.ok(s.held <= patterns.window);
    }
  });

  it("redacts a whole string (a header value) and says where and in which encoding", () => {
    const b64 = Buffer.from(`user:${FAKE_TOKENS.github}`).toString("base64");
    const r = patternsOf(FAKE_TOKENS.github).redactText(`Basic ${b64}`);
    assert.equal(r.text.length, `Basic ${b64}`.length);
    assert.ok(r.text.includes("REDACTED"));
    assert.deepEqual(r.found.map((f) => [f.tokenEnv, f.encoding]), [["EGRESS_PROXY_TOKEN_1", "base64"]]);
  });
});

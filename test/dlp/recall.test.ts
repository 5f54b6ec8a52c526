/**
 * Recall and everyday traffic: every rule's fake (fake-secrets.ts) is found in the query, a
 * header, a JSON body, a form body and the base64 of a body; near-misses of every format and the
 * ordinary traffic of a coding agent's clients (npm, pip, git, go, cargo headers and bodies,
 * certificates, provider ids) are not refused. Default settings throughout.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { BUILTIN_RULES } from "../../proxy/src/inspect/dlp-rules";
import { DlpScanner, inspectHead } from "../../proxy/src/inspect/dlp-scan";
import { DlpStream } from "../../proxy/src/inspect/dlp-stream";
import { ALPHABETS, FakeText } from "../helpers/fake-secrets";
import { FAKE_WORKSPACE_SECRETS } from "../helpers/fake-tokens";

const scanner = new DlpScanner({ mode: "block", rules: [], allow: [] }, []);
const none = () => false;
const latin1 = (s: string) => Buffer.from(s, "utf8").toString("latin1");

/** README and SECURITY.md quote this test's figures: each doc must say `figure` where `pattern` reads it. */
function docsQuote(pattern: RegExp, figure: string): void {
  for (const doc of ["README.md", "SECURITY.md"]) {
    const text = readFileSync(path.resolve(__dirname, "../..", doc), "utf8").replace(/\s+/g, " ");
    assert.equal(pattern.exec(text)?.[1], figure, `${doc} quotes ${pattern}`);
  }
}

/** The places a request carries a text, each giving the rule that refuses it there. */
const PLACES: Record<string, (s: string) => string | undefined> = {
  query: (s) => inspectHead(scanner, `/v1/x?q=${encodeURIComponent(s)}`, [], none)?.rule,
  header: (s) => (/^[\x20-\x7e]*$/.test(s) ? inspectHead(scanner, "/", ["X-Debug", s], none)?.rule : "multi-line: no header"),
  "JSON body": (s) => DlpStream.scanAll(scanner, Buffer.from(JSON.stringify({ content: s })))?.rule,
  "form body": (s) => DlpStream.scanAll(scanner, Buffer.from(`note=${encodeURIComponent(s)}&x=1`))?.rule,
  "base64 body": (s) => DlpStream.scanAll(scanner, Buffer.from(Buffer.from(JSON.stringify({ content: s })).toString("base64")))?.rule,
};

/** Look-alikes of a fake that are no secret: too short, a placeholder body, the prefix alone in prose. */
function nearMisses(secret: string, seed: number): string[] {
  const t = new FakeText(seed);
  const head = secret.slice(0, Math.min(8, Math.floor(secret.length / 3)));
  return [
    `${head}${t.of(ALPHABETS.b62, 6)}`,
    `${head}${"X".repeat(Math.max(0, secret.length - head.length))}`,
    `${head}${"0".repeat(Math.max(0, secret.length - head.length))}`,
    `the ${head} prefix marks such keys`,
    `${head}<your-key-here>`,
    `${head}${"*".repeat(24)}`,
    `${head}...`,
  ];
}

describe("request inspection: recall of every rule, and near-misses", () => {
  const ids = BUILTIN_RULES.map((r) => r.id);

  it("finds every rule's fake as itself in the query, a header, a JSON body, a form body and base64", () => {
    const missed: string[] = [];
    let caught = 0;
    for (const id of ids) {
      const secret = latin1(FAKE_WORKSPACE_SECRETS[id] as string);
      for (const [place, find] of Object.entries(PLACES)) {
        const got = find(secret);
        if (got === "multi-line: no header") continue;
        if (got === id) caught++;
        else missed.push(`${id} in ${place}: ${got ?? "nothing"}`);
      }
    }
    console.log(`      ${ids.length} rules, ${caught} of ${caught + missed.length} placements caught`);
    assert.deepEqual(missed, []);
    docsQuote(/\*\*([\d,]+) of \1 found\*\*/, caught.toLocaleString("en-US"));
  });

  it("refuses no near-miss: at least 100 per family", () => {
    const byFamily = new Map<string, number>();
    const refused: string[] = [];
    for (const rule of BUILTIN_RULES) {
      const secret = FAKE_WORKSPACE_SECRETS[rule.id] as string;
      for (let round = 0; byFamily.get(rule.family) === undefined || (byFamily.get(rule.family) as number) < 100 || round < 2; round++) {
        for (const miss of nearMisses(secret, round * 1000 + rule.id.length)) {
          byFamily.set(rule.family, (byFamily.get(rule.family) ?? 0) + 1);
          const got = scanner.find(latin1(miss));
          if (got) refused.push(`${rule.id}: ${got}`);
        }
        if (round > 40) break;
      }
    }
    console.log(`      near-misses per family: ${[...byFamily].map(([f, n]) => `${f} ${n}`).join(", ")}`);
    for (const n of byFamily.values()) assert.ok(n >= 100);
    assert.deepEqual(refused, []);
    docsQuote(/([\d,]+) near-misses/, [...byFamily.values()].reduce((a, b) => a + b, 0).toLocaleString("en-US"));
  });
});

describe("request inspection: a coding agent's everyday traffic passes", () => {
  const t = new FakeText(7);
  const sha512 = Buffer.from(t.of(ALPHABETS.b62, 64)).toString("base64");

  it("passes the issue's wrongly refused requests: joined headers, lower-case hex, template passwords", () => {
    const heads: [string, string[]][] = [
      ["content-length then anthropic-version", ["content-length", "42657", "anthropic-version", "2023-06-01"]],
      ["npm's pacote headers", ["pacote-version", "21.0.0", "pacote-req-type", "packument", "pacote-pkg-id", "registry:zod@4.6.7", "pacote-integrity", `sha512-${sha512}`, "npm-auth-type", "web", "npm-command", "install", "user-agent", "npm/11.6.2 node/v20.20.2 linux x64 workspaces/false", "npm-session", t.of(ALPHABETS.hex, 16)]],
      ["pip", ["user-agent", 'pip/23.0.1 {"ci":null,"cpu":"x86_64","implementation":{"name":"CPython","version":"3.11.2"},"installer":{"name":"pip","version":"23.0.1"}}', "accept", "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"]],
      ["git smart HTTP", ["user-agent", "git/2.39.5", "git-protocol", "version=2", "content-type", "application/x-git-upload-pack-request", "accept", "application/x-git-upload-pack-result"]],
      ["go mod", ["user-agent", "Go-http-client/1.1", "accept-encoding", "gzip"]],
      ["cargo sparse index", ["user-agent", "cargo/1.84.0 (66221abde 2024-11-19)", "cargo-protocol", "version=1", "accept", "text/plain", "if-none-match", `"${t.of(ALPHABETS.hex, 32)}"`]],
      ["Anthropic SDK", ["x-stainless-retry-count", "0", "x-stainless-timeout", "600", "content-length", "1234567890123", "anthropic-version", "2023-06-01", "request-id", `req_011C${t.of(ALPHABETS.b62, 20)}`]],
    ];
    for (const [name, headers] of heads) assert.equal(inspectHead(scanner, "/", headers, none), undefined, name);
    const bodies: [string, string][] = [
      ["a lock file's lower-case sha256 with `acca`", `"sha256": "9f${"acca".repeat(2)}0123456789abcdef0123456789abcdef0123456789abcdef0123456789"`],
      ["a template password", "DATABASE_URL=postgres://app:${DB_PASSWORD}@db/app"],
      ["go.sum lines", `github.com/pulumi/pulumi/sdk/v3 v3.248.0 h1:${sha512.slice(0, 43)}=\ngolang.org/x/net v0.30.0/go.mod h1:${sha512.slice(1, 44)}=`],
      ["a PEM certificate", `-----BEGIN CERTIFICATE-----\n${sha512}\n${sha512}\n-----END CERTIFICATE-----`],
      ["a public key", `-----BEGIN PUBLIC KEY-----\n${sha512}\n-----END PUBLIC KEY-----\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${t.of(ALPHABETS.b62, 43)} agent@bottle`],
      ["Stripe object ids", `{"id":"pi_3${t.of(ALPHABETS.b62, 23)}","customer":"cus_${t.of(ALPHABETS.b62, 14)}","charge":"ch_3${t.of(ALPHABETS.b62, 23)}"}`],
      ["ULIDs and UUIDs", `01${t.of("0123456789ABCDEFGHJKMNPQRSTVWXYZ", 24)} ${t.uuid()} ${t.uuid().toUpperCase()}`],
      ["pagination cursors", `{"next_page_token":"${t.mixed(48)}","cursor":"${Buffer.from(`{"offset":200,"id":"${t.uuid()}"}`).toString("base64")}"}`],
      ["provider ids", `{"id":"toolu_01${t.of(ALPHABETS.b62, 22)}","message":"msg_01${t.of(ALPHABETS.b62, 22)}","call":"call_${t.of(ALPHABETS.b62, 24)}","c":"chatcmpl-${t.of(ALPHABETS.b62, 29)}"}`],
      ["a cargo index line", `{"name":"serde","vers":"1.0.215","deps":[],"cksum":"${t.of(ALPHABETS.hex, 64)}","features":{},"yanked":false}`],
      ["a git pack request", `0032want ${t.of(ALPHABETS.hex, 40)}\n0032have ${t.of(ALPHABETS.hex, 40)}\n0009done\n`],
      ["SRI in HTML", `<script src="x.js" integrity="sha384-${sha512.slice(0, 64)}" crossorigin="anonymous"></script>`],
    ];
    for (const [name, body] of bodies) assert.equal(DlpStream.scanAll(scanner, Buffer.from(body))?.rule, undefined, name);
  });

  it("still finds a secret cut across two headers, but never digits of one header read on with the next", () => {
    const key = FAKE_WORKSPACE_SECRETS["aws-access-key-id"] as string;
    assert.deepEqual(inspectHead(scanner, "/", ["X-A", key.slice(0, 9), "X-B", key.slice(9)], none), { rule: "aws-access-key-id", where: "headers" });
    assert.equal(inspectHead(scanner, "/", ["X-A", "4111 1111", "X-B", "1111 1111"], none), undefined);
    assert.equal(inspectHead(scanner, "/", ["X-A", "41111111", "X-B", "11111111"], none), undefined);
  });
});

describe("request inspection: the README's rule table", () => {
  it("lists exactly the rule ids of the code, each once", () => {
    const readme = readFileSync(path.resolve(__dirname, "../../README.md"), "utf8");
    const listed = [...readme.matchAll(/^ {3}\| `([a-z0-9-]+)` \| (?:[a-z-]+) \|/gm)].map((m) => m[1]);
    assert.deepEqual([...listed].sort(), [...BUILTIN_RULES.map((r) => r.id), "entropy"].sort());
  });
});

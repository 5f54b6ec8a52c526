/**
 * The request-inspection corpus: exfiltration cases (every rule's fake secret in every place a
 * request can carry it and every encoding that evades a naive match) and benign look-alikes
 * (identifiers, hashes, images, code and prose that resemble secrets). Generated from the
 * fixed fake secrets, so it is the same on every run.
 */
import { BUILTIN_RULES } from "../../../proxy/src/inspect/dlp-rules";
import { FAKE_TOKENS, FAKE_WORKSPACE_SECRETS } from "../../helpers/fake-tokens";

/** Rules whose format has a case: a key whose case was changed is no longer that format. */
const CASED = new Set(BUILTIN_RULES.filter((r) => !("anyCase" in r && r.anyCase)).map((r) => r.id));
/** A change of case, where the rule still reads the result: any-case rules, or a text the change leaves alone. */
const recased = (s: string, rule: string, to: string) => (rule === "entropy" || (CASED.has(rule) && to !== s) ? undefined : to);

export type Place = "query" | "header" | "cookie" | "body" | "body-chunked" | "body-gzip" | "split-headers" | "ws";

export interface DlpCase {
  name: string;
  place: Place;
  /** The text sent (already encoded); in the body it is the value of a JSON field. */
  text: string;
  /** The rule that must refuse it; undefined for a benign case. */
  rule?: string;
}

const hex2 = (b: number) => b.toString(16).toUpperCase().padStart(2, "0");
const utf8 = (s: string) => [...Buffer.from(s, "utf8")];

/** Look-alikes an agent could swap in (Cyrillic). */
const CONFUSABLE: Record<string, string> = { a: "а", e: "е", o: "о", p: "р", c: "с", x: "х", y: "у", A: "А", B: "В", E: "Е", K: "К", M: "М", H: "Н", O: "О", P: "Р", C: "С", T: "Т", X: "Х" };

/** Encodings that hide a secret from a naive match; undefined where one does not apply. */
export const ENCODINGS: Record<string, (s: string, rule: string) => string | undefined> = {
  raw: (s) => s,
  "url, every byte": (s) => utf8(s).map((b) => `%${hex2(b)}`).join(""),
  "url, twice": (s) => utf8(s).map((b) => `%25${hex2(b)}`).join(""),
  base64: (s) => Buffer.from(`key=${s}`).toString("base64"),
  base64url: (s) => Buffer.from(`k:${s};`).toString("base64url"),
  hex: (s) => Buffer.from(s).toString("hex"),
  // binary bytes first, so that the encoded run as a whole decodes to no text
  "base64 after binary padding": (s) => Buffer.concat([Buffer.from(Array.from({ length: 48 }, (_, i) => (i * 97 + 13) & 0xff)), Buffer.from(s)]).toString("base64"),
  // the case of a base58 or random string cannot be restored: no secret is left to find
  "lower case": (s, rule) => (rule === "crypto-private-key" ? undefined : recased(s, rule, s.toLowerCase())),
  "upper case": (s, rule) => (rule === "crypto-private-key" || rule === "seed-phrase" ? undefined : recased(s, rule, s.toUpperCase())),
  "zero-width space inside": (s) => `${s.slice(0, 6)}\u200b${s.slice(6)}`,
  "Cyrillic look-alike": (s) => {
    const i = [...s].findIndex((c) => CONFUSABLE[c] !== undefined);
    return i === -1 ? undefined : `${s.slice(0, i)}${CONFUSABLE[s[i] as string]}${s.slice(i + 1)}`;
  },
};

/** Can `s` go in a header value as is (no line breaks, no bytes past ASCII)? */
const headerSafe = (s: string) => /^[\x20-\x7e]*$/.test(s);

export function exfiltrationCases(): DlpCase[] {
  const out: DlpCase[] = [];
  // entropy is opt-in (dlp.test.ts turns it on for its routes)
  const secrets = Object.entries(FAKE_WORKSPACE_SECRETS);
  for (const [rule, secret] of secrets) {
    out.push({ name: `${rule} in the query`, place: "query", text: secret, rule });
    if (headerSafe(secret)) out.push({ name: `${rule} in a header`, place: "header", text: secret, rule });
    out.push({ name: `${rule} in a cookie`, place: "cookie", text: encodeURIComponent(secret), rule });
    out.push({ name: `${rule} in a chunked body`, place: "body-chunked", text: secret, rule });
    out.push({ name: `${rule} in a gzip body`, place: "body-gzip", text: secret, rule });
    out.push({ name: `${rule} in a WebSocket message`, place: "ws", text: secret, rule });
    for (const [encoding, encode] of Object.entries(ENCODINGS)) {
      const text = encode(secret, rule);
      if (text !== undefined) out.push({ name: `${rule}, ${encoding}, in the body`, place: "body", text, rule });
    }
  }
  for (const rule of ["aws-access-key-id", "github-token", "jwt", "stripe-key", "npm-token"]) {
    out.push({ name: `${rule} cut across two headers`, place: "split-headers", text: FAKE_WORKSPACE_SECRETS[rule] as string, rule });
  }
  // another route's token on its way to this route's host
  const other = FAKE_TOKENS.anthropic;
  for (const [place, text] of [["query", other], ["header", other], ["body", other], ["body", Buffer.from(other).toString("base64")], ["body", other.toUpperCase()]] as const) {
    out.push({ name: `the bottle's other token (${place}${text === other ? "" : ", encoded"})`, place, text, rule: "bottle-token" });
  }
  return out;
}

const LOREM = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.";

/** A small PNG's bytes as base64, as an agent uploads an image. */
function pngBase64(seed: number): string {
  const bytes = Buffer.alloc(1500);
  let x = seed;
  for (let i = 0; i < bytes.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), bytes]).toString("base64");
}

export function benignCases(): DlpCase[] {
  const texts: [string, string][] = [
    ["a UUID", "550e8400-e29b-41d4-a716-446655440000"],
    ["an upper-case UUID", "F47AC10B-58CC-4372-A567-0E02B2C3D479"],
    ["a UUID without dashes", "f47ac10b58cc4372a5670e02b2c3d479"],
    ["a git SHA", "9fceb02d0ae598e95dc970b74767f19372d61af8"],
    ["a short git SHA", "9fceb02"],
    ["a SHA-256 hex digest", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    ["a Docker image digest", "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"],
    ["an npm integrity string", "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="],
    ["an SRI hash", "sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC"],
    ["a base64 SHA-256 with its name", "digest: sha256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="],
    ["a base64 image", `data:image/png;base64,${pngBase64(1)}`],
    ["another base64 image", pngBase64(7)],
    ["hello world in base64", "aGVsbG8gd29ybGQ="],
    ["minified JS", "!function(e,t){\"object\"==typeof exports?module.exports=t():e.lib=t()}(this,function(){return function(n){var r={};function o(e){if(r[e])return r[e].exports}return o}});"],
    ["minified JS with long names", "var getElementsByClassNameForWidget=function(a){return document.querySelectorAll(a)};window.addEventListenerForComponentLifecycle=1;"],
    ["a webpack chunk id", "webpackChunkmy_application_frontend_bundle_2024"],
    ["lorem text", LOREM],
    ["lorem text, longer", `${LOREM} ${LOREM} Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris.`],
    ["an English paragraph", "The agent opened the repository, read the build file, ran the tests and reported that all of them passed on the first attempt."],
    ["English with seed words", "abandon the old plan, add a new ability, and be able to act about it above all else today"],
    ["an OAuth response that mentions tokens", "{\"token_type\":\"Bearer\",\"expires_in\":3600,\"scope\":\"repo read:org\"}"],
    ["an API doc about tokens", "Pass your token in the Authorization header. Tokens expire after 30 days; rotate them with POST /tokens/rotate."],
    ["a token field with a placeholder", "{\"api_key\":\"<your-api-key>\",\"token\":\"REPLACE_ME\"}"],
    ["a redacted token", "{\"token\":\"ghp_************************************\"}"],
    ["a token count", "{\"usage\":{\"input_tokens\":1024,\"output_tokens\":512,\"total_tokens\":1536}}"],
    ["a chat message about keys", "How do I rotate my AWS access keys safely? I do not want to paste them here."],
    ["an ISO timestamp", "2026-11-29T02:40:00.000Z"],
    ["an epoch in milliseconds", "1795746000000"],
    ["a phone number", "+1 (555) 010-9999"],
    ["an order number", "ORDER-2026-000123456"],
    ["a 16-digit number that fails Luhn", "4111 1111 1111 1112"],
    ["a 16-digit id with a non-card prefix", "1234567890123456"],
    ["a semantic version", "v3.248.0-alpha.1700000000+sha.abcdef0"],
    ["a database URL without a password", "postgres://db.internal:5432/prod"],
    ["a database URL with a user only", "mongodb://reader@cluster0.example.net/test"],
    ["an https URL with a path", "https://github.com/acme/widget/blob/main/src/index.ts#L42"],
    ["a public key", "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----"],
    ["a certificate", "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUFAKE\n-----END CERTIFICATE-----"],
    ["an SSH public key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl agent@bottle"],
    ["a JWT header alone", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"],
    ["an AWS ARN", "arn:aws:iam::123456789012:role/deploy"],
    ["an AWS region and bucket", "s3://acme-artifacts-eu-west-1/builds/2026/11/29/app.tar.gz"],
    ["a Kubernetes secret name", "secretKeyRef: {name: db-credentials, key: password}"],
    ["a CSS block", ".btn-primary{color:#fff;background-color:#0d6efd;border-color:#0d6efd}"],
    ["a hex colour list", "#1e90ff #ff7f50 #2e8b57 #daa520 #9932cc"],
    ["a file path", "/home/agent/workspace/src/components/UserProfileSettingsPanel.tsx"],
    ["a Go module path", "github.com/pulumi/pulumi/sdk/v3@v3.248.0"],
    ["a Python traceback", "Traceback (most recent call last):\n  File \"app.py\", line 12, in <module>\n    main()\nValueError: invalid literal"],
    ["a stack trace", "at Object.<anonymous> (/app/dist/main.js:42:17)\n    at Module._compile (node:internal/modules/cjs/loader:1364:14)"],
    ["a JSON API payload", "{\"id\":42,\"name\":\"widget\",\"tags\":[\"a\",\"b\"],\"created_at\":\"2026-11-29T00:00:00Z\"}"],
    ["a GraphQL query", "query { repository(owner: \"acme\", name: \"widget\") { issues(first: 10) { nodes { title } } } }"],
    ["a diff", "@@ -1,3 +1,4 @@\n-const a = 1;\n+const a = 2;\n+const b = a * 2;"],
    ["a log line", "2026-11-29 02:40:00 INFO request_id=7f3c9a1e status=200 duration_ms=12"],
    ["a markdown table", "| name | value |\n| --- | --- |\n| retries | 3 |"],
    ["a YAML config", "replicas: 3\nimage: acme/widget:1.4.2\nresources:\n  limits: {cpu: 500m, memory: 256Mi}"],
    ["an npm lock entry", "\"node_modules/zod\": {\"version\": \"4.6.7\", \"resolved\": \"https://registry.npmjs.org/zod/-/zod-4.6.7.tgz\"}"],
    ["a random-looking but lower-case slug", "quiet-river-4821-amber-falcon"],
    ["a nanoid-like short id", "V1StGXR8_Z5jdHi6B-myT"],
    ["an Ethereum address", "0x742d35Cc6634C0532925a3b844Bc454e4438f44e"],
    ["a transaction hash", "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060"],
    ["a word list that is not a seed phrase", "apple banana cherry dragon eagle falcon guitar harbor island jungle kettle lemon"],
    ["a URL with an encoded query", "https://example.com/search?q=hello%20world&lang=en-US"],
    ["a double-encoded but harmless query", "redirect=%252Fhome%253Ftab%253D1"],
    ["a percent sign in text", "progress: 100%, cpu 45%"],
    ["accented text", "Crème brûlée, naïve café, Zürich"],
    ["Cyrillic text", "Привет, мир! Это обычный текст."],
    ["emoji", "Build passed ✅ 🚀"],
    ["a base64 JSON blob", Buffer.from(JSON.stringify({ user: "agent", role: "builder", ts: 1795746000 })).toString("base64")],
    ["a hex dump of text", Buffer.from("plain text that is not a secret at all").toString("hex")],
    ["an email", "ops-team@example.com"],
    ["an IPv6 address", "2001:db8::8a2e:370:7334"],
    ["a MAC address", "00:1A:2B:3C:4D:5E"],
    ["a credit-card-like test label", "card ending in 4242, expires 12/30"],
    ["a long camelCase identifier", "useProjectSettingsPermissionsQueryResultCache"],
    ["a Java class name", "org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration"],
    ["a regex", "^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$"],
    ["a SQL query", "SELECT id, name FROM users WHERE created_at > NOW() - INTERVAL '7 days' ORDER BY id LIMIT 50;"],
    ["a shell command", "git clone https://github.com/acme/widget.git && cd widget && npm install"],
    ["a Dockerfile line", "RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates"],
    ["an HTML snippet", "<div class=\"card\"><h2>Settings</h2><p>Your API key is stored securely.</p></div>"],
    ["a data URI of text", "data:text/plain;base64,SGVsbG8sIFdvcmxkIQ=="],
    ["a protobuf-ish binary in base64", "CgdleGFtcGxlEgR0ZXN0GgMKAQE="],
    ["a Stripe publishable key", "pk_test_TYooMQauvdEDq54NiTphI7jx"],
  ];
  const out: DlpCase[] = texts.map(([name, text]) => ({ name: `${name}, in the body`, place: "body", text }));
  // the same look-alikes where an agent also writes them: the query, a header, a WebSocket message
  for (const [name, text] of texts.slice(0, 12)) out.push({ name: `${name}, in the query`, place: "query", text });
  for (const [name, text] of texts.filter(([, t]) => headerSafe(t)).slice(12, 24)) out.push({ name: `${name}, in a header`, place: "header", text });
  for (const [name, text] of texts.slice(24, 32)) out.push({ name: `${name}, in a WebSocket message`, place: "ws", text });
  return out;
}

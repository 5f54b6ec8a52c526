/**
 * Request-inspection rules of cloud providers' credentials, from each provider's published key
 * formats. Pure data (dlp-rule.ts says what a rule is).
 */
import { ci, END, mixedCase, placeholderTail, START, type DlpRule } from "./dlp-rule";

/** The name a key is assigned to, then the value: `NAME = "value"`, `"name": "value"`, `name: value`. */
const ASSIGN = String.raw`[A-Za-z0-9_.-]{0,24}["']?[ \t]{0,4}[:=][ \t]{0,4}["']?`;

const BASE64 = /[A-Za-z0-9+/]/;

/** Whether [at, at + length) of `text` sits in a run of base64 characters twice its length or longer. */
function insideBase64Run(text: string, at: number, length: number): boolean {
  let from = at;
  let to = at + length;
  while (from > 0 && to - from < 2 * length && BASE64.test(text.charAt(from - 1))) from--;
  while (to < text.length && to - from < 2 * length && BASE64.test(text.charAt(to))) to++;
  return to - from >= 2 * length;
}

export const CLOUD_RULES = [
  {
    id: "aws-access-key-id",
    family: "cloud",
    finds: "AWS access key ids (`AKIA`, `ASIA`, `ABIA`, `ACCA` + 16 upper case or digits)",
    pattern: "(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])",
    anchors: ["akia", "asia", "abia", "acca"],
    // AWS's documentation key (`...EXAMPLE`) is published for all to copy; a match inside a long
    // base64 run (an embedded binary) is a piece of that data
    valid: (m, text) => /[0-9]/.test(m[0]) && !m[0].endsWith("EXAMPLE") && !placeholderTail(m[0]) && !insideBase64Run(text, m.index, m[0].length),
  },
  {
    id: "aws-secret-access-key",
    family: "cloud",
    finds: "a 40-character AWS secret key within 24 characters of `aws` and `secret`/`private`",
    pattern: `${ci("aws")}.{0,24}?(?:${ci("secret")}|${ci("private")}).{0,24}?["'=:\\s]{1,4}([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])`,
    anchors: ["aws"],
    valid: (m) => mixedCase(m[1] ?? "") && !(m[1] ?? "").endsWith("EXAMPLEKEY"),
  },
  {
    id: "gcp-api-key",
    family: "cloud",
    finds: "Google API keys (`AIza` + 35)",
    pattern: "AIza[0-9A-Za-z_-]{35}",
    anchors: ["aiza"],
  },
  {
    id: "gcp-oauth-secret",
    family: "cloud",
    finds: "Google OAuth client secrets (`GOCSPX-` + 28)",
    pattern: "GOCSPX-[A-Za-z0-9_-]{28}",
    anchors: ["gocspx-"],
  },
  {
    id: "gcp-oauth-token",
    family: "cloud",
    finds: "Google OAuth access tokens (`ya29.`) and refresh tokens (`1//0`)",
    pattern: `${START}(?:ya29\\.[A-Za-z0-9_-]{30,2048}|1//0[A-Za-z0-9_-]{40,512})`,
    anchors: ["ya29.", "1//0"],
    valid: (m) => mixedCase(m[0]) && !placeholderTail(m[0]),
  },
  {
    id: "gcp-service-account",
    family: "cloud",
    finds: "Google service account key files (`\"private_key_id\": \"<40 hex>\"`)",
    // the quotes may be escaped: the key file quoted inside a JSON string
    pattern: String.raw`\\?"private_key_id\\?"\s*:\s*\\?"[0-9a-f]{40}\\?"`,
    anyCase: true,
    anchors: ["private_key_id"],
  },
  {
    id: "azure-storage-key",
    family: "cloud",
    finds: "Azure storage account keys (`AccountKey=`) and SAS signatures (`sig=`)",
    pattern: `${ci("AccountKey")}=[A-Za-z0-9+/]{86}==|[?&]${ci("sig")}=[A-Za-z0-9%+/]{40,512}(?:%3[dD]|=)`,
    anchors: ["accountkey=", "sig="],
  },
  {
    id: "azure-client-secret",
    family: "cloud",
    finds: "Microsoft Entra client secrets (3 characters, a digit, `Q~`, 31 to 34 more)",
    pattern: "(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])",
    anchors: ["0q~", "1q~", "2q~", "3q~", "4q~", "5q~", "6q~", "7q~", "8q~", "9q~"],
  },
  {
    id: "digitalocean-token",
    family: "cloud",
    finds: "DigitalOcean tokens (`dop_v1_`, `doo_v1_`, `dor_v1_` + 64 hex)",
    pattern: "do[por]_v1_[a-f0-9]{64}",
    anchors: ["dop_v1_", "doo_v1_", "dor_v1_"],
  },
  {
    id: "alibaba-access-key-id",
    family: "cloud",
    finds: "Alibaba Cloud access key ids (`LTAI` + 12 to 20)",
    pattern: "(?<![A-Za-z0-9])LTAI[A-Za-z0-9]{12,20}(?![A-Za-z0-9])",
    anchors: ["ltai"],
    valid: (m) => /[0-9]/.test(m[0]) && !placeholderTail(m[0]),
  },
  {
    id: "cloudflare-origin-ca-key",
    family: "cloud",
    finds: "Cloudflare Origin CA keys (`v1.0-` + 24 hex + `-` + 146 hex)",
    pattern: "v1\\.0-[a-f0-9]{24}-[a-f0-9]{146}",
    anchors: ["v1.0-"],
  },
  {
    id: "cloudflare-api-token",
    family: "cloud",
    finds: "40-character Cloudflare API tokens assigned to a `cloudflare`/`CF_` name",
    pattern: `(?:${ci("cloudflare")}|CF_)${ASSIGN}([A-Za-z0-9_-]{40})${END}`,
    anchors: ["cloudflare", "cf_"],
    valid: (m) => mixedCase(m[1] ?? "") && !placeholderTail(m[0]),
  },
  {
    id: "heroku-api-key",
    family: "cloud",
    finds: "Heroku API keys (`HRKU-` + 56 to 80)",
    pattern: `HRKU-[A-Za-z0-9_-]{56,80}${END}`,
    anchors: ["hrku-"],
  },
] as const satisfies readonly DlpRule[];

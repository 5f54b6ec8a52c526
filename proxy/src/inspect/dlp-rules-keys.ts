/**
 * Request-inspection rules of private keys (PEM, OpenSSH, PuTTY, PGP, age, crypto wallets),
 * seed phrases, card numbers, JWTs, URLs that carry a password, and the generic keyword rule.
 */
import { cardValid, seedPhraseIn, seedPhraseValid } from "./dlp-checks";
import { GENERIC_ANCHORS, GENERIC_PATTERN, genericValid } from "./dlp-generic";
import type { DlpRule } from "./dlp-rule";

const WORD = "[a-z]{3,8}";

/** Passwords of documentation and templates: `${DB_PASSWORD}`, `<password>`, `****`, `password`. */
const PLACEHOLDER_PASSWORD = /^(?:[$%{<[*:]|x+$|(?:pass(?:word)?|passwd|pw|pwd|secret|changeme|root|admin|user|test|example|postgres|mysql|guest)$)/i;
/** Hosts of examples and of the machine itself. */
const EXAMPLE_HOST = /^(?:localhost|127\.0\.0\.1|\[::1\]|0\.0\.0\.0|host|hostname|example\.(?:com|org|net)|[a-z0-9.-]*\.(?:example|test|invalid|local))(?::|$)/i;

/** A URL's credentials that could be real: a password that is no placeholder, for a host that is no example. */
function urlCredentialsValid(m: RegExpExecArray): boolean {
  const [user = "", password = "", host = ""] = [m[1], m[2], m[3]];
  return password !== user && !PLACEHOLDER_PASSWORD.test(password) && !/[$%{}<>]/.test(password) && !EXAMPLE_HOST.test(host);
}

const DB_SCHEMES = "postgres(?:ql)?|mysql|mariadb|mongodb(?:\\+srv)?|rediss?|amqps?|mssql|sqlserver|clickhouse|cockroachdb";
const CREDENTIALS = "([^\\s:@/\"'<>]{1,256}):([^\\s@/\"'<>]{1,256})@([^\\s/\"'<>?#]{1,256})";

export const KEY_RULES = [
  {
    id: "ssh-private-key",
    family: "keys",
    finds: "OpenSSH private keys and PuTTY key files",
    pattern: "-----BEGIN OPENSSH PRIVATE KEY-----|PuTTY-User-Key-File-\\d+:",
    anyCase: true,
    anchors: ["-----begin openssh private key-----", "putty-user-key-file-"],
  },
  {
    id: "private-key",
    family: "keys",
    finds: "PEM and PGP private keys (`-----BEGIN ... PRIVATE KEY-----`, `PGP PRIVATE KEY BLOCK`)",
    pattern: "-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----",
    anyCase: true,
    anchors: ["private key"],
  },
  {
    id: "age-secret-key",
    family: "keys",
    finds: "age secret keys (`AGE-SECRET-KEY-1` + 58 Bech32 characters)",
    pattern: "AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
    anchors: ["age-secret-key-1"],
  },
  // WIF keys are found among the encoded runs (dlp-views.ts): a run of 51 or 52 base58 characters with a valid checksum
  {
    id: "crypto-private-key",
    family: "keys",
    finds: "Bitcoin WIF keys (base58check verified), 64-hex keys named `private key`/`secret key`",
    pattern: "(?:priv(?:ate)?|secret)[_ -]?key[\"'\\s:=]{1,5}(?:0x)?[0-9a-f]{64}\\b",
    anyCase: true,
    anchors: [
      "privkey", "priv_key", "priv-key", "priv key", "privatekey", "private_key", "private-key", "private key",
      "secretkey", "secret_key", "secret-key", "secret key",
    ],
  },
  {
    id: "seed-phrase",
    family: "keys",
    finds: "BIP-39 seed phrases (12 or more words of its English list in a row)",
    pattern: `\\b${WORD}(?:[\\s,"']{1,4}${WORD}){11}`,
    anyCase: true,
    valid: (m) => seedPhraseValid(m[0]),
    scan: seedPhraseIn,
    needs: "words",
  },
  {
    id: "card-number",
    family: "keys",
    finds: "payment card numbers: issuer prefix and length, groups of 4 (Amex 4-6-5), Luhn check",
    // a number on its own: digits inside a word or a hex run (hex-encoded text is mostly digits) are no card
    pattern: "(?<![0-9A-Za-z.,])(?:4|5[1-5]|2[2-7]|3[47]|6[045])(?:[ -]?[0-9]){12,18}(?![0-9A-Za-z]|[.,][0-9])",
    valid: (m) => cardValid(m[0]),
    needs: "digits",
  },
  {
    id: "jwt",
    family: "keys",
    finds: "JSON Web Tokens (`eyJ...` `.` `eyJ...` `.` signature)",
    pattern: "(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,4096}\\.eyJ[A-Za-z0-9_-]{8,4096}\\.[A-Za-z0-9_-]{16,}",
    anchors: ["eyj"],
  },
  {
    id: "database-url",
    family: "keys",
    finds: "database URLs with a password (`postgres://`, `mysql://`, `mongodb+srv://`, `redis://`...; no placeholder, no example host)",
    pattern: `(?:${DB_SCHEMES})://${CREDENTIALS}`,
    anyCase: true,
    anchors: ["postgres://", "postgresql://", "mysql://", "mariadb://", "mongodb://", "mongodb+srv://", "redis://", "rediss://", "amqp://", "amqps://", "mssql://", "sqlserver://", "clickhouse://", "cockroachdb://"],
    valid: urlCredentialsValid,
  },
  {
    id: "url-credentials",
    family: "keys",
    finds: "`https://user:password@host` and FTP, SMTP, IMAP, LDAP URLs with a password (no placeholder, no example host)",
    pattern: `(?<![A-Za-z0-9+.-])(?:https?|ftps?|sftp|smtps?|imaps?|ldaps?)://${CREDENTIALS}`,
    anyCase: true,
    anchors: ["http://", "https://", "ftp://", "ftps://", "sftp://", "smtp://", "smtps://", "imap://", "imaps://", "ldap://", "ldaps://"],
    valid: (m) => (m[2] ?? "").length >= 6 && urlCredentialsValid(m),
  },
  {
    id: "generic-secret",
    family: "generic",
    finds: "a random-looking value (16 or more, letters and digits) assigned to a secret's name (`api_key`, `secret`, `token`, `password`...) or after `Bearer`/`Basic`",
    pattern: GENERIC_PATTERN,
    anyCase: true,
    anchors: GENERIC_ANCHORS,
    valid: genericValid,
  },
] as const satisfies readonly DlpRule[];

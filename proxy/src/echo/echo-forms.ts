/**
 * The byte strings a token becomes when an upstream echoes it: the encodings that echo, debug
 * and error pages apply to request headers they reflect. Pure: a token in, its forms out.
 *
 * What is listed is what the proxy guarantees to find (SECURITY.md); a token transformed in
 * another way (encrypted, hashed, re-wrapped at line ends, case-folded) is not found.
 */

export type EchoEncoding = "raw" | "url" | "base64" | "base64url" | "hex" | "json" | "html";

export interface EchoForm {
  bytes: Buffer;
  encoding: EchoEncoding;
}

/**
 * Tokens shorter than this are refused at start-up: a short string turns up in ordinary data,
 * and its redaction would garble responses that never held the token.
 */
export const MIN_ECHO_TOKEN_LENGTH = 8;

const hex2 = (code: number, upper: boolean) => {
  const h = code.toString(16).padStart(2, "0");
  return upper ? h.toUpperCase() : h;
};

/** Escape each character that `keep` refuses as `%XX`; the space as `+` in form encoding. */
function percentEncode(token: string, keep: RegExp, upper: boolean, plusForSpace: boolean): string {
  let out = "";
  for (const ch of token) {
    const code = ch.charCodeAt(0);
    if (keep.test(ch)) out += ch;
    else if (ch === " " && plusForSpace) out += "+";
    else out += `%${hex2(code, upper)}`;
  }
  return out;
}

/**
 * What encoders leave as is: RFC 3986 unreserved characters, what `encodeURIComponent` keeps,
 * what form encoding keeps (URLSearchParams), nothing at all, and two more below.
 */
const URL_KEEPS = [
  /^[A-Za-z0-9\-._~]$/, /^[A-Za-z0-9\-._~!*'()]$/, /^[A-Za-z0-9*\-._]$/, /^(?!)$/,
  // Python's quote (keeps `/`), Go's url.PathEscape (keeps `$&+:=@`)
  /^[A-Za-z0-9\-._~/]$/, /^[A-Za-z0-9\-._~$&+:=@]$/,
];

function urlForms(token: string): string[] {
  const out: string[] = [];
  for (const keep of URL_KEEPS) {
    for (const upper of [true, false]) {
      for (const plus of [false, true]) out.push(percentEncode(token, keep, upper, plus));
    }
  }
  return out;
}

/**
 * The base64 characters fixed by the token's bytes alone, at each of the three alignments a
 * token can have inside a longer encoded string (e.g. `Basic` credentials, JSON dumped as base64).
 */
function base64Forms(token: Buffer, alphabet: "base64" | "base64url"): string[] {
  const out: string[] = [];
  for (let lead = 0; lead < 3; lead++) {
    const encoded = Buffer.concat([Buffer.alloc(lead), token, Buffer.alloc(2)]).toString(alphabet);
    const first = Math.ceil((8 * lead) / 6);
    const last = Math.floor((8 * (lead + token.length) - 6) / 6);
    out.push(encoded.slice(first, last + 1));
  }
  return out;
}

function escapeEach(token: string, escape: (code: number, ch: string) => string | undefined): string {
  let out = "";
  for (const ch of token) out += escape(ch.charCodeAt(0), ch) ?? ch;
  return out;
}

function jsonForms(token: string): string[] {
  const plain = JSON.stringify(token).slice(1, -1);
  const u = (code: number, upper: boolean) => `\\u00${hex2(code, upper)}`;
  return [
    plain,
    // PHP escapes the slash; Go escapes <, > and & for HTML safety
    plain.replace(/\//g, "\\/"),
    escapeEach(plain, (code, ch) => ("<>&".includes(ch) ? u(code, false) : undefined)),
    escapeEach(token, (code) => u(code, false)),
    escapeEach(token, (code) => u(code, true)),
  ];
}

const HTML_NAMED: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };

function htmlForms(token: string): string[] {
  const named = (apostrophe: string) => escapeEach(token, (_code, ch) => (ch === "'" ? apostrophe : HTML_NAMED[ch]));
  // Go's html.EscapeString writes `"` as &#34;
  const go = escapeEach(token, (_code, ch) => (ch === '"' ? "&#34;" : ch === "'" ? "&#39;" : HTML_NAMED[ch]));
  return [
    named("&#39;"),
    named("&#x27;"),
    named("&apos;"),
    go,
    escapeEach(token, (code) => `&#${code};`),
    escapeEach(token, (code) => `&#x${hex2(code, false)};`),
    escapeEach(token, (code) => `&#x${hex2(code, true)};`),
  ];
}

/** Every distinct form of `token`, each once, raw first. The token is printable ASCII (credentials.ts). */
export function echoForms(token: string): EchoForm[] {
  const bytes = Buffer.from(token, "latin1");
  const candidates: [EchoEncoding, string[]][] = [
    ["raw", [token]],
    ["url", urlForms(token)],
    ["base64", base64Forms(bytes, "base64")],
    ["base64url", base64Forms(bytes, "base64url")],
    ["hex", [bytes.toString("hex"), bytes.toString("hex").toUpperCase()]],
    ["json", jsonForms(token)],
    ["html", htmlForms(token)],
  ];
  const seen = new Set<string>();
  const forms: EchoForm[] = [];
  for (const [encoding, texts] of candidates) {
    for (const text of texts) {
      if (seen.has(text)) continue;
      seen.add(text);
      forms.push({ bytes: Buffer.from(text, "latin1"), encoding });
    }
  }
  return forms;
}

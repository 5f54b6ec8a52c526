/**
 * Canonical request targets. A path is accepted only when there is one way to read it, so that
 * the path the policy checks is byte for byte the path the upstream receives (Envoy's
 * normalisation CVEs and mockttp's WHATWG re-serialisation inside tunnels are the cautionary tales).
 */

export type PathProblem =
  | "not absolute"
  | "dot segment"
  | "encoded dot, slash or backslash"
  | "backslash"
  | "empty segment"
  | "path parameter"
  | "control or NUL byte"
  | "fragment"
  | "invalid percent-encoding"
  | "non-ASCII byte"
  | "character that parsers re-encode"
  | "invalid UTF-8 escape"
  | "escape that folds to a dot, slash or backslash";

export interface SplitTarget {
  /** The path part, raw, as the agent sent it. */
  path: string;
  /** The query part including its `?`, or "" when there is none. */
  query: string;
}

/** Split a raw origin-form target (`/a/b?x=1`) into path and query without decoding anything. */
export function splitTarget(target: string): SplitTarget {
  const q = target.indexOf("?");
  return q === -1 ? { path: target, query: "" } : { path: target.slice(0, q), query: target.slice(q) };
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Percent-escapes must spell valid UTF-8: overlong forms such as `%c0%ae` (a dot) or
 * `%e0%80%af` (a slash) are what lax decoders upstream turn into traversals.
 */
function escapesAreUtf8(path: string): boolean {
  if (!path.includes("%")) return true;
  const bytes = Buffer.from(path.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1");
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Characters that end or split a segment, or escape one, once a server folds compatibility forms. */
const FOLDS_TO_SEPARATOR = /[./\\;%?#]/;

/**
 * Whether an escaped non-ASCII character of the path reads as `.`, `/`, `\`, `;`, `%`, `?` or `#`
 * under Unicode compatibility folding (NFKC): the full-width full stop `%ef%bc%8e` and the
 * two-dot leader `%e2%80%a5` become `.` and `..` on a server that folds, a traversal the path
 * checks above never saw. Call only on valid UTF-8 escapes.
 */
function escapeFoldsToSeparator(path: string): boolean {
  if (!/%[89a-fA-F][0-9a-fA-F]/.test(path)) return false;
  const bytes = Buffer.from(path.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1");
  for (const ch of strictUtf8.decode(bytes)) {
    if (ch.charCodeAt(0) > 0x7f && FOLDS_TO_SEPARATOR.test(ch.normalize("NFKC"))) return true;
  }
  return false;
}

/** Whether `s` holds a control byte (NUL to 0x1f, or DEL) or a space. */
function hasControlByte(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** Why a raw path could be read two ways, or undefined when it is canonical. */
export function pathProblem(target: string): PathProblem | undefined {
  if (hasControlByte(target)) return "control or NUL byte";
  if (/[^\x21-\x7e]/.test(target)) return "non-ASCII byte";
  if (target.includes("#")) return "fragment";
  // Legacy url.parse (mockttp's passthrough) and WHATWG URL percent-encode these on the way out,
  // so the forwarded path would differ from the one checked.
  if (/["'<>^`{|}]/.test(target)) return "character that parsers re-encode";
  const { path, query } = splitTarget(target);
  if (!path.startsWith("/")) return "not absolute";
  if (/%(?![0-9A-Fa-f]{2})/.test(target)) return "invalid percent-encoding";
  if (/%(2e|2f|5c|00)/i.test(path)) return "encoded dot, slash or backslash";
  if (!escapesAreUtf8(path)) return "invalid UTF-8 escape";
  if (escapeFoldsToSeparator(path)) return "escape that folds to a dot, slash or backslash";
  if (path.includes("\\") || query.includes("\\")) return "backslash";
  if (path.includes(";")) return "path parameter";
  const segments = path.split("/").slice(1);
  if (segments.some((s) => s === "." || s === "..")) return "dot segment";
  // An empty segment anywhere but a trailing slash: `//`, which some servers collapse.
  if (segments.slice(0, -1).some((s) => s === "")) return "empty segment";
  return undefined;
}

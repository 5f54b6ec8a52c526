/**
 * Path allowlist patterns. Syntax (documented in the README):
 * - `/a/b` matches exactly `/a/b` (and `/a/b/`, the same resource with a trailing slash);
 * - `*` as a whole segment matches exactly one non-empty segment: `/repos/*` matches `/repos/x`;
 * - `/**` as the last segment matches the prefix itself and everything below it:
 *   `/repos/acme/**` matches `/repos/acme`, `/repos/acme/` and `/repos/acme/x/y`, not `/repos/acmex`.
 * Patterns compare raw (still percent-encoded) paths, which are canonical by the time they get here.
 */

/** Does the canonical request path match the allowlist pattern? */
export function pathMatches(pattern: string, path: string): boolean {
  const pat = trimTrailingSlash(pattern).split("/").slice(1);
  const segs = trimTrailingSlash(path).split("/").slice(1);
  for (let i = 0; i < pat.length; i++) {
    const p = pat[i];
    if (p === "**" && i === pat.length - 1) return true;
    const s = segs[i];
    if (s === undefined) return false;
    if (p === "*") {
      if (s === "") return false;
      continue;
    }
    if (p !== s) return false;
  }
  return segs.length === pat.length;
}

function trimTrailingSlash(p: string): string {
  return p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p;
}

/**
 * Method overrides: the ways an agent can ask a framework upstream to treat a request as another
 * method. Each must name a method the route allows (decide.ts), wherever it is spelt.
 */

/** Headers frameworks read as the real method. */
export const OVERRIDE_HEADERS: ReadonlySet<string> = new Set(["x-http-method-override", "x-http-method", "x-method-override"]);

/**
 * `_method`, also as PHP reads parameter names: it turns spaces, dots and `[` into `_`, so
 * `.method` and ` method` are `_method` to Symfony and Laravel.
 */
export function isMethodParameter(name: string): boolean {
  return name.toLowerCase().replace(/[\s.[]/g, "_") === "_method";
}

/** The form content types Rails, Laravel and express `method-override` read `_method` from. */
export function isFormContentType(contentType: string | undefined): boolean {
  const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase();
  return type === "application/x-www-form-urlencoded" || type === "multipart/form-data";
}

/** `_method` values in a form body (urlencoded or multipart). */
export function formMethodOverrides(contentType: string, body: Buffer): string[] {
  const text = body.toString("latin1");
  if (contentType.trim().toLowerCase().startsWith("application/x-www-form-urlencoded")) {
    return [...new URLSearchParams(text)].filter(([k]) => isMethodParameter(k)).map(([, v]) => v);
  }
  // multipart: every part whose Content-Disposition names a method parameter; its value is the
  // part's first line (a method has no line breaks).
  const values: string[] = [];
  const part = /content-disposition:[^\r\n]*?\bname="([^"]*)"[^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n([^\r\n]*)/gi;
  for (const m of text.matchAll(part)) if (isMethodParameter(m[1] ?? "")) values.push(m[2] ?? "");
  return values;
}

/**
 * Whether two routes can match one request. Used to refuse credentialed routes that overlap:
 * the first match wins, so which credential a request carries would depend on route order.
 * Pure; conservative where a pattern could go either way (an overlap it cannot rule out counts).
 */
import { routePorts } from "./decide";
import { hostMatches } from "./host";
import type { Route } from "./routes-schema";

/** Hosts, ports, paths and methods all intersect. */
export function routesOverlap(a: Route, b: Route): boolean {
  return hostsOverlap(a.host, b.host) && routePorts(a).some((p) => routePorts(b).includes(p)) && methodsOverlap(a.methods, b.methods) && pathsOverlap(a.path_allowlist, b.path_allowlist);
}

function hostsOverlap(a: string, b: string): boolean {
  if (a === b) return true;
  if (a.startsWith("*.") && b.startsWith("*.")) return hostMatches(a, b.slice(2)) || hostMatches(b, a.slice(2)) || a.slice(2) === b.slice(2);
  return hostMatches(a, b) || hostMatches(b, a);
}

function methodsOverlap(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return a === undefined || b === undefined || a.some((m) => b.includes(m));
}

function pathsOverlap(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return a === undefined || b === undefined || a.some((p) => b.some((q) => patternsOverlap(p, q)));
}

/** Some path matches both patterns (path-pattern.ts syntax: `*` one segment, trailing `/**` the rest). */
export function patternsOverlap(p: string, q: string): boolean {
  const ps = segments(p);
  const qs = segments(q);
  for (let i = 0; ; i++) {
    const a = ps[i];
    const b = qs[i];
    if ((a === "**" && i === ps.length - 1) || (b === "**" && i === qs.length - 1)) return true;
    if (a === undefined || b === undefined) return a === b;
    if (!segmentsOverlap(a, b)) return false;
  }
}

function segmentsOverlap(a: string, b: string): boolean {
  if (a === "*") return b !== "";
  if (b === "*") return a !== "";
  return a === b;
}

function segments(pattern: string): string[] {
  const trimmed = pattern.length > 1 && pattern.endsWith("/") ? pattern.slice(0, -1) : pattern;
  return trimmed.split("/").slice(1);
}

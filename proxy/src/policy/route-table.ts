/**
 * A loaded, validated policy: routes from `routes.yaml` plus the credentials their slots name.
 * Built whole or not at all, so a reload either swaps in a complete table or keeps the old one.
 */
import { credentialFor, loadTokens, strippedHeaderNames, type Credential } from "./credentials";
import { DlpScanner, effectiveDlp } from "./dlp-scan";
import { EchoPatterns, type EchoAction } from "./echo-scan";
import { parseRoutesFile, type Route } from "./routes-schema";

/** How responses are kept free of the bottle's tokens; undefined when no route has one. */
export interface EchoPolicy {
  patterns: EchoPatterns;
  action: EchoAction;
  /** The first route that uses each token slot: what an audit line names. */
  routeOf: ReadonlyMap<string, number>;
}

export interface RouteTable {
  routes: readonly Route[];
  /** The credential to inject per route index (undefined for unauthenticated routes). */
  credentials: readonly (Credential | undefined)[];
  /** Header names removed from every agent request. */
  stripped: ReadonlySet<string>;
  echo: EchoPolicy | undefined;
  /** Request inspection per route index: the bottle's settings and the route's own. */
  dlp: readonly DlpScanner[];
}

export class RouteTableError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid routes: ${problems.join("; ")}`);
    this.name = "RouteTableError";
  }
}

/** Validate a parsed document and bind its token slots; throws RouteTableError listing every problem. */
export function buildRouteTable(doc: unknown, env: Readonly<Record<string, string | undefined>>): RouteTable {
  const parsed = parseRoutesFile(doc);
  if (!parsed.ok) throw new RouteTableError(parsed.errors);
  const routes = parsed.value.routes;
  const tokens = loadTokens(routes, env);
  if (!tokens.ok) throw new RouteTableError(tokens.errors);
  const credentials = routes.map((r) => {
    if (!r.auth) return undefined;
    const token = tokens.tokens.get(r.auth.token_env);
    if (token === undefined) throw new RouteTableError([`token slot ${r.auth.token_env} was not loaded`]);
    return credentialFor(r.auth, token);
  });
  const patterns = EchoPatterns.of(tokens.tokens);
  const routeOf = new Map<string, number>();
  routes.forEach((r, i) => {
    if (r.auth && !routeOf.has(r.auth.token_env)) routeOf.set(r.auth.token_env, i);
  });
  const echo = patterns && { patterns, action: parsed.value.on_echo ?? "redact", routeOf };
  const dlp = routes.map((r) => {
    const own = r.auth ? tokens.tokens.get(r.auth.token_env) : undefined;
    const foreign = [...tokens.tokens.values()].filter((value) => value !== own);
    return new DlpScanner(effectiveDlp(parsed.value.dlp, r.dlp), foreign);
  });
  return { routes, credentials, stripped: strippedHeaderNames(routes), echo, dlp };
}

/**
 * A loaded, validated policy: routes from `routes.yaml` plus the credentials their slots name.
 * Built whole or not at all, so a reload either swaps in a complete table or keeps the old one.
 */
import { credentialFor, loadTokens, strippedHeaderNames, type Credential } from "./credentials";
import { parseRoutesFile, type Route } from "./routes-schema";

export interface RouteTable {
  routes: readonly Route[];
  /** The credential to inject per route index (undefined for unauthenticated routes). */
  credentials: readonly (Credential | undefined)[];
  /** Header names removed from every agent request. */
  stripped: ReadonlySet<string>;
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
  return { routes, credentials, stripped: strippedHeaderNames(routes) };
}

/**
 * A loaded, validated policy: routes from `routes.yaml` plus the credentials their slots name.
 * Built whole or not at all, so a reload either swaps in a complete table or keeps the old one.
 */
import { credentialFor, guardedSecrets, loadTokens, strippedHeaderNames, type Credential } from "./credentials";
import { DlpScanner, effectiveDlp } from "../inspect/dlp-scan";
import { EchoPatterns, type EchoAction } from "../echo/echo-scan";
import { Canaries } from "./placeholder-canary";
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
  /** The routes' placeholders, looked for in every request (undefined when none has one). */
  canaries: Canaries | undefined;
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
  // per slot, every string of its credential (the token, its Basic forms) the bottle guards
  const secrets = new Map<string, string[]>();
  const routeOf = new Map<string, number>();
  routes.forEach((r, i) => {
    const token = r.auth && tokens.tokens.get(r.auth.token_env);
    if (!r.auth || token === undefined) return;
    const slot = r.auth.token_env;
    if (!routeOf.has(slot)) routeOf.set(slot, i);
    secrets.set(slot, [...new Set([...(secrets.get(slot) ?? []), ...guardedSecrets(r.auth, token)])]);
  });
  // the agent is given the placeholder: it must hold no part of the secret it stands for
  const leaking = routes.findIndex((r) => {
    const p = r.auth?.placeholder;
    return p !== undefined && (secrets.get(r.auth?.token_env ?? "") ?? []).some((s) => p.includes(s) || s.includes(p));
  });
  if (leaking !== -1) throw new RouteTableError([`routes[${leaking}].auth.placeholder: holds the route's credential, or is part of it; a placeholder must not be a secret`]);
  const patterns = EchoPatterns.of(secrets);
  const echo = patterns && { patterns, action: parsed.value.on_echo ?? "redact", routeOf };
  const every = [...new Set([...secrets.values()].flat())];
  const dlp = routes.map((r) => {
    const own = new Set(r.auth ? secrets.get(r.auth.token_env) : []);
    return new DlpScanner(effectiveDlp(parsed.value.dlp, r.dlp), every.filter((value) => !own.has(value)));
  });
  return { routes, credentials, stripped: strippedHeaderNames(routes), echo, dlp, canaries: Canaries.of(routes) };
}

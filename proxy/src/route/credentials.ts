/**
 * Credential injection as a closed set of injectors (after superfly/tokenizer): each route's auth
 * becomes exactly one header, and each injector can describe itself without its secret.
 */
import { inspect } from "node:util";
import { MIN_ECHO_TOKEN_LENGTH } from "../echo/echo-forms";
import type { Route, RouteAuth } from "./routes-schema";

/**
 * A header to add upstream. The value sits in a private field: JSON.stringify, util.inspect,
 * object spread and Object.keys see only the header and `describe`, the redacted form safe for
 * logs, so a stray log line or error dump cannot carry the token.
 */
export class Credential {
  readonly #value: string;
  constructor(readonly header: string, value: string, readonly describe: string) {
    this.#value = value;
  }
  /** The header value with the token: for the upstream request, and nothing else. */
  reveal(): string {
    return this.#value;
  }
  toJSON(): { header: string; describe: string } {
    return { header: this.header, describe: this.describe };
  }
  [inspect.custom](): string {
    return `Credential(${this.describe})`;
  }
}

/** Headers removed from every agent request: the agent has no credential of its own to send. */
export function strippedHeaderNames(routes: readonly Route[]): ReadonlySet<string> {
  const names = new Set(["authorization", "proxy-authorization"]);
  for (const route of routes) {
    if (route.auth && "header" in route.auth) names.add(route.auth.header);
  }
  return names;
}

/** The header a route's credential goes in: Authorization, unless the route names its own. */
export function credentialHeader(auth: RouteAuth): string {
  return "header" in auth ? auth.header : "authorization";
}

const basicValue = (username: string, token: string) => Buffer.from(`${username}:${token}`, "latin1").toString("base64");

/** Build the upstream credential header for a route's auth from its token. */
export function credentialFor(auth: RouteAuth, token: string): Credential {
  if ("scheme" in auth) return new Credential("authorization", `${auth.scheme} ${token}`, `authorization: ${auth.scheme} <${auth.token_env}>`);
  if ("basic" in auth) {
    const { username } = auth.basic;
    return new Credential("authorization", `Basic ${basicValue(username, token)}`, `authorization: Basic base64(${username}:<${auth.token_env}>)`);
  }
  return new Credential(auth.header, token, `${auth.header}: <${auth.token_env}>`);
}

/**
 * Every string of a route's credential that must never reach the agent nor leave on another
 * route, each to be looked for in all its encodings (echo-forms.ts): the token, and for Basic
 * the encoded pair as it goes upstream. A token that is itself a hand-encoded Basic pair
 * (`scheme: Basic`) is decoded too, so that the password an upstream echoes in clear is found.
 * Parts shorter than MIN_ECHO_TOKEN_LENGTH are not listed: they would match ordinary data.
 */
export function guardedSecrets(auth: RouteAuth, token: string): string[] {
  const out = [token];
  if ("basic" in auth) out.push(basicValue(auth.basic.username, token));
  if ("scheme" in auth && auth.scheme.toLowerCase() === "basic") out.push(...decodedBasic(token));
  return out.filter((s, i) => s.length >= MIN_ECHO_TOKEN_LENGTH && out.indexOf(s) === i);
}

/** `user:password` and the password of a base64 Basic pair, or nothing when `token` is not one. */
function decodedBasic(token: string): string[] {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token) || token.length % 4 !== 0) return [];
  const pair = Buffer.from(token, "base64").toString("latin1");
  const colon = pair.indexOf(":");
  if (colon === -1 || !/^[\x20-\x7e]+$/.test(pair)) return [];
  return [pair, pair.slice(colon + 1)];
}

/**
 * Read every token slot the routes name from the environment. An unset, empty or
 * header-breaking value is a start-up error naming the slot, never a request without credentials.
 */
export function loadTokens(
  routes: readonly Route[],
  env: Readonly<Record<string, string | undefined>>,
): { ok: true; tokens: ReadonlyMap<string, string> } | { ok: false; errors: string[] } {
  const tokens = new Map<string, string>();
  const errors: string[] = [];
  routes.forEach((route, i) => {
    if (!route.auth || tokens.has(route.auth.token_env)) return;
    const slot = route.auth.token_env;
    const value = env[slot];
    if (value === undefined || value === "") {
      errors.push(`routes[${i}].auth.token_env: ${slot} is unset or empty in the proxy's environment; set it to the route's credential`);
    } else if (!/^[\x21-\x7e]+(?: [\x21-\x7e]+)*$/.test(value)) {
      errors.push(`routes[${i}].auth.token_env: ${slot} holds characters that cannot go in an HTTP header (control bytes, non-ASCII or edge spaces); check the secret`);
    } else if (value.length < MIN_ECHO_TOKEN_LENGTH) {
      // responses are cleared of every token (echo-scan.ts): a short one would match ordinary data
      errors.push(`routes[${i}].auth.token_env: ${slot} is shorter than ${MIN_ECHO_TOKEN_LENGTH} characters, too short to be told apart from data in responses; check the secret`);
    } else {
      tokens.set(slot, value);
    }
  });
  return errors.length ? { ok: false, errors } : { ok: true, tokens };
}

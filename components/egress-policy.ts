/**
 * A bottle's effective egress policy as plain data: what its agent can reach, route by route.
 * Exported as a stack output (`pulumi stack output bottles`), so that "what can this agent
 * reach" is answered without reading the config. It names each credential's `token_ref`,
 * never a value.
 */
import { routePorts } from "../proxy/src/route/decide";
import { effectiveDlp, type DlpSettings } from "../proxy/src/inspect/dlp-scan";
import type { RoutesFile } from "../proxy/src/route/routes-schema";
import type { RouteConfig } from "./config-schema";

export interface EgressPolicyRoute {
  readonly host: string;
  readonly ports: readonly number[];
  /** Path patterns the route allows; `/**` when it lists none. */
  readonly paths: readonly string[];
  /** The methods it allows, or every method but TRACE, TRACK and CONNECT when it lists none. */
  readonly methods: readonly string[] | "any but TRACE, TRACK, CONNECT";
  readonly websocket: boolean;
  readonly plain_http: boolean;
  /** The credential the proxy injects, by the Pulumi config key that holds it. */
  readonly auth: {
    readonly header: string;
    readonly scheme?: string;
    /** Basic credentials: the user name sent with the token. */
    readonly username?: string;
    readonly token_ref: string;
    /** The agent's variable that holds the placeholder, if any. */
    readonly agent_env?: string;
  } | null;
  /** Request inspection in force on the route: the bottle's settings and its own. */
  readonly dlp: { readonly mode: "block" | "log" | "off"; readonly extra_rules: number; readonly allow: readonly string[] };
  readonly response_scan: "block" | "log" | "off";
  readonly allow_double_encoding: boolean;
}

export interface EgressPolicy {
  readonly routes: readonly EgressPolicyRoute[];
  /** What the proxy does with an answer that carries one of the bottle's tokens. */
  readonly on_echo: "redact" | "block";
  /** Where allowed traffic goes next: the bottle's pipelock, or the one at a URL. */
  readonly via: string;
}

/** The policy of `rendered` (the proxy's parsed routes file) with the `token_ref` of each `configured` route. */
export function egressPolicy(rendered: RoutesFile, configured: readonly RouteConfig[], via: string): EgressPolicy {
  const routes = rendered.routes.map((r, i): EgressPolicyRoute => {
    const ref = configured[i]?.auth?.token_ref;
    const agentEnv = configured[i]?.auth?.agent_env;
    if (r.auth !== undefined && ref === undefined) throw new Error(`internal: rendered route ${i} has auth that its config lacks`);
    return {
      host: r.host,
      ports: routePorts(r),
      paths: r.path_allowlist ?? ["/**"],
      methods: r.methods ?? "any but TRACE, TRACK, CONNECT",
      websocket: r.websocket === true,
      plain_http: r.plain_http === true,
      auth: r.auth === undefined || ref === undefined ? null : {
        ...("scheme" in r.auth ? { header: "authorization", scheme: r.auth.scheme }
          : "basic" in r.auth ? { header: "authorization", scheme: "Basic", username: r.auth.basic.username }
          : { header: r.auth.header }),
        token_ref: ref,
        ...(agentEnv === undefined ? {} : { agent_env: agentEnv }),
      },
      dlp: dlpOf(effectiveDlp(rendered.dlp, r.dlp)),
      response_scan: r.response_scan ?? "off",
      allow_double_encoding: r.allow_double_encoding === true,
    };
  });
  return { routes, on_echo: rendered.on_echo ?? "redact", via };
}

function dlpOf(settings: DlpSettings): EgressPolicyRoute["dlp"] {
  return { mode: settings.mode, extra_rules: settings.rules.length, allow: settings.allow };
}

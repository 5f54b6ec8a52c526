/**
 * Render a bottle's `routes.yaml` for the proxy and check it with the one shared schema
 * (`proxy/src/route/routes-schema.ts`), so that a route the proxy would reject fails `pulumi preview`
 * instead of a container start. The file is JSON (valid YAML) and never holds a token value
 * nor a `token_ref` name: an authenticated route names its slot (`token_env`) only, and the
 * placeholder the agent holds for it (placeholders.ts), which is no secret.
 */
import { routesFileSchema, type RoutesFile, type RoutesFileInput } from "../proxy/src/route/routes-schema";
import type { RouteConfig } from "./config-schema";
import { formatConfigIssues } from "./config-errors";

type RouteInput = RoutesFileInput["routes"][number];

/** The rendered file: what is uploaded, and the parsed view the proxy will hold. */
export interface RenderedRoutes {
  readonly document: RoutesFileInput;
  readonly parsed: RoutesFile;
  readonly content: string;
}

export type RenderResult = { ok: true; value: RenderedRoutes } | { ok: false; errors: string[] };

function toRouteInput(route: RouteConfig, slotOf: ReadonlyMap<string, string>, placeholders: ReadonlyMap<string, string>): RouteInput {
  const out: RouteInput = { host: route.host };
  if (route.port !== undefined) out.port = route.port;
  if (route.path_allowlist !== undefined) out.path_allowlist = [...route.path_allowlist];
  if (route.methods !== undefined) out.methods = [...route.methods];
  if (route.websocket !== undefined) out.websocket = route.websocket;
  if (route.plain_http !== undefined) out.plain_http = route.plain_http;
  // checked by the routes schema right after: a bad value fails there, naming the field
  if (route.dlp !== undefined) out.dlp = route.dlp as NonNullable<RouteInput["dlp"]>;
  if (route.response_scan !== undefined) out.response_scan = route.response_scan as NonNullable<RouteInput["response_scan"]>;
  if (route.allow_double_encoding !== undefined) out.allow_double_encoding = route.allow_double_encoding;
  if (route.auth !== undefined) {
    const slot = slotOf.get(route.auth.token_ref);
    if (slot === undefined) throw new Error(`internal: no token slot for a route's token_ref`);
    const { scheme, header, basic, token_ref } = route.auth;
    const placeholder = placeholders.get(token_ref);
    const common = { token_env: slot, ...(placeholder === undefined ? {} : { placeholder }) };
    out.auth = scheme !== undefined ? { scheme, ...common }
      : basic !== undefined ? { basic: { username: basic.username }, ...common }
      : { header: header ?? "", ...common };
  }
  return out;
}

/**
 * Render and validate. `configPath` is where these routes live in the stack config
 * (e.g. `["bottles", 0, "egress_proxy"]`), so errors name the field the user wrote;
 * `bottleWide` holds the bottle's `egress_proxy.on_echo` and `egress_proxy.dlp`.
 */
export function renderRoutesFile(
  routes: ReadonlyArray<RouteConfig>,
  slotOf: ReadonlyMap<string, string>,
  configPath: ReadonlyArray<PropertyKey>,
  bottleWide: { on_echo?: string; dlp?: unknown } = {},
  placeholders: ReadonlyMap<string, string> = new Map(),
): RenderResult {
  // the bottle-wide settings are the user's values until the schema has checked them
  const candidate = {
    version: 1,
    routes: routes.map((r) => toRouteInput(r, slotOf, placeholders)),
    ...(bottleWide.on_echo === undefined ? {} : { on_echo: bottleWide.on_echo }),
    ...(bottleWide.dlp === undefined ? {} : { dlp: bottleWide.dlp }),
  };
  const result = routesFileSchema.safeParse(candidate);
  if (!result.success) {
    // `token_env` is ours; the user wrote `token_ref` there
    const issues = result.error.issues.map((i) => ({ ...i, path: i.path.map((p) => (p === "token_env" ? "token_ref" : p)) }));
    return { ok: false, errors: formatConfigIssues(issues, configPath) };
  }
  const document = candidate as RoutesFileInput;
  return { ok: true, value: { document, parsed: result.data, content: `${JSON.stringify(document, null, 2)}\n` } };
}

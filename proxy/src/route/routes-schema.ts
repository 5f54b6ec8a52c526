/**
 * The one schema of `routes.yaml`, shared by the renderer (`components/`) and the proxy.
 * It lives here because `proxy/` must stay a self-contained Docker build context.
 *
 * The file never holds a token value: an authenticated route names a token slot
 * (`EGRESS_PROXY_TOKEN_<n>`) whose value the proxy reads from its own environment.
 */
import { z } from "zod";
import { BUILTIN_RULE_IDS } from "../inspect/dlp-rules";
import { customRuleProblem } from "../inspect/dlp-scan";
import { canonicalHost, isDottedQuad } from "./host";
import { routesOverlap } from "./route-overlap";

const DNS_LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
const HOSTNAME = new RegExp(`^(?:\\*\\.)?(?:${DNS_LABEL}\\.)*${DNS_LABEL}$`);
/** RFC 9110 token: header names and auth schemes. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const METHOD = /^[A-Z]+$/;
/** `/a/b`, `/a/*` (one segment), `/a/**` (the prefix and everything below it). */
const PATH_PATTERN = /^\/(?:(?:[A-Za-z0-9\-._~!$&'()+,=:@]|%[0-9A-F]{2})+|\*|\*\*)?(?:\/(?:(?:[A-Za-z0-9\-._~!$&'()+,=:@]|%[0-9A-F]{2})+|\*|\*\*))*$/;

export const TOKEN_SLOT_PATTERN = /^EGRESS_PROXY_TOKEN_[1-9][0-9]*$/;

/** Headers a route may not use for injection: framing, routing and hop-by-hop headers. */
export const FORBIDDEN_AUTH_HEADERS: ReadonlySet<string> = new Set([
  "host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer",
  "keep-alive", "proxy-authorization", "proxy-connection", "expect", "cookie",
]);

const tokenSlot = z
  .string()
  .regex(TOKEN_SLOT_PATTERN, "must be a token slot name like EGRESS_PROXY_TOKEN_1");

/**
 * What the agent is given in place of the route's credential (components writes it, shaped like
 * the credential's format): not a secret, but a canary. The proxy swaps it for the real one in the
 * route's own credential header and refuses any request that carries it anywhere else
 * (placeholder-canary.ts). No space: it must stay one word in any header or body.
 */
const placeholder = z
  .string()
  .regex(/^[\x21-\x7e]{20,200}$/, "must be 20 to 200 printable ASCII characters without spaces")
  .optional();

const schemeAuth = z.strictObject({
  scheme: z.string().regex(TOKEN, "must be an HTTP auth scheme such as Bearer or token"),
  token_env: tokenSlot,
  placeholder,
});

const headerAuth = z.strictObject({
  header: z
    .string()
    .regex(TOKEN, "must be an HTTP header name such as x-api-key")
    .transform((h) => h.toLowerCase())
    .refine((h) => !FORBIDDEN_AUTH_HEADERS.has(h) && h !== "authorization", {
      message: "cannot carry a credential (framing, hop-by-hop or Authorization header); use `scheme` for Authorization",
    }),
  token_env: tokenSlot,
  placeholder,
});

/** `Authorization: Basic base64(<username>:<token>)`, encoded by the proxy (git over HTTPS: `x-access-token`). */
const basicAuth = z.strictObject({
  basic: z.strictObject({
    // RFC 7617: the user-id cannot hold a colon; printable ASCII keeps it one header line
    username: z.string().regex(/^[\x20-\x39\x3b-\x7e]{1,256}$/, "must be 1 to 256 printable ASCII characters without `:`, such as x-access-token"),
  }),
  token_env: tokenSlot,
  placeholder,
});

/** `Authorization: <scheme> <token>`, `<header>: <token>` or Basic: the closed set of injectors. */
export const routeAuthSchema = z.union([schemeAuth, headerAuth, basicAuth], {
  error: "auth needs exactly one of `scheme` (Authorization: <scheme> <token>), `header` or `basic: {username}`, plus `token_env`",
});

export const pathPatternSchema = z
  .string()
  .regex(PATH_PATTERN, "must be a canonical absolute path such as /repos/acme/** (segments, `*` for one segment, `**` for everything below)")
  .refine((p) => !p.split("/").some((s) => s === "." || s === ".."), { message: "must not contain dot segments" })
  .refine((p) => !/%(2e|2f|5c|00)/i.test(p), { message: "must not contain encoded dots, slashes, backslashes or NUL" })
  .refine((p) => !p.slice(0, -1).includes("**") || p.endsWith("/**") && p.indexOf("**") === p.length - 2, {
    message: "`**` may only be the last segment",
  });

/** Request inspection (DLP) settings, for the bottle or one route (whose settings add to the bottle's). */
export const dlpSchema = z.strictObject({
  mode: z.enum(["block", "log", "off"], { error: "must be `block` (refuse a request that carries a secret, the default), `log` or `off`" }).optional(),
  rules: z.array(z.string().superRefine((pattern, ctx) => {
    const problem = customRuleProblem(pattern);
    if (problem) ctx.addIssue({ code: "custom", message: `${problem}; give a JavaScript regular expression that matches the secret` });
  })).optional(),
  allow: z.array(z.string().refine((id) => BUILTIN_RULE_IDS.includes(id), {
    message: `must be a rule id: one of ${BUILTIN_RULE_IDS.join(", ")}`,
  })).optional(),
});

/** Scanning answers for prompt injection (opt-in per route). */
export const responseScanSchema = z.enum(["block", "log", "off"], { error: "must be `block` (cut an answer that carries a prompt injection), `log` or `off` (the default)" });

export const routeSchema = z
  .strictObject({
    host: z
      .string()
      .transform((h) => h.toLowerCase())
      .refine((h) => (HOSTNAME.test(h) || isDottedQuad(h)) && canonicalHost(h.replace(/^\*\./, "")) === h.replace(/^\*\./, ""), {
        message: "must be a hostname (optionally `*.` for subdomains) or a dotted IPv4 address, without scheme or port; write IPs as a.b.c.d",
      }),
    port: z.number().int().min(1).max(65535).optional(),
    path_allowlist: z.array(pathPatternSchema).min(1).optional(),
    methods: z
      .array(z.string().regex(METHOD, "must be an upper-case HTTP method such as GET"))
      .min(1)
      .optional(),
    websocket: z.boolean().optional(),
    plain_http: z.boolean().optional(),
    auth: routeAuthSchema.optional(),
    dlp: dlpSchema.optional(),
    response_scan: responseScanSchema.optional(),
    /** Let paths carry `%25` before `2e`, `2f` or `5c` (an encoded `%` that decodes to `.`, `/` or `\\` once more). */
    allow_double_encoding: z.boolean().optional(),
  })
  .superRefine((route, ctx) => {
    if (route.auth && route.plain_http) {
      ctx.addIssue({ code: "custom", path: ["plain_http"], message: "an authenticated route cannot allow plain HTTP: credentials are never injected in clear text" });
    }
    if (route.auth && route.websocket) {
      ctx.addIssue({ code: "custom", path: ["websocket"], message: "WebSocket routes cannot carry an injected credential (the upgrade passthrough cannot rewrite headers); drop `auth` or `websocket`" });
    }
  });

export const routesFileSchema = z
  .strictObject({
    version: z.literal(1),
    routes: z.array(routeSchema),
    /** What the proxy does with a response that carries one of the bottle's tokens (echo/echo-scan.ts). */
    on_echo: z.enum(["redact", "block"], { error: "must be `redact` (replace each echoed token, the default) or `block` (cut the response)" }).optional(),
    /** Request inspection for every route of the bottle (inspect/dlp-scan.ts). */
    dlp: dlpSchema.optional(),
  })
  .superRefine((file, ctx) => {
    // a placeholder stands for one credential: routes that share a token slot may share it, no others
    file.routes.forEach((later, j) => {
      const mine = later.auth?.placeholder;
      const earlier = mine === undefined ? -1 : file.routes.findIndex((r, i) => i < j && r.auth?.placeholder === mine && r.auth.token_env !== later.auth?.token_env);
      if (earlier === -1) return;
      ctx.addIssue({ code: "custom", path: ["routes", j, "auth", "placeholder"], message: `is the placeholder of routes[${earlier}] too, which injects another credential; give each credential its own` });
    });
    // the first matching route wins: two credentials for one request would hang on route order
    file.routes.forEach((later, j) => {
      const earlier = file.routes.findIndex((r, i) => i < j && r.auth && later.auth && JSON.stringify(r.auth) !== JSON.stringify(later.auth) && routesOverlap(r, later));
      if (earlier === -1) return;
      ctx.addIssue({
        code: "custom",
        path: ["routes", j],
        message: `can match the same requests as routes[${earlier}] (host, port, path and method) but injects another credential; narrow path_allowlist or methods so that no request matches both`,
      });
    });
  });

export type Route = z.output<typeof routeSchema>;
export type RouteAuth = z.output<typeof routeAuthSchema>;
export type RoutesFile = z.output<typeof routesFileSchema>;
export type DlpConfig = z.output<typeof dlpSchema>;
/** What the renderer may write: the input shape, before defaults and lower-casing. */
export type RoutesFileInput = z.input<typeof routesFileSchema>;

/** Parse a routes document; on failure, one message per problem with its field path. */
export function parseRoutesFile(doc: unknown): { ok: true; value: RoutesFile } | { ok: false; errors: string[] } {
  const result = routesFileSchema.safeParse(doc);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, errors: result.error.issues.map(formatIssue) };
}

/** `routes[2].auth.token_env: must be ...`, never echoing the offending value. */
export function formatIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path
    .map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`))
    .join("");
  return `${path || "(root)"}: ${issue.message}`;
}

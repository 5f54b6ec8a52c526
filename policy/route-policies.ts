/**
 * Policies on a bottle's egress routes, read where the proxy reads them: the `routes.yaml` the
 * Bottle component uploads into the egress-proxy container, or the KubernetesBottle puts in the
 * proxy's ConfigMap (JSON, a plain input that holds no secret: an authenticated route names its
 * token slot, never a token). Route i of that file is route i of the bottle's
 * `egress_proxy.routes` in the stack config.
 *
 * The pack keeps its own lenient view of the file rather than importing the proxy's schema
 * (proxy/src/route/routes-schema.ts), so that it stays a self-contained directory that
 * `pulumi policy publish` can ship; it reads only the fields its rules need.
 */
import { z } from "zod";
import { resourcePolicy, type ResourceCheckContext } from "./define";
import { describe, identifyConfigMap, identifyContainer, stackField, type ContainerRole, type Identity } from "./identity";
import { TYPES, uploadContent, type Props } from "./resource-view";

const KUBE_CONFIG_MAP = "kubernetes:core/v1:ConfigMap";
/** Where routes are declared: the Docker proxy's uploads, the Kubernetes proxy's ConfigMap. */
const ROUTE_SOURCES = [TYPES.container, KUBE_CONFIG_MAP];

/** Where the egress proxy reads its routes (components/constants.ts PROXY_ROUTES_FILE). */
export const ROUTES_FILE = "/etc/egress-proxy/routes.yaml";

const dlpView = z.object({ mode: z.string().nullish() }).nullish();

const routesFile = z.object({
  dlp: dlpView,
  routes: z.array(
    z.object({
      host: z.string(),
      path_allowlist: z.array(z.string()).nullish(),
      methods: z.array(z.string()).nullish(),
      plain_http: z.boolean().nullish(),
      auth: z.record(z.string(), z.unknown()).nullish(),
      dlp: dlpView,
    }),
  ),
});
export type RouteView = z.output<typeof routesFile>["routes"][number];

/** The routes, and the bottle's request-inspection mode when the file sets one. */
type Routes = { ok: true; routes: readonly RouteView[]; dlpMode: string | undefined } | { ok: false; why: string };

/** The proxy's routes, or why the pack cannot read them. */
export function readRoutes(props: Props): Routes {
  const upload = uploadContent(props, ROUTES_FILE);
  if (!upload.found) return { ok: false, why: `has no upload of ${ROUTES_FILE}` };
  if (upload.content === undefined) return { ok: false, why: `uploads ${ROUTES_FILE} from a source the pack cannot read (not inline content)` };
  return parseRoutes(upload.content);
}

/** The routes of a Kubernetes proxy's ConfigMap (key `routes.yaml`), or why the pack cannot read them. */
export function readConfigMapRoutes(props: Props): Routes {
  const data = z.record(z.string(), z.string()).safeParse(props.data);
  const content = data.success ? data.data["routes.yaml"] : undefined;
  if (content === undefined) return { ok: false, why: "holds no readable routes.yaml" };
  return parseRoutes(content);
}

function parseRoutes(content: string): Routes {
  let doc: unknown;
  try {
    doc = JSON.parse(content);
  } catch {
    return { ok: false, why: `uploads a ${ROUTES_FILE} that is not JSON (the Bottle component renders JSON)` };
  }
  const parsed = routesFile.safeParse(doc);
  if (!parsed.success) return { ok: false, why: `uploads a ${ROUTES_FILE} without a readable routes list (${parsed.error.issues[0]?.message ?? "unexpected shape"})` };
  return { ok: true, routes: parsed.data.routes, dlpMode: parsed.data.dlp?.mode ?? undefined };
}

function routeField(id: Identity<ContainerRole>, index: number, field: string): string {
  return stackField(id.bottle, `egress_proxy.routes[${index}]${field}`);
}

/** Run `check` on each route of an egress-proxy container or ConfigMap; an unreadable routes file is a violation. */
function eachRoute(
  props: Props,
  { resourceName, resourceType, report }: ResourceCheckContext<unknown>,
  check: (route: RouteView, index: number, id: Identity<ContainerRole>, where: string, bottleDlpMode: string | undefined) => void,
): void {
  const onKubernetes = resourceType === KUBE_CONFIG_MAP;
  const id = onKubernetes ? identifyConfigMap(props, resourceName) : identifyContainer(props, resourceName);
  if (id.role !== "egress-proxy") return;
  const kind = onKubernetes ? "ConfigMap" : "container";
  const routes = onKubernetes ? readConfigMapRoutes(props) : readRoutes(props);
  if (!routes.ok) {
    report(`${describe(id, kind)} ${routes.why}, so its routes cannot be checked; the pack fails closed. Fix: declare the proxy through the Bottle component, which uploads ${ROUTES_FILE} as JSON.`);
    return;
  }
  routes.routes.forEach((route, i) => check(route, i, id, `${describe(id, kind)}: route [${i}] (host ${route.host})`, routes.dlpMode));
}

const hasAuth = (r: RouteView) => r.auth != null;

export const routeAuthScoped = resourcePolicy({
  name: "bottle-route-auth-scoped",
  description:
    "Every route that injects a credential lists the paths (path_allowlist) or the methods it allows: otherwise the agent can use the token for " +
    "anything the upstream API accepts, deleting repositories included. Advisory by default; make it mandatory in the pack config.",
  enforcementLevel: "advisory",
  type: ROUTE_SOURCES,
  check: (props, ctx) =>
    eachRoute(props, ctx, (route, i, id, where) => {
      if (!hasAuth(route) || (route.path_allowlist?.length ?? 0) > 0 || (route.methods?.length ?? 0) > 0) return;
      ctx.report(
        `${where} injects a credential for every path and method. Fix: add ${routeField(id, i, ".path_allowlist")} (e.g. ["/repos/<owner>/<repo>/**"]) ` +
          `or ${routeField(id, i, ".methods")} (e.g. [GET]).`,
      );
    }),
});

export const routeAuthExactHost = resourcePolicy({
  name: "bottle-route-auth-exact-host",
  description:
    "No route injects a credential on a wildcard host (*.example.com): every subdomain, including ones a third party can host content on, " +
    "would receive the token. Give each authenticated host its own route.",
  enforcementLevel: "mandatory",
  type: ROUTE_SOURCES,
  check: (props, ctx) =>
    eachRoute(props, ctx, (route, i, id, where) => {
      if (!hasAuth(route) || !route.host.includes("*")) return;
      ctx.report(`${where} injects a credential on a wildcard host. Fix: set ${routeField(id, i, ".host")} to the exact host, one route per host that needs the credential.`);
    }),
});

export const routeAuthTlsOnly = resourcePolicy({
  name: "bottle-route-auth-tls-only",
  description:
    "No route both injects a credential and allows plain HTTP: the token would cross the network in clear text, readable by anything on the path " +
    "(and pipelock's header DLP would block it anyway).",
  enforcementLevel: "mandatory",
  type: ROUTE_SOURCES,
  check: (props, ctx) =>
    eachRoute(props, ctx, (route, i, id, where) => {
      if (!hasAuth(route) || route.plain_http !== true) return;
      ctx.report(`${where} injects a credential and allows plain HTTP. Fix: remove ${routeField(id, i, ".plain_http")}, or drop its auth.`);
    }),
});

export const requestInspectionBlocks = resourcePolicy({
  name: "bottle-request-inspection-blocks",
  description:
    "Request inspection (egress_proxy.dlp) refuses what it finds on every route: with mode log or off, a secret the agent found in its workspace " +
    "leaves through a declared host. Advisory by default; make it mandatory in the pack config.",
  enforcementLevel: "advisory",
  type: ROUTE_SOURCES,
  check: (props, ctx) =>
    eachRoute(props, ctx, (route, i, id, where, bottleDlpMode) => {
      // the proxy's rule: the route's mode, else the bottle's, else block
      const mode = route.dlp?.mode ?? bottleDlpMode ?? "block";
      if (mode === "block") return;
      ctx.report(
        `${where} has request inspection in mode ${mode}: secrets it finds are not refused. Fix: remove ${routeField(id, i, ".dlp.mode")} ` +
          `and ${stackField(id.bottle, "egress_proxy.dlp.mode")}, or set them to block; switch single rules off with dlp.allow instead.`,
      );
    }),
});

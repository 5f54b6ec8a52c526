/**
 * Admission: decide a request once, remember the decision, and take the agent's credentials off
 * an allowed request before mockttp forwards it. mockttp asks every rule's matcher about every
 * request, so the decision is memoised per request object.
 */
import { splitTarget } from "./canonical-path";
import { decide, type Decision, type RequestFacts } from "./decide";
import { isIpLiteral } from "./host";
import { formMethodOverrides, isFormContentType } from "./method-override";
import type { MockttpRequest } from "./mockttp-types";
import { requestFacts } from "./request-facts";
import type { RouteTable } from "./route-table";

export interface Admission {
  decision: Decision;
  method: string;
  /** The path without its query: the query may carry data that does not belong in a log. */
  path: string;
  host: string;
}

/** Form bodies up to this size are read for `_method` (mockttp keeps as much, see egress-proxy.ts). */
export const MAX_INSPECTED_FORM = 64 * 1024;

type Admit = (req: MockttpRequest) => Admission | Promise<Admission>;

/** Returns the admission function of one route table generation, writing into `record`. */
export function admitter(
  table: RouteTable,
  record: WeakMap<object, Admission | Promise<Admission>>,
  unparseable: WeakSet<object>,
  onAdmit: (req: MockttpRequest, admission: Admission) => void,
): Admit {
  const settle = (req: MockttpRequest, facts: RequestFacts, decision: Decision): Admission => {
    if (decision.verdict === "allow") {
      stripCredentials(req, table.stripped);
      // mockttp resolves the target in DNS for non-loopback clients, to send "localhost" back to
      // the client's machine. Every request here leaves by name through the upstream proxy, and
      // the bottle's networks have no DNS for outside names: the lookup would only stall (10 s).
      req.remoteIpAddress = undefined;
      // Upstream, by the canonical name the policy decided on, not the agent's spelling of it
      // (`OPEN.TEST`): pipelock's allowlist then sees exactly the route's host.
      if (!isIpLiteral(decision.host)) req.destination = { hostname: decision.host, port: decision.port };
    }
    const admission: Admission = {
      decision,
      method: facts.method,
      path: splitTarget(facts.target).path,
      host: decision.host ?? req.destination.hostname,
    };
    record.set(req, admission);
    onAdmit(req, admission);
    return admission;
  };

  return (req) => {
    const known = record.get(req);
    if (known) return known;
    const facts = requestFacts(req);
    if (unparseable.has(req)) return settle(req, facts, { verdict: "deny", reason: "malformed destination" });
    const decision = decide(facts, table.routes);
    const contentType = req.headers["content-type"];
    const route = decision.verdict === "allow" ? table.routes[decision.routeIndex] : undefined;
    // A form post can carry `_method` in its body; where the route limits methods, read it first.
    if (!route?.methods || !isFormContentType(contentType)) return settle(req, facts, decision);
    const unreadable = (): Admission => settle(req, facts, { verdict: "deny", reason: "form body not inspectable", host: decision.host });
    if (Number(req.headers["content-length"] ?? "0") > MAX_INSPECTED_FORM) return unreadable();
    const pending = req.body.asBuffer().then(
      (body) => {
        // mockttp resolves early, with nothing, when a (chunked) body outgrows its limit.
        if (!req.complete) return unreadable();
        const overrides = formMethodOverrides(contentType ?? "", body);
        return settle(req, facts, overrides.length ? decide({ ...facts, methodOverrides: [...facts.methodOverrides, ...overrides] }, table.routes) : decision);
      },
      unreadable,
    );
    record.set(req, pending);
    return pending;
  };
}

/** Header names as CGI, WSGI and PHP front ends read them: `x_api_key` is `x-api-key`. */
const asCgiReads = (name: string) => name.toLowerCase().replace(/_/g, "-");

/**
 * Remove every credential header the agent sent, all spellings and repeats. mockttp's own
 * `updateHeaders` skips the second of two adjacent duplicates, so we do not rely on it to strip.
 * Request trailers are dropped whole: they would reach upstream after the injected credential,
 * and nothing an agent sends to an API needs them.
 */
function stripCredentials(req: MockttpRequest, names: ReadonlySet<string>): void {
  req.rawHeaders = req.rawHeaders.filter(([name]) => !names.has(asCgiReads(name)));
  for (const name of Object.keys(req.headers)) if (names.has(asCgiReads(name))) delete req.headers[name];
  // Node sets the trailers just before 'end'; mockttp forwards them on its body stream's later end.
  req.once("end", () => {
    const trailers = req.rawTrailers;
    if (trailers) trailers.length = 0;
  });
}

/**
 * Admission: the policy decision of one request plus what the audit line says of it. Where a
 * route limits methods, a form post can carry `_method` in its body, so the body is read first
 * (at most MAX_INSPECTED_FORM bytes) and its overrides join the decision.
 */
import { splitTarget } from "./canonical-path";
import { decide, type Decision, type RequestFacts } from "./decide";
import { parseAuthority } from "./host";
import { formMethodOverrides, isFormContentType } from "./method-override";
import { PLACEHOLDER_DENIAL, type PlaceholderAudit } from "./placeholder-canary";
import type { RouteTable } from "./route-table";

export interface Admission {
  decision: Decision;
  method: string;
  /** The path without its query: the query may carry data that does not belong in a log. */
  path: string;
  host: string;
  /** Set when the request carried a route's placeholder out of place (the decision is then a refusal). */
  placeholder?: PlaceholderAudit;
  /** The route an allowed request matched before a placeholder refused it: what the audit line names. */
  matched?: number;
}

/** Form bodies up to this size are read for `_method`; larger ones are refused on such routes. */
export const MAX_INSPECTED_FORM = 64 * 1024;

/** The body of a request as admission may need it. */
export interface FormBodySource {
  contentType: string | undefined;
  contentLength: string | undefined;
  /** The body has a content coding other than identity. */
  compressed: boolean;
  /** Read the whole body, or undefined when it is larger than `limit` or cannot be read. */
  read(limit: number): Promise<Buffer | undefined>;
}

/** The result of admitting a request: the decision, and the form body when it had to be read. */
export interface Admitted {
  admission: Admission;
  body: Buffer | undefined;
}

/** Decide a request against a table; synchronous unless a form body must be read. */
export function admit(facts: RequestFacts, table: RouteTable, source: FormBodySource): Admitted | Promise<Admitted> {
  const decision = decide(facts, table.routes);
  if (!readsForm(decision, table, source.contentType)) return { admission: admission(facts, decision), body: undefined };
  // a form is read as sent: a compressed one could hide `_method` (and a secret) from the reading
  if (Number(source.contentLength ?? "0") > MAX_INSPECTED_FORM || source.compressed) return { admission: admission(facts, unreadable(decision)), body: undefined };
  return source.read(MAX_INSPECTED_FORM).then((body) => {
    if (body === undefined) return { admission: admission(facts, unreadable(decision)), body };
    const overrides = formMethodOverrides(source.contentType ?? "", body);
    const final = overrides.length ? decide({ ...facts, methodOverrides: [...facts.methodOverrides, ...overrides] }, table.routes) : decision;
    return { admission: admission(facts, final), body };
  });
}

/** Decide a request whose body is not available (a WebSocket upgrade): a form that would need reading is refused. */
export function admitHeadOnly(facts: RequestFacts, table: RouteTable, contentType: string | undefined): Admission {
  const decision = decide(facts, table.routes);
  return admission(facts, readsForm(decision, table, contentType) ? unreadable(decision) : decision);
}

/** A form post can carry `_method` in its body; where the route limits methods, it is read first. */
function readsForm(decision: Decision, table: RouteTable, contentType: string | undefined): boolean {
  return decision.verdict === "allow" && table.routes[decision.routeIndex]?.methods !== undefined && isFormContentType(contentType);
}

function unreadable(decision: Decision): Decision {
  return { verdict: "deny", reason: "form body not inspectable", ...(decision.host === undefined ? {} : { host: decision.host }) };
}

function admission(facts: RequestFacts, decision: Decision): Admission {
  return { decision, method: facts.method, path: splitTarget(facts.target).path, host: decision.host ?? claimedHost(facts) };
}

/** For the log of a request refused before its destination was settled: the name it gave first. */
function claimedHost(facts: RequestFacts): string {
  const raw = facts.connectAuthority ?? facts.absoluteAuthority ?? facts.hostHeaders[0] ?? facts.authorities[0];
  const host = raw === undefined ? undefined : parseAuthority(raw)?.host;
  return host === undefined ? "" : host.slice(0, 255);
}

/**
 * The admission of a request whose head carries a placeholder out of place: refused, whatever
 * was decided, so that the audit line says so even for a request denied for another reason.
 */
export function withPlaceholder(admission: Admission, placeholder: PlaceholderAudit): Admission {
  const d = admission.decision;
  const host = d.host;
  return { ...admission, placeholder, ...(d.verdict === "allow" ? { matched: d.routeIndex } : {}), decision: { verdict: "deny", reason: PLACEHOLDER_DENIAL, ...(host === undefined ? {} : { host }) } };
}

/** Header names as CGI, WSGI and PHP front ends read them: `x_api_key` is `x-api-key`. */
export function isStrippedHeader(name: string, stripped: ReadonlySet<string>): boolean {
  return stripped.has(name.toLowerCase().replace(/_/g, "-"));
}

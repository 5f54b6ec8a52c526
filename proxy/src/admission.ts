/**
 * Admission: decide a request once, remember the decision, and take the agent's credentials off
 * an allowed request before mockttp forwards it. mockttp asks every rule's matcher about every
 * request, so the decision is memoised per request object.
 */
import { decide, type Decision } from "./decide";
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

/** Returns the admission function of one route table generation, writing into `record`. */
export function admitter(
  table: RouteTable,
  record: WeakMap<object, Admission>,
  onAdmit: (req: MockttpRequest, admission: Admission) => void,
): (req: MockttpRequest) => Admission {
  return (req) => {
    const known = record.get(req);
    if (known) return known;
    const facts = requestFacts(req);
    const decision = decide(facts, table.routes);
    if (decision.verdict === "allow") {
      stripCredentials(req, table.stripped);
      // mockttp resolves the target in DNS for non-loopback clients, to send "localhost" back to
      // the client's machine. Every request here leaves by name through the upstream proxy, and
      // the bottle's networks have no DNS for outside names: the lookup would only stall (10 s).
      req.remoteIpAddress = undefined;
    }
    const q = facts.target.indexOf("?");
    const admission: Admission = {
      decision,
      method: facts.method,
      path: q === -1 ? facts.target : facts.target.slice(0, q),
      host: decision.host ?? req.destination.hostname,
    };
    record.set(req, admission);
    onAdmit(req, admission);
    return admission;
  };
}

/**
 * Remove every credential header the agent sent, all spellings and repeats. mockttp's own
 * `updateHeaders` skips the second of two adjacent duplicates, so we do not rely on it to strip.
 */
function stripCredentials(req: MockttpRequest, names: ReadonlySet<string>): void {
  req.rawHeaders = req.rawHeaders.filter(([name]) => !names.has(name.toLowerCase()));
  for (const name of names) delete req.headers[name];
}

/**
 * Admission of WebSocket upgrades, which still go through mockttp's rules and its WebSocket
 * passthrough. mockttp asks every rule's matcher about every upgrade, so the decision is memoised
 * per request; an allowed upgrade loses the agent's credentials and goes upstream by the
 * canonical host name the policy decided on.
 */
import { admitHeadOnly, isStrippedHeader, type Admission } from "../policy/admission";
import { isIpLiteral } from "../policy/host";
import type { MockttpRequest } from "./mockttp-types";
import type { RouteTable } from "../policy/route-table";
import { webSocketFacts } from "../transport/request-facts";

/** The admission function of one route table generation; `onAdmit` runs once per upgrade. */
export function webSocketAdmitter(table: RouteTable, onAdmit: (req: MockttpRequest, admission: Admission) => void): (req: MockttpRequest) => Admission {
  const known = new WeakMap<object, Admission>();
  return (req) => {
    const seen = known.get(req);
    if (seen) return seen;
    const admission = admitHeadOnly(webSocketFacts(req), table, req.headers["content-type"]);
    const d = admission.decision;
    if (d.verdict === "allow") {
      req.rawHeaders = req.rawHeaders.filter(([name]) => !isStrippedHeader(name, table.stripped));
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- mockttp's own headers object, edited in place for the passthrough
      for (const name of Object.keys(req.headers)) if (isStrippedHeader(name, table.stripped)) delete req.headers[name];
      // mockttp resolves the target in DNS for non-loopback clients; every upgrade leaves by name
      // through the upstream proxy, and the bottle has no DNS for outside names (a 10 s stall).
      req.remoteIpAddress = undefined;
      if (!isIpLiteral(d.host)) req.destination = { hostname: d.host, port: d.port };
    }
    known.set(req, admission);
    onAdmit(req, admission);
    return admission;
  };
}


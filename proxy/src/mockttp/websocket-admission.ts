/**
 * WebSocket upgrades, which still go through mockttp's rules and its WebSocket passthrough.
 * mockttp asks every rule's matcher about every upgrade, so the admission is memoised per
 * request, and the matchers only read it. What an allowed upgrade needs before the passthrough
 * is done by the rule's first step (policy-rules.ts), not by a matcher: the same header rewrite
 * as every request (route/upstream-headers.ts), and the canonical destination.
 */
import { admitHeadOnly, withPlaceholder, type Admission } from "../route/admission";
import { isIpLiteral } from "../route/host";
import type { RouteTable } from "../route/route-table";
import { headerPairs, upstreamRequestHeaders } from "../route/upstream-headers";
import { connectionFacts } from "./internals";
import type { MockttpRequest } from "./mockttp-types";
import { webSocketFacts } from "../transport/request-facts";

/** The admission of each upgrade under one route table generation; reads the request only. */
export function webSocketAdmitter(table: RouteTable): (req: MockttpRequest) => Admission {
  const known = new WeakMap<object, Admission>();
  return (req) => {
    const seen = known.get(req);
    if (seen) return seen;
    const facts = webSocketFacts(req, connectionFacts(req.socket));
    const decided = admitHeadOnly(facts, table, req.headers["content-type"]);
    // WebSocket routes carry no credential: a placeholder anywhere in the upgrade is out of place
    const placeholder = table.canaries?.inHead(undefined, facts.target, req.rawHeaders.flat());
    const admission = placeholder ? withPlaceholder(decided, placeholder) : decided;
    known.set(req, admission);
    return admission;
  };
}

/** Make an admitted upgrade what the passthrough sends: no agent credential, the decided host. */
export function prepareUpgrade(req: MockttpRequest, admission: Admission, table: RouteTable): void {
  const d = admission.decision;
  if (d.verdict !== "allow") return;
  const kept = headerPairs(upstreamRequestHeaders(req.rawHeaders.flat(), table.stripped, undefined, true));
  req.rawHeaders = kept;
  // mockttp's passthrough reads its headers object too (subprotocols, extensions): keep it in step
  const names = new Set(kept.map(([name]) => name.toLowerCase()));
  req.headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => names.has(name)));
  // mockttp resolves the target in DNS for non-loopback clients; every upgrade leaves by name
  // through the upstream proxy, and the bottle has no DNS for outside names (a 10 s stall).
  req.remoteIpAddress = undefined;
  if (!isIpLiteral(d.host)) req.destination = { hostname: d.host, port: d.port };
}

/**
 * The mockttp rules of one route table. Every request meets exactly one admission decision;
 * each allowed route has its own passthrough rule (with its credential), each deny reason its
 * own fixed reply, and a final catch-all denies, so nothing reaches mockttp's unmatched-request
 * reply (which echoes headers, Authorization included).
 */
import * as mockttp from "mockttp";
import type { Admission } from "./admission";
import { DENY_REASONS, type DenyReason } from "./decide";
import type { MockttpRequest } from "./mockttp-types";
import type { RouteTable } from "./route-table";

const { requestSteps, webSocketSteps, matchers, completionCheckers } = mockttp;

/** A synchronous matcher over the admission: it never waits for (or buffers) the body. */
class AdmissionMatcher extends matchers.WildcardMatcher {
  constructor(
    private readonly admit: (req: MockttpRequest) => Admission,
    private readonly accepts: (a: Admission) => boolean,
    private readonly label: string,
  ) {
    super();
  }
  override matches(req?: mockttp.OngoingRequest): boolean {
    return req !== undefined && this.accepts(this.admit(req as MockttpRequest));
  }
  override explain(): string {
    return this.label;
  }
}

/** The short JSON body of a refusal: a fixed reason, never anything from the request. */
export function denialBody(reason: string): string {
  return JSON.stringify({ error: "denied by egress proxy", reason });
}

const JSON_HEADERS = { "content-type": "application/json", "cache-control": "no-store" };

export interface PolicyRules {
  request: mockttp.RequestRuleData[];
  webSocket: mockttp.WebSocketRuleData[];
}

/** Build the rule set for a table; `upstreamProxy` is where every allowed request goes. */
export function policyRules(
  table: RouteTable,
  admit: (req: MockttpRequest) => Admission,
  upstreamProxy: string | undefined,
): PolicyRules {
  const proxyConfig = upstreamProxy === undefined ? undefined : { proxyUrl: upstreamProxy };
  const always = () => new completionCheckers.Always();
  const routeMatcher = (i: number) =>
    new AdmissionMatcher(admit, (a) => a.decision.verdict === "allow" && a.decision.routeIndex === i, `route ${i}`);
  const reasonMatcher = (reason: DenyReason) =>
    new AdmissionMatcher(admit, (a) => a.decision.verdict === "deny" && a.decision.reason === reason, `deny: ${reason}`);
  const reasons = Object.keys(DENY_REASONS) as DenyReason[];

  const request: mockttp.RequestRuleData[] = table.routes.map((_, i) => {
    const credential = table.credentials[i];
    return {
      matchers: [routeMatcher(i)],
      completionChecker: always(),
      steps: [
        new requestSteps.PassThroughStep({
          ...(proxyConfig ? { proxyConfig } : {}),
          ...(credential ? { transformRequest: { updateHeaders: { [credential.header]: credential.value } } } : {}),
        }),
      ],
    };
  });
  for (const reason of reasons) {
    request.push({
      matchers: [reasonMatcher(reason)],
      completionChecker: always(),
      steps: [new requestSteps.FixedResponseStep(DENY_REASONS[reason], undefined, denialBody(reason), JSON_HEADERS)],
    });
  }
  request.push({
    matchers: [new matchers.WildcardMatcher()],
    completionChecker: always(),
    steps: [new requestSteps.FixedResponseStep(403, undefined, denialBody("no rule"), JSON_HEADERS)],
  });

  // WebSocket routes carry no credential (the schema forbids it), so the passthrough needs no transform.
  const webSocket: mockttp.WebSocketRuleData[] = table.routes.flatMap((route, i) =>
    route.websocket
      ? [{ matchers: [routeMatcher(i)], completionChecker: always(), steps: [new webSocketSteps.PassThroughWebSocketStep(proxyConfig ? { proxyConfig } : {})] }]
      : [],
  );
  for (const reason of reasons) {
    webSocket.push({
      matchers: [reasonMatcher(reason)],
      completionChecker: always(),
      steps: [new webSocketSteps.RejectWebSocketStep(DENY_REASONS[reason], "Forbidden", JSON_HEADERS, denialBody(reason))],
    });
  }
  webSocket.push({
    matchers: [new matchers.WildcardMatcher()],
    completionChecker: always(),
    steps: [new webSocketSteps.RejectWebSocketStep(403, "Forbidden", JSON_HEADERS, denialBody("upgrade not allowed"))],
  });
  return { request, webSocket };
}

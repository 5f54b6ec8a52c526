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

/**
 * A matcher over the admission. It answers synchronously (never touching the body) except for
 * the few form posts whose body must be read for `_method` (admission.ts); mockttp accepts both.
 */
class AdmissionMatcher implements mockttp.matchers.RequestMatcher {
  readonly type = "wildcard" as const;
  constructor(
    private readonly admit: (req: MockttpRequest) => Admission | Promise<Admission>,
    private readonly accepts: (a: Admission) => boolean,
    private readonly label: string,
  ) {}
  matches(req: mockttp.OngoingRequest): boolean | Promise<boolean> {
    const admission = this.admit(req as MockttpRequest);
    return admission instanceof Promise ? admission.then(this.accepts) : this.accepts(admission);
  }
  explain(): string {
    return this.label;
  }
  serialize(): never {
    throw new Error("admission matchers run in-process only");
  }
  dispose(): void {}
}

/** The short JSON body of a refusal: a fixed reason, never anything from the request. */
export function denialBody(reason: string): string {
  return JSON.stringify({ error: "denied by egress proxy", reason });
}

/** Every refusal names its reason in this header too (WebSocket refusals carry no body). */
export const DENIAL_HEADER = "x-egress-proxy-denial";

/** With a length, a refusal leaves the agent's keep-alive connection usable. */
const denialHeaders = (reason: string) => ({
  "content-type": "application/json",
  "cache-control": "no-store",
  "content-length": String(Buffer.byteLength(denialBody(reason))),
  [DENIAL_HEADER]: reason,
});

/**
 * mockttp writes a WebSocket refusal to the socket and destroys it at once, which loses any body
 * on TLS; so the refusal is head-only and the reason travels in the denial header.
 */
function webSocketRefusal(status: number, reason: string): mockttp.WebSocketStep {
  const headers = { [DENIAL_HEADER]: reason, "content-length": "0", connection: "close" };
  return new webSocketSteps.RejectWebSocketStep(status, status === 400 ? "Bad Request" : "Forbidden", headers);
}

export interface PolicyRules {
  request: mockttp.RequestRuleData[];
  webSocket: mockttp.WebSocketRuleData[];
}

/** Build the rule set for a table; `upstreamProxy` is where every allowed request goes. */
export function policyRules(
  table: RouteTable,
  admit: (req: MockttpRequest) => Admission | Promise<Admission>,
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
          ...(credential
            ? {
                transformRequest: {
                  updateHeaders: { [credential.header]: credential.value },
                  // Any transform makes mockttp rewrite Host to `host:port`; the agent's Host was
                  // already checked against the destination, so keep it as sent.
                  matchReplaceHost: { replacements: [], updateHostHeader: false },
                },
              }
            : {}),
        }),
      ],
    };
  });
  for (const reason of reasons) {
    request.push({
      matchers: [reasonMatcher(reason)],
      completionChecker: always(),
      steps: [new requestSteps.FixedResponseStep(DENY_REASONS[reason], undefined, denialBody(reason), denialHeaders(reason))],
    });
  }
  request.push({
    matchers: [new matchers.WildcardMatcher()],
    completionChecker: always(),
    steps: [new requestSteps.FixedResponseStep(403, undefined, denialBody("no rule"), denialHeaders("no rule"))],
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
      steps: [webSocketRefusal(DENY_REASONS[reason], reason)],
    });
  }
  webSocket.push({
    matchers: [new matchers.WildcardMatcher()],
    completionChecker: always(),
    steps: [webSocketRefusal(403, "upgrade not allowed")],
  });
  return { request, webSocket };
}

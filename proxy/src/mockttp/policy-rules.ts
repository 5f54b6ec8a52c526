/**
 * The mockttp rules of one route table, for WebSocket upgrades (plain requests never reach
 * mockttp's rules: transport/http-exchange.ts handles them). Every upgrade meets exactly one admission
 * decision; each WebSocket route has its own passthrough rule, each deny reason its own refusal,
 * and a final catch-all refuses. One request rule denies everything too, so that nothing could
 * ever reach mockttp's unmatched-request reply (which echoes headers, Authorization included).
 */
import * as mockttp from "mockttp";
import type { Admission } from "../route/admission";
import { DENY_REASONS, type DenyReason } from "../route/decide";
import { DENIAL_HEADER, denialBody, denialHeaders } from "../route/denial";
import { continueStep } from "./internals";
import type { MockttpRequest } from "./mockttp-types";
import type { RouteTable } from "../route/route-table";

const { requestSteps, webSocketSteps, matchers, completionCheckers } = mockttp;

/** A matcher over the admission, which answers synchronously (an upgrade has no body to read). */
class AdmissionMatcher implements mockttp.matchers.RequestMatcher {
  readonly type = "wildcard" as const;
  constructor(
    private readonly admit: (req: MockttpRequest) => Admission,
    private readonly accepts: (a: Admission) => boolean,
    private readonly label: string,
  ) {}
  matches(req: mockttp.OngoingRequest): boolean {
    return this.accepts(this.admit(req as MockttpRequest));
  }
  explain(): string {
    return this.label;
  }
  serialize(): never {
    throw new Error("admission matchers run in-process only");
  }
  dispose(): void {}
}

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

/**
 * Build the rule set for a table; `upstreamProxy` is where every allowed upgrade goes. Every
 * WebSocket rule starts with one step that hands the upgrade and its admission to `onUpgrade`
 * (log it; prepare an allowed one for the passthrough), so that matchers only decide.
 */
export function policyRules(
  table: RouteTable,
  admit: (req: MockttpRequest) => Admission,
  upstreamProxy: string | undefined,
  onUpgrade: (req: MockttpRequest, admission: Admission, socket: unknown) => void,
): PolicyRules {
  const admitted = () => continueStep("hand the upgrade to the proxy", (req, socket) => onUpgrade(req as MockttpRequest, admit(req as MockttpRequest), socket)) as unknown as mockttp.WebSocketStep;
  const proxyConfig = upstreamProxy === undefined ? undefined : { proxyUrl: upstreamProxy };
  const always = () => new completionCheckers.Always();
  const routeMatcher = (i: number) =>
    new AdmissionMatcher(admit, (a) => a.decision.verdict === "allow" && a.decision.routeIndex === i, `route ${i}`);
  const reasonMatcher = (reason: DenyReason) =>
    new AdmissionMatcher(admit, (a) => a.decision.verdict === "deny" && a.decision.reason === reason, `deny: ${reason}`);

  const request: mockttp.RequestRuleData[] = [
    {
      matchers: [new matchers.WildcardMatcher()],
      completionChecker: always(),
      steps: [new requestSteps.FixedResponseStep(403, undefined, denialBody("no rule"), denialHeaders("no rule"))],
    },
  ];

  // WebSocket routes carry no credential (the schema forbids it), so the passthrough needs no transform.
  const webSocket: mockttp.WebSocketRuleData[] = table.routes.flatMap((route, i) =>
    route.websocket
      ? [{ matchers: [routeMatcher(i)], completionChecker: always(), steps: [admitted(), new webSocketSteps.PassThroughWebSocketStep(proxyConfig ? { proxyConfig } : {})] }]
      : [],
  );
  for (const reason of Object.keys(DENY_REASONS) as DenyReason[]) {
    webSocket.push({
      matchers: [reasonMatcher(reason)],
      completionChecker: always(),
      steps: [admitted(), webSocketRefusal(DENY_REASONS[reason], reason)],
    });
  }
  webSocket.push({
    matchers: [new matchers.WildcardMatcher()],
    completionChecker: always(),
    steps: [admitted(), webSocketRefusal(403, "upgrade not allowed")],
  });
  return { request, webSocket };
}

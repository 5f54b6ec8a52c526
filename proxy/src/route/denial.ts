/**
 * The proxy's refusals: a fixed short JSON reason, never anything from the request, and the
 * same reason in a header (WebSocket refusals carry no body).
 */

/** The short JSON body of a refusal. */
export function denialBody(reason: string): string {
  return JSON.stringify({ error: "denied by egress proxy", reason });
}

/** Every refusal names its reason in this header too. */
export const DENIAL_HEADER = "x-egress-proxy-denial";

/** With a length, a refusal leaves the agent's keep-alive connection usable. */
export function denialHeaders(reason: string): Record<string, string> {
  return {
    "content-type": "application/json",
    "cache-control": "no-store",
    "content-length": String(Buffer.byteLength(denialBody(reason))),
    [DENIAL_HEADER]: reason,
  };
}

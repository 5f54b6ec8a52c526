/**
 * When the upstream proxy (pipelock) refuses a tunnel, https-proxy-agent hands the client a fake
 * socket that replays the refusal, so mockttp relays pipelock's bare 403 to the agent as if the
 * upstream API had sent it. We turn the refusal into an error instead: mockttp then fails the
 * request as an upstream failure, which the response observer answers with a 502 and a reason.
 */
import type { ClientRequest, IncomingMessage } from "node:http";
import path from "node:path";

/** The message prefix of a refused tunnel, recognised by the response observer. */
export const REFUSED_TUNNEL = "upstream proxy refused the tunnel";

interface AgentModule {
  HttpsProxyAgent: { prototype: { connect(req: ClientRequest, opts: unknown): Promise<{ destroy(): void }> } };
}

let installed = false;

/** Patch the https-proxy-agent that mockttp itself loads (idempotent). */
export function refuseReplayedTunnelRefusals(): void {
  if (installed) return;
  const fromMockttp = require.resolve("https-proxy-agent", { paths: [path.dirname(require.resolve("mockttp"))] });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { HttpsProxyAgent } = require(fromMockttp) as AgentModule;
  const connect = HttpsProxyAgent.prototype.connect;
  if (typeof connect !== "function") throw new Error("https-proxy-agent internals changed: no connect(); pin mockttp to the tested version");
  HttpsProxyAgent.prototype.connect = async function (this: unknown, req: ClientRequest, opts: unknown) {
    let refusedWith: number | undefined;
    const onConnect = (res: Pick<IncomingMessage, "statusCode">) => {
      if (res.statusCode !== 200) refusedWith = res.statusCode;
    };
    req.once("proxyConnect", onConnect);
    try {
      const socket = await connect.call(this, req, opts);
      if (refusedWith !== undefined) {
        socket.destroy();
        throw Object.assign(new Error(`${REFUSED_TUNNEL} (${refusedWith})`), { code: "E_UPSTREAM_PROXY_REFUSED" });
      }
      return socket;
    } finally {
      req.off("proxyConnect", onConnect);
    }
  };
  installed = true;
}

/**
 * A complete loopback bottle for proxy tests: a fake HTTPS upstream with a private CA, a forward
 * proxy standing in for pipelock that maps test host names to it, and the real proxy process.
 */
import * as mockttp from "mockttp";
import { startConnectProxy, type ConnectProxy } from "./connect-proxy";
import { FAKE_TOKENS } from "./fake-tokens";
import { startProxyProcess, type ProxyProcess } from "./proxy-process";
import { makeTestCa, type TestCa } from "./test-ca";

/** The routes most tests run with. */
export function standardRoutes(): unknown {
  return {
    version: 1,
    routes: [
      { host: "api.github.test", path_allowlist: ["/repos/acme/widget/**", "/user"], methods: ["GET", "POST"], auth: { scheme: "Bearer", token_env: "EGRESS_PROXY_TOKEN_1" } },
      { host: "api.anthropic.test", auth: { header: "x-api-key", token_env: "EGRESS_PROXY_TOKEN_2" } },
      { host: "open.test", methods: ["GET"] },
      { host: "plain.test", plain_http: true },
      { host: "ws.test", websocket: true },
    ],
  };
}

export interface Fixture {
  bottleCa: TestCa;
  upstreamCa: TestCa;
  upstream: mockttp.Mockttp;
  forward: ConnectProxy;
  proxy: ProxyProcess;
  close(): Promise<void>;
}

const TEST_HOSTS = ["api.github.test", "api.anthropic.test", "open.test", "plain.test", "ws.test", "reload.test"];

/** Start the whole chain; `routes` defaults to `standardRoutes()`. */
export async function startFixture(
  opts: { routes?: unknown; env?: Record<string, string>; extraHosts?: (upstreamCa: TestCa) => Promise<Record<string, number>> } = {},
): Promise<Fixture> {
  const [bottleCa, upstreamCa] = await Promise.all([makeTestCa("bot-bottle test bottle CA"), makeTestCa("bot-bottle test upstream CA")]);
  const upstream = mockttp.getLocal({ https: { cert: upstreamCa.cert, key: upstreamCa.key }, http2: false });
  await upstream.start();
  const hosts: Record<string, number> = {};
  for (const h of TEST_HOSTS) {
    hosts[`${h}:443`] = upstream.port;
    hosts[`${h}:80`] = upstream.port;
  }
  Object.assign(hosts, await opts.extraHosts?.(upstreamCa));
  const forward = await startConnectProxy(hosts);
  const proxy = await startProxyProcess({
    routes: opts.routes ?? standardRoutes(),
    ca: bottleCa,
    env: {
      HTTPS_PROXY: forward.url,
      NODE_EXTRA_CA_CERTS: upstreamCa.certFile,
      EGRESS_PROXY_TOKEN_1: FAKE_TOKENS.github,
      EGRESS_PROXY_TOKEN_2: FAKE_TOKENS.anthropic,
      ...opts.env,
    },
  });
  return {
    bottleCa,
    upstreamCa,
    upstream,
    forward,
    proxy,
    close: async () => {
      await proxy.stop();
      await forward.close();
      await upstream.stop();
    },
  };
}

/** Every place a token must never appear, joined: proxy stdout and stderr. */
export function proxyOutput(f: Fixture): string {
  return [...f.proxy.stdout, ...f.proxy.stderr].join("\n");
}

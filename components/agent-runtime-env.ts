/**
 * The agent's environment that the bottle sets, so that each runtime's own clients go through
 * the egress proxy and trust the bottle CA with no change to the image. One variable a tool
 * family: components/README.md ("The agent's environment") lists them, and README.md
 * ("Runtimes in a bottle") what works per runtime and what an image must add.
 */
import { AGENT_CA_FILE, AGENT_JAVA_TRUSTSTORE_FILE, PROXY_ALIAS, PROXY_PORT, PROXY_URL } from "./constants";

/** Hosts never sent to the proxy; the proxy itself must stay proxied-to, so it is not listed. */
const NO_PROXY = "localhost,127.0.0.1";

/**
 * Java reads neither the proxy variables nor a PEM file: system properties do both, and
 * `JAVA_TOOL_OPTIONS` is read by every JVM at start (it prints one "Picked up" line on stderr).
 */
const JAVA_TOOL_OPTIONS = [
  `-Djavax.net.ssl.trustStore=${AGENT_JAVA_TRUSTSTORE_FILE}`,
  "-Djavax.net.ssl.trustStoreType=PKCS12",
  `-Dhttps.proxyHost=${PROXY_ALIAS}`,
  `-Dhttps.proxyPort=${PROXY_PORT}`,
  `-Dhttp.proxyHost=${PROXY_ALIAS}`,
  `-Dhttp.proxyPort=${PROXY_PORT}`,
  // Java's own syntax: `|`-separated, wildcards allowed
  "-Dhttp.nonProxyHosts=localhost|127.0.0.1",
].join(" ");

/** Variables naming the bottle CA: OpenSSL and Go, Node, Python requests and pip, curl, git, npm, cargo, the AWS SDKs. */
export const CA_FILE_VARIABLES = [
  "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE", "PIP_CERT", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO",
  // npm's `cafile` from the environment wins over one an image's npmrc pins
  "npm_config_cafile", "CARGO_HTTP_CAINFO", "AWS_CA_BUNDLE",
] as const;

/** Every variable the bottle sets in the agent, in a stable order (a reorder would read as a change). */
export function agentRuntimeEnv(): ReadonlyArray<readonly [string, string]> {
  return [
    ...["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"].map((n) => [n, PROXY_URL] as const),
    ...["NO_PROXY", "no_proxy"].map((n) => [n, NO_PROXY] as const),
    ...CA_FILE_VARIABLES.map((n) => [n, AGENT_CA_FILE] as const),
    // Node 24.5+ and 22.21+ route `fetch` and `http(s).request` through the proxy variables with it;
    // older Node ignores it (README: Runtimes in a bottle)
    ["NODE_USE_ENV_PROXY", "1"],
    ["JAVA_TOOL_OPTIONS", JAVA_TOOL_OPTIONS],
  ];
}

/** Names the bottle sets itself: `agent.env` and `agent_env` may not take them. */
export const BOTTLE_SET_VARIABLES: ReadonlySet<string> = new Set([
  ...agentRuntimeEnv().map(([n]) => n),
  "BOT_BOTTLE_WORKSPACE",
]);

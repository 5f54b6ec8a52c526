/**
 * pipelock in the path: the egress proxy sends every allowed request through an upstream proxy
 * (pipelock: hostname allowlist, SSRF checks, DLP) named by HTTPS_PROXY / HTTP_PROXY, unless
 * `EGRESS_PROXY_UPSTREAM=direct` or `--upstream direct` sends traffic straight out
 * (proxy/src/config.ts). Those settings live in the proxy's environment, which is one secret
 * input (it holds the tokens and the CA key). The engine hands secret values to policies, so the
 * pack reads them; during a first `pulumi preview` the whole env is unknown (it waits for the CA
 * key), and @pulumi/policy then says so in an advisory "can't run policy ... during preview";
 * `pulumi up` checks it in full before the proxy is created.
 */
import { resourcePolicy } from "./define";
import { describe, identifyContainer, stackField } from "./identity";
import { TYPES, containerField, envValues } from "./resource-view";

/** The names the proxy reads its upstream from, in its order of preference (proxy/src/config.ts). */
const UPSTREAM_VARS = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] as const;

/** Why `value` cannot name an upstream proxy, or undefined. Never echoes the URL: it may hold a password. */
function urlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "is not a URL";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "is not an http:// or https:// URL";
  if (url.hostname === "") return "names no host";
  return undefined;
}

/** The value following `--upstream` (or given as `--upstream=<v>`) in an argv, when present. */
function upstreamFlag(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--upstream") return argv[i + 1] ?? "";
    if (arg.startsWith("--upstream=")) return arg.slice("--upstream=".length);
  }
  return undefined;
}

export const pipelockNotBypassed = resourcePolicy({
  name: "bottle-pipelock-not-bypassed",
  description:
    "The egress proxy sends everything through pipelock: HTTPS_PROXY/HTTP_PROXY name it, and neither EGRESS_PROXY_UPSTREAM=direct nor " +
    "--upstream direct sends traffic straight out. pipelock is the bottle's hostname allowlist, SSRF guard and DLP; without it an allowed " +
    "route reaches any address its host resolves to.",
  enforcementLevel: "mandatory",
  type: TYPES.container,
  check: (props, { resourceName, report }) => {
    const id = identifyContainer(props, resourceName);
    if (id.role !== "egress-proxy") return;
    const fix = `give ${stackField(id.bottle, "pipelock")} either image (a pinned pipelock the bottle runs) or url (http://<host>:<port> of an existing pipelock); the Bottle component then sets the proxy's HTTPS_PROXY`;
    const argv = [...(containerField(props, "entrypoints") ?? []), ...(containerField(props, "command") ?? [])];
    const flag = upstreamFlag(argv);
    if (flag !== undefined && flag !== "proxy") {
      report(`${describe(id)} is started with --upstream ${flag}, which skips pipelock. Fix: remove the flag from the container's command; ${fix}.`);
    }
    const env = envValues(containerField(props, "envs") ?? []);
    for (const mode of env.get("EGRESS_PROXY_UPSTREAM") ?? []) {
      // the env is a secret input: echo only the one value the proxy knows besides `proxy`
      const shown = mode === "direct" ? "EGRESS_PROXY_UPSTREAM=direct, which skips pipelock" : "EGRESS_PROXY_UPSTREAM to a value other than proxy";
      if (mode !== "proxy") report(`${describe(id)} sets ${shown}. Fix: remove it; ${fix}.`);
    }
    const set = UPSTREAM_VARS.flatMap((name) => (env.get(name) ?? []).map((value) => ({ name, value })));
    const nonEmpty = set.filter((s) => s.value.trim() !== "");
    if (nonEmpty.length === 0) {
      report(`${describe(id)} names no upstream proxy (HTTPS_PROXY and HTTP_PROXY ${set.length === 0 ? "unset" : "empty"}), so pipelock is not in its path. Fix: ${fix}.`);
      return;
    }
    for (const { name, value } of nonEmpty) {
      const problem = urlProblem(value);
      if (problem !== undefined) report(`${describe(id)} has ${name} that ${problem}. Fix: ${fix}.`);
    }
    if (new Set(nonEmpty.map((s) => s.value)).size > 1) {
      report(`${describe(id)} names different upstream proxies in ${nonEmpty.map((s) => s.name).join(", ")}; only one of them would be pipelock. Fix: ${fix}.`);
    }
  },
});
